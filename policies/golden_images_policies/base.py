"""Policy construction shared by every rules module.

A rule is a plain function ``check(ctx) -> Iterable[str]`` yielding complete violation sentences; the helpers
here wrap it into a pulumi-policy ``ResourceValidationPolicy``/``StackValidationPolicy`` with the house metadata
(description, severity, enforcement level, remediation steps, one concern tag) and a JSON-schema config whose
defaults are applied here too, so a rule sees prod-grade defaults even when no engine sent ``Configure``.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final

from pulumi_policy import (
    EnforcementLevel,
    PolicyConfigSchema,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    Severity,
    StackValidationArgs,
    StackValidationPolicy,
)

from golden_images.common.rules import ENVIRONMENTS, is_semver

from .props import UNKNOWN, Props

#: The concerns a policy is tagged with: exactly one per policy. ``hygiene`` covers build-hardening rules
#: (IMDSv2, terminate-on-failure, image tests/scanning, private build subnets) that are neither encryption,
#: tagging, version nor sharing.
CONCERNS: Final[tuple[str, ...]] = ("encryption", "tagging", "version", "sharing", "hygiene")

#: Config property accepted by every environment-sensitive policy (see :func:`stack_environment`).
ENVIRONMENT_PROPERTY: Final[dict[str, Any]] = {
    "type": "string",
    "enum": list(ENVIRONMENTS),
    "default": "prod",
    "description": "Environment assumed when the stack name is not one of dev, staging or prod.",
}
#: Config property of prod-only policies: apply them on every stack, not only in prod.
APPLY_EVERYWHERE_PROPERTY: Final[dict[str, Any]] = {
    "type": "boolean",
    "default": False,
    "description": "Apply this prod rule on dev and staging stacks too.",
}

#: Human labels for the resource types the pack knows, used in violation messages.
KIND: Final[dict[str, str]] = {
    "aws:imagebuilder/component:Component": "Image Builder component",
    "aws:imagebuilder/containerRecipe:ContainerRecipe": "Image Builder container recipe",
    "aws:imagebuilder/workflow:Workflow": "Image Builder workflow",
    "aws:imagebuilder/imageRecipe:ImageRecipe": "Image Builder image recipe",
    "aws:imagebuilder/distributionConfiguration:DistributionConfiguration": "Image Builder distribution configuration",
    "aws:imagebuilder/infrastructureConfiguration:InfrastructureConfiguration": (
        "Image Builder infrastructure configuration"
    ),
    "aws:imagebuilder/imagePipeline:ImagePipeline": "Image Builder image pipeline",
    "aws:imagebuilder/image:Image": "Image Builder image",
    "aws:ec2/ami:Ami": "AMI",
    "aws:ec2/amiCopy:AmiCopy": "AMI copy",
    "aws:ec2/amiLaunchPermission:AmiLaunchPermission": "AMI launch permission",
    "azure-native:compute:Gallery": "Azure compute gallery",
    "azure-native:compute:GalleryImage": "Azure gallery image definition",
    "azure-native:compute:GalleryImageVersion": "Azure gallery image version",
    "azure-native:virtualmachineimages:VirtualMachineImageTemplate": "Azure VM Image Builder template",
    "gcp:compute/image:Image": "GCP image",
    "gcp:compute/machineImage:MachineImage": "GCP machine image",
    "gcp:compute/imageIamBinding:ImageIamBinding": "GCP image IAM binding",
    "gcp:compute/imageIamMember:ImageIamMember": "GCP image IAM member",
    "gcp:compute/imageIamPolicy:ImageIamPolicy": "GCP image IAM policy",
    "proxmoxve:index/vmLegacy:VmLegacy": "Proxmox VM template",
    "proxmoxve:index/vm:Vm": "Proxmox VM template",
    "proxmoxve:index/vm2Legacy:Vm2Legacy": "Proxmox VM template",
    "proxmoxve:cloned/vm:Vm": "Proxmox cloned VM",
    "proxmoxve:cloned/vmLegacy:VmLegacy": "Proxmox cloned VM",
    "proxmoxve:index/containerLegacy:ContainerLegacy": "Proxmox container template",
    "aws:ec2/amiFromInstance:AmiFromInstance": "AMI from instance",
    "aws:ec2/snapshotCreateVolumePermission:SnapshotCreateVolumePermission": "EBS snapshot create-volume permission",
    "aws:ec2/imageBlockPublicAccess:ImageBlockPublicAccess": "AMI block-public-access setting",
    "aws:ebs/snapshotBlockPublicAccess:SnapshotBlockPublicAccess": "EBS snapshot block-public-access setting",
    "aws:ebs/snapshotCopy:SnapshotCopy": "EBS snapshot copy",
    "aws:dlm/lifecyclePolicy:LifecyclePolicy": "Data Lifecycle Manager policy",
    "aws:ram/resourceAssociation:ResourceAssociation": "RAM resource association",
    "aws:ram/resourceShareAssociationsExclusive:ResourceShareAssociationsExclusive": "RAM share associations",
    "aws:ebs/snapshotImport:SnapshotImport": "EBS snapshot import",
    "azure-native:compute:GallerySharingProfile": "Azure gallery sharing profile",
    "azure-native:compute:Image": "Azure managed image",
    "azure:compute/sharedImageGallery:SharedImageGallery": "Azure shared image gallery",
    "azure:compute/sharedImageVersion:SharedImageVersion": "Azure shared image version",
    "azure:compute/image:Image": "Azure managed image",
    "gcp:compute/snapshot:Snapshot": "GCP snapshot",
    "golden-images:index:GoldenImage": "golden image",
    "golden-images:index:AwsGoldenImage": "AWS golden image",
    "golden-images:index:AzureGoldenImage": "Azure golden image",
    "golden-images:index:GcpGoldenImage": "GCP golden image",
    "golden-images:index:ProxmoxGoldenTemplate": "Proxmox golden template",
}


def stack_environment(config: Mapping[str, Any]) -> str:
    """The environment of the stack under analysis.

    The stack name (``PULUMI_STACK``, set by the engine for the policy pack process and re-read by the SDK on every
    call) wins when it is ``dev``, ``staging`` or ``prod`` (an ``org/project/`` prefix is ignored); otherwise the
    policy's ``environment`` config, which defaults to ``prod`` — unknown stacks get the strictest rules.
    """
    stack = os.environ.get("PULUMI_STACK", "").rsplit("/", 1)[-1]
    if stack in ENVIRONMENTS:
        return stack
    configured = config.get("environment")
    return configured if isinstance(configured, str) and configured in ENVIRONMENTS else "prod"


def apply_defaults(schema: Mapping[str, Any] | None, given: Mapping[str, Any] | None) -> dict[str, Any]:
    """Schema defaults overlaid with the given config (the engine does the same before ``Configure``)."""
    result: dict[str, Any] = {}
    for key, prop in (schema or {}).items():
        if isinstance(prop, Mapping) and "default" in prop:
            result[key] = prop["default"]
    for key, value in (given or {}).items():
        result[key] = value
    return result


def config_strings(config: Mapping[str, Any], key: str) -> list[str]:
    """A list-of-strings config value, tolerating a malformed config (non-strings dropped)."""
    value = config.get(key)
    if not isinstance(value, list | tuple):
        return []
    return [v for v in value if isinstance(v, str)]


@dataclass
class Ctx:
    """What a resource rule sees: unknown-aware props, identity, effective config and environment."""

    props: Props
    type: str
    name: str
    urn: str
    config: Mapping[str, Any]
    env: str = field(init=False)

    def __post_init__(self) -> None:
        self.env = stack_environment(self.config)

    @property
    def is_prod(self) -> bool:
        """True when the stack environment is prod."""
        return self.env == "prod"

    @property
    def label(self) -> str:
        """``<kind> '<name>'`` for messages."""
        return f"{KIND.get(self.type, self.type)} '{self.name}'"


Check = Callable[[Ctx], Iterable[str]]

#: Resource types each resource policy judges, filled as policies are built (the inventory test reads it).
POLICY_TYPES: Final[dict[str, frozenset[str]]] = {}
StackCheck = Callable[[StackValidationArgs, Mapping[str, Any]], Iterable[tuple[str, str | None]]]

_SEVERITY: Final = {
    "low": Severity.LOW,
    "medium": Severity.MEDIUM,
    "high": Severity.HIGH,
    "critical": Severity.CRITICAL,
}


def _schema(properties: Mapping[str, Any] | None) -> PolicyConfigSchema | None:
    return PolicyConfigSchema(properties=dict(properties)) if properties else None


def _tags(concern: str, extra: Sequence[str]) -> list[str]:
    if concern not in CONCERNS:
        raise ValueError(f"unknown concern {concern!r}; expected one of {CONCERNS}")
    return [concern, *extra]


def resource_policy(
    *,
    name: str,
    description: str,
    concern: str,
    severity: str,
    types: Sequence[str],
    check: Check,
    remediation: str,
    config: Mapping[str, Any] | None = None,
    prod_only: bool = False,
    extra_tags: Sequence[str] = (),
    level: EnforcementLevel = EnforcementLevel.MANDATORY,
) -> ResourceValidationPolicy:
    """Wrap ``check`` as a resource policy that only looks at ``types``.

    ``prod_only`` rules return without a verdict outside prod unless their ``applyEverywhere`` config is true.
    """
    properties: dict[str, Any] = dict(config or {})
    if prod_only:
        properties.setdefault("environment", ENVIRONMENT_PROPERTY)
        properties.setdefault("applyEverywhere", APPLY_EVERYWHERE_PROPERTY)
    wanted = frozenset(types)
    POLICY_TYPES[name] = wanted

    def validate(args: ResourceValidationArgs, report: ReportViolation) -> None:
        if args.resource_type not in wanted:
            return
        effective = apply_defaults(properties, args.get_config())
        ctx = Ctx(Props(args.props), args.resource_type, args.name, args.urn, effective)
        if prod_only and not ctx.is_prod and effective.get("applyEverywhere") is not True:
            return
        for message in check(ctx):
            report(message, None)
        ctx.props.finish()

    return ResourceValidationPolicy(
        validate=validate,
        **_metadata(name, description, level, properties, severity, concern, extra_tags, remediation),
    )


def _metadata(
    name: str,
    description: str,
    level: EnforcementLevel,
    properties: Mapping[str, Any],
    severity: str,
    concern: str,
    extra_tags: Sequence[str],
    remediation: str,
) -> dict[str, Any]:
    """The keyword arguments every policy of the pack carries, whatever its kind."""
    return {
        "name": name,
        "description": description,
        "enforcement_level": level,
        "config_schema": _schema(properties),
        "severity": _SEVERITY[severity],
        "tags": _tags(concern, extra_tags),
        "remediation_steps": remediation,
    }


def stack_policy(
    *,
    name: str,
    description: str,
    concern: str,
    severity: str,
    check: StackCheck,
    remediation: str,
    config: Mapping[str, Any] | None = None,
    extra_tags: Sequence[str] = (),
    level: EnforcementLevel = EnforcementLevel.MANDATORY,
) -> StackValidationPolicy:
    """Wrap a stack check yielding ``(message, urn or None)`` pairs as a stack policy."""
    properties: dict[str, Any] = dict(config or {})

    def validate(args: StackValidationArgs, report: ReportViolation) -> None:
        effective = apply_defaults(properties, args.get_config())
        for message, urn in check(args, effective):
            report(message, urn)

    return StackValidationPolicy(
        validate=validate,
        **_metadata(name, description, level, properties, severity, concern, extra_tags, remediation),
    )


def semver_problems(ctx: Ctx, fix: str) -> Iterable[str]:
    """The violation message when ``version`` is known and not strict MAJOR.MINOR.PATCH; ``fix`` ends the
    sentence (it starts with its own separator, e.g. ``"; set ..."``)."""
    version = ctx.props("version")
    if version is UNKNOWN or is_semver(version):
        return
    yield f"{ctx.label} has version {version!r}, which is not semantic MAJOR.MINOR.PATCH{fix}"
