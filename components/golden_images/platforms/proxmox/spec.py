"""The ``proxmox`` section of a catalog image: where and how a Proxmox VE golden template is baked.

A template is *baked*: a builder VM boots the pinned cloud image once, runs the spec's provisioning through
cloud-init, powers itself off, and only then is converted into a template (see
:mod:`golden_images.platforms.proxmox.component`). Every field is documented on :class:`ProxmoxSpec`.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, ClassVar, Literal

from pydantic import AfterValidator, Field, ValidationInfo, field_validator, model_validator
from pydantic_core import PydanticCustomError

from golden_images.core.base import CatalogModel, NonEmptyStr, context_value
from golden_images.core.image import GoldenParent, LayeredSection

#: PVE node names are host names (a single DNS label).
NODE_PATTERN = r"^[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?$"
#: PVE storage identifiers: ``[a-z][a-z0-9\-_.]*`` per pve-storage's ``pve-storage-id`` format (any case).
DATASTORE_PATTERN = r"^[A-Za-z][A-Za-z0-9_.-]{0,99}$"
#: Linux bridges (``vmbr0``) and SDN vnets (≤8 chars), both valid interface names.
BRIDGE_PATTERN = r"^[A-Za-z][A-Za-z0-9_.-]{0,14}$"
#: PVE accepts VM ids 100..999999999.
VMID_MIN = 100
VMID_MAX = 999_999_999
#: Every node needs at least this many ids of the range, so patch releases get distinct ids.
MIN_IDS_PER_NODE = 100
#: URL path segments that name a moving target rather than one build of the cloud image.
_FLOATING_SEGMENTS = frozenset({"current", "latest", "daily", "stable"})
_URL = re.compile(r"^https://[A-Za-z0-9.-]+(:\d+)?/[^\s?#]*[^\s/?#]$")


def _matching(pattern: str, what: str) -> AfterValidator:
    """A validator that refuses text outside ``pattern`` with a message saying what is allowed."""
    compiled = re.compile(pattern)

    def check(value: str) -> str:
        if not compiled.fullmatch(value):
            raise ValueError(f"{value!r} is not {what}")
        return value

    return AfterValidator(check)


DatastoreId = Annotated[
    str,
    _matching(
        DATASTORE_PATTERN, "a PVE storage id (a letter, then up to 99 letters, digits, '_', '.' or '-')"
    ),
]
NodeName = Annotated[
    str,
    _matching(NODE_PATTERN, "a PVE node name (a host name: letters, digits and '-', at most 63 characters)"),
]
VmId = Annotated[int, Field(ge=VMID_MIN, le=VMID_MAX)]
ImageSha256 = Annotated[
    str,
    _matching(r"^[0-9a-f]{64}$", "a sha256 digest (64 lowercase hex digits, as in the release's SHA256SUMS)"),
]
Bridge = Annotated[
    str,
    _matching(
        BRIDGE_PATTERN, "a bridge or vnet name such as vmbr0 (a letter, then up to 14 of [A-Za-z0-9_.-])"
    ),
]
CpuType = Annotated[
    str, _matching(r"^[A-Za-z0-9][A-Za-z0-9_.+-]{0,63}$", "a QEMU CPU type such as x86-64-v2-AES or host")
]
UserName = Annotated[
    str,
    _matching(
        r"^[a-z_][a-z0-9_-]{0,31}$", "a Linux user name such as root (lowercase, at most 32 characters)"
    ),
]


class ProxmoxCloudImage(CatalogModel):
    """The base cloud image, pinned: an ``https`` ``url`` of one specific build (in prod no ``current`` or
    ``latest`` path segment) and its ``sha256``, which PVE verifies after the download. Both required."""

    url: str
    sha256: ImageSha256

    @field_validator("url")
    @classmethod
    def _url(cls, value: str, info: ValidationInfo) -> str:
        if not _URL.fullmatch(value):
            raise ValueError(
                f"{value!r} is not an https URL of an image file (https://host/path/file.img, no query string)"
            )
        floating = sorted(set(value.lower().split("/")[3:]) & _FLOATING_SEGMENTS)
        if floating and context_value(info, "environment") == "prod":
            raise ValueError(
                f"prod needs a dated cloud-image build, but {value!r} points at {floating[0]!r}, which moves; "
                "use a release URL such as https://cloud-images.ubuntu.com/releases/noble/release-20250610/"
                "ubuntu-24.04-server-cloudimg-amd64.img with its sha256"
            )
        return value


class ProxmoxVmIdRange(CatalogModel):
    """The VM ids this image may use, ``start``..``end`` inclusive (100-999999999). The range is split into
    one equal share per node; see :func:`golden_images.platforms.proxmox.layout.template_vm_id` for how a version
    picks its id inside a share."""

    start: VmId
    end: VmId

    @model_validator(mode="after")
    def _ordered(self) -> ProxmoxVmIdRange:
        if self.end < self.start:
            raise PydanticCustomError(
                "vm_id_order",
                "end ({end}) must not be below start ({start})",
                {"end": self.end, "start": self.start},
            )
        return self

    @property
    def size(self) -> int:
        """How many ids the range holds."""
        return self.end - self.start + 1


class ProxmoxEncryptedDatastore(CatalogModel):
    """A datastore the operator attests is encrypted at rest: ``datastore`` id, ``mechanism`` (``luks``,
    ``zfs-native``, ``ceph-osd-encryption``, ``self-encrypting-drive`` or ``other``) and ``evidence`` (where
    the proof lives: a ticket, an audit report, a runbook URL). All required. golden-images cannot verify
    this; it reports the template's encryption as ``attested``."""

    datastore: DatastoreId
    mechanism: Literal["luks", "zfs-native", "ceph-osd-encryption", "self-encrypting-drive", "other"]
    evidence: NonEmptyStr


