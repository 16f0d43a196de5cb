"""Our own component resources: GoldenImage and the four platform components.

The engine calls ``Analyze`` for component resources too, with the props the component registered, so the
catalog rules (semver, tags, LTS base OS in prod) are enforced on any stack using the components.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, Final

from golden_images.core import tokens
from golden_images.core.rules import is_floating_reference, is_truthy_flag

from .. import tagging
from ..base import Ctx, semver_problems
from ..props import UNKNOWN, is_mapping, shown, text
from ..registry import resource_policy

GOLDEN_IMAGE: Final = tokens.GOLDEN_IMAGE
PLATFORM_COMPONENTS: Final = (
    tokens.AWS_GOLDEN_IMAGE,
    tokens.AZURE_GOLDEN_IMAGE,
    tokens.GCP_GOLDEN_IMAGE,
    tokens.PROXMOX_GOLDEN_TEMPLATE,
)
ALL_COMPONENTS: Final = (GOLDEN_IMAGE, *PLATFORM_COMPONENTS)

#: LTS releases per OS family allowed as prod base images (families are matched case-insensitively).
DEFAULT_LTS_RELEASES: Final[dict[str, list[str]]] = {
    "ubuntu": ["20.04", "22.04", "24.04"],
    "debian": ["11", "12", "13"],
    "rhel": ["8", "9", "10"],
    "rocky": ["8", "9", "10"],
    "almalinux": ["8", "9", "10"],
    "amazon-linux": ["2023"],
    "windows-server": ["2019", "2022", "2025"],
}

LTS_CONFIG: Final[dict[str, Any]] = {
    "ltsReleases": {
        "type": "object",
        "additionalProperties": {"type": "array", "items": {"type": "string"}},
        "default": DEFAULT_LTS_RELEASES,
        "description": "Per OS family, the long-term-support releases allowed as prod base images.",
    },
}


@resource_policy(
    name="golden-image-version-semver",
    description="Golden images and their platform components carry a semantic MAJOR.MINOR.PATCH version.",
    concern="version",
    severity="high",
    types=ALL_COMPONENTS,
    remediation="Set the image version in the catalog to MAJOR.MINOR.PATCH, for example 1.4.2.",
    extra_tags=("golden-image",),
)
def _semver(ctx: Ctx) -> Iterable[str]:
    yield from semver_problems(
        ctx, "; set the catalog version to MAJOR.MINOR.PATCH (no 'v' prefix, no suffix), for example 1.4.2."
    )


@resource_policy(
    name="golden-image-required-tags",
    description="Golden images carry the required tags, with environment equal to the stack's environment.",
    concern="tagging",
    severity="medium",
    types=ALL_COMPONENTS,
    remediation="Set the catalog tags: owner, cost-center, environment, managed-by, golden-image, image-version.",
    config=tagging.TAG_CONFIG,
    extra_tags=("golden-image",),
)
def _tags(ctx: Ctx) -> Iterable[str]:
    yield from tagging.map_problems(ctx, ctx.props("tags"))
    environment = ctx.props("environment")
    if isinstance(environment, str) and environment != ctx.env:
        yield (
            f"{ctx.label} is built for environment '{environment}' but deployed by a {ctx.env} stack; deploy it "
            f"from the {environment} stack or change its environment."
        )


@resource_policy(
    name="golden-image-os-lts-in-prod",
    description="In prod, golden images are built on a long-term-support OS release.",
    concern="version",
    severity="high",
    types=(GOLDEN_IMAGE,),
    remediation="Use an LTS base release (for example Ubuntu 24.04) or extend ltsReleases in the policy config.",
    config=LTS_CONFIG,
    prod_only=True,
    extra_tags=("golden-image",),
)
def _lts(ctx: Ctx) -> Iterable[str]:
    props = ctx.props
    os_info = props("os")
    if os_info is UNKNOWN:
        return
    if not is_mapping(os_info):
        yield f"{ctx.label} declares no base OS (os); declare family, release and lts so prod can be checked."
        return
    family, release, lts = (props.get(os_info, k) for k in ("family", "release", "lts"))
    if lts is not UNKNOWN and not is_truthy_flag(lts):
        yield (
            f"{ctx.label} is built on a non-LTS base OS ({family!r} {release!r}); prod images must use an LTS "
            f"release."
        )
    if UNKNOWN in (family, release):
        return
    if text(family) is None:  # fail closed: a family that cannot be read cannot be checked against the table
        yield (
            f"{ctx.label} declares no readable base OS family (os.family is {shown(family)}); declare the family so "
            f"prod can check its release against ltsReleases."
        )
        return
    raw = ctx.config.get("ltsReleases")
    table: Mapping[str, Any] = raw if isinstance(raw, Mapping) else {}
    allowed = next((v for k, v in table.items() if isinstance(k, str) and k.lower() == family.lower()), None)
    releases = [r for r in allowed if isinstance(r, str)] if isinstance(allowed, list | tuple) else []
    if release not in releases:
        yield (
            f"{ctx.label} uses {family} release {release!r}, which is not an allowed LTS release for prod "
            f"(allowed: {', '.join(releases) or 'none configured'}); use an LTS release or add it to ltsReleases."
        )


#: Encryption levels a prod golden image may report (docs/architecture.md "Encryption levels"): a customer key the cloud
#: enforces, a key verified after the build, or (Proxmox) a datastore the operator attests is encrypted.
PROD_ENCRYPTION_LEVELS: Final = ("enforced", "verified", "attested")


@resource_policy(
    name="golden-image-platform-encryption-in-prod",
    description="In prod, every platform copy of a golden image is encrypted with a customer key (or attested).",
    concern="encryption",
    severity="critical",
    types=PLATFORM_COMPONENTS,
    remediation=(
        "Configure the platform's customer-managed key in the catalog so the component reports "
        "encryption 'enforced' (or 'attested' for Proxmox datastores on the allow-list)."
    ),
    prod_only=True,
    extra_tags=("golden-image",),
)
def _platform_encryption(ctx: Ctx) -> Iterable[str]:
    level = ctx.props("encryption")
    if level is UNKNOWN or level in PROD_ENCRYPTION_LEVELS:
        return
    shown = f"encryption level {level!r}" if isinstance(level, str) else "no encryption level"
    yield (
        f"{ctx.label} reports {shown}, but prod images need a customer-managed key (or, on Proxmox, a datastore "
        f"attested as encrypted); set the platform's CMK settings in the catalog (AWS kms_keys, Azure "
        f"disk_encryption_sets, GCP kms_key, Proxmox encrypted_datastores)."
    )


@resource_policy(
    name="golden-image-platform-parent-pinned",
    description="In prod, every platform component builds from an exactly pinned parent image.",
    concern="version",
    severity="high",
    types=PLATFORM_COMPONENTS,
    remediation=(
        "Pin the parent: an AMI id or exact Image Builder ARN, an exact marketplace or gallery "
        "version, an exact GCP image (not a family), a cloud image with its sha256."
    ),
    prod_only=True,
    extra_tags=("golden-image",),
)
def _platform_parent(ctx: Ctx) -> Iterable[str]:
    parent = ctx.props("parentImage")
    if parent is UNKNOWN or parent is None:
        return
    if not isinstance(parent, str) or is_floating_reference(parent):
        yield (
            f"{ctx.label} builds from the floating parent {shown(parent)}, so the prod image changes without a code "
            f"change; pin the parent to an exact image (run 'golden-images pin' for AWS SSM parameters)."
        )
