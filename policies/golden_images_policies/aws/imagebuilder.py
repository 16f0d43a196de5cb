"""EC2 Image Builder: customer KMS keys, encrypted recipe volumes and distributions, sharing, versions, tags,
build hygiene."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Final

from golden_images.core.rules import (
    is_aws_account_id,
    is_aws_org_arn,
    is_aws_ou_arn,
    is_floating_reference,
    is_public_group,
    is_truthy_flag,
)

from .. import tagging
from ..base import Ctx, config_strings, semver_problems
from ..keys import aws_key_problem, is_customer_kms_key
from ..props import UNKNOWN, Props, is_mapping, is_sequence, text
from ..props import shown as props_shown  # the local name "shown" is the message part
from ..registry import resource_policy
from .sharing import SHARING_CONFIG, listed, sharing_target_problems

COMPONENT: Final = "aws:imagebuilder/component:Component"
CONTAINER_RECIPE: Final = "aws:imagebuilder/containerRecipe:ContainerRecipe"
WORKFLOW: Final = "aws:imagebuilder/workflow:Workflow"
IMAGE_RECIPE: Final = "aws:imagebuilder/imageRecipe:ImageRecipe"
DISTRIBUTION: Final = "aws:imagebuilder/distributionConfiguration:DistributionConfiguration"
INFRASTRUCTURE: Final = "aws:imagebuilder/infrastructureConfiguration:InfrastructureConfiguration"
PIPELINE: Final = "aws:imagebuilder/imagePipeline:ImagePipeline"
IMAGE: Final = "aws:imagebuilder/image:Image"
TAGGABLE: Final = (
    COMPONENT,
    CONTAINER_RECIPE,
    WORKFLOW,
    IMAGE_RECIPE,
    DISTRIBUTION,
    INFRASTRUCTURE,
    PIPELINE,
    IMAGE,
)

#: Config of the S3 export policy. Empty = no export at all.
EXPORT_CONFIG: Final[dict[str, Any]] = {
    "allowedExportBuckets": {
        "type": "array",
        "items": {"type": "string", "minLength": 3},
        "default": [],
        "description": "S3 bucket names Image Builder may export disk images to.",
    },
}


def _key_problem(ctx: Ctx, key: Any, where: str) -> Iterable[str]:
    """A key is a customer key only when it has a KMS key's shape and is not AWS-managed (see ``keys``)."""
    if key is UNKNOWN or is_customer_kms_key(key):
        return
    if key is None or (isinstance(key, str) and not key.strip()):
        yield (
            f"{ctx.label} sets no KMS key for {where}, so AWS encrypts it with an AWS-managed key; set kmsKeyId "
            f"to a customer-managed KMS key ARN."
        )
    elif isinstance(key, str) and (key.startswith("alias/aws/") or ":alias/aws/" in key):
        yield (
            f"{ctx.label} uses the AWS-managed key '{key}' for {where}, which cannot be restricted or shared; set "
            f"kmsKeyId to a customer-managed KMS key ARN."
        )
    else:
        yield (
            f"{ctx.label} sets the KMS key for {where} to {key!r}: {aws_key_problem(key)}; set kmsKeyId to a "
            f"customer-managed KMS key ARN, key id or alias."
        )


@resource_policy(
    name="aws-imagebuilder-component-kms-key",
    description="Image Builder components and workflows are encrypted with a customer-managed KMS key.",
    concern="encryption",
    severity="high",
    types=(COMPONENT, WORKFLOW),
    remediation="Set kmsKeyId to the ARN of a customer-managed KMS key (not empty, not alias/aws/*).",
    extra_tags=("aws", "imagebuilder"),
)
@resource_policy(
    name="aws-imagebuilder-containerrecipe-kms-key",
    description="Image Builder container recipes are encrypted with a customer-managed KMS key.",
    concern="encryption",
    severity="high",
    types=(CONTAINER_RECIPE,),
    remediation="Set kmsKeyId to the ARN of a customer-managed KMS key (not empty, not alias/aws/*).",
    extra_tags=("aws", "imagebuilder"),
)
def _own_kms_key(ctx: Ctx) -> Iterable[str]:
    yield from _key_problem(ctx, ctx.props("kmsKeyId"), "its document")


