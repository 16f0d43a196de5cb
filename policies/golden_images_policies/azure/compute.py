"""Azure Compute Gallery (azure-native and the classic azure provider), managed images and VM Image Builder: disk
encryption sets, no community sharing, gallery-only AIB distribution, pinned sources, gallery version names, tags,
private build subnets. Enum values the pack does not know are refused (fail closed)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Final

from golden_images.core.rules import is_floating_reference, is_gallery_version_name

from .. import tagging
from ..base import Ctx, config_strings
from ..keys import azure_des_problem
from ..props import UNKNOWN, is_mapping, is_sequence, text
from ..registry import resource_policy

GALLERY: Final = "azure-native:compute:Gallery"
GALLERY_IMAGE: Final = "azure-native:compute:GalleryImage"
GALLERY_IMAGE_VERSION: Final = "azure-native:compute:GalleryImageVersion"
TEMPLATE: Final = "azure-native:virtualmachineimages:VirtualMachineImageTemplate"
SHARING_PROFILE: Final = "azure-native:compute:GallerySharingProfile"
IMAGE: Final = "azure-native:compute:Image"
CLASSIC_GALLERY: Final = "azure:compute/sharedImageGallery:SharedImageGallery"
CLASSIC_IMAGE_VERSION: Final = "azure:compute/sharedImageVersion:SharedImageVersion"
CLASSIC_IMAGE: Final = "azure:compute/image:Image"
_PUBLIC_PERMISSIONS: Final = frozenset({"community", "groups"})
_KNOWN_PERMISSIONS: Final = frozenset({"private", *_PUBLIC_PERMISSIONS})

#: Config of the gallery sharing-profile policy. Empty = no direct sharing at all.
AZURE_SHARING_CONFIG: Final[dict[str, Any]] = {
    "allowedSubscriptionIds": {
        "type": "array",
        "items": {"type": "string"},
        "default": [],
        "description": "Azure subscription ids a gallery may be shared with directly.",
    },
    "allowedTenantIds": {
        "type": "array",
        "items": {"type": "string"},
        "default": [],
        "description": "Azure AD tenant ids a gallery may be shared with directly.",
    },
}


def _des_problem(ctx: Ctx, value: Any, what: str, field: str) -> Iterable[str]:
    problem = azure_des_problem(value)
    if problem is not None:
        yield (
            f"{ctx.label} does not encrypt {what} with a customer key ({problem}); set {field} to a disk "
            f"encryption set in that region (a DES is regional)."
        )


def _regions(ctx: Ctx, regions: Any, field: str, required: bool) -> Iterable[tuple[str, Any]]:
    """``(where, entry)`` per target region; ``entry`` is ``None`` when it could not be read, ``"none"`` when a
    required list is empty."""
    props = ctx.props
    if regions is UNKNOWN:
        return
    if regions is not None and not is_sequence(regions):
        yield f"{field} (not a list)", None
        return
    entries = props.items(regions)
    if not entries and required:
        yield "", "none"
    for index, region in enumerate(entries):
        if region is UNKNOWN:
            continue
        name = props.get(region, "name") if is_mapping(region) else None
        where = f"target region '{name}'" if isinstance(name, str) else f"{field}[{index}]"
        yield where, region if is_mapping(region) else None


@resource_policy(
    name="azure-compute-galleryimageversion-disk-encryption-set",
    description="Azure gallery image versions encrypt every target region with a disk encryption set.",
    concern="encryption",
    severity="critical",
    types=(GALLERY_IMAGE_VERSION,),
    remediation=(
        "List every replica region in publishingProfile.targetRegions with encryption.osDiskImage."
        "diskEncryptionSetId (and dataDiskImages[].diskEncryptionSetId) set to a DES in that region."
    ),
    extra_tags=("azure", "compute"),
)
def _des(ctx: Ctx) -> Iterable[str]:
    props = ctx.props
    profile = props("publishingProfile")
    for field, required in (("targetRegions", True), ("targetExtendedLocations", False)):
        for where, region in _regions(ctx, props.get(profile, field), f"publishingProfile.{field}", required):
            if region == "none":
                yield (
                    f"{ctx.label} lists no publishingProfile.targetRegions, so its replicas use platform-managed "
                    f"keys; list every target region with encryption.osDiskImage.diskEncryptionSetId."
                )
                continue
            if region is None:
                yield f"{ctx.label} has a {where} entry that could not be read (it is not an object); fix it."
                continue
            encryption = props.get(region, "encryption")
            if encryption is UNKNOWN:
                continue
            yield from _des_problem(
                ctx,
                props.get(encryption, "osDiskImage", "diskEncryptionSetId"),
                f"the OS disk in {where}",
                "encryption.osDiskImage.diskEncryptionSetId",
            )
            for disk in props.items(props.get(encryption, "dataDiskImages")):
                if disk is UNKNOWN:
                    continue
                lun = props.get(disk, "lun")
                yield from _des_problem(
                    ctx,
                    props.get(disk, "diskEncryptionSetId"),
                    f"data disk LUN {lun!r} in {where}",
                    "its diskEncryptionSetId",
                )


@resource_policy(
    name="azure-compute-sharedimageversion-disk-encryption-set",
    description="Classic-provider shared image versions encrypt every target region with a disk encryption set.",
    concern="encryption",
    severity="critical",
    types=(CLASSIC_IMAGE_VERSION,),
    remediation="Set targetRegions[].diskEncryptionSetId for every region to a DES in that region.",
    extra_tags=("azure", "compute"),
)
def _classic_des(ctx: Ctx) -> Iterable[str]:
    props = ctx.props
    for where, region in _regions(ctx, props("targetRegions"), "targetRegions", True):
        if region == "none":
            yield (
                f"{ctx.label} lists no targetRegions, so its replicas use platform-managed keys; list every target "
                f"region with diskEncryptionSetId."
            )
        elif region is None:
            yield f"{ctx.label} has a {where} entry that could not be read (it is not an object); fix it."
        else:
            yield from _des_problem(
                ctx, props.get(region, "diskEncryptionSetId"), where, "diskEncryptionSetId"
            )


@resource_policy(
    name="azure-compute-image-disk-encryption-set",
    description="Azure managed images encrypt their OS and data disks with a disk encryption set.",
    concern="encryption",
    severity="critical",
    types=(IMAGE, CLASSIC_IMAGE),
    remediation=(
        "Set the OS disk's and every data disk's disk encryption set (azure-native: diskEncryptionSet.id; "
        "classic: diskEncryptionSetId), or publish to a gallery image version instead."
    ),
    extra_tags=("azure", "compute"),
)
def _image_des(ctx: Ctx) -> Iterable[str]:
    props = ctx.props
    if ctx.type == IMAGE:
        storage = props("storageProfile")
        os_disk = props.get(storage, "osDisk")
        data_disks = props.get(storage, "dataDisks")
        if os_disk is not UNKNOWN:
            yield from _des_problem(
                ctx,
                props.get(os_disk, "diskEncryptionSet", "id"),
                "its OS disk",
                "storageProfile.osDisk.diskEncryptionSet.id",
            )
        des_path: tuple[str, ...] = ("diskEncryptionSet", "id")
    else:
        os_disk = props("osDisk")
        data_disks = props("dataDisks")
        if os_disk is not UNKNOWN:
            yield from _des_problem(
                ctx, props.get(os_disk, "diskEncryptionSetId"), "its OS disk", "osDisk.diskEncryptionSetId"
            )
        des_path = ("diskEncryptionSetId",)
    for disk in props.items(data_disks):
        if disk is UNKNOWN:
            continue
        lun = props.get(disk, "lun")
        yield from _des_problem(ctx, props.get(disk, *des_path), f"data disk LUN {lun!r}", ".".join(des_path))


def _permissions(ctx: Ctx, value: Any, field: str) -> Iterable[str]:
    props = ctx.props
    for permission in [value] if isinstance(value, str) else props.items(value):
        if permission is UNKNOWN or permission is None:
            continue
        normal = permission.strip().lower() if isinstance(permission, str) else None
        if normal in _PUBLIC_PERMISSIONS:
            yield (
                f"{ctx.label} is shared with {field} '{permission}'; keep galleries 'Private' and grant access "
                f"with RBAC to allow-listed principals."
            )
        elif normal not in _KNOWN_PERMISSIONS:
            yield (
                f"{ctx.label} sets {field} to {permission!r}, which could not be read as Private, Groups or "
                f"Community; set it to 'Private'."
            )


@resource_policy(
    name="azure-compute-gallery-not-community",
    description="Azure compute galleries are not shared with Community or Groups.",
    concern="sharing",
    severity="critical",
    types=(GALLERY, CLASSIC_GALLERY),
    remediation=(
        "Remove Community/Groups sharingProfile permissions and communityGalleryInfo (classic provider: "
        "sharing.permission and sharing.communityGallery)."
    ),
    extra_tags=("azure", "compute"),
)
def _not_community(ctx: Ctx) -> Iterable[str]:
    props = ctx.props
    if ctx.type == CLASSIC_GALLERY:
        sharing = props("sharing")
        yield from _permissions(ctx, props.get(sharing, "permission"), "sharing.permission")
        community = props.get(sharing, "communityGallery")
        field = "sharing.communityGallery"
    else:
        profile = props("sharingProfile")
        yield from _permissions(ctx, props.get(profile, "permissions"), "sharingProfile.permissions")
        community = props.get(profile, "communityGalleryInfo")
        field = "communityGalleryInfo"
    if community is not None and community is not UNKNOWN:
        yield f"{ctx.label} publishes a community gallery ({field} is set); remove it so images are not public."


_SHARING_OPERATIONS: Final = frozenset({"add", "remove", "reset", "enablecommunity"})


@resource_policy(
    name="azure-compute-gallerysharingprofile-allowed-targets",
    description="Gallery sharing profiles never enable community sharing and share only with allow-listed ids.",
    concern="sharing",
    severity="critical",
    types=(SHARING_PROFILE,),
    remediation="Remove EnableCommunity; add only allowedSubscriptionIds / allowedTenantIds to the share.",
    config=AZURE_SHARING_CONFIG,
    extra_tags=("azure", "compute"),
)
def _sharing_profile(ctx: Ctx) -> Iterable[str]:
    props = ctx.props
    update = props("sharingUpdate")
    root = update if is_mapping(update) else props.root
    operation = props.get(root, "operationType")
    if operation is UNKNOWN:
        return
    normal = operation.strip().lower() if isinstance(operation, str) else None
    if normal == "enablecommunity":
        yield (
            f"{ctx.label} enables community sharing (operationType '{operation}'), which makes every image in "
            f"the gallery public; remove it and share with allow-listed subscriptions or tenants."
        )
        return
    if normal not in _SHARING_OPERATIONS:
        yield (
            f"{ctx.label} has operationType {operation!r}, which could not be read as Add, Remove, Reset or "
            f"EnableCommunity; set a known operation."
        )
        return
    if normal != "add":
        return
    for group in props.items(props.get(root, "groups")):
        if group is UNKNOWN:
            continue
        kind = props.get(group, "type")
        if kind is UNKNOWN:
            continue
        key = {"subscriptions": "allowedSubscriptionIds", "aadtenants": "allowedTenantIds"}.get(
            kind.strip().lower() if isinstance(kind, str) else ""
        )
        if key is None:
            yield (
                f"{ctx.label} shares with a group of type {kind!r}, which could not be read as Subscriptions or "
                f"AADTenants; fix the group type."
            )
            continue
        allowed = config_strings(ctx.config, key)
        for target in props.items(props.get(group, "ids")):
            if target is UNKNOWN or (isinstance(target, str) and target in allowed):
                continue
            yield (
                f"{ctx.label} shares the gallery with {kind} id {target!r}, which is not on the {key} allow-list; "
                f"remove it or add it to the policy config."
            )


#: AIB distribution types and whether they keep the image in a gallery (where DES rules apply).
_AIB_TYPES: Final = {"sharedimage": True, "vhd": False, "managedimage": False}


@resource_policy(
    name="azure-virtualmachineimages-template-distribute-gallery",
    description="Azure VM Image Builder distributes only to compute gallery images (no VHD, no managed image).",
    concern="sharing",
    severity="critical",
    types=(TEMPLATE,),
    remediation="Use distribute entries of type 'SharedImage' only.",
    extra_tags=("azure", "virtualmachineimages"),
)
def _aib_distribute(ctx: Ctx) -> Iterable[str]:
    props = ctx.props
    distribute = props("distribute")
    if distribute is UNKNOWN or distribute is None:
        return
    if not is_sequence(distribute):
        yield f"{ctx.label} has a distribute value that could not be read (not a list); distribute to SharedImage."
        return
    for index, target in enumerate(props.items(distribute)):
        if target is UNKNOWN:
            continue
        kind = props.get(target, "type")
        if kind is UNKNOWN:
            continue
        gallery = _AIB_TYPES.get(kind.strip().lower()) if isinstance(kind, str) else None
        if gallery is True:
            continue
        if gallery is False:
            yield (
                f"{ctx.label} distributes the image as '{kind}' (distribute[{index}]), outside a compute gallery: "
                f"a VHD is a blob anyone with its SAS URL can copy and a managed image carries no disk "
                f"encryption set; distribute with type 'SharedImage' to a gallery image only."
            )
        else:
            yield (
                f"{ctx.label} has distribute[{index}] type {kind!r}, which could not be read as SharedImage, VHD or "
                f"ManagedImage; distribute with type 'SharedImage'."
            )


@resource_policy(
    name="azure-compute-galleryimageversion-name-format",
    description="Azure gallery image version names are int.int.int.",
    concern="version",
    severity="medium",
    types=(GALLERY_IMAGE_VERSION,),
    remediation="Set galleryImageVersionName to MAJOR.MINOR.PATCH with 32-bit integer parts.",
    extra_tags=("azure", "compute"),
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


@resource_policy(
    name="azure-compute-galleryimageversion-source-pinned",
    description="In prod, Azure gallery image versions are created from an exact source version.",
    concern="version",
    severity="high",
    types=(GALLERY_IMAGE_VERSION,),
    remediation="Point storageProfile.source.id at an exact image version, never .../versions/latest.",
    prod_only=True,
    extra_tags=("azure", "compute"),
)
def _version_source(ctx: Ctx) -> Iterable[str]:
    source = ctx.props("storageProfile", "source", "id")
    if is_floating_reference(source):
        yield (
            f"{ctx.label} is created from the floating source '{source}'; point storageProfile.source.id at an "
            f"exact image version."
        )


@resource_policy(
    name="azure-virtualmachineimages-template-source-pinned",
    description="In prod, Azure VM Image Builder templates build from a pinned source image version.",
    concern="version",
    severity="high",
    types=(TEMPLATE,),
    remediation="Set source.version (PlatformImage) or source.imageVersionId to an exact version.",
    prod_only=True,
    extra_tags=("azure", "virtualmachineimages"),
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


@resource_policy(
    name="azure-virtualmachineimages-template-private-subnet",
    description="In prod, Azure VM Image Builder build VMs run on a private subnet.",
    concern="hygiene",
    severity="high",
    types=(TEMPLATE,),
    remediation="Set vmProfile.vnetConfig.subnetId to a private subnet the AIB identity may join.",
    prod_only=True,
    extra_tags=("azure", "virtualmachineimages"),
)
def _private_subnet(ctx: Ctx) -> Iterable[str]:
    subnet = ctx.props("vmProfile", "vnetConfig", "subnetId")
    if subnet is UNKNOWN or text(subnet) is not None:
        return
    yield (
        f"{ctx.label} builds on a VM with a public IP in an AIB-managed network; set "
        f"vmProfile.vnetConfig.subnetId to a private subnet."
    )


@resource_policy(
    name="azure-compute-image-required-tags",
    description="Azure galleries, image definitions, image versions and AIB templates carry the required tags.",
    concern="tagging",
    severity="medium",
    types=(
        GALLERY,
        GALLERY_IMAGE,
        GALLERY_IMAGE_VERSION,
        TEMPLATE,
        IMAGE,
        CLASSIC_GALLERY,
        CLASSIC_IMAGE_VERSION,
    ),
    remediation="Tag the resource with owner, cost-center, environment, managed-by, golden-image, image-version.",
    config=tagging.TAG_CONFIG,
    extra_tags=("azure",),
)
def _tags(ctx: Ctx) -> Iterable[str]:
    yield from tagging.map_problems(ctx, ctx.props("tags"))