class ProxmoxSpec(LayeredSection, CatalogModel):
    """Proxmox VE settings. One template per node in ``nodes``, all baked from ``cloud_image``.

    Required: ``nodes``, ``vm_id_range``, ``cloud_image``.

    Defaults: disks, EFI vars, TPM state and the cloud-init drive on ``vm_datastore`` ``local-lvm``; cloud
    image downloaded to ``image_datastore`` ``local`` (needs the ``iso`` content type); user data uploaded
    as a snippet to ``snippets_datastore`` ``local`` (needs the ``snippets`` content type and SSH access of
    the provider to the node, as ``ssh_username`` ``root``); 2 cores of CPU type ``x86-64-v2-AES``, 2048 MiB
    memory, 20 GiB disk; bridge ``vmbr0`` without VLAN; ``uefi: true`` (OVMF, EFI vars with the distribution
    Secure Boot keys pre-enrolled, TPM 2.0); keep the newest 3 templates of the image per node (``retain``);
    no encrypted datastores attested (encryption reported as ``none``); wait at most 60 minutes
    (``build_timeout_minutes``) for provisioning, polling every 10 seconds; a failed builder VM is deleted
    (``keep_failed_builder: false``); TLS to the API verified (``insecure_tls: false``, refused in prod).
    """

    nodes: Annotated[tuple[NodeName, ...], Field(min_length=1)]
    vm_id_range: ProxmoxVmIdRange
    cloud: ProxmoxCloudImage | None = Field(default=None, alias="cloud_image")
    """The vendor cloud image (catalog key ``cloud_image``); ``None`` for a layered image (``parent``)."""
    parent: GoldenParent | None = None
    """A golden parent (``parent: {image: <catalog image>}``): each node's build VM is a full clone of the
    parent's template on the same node (every node must be one of the parent's). Exactly one of
    ``cloud_image`` and ``parent``."""
    vm_datastore: DatastoreId = "local-lvm"
    image_datastore: DatastoreId = "local"
    snippets_datastore: DatastoreId = "local"
    cpu_cores: Annotated[int, Field(ge=1, le=128)] = 2
    cpu_type: CpuType = "x86-64-v2-AES"
    memory_mb: Annotated[int, Field(ge=512, le=4_194_304)] = 2048
    disk_gb: Annotated[int, Field(ge=4, le=65_536)] = 20
    bridge: Bridge = "vmbr0"
    vlan_id: Annotated[int, Field(ge=1, le=4094)] | None = None
    uefi: bool = True
    retain: Annotated[int, Field(ge=1, le=50)] = 3
    encrypted_datastores: tuple[ProxmoxEncryptedDatastore, ...] = ()
    build_timeout_minutes: Annotated[int, Field(ge=5, le=720)] = 60
    poll_interval_seconds: Annotated[int, Field(ge=2, le=30)] = 10
    keep_failed_builder: bool = False
    insecure_tls: bool = False
    ssh_username: UserName = "root"

    #: The vendor-source field (what a golden parent would replace).
    SOURCE_FIELDS: ClassVar[tuple[str, ...]] = ("cloud_image",)

    @model_validator(mode="after")
    def _source_or_parent(self) -> ProxmoxSpec:
        self.check_source_or_parent(self.cloud is not None, "proxmox_source_parent", "cloud_image")
        return self

    @property
    def cloud_image(self) -> ProxmoxCloudImage:
        """The cloud image; for a layered section only once the component resolved the root's."""
        if self.cloud is None:
            raise ValueError("a layered proxmox section has no cloud image until its parent's is resolved")
        return self.cloud

    def vendor_identity(self, pins: Any) -> Any:
        """``<cloud image url>@sha256:<digest>``, as the fingerprint covers it."""
        return f"{self.cloud_image.url}@sha256:{self.cloud_image.sha256}"

    def layer_problems(self, parent: ProxmoxSpec) -> list[str]:
        """Why this section cannot be built on ``parent``'s: a clone needs the parent's template on the node."""
        missing = [n for n in self.nodes if n not in parent.nodes]
        if missing:
            return [
                f"node(s) {', '.join(missing)} have no template of the parent (its nodes: "
                f"{', '.join(parent.nodes)}); a layered template clones the parent's on the same node"
            ]
        return []

    @field_validator("nodes")
    @classmethod
    def _unique_nodes(cls, nodes: tuple[str, ...]) -> tuple[str, ...]:
        dupes = sorted({n for n in nodes if nodes.count(n) > 1})
        if dupes:
            raise ValueError(f"node(s) {', '.join(dupes)} listed more than once; list each node once")
        return nodes

    @field_validator("encrypted_datastores")
    @classmethod
    def _unique_datastores(
        cls, stores: tuple[ProxmoxEncryptedDatastore, ...]
    ) -> tuple[ProxmoxEncryptedDatastore, ...]:
        names = [s.datastore for s in stores]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise ValueError(f"datastore(s) {', '.join(dupes)} attested more than once; attest each once")
        return stores

    @field_validator("insecure_tls")
    @classmethod
    def _tls(cls, insecure: bool, info: ValidationInfo) -> bool:
        if insecure and context_value(info, "environment") == "prod":
            raise ValueError(
                "prod must verify the Proxmox API's TLS certificate; set insecure_tls: false and give the "
                "nodes a certificate the build host trusts"
            )
        return insecure

    @model_validator(mode="after")
    def _range_fits(self) -> ProxmoxSpec:
        share = self.vm_id_range.size // len(self.nodes)
        if share < MIN_IDS_PER_NODE:
            raise PydanticCustomError(
                "vm_id_range_size",
                "vm_id_range {start}-{end} holds {size} ids for {nodes} node(s); give every node at least "
                "{minimum} ids (end >= {needed})",
                {
                    "start": self.vm_id_range.start,
                    "end": self.vm_id_range.end,
                    "size": self.vm_id_range.size,
                    "nodes": len(self.nodes),
                    "minimum": MIN_IDS_PER_NODE,
                    "needed": self.vm_id_range.start + MIN_IDS_PER_NODE * len(self.nodes) - 1,
                },
            )
        return self

    def template_datastores(self) -> tuple[str, ...]:
        """Datastores holding the template's bytes: the disk, EFI vars, TPM state and cloud-init drive all
        live on ``vm_datastore``."""
        return (self.vm_datastore,)

    def attested(self, datastore: str) -> ProxmoxEncryptedDatastore | None:
        """The attestation of ``datastore``, or ``None``."""
        return next((s for s in self.encrypted_datastores if s.datastore == datastore), None)
