"""EC2 AMIs: encrypted snapshots, customer-key copies, no public or unlisted launch permissions, tags."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Final

from golden_images.common.rules import (
    is_aws_account_id,
    is_aws_org_arn,
    is_aws_ou_arn,
    is_customer_kms_key,
    is_public_group,
    is_truthy_flag,
)

from . import tagging
from .aws_imagebuilder import SHARING_CONFIG, sharing_target_problems
from .base import Ctx, resource_policy
from .props import UNKNOWN, is_mapping, text

AMI: Final = "aws:ec2/ami:Ami"
AMI_COPY: Final = "aws:ec2/amiCopy:AmiCopy"
LAUNCH_PERMISSION: Final = "aws:ec2/amiLaunchPermission:AmiLaunchPermission"


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


def _copy_key(ctx: Ctx) -> Iterable[str]:
    props = ctx.props
    encrypted = props("encrypted")
    if encrypted is not UNKNOWN and not is_truthy_flag(encrypted):
        yield f"{ctx.label} is not encrypted (encrypted is {encrypted!r}); set encrypted to true with a kmsKeyId."
    key = props("kmsKeyId")
    if key is UNKNOWN or is_customer_kms_key(key):
        return
    if text(key) is None:
        yield (
            f"{ctx.label} sets no kmsKeyId, so the copy uses the AWS-managed EBS key; set kmsKeyId to a "
            f"customer-managed KMS key in the destination region."
        )
    else:
        yield (
            f"{ctx.label} uses the AWS-managed key '{key}'; set kmsKeyId to a customer-managed KMS key in the "
            f"destination region."
        )


def _not_public(ctx: Ctx) -> Iterable[str]:
    group = ctx.props("group")
    if is_public_group(group):
        yield (
            f"{ctx.label} makes the AMI public (group 'all'); delete it and share with allow-listed accounts "
            f"or organizations only."
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


def _tags(ctx: Ctx) -> Iterable[str]:
    yield from tagging.map_problems(ctx, ctx.props("tags"))


POLICIES = [
    resource_policy(
        name="aws-ec2-ami-ebs-encrypted",
        description="Registered AMIs list their EBS snapshots, every one explicitly encrypted.",
        concern="encryption",
        severity="critical",
        types=(AMI,),
        check=_ami_blocks,
        remediation="List every device in ebsBlockDevices with encrypted: true (snapshots encrypted with a CMK).",
        extra_tags=("aws", "ec2"),
    ),
    resource_policy(
        name="aws-ec2-amicopy-kms-key",
        description="AMI copies are encrypted with a customer-managed KMS key.",
        concern="encryption",
        severity="critical",
        types=(AMI_COPY,),
        check=_copy_key,
        remediation="Set encrypted: true and kmsKeyId to a customer-managed key in the destination region.",
        extra_tags=("aws", "ec2"),
    ),
    resource_policy(
        name="aws-ec2-amilaunchpermission-not-public",
        description="AMI launch permissions never make an AMI public.",
        concern="sharing",
        severity="critical",
        types=(LAUNCH_PERMISSION,),
        check=_not_public,
        remediation="Remove launch permissions with group 'all'.",
        extra_tags=("aws", "ec2"),
    ),
    resource_policy(
        name="aws-ec2-amilaunchpermission-allowed-targets",
        description="AMI launch permissions target only allow-listed accounts, organizations and OUs.",
        concern="sharing",
        severity="high",
        types=(LAUNCH_PERMISSION,),
        check=_targets,
        remediation=(
            "Remove the launch permission or add its target to allowedAccountIds / allowedOrganizationArns / "
            "allowedOrganizationalUnitArns in the policy config."
        ),
        config=SHARING_CONFIG,
        extra_tags=("aws", "ec2"),
    ),
    resource_policy(
        name="aws-ec2-ami-required-tags",
        description="AMIs and AMI copies carry the required golden-image tags.",
        concern="tagging",
        severity="medium",
        types=(AMI, AMI_COPY),
        check=_tags,
        remediation="Tag the AMI with owner, cost-center, environment, managed-by, golden-image, image-version.",
        config=tagging.TAG_CONFIG,
        extra_tags=("aws", "ec2"),
    ),
]
