"""Launching an image: every resource that starts machines from an image is judged against the image
registry's pack config (``golden-images registry policy-config``).

* ``golden-image-launch-not-revoked`` (mandatory): the image is a revoked artifact — revoked itself or built
  on a revoked version (the registry expands descendants) — and the revocation's time has come; the message
  names the version, the reason and the revoked ancestor.
* ``golden-image-launch-revocation-scheduled``: the image's revocation is scheduled for later; the registry's
  config sets this one advisory, so it warns until the time, when the mandatory rule takes over.
* ``golden-image-launch-approved``: with ``requireApproved`` (default false: off), the image must be an
  approved artifact (recorded in the registry, not revoked).

Artifacts are compared per platform: AWS AMI ids exactly, Azure resource ids case-insensitively, GCP images by
their ``projects/…/global/images/…`` path (a bare name or a URL is reduced to it; a bare name matches a revoked
image of that name in any project, which errs on the side of stopping), Proxmox clones by source node and VM id.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

from .base import Ctx
from .props import UNKNOWN, shown
from .registry import resource_policy

#: Image-reference paths per resource type (``"*"`` walks every element of a list), and the platform.
AWS_PATHS: Final[dict[str, tuple[tuple[str, ...], ...]]] = {
    "aws:ec2/instance:Instance": (("ami",),),
    "aws:ec2/launchTemplate:LaunchTemplate": (("imageId",),),
    "aws:ec2/launchConfiguration:LaunchConfiguration": (("imageId",),),
    "aws:ec2/spotInstanceRequest:SpotInstanceRequest": (("ami",),),
    "aws:ec2/spotFleetRequest:SpotFleetRequest": (("launchSpecifications", "*", "ami"),),
}
_AZ_REF = ("id", "sharedGalleryImageId", "communityGalleryImageId")
AZURE_PATHS: Final[dict[str, tuple[tuple[str, ...], ...]]] = {
    "azure-native:compute:VirtualMachine": tuple(("storageProfile", "imageReference", k) for k in _AZ_REF),
    "azure-native:compute:VirtualMachineScaleSet": tuple(
        ("virtualMachineProfile", "storageProfile", "imageReference", k) for k in _AZ_REF
    ),
    "azure:compute/linuxVirtualMachine:LinuxVirtualMachine": (("sourceImageId",),),
    "azure:compute/windowsVirtualMachine:WindowsVirtualMachine": (("sourceImageId",),),
    "azure:compute/linuxVirtualMachineScaleSet:LinuxVirtualMachineScaleSet": (("sourceImageId",),),
    "azure:compute/windowsVirtualMachineScaleSet:WindowsVirtualMachineScaleSet": (("sourceImageId",),),
    "azure:compute/orchestratedVirtualMachineScaleSet:OrchestratedVirtualMachineScaleSet": (
        ("sourceImageId",),
    ),
    "azure:compute/virtualMachine:VirtualMachine": (("storageImageReference", "id"),),
    "azure:compute/scaleSet:ScaleSet": (("storageProfileImageReference", "id"),),
}
GCP_PATHS: Final[dict[str, tuple[tuple[str, ...], ...]]] = {
    "gcp:compute/instance:Instance": (("bootDisk", "initializeParams", "image"),),
    "gcp:compute/instanceTemplate:InstanceTemplate": (("disks", "*", "sourceImage"),),
    "gcp:compute/regionInstanceTemplate:RegionInstanceTemplate": (("disks", "*", "sourceImage"),),
}
#: Proxmox clones: (source VM id path, source node path); the node defaults to the resource's ``nodeName``.
PROXMOX_CLONES: Final[dict[str, tuple[tuple[str, ...], tuple[str, ...]]]] = {
    "proxmoxve:cloned/vm:Vm": (("clone", "sourceVmId"), ("clone", "sourceNodeName")),
    "proxmoxve:cloned/vmLegacy:VmLegacy": (("clone", "sourceVmId"), ("clone", "sourceNodeName")),
    "proxmoxve:index/vmLegacy:VmLegacy": (("clone", "vmId"), ("clone", "nodeName")),
}
LAUNCH_TYPES: Final = (*AWS_PATHS, *AZURE_PATHS, *GCP_PATHS, *PROXMOX_CLONES)

_ARTIFACT_ITEM: Final = {
    "type": "object",
    "properties": {
        "id": {"type": "string"},
        "platform": {"type": "string", "enum": ["aws", "azure", "gcp", "proxmox"]},
        "location": {"type": "string"},
        "image": {"type": "string"},
        "version": {"type": "string"},
        "environment": {"type": "string"},
        "reason": {"type": "string"},
        "at": {"type": "string"},
        "cause": {"type": ["string", "null"]},
    },
    "required": ["id", "platform", "reason", "at"],
    # A misspelt key in an entry ("reson") is refused by the engine's config validation instead of being
    # ignored. Only nested schemas can say this: the engine builds each policy's top-level config schema from
    # its properties and required keys alone, so a misspelt top-level option cannot be refused by schema.
    "additionalProperties": False,
}
REVOKED_CONFIG: Final = {
    "revokedArtifacts": {
        "type": "array",
        "items": _ARTIFACT_ITEM,
        "default": [],
        "description": "Artifacts of revoked versions and their descendants, as written by "
        "'golden-images registry policy-config' (id, platform, location, image, version, reason, at, cause).",
    }
}
APPROVED_CONFIG: Final = {
    "requireApproved": {
        "type": "boolean",
        "default": False,
        "description": "Refuse launching any image that is not in approvedArtifacts (off by default).",
    },
    "approvedArtifacts": {
        "type": "array",
        "items": {"type": "string"},
        "default": [],
        "description": "Ids of the registry's recorded, unrevoked artifacts (from 'golden-images registry "
        "policy-config').",
    },
}


@dataclass(frozen=True)
class Launched:
    """One image reference of a resource: platform, the value as written, and (Proxmox) the source node."""

    platform: str
    value: str
    node: str | None = None


def _walk(ctx: Ctx, obj: Any, path: Sequence[str]) -> Iterable[Any]:
    if not path:
        yield obj
        return
    head, rest = path[0], path[1:]
    if head == "*":
        for item in ctx.props.items(obj):
            yield from _walk(ctx, item, rest)
    else:
        yield from _walk(ctx, ctx.props.get(obj, head), rest)


def launched(ctx: Ctx) -> list[Launched]:
    """Every known image reference of the resource (unknown and absent values are skipped)."""
    out: list[Launched] = []
    for table, platform in ((AWS_PATHS, "aws"), (AZURE_PATHS, "azure"), (GCP_PATHS, "gcp")):
        for path in table.get(ctx.type, ()):
            for value in _walk(ctx, ctx.props.root, path):
                if isinstance(value, str) and value.strip():
                    out.append(Launched(platform, value.strip()))
    if ctx.type in PROXMOX_CLONES:
        id_path, node_path = PROXMOX_CLONES[ctx.type]
        vm = ctx.props(*id_path)
        node = ctx.props(*node_path)
        if node is None:
            node = ctx.props("nodeName")
        # Numbers cross the engine's protobuf Struct as floats (9100 arrives as 9100.0).
        if isinstance(vm, float) and vm.is_integer():
            vm = int(vm)
        if isinstance(vm, int | str) and not isinstance(vm, bool) and vm is not UNKNOWN:
            out.append(Launched("proxmox", str(vm), node if isinstance(node, str) else None))
    return out


def _gcp_path(value: str) -> str:
    for prefix in ("https://www.googleapis.com/compute/v1/", "https://compute.googleapis.com/compute/v1/"):
        value = value.removeprefix(prefix)
    return value.strip("/")


def matches(launch: Launched, artifact: Mapping[str, Any]) -> bool:
    """True when ``launch`` refers to the registry ``artifact`` (see module docstring)."""
    wanted = artifact.get("id")
    if not isinstance(wanted, str) or artifact.get("platform", launch.platform) != launch.platform:
        return False
    if launch.platform == "aws":
        return launch.value == wanted
    if launch.platform == "azure":
        return launch.value.strip("/").lower() == wanted.strip("/").lower()
    if launch.platform == "gcp":
        have, want = _gcp_path(launch.value), _gcp_path(wanted)
        if "/" not in have:
            return have == want.rsplit("/", 1)[-1]
        return have == want
    location = artifact.get("location")
    return launch.value == wanted and (launch.node is None or location in (None, launch.node))


def _parse_at(value: Any) -> dt.datetime | None:
    if not isinstance(value, str):
        return None
    try:
        parsed = dt.datetime.fromisoformat(value)
    except ValueError:
        return None
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=dt.UTC)


def _revocations(ctx: Ctx, due: bool) -> Iterable[tuple[Launched, Mapping[str, Any], dt.datetime]]:
    entries = ctx.config.get("revokedArtifacts")
    if not isinstance(entries, list):
        return
    now = dt.datetime.now(dt.UTC)
    for launch in launched(ctx):
        for entry in entries:
            if not isinstance(entry, Mapping) or not matches(launch, entry):
                continue
            # An unreadable time is treated as due: a revocation must never be silently skipped.
            at = _parse_at(entry.get("at")) or now
            if (at <= now) == due:
                yield launch, entry, at
                break


def _what(entry: Mapping[str, Any]) -> str:
    image, version, env = entry.get("image"), entry.get("version"), entry.get("environment")
    where = f" ({env})" if isinstance(env, str) else ""
    return f"{image} {version}{where}" if isinstance(image, str) else "a registry version"


@resource_policy(
    name="golden-image-launch-not-revoked",
    description="Machines are never launched from a revoked golden image version or one built on it.",
    concern="version",
    severity="critical",
    types=LAUNCH_TYPES,
    config=REVOKED_CONFIG,
    remediation=(
        "Launch a good version of the image (a channel's current version); see 'golden-images registry show'."
    ),
    extra_tags=("registry",),
)
def _not_revoked(ctx: Ctx) -> Iterable[str]:
    for launch, entry, at in _revocations(ctx, due=True):
        cause = entry.get("cause")
        built_on = f"; it is built on the revoked {cause}" if isinstance(cause, str) and cause else ""
        image = entry.get("image")
        show = "golden-images registry show" + (f" --image {image}" if isinstance(image, str) else "")
        if _parse_at(entry.get("at")) is None:  # counted as due; say so rather than print this run's clock
            since = f"revoked (its time {shown(entry.get('at'))} cannot be read, so it counts as revoked now)"
        else:
            since = f"revoked since {at.isoformat().replace('+00:00', 'Z')}"
        yield (
            f"{ctx.label} launches {launch.value}, which is {_what(entry)}, {since}: {entry.get('reason')}"
            f"{built_on}; launch a good version instead ({show})."
        )


@resource_policy(
    name="golden-image-launch-revocation-scheduled",
    description="Warns about machines launched from a golden image version whose revocation is scheduled.",
    concern="version",
    severity="medium",
    types=LAUNCH_TYPES,
    config=REVOKED_CONFIG,
    remediation="Move to a good version of the image before the scheduled revocation time.",
    extra_tags=("registry",),
)
def _scheduled(ctx: Ctx) -> Iterable[str]:
    for launch, entry, at in _revocations(ctx, due=False):
        yield (
            f"{ctx.label} launches {launch.value}, which is {_what(entry)}, scheduled to be revoked at "
            f"{at.isoformat().replace('+00:00', 'Z')}: {entry.get('reason')}; move to a good version before then."
        )


@resource_policy(
    name="golden-image-launch-approved",
    description="With requireApproved, machines are launched only from approved registry artifacts.",
    concern="version",
    severity="high",
    types=LAUNCH_TYPES,
    config=APPROVED_CONFIG,
    remediation=(
        "Launch a recorded, unrevoked golden image, or record the image with 'golden-images registry record'."
    ),
    extra_tags=("registry",),
)
def _approved(ctx: Ctx) -> Iterable[str]:
    if ctx.config.get("requireApproved") is not True:
        return
    approved = [a for a in ctx.config.get("approvedArtifacts") or () if isinstance(a, str)]
    for launch in launched(ctx):
        if not any(matches(launch, {"id": a, "platform": launch.platform}) for a in approved):
            yield (
                f"{ctx.label} launches {launch.value}, which is not an approved artifact of the image registry; "
                f"launch a recorded, unrevoked golden image (golden-images registry show)."
            )
