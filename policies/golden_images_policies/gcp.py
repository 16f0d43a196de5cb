"""GCP images: CMEK (no raw customer-supplied keys), no public IAM, pinned sources, lowercase labels."""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any, Final

from golden_images.common.rules import is_floating_reference, is_gcp_label

from . import tagging
from .base import Ctx, resource_policy
from .props import UNKNOWN, is_mapping, text

IMAGE: Final = "gcp:compute/image:Image"
MACHINE_IMAGE: Final = "gcp:compute/machineImage:MachineImage"
IAM_BINDING: Final = "gcp:compute/imageIamBinding:ImageIamBinding"
IAM_MEMBER: Final = "gcp:compute/imageIamMember:ImageIamMember"
IAM_POLICY: Final = "gcp:compute/imageIamPolicy:ImageIamPolicy"
_PUBLIC_MEMBERS: Final = frozenset({"allusers", "allauthenticatedusers"})


def _cmek(ctx: Ctx, block_name: str, key_field: str) -> Iterable[str]:
    props = ctx.props
    block = props(block_name)
    if block is UNKNOWN:
        return
    for raw in ("rawKey", "rsaEncryptedKey"):
        value = props.get(block, raw)
        if value is UNKNOWN or text(value) is not None:
            yield (
                f"{ctx.label} is encrypted with a customer-supplied {raw}, which is stored in Pulumi state and "
                f"cannot be rotated; use a Cloud KMS key in {block_name}.{key_field} instead."
            )
    key = props.get(block, key_field)
    if key is UNKNOWN or text(key) is not None:
        return
    yield (
        f"{ctx.label} is encrypted with a Google-managed key; set {block_name}.{key_field} to a Cloud KMS key "
        f"(CMEK) the Compute Engine service agent may use."
    )


def _image_cmek(ctx: Ctx) -> Iterable[str]:
    yield from _cmek(ctx, "imageEncryptionKey", "kmsKeySelfLink")


def _machine_image_cmek(ctx: Ctx) -> Iterable[str]:
    yield from _cmek(ctx, "machineImageEncryptionKey", "kmsKeyName")


def _public_members(ctx: Ctx, members: Iterable[Any]) -> Iterable[str]:
    for member in members:
        if isinstance(member, str) and member.strip().lower() in _PUBLIC_MEMBERS:
            yield (
                f"{ctx.label} grants access to '{member}', which makes the image public; grant roles to specific "
                f"groups or service accounts instead."
            )


def _policy_members(data: Any) -> list[Any]:
    if not isinstance(data, str):
        return []
    try:
        document = json.loads(data)
    except json.JSONDecodeError:
        return []
    members: list[Any] = []
    bindings = document.get("bindings") if isinstance(document, dict) else None
    for binding in bindings if isinstance(bindings, list) else []:
        found = binding.get("members") if isinstance(binding, dict) else None
        if isinstance(found, list):
            members.extend(found)
    return members


def _iam(ctx: Ctx) -> Iterable[str]:
    props = ctx.props
    if ctx.type == IAM_BINDING:
        yield from _public_members(ctx, props.strings(props("members")))
    elif ctx.type == IAM_MEMBER:
        yield from _public_members(ctx, [props("member")])
    else:
        yield from _public_members(ctx, _policy_members(props("policyData")))


def _source_pinned(ctx: Ctx) -> Iterable[str]:
    source = ctx.props("sourceImage")
    if isinstance(source, str) and ("/family/" in source or is_floating_reference(source)):
        yield (
            f"{ctx.label} is created from the image family or floating reference '{source}', which resolves to "
            f"whatever is newest; point sourceImage at an exact image name."
        )


def _labels(ctx: Ctx) -> Iterable[str]:
    yield from tagging.map_problems(ctx, ctx.props("labels"), "labels")


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


POLICIES = [
    resource_policy(
        name="gcp-compute-image-cmek",
        description="GCP images are encrypted with a Cloud KMS key (CMEK), never a raw customer-supplied key.",
        concern="encryption",
        severity="critical",
        types=(IMAGE,),
        check=_image_cmek,
        remediation="Set imageEncryptionKey.kmsKeySelfLink to a Cloud KMS key; remove rawKey/rsaEncryptedKey.",
        extra_tags=("gcp", "compute"),
    ),
    resource_policy(
        name="gcp-compute-machineimage-cmek",
        description="GCP machine images are encrypted with a Cloud KMS key (CMEK), never a raw key.",
        concern="encryption",
        severity="critical",
        types=(MACHINE_IMAGE,),
        check=_machine_image_cmek,
        remediation="Set machineImageEncryptionKey.kmsKeyName to a Cloud KMS key; remove rawKey.",
        extra_tags=("gcp", "compute"),
    ),
    resource_policy(
        name="gcp-compute-image-iam-not-public",
        description="GCP image IAM never grants allUsers or allAuthenticatedUsers.",
        concern="sharing",
        severity="critical",
        types=(IAM_BINDING, IAM_MEMBER, IAM_POLICY),
        check=_iam,
        remediation="Remove allUsers/allAuthenticatedUsers; grant roles/compute.imageUser to named principals.",
        extra_tags=("gcp", "compute"),
    ),
    resource_policy(
        name="gcp-compute-image-source-pinned",
        description="In prod, GCP images are created from an exact source image, not an image family.",
        concern="version",
        severity="high",
        types=(IMAGE,),
        check=_source_pinned,
        remediation="Set sourceImage to an exact image (projects/<p>/global/images/<name>), not /family/<f>.",
        prod_only=True,
        extra_tags=("gcp", "compute"),
    ),
    resource_policy(
        name="gcp-compute-image-required-labels",
        description="GCP images carry the required golden-image labels.",
        concern="tagging",
        severity="medium",
        types=(IMAGE,),
        check=_labels,
        remediation="Label the image with the canonical tag map rendered as GCP labels (1.4.2 becomes 1-4-2).",
        config=tagging.TAG_CONFIG,
        extra_tags=("gcp", "compute"),
    ),
    resource_policy(
        name="gcp-compute-image-labels-valid",
        description="GCP image labels are lowercase-valid ([a-z0-9_-], keys start with a letter, at most 63).",
        concern="tagging",
        severity="low",
        types=(IMAGE,),
        check=_labels_valid,
        remediation="Render labels with the golden-images GCP label renderer (lowercase, dots become dashes).",
        extra_tags=("gcp", "compute"),
    ),
]