def _ebs_mappings(ctx: Ctx, props: Props, mappings: Any, where: str, require: bool) -> Iterable[str]:
    if mappings is UNKNOWN:
        return
    ebs_seen = False
    for index, mapping in enumerate(props.items(mappings)):
        if mapping is UNKNOWN:
            ebs_seen = True
            continue
        if not is_mapping(mapping):
            continue
        ebs = props.get(mapping, "ebs")
        if ebs is None and (text(props.get(mapping, "noDevice")) or text(props.get(mapping, "virtualName"))):
            continue  # suppressed device or instance-store volume: nothing persisted in the image
        ebs_seen = True
        device = props.get(mapping, "deviceName")
        label = f"{where} {device!r}" if isinstance(device, str) else f"{where} #{index + 1}"
        if ebs is UNKNOWN:
            continue
        encrypted = props.get(ebs, "encrypted")
        if encrypted is not UNKNOWN and not is_truthy_flag(encrypted):
            shown = "not set" if encrypted is None else props_shown(encrypted)
            yield (
                f"{ctx.label} does not explicitly encrypt {label} (encrypted is {shown}; it is a string and "
                f"'false' means false); set ebs.encrypted to \"true\" with a customer-managed kmsKeyId."
            )
        yield from _key_problem(ctx, props.get(ebs, "kmsKeyId"), label)
    if require and not ebs_seen:
        yield (
            f"{ctx.label} has no explicit EBS block device mappings, so its volumes inherit the parent image's "
            f'encryption; add a mapping for the root device with ebs.encrypted "true" and a customer-managed '
            f"kmsKeyId."
        )


@resource_policy(
    name="aws-imagebuilder-recipe-ebs-encrypted",
    description="Every Image Builder recipe block device is explicitly encrypted with a customer-managed KMS key.",
    concern="encryption",
    severity="critical",
    types=(IMAGE_RECIPE, CONTAINER_RECIPE),
    remediation=(
        'Add blockDeviceMappings for every device with ebs.encrypted "true" (a string) and ebs.kmsKeyId '
        "set to a customer-managed key; do not rely on the parent image's encryption."
    ),
    extra_tags=("aws", "imagebuilder"),
)
def _recipe_ebs(ctx: Ctx) -> Iterable[str]:
    props = ctx.props
    if ctx.type == IMAGE_RECIPE:
        yield from _ebs_mappings(ctx, props, props("blockDeviceMappings"), "block device", require=True)
    else:
        config = props("instanceConfiguration")
        yield from _ebs_mappings(
            ctx, props, props.get(config, "blockDeviceMappings"), "build instance block device", require=False
        )


def _distribution_entries(ctx: Ctx) -> Iterable[tuple[str, Any]]:
    """``(where, entry)`` for every readable distributions[] entry; unreadable ones come back as ``(where, None)``.

    An entry that is not an object cannot be judged, so callers treat ``None`` as a violation (fail closed).
    """
    props = ctx.props
    distributions = props("distributions")
    if distributions is UNKNOWN or distributions is None:
        return
    if not is_sequence(distributions):
        yield "distributions", None
        return
    for index, dist in enumerate(props.items(distributions)):
        if dist is UNKNOWN:
            continue
        region = props.get(dist, "region") if is_mapping(dist) else None
        where = f"region '{region}'" if isinstance(region, str) else f"distributions[{index}]"
        yield where, dist if is_mapping(dist) else None


