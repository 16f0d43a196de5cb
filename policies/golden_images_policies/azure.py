"""Azure Compute Gallery and VM Image Builder: disk encryption sets, no community sharing, pinned sources,
gallery version names, tags, private build subnets."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Final

from golden_images.common.rules import is_floating_reference, is_gallery_version_name

from . import tagging
from .base import Ctx, resource_policy
from .props import UNKNOWN, text

GALLERY: Final = "azure-native:compute:Gallery"
GALLERY_IMAGE: Final = "azure-native:compute:GalleryImage"
GALLERY_IMAGE_VERSION: Final = "azure-native:compute:GalleryImageVersion"
TEMPLATE: Final = "azure-native:virtualmachineimages:VirtualMachineImageTemplate"
_PUBLIC_PERMISSIONS: Final = frozenset({"community", "groups"})


def _des(ctx: Ctx) -> Iterable[str]:
    props = ctx.props
    regions = props("publishingProfile", "targetRegions")
    if regions is UNKNOWN:
        return
    entries = props.items(regions)
    if not entries:
        yield (
            f"{ctx.label} lists no publishingProfile.targetRegions, so its replicas use platform-managed keys; "
            f"list every target region with encryption.osDiskImage.diskEncryptionSetId."
        )
    for index, region in enumerate(entries):
        if region is UNKNOWN:
            continue
        name = props.get(region, "name")
        where = f"target region '{name}'" if isinstance(name, str) else f"target region #{index + 1}"
        encryption = props.get(region, "encryption")
        des = props.get(encryption, "osDiskImage", "diskEncryptionSetId")
        if des is not UNKNOWN and text(des) is None:
            yield (
                f"{ctx.label} does not encrypt the OS disk in {where} with a disk encryption set; set "
                f"encryption.osDiskImage.diskEncryptionSetId to a DES in that region (a DES is regional)."
            )
        for disk in props.items(props.get(encryption, "dataDiskImages")):
            des = props.get(disk, "diskEncryptionSetId")
            if des is not UNKNOWN and text(des) is None:
                lun = props.get(disk, "lun")
                yield (
                    f"{ctx.label} does not encrypt data disk LUN {lun!r} in {where} with a disk encryption "
                    f"set; set its diskEncryptionSetId."
                )


def _not_community(ctx: Ctx) -> Iterable[str]:
    props = ctx.props
    profile = props("sharingProfile")
    for permission in props.strings(props.get(profile, "permissions")):
        if isinstance(permission, str) and permission.strip().lower() in _PUBLIC_PERMISSIONS:
            yield (
                f"{ctx.label} is shared with sharingProfile.permissions '{permission}'; keep galleries "
                f"'Private' and grant access with RBAC to allow-listed principals."
            )
    community = props.get(profile, "communityGalleryInfo")
    if community is not None and community is not UNKNOWN:
        yield (
            f"{ctx.label} publishes a community gallery (communityGalleryInfo is set); remove it so images are "
            f"not public."
        )


def _version_name(ctx: Ctx) -> Iterable[str]:
    name = ctx.props("galleryImageVersionName")
    if name is UNKNOWN or name is None or is_gallery_version_name(name):
        # Absent: Pulumi auto-names the version from the resource name, which is then checked instead.
        if name is None and not is_gallery_version_name(ctx.name):
            yield (
                f"{ctx.label} has no galleryImageVersionName and its resource name is not int.int.int; set "
                f"galleryImageVersionName to the image version (for example 1.4.2)."
            )
        return
    yield (
        f"{ctx.label} is named {name!r}, but gallery image versions must be int.int.int (32-bit parts, no "
        f"suffix); set galleryImageVersionName to the image version, for example 1.4.2."
    )


def _version_source(ctx: Ctx) -> Iterable[str]:
    source = ctx.props("storageProfile", "source", "id")
    if is_floating_reference(source):
        yield (
            f"{ctx.label} is created from the floating source '{source}'; point storageProfile.source.id at an "
            f"exact image version."
        )


def _template_source(ctx: Ctx) -> Iterable[str]:
    props = ctx.props
    source = props("source")
    version = props.get(source, "version")
    if is_floating_reference(version):
        yield (
            f"{ctx.label} builds from platform image version '{version}'; pin source.version to an exact "
            f"marketplace image version."
        )
    image_version = props.get(source, "imageVersionId")
    if is_floating_reference(image_version):
        yield (
            f"{ctx.label} builds from the floating gallery image '{image_version}'; pin source.imageVersionId "
            f"to an exact version."
        )


def _private_subnet(ctx: Ctx) -> Iterable[str]:
    subnet = ctx.props("vmProfile", "vnetConfig", "subnetId")
    if subnet is UNKNOWN or text(subnet) is not None:
        return
    yield (
        f"{ctx.label} builds on a VM with a public IP in an AIB-managed network; set "
        f"vmProfile.vnetConfig.subnetId to a private subnet."
    )


def _tags(ctx: Ctx) -> Iterable[str]:
    yield from tagging.map_problems(ctx, ctx.props("tags"))


POLICIES = [
    resource_policy(
        name="azure-compute-galleryimageversion-disk-encryption-set",
        description="Azure gallery image versions encrypt every target region with a disk encryption set.",
        concern="encryption",
        severity="critical",
        types=(GALLERY_IMAGE_VERSION,),
        check=_des,
        remediation=(
            "List every replica region in publishingProfile.targetRegions with encryption.osDiskImage."
            "diskEncryptionSetId (and dataDiskImages[].diskEncryptionSetId) set to a DES in that region."
        ),
        extra_tags=("azure", "compute"),
    ),
    resource_policy(
        name="azure-compute-gallery-not-community",
        description="Azure compute galleries are not shared with Community or Groups.",
        concern="sharing",
        severity="critical",
        types=(GALLERY,),
        check=_not_community,
        remediation="Remove Community/Groups sharingProfile permissions and communityGalleryInfo.",
        extra_tags=("azure", "compute"),
    ),
    resource_policy(
        name="azure-compute-galleryimageversion-name-format",
        description="Azure gallery image version names are int.int.int.",
        concern="version",
        severity="medium",
        types=(GALLERY_IMAGE_VERSION,),
        check=_version_name,
        remediation="Set galleryImageVersionName to MAJOR.MINOR.PATCH with 32-bit integer parts.",
        extra_tags=("azure", "compute"),
    ),
    resource_policy(
        name="azure-compute-galleryimageversion-source-pinned",
        description="In prod, Azure gallery image versions are created from an exact source version.",
        concern="version",
        severity="high",
        types=(GALLERY_IMAGE_VERSION,),
        check=_version_source,
        remediation="Point storageProfile.source.id at an exact image version, never .../versions/latest.",
        prod_only=True,
        extra_tags=("azure", "compute"),
    ),
    resource_policy(
        name="azure-virtualmachineimages-template-source-pinned",
        description="In prod, Azure VM Image Builder templates build from a pinned source image version.",
        concern="version",
        severity="high",
        types=(TEMPLATE,),
        check=_template_source,
        remediation="Set source.version (PlatformImage) or source.imageVersionId to an exact version.",
        prod_only=True,
        extra_tags=("azure", "virtualmachineimages"),
    ),
    resource_policy(
        name="azure-virtualmachineimages-template-private-subnet",
        description="In prod, Azure VM Image Builder build VMs run on a private subnet.",
        concern="hygiene",
        severity="high",
        types=(TEMPLATE,),
        check=_private_subnet,
        remediation="Set vmProfile.vnetConfig.subnetId to a private subnet the AIB identity may join.",
        prod_only=True,
        extra_tags=("azure", "virtualmachineimages"),
    ),
    resource_policy(
        name="azure-compute-image-required-tags",
        description="Azure galleries, image definitions, image versions and AIB templates carry the required tags.",
        concern="tagging",
        severity="medium",
        types=(GALLERY, GALLERY_IMAGE, GALLERY_IMAGE_VERSION, TEMPLATE),
        check=_tags,
        remediation="Tag the resource with owner, cost-center, environment, managed-by, golden-image, image-version.",
        config=tagging.TAG_CONFIG,
        extra_tags=("azure",),
    ),
]
