"""Stack-wide rules: how many major versions of one image may live side by side."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, Final

from pulumi_policy import StackValidationArgs

from golden_images.core.rules import semver_major

from .golden_image.components import ALL_COMPONENTS
from .props import UNKNOWN, Props
from .registry import stack_policy

MAJORS_CONFIG: Final[dict[str, Any]] = {
    "maxConcurrentMajors": {
        "type": "integer",
        "minimum": 1,
        "default": 3,
        "description": "Most distinct MAJOR versions of one image that may exist in a stack at once.",
    },
}


def _identity(props: Props) -> tuple[Any, Any]:
    """``(image name, version)`` from a component's inputs or its version-record outputs."""
    name, version = props("imageName"), props("version")
    for record_key in ("record", "versionRecord"):
        record = props(record_key)
        if name is None:
            name = props.get(record, "name")
        if version is None:
            version = props.get(record, "version")
    return name, version


@stack_policy(
    name="golden-image-stack-max-concurrent-majors",
    description="A stack keeps at most maxConcurrentMajors major versions of each golden image.",
    concern="version",
    severity="medium",
    remediation="Retire the oldest major versions (deprecate, then remove) or raise maxConcurrentMajors.",
    config=MAJORS_CONFIG,
    extra_tags=("golden-image",),
)
def _max_majors(args: StackValidationArgs, config: Mapping[str, Any]) -> Iterable[tuple[str, str | None]]:
    # Config travels as a protobuf Struct, so integers arrive as floats (1 -> 1.0).
    raw = config.get("maxConcurrentMajors")
    limit = 3
    if isinstance(raw, int | float) and not isinstance(raw, bool) and float(raw).is_integer() and raw >= 1:
        limit = int(raw)
    majors: dict[str, dict[int, str]] = {}
    for resource in args.resources:
        if resource.resource_type not in ALL_COMPONENTS:
            continue
        name, version = _identity(Props(resource.props))
        major = semver_major(version)
        if not isinstance(name, str) or name is UNKNOWN or major is None:
            continue
        majors.setdefault(name, {}).setdefault(major, resource.urn)
    for name, found in sorted(majors.items()):
        if len(found) <= limit:
            continue
        ordered = sorted(found)
        oldest = ordered[: len(found) - limit]
        yield (
            f"Golden image '{name}' has {len(found)} concurrent major versions ({', '.join(map(str, ordered))}), "
            f"more than the limit of {limit}; retire major version(s) {', '.join(map(str, oldest))} or raise "
            f"maxConcurrentMajors.",
            found[ordered[0]],
        )
