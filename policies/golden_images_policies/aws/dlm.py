"""AWS Data Lifecycle Manager policies (which create, copy and share AMIs and EBS snapshots on a schedule) and AWS
RAM shares of Image Builder images: customer-key copies, allow-listed share targets."""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any, Final

from golden_images.core.rules import is_aws_account_id, is_aws_org_arn, is_aws_ou_arn, is_truthy_flag

from ..base import Ctx
from ..keys import aws_key_problem
from ..props import UNKNOWN, Props, is_mapping, is_sequence
from ..registry import resource_policy
from .sharing import SHARING_CONFIG, sharing_target_problems

LIFECYCLE_POLICY: Final = "aws:dlm/lifecyclePolicy:LifecyclePolicy"
RAM_ASSOCIATION: Final = "aws:ram/resourceAssociation:ResourceAssociation"
RAM_EXCLUSIVE: Final = "aws:ram/resourceShareAssociationsExclusive:ResourceShareAssociationsExclusive"
#: ARNs of image kinds a RAM share could carry (Image Builder images, recipes, components; EC2 images fail closed).
_IMAGE_ARN: Final = re.compile(
    r"^arn:aws[a-z-]*:(imagebuilder:[^:]*:[^:]*:(image|image-recipe|container-recipe|component)/|ec2:[^:]*:[^:]*:image/)"
)


def _items(props: Props, value: Any) -> list[Any]:
    return props.items(value) if is_sequence(value) else []


def _copy_problem(ctx: Ctx, encrypted: Any, key: Any, where: str) -> Iterable[str]:
    if encrypted is not UNKNOWN and not is_truthy_flag(encrypted):
        yield f"{ctx.label} copies {where} unencrypted (encrypted is {encrypted!r}); set encrypted true and cmkArn."
        return
    problem = aws_key_problem(key)
    if problem is not None:
        yield f"{ctx.label} copies {where} without a customer key ({problem}); set cmkArn to a customer KMS key."


@resource_policy(
    name="aws-dlm-lifecyclepolicy-copies-kms-key",
    description="Data Lifecycle Manager copies AMIs and snapshots only encrypted with a customer-managed key.",
    concern="encryption",
    severity="critical",
    types=(LIFECYCLE_POLICY,),
    remediation="Set encrypted true and cmkArn to a customer KMS key on every cross-Region copy rule.",
    extra_tags=("aws", "dlm"),
)
def _dlm_copies(ctx: Ctx) -> Iterable[str]:
    props = ctx.props
    details = props("policyDetails")
    for index, schedule in enumerate(_items(props, props.get(details, "schedules"))):
        for rule in _items(props, props.get(schedule, "crossRegionCopyRules")):
            if rule is UNKNOWN:
                continue
            target = props.get(rule, "targetRegion") or props.get(rule, "target")
            where = f"schedule #{index + 1}'s images/snapshots to {target!r}"
            yield from _copy_problem(ctx, props.get(rule, "encrypted"), props.get(rule, "cmkArn"), where)
    for action in _items(props, props.get(details, "actions")):
        for copy in _items(props, props.get(action, "crossRegionCopies")):
            if copy is UNKNOWN:
                continue
            config = props.get(copy, "encryptionConfiguration")
            where = f"shared snapshots to {props.get(copy, 'target')!r}"
            yield from _copy_problem(ctx, props.get(config, "encrypted"), props.get(config, "cmkArn"), where)


@resource_policy(
    name="aws-dlm-lifecyclepolicy-allowed-targets",
    description="Data Lifecycle Manager shares AMIs and snapshots only with allow-listed accounts.",
    concern="sharing",
    severity="critical",
    types=(LIFECYCLE_POLICY,),
    remediation="Remove shareRules targetAccounts that are not on allowedAccountIds, or allow-list them.",
    config=SHARING_CONFIG,
    extra_tags=("aws", "dlm"),
)
def _dlm_shares(ctx: Ctx) -> Iterable[str]:
    props = ctx.props
    details = props("policyDetails")
    for index, schedule in enumerate(_items(props, props.get(details, "schedules"))):
        for rule in _items(props, props.get(schedule, "shareRules")):
            accounts = props.get(rule, "targetAccounts") if is_mapping(rule) else None
            values = [accounts] if isinstance(accounts, str) else _items(props, accounts)
            yield from sharing_target_problems(
                ctx,
                values,
                "account",
                "allowedAccountIds",
                is_aws_account_id,
                f"schedule #{index + 1}'s images",
            )


@resource_policy(
    name="aws-ram-image-share-allowed-targets",
    description="AWS RAM shares of Image Builder images, recipes and components go only to allow-listed targets.",
    concern="sharing",
    severity="critical",
    types=(RAM_ASSOCIATION, RAM_EXCLUSIVE),
    remediation=(
        "Share images with distribution launch permissions, or list only allow-listed principals in a "
        "ResourceShareAssociationsExclusive."
    ),
    config=SHARING_CONFIG,
    extra_tags=("aws", "ram"),
)
def _ram(ctx: Ctx) -> Iterable[str]:
    props = ctx.props
    if ctx.type == RAM_ASSOCIATION:
        arn = props("resourceArn")
        if isinstance(arn, str) and _IMAGE_ARN.match(arn):
            # The share's principals live on separate PrincipalAssociation resources the pack cannot tie to this
            # one, so an image shared through RAM cannot be checked against the allow-lists: refused.
            yield (
                f"{ctx.label} shares the image resource '{arn}' through AWS RAM, whose principals the pack cannot "
                f"check against the allow-lists; share with Image Builder distribution launch permissions instead, "
                f"or use a ResourceShareAssociationsExclusive that lists its principals."
            )
        return
    arns = [a for a in _items(props, props("resourceArns")) if isinstance(a, str) and _IMAGE_ARN.match(a)]
    if not arns:
        return
    for principal in _items(props, props("principals")):
        if isinstance(principal, str) and principal.startswith("arn:") and ":ou/" in principal:
            yield from sharing_target_problems(
                ctx,
                [principal],
                "organizational unit",
                "allowedOrganizationalUnitArns",
                is_aws_ou_arn,
                arns[0],
            )
        elif isinstance(principal, str) and principal.startswith("arn:") and ":organization/" in principal:
            yield from sharing_target_problems(
                ctx, [principal], "organization", "allowedOrganizationArns", is_aws_org_arn, arns[0]
            )
        else:
            yield from sharing_target_problems(
                ctx, [principal], "account", "allowedAccountIds", is_aws_account_id, arns[0]
            )
