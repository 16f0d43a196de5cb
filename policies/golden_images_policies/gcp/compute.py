"""GCP images, machine images and snapshots: CMEK (no raw customer-supplied keys), no public IAM (on the image or
on the whole project, folder or organization), pinned sources, lowercase labels.

IAM policy documents (``policyData``) are read the way the provider reads them: it unmarshals the JSON with Go's
``encoding/json``, which matches object keys case-insensitively (``Bindings``/``Members`` work). A byte-order mark
is stripped; anything that still does not parse, or has an unexpected shape, is a violation (fail closed).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from typing import Any, Final

from golden_images.core.rules import is_floating_reference, is_gcp_label

from .. import tagging
from ..base import Ctx
from ..keys import gcp_key_problem
from ..props import UNKNOWN, is_mapping, is_sequence, shown, text
from ..registry import resource_policy

IMAGE: Final = "gcp:compute/image:Image"
#: A source image the Google provider takes as is (no lookup that could fall back to a family): a self link,
#: ``projects/<p>/global/images/<name>`` or ``global/images/<name>``. ``<p>/<name>`` and ``<name>`` are
#: looked up as an image first and then as a family, so they do not pin bytes.
_EXACT_IMAGE: Final = re.compile(
    r"(?:https://(?:www|compute)\.googleapis\.com/compute/(?:v1|beta|alpha)/)?(?:projects/[^/]+/)?"
    r"global/images/(?!family/)[^/]+"
)
MACHINE_IMAGE: Final = "gcp:compute/machineImage:MachineImage"
SNAPSHOT: Final = "gcp:compute/snapshot:Snapshot"
#: Per-resource IAM of everything an image can be read or recreated from, by (binding, member, policy) token.
_IAM_TARGETS: Final = (
    "image",
    "machineImage",
    "snapshot",
    "instantSnapshot",
    "regionInstantSnapshot",
    "disk",
    "regionDisk",
)
RESOURCE_IAM: Final = tuple(
    f"gcp:compute/{target}Iam{kind}:{target[0].upper()}{target[1:]}Iam{kind}"
    for target in _IAM_TARGETS
    for kind in ("Binding", "Member", "Policy")
)
#: Project, folder and organization IAM: a public grant there reaches every image below it.
SCOPE_IAM: Final = tuple(
    f"gcp:{scope}/iAM{kind}:IAM{kind}"
    for scope in ("projects", "folder", "organizations")
    for kind in ("Binding", "Member", "Policy")
)
ALL_IAM: Final = (*RESOURCE_IAM, *SCOPE_IAM)
#: Public principals, case-folded: the two special members and the IAM principal identifier for everyone.
_PUBLIC_MEMBERS: Final = frozenset({"allusers", "allauthenticatedusers", "principalset://goog/public:all"})


def _cmek(ctx: Ctx, block_name: str, key_field: str) -> Iterable[str]:
    props = ctx.props
    block = props(block_name)
    if block is UNKNOWN:
        return
    if block is not None and not is_mapping(block):
        yield (
            f"{ctx.label} has a {block_name} that could not be read (it is not an object); set "
            f"{block_name}.{key_field}."
        )
        return
    for raw in ("rawKey", "rsaEncryptedKey"):
        value = props.get(block, raw)
        if value is UNKNOWN or text(value) is not None:
            yield (
                f"{ctx.label} is encrypted with a customer-supplied {raw}, which is stored in Pulumi state and "
                f"cannot be rotated; use a Cloud KMS key in {block_name}.{key_field} instead."
            )
    key = props.get(block, key_field)
    problem = gcp_key_problem(key)
    if problem is None:
        return
    if key is None or (isinstance(key, str) and not key.strip()):
        yield (
            f"{ctx.label} is encrypted with a Google-managed key; set {block_name}.{key_field} to a Cloud KMS key "
            f"(CMEK) the Compute Engine service agent may use."
        )
    else:
        yield f"{ctx.label} sets {block_name}.{key_field} to {key!r}: {problem}; set it to a Cloud KMS key (CMEK)."


@resource_policy(
    name="gcp-compute-image-cmek",
    description="GCP images are encrypted with a Cloud KMS key (CMEK), never a raw customer-supplied key.",
    concern="encryption",
    severity="critical",
    types=(IMAGE,),
    remediation="Set imageEncryptionKey.kmsKeySelfLink to a Cloud KMS key; remove rawKey/rsaEncryptedKey.",
    extra_tags=("gcp", "compute"),
)
def _image_cmek(ctx: Ctx) -> Iterable[str]:
    yield from _cmek(ctx, "imageEncryptionKey", "kmsKeySelfLink")


@resource_policy(
    name="gcp-compute-machineimage-cmek",
    description="GCP machine images are encrypted with a Cloud KMS key (CMEK), never a raw key.",
    concern="encryption",
    severity="critical",
    types=(MACHINE_IMAGE,),
    remediation="Set machineImageEncryptionKey.kmsKeyName to a Cloud KMS key; remove rawKey.",
    extra_tags=("gcp", "compute"),
)
def _machine_image_cmek(ctx: Ctx) -> Iterable[str]:
    yield from _cmek(ctx, "machineImageEncryptionKey", "kmsKeyName")


@resource_policy(
    name="gcp-compute-snapshot-cmek",
    description="GCP disk snapshots are encrypted with a Cloud KMS key (CMEK), never a raw key.",
    concern="encryption",
    severity="critical",
    types=(SNAPSHOT,),
    remediation="Set snapshotEncryptionKey.kmsKeySelfLink to a Cloud KMS key; remove rawKey/rsaEncryptedKey.",
    extra_tags=("gcp", "compute"),
)
def _snapshot_cmek(ctx: Ctx) -> Iterable[str]:
    yield from _cmek(ctx, "snapshotEncryptionKey", "kmsKeySelfLink")


def _is_public(member: str) -> bool:
    return member.strip().casefold() in _PUBLIC_MEMBERS


def _public_members(ctx: Ctx, members: Iterable[Any], role: Any = None) -> Iterable[str]:
    scope = ctx.type in SCOPE_IAM
    for member in members:
        if member is UNKNOWN:
            continue
        if not isinstance(member, str):
            yield (
                f"{ctx.label} grants a member that could not be read ({type(member).__name__} {member!r}, not a "
                f"string); list principals as strings such as group:team@example.com."
            )
        elif _is_public(member):
            what = f"role '{role}'" if isinstance(role, str) else "a role"
            where = (
                "on the whole project, folder or organization, which makes every image in it public"
                if scope
                else "which makes the image public"
            )
            yield (
                f"{ctx.label} grants '{member}' {what} {where}; grant roles to specific groups or service "
                f"accounts instead."
            )


def _field(document: Mapping[str, Any], name: str) -> list[Any]:
    """Every value whose key equals ``name`` ignoring case (Go's encoding/json matches keys with Unicode case
    folding, so ``Bindings``, ``BINDINGS`` and ``binding\\u017f`` (long s) all count); duplicates are all kept."""
    return [value for key, value in document.items() if isinstance(key, str) and key.casefold() == name]


def _policy_problems(ctx: Ctx, data: Any) -> Iterable[str]:
    if data is UNKNOWN or data is None:
        return
    if not isinstance(data, str):
        yield f"{ctx.label} has policyData that could not be read (a {type(data).__name__}, not JSON text)."
        return
    try:
        document = json.loads(data.lstrip("\ufeff"))
    except json.JSONDecodeError as error:
        yield (
            f"{ctx.label} has policyData that could not be read as JSON ({error.msg} at character {error.pos}); "
            f"render it with gcp.organizations.get_iam_policy so the pack can check its members."
        )
        return
    if not isinstance(document, dict):
        yield f"{ctx.label} has policyData that could not be read (a JSON {type(document).__name__}, not an object)."
        return
    for bindings in _field(document, "bindings"):
        if bindings is None:
            continue
        if not isinstance(bindings, list):
            yield f"{ctx.label} has policyData bindings that could not be read (not a list)."
            continue
        for index, binding in enumerate(bindings):
            if not isinstance(binding, dict):
                yield f"{ctx.label} has policyData binding #{index + 1} that could not be read (not an object)."
                continue
            roles = _field(binding, "role")
            role = roles[-1] if roles else None
            for members in _field(binding, "members"):
                if members is None:
                    continue
                if not isinstance(members, list):
                    yield f"{ctx.label} has members in policyData binding #{index + 1} that could not be read."
                    continue
                yield from _public_members(ctx, members, role)


@resource_policy(
    name="gcp-compute-image-iam-not-public",
    description=(
        "GCP IAM on images, machine images, snapshots and disks, and on projects, folders and organizations, "
        "never grants allUsers or allAuthenticatedUsers."
    ),
    concern="sharing",
    severity="critical",
    types=ALL_IAM,
    remediation=(
        "Remove allUsers/allAuthenticatedUsers (any spelling, also inside policyData); grant "
        "roles/compute.imageUser to named principals."
    ),
    extra_tags=("gcp", "compute"),
)
def _iam(ctx: Ctx) -> Iterable[str]:
    props = ctx.props
    kind = next(k for k in ("Binding", "Member", "Policy") if ctx.type.endswith(k))
    role = props("role")
    if kind == "Binding":
        members = props("members")
        if members is not None and members is not UNKNOWN and not is_sequence(members):
            yield f"{ctx.label} has members that could not be read (not a list of principals)."
        yield from _public_members(ctx, props.items(members), role)
    elif kind == "Member":
        yield from _public_members(ctx, [props("member")], role)
    else:
        yield from _policy_problems(ctx, props("policyData"))


@resource_policy(
    name="gcp-compute-image-source-pinned",
    description="In prod, GCP images are created from an exact source image, not an image family.",
    concern="version",
    severity="high",
    types=(IMAGE,),
    remediation="Set sourceImage to an exact image (projects/<p>/global/images/<name>), not /family/<f>.",
    prod_only=True,
    extra_tags=("gcp", "compute"),
)
def _source_pinned(ctx: Ctx) -> Iterable[str]:
    source = ctx.props("sourceImage")
    if source is UNKNOWN or source is None:  # None: an image made from a disk or snapshot, not a source image
        return
    if not isinstance(source, str):
        yield (
            f"{ctx.label} has a sourceImage that is not a string ({shown(source)}), so it cannot be checked; "
            f"point sourceImage at an exact image (projects/<p>/global/images/<name>)."
        )
    elif "/family/" in source or is_floating_reference(source):
        yield (
            f"{ctx.label} is created from the image family or floating reference '{source}', which resolves to "
            f"whatever is newest; point sourceImage at an exact image name."
        )
    elif _EXACT_IMAGE.fullmatch(source) is None:
        yield (
            f"{ctx.label} is created from '{source}', a shorthand the Google provider resolves to an image of "
            f"that name or, when there is none, to a family's newest image; point sourceImage at an exact "
            f"image (projects/<p>/global/images/<name>)."
        )


@resource_policy(
    name="gcp-compute-image-required-labels",
    description="GCP images carry the required golden-image labels.",
    concern="tagging",
    severity="medium",
    types=(IMAGE,),
    remediation="Label the image with the canonical tag map rendered as GCP labels (1.4.2 becomes 1-4-2).",
    config=tagging.TAG_CONFIG,
    extra_tags=("gcp", "compute"),
)
def _labels(ctx: Ctx) -> Iterable[str]:
    yield from tagging.map_problems(ctx, ctx.props("labels"), "labels")


@resource_policy(
    name="gcp-compute-image-labels-valid",
    description="GCP image labels are lowercase-valid ([a-z0-9_-], keys start with a letter, at most 63).",
    concern="tagging",
    severity="low",
    types=(IMAGE,),
    remediation="Render labels with the golden-images GCP label renderer (lowercase, dots become dashes).",
    extra_tags=("gcp", "compute"),
)
def _labels_valid(ctx: Ctx) -> Iterable[str]:
    props = ctx.props
    labels = props("labels")
    if not is_mapping(labels):
        return
    for key, value in props.entries(labels):
        if value is UNKNOWN:
            continue
        if not is_gcp_label(key, value):
            yield (
                f"{ctx.label} has the label {key!r}: {value!r}, which GCP rejects; use lowercase letters, digits, "
                f"'-' and '_' only, keys starting with a letter, at most 63 characters (1.4.2 becomes 1-4-2)."
            )