@resource_policy(
    name="aws-imagebuilder-distribution-kms-key",
    description="Every Image Builder distribution region encrypts its AMI with a customer-managed KMS key.",
    concern="encryption",
    severity="critical",
    types=(DISTRIBUTION,),
    remediation=(
        "Set amiDistributionConfiguration.kmsKeyId in every distributions[] entry to a customer-managed key "
        "in that region (KMS keys are regional; a multi-region key replica works)."
    ),
    extra_tags=("aws", "imagebuilder"),
)
def _distribution_keys(ctx: Ctx) -> Iterable[str]:
    props = ctx.props
    for where, dist in _distribution_entries(ctx):
        if dist is None:
            yield f"{ctx.label} has a {where} entry that could not be read (it is not an object); fix the entry."
            continue
        ami = props.get(dist, "amiDistributionConfiguration")
        if ami is UNKNOWN:
            continue
        if ami is None:
            # Image Builder still copies the output AMI into every listed region; without an AMI configuration
            # the copy keeps the source image's key, whatever containerDistributionConfiguration says.
            yield (
                f"{ctx.label} lists {where} without an amiDistributionConfiguration, so the AMI is still copied "
                f"there with the parent image's key; add amiDistributionConfiguration with a customer-managed "
                f"kmsKeyId for that region."
            )
            continue
        if not is_mapping(ami):
            yield (
                f"{ctx.label} has an amiDistributionConfiguration for {where} that could not be read (it is not "
                f"an object); fix it."
            )
            continue
        yield from _key_problem(ctx, props.get(ami, "kmsKeyId"), f"the AMI it distributes to {where}")


@resource_policy(
    name="aws-imagebuilder-distribution-no-s3-export",
    description="Image Builder distributions do not export images to S3 buckets outside the allow-list.",
    concern="sharing",
    severity="critical",
    types=(DISTRIBUTION,),
    remediation="Remove s3ExportConfiguration from every distribution, or add the bucket to allowedExportBuckets.",
    config=EXPORT_CONFIG,
    extra_tags=("aws", "imagebuilder"),
)
def _s3_export(ctx: Ctx) -> Iterable[str]:
    props = ctx.props
    allowed = config_strings(ctx.config, "allowedExportBuckets")
    for where, dist in _distribution_entries(ctx):
        export = props.get(dist, "s3ExportConfiguration") if dist is not None else None
        if export is None or export is UNKNOWN:
            continue
        bucket = props.get(export, "s3Bucket") if is_mapping(export) else None
        if bucket is UNKNOWN:
            continue
        if isinstance(bucket, str) and bucket in allowed:
            continue
        shown = f"bucket '{bucket}'" if isinstance(bucket, str) else "a bucket that could not be read"
        yield (
            f"{ctx.label} exports the image in {where} as a disk file to S3 {shown}, outside the AMI's KMS "
            f"encryption and launch permissions; remove s3ExportConfiguration or add the bucket to "
            f"allowedExportBuckets."
        )


@resource_policy(
    name="aws-imagebuilder-distribution-not-public",
    description="Image Builder distributions never make AMIs public.",
    concern="sharing",
    severity="critical",
    types=(DISTRIBUTION,),
    remediation="Remove 'all' from launchPermission.userGroups in every distribution.",
    extra_tags=("aws", "imagebuilder"),
)
def _distribution_public(ctx: Ctx) -> Iterable[str]:
    props = ctx.props
    for where, dist in _distribution_entries(ctx):
        groups = props.get(dist, "amiDistributionConfiguration", "launchPermission", "userGroups")
        for group in [groups] if isinstance(groups, str) else props.items(groups):
            if group is UNKNOWN:
                continue
            if is_public_group(group):
                yield (
                    f"{ctx.label} makes the AMI it distributes to {where} public (launchPermission.userGroups "
                    f"contains 'all'); remove 'all' and share with allow-listed accounts or organizations only."
                )
            else:
                # 'all' is the only group EC2 knows; anything else cannot be judged, so it is refused.
                yield (
                    f"{ctx.label} shares the AMI it distributes to {where} with launchPermission.userGroups "
                    f"entry {group!r}, which could not be read as a known group; remove it."
                )


