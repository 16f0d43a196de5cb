"""What every rules module shares: the rule context (:class:`Ctx`), resource labels, concerns, config helpers.

Policies are declared with the decorators of :mod:`golden_images_policies.registry`.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Final

from golden_images.core import tokens
from golden_images.core.rules import ENVIRONMENTS, is_semver

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
    tokens.GOLDEN_IMAGE: "golden image",
    tokens.AWS_GOLDEN_IMAGE: "AWS golden image",
    tokens.AZURE_GOLDEN_IMAGE: "Azure golden image",
    tokens.GCP_GOLDEN_IMAGE: "GCP golden image",
    tokens.PROXMOX_GOLDEN_TEMPLATE: "Proxmox golden template",
    # Resources that launch machines from an image (judged by the launch rules).
    "aws:ec2/instance:Instance": "EC2 instance",
    "aws:ec2/launchTemplate:LaunchTemplate": "EC2 launch template",
    "aws:ec2/launchConfiguration:LaunchConfiguration": "EC2 launch configuration",
    "aws:ec2/spotInstanceRequest:SpotInstanceRequest": "EC2 spot instance request",
    "aws:ec2/spotFleetRequest:SpotFleetRequest": "EC2 spot fleet request",
    "azure-native:compute:VirtualMachine": "Azure VM",
    "azure-native:compute:VirtualMachineScaleSet": "Azure VM scale set",
    "gcp:compute/instance:Instance": "GCP instance",
    "gcp:compute/instanceTemplate:InstanceTemplate": "GCP instance template",
    "gcp:compute/regionInstanceTemplate:RegionInstanceTemplate": "GCP regional instance template",
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


def semver_problems(ctx: Ctx, fix: str) -> Iterable[str]:
    """The violation message when ``version`` is known and not strict MAJOR.MINOR.PATCH; ``fix`` ends the
    sentence (it starts with its own separator, e.g. ``"; set ..."``)."""
    version = ctx.props("version")
    if version is UNKNOWN or is_semver(version):
        return
    yield f"{ctx.label} has version {version!r}, which is not semantic MAJOR.MINOR.PATCH{fix}"
