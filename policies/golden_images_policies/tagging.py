"""Tag rules shared by the per-platform tagging policies: required keys, allowed values, environment."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, Final

from golden_images.core.rules import REQUIRED_TAG_KEYS

from .base import ENVIRONMENT_PROPERTY, Ctx, config_strings
from .props import UNKNOWN, is_mapping

#: Config schema of every tagging policy. Defaults are the prod-grade catalog defaults.
TAG_CONFIG: Final[dict[str, Any]] = {
    "requiredTagKeys": {
        "type": "array",
        "items": {"type": "string", "minLength": 1},
        "default": list(REQUIRED_TAG_KEYS),
        "description": "Tag (or label) keys every golden-image resource must carry with a non-empty value.",
    },
    "allowedTagValues": {
        "type": "object",
        "additionalProperties": {"type": "array", "items": {"type": "string"}},
        "default": {},
        "description": "Per tag key, the only values allowed (keys absent here accept any value).",
    },
    "environment": ENVIRONMENT_PROPERTY,
}


def _allowed(config: Mapping[str, Any]) -> dict[str, list[str]]:
    raw = config.get("allowedTagValues")
    if not isinstance(raw, Mapping):
        return {}
    return {
        k: [x for x in v if isinstance(x, str)]
        for k, v in raw.items()
        if isinstance(k, str) and isinstance(v, list | tuple)
    }


def pair_problems(ctx: Ctx, pairs: Iterable[tuple[Any, Any]] | None, where: str) -> Iterable[str]:
    """Violations for ``(key, value)`` tag pairs (``None`` = no tags at all) against the tagging config.

    Values that are unknown during preview count as present and are not compared.
    """
    required = config_strings(ctx.config, "requiredTagKeys")
    present: dict[str, Any] = {}
    for key, value in pairs or ():
        if isinstance(key, str) and (value is UNKNOWN or (isinstance(value, str) and value.strip())):
            present[key] = value
    missing = [k for k in required if k not in present]
    if missing:
        yield (
            f"{ctx.label} is missing the required {where} {', '.join(missing)}; add them with non-empty values "
            f"(the golden-images tag renderer sets every required key)."
        )
    for key, allowed in _allowed(ctx.config).items():
        value = present.get(key)
        if allowed and isinstance(value, str) and value not in allowed:
            yield (
                f"{ctx.label} sets '{key}' to '{value}' in its {where}, which is not allowed; use one of: "
                f"{', '.join(allowed)}."
            )
    env = present.get("environment")
    if isinstance(env, str) and env != ctx.env:
        yield (
            f"{ctx.label} is tagged environment '{env}' but is deployed by a {ctx.env} stack; tag it with "
            f"environment '{ctx.env}' or deploy it from the {env} stack."
        )


def map_problems(ctx: Ctx, tags: Any, where: str = "tags") -> Iterable[str]:
    """Violations for a tag map (AWS tags/amiTags, Azure tags, GCP labels, our components' tags)."""
    if tags is UNKNOWN:
        return []
    pairs = ctx.props.entries(tags) if is_mapping(tags) else None
    return list(pair_problems(ctx, pairs, where))
