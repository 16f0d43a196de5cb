"""The ``azure`` section of a catalog image: how Azure VM Image Builder (AIB) bakes it and how it is published
in an Azure Compute Gallery.

Every image gets its own gallery (``<gallery_prefix>_<env>_<image>``) so the build identity's custom role can
be scoped to exactly one gallery, and two images never fight over one Azure resource. With
``disk_encryption_sets`` the published version is a ``GalleryImageVersion`` copied from the build output with
a disk encryption set (DES) in every target region; without them AIB publishes directly with platform-managed
keys. See ``docs/azure.md``.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, ClassVar, Literal

from pydantic import Field, ValidationInfo, field_validator, model_validator
from pydantic_core import PydanticCustomError

from golden_images.core import rules
from golden_images.core.base import CatalogModel, NonEmptyStr, context_value, require_exactly_one
from golden_images.core.image import GoldenParent, LayeredSection

#: Azure Compute Gallery names: 1-80 characters. The gallery is ``<prefix>_<env>_<image>``; env ≤ 7
#: (``staging``) and image ≤ 40 characters leave 31 for the prefix.
MAX_GALLERY_NAME = 80
MAX_GALLERY_PREFIX = MAX_GALLERY_NAME - len("_staging_") - 40

_GUID = r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"
# Resource group names: 1-90 of letters, digits, '-', '_', '.', '(' and ')', not ending with '.'.
_RG = r"[-\w.()]{0,89}[-\w()]"
_ARM_NAME = r"[A-Za-z0-9][A-Za-z0-9_.-]{0,79}"
_SUBSCRIPTION = re.compile(rf"^{_GUID}$")
_REGION = re.compile(r"^[a-z][a-z0-9]{2,39}$")
_DES_ID = re.compile(
    rf"^/subscriptions/{_GUID}/resourceGroups/{_RG}/providers/Microsoft\.Compute/diskEncryptionSets/{_ARM_NAME}$",
    re.IGNORECASE,
)
_SUBNET_ID = re.compile(
    rf"^(?P<vnet>/subscriptions/{_GUID}/resourceGroups/(?P<rg>{_RG})/providers/Microsoft\.Network/"
    rf"virtualNetworks/{_ARM_NAME})/subnets/{_ARM_NAME}$",
    re.IGNORECASE,
)
_GALLERY_VERSION_ID = re.compile(
    rf"^(?P<gallery>/subscriptions/{_GUID}/resourceGroups/{_RG}/providers/Microsoft\.Compute/galleries/"
    rf"[A-Za-z0-9][A-Za-z0-9_.]{{0,79}})/images/{_ARM_NAME}/versions/(?P<version>[^/]+)$",
    re.IGNORECASE,
)
# Marketplace image versions are Major.Minor.Build (Canonical: 24.04.202411030); 'latest' is refused.
_MARKETPLACE_VERSION = re.compile(r"^\d{1,10}\.\d{1,10}\.\d{1,20}$")
_VM_SIZE = r"^(Standard|Basic)_[A-Za-z0-9_]{1,60}$"
_IDENTIFIER = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$"

SecurityType = Literal[
    "Standard",
    "TrustedLaunchSupported",
    "TrustedLaunch",
    "ConfidentialVMSupported",
    "ConfidentialVM",
    "TrustedLaunchAndConfidentialVmSupported",
]
StorageAccountType = Literal["Standard_LRS", "Standard_ZRS", "Premium_LRS"]


def is_azure_region(value: Any) -> bool:
    """True for an Azure region name as ARM spells it (``westeurope``, ``eastus2``), not a display name."""
    return isinstance(value, str) and _REGION.fullmatch(value) is not None


#: Gallery version names (``int.int.int``, 32-bit parts): the rule lives once, in :mod:`golden_images.core.rules`.
is_gallery_version_int32 = rules.is_gallery_version_name


def subnet_vnet(subnet_id: str) -> tuple[str, str]:
    """``(virtual network id, resource group name)`` of a subnet id (already validated)."""
    m = _SUBNET_ID.fullmatch(subnet_id)
    assert m is not None
    return m.group("vnet"), m.group("rg")


def source_gallery(version_id: str) -> str:
    """The gallery id of a gallery image version id (already validated)."""
    m = _GALLERY_VERSION_ID.fullmatch(version_id)
    assert m is not None
    return m.group("gallery")


def _region(value: str) -> str:
    if not is_azure_region(value):
        raise ValueError(
            f"{value!r} is not an Azure region name; use the lowercase ARM name such as 'westeurope' or "
            "'eastus2' (not the display name 'West Europe')"
        )
    return value


class AzureReplica(CatalogModel):
    """One replication (target) region of the published version: ``region``, ``replica_count`` (default 1,
    1-100) and ``storage_account_type`` (default ``Standard_ZRS``; ``Standard_LRS`` or ``Premium_LRS``)."""

    region: str
    replica_count: Annotated[int, Field(ge=1, le=100)] = 1
    storage_account_type: StorageAccountType = "Standard_ZRS"

    @field_validator("region")
    @classmethod
    def _region(cls, value: str) -> str:
        return _region(value)


class AzureMarketplaceSource(CatalogModel):
    """A marketplace (platform) image with an **exact** version, e.g. Canonical ``ubuntu-24_04-lts``
    ``server`` ``24.04.202411030``."""

    publisher: Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$")]
    offer: Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$")]
    sku: Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$")]
    version: str

    @field_validator("version")
    @classmethod
    def _exact(cls, value: str) -> str:
        if not _MARKETPLACE_VERSION.fullmatch(value):
            raise ValueError(
                f"{value!r} is not an exact marketplace image version; write Major.Minor.Build such as "
                "'24.04.202411030' ('latest' would rebuild from whatever the marketplace serves that day)"
            )
        return value


class AzureSource(CatalogModel):
    """The base image: exactly one of ``marketplace`` (publisher/offer/sku/version) or
    ``gallery_image_version_id`` (the ARM id of an exact gallery image version, never ``.../versions/latest``)."""

    marketplace: AzureMarketplaceSource | None = None
    gallery_image_version_id: str | None = None

    @field_validator("gallery_image_version_id")
    @classmethod
    def _version_id(cls, value: str | None) -> str | None:
        if value is None:
            return None
        m = _GALLERY_VERSION_ID.fullmatch(value)
        if m is None:
            raise ValueError(
                f"{value!r} is not a gallery image version id; write /subscriptions/<guid>/resourceGroups/<rg>/"
                "providers/Microsoft.Compute/galleries/<gallery>/images/<definition>/versions/<int.int.int>"
            )
        if not is_gallery_version_int32(m.group("version")):
            raise ValueError(
                f"the source version {m.group('version')!r} is not an exact int.int.int version; pin one "
                "version such as 1.4.2 ('latest' moves under the build)"
            )
        return value

    @model_validator(mode="after")
    def _exactly_one(self) -> AzureSource:
        require_exactly_one(
            self,
            ("marketplace", "gallery_image_version_id"),
            "azure_source_choice",
            "set exactly one of marketplace or gallery_image_version_id (got {given})",
        )
        return self

    def reference(self) -> str:
        """A one-line reference for the version record: ``publisher:offer:sku:version`` or the version id."""
        if self.marketplace is not None:
            m = self.marketplace
            return f"{m.publisher}:{m.offer}:{m.sku}:{m.version}"
        assert self.gallery_image_version_id is not None
        return self.gallery_image_version_id


class AzureResourceGroup(CatalogModel):
    """Where every resource of the image lives. ``create: false`` (default) uses the existing group ``name``;
    ``create: true`` creates ``rg-golden-images-<env>-<image>`` (then ``name`` must be absent, so two images
    never create the same group)."""

    name: Annotated[str, Field(pattern=rf"^{_RG}$")] | None = None
    create: bool = False

    @model_validator(mode="after")
    def _choice(self) -> AzureResourceGroup:
        if self.create and self.name is not None:
            raise PydanticCustomError(
                "azure_rg_choice",
                "with create: true the group is named rg-golden-images-<env>-<image>; remove name, or set "
                "create: false to use the existing group {name!r}",
                {"name": self.name},
            )
        if not self.create and self.name is None:
            raise PydanticCustomError(
                "azure_rg_choice", "set name (an existing resource group) or create: true", {}
            )
        return self


class AzureImageDefinition(CatalogModel):
    """The gallery image definition's identity. ``publisher`` and ``offer`` are required; ``sku`` defaults to
    the image name. ``os_type`` is ``Linux`` (the catalog's OS families are all Linux), ``hyper_v_generation``
    defaults to ``V2``, ``security_type`` to ``TrustedLaunchSupported`` (Trusted Launch and Confidential VM
    types need V2). The architecture is derived from ``os.architecture`` (x86_64 → x64, arm64 → Arm64)."""

    publisher: Annotated[str, Field(pattern=_IDENTIFIER)]
    offer: Annotated[str, Field(pattern=_IDENTIFIER)]
    sku: Annotated[str, Field(pattern=_IDENTIFIER)] | None = None
    os_type: Literal["Linux"] = "Linux"
    hyper_v_generation: Literal["V1", "V2"] = "V2"
    security_type: SecurityType = "TrustedLaunchSupported"

    @model_validator(mode="after")
    def _generation(self) -> AzureImageDefinition:
        if self.security_type != "Standard" and self.hyper_v_generation != "V2":
            raise PydanticCustomError(
                "azure_generation",
                "security_type {security} needs hyper_v_generation V2 (Trusted Launch and Confidential VMs "
                "are Gen2 only); set hyper_v_generation: V2 or security_type: Standard",
                {"security": self.security_type},
            )
        return self


class AzureSpec(LayeredSection, CatalogModel):
    """Azure VM Image Builder + Compute Gallery settings.

    Required: ``subscription_id``, ``resource_group``, ``location`` (where the template, gallery and build run),
    ``replication`` (target regions; must include ``location``), ``source``, ``image_definition``.

    Defaults: ``vm_size`` ``Standard_D2ds_v5``, ``os_disk_size_gb`` 30, no ``subnet_id`` (AIB-managed network
    with a public IP; prod requires a private subnet), ``gallery_prefix`` ``golden_images``, no
    ``disk_encryption_sets`` (platform-managed keys; prod requires one DES per replication region),
    ``build_timeout_minutes`` 240 (60-960), ``bake_on_up: false`` (``pulumi up`` creates the template but
    builds nothing), ``wait_for_build: true`` (a bake waits for the build and publishes in the same
    ``pulumi up``; ``false`` lets AIB auto-run asynchronously — not allowed with disk encryption sets),
    ``keep_failed_build_vm: false`` (clean up after a failed customizer or validation).
    """

    subscription_id: str
    resource_group: AzureResourceGroup
    location: str
    replication: Annotated[tuple[AzureReplica, ...], Field(min_length=1)]
    vendor_source: AzureSource | None = Field(default=None, alias="source")
    """The vendor source (catalog key ``source``); ``None`` for a layered image (``parent``)."""
    parent: GoldenParent | None = None
    """A golden parent (``parent: {image: <catalog image>}``): the child's AIB source is the parent's gallery
    image version (``SharedImageVersion``). Exactly one of ``source`` and ``parent``."""
    image_definition: AzureImageDefinition
    vm_size: Annotated[str, Field(pattern=_VM_SIZE)] = "Standard_D2ds_v5"
    os_disk_size_gb: Annotated[int, Field(ge=30, le=4095)] = 30
    subnet_id: str | None = Field(default=None, validate_default=True)
    gallery_prefix: Annotated[str, Field(pattern=r"^[A-Za-z][A-Za-z0-9_]{0,39}$")] = "golden_images"

    #: The vendor-source field a layered section does not inherit from ``defaults.azure``.
    SOURCE_FIELDS: ClassVar[tuple[str, ...]] = ("source",)

    @model_validator(mode="after")
    def _source_or_parent(self) -> AzureSpec:
        self.check_source_or_parent(self.vendor_source is not None, "azure_source_parent", "source")
        return self

    @property
    def source(self) -> AzureSource:
        """The source; for a layered section only once the component resolved the parent's version."""
        if self.vendor_source is None:
            raise ValueError("a layered azure section has no source until its parent's version is resolved")
        return self.vendor_source

    def vendor_identity(self, pins: Any) -> Any:
        """The source reference, as the fingerprint covers it."""
        return self.source.reference()

    @field_validator("gallery_prefix")
    @classmethod
    def _gallery_prefix_fits(cls, value: str) -> str:
        # <prefix>_<env>_<image> must fit Azure's 80-character gallery names for every environment (≤ 7
        # characters) and image name (≤ 40) the catalog allows.
        if len(value) > MAX_GALLERY_PREFIX:
            raise ValueError(
                f"gallery_prefix {value!r} has {len(value)} characters; at most {MAX_GALLERY_PREFIX} keep the "
                f"gallery name <prefix>_<env>_<image> within Azure's {MAX_GALLERY_NAME} characters"
            )
        return value

    gallery_description: NonEmptyStr | None = None
    disk_encryption_sets: dict[str, str] = Field(default_factory=dict, validate_default=True)
    build_timeout_minutes: Annotated[int, Field(ge=60, le=960)] = 240
    bake_on_up: bool = False
    wait_for_build: bool = Field(default=True, validate_default=True)
    keep_failed_build_vm: bool = False

    @field_validator("subscription_id")
    @classmethod
    def _subscription(cls, value: str) -> str:
        if not _SUBSCRIPTION.fullmatch(value):
            raise ValueError(
                f"{value!r} is not an Azure subscription id (a GUID such as 00000000-0000-0000-0000-000000000000)"
            )
        return value.lower()

    @field_validator("location")
    @classmethod
    def _location(cls, value: str) -> str:
        return _region(value)

    @field_validator("replication")
    @classmethod
    def _replication(
        cls, replicas: tuple[AzureReplica, ...], info: ValidationInfo
    ) -> tuple[AzureReplica, ...]:
        regions = [r.region for r in replicas]
        dupes = sorted({r for r in regions if regions.count(r) > 1})
        if dupes:
            raise ValueError(
                f"region(s) {', '.join(dupes)} listed more than once; list each target region once"
            )
        location = info.data.get("location")
        if location is not None and location not in regions:
            raise ValueError(
                f"replication must include the build location {location!r} (the gallery's home region holds the "
                f"first replica); add {{region: {location}}}"
            )
        return replicas

    @field_validator("subnet_id")
    @classmethod
    def _subnet(cls, value: str | None, info: ValidationInfo) -> str | None:
        if value is None:
            if context_value(info, "environment") == "prod":
                raise ValueError(
                    "prod builds run on a private subnet: set subnet_id (without it the build VM gets a public IP "
                    "in an AIB-managed network)"
                )
            return None
        if not _SUBNET_ID.fullmatch(value):
            raise ValueError(
                f"{value!r} is not a subnet id; write /subscriptions/<guid>/resourceGroups/<rg>/providers/"
                "Microsoft.Network/virtualNetworks/<vnet>/subnets/<subnet>"
            )
        return value

    @field_validator("disk_encryption_sets")
    @classmethod
    def _des(cls, sets: dict[str, str], info: ValidationInfo) -> dict[str, str]:
        replicas = info.data.get("replication")
        regions = [r.region for r in replicas] if replicas is not None else None
        problems: list[str] = []
        for region, des in sets.items():
            if not is_azure_region(region):
                problems.append(f"key {region!r} is not an Azure region name such as 'westeurope'")
            if not _DES_ID.fullmatch(des):
                problems.append(
                    f"{des!r} ({region}) is not a disk encryption set id; write /subscriptions/<guid>/"
                    "resourceGroups/<rg>/providers/Microsoft.Compute/diskEncryptionSets/<name>"
                )
        if not sets:
            if context_value(info, "environment") == "prod":
                listed = f" ({', '.join(regions)})" if regions else ""
                problems.append(
                    "prod needs customer-managed keys: map every replication region to a disk encryption set"
                    + listed
                )
        elif regions is not None:
            missing = [r for r in regions if r not in sets]
            extra = sorted(set(sets) - set(regions))
            if missing:
                problems.append(
                    f"no disk encryption set for replication region(s) {', '.join(missing)}; a DES is regional, "
                    "so every target region needs its own"
                )
            if extra:
                problems.append(f"region(s) {', '.join(extra)} are not replication regions")
        if problems:
            raise ValueError("; ".join(problems))
        return sets

    @field_validator("wait_for_build")
    @classmethod
    def _wait(cls, wait: bool, info: ValidationInfo) -> bool:
        if not wait and info.data.get("bake_on_up") and info.data.get("disk_encryption_sets"):
            raise ValueError(
                "disk_encryption_sets need wait_for_build: true when bake_on_up is true (the encrypted version is "
                "copied from the build output, which must exist first)"
            )
        return wait

    @property
    def uses_cmk(self) -> bool:
        """True when the published version is encrypted with disk encryption sets (customer-managed keys)."""
        return bool(self.disk_encryption_sets)