@resource_policy(
    name="aws-imagebuilder-distribution-allowed-targets",
    description="Image Builder distributions share or copy AMIs only to allow-listed accounts, orgs and OUs.",
    concern="sharing",
    severity="high",
    types=(DISTRIBUTION,),
    remediation=(
        "Remove launch permissions and targetAccountIds that are not allow-listed, or add the targets to "
        "allowedAccountIds / allowedOrganizationArns / allowedOrganizationalUnitArns in the policy config."
    ),
    config=SHARING_CONFIG,
    extra_tags=("aws", "imagebuilder"),
)
def _distribution_targets(ctx: Ctx) -> Iterable[str]:
    props = ctx.props
    for region, dist in _distribution_entries(ctx):
        if dist is None:
            continue  # reported by aws-imagebuilder-distribution-kms-key
        where = f"the AMI in {region}"
        ami = props.get(dist, "amiDistributionConfiguration")
        perm = props.get(ami, "launchPermission")
        checks: list[tuple[Any, str, str, Any, str]] = [
            (props.get(perm, "userIds"), "account", "allowedAccountIds", is_aws_account_id, where),
            (
                props.get(ami, "targetAccountIds"),
                "account",
                "allowedAccountIds",
                is_aws_account_id,
                where + " (copied via targetAccountIds)",
            ),
            (
                props.get(perm, "organizationArns"),
                "organization",
                "allowedOrganizationArns",
                is_aws_org_arn,
                where,
            ),
            (
                props.get(perm, "organizationalUnitArns"),
                "organizational unit",
                "allowedOrganizationalUnitArns",
                is_aws_ou_arn,
                where,
            ),
        ]
        for field, what in (
            ("launchTemplateConfigurations", "launch template in"),
            ("fastLaunchConfigurations", "fast launch in"),
        ):
            for entry in props.items(props.get(dist, field)):
                checks.append(
                    (
                        props.get(entry, "accountId"),
                        "account",
                        "allowedAccountIds",
                        is_aws_account_id,
                        f"{where} ({what} another account via {field})",
                    )
                )
        for entry in props.items(props.get(dist, "ssmParameterConfigurations")):
            checks.append(
                (
                    props.get(entry, "amiAccountId"),
                    "account",
                    "allowedAccountIds",
                    is_aws_account_id,
                    f"{where} (published via ssmParameterConfigurations)",
                )
            )
        for values, kind, key, valid, label in checks:
            yield from sharing_target_problems(ctx, listed(props, values), kind, key, valid, label)


@resource_policy(
    name="aws-imagebuilder-component-version-semver",
    description="Image Builder components and workflows carry a semantic MAJOR.MINOR.PATCH version.",
    concern="version",
    severity="medium",
    types=(COMPONENT, WORKFLOW),
    remediation="Set version to MAJOR.MINOR.PATCH derived from the golden image version.",
    extra_tags=("aws", "imagebuilder"),
)
@resource_policy(
    name="aws-imagebuilder-recipe-version-semver",
    description="Image Builder image and container recipes carry a semantic MAJOR.MINOR.PATCH version.",
    concern="version",
    severity="medium",
    types=(IMAGE_RECIPE, CONTAINER_RECIPE),
    remediation="Set version to MAJOR.MINOR.PATCH derived from the golden image version.",
    extra_tags=("aws", "imagebuilder"),
)
def _semver(ctx: Ctx) -> Iterable[str]:
    yield from semver_problems(ctx, " (for example 1.4.2); derive it from the golden image version.")


@resource_policy(
    name="aws-imagebuilder-recipe-parent-pinned",
    description="In prod, Image Builder recipes pin their parent image and component versions.",
    concern="version",
    severity="high",
    types=(IMAGE_RECIPE, CONTAINER_RECIPE),
    remediation="Replace x.x.x / latest / ssm: parent references and wildcard component ARNs with exact versions.",
    prod_only=True,
    extra_tags=("aws", "imagebuilder"),
)
def _pinned(ctx: Ctx) -> Iterable[str]:
    props = ctx.props
    parent = props("parentImage")
    if is_floating_reference(parent):
        yield (
            f"{ctx.label} builds from the floating parent image '{parent}', so prod images change without a "
            f"code change; pin the parent to an exact version (AMI id or full Image Builder image ARN)."
        )
    for component in props.items(props("components")):
        arn = props.get(component, "componentArn")
        if is_floating_reference(arn):
            yield (
                f"{ctx.label} uses the floating component version '{arn}'; pin the component ARN to an exact "
                f"MAJOR.MINOR.PATCH version."
            )


