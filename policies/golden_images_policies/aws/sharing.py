"""What the AWS sharing rules share: the allow-list config and the verdict on one sharing target.

Used by the Image Builder distribution, EC2 launch/create-volume permission, DLM share and RAM rules.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Final

from ..base import Ctx, config_strings
from ..props import UNKNOWN, Props, is_sequence

#: Config of the sharing-target policies (AMI launch permissions and distributions). Empty = no sharing at all.
SHARING_CONFIG: Final[dict[str, Any]] = {
    "allowedAccountIds": {
        "type": "array",
        "items": {"type": "string", "pattern": r"^\d{12}$"},
        "default": [],
        "description": "AWS account ids images may be shared with or copied to.",
    },
    "allowedOrganizationArns": {
        "type": "array",
        "items": {"type": "string"},
        "default": [],
        "description": "AWS Organizations organization ARNs images may be shared with.",
    },
    "allowedOrganizationalUnitArns": {
        "type": "array",
        "items": {"type": "string"},
        "default": [],
        "description": "AWS Organizations OU ARNs images may be shared with.",
    },
}


def sharing_target_problems(
    ctx: Ctx, values: Iterable[Any], kind: str, allowed_key: str, valid: Any, where: str
) -> Iterable[str]:
    """Violations for sharing targets not on the ``allowed_key`` allow-list (empty list = no sharing).

    ``None`` (absent) and unknown values are skipped; any other non-string cannot be judged and is a violation.
    """
    allowed = config_strings(ctx.config, allowed_key)
    for value in values:
        if value is UNKNOWN or value is None:
            continue
        if not isinstance(value, str):
            yield (
                f"{ctx.label} shares {where} with a {kind} that could not be read ({type(value).__name__} "
                f"{value!r}, not a string); set it to an allow-listed {kind}."
            )
            continue
        if value in allowed:
            continue
        shape = "" if valid(value) else f" (it is not even a valid {kind})"
        yield (
            f"{ctx.label} shares {where} with {kind} '{value}'{shape}, which is not on the {allowed_key} "
            f"allow-list; remove it or add it to the policy config."
        )


def listed(props: Props, value: Any) -> list[Any]:
    """A list value's elements, a lone scalar as one element, nothing for absent/unknown."""
    if value is None or value is UNKNOWN:
        return []
    return props.items(value) if is_sequence(value) else [value]
