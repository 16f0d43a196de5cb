"""EC2 AMIs and EBS snapshots: encrypted snapshots, customer-key copies, no public or unlisted launch or
create-volume permissions, account-level public-sharing blocks, tags."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Final

from golden_images.core.rules import (
    is_aws_account_id,
    is_aws_org_arn,
    is_aws_ou_arn,
    is_public_group,
    is_truthy_flag,
)

from .. import tagging
from ..base import Ctx
from ..keys import aws_key_problem, is_customer_kms_key
from ..props import UNKNOWN, is_mapping, text
from ..registry import resource_policy
from .sharing import SHARING_CONFIG, sharing_target_problems

AMI: Final = "aws:ec2/ami:Ami"
AMI_COPY: Final = "aws:ec2/amiCopy:AmiCopy"
LAUNCH_PERMISSION: Final = "aws:ec2/amiLaunchPermission:AmiLaunchPermission"
AMI_FROM_INSTANCE: Final = "aws:ec2/amiFromInstance:AmiFromInstance"
SNAPSHOT_PERMISSION: Final = "aws:ec2/snapshotCreateVolumePermission:SnapshotCreateVolumePermission"
IMAGE_BLOCK_PUBLIC: Final = "aws:ec2/imageBlockPublicAccess:ImageBlockPublicAccess"
SNAPSHOT_BLOCK_PUBLIC: Final = "aws:ebs/snapshotBlockPublicAccess:SnapshotBlockPublicAccess"
SNAPSHOT_COPY: Final = "aws:ebs/snapshotCopy:SnapshotCopy"
SNAPSHOT_IMPORT: Final = "aws:ebs/snapshotImport:SnapshotImport"
#: ``state`` values that keep new public sharing blocked, per account-level switch (anything else fails).
_BLOCKING_STATES: Final = {
    IMAGE_BLOCK_PUBLIC: ("block-new-sharing",),
    SNAPSHOT_BLOCK_PUBLIC: ("block-all-sharing", "block-new-sharing"),
}
_KNOWN_STATES: Final = {
    IMAGE_BLOCK_PUBLIC: ("block-new-sharing", "unblocked"),
    SNAPSHOT_BLOCK_PUBLIC: ("block-all-sharing", "block-new-sharing", "unblocked"),
}


@resource_policy(
    name="aws-ec2-ami-ebs-encrypted",
    description="Registered AMIs list their EBS snapshots, every one explicitly encrypted.",
    concern="encryption",
    severity="critical",
    types=(AMI,),
    remediation="List every device in ebsBlockDevices with encrypted: true (snapshots encrypted with a CMK).",
    extra_tags=("aws", "ec2"),
)
def _ami_blocks(ctx: Ctx) -> Iterable[str]:
    props = ctx.props
    devices = props("ebsBlockDevices")
    if devices is UNKNOWN:
        return
    blocks = props.items(devices)
    if not blocks:
        yield (
            f"{ctx.label} registers no EBS block devices, so nothing proves its snapshots are encrypted; list "
            f"every device in ebsBlockDevices with encrypted true."
        )
    for index, block in enumerate(blocks):
        if block is UNKNOWN:
            continue
        encrypted = props.get(block, "encrypted") if is_mapping(block) else None
        if encrypted is UNKNOWN or is_truthy_flag(encrypted):
            continue
        device = props.get(block, "deviceName")
        label = f"device {device!r}" if isinstance(device, str) else f"block device #{index + 1}"
        yield (
            f"{ctx.label} registers {label} without encrypted: true; register the AMI from a snapshot encrypted "
            f"with a customer-managed key and set encrypted to true."
        )


@resource_policy(
    name="aws-ec2-amicopy-kms-key",
    description="AMI copies are encrypted with a customer-managed KMS key.",
    concern="encryption",
    severity="critical",
    types=(AMI_COPY,),
    remediation="Set encrypted: true and kmsKeyId to a customer-managed key in the destination region.",
    extra_tags=("aws", "ec2"),
)
@resource_policy(
    name="aws-ebs-snapshotcopy-kms-key",
    description="EBS snapshot copies and imports are encrypted with a customer-managed KMS key.",
    concern="encryption",
    severity="critical",
    types=(SNAPSHOT_COPY, SNAPSHOT_IMPORT),
    remediation="Set encrypted: true and kmsKeyId to a customer-managed key in the destination region.",
    extra_tags=("aws", "ebs"),
)
def _copy_key(ctx: Ctx) -> Iterable[str]:
    props = ctx.props
    encrypted = props("encrypted")
    if encrypted is not UNKNOWN and not is_truthy_flag(encrypted):
        yield f"{ctx.label} is not encrypted (encrypted is {encrypted!r}); set encrypted to true with a kmsKeyId."
    key = props("kmsKeyId")
    if key is UNKNOWN or is_customer_kms_key(key):
        return
    if text(key) is None and not (key is not None and not isinstance(key, str)):
        yield (
            f"{ctx.label} sets no kmsKeyId, so the copy uses the AWS-managed EBS key; set kmsKeyId to a "
            f"customer-managed KMS key in the destination region."
        )
    elif isinstance(key, str) and (key.startswith("alias/aws/") or ":alias/aws/" in key):
        yield (
            f"{ctx.label} uses the AWS-managed key '{key}'; set kmsKeyId to a customer-managed KMS key in the "
            f"destination region."
        )
    else:
        yield (
            f"{ctx.label} sets kmsKeyId to {key!r}: {aws_key_problem(key)}; set kmsKeyId to a customer-managed "
            f"KMS key ARN, key id or alias in the destination region."
        )


@resource_policy(
    name="aws-ec2-amifrominstance-encryption-provable",
    description="AMIs are not snapshotted from instances, whose volume encryption the pack cannot see.",
    concern="encryption",
    severity="critical",
    types=(AMI_FROM_INSTANCE,),
    remediation="Build with Image Builder, or copy with an AmiCopy that sets encrypted and a customer kmsKeyId.",
    extra_tags=("aws", "ec2"),
)
def _from_instance(ctx: Ctx) -> Iterable[str]:
    # AmiFromInstance has no encryption input: its snapshots inherit whatever the instance's volumes use, which
    # no property of this resource shows. Unprovable encryption is refused (fail closed).
    source = ctx.props("sourceInstanceId")
    shown = f" '{source}'" if isinstance(source, str) else ""
    yield (
        f"{ctx.label} snapshots instance{shown} with whatever keys its volumes use, which nothing in the resource "
        f"shows, so its encryption cannot be proven; build the image with Image Builder or copy it with an "
        f"AmiCopy that sets encrypted true and a customer-managed kmsKeyId."
    )


@resource_policy(
    name="aws-ec2-image-block-public-access",
    description="Account-level public sharing of AMIs and EBS snapshots stays blocked.",
    concern="sharing",
    severity="critical",
    types=(IMAGE_BLOCK_PUBLIC, SNAPSHOT_BLOCK_PUBLIC),
    remediation=(
        "Set ImageBlockPublicAccess state 'block-new-sharing' and SnapshotBlockPublicAccess "
        "'block-all-sharing' (or 'block-new-sharing')."
    ),
    extra_tags=("aws", "ec2"),
)
def _block_public(ctx: Ctx) -> Iterable[str]:
    state = ctx.props("state")
    if state is UNKNOWN or state in _BLOCKING_STATES[ctx.type]:
        return
    blocking = " or ".join(f"'{s}'" for s in _BLOCKING_STATES[ctx.type])
    if state in _KNOWN_STATES[ctx.type]:
        yield (
            f"{ctx.label} sets state '{state}', which lets images or snapshots in this region be made public; "
            f"set state to {blocking}."
        )
    else:
        shown = "is not set" if state is None else f"is {state!r}, which could not be read as a known state"
        yield f"{ctx.label} state {shown}; set state to {blocking}."


@resource_policy(
    name="aws-ec2-snapshotcreatevolumepermission-allowed-targets",
    description="EBS snapshot create-volume permissions target only allow-listed accounts.",
    concern="sharing",
    severity="critical",
    types=(SNAPSHOT_PERMISSION,),
    remediation="Remove the permission or add its account to allowedAccountIds in the policy config.",
    config=SHARING_CONFIG,
    extra_tags=("aws", "ec2"),
)
def _snapshot_targets(ctx: Ctx) -> Iterable[str]:
    yield from sharing_target_problems(
        ctx, [ctx.props("accountId")], "account", "allowedAccountIds", is_aws_account_id, "the snapshot"
    )


@resource_policy(
    name="aws-ec2-amilaunchpermission-not-public",
    description="AMI launch permissions never make an AMI public.",
    concern="sharing",
    severity="critical",
    types=(LAUNCH_PERMISSION,),
    remediation="Remove launch permissions with group 'all'.",
    extra_tags=("aws", "ec2"),
)
def _not_public(ctx: Ctx) -> Iterable[str]:
    group = ctx.props("group")
    if is_public_group(group):
        yield (
            f"{ctx.label} makes the AMI public (group 'all'); delete it and share with allow-listed accounts "
            f"or organizations only."
        )
    elif group is not None and group is not UNKNOWN:
        # 'all' is the only group EC2 accepts; any other value cannot be judged, so it is refused.
        yield f"{ctx.label} sets group {group!r}, which could not be read as a known group; remove group."


@resource_policy(
    name="aws-ec2-amilaunchpermission-allowed-targets",
    description="AMI launch permissions target only allow-listed accounts, organizations and OUs.",
    concern="sharing",
    severity="high",
    types=(LAUNCH_PERMISSION,),
    remediation=(
        "Remove the launch permission or add its target to allowedAccountIds / allowedOrganizationArns / "
        "allowedOrganizationalUnitArns in the policy config."
    ),
    config=SHARING_CONFIG,
    extra_tags=("aws", "ec2"),
)
def _targets(ctx: Ctx) -> Iterable[str]:
    props = ctx.props
    yield from sharing_target_problems(
        ctx, [props("accountId")], "account", "allowedAccountIds", is_aws_account_id, "the AMI"
    )
    yield from sharing_target_problems(
        ctx, [props("organizationArn")], "organization", "allowedOrganizationArns", is_aws_org_arn, "the AMI"
    )
    yield from sharing_target_problems(
        ctx,
        [props("organizationalUnitArn")],
        "organizational unit",
        "allowedOrganizationalUnitArns",
        is_aws_ou_arn,
        "the AMI",
    )


@resource_policy(
    name="aws-ec2-ami-required-tags",
    description="AMIs, AMI copies and EBS snapshot copies and imports carry the required golden-image tags.",
    concern="tagging",
    severity="medium",
    types=(AMI, AMI_COPY, AMI_FROM_INSTANCE, SNAPSHOT_COPY, SNAPSHOT_IMPORT),
    remediation="Tag the AMI with owner, cost-center, environment, managed-by, golden-image, image-version.",
    config=tagging.TAG_CONFIG,
    extra_tags=("aws", "ec2"),
)
def _tags(ctx: Ctx) -> Iterable[str]:
    yield from tagging.map_problems(ctx, ctx.props("tags"))
