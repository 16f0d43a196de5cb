"""Every resource token that creates, copies, imports, exports or shares a machine image, an image version, a
snapshot of one, or an account-level image-sharing switch — with the policies judging it, or why none is needed.

``tests/policies/test_policy_inventory.py`` walks the installed SDKs (pulumi-aws, pulumi-azure-native, pulumi-gcp,
pulumi-proxmoxve) with :data:`SCOPE` and fails on any token in scope that is not listed here, and on any listed
policy that does not judge its token. The classic ``pulumi-azure`` provider is not installed in this project's
virtualenv: its tokens (:data:`CLASSIC_AZURE_TOKENS`) come from the Pulumi Registry's Azure Classic v6 API docs
(pulumi.com/registry/packages/azure/api-docs/compute/: sharedimagegallery, sharedimage, sharedimageversion, image,
snapshot, managedsdisksastoken) and the azurerm schema they are generated from. ``azure-native:compute:
GallerySharingProfile`` is not in the installed azure-native 3.29.0 either (it exists in other API versions), so it
is listed by hand too.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final


@dataclass(frozen=True)
class Entry:
    """The policies judging a token, or (when there are none) why none is needed."""

    policies: tuple[str, ...] = ()
    reason: str = ""


def _p(*names: str) -> Entry:
    return Entry(policies=names)


def _r(reason: str) -> Entry:
    return Entry(reason=reason)


#: Token patterns per installed SDK package: every resource token matching one must be in :data:`INVENTORY`.
SCOPE: Final[dict[str, tuple[re.Pattern[str], ...]]] = {
    "pulumi_aws": (
        re.compile(r"^aws:[a-z0-9]+/(ami|image|snapshot)\w*:"),
        re.compile(r"^aws:[a-z0-9]+/\w*(Ami|Image|Snapshot)\w*:"),
        re.compile(r"^aws:(imagebuilder|ebs|dlm|ram)/"),
    ),
    "pulumi_azure_native": (
        re.compile(r"^azure-native:[a-z0-9]+:\w*(Image|Snapshot|Gallery|RestorePoint)\w*$"),
        re.compile(r"^azure-native:virtualmachineimages:"),
    ),
    "pulumi_gcp": (
        re.compile(r"^gcp:[a-z0-9]+/(image|snapshot|machineImage)\w*:"),
        re.compile(r"^gcp:[a-z0-9]+/\w*(Image|Snapshot)\w*:"),
        re.compile(r"^gcp:(projects|folder|organizations)/iAM(Binding|Member|Policy):"),
    ),
    "pulumi_proxmoxve": (
        re.compile(r"^proxmoxve:(index|cloned)/(vm|container)\w*:"),
        re.compile(r"^proxmoxve:(download|oci|backup)/"),
    ),
}

#: Classic azure provider tokens in scope (not installed: from the registry docs, see module docstring).
CLASSIC_AZURE_TOKENS: Final = (
    "azure:compute/sharedImageGallery:SharedImageGallery",
    "azure:compute/sharedImage:SharedImage",
    "azure:compute/sharedImageVersion:SharedImageVersion",
    "azure:compute/image:Image",
    "azure:compute/snapshot:Snapshot",
    "azure:compute/managedDiskSasToken:ManagedDiskSasToken",
)

_DB = "a database, cache or file-system snapshot, not a machine image"
_CONTAINER = "a container, function or notebook image, not a machine image"
_AWS_IB_TAGS = "aws-imagebuilder-resource-required-tags"
_AZ_TAGS = "azure-compute-image-required-tags"
_PX = ("proxmox-ve-template-encrypted-datastore", "proxmox-ve-template-required-tags")
_GCP_IAM = "gcp-compute-image-iam-not-public"

INVENTORY: Final[dict[str, Entry]] = {
    # --- AWS: EC2 / EBS ---------------------------------------------------------------------------------------
    "aws:ec2/ami:Ami": _p("aws-ec2-ami-ebs-encrypted", "aws-ec2-ami-required-tags"),
    "aws:ec2/amiCopy:AmiCopy": _p("aws-ec2-amicopy-kms-key", "aws-ec2-ami-required-tags"),
    "aws:ec2/amiFromInstance:AmiFromInstance": _p(
        "aws-ec2-amifrominstance-encryption-provable", "aws-ec2-ami-required-tags"
    ),
    "aws:ec2/amiLaunchPermission:AmiLaunchPermission": _p(
        "aws-ec2-amilaunchpermission-not-public", "aws-ec2-amilaunchpermission-allowed-targets"
    ),
    "aws:ec2/snapshotCreateVolumePermission:SnapshotCreateVolumePermission": _p(
        "aws-ec2-snapshotcreatevolumepermission-allowed-targets"
    ),
    "aws:ec2/imageBlockPublicAccess:ImageBlockPublicAccess": _p("aws-ec2-image-block-public-access"),
    "aws:ebs/snapshotBlockPublicAccess:SnapshotBlockPublicAccess": _p("aws-ec2-image-block-public-access"),
    "aws:ebs/snapshotCopy:SnapshotCopy": _p("aws-ebs-snapshotcopy-kms-key", "aws-ec2-ami-required-tags"),
    "aws:ebs/snapshotImport:SnapshotImport": _p("aws-ebs-snapshotcopy-kms-key", "aws-ec2-ami-required-tags"),
    "aws:ebs/snapshot:Snapshot": _r(
        "snapshots a volume in place with the volume's own key (no encryption input); it leaves the account only "
        "through SnapshotCreateVolumePermission, SnapshotCopy or an AMI, which are judged"
    ),
    "aws:ebs/fastSnapshotRestore:FastSnapshotRestore": _r("a performance setting on an existing snapshot"),
    "aws:ebs/volume:Volume": _r(
        "a volume, not an image; images made from it are judged as Ami/AmiFromInstance"
    ),
    "aws:ebs/volumeCopy:VolumeCopy": _r("copies a volume inside the account, not an image"),
    "aws:ebs/defaultKmsKey:DefaultKmsKey": _r(
        "account default for new volumes; every image rule checks its own key explicitly and ignores defaults"
    ),
    "aws:ebs/encryptionByDefault:EncryptionByDefault": _r(
        "account default for new volumes; every image rule checks its own key explicitly and ignores defaults"
    ),
    "aws:ec2/allowedImagesSettings:AllowedImagesSettings": _r(
        "restricts which images instances may launch from; it neither creates nor shares an image"
    ),
    "aws:dlm/lifecyclePolicy:LifecyclePolicy": _p(
        "aws-dlm-lifecyclepolicy-copies-kms-key", "aws-dlm-lifecyclepolicy-allowed-targets"
    ),
    "aws:ram/resourceAssociation:ResourceAssociation": _p("aws-ram-image-share-allowed-targets"),
    "aws:ram/resourceShareAssociationsExclusive:ResourceShareAssociationsExclusive": _p(
        "aws-ram-image-share-allowed-targets"
    ),
    "aws:ram/resourceShare:ResourceShare": _r(
        "an empty share container; what it shares is judged on the associations"
    ),
    "aws:ram/principalAssociation:PrincipalAssociation": _r(
        "adds a principal to a share; image resources added to shares are refused on their ResourceAssociation"
    ),
    "aws:ram/resourceShareAccepter:ResourceShareAccepter": _r(
        "accepts a share into this account; shares nothing out"
    ),
    "aws:ram/permission:Permission": _r("a managed permission template; it shares nothing itself"),
    "aws:ram/sharingWithOrganization:SharingWithOrganization": _r(
        "enables sharing inside the organization only; images shared through RAM are judged on their associations"
    ),
    # --- AWS: Image Builder ------------------------------------------------------------------------------------
    "aws:imagebuilder/component:Component": _p(
        "aws-imagebuilder-component-kms-key", "aws-imagebuilder-component-version-semver", _AWS_IB_TAGS
    ),
    "aws:imagebuilder/workflow:Workflow": _p(
        "aws-imagebuilder-component-kms-key", "aws-imagebuilder-component-version-semver", _AWS_IB_TAGS
    ),
    "aws:imagebuilder/containerRecipe:ContainerRecipe": _p(
        "aws-imagebuilder-containerrecipe-kms-key",
        "aws-imagebuilder-recipe-ebs-encrypted",
        "aws-imagebuilder-recipe-version-semver",
        "aws-imagebuilder-recipe-parent-pinned",
        _AWS_IB_TAGS,
    ),
    "aws:imagebuilder/imageRecipe:ImageRecipe": _p(
        "aws-imagebuilder-recipe-ebs-encrypted",
        "aws-imagebuilder-recipe-version-semver",
        "aws-imagebuilder-recipe-parent-pinned",
        _AWS_IB_TAGS,
    ),
    "aws:imagebuilder/distributionConfiguration:DistributionConfiguration": _p(
        "aws-imagebuilder-distribution-kms-key",
        "aws-imagebuilder-distribution-not-public",
        "aws-imagebuilder-distribution-no-s3-export",
        "aws-imagebuilder-distribution-allowed-targets",
        _AWS_IB_TAGS,
    ),
    "aws:imagebuilder/infrastructureConfiguration:InfrastructureConfiguration": _p(
        "aws-imagebuilder-infrastructure-imdsv2",
        "aws-imagebuilder-infrastructure-terminate-on-failure",
        _AWS_IB_TAGS,
    ),
    "aws:imagebuilder/imagePipeline:ImagePipeline": _p(
        "aws-imagebuilder-pipeline-image-tests", "aws-imagebuilder-pipeline-image-scanning", _AWS_IB_TAGS
    ),
    "aws:imagebuilder/image:Image": _p(
        "aws-imagebuilder-pipeline-image-tests", "aws-imagebuilder-pipeline-image-scanning", _AWS_IB_TAGS
    ),
    "aws:imagebuilder/lifecyclePolicy:LifecyclePolicy": _r(
        "only deprecates, disables or deletes existing images; it creates and shares nothing"
    ),
    # --- AWS: not machine images ---------------------------------------------------------------------------------
    "aws:appstream/imageBuilder:ImageBuilder": _r(
        "an AppStream streaming instance; its images stay in AppStream and are shared only through the AppStream "
        "API, which has no Pulumi resource"
    ),
    "aws:sagemaker/appImageConfig:AppImageConfig": _r(_CONTAINER),
    "aws:sagemaker/image:Image": _r(_CONTAINER),
    "aws:sagemaker/imageVersion:ImageVersion": _r(_CONTAINER),
    "aws:lambda/microvmsImage:MicrovmsImage": _r(_CONTAINER),
    "aws:lambdamicrovms/image:Image": _r(_CONTAINER),
    "aws:docdb/clusterSnapshot:ClusterSnapshot": _r(_DB),
    "aws:fsx/openZfsSnapshot:OpenZfsSnapshot": _r(_DB),
    "aws:kinesisanalyticsv2/applicationSnapshot:ApplicationSnapshot": _r(_DB),
    "aws:memorydb/snapshot:Snapshot": _r(_DB),
    "aws:neptune/clusterSnapshot:ClusterSnapshot": _r(_DB),
    "aws:rds/clusterSnapshot:ClusterSnapshot": _r(_DB),
    "aws:rds/clusterSnapshotCopy:ClusterSnapshotCopy": _r(_DB),
    "aws:rds/snapshot:Snapshot": _r(_DB),
    "aws:rds/snapshotCopy:SnapshotCopy": _r(_DB),
    "aws:redshift/clusterSnapshot:ClusterSnapshot": _r(_DB),
    "aws:redshift/snapshotCopy:SnapshotCopy": _r(_DB),
    "aws:redshift/snapshotCopyGrant:SnapshotCopyGrant": _r(_DB),
    "aws:redshift/snapshotSchedule:SnapshotSchedule": _r(_DB),
    "aws:redshift/snapshotScheduleAssociation:SnapshotScheduleAssociation": _r(_DB),
    "aws:redshiftserverless/snapshot:Snapshot": _r(_DB),
    # --- Azure native --------------------------------------------------------------------------------------------
    "azure-native:compute:Gallery": _p("azure-compute-gallery-not-community", _AZ_TAGS),
    "azure-native:compute:GallerySharingProfile": _p("azure-compute-gallerysharingprofile-allowed-targets"),
    "azure-native:compute:GalleryImage": _p(_AZ_TAGS),
    "azure-native:compute:GalleryImageVersion": _p(
        "azure-compute-galleryimageversion-disk-encryption-set",
        "azure-compute-galleryimageversion-name-format",
        "azure-compute-galleryimageversion-source-pinned",
        _AZ_TAGS,
    ),
    "azure-native:compute:Image": _p("azure-compute-image-disk-encryption-set", _AZ_TAGS),
    "azure-native:virtualmachineimages:VirtualMachineImageTemplate": _p(
        "azure-virtualmachineimages-template-distribute-gallery",
        "azure-virtualmachineimages-template-source-pinned",
        "azure-virtualmachineimages-template-private-subnet",
        _AZ_TAGS,
    ),
    "azure-native:virtualmachineimages:Trigger": _r(
        "starts builds of a template (judged as VirtualMachineImageTemplate); it creates nothing itself"
    ),
    "azure-native:compute:Snapshot": _r(
        "a disk snapshot inside the subscription; images made from it are judged as Image/GalleryImageVersion"
    ),
    "azure-native:compute:RestorePoint": _r(
        "a VM backup point inside the subscription, not a distributable image"
    ),
    "azure-native:compute:RestorePointCollection": _r("a container of VM restore points, not an image"),
    "azure-native:compute:GalleryApplication": _r("an application package in a gallery, not a machine image"),
    "azure-native:compute:GalleryApplicationVersion": _r(
        "an application package version, not a machine image"
    ),
    "azure-native:compute:GalleryScript": _r("a script in a gallery, not a machine image"),
    "azure-native:compute:GalleryScriptVersion": _r("a script version in a gallery, not a machine image"),
    "azure-native:compute:GalleryInVMAccessControlProfile": _r(
        "an in-VM access control profile, not an image"
    ),
    "azure-native:compute:GalleryInVMAccessControlProfileVersion": _r("an access control profile version"),
    "azure-native:devcenter:Gallery": _r(
        "attaches an existing compute gallery (judged) to a Dev Center; it shares nothing outside the tenant"
    ),
    "azure-native:awsconnector:Ec2Image": _r("a read-only inventory record of an AWS image, not an image"),
    "azure-native:awsconnector:Ec2Snapshot": _r(
        "a read-only inventory record of an AWS snapshot, not an image"
    ),
    "azure-native:awsconnector:EcrImageDetail": _r("a read-only inventory record of a container image"),
    "azure-native:awsconnector:RdsDbSnapshot": _r("a read-only inventory record of a database snapshot"),
    "azure-native:awsconnector:RdsDbSnapshotAttributesResult": _r("a read-only inventory record"),
    "azure-native:azuresphere:Image": _r("an Azure Sphere device firmware image, not a machine image"),
    "azure-native:azurestackhci:GalleryImage": _r(
        "an on-premises Azure Stack HCI image, not in a public cloud"
    ),
    "azure-native:azurestackhci:MarketplaceGalleryImage": _r(
        "an on-premises Azure Stack HCI marketplace download"
    ),
    "azure-native:azurestackhci:Snapshot": _r("an on-premises Azure Stack HCI snapshot"),
    "azure-native:containerservice:ManagedClusterSnapshot": _r("an AKS cluster configuration snapshot"),
    "azure-native:containerservice:Snapshot": _r("an AKS node-pool configuration snapshot, not a disk image"),
    "azure-native:containerstorage:Snapshot": _r(_DB),
    "azure-native:elasticsan:VolumeSnapshot": _r(_DB),
    "azure-native:fileshares:FileShareSnapshot": _r(_DB),
    "azure-native:netapp:CapacityPoolSnapshot": _r(_DB),
    "azure-native:netapp:ElasticSnapshot": _r(_DB),
    "azure-native:netapp:ElasticSnapshotPolicy": _r(_DB),
    "azure-native:netapp:SnapshotPolicy": _r(_DB),
    "azure-native:kusto:SandboxCustomImage": _r("a Kusto sandbox language image, not a machine image"),
    "azure-native:testbase:CustomImage": _r("a Test Base VHD registration inside the Test Base service"),
    "azure-native:testbase:ImageDefinition": _r("a Test Base image definition inside the Test Base service"),
    "azure-native:devtestlab:CustomImage": _r(
        "a DevTest Labs image private to the lab; labs cannot share it outside the subscription"
    ),
    # --- Azure classic (not installed; see module docstring) ------------------------------------------------------
    "azure:compute/sharedImageGallery:SharedImageGallery": _p(
        "azure-compute-gallery-not-community", _AZ_TAGS
    ),
    "azure:compute/sharedImage:SharedImage": _r("an image definition (metadata only); versions are judged"),
    "azure:compute/sharedImageVersion:SharedImageVersion": _p(
        "azure-compute-sharedimageversion-disk-encryption-set", _AZ_TAGS
    ),
    "azure:compute/image:Image": _p("azure-compute-image-disk-encryption-set"),
    "azure:compute/snapshot:Snapshot": _r(
        "a disk snapshot inside the subscription; images made from it are judged as Image/SharedImageVersion"
    ),
    "azure:compute/managedDiskSasToken:ManagedDiskSasToken": _r(
        "exports a managed disk, not an image; disks are outside the image pack (noted as a gap in the README)"
    ),
    # --- GCP -----------------------------------------------------------------------------------------------------
    "gcp:compute/image:Image": _p(
        "gcp-compute-image-cmek",
        "gcp-compute-image-source-pinned",
        "gcp-compute-image-required-labels",
        "gcp-compute-image-labels-valid",
    ),
    "gcp:compute/machineImage:MachineImage": _p("gcp-compute-machineimage-cmek"),
    "gcp:compute/snapshot:Snapshot": _p("gcp-compute-snapshot-cmek"),
    "gcp:compute/instantSnapshot:InstantSnapshot": _r(
        "a zonal point-in-time copy with the source disk's key (no encryption input); shared only through its "
        "IAM, which is judged"
    ),
    "gcp:compute/regionInstantSnapshot:RegionInstantSnapshot": _r(
        "a regional point-in-time copy with the source disk's key (no encryption input); shared only through its "
        "IAM, which is judged"
    ),
    "gcp:compute/instanceFromMachineImage:InstanceFromMachineImage": _r(
        "launches an instance; creates no image"
    ),
    "gcp:filestore/snapshot:Snapshot": _r(_DB),
    "gcp:netapp/volumeSnapshot:VolumeSnapshot": _r(_DB),
    "gcp:compute/snapshotSettings:SnapshotSettings": _r("snapshot storage location defaults, not sharing"),
    "gcp:compute/snapshotRecycleBinPolicy:SnapshotRecycleBinPolicy": _r("snapshot retention, not sharing"),
    "gcp:compute/organizationSnapshotRecycleBinPolicy:OrganizationSnapshotRecycleBinPolicy": _r(
        "snapshot retention, not sharing"
    ),
    **{
        f"gcp:compute/{target}Iam{kind}:{target[0].upper()}{target[1:]}Iam{kind}": _p(_GCP_IAM)
        for target in ("image", "machineImage", "snapshot", "instantSnapshot", "regionInstantSnapshot")
        for kind in ("Binding", "Member", "Policy")
    },
    **{
        f"gcp:{scope}/iAM{kind}:IAM{kind}": _p(_GCP_IAM)
        for scope in ("projects", "folder", "organizations")
        for kind in ("Binding", "Member", "Policy")
    },
    # --- Proxmox VE ----------------------------------------------------------------------------------------------
    "proxmoxve:index/vmLegacy:VmLegacy": _p(*_PX),
    "proxmoxve:index/vm:Vm": _p(*_PX),
    "proxmoxve:index/vm2Legacy:Vm2Legacy": _p(*_PX),
    "proxmoxve:cloned/vm:Vm": _p(*_PX),
    "proxmoxve:cloned/vmLegacy:VmLegacy": _p(*_PX),
    "proxmoxve:index/containerLegacy:ContainerLegacy": _p(*_PX),
    "proxmoxve:download/file:File": _r(
        "downloads a public base image or ISO onto a datastore; it is an input, not a golden image"
    ),
    "proxmoxve:download/fileLegacy:FileLegacy": _r(
        "downloads a public base image or ISO onto a datastore; it is an input, not a golden image"
    ),
    "proxmoxve:oci/image:Image": _r("pulls an OCI container image for LXC; not a machine image"),
    "proxmoxve:oci/imageLegacy:ImageLegacy": _r("pulls an OCI container image for LXC; not a machine image"),
    "proxmoxve:backup/job:Job": _r(
        "schedules vzdump backups to a storage the cluster already defines; it shares nothing outside the cluster"
    ),
}