@resource_policy(
    name="aws-imagebuilder-resource-required-tags",
    description="Image Builder resources and the AMIs they distribute (amiTags) carry the required golden-image tags.",
    concern="tagging",
    severity="medium",
    types=TAGGABLE,
    remediation=(
        "Tag the resource (and every distribution's amiTags) with the canonical golden-image tag map: "
        "owner, cost-center, environment, managed-by, golden-image, image-version."
    ),
    config=tagging.TAG_CONFIG,
    extra_tags=("aws", "imagebuilder"),
)
def _tags(ctx: Ctx) -> Iterable[str]:
    props = ctx.props
    yield from tagging.map_problems(ctx, props("tags"))
    if ctx.type == DISTRIBUTION:
        for dist in props.items(props("distributions")):
            ami = props.get(dist, "amiDistributionConfiguration")
            if ami is UNKNOWN or ami is None:
                continue
            region = props.get(dist, "region")
            where = (
                f"AMI tags (amiTags) for region '{region}'"
                if isinstance(region, str)
                else "AMI tags (amiTags)"
            )
            yield from tagging.map_problems(ctx, props.get(ami, "amiTags"), where)


@resource_policy(
    name="aws-imagebuilder-infrastructure-imdsv2",
    description="Image Builder build instances require IMDSv2 (httpTokens: required).",
    concern="hygiene",
    severity="high",
    types=(INFRASTRUCTURE,),
    remediation="Set instanceMetadataOptions.httpTokens to 'required'.",
    extra_tags=("aws", "imagebuilder"),
)
def _imdsv2(ctx: Ctx) -> Iterable[str]:
    tokens = ctx.props("instanceMetadataOptions", "httpTokens")
    if tokens is UNKNOWN or tokens == "required":
        return
    yield (
        f"{ctx.label} lets build instances use IMDSv1 (httpTokens is {tokens!r}); set "
        f"instanceMetadataOptions.httpTokens to 'required'."
    )


@resource_policy(
    name="aws-imagebuilder-infrastructure-terminate-on-failure",
    description="Image Builder terminates build instances when a build fails.",
    concern="hygiene",
    severity="medium",
    types=(INFRASTRUCTURE,),
    remediation="Set terminateInstanceOnFailure to true.",
    extra_tags=("aws", "imagebuilder"),
)
def _terminate(ctx: Ctx) -> Iterable[str]:
    value = ctx.props("terminateInstanceOnFailure")
    if value is UNKNOWN or is_truthy_flag(value):
        return
    yield (
        f"{ctx.label} keeps failed build instances running (terminateInstanceOnFailure is {value!r}); set "
        f"terminateInstanceOnFailure to true."
    )


@resource_policy(
    name="aws-imagebuilder-pipeline-image-tests",
    description="Image Builder pipelines and images keep image tests enabled.",
    concern="hygiene",
    severity="medium",
    types=(PIPELINE, IMAGE),
    remediation="Remove imageTestsConfiguration.imageTestsEnabled false (tests run by default).",
    extra_tags=("aws", "imagebuilder"),
)
def _tests(ctx: Ctx) -> Iterable[str]:
    # Image Builder runs tests unless told not to: absent or true passes, an explicit false (bool or string) is a
    # violation, and any other value cannot be read, so it is refused too (fail closed).
    value = ctx.props("imageTestsConfiguration", "imageTestsEnabled")
    if value is UNKNOWN or value is None or is_truthy_flag(value):
        return
    if value is False or (isinstance(value, str) and value.strip().lower() == "false"):
        yield (
            f"{ctx.label} disables image tests; remove imageTestsEnabled false so every image is tested "
            f"before distribution."
        )
    else:
        yield (
            f"{ctx.label} sets imageTestsEnabled to {value!r}, which could not be read as true or false; remove it "
            f"(tests run by default) or set it to true."
        )


@resource_policy(
    name="aws-imagebuilder-pipeline-image-scanning",
    description="Image Builder pipelines and images scan every image for vulnerabilities.",
    concern="hygiene",
    severity="high",
    types=(PIPELINE, IMAGE),
    remediation="Set imageScanningConfiguration.imageScanningEnabled to true (it is off by default).",
    extra_tags=("aws", "imagebuilder"),
)
def _scanning(ctx: Ctx) -> Iterable[str]:
    # Scanning (Inspector) is off unless enabled, so an absent block is a violation.
    value = ctx.props("imageScanningConfiguration", "imageScanningEnabled")
    if value is UNKNOWN or is_truthy_flag(value):
        return
    yield (
        f"{ctx.label} does not scan its images for vulnerabilities; set "
        f"imageScanningConfiguration.imageScanningEnabled to true."
    )
