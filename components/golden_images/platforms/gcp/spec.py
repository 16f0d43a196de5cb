"""The ``gcp`` section of a catalog image: how Cloud Build runs Packer's ``googlecompute`` builder to bake it
into a CMEK-encrypted image family.

Every field is validated at load time with a message that says what is allowed; the cross-field rules
(zone in region, subnetwork and worker pool in region, Secure Boot needs UEFI, prod needs an exact source
image) are checked together so one load reports all of them.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Annotated, Any, ClassVar, Literal

from pydantic import AfterValidator, Field, ValidationInfo, field_validator, model_validator
from pydantic_core import PydanticCustomError

from golden_images.core import rules
from golden_images.core.base import CatalogModel, context_value, require_exactly_one
from golden_images.core.image import GoldenParent, LayeredSection

# GCP project ids: 6-30 chars, lowercase letters, digits, hyphens, starting with a letter.
_PROJECT = re.compile(r"^[a-z][a-z0-9-]{4,28}[a-z0-9]$")
_REGION = re.compile(r"^[a-z]+-[a-z]+[0-9]+$")
_ZONE = re.compile(r"^(?P<region>[a-z]+-[a-z]+[0-9]+)-[a-z]$")
_NAME = r"[a-z]([-a-z0-9]{0,61}[a-z0-9])?"
_NETWORK = re.compile(rf"^({_NAME}|projects/[a-z][a-z0-9-]{{4,28}}[a-z0-9]/global/networks/{_NAME})$")
_SUBNETWORK = re.compile(
    rf"^({_NAME}|projects/[a-z][a-z0-9-]{{4,28}}[a-z0-9]/regions/(?P<region>[a-z]+-[a-z]+[0-9]+)/subnetworks/{_NAME})$"
)
_WORKER_POOL = re.compile(
    r"^projects/[a-z][a-z0-9-]{4,28}[a-z0-9]/locations/(?P<region>[a-z]+-[a-z]+[0-9]+)/workerPools/[a-z][-a-z0-9]{0,62}$"
)
_KMS_KEY = re.compile(
    r"^projects/[a-z][a-z0-9-]{4,28}[a-z0-9]/locations/[a-z0-9-]+/keyRings/[A-Za-z0-9_-]{1,63}"
    r"/cryptoKeys/[A-Za-z0-9_-]{1,63}$"
)
_MACHINE_TYPE = re.compile(r"^[a-z][a-z0-9]*-[a-z0-9-]+$")
# Storage locations: a region (us-central1) or a multi-region (us, eu, asia).
_STORAGE_LOCATION = re.compile(r"^([a-z]+-[a-z]+[0-9]+|us|eu|asia)$")
# Container images: registry/path, then a tag or a digest (checked further in _container_image).
_CONTAINER = re.compile(
    r"^[a-z0-9]+([._-][a-z0-9]+)*(\.[a-z0-9-]+)*(:[0-9]+)?(/[a-z0-9._-]+)+(:[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}|@sha256:[0-9a-f]{64})$"
)
_TIME_ZONE = r"^[A-Za-z_]+(/[A-Za-z0-9_+-]+){0,2}$"

#: Guest OS features the image is checked for after the bake. The image inherits them from the source
#: image's disk; the build's verification step fails when one is missing.
GuestOsFeature = Literal[
    "UEFI_COMPATIBLE",
    "GVNIC",
    "VIRTIO_SCSI_MULTIQUEUE",
    "SEV_CAPABLE",
    "SEV_SNP_CAPABLE",
    "SEV_LIVE_MIGRATABLE_V2",
    "IDPF",
    "TDX_CAPABLE",
    "SUSPEND_RESUME_COMPATIBLE",
    "MULTI_IP_SUBNET",
]


@dataclass(frozen=True)
class BuildImagePin:
    """A container image the Cloud Build bake runs, pinned with the date its tag was published.

    ``digest`` is the ``sha256:…`` manifest digest of ``tag``, or ``None`` while it is still to be confirmed
    (it cannot be read from here: no registry access). Fill it in with
    ``docker buildx imagetools inspect <repository>:<tag>`` (or ``gcloud artifacts docker images describe``)
    and the reference becomes ``<repository>:<tag>@<digest>``, which Cloud Build pulls by digest.
    ``published`` is when the tag was released (``source`` says where that date comes from): the
    cloud-sdk repository deletes tags older than a year, so a pin past :data:`MAX_BUILD_IMAGE_AGE` is a bake
    that fails at its first pull (``stale_build_images`` and its test catch that)."""

    repository: str
    tag: str
    published: dt.date
    source: str
    digest: str | None = None

    @property
    def reference(self) -> str:
        """``<repository>:<tag>@<digest>`` when the digest is confirmed, else ``<repository>:<tag>``."""
        base = f"{self.repository}:{self.tag}"
        return f"{base}@{self.digest}" if self.digest else base


#: Build images older than this are refused by :func:`stale_build_images` (cloud-sdk keeps tags one year).
MAX_BUILD_IMAGE_AGE = dt.timedelta(days=365)

PACKER_PIN = BuildImagePin(
    repository="hashicorp/packer",
    tag="1.16.1",
    published=dt.date(2026, 9, 17),
    source="Packer 1.16.1 release (winget package published 2026-09-18); digest to be confirmed",
)
GCLOUD_PIN = BuildImagePin(
    repository="gcr.io/google.com/cloudsdktool/cloud-sdk",
    tag="568.0.0-slim",
    published=dt.date(2026, 5, 12),
    source="Google Cloud CLI 568.0.0 weekly release (packaged 2026-05-13); digest to be confirmed",
)
#: Every build image the defaults use.
BUILD_IMAGE_PINS: tuple[BuildImagePin, ...] = (PACKER_PIN, GCLOUD_PIN)

DEFAULT_PACKER_IMAGE = PACKER_PIN.reference
DEFAULT_GCLOUD_IMAGE = GCLOUD_PIN.reference
DEFAULT_PLUGIN_VERSION = "1.1.6"


def stale_build_images(today: dt.date, pins: tuple[BuildImagePin, ...] = BUILD_IMAGE_PINS) -> list[str]:
    """One sentence per pin published more than :data:`MAX_BUILD_IMAGE_AGE` before ``today``."""
    return [
        f"{pin.repository}:{pin.tag} was published {pin.published.isoformat()}, "
        f"{(today - pin.published).days} days before {today.isoformat()}; pin a current tag (and its digest) "
        "in golden_images.platforms.gcp.spec"
        for pin in pins
        if today - pin.published > MAX_BUILD_IMAGE_AGE
    ]


def _pattern(regex: re.Pattern[str], what: str) -> AfterValidator:
    def check(value: str) -> str:
        if not regex.fullmatch(value):
            raise ValueError(f"{value!r} is not {what}")
        return value

    return AfterValidator(check)


def _container_image(value: str) -> str:
    if not _CONTAINER.fullmatch(value):
        raise ValueError(
            f"{value!r} is not a pinned container image; write <registry>/<path>:<tag> or "
            "<registry>/<path>@sha256:<64 hex> (for example hashicorp/packer:1.16.1)"
        )
    tag = value.rsplit(":", 1)[-1] if "@" not in value else None
    if tag is not None and (
        tag in {"latest", "light", "stable", "current"} or rules.is_floating_reference(tag)
    ):
        raise ValueError(
            f"{value!r} uses the floating tag {tag!r}; pin an exact version tag or a sha256 digest"
        )
    return value


def _path_project(value: str) -> str | None:
    """The project of a ``projects/<p>/…`` path, ``None`` for a short name."""
    return value.split("/")[1] if value.startswith("projects/") else None


ProjectId = Annotated[
    str,
    _pattern(_PROJECT, "a GCP project id (6-30 lowercase letters, digits, hyphens, starting with a letter)"),
]
Region = Annotated[str, _pattern(_REGION, "a GCP region such as 'us-central1'")]
ResourceName = Annotated[
    str,
    _pattern(
        re.compile(f"^{_NAME}$"),
        "a GCP resource name (1-63 lowercase letters, digits and hyphens, starting with a letter, not ending "
        "with a hyphen)",
    ),
]
ContainerImage = Annotated[str, AfterValidator(_container_image)]


class GcpSourceImage(CatalogModel):
    """The source (parent) image: exactly one of ``image`` (an exact image name, e.g.
    ``ubuntu-2404-noble-amd64-v20250117``) or ``family`` (resolved to the newest image at bake time; refused
    in prod), in ``project`` (e.g. ``ubuntu-os-cloud``)."""

    project: ProjectId
    image: ResourceName | None = None
    family: ResourceName | None = None

    @field_validator("family")
    @classmethod
    def _no_family_in_prod(cls, value: str | None, info: ValidationInfo) -> str | None:
        if value is not None and context_value(info, "environment") == "prod":
            raise ValueError(
                f"prod needs a pinned source image, but family {value!r} resolves to whatever is newest at bake "
                "time; set source_image.image to an exact image name instead"
            )
        return value

    @field_validator("image")
    @classmethod
    def _exact(cls, value: str | None) -> str | None:
        if value is not None and rules.is_floating_reference(value):
            raise ValueError(
                f"{value!r} is not an exact image name; name one image, or use family outside prod"
            )
        return value

    @model_validator(mode="after")
    def _exactly_one(self) -> GcpSourceImage:
        require_exactly_one(
            self,
            ("image", "family"),
            "source_choice",
            "set exactly one of image (an exact image name) or family (not in prod); got {given}",
        )
        return self

    @property
    def reference(self) -> str:
        """``projects/<project>/global/images/<image>`` or ``…/images/family/<family>``."""
        if self.image is not None:
            return f"projects/{self.project}/global/images/{self.image}"
        return f"projects/{self.project}/global/images/family/{self.family}"


class GcpShieldedVm(CatalogModel):
    """Shielded VM settings of the build VM (defaults: all on). Secure Boot needs a UEFI source image, so
    ``guest_os_features`` must then list ``UEFI_COMPATIBLE``."""

    secure_boot: bool = True
    vtpm: bool = True
    integrity_monitoring: bool = True


class GcpSchedule(CatalogModel):
    """When Cloud Scheduler starts a bake: a 5-field unix ``cron`` (minute hour day-of-month month
    day-of-week) in ``time_zone`` (default ``Etc/UTC``)."""

    cron: str
    time_zone: Annotated[str, Field(pattern=_TIME_ZONE)] = "Etc/UTC"

    @field_validator("cron")
    @classmethod
    def _cron(cls, value: str) -> str:
        fields = value.split()
        if len(fields) != 5 or not all(re.fullmatch(r"[0-9A-Za-z*,/-]+", f) for f in fields):
            raise ValueError(
                f"{value!r} is not a Cloud Scheduler cron; write 5 unix cron fields (minute hour day-of-month "
                "month day-of-week), for example '0 3 * * 2'"
            )
        return value


class GcpBuilder(CatalogModel):
    """The containers Cloud Build runs. ``packer_image`` (default :data:`PACKER_PIN`, ``hashicorp/packer:1.16.1``)
    installs the ``googlecompute`` plugin at ``plugin_version`` (default ``1.1.6``) and bakes; ``gcloud_image``
    (default :data:`GCLOUD_PIN`, ``gcr.io/google.com/cloudsdktool/cloud-sdk:568.0.0-slim``) fetches the template
    and scripts and verifies the image. Both must be pinned by an exact tag or a ``@sha256:`` digest; an image
    set here is the catalog's to keep current (cloud-sdk deletes tags after a year). ``timeout_minutes`` (default 120,
    30-1440) bounds the whole build."""

    packer_image: ContainerImage = DEFAULT_PACKER_IMAGE
    gcloud_image: ContainerImage = DEFAULT_GCLOUD_IMAGE
    plugin_version: Annotated[str, Field(pattern=r"^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)$")] = (
        DEFAULT_PLUGIN_VERSION
    )
    timeout_minutes: Annotated[int, Field(ge=30, le=1440)] = 120


class GcpSpec(LayeredSection, CatalogModel):
    """Cloud Build + Packer ``googlecompute`` settings.

    Required: ``project``, ``project_number`` (names the Compute Engine and Cloud Build service agents),
    ``region``, ``source_image``, ``network``, ``subnetwork``, ``worker_pool`` (a Cloud Build private pool
    peered with the network: the build VM has no external IP, so Packer reaches it on its internal address)
    and ``kms_key`` (the CMEK key of the image).

    Defaults: ``zone`` ``<region>-b``; ``machine_type`` ``e2-standard-2``; ``disk_size_gb`` 20 on
    ``pd-balanced``; ``network_project`` none (the network is in ``project``; set it for a Shared VPC host);
    ``family`` the catalog image name; ``storage_locations`` ``[<region>]``; ``guest_os_features``
    ``[UEFI_COMPATIBLE, GVNIC]``; shielded VM all on; no ``schedule`` (bakes start by publishing to the
    bake topic); ``ssh_username`` ``packer``; builder defaults in :class:`GcpBuilder`.
    """

    project: ProjectId
    project_number: Annotated[str, Field(pattern=r"^[1-9][0-9]{5,19}$")]
    region: Region
    zone: str | None = None
    source: GcpSourceImage | None = Field(default=None, alias="source_image")
    """The vendor source image (catalog key ``source_image``); ``None`` for a layered image (``parent``)."""
    parent: GoldenParent | None = None
    """A golden parent (``parent: {image: <catalog image>}``): the child's Packer source is the parent's image,
    as this stack's bake names it, in the parent's project. Exactly one of ``source_image`` and ``parent``."""
    machine_type: Annotated[
        str, _pattern(_MACHINE_TYPE, "a Compute Engine machine type such as 'e2-standard-2'")
    ] = "e2-standard-2"
    disk_size_gb: Annotated[int, Field(ge=10, le=65536)] = 20
    disk_type: Literal["pd-standard", "pd-balanced", "pd-ssd"] = "pd-balanced"
    network: Annotated[str, _pattern(_NETWORK, "a VPC network name or projects/<p>/global/networks/<name>")]
    subnetwork: Annotated[
        str, _pattern(_SUBNETWORK, "a subnetwork name or projects/<p>/regions/<region>/subnetworks/<name>")
    ]
    network_project: ProjectId | None = None
    worker_pool: Annotated[
        str,
        _pattern(
            _WORKER_POOL, "a Cloud Build private pool projects/<p>/locations/<region>/workerPools/<name>"
        ),
    ]
    kms_key: Annotated[
        str,
        _pattern(
            _KMS_KEY,
            "a Cloud KMS key projects/<p>/locations/<l>/keyRings/<ring>/cryptoKeys/<key> (a key, not a key "
            "version; GCP images take a customer-managed key, never a raw or Google-managed one)",
        ),
    ]
    family: Annotated[str, Field(max_length=40)] | None = None
    storage_locations: tuple[
        Annotated[str, _pattern(_STORAGE_LOCATION, "a region (us-central1) or multi-region (us, eu, asia)")],
        ...,
    ] = ()
    guest_os_features: tuple[GuestOsFeature, ...] = ("UEFI_COMPATIBLE", "GVNIC")
    shielded_vm: GcpShieldedVm = Field(default_factory=GcpShieldedVm)
    schedule: GcpSchedule | None = None
    builder: GcpBuilder = Field(default_factory=GcpBuilder)
    ssh_username: Annotated[str, Field(pattern=r"^[a-z_][a-z0-9_-]{0,31}$")] = "packer"

    @field_validator("family")
    @classmethod
    def _family(cls, value: str | None) -> str | None:
        if value is not None and not rules.is_gcp_resource_name(value):
            raise ValueError(
                f"{value!r} is not a GCP image family name; use at most 40 lowercase letters, digits and "
                "hyphens, starting with a letter and not ending with a hyphen (the image name appends the "
                "version and fingerprint within GCP's 63 characters)"
            )
        return value

    @field_validator("storage_locations")
    @classmethod
    def _one_location(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        if len(value) > 1:
            raise ValueError(
                f"GCP stores an image in exactly one location, got {len(value)} ({', '.join(value)}); "
                "list one region or multi-region"
            )
        return value

    @field_validator("guest_os_features")
    @classmethod
    def _unique_features(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        dupes = sorted({f for f in value if value.count(f) > 1})
        if dupes:
            raise ValueError(f"guest OS feature(s) {', '.join(dupes)} listed more than once")
        return value

    #: The vendor-source field a layered section does not inherit from ``defaults.gcp``.
    SOURCE_FIELDS: ClassVar[tuple[str, ...]] = ("source_image",)

    @model_validator(mode="after")
    def _source_or_parent(self) -> GcpSpec:
        self.check_source_or_parent(self.source is not None, "gcp_source_choice", "source_image")
        return self

    @property
    def source_image(self) -> GcpSourceImage:
        """The source image; for a layered section only once the component resolved the parent's image."""
        if self.source is None:
            raise ValueError("a layered gcp section has no source image until its parent's image is resolved")
        return self.source

    def vendor_identity(self, pins: Any) -> Any:
        """The source image reference, as the fingerprint covers it."""
        return self.source_image.reference

    @model_validator(mode="after")
    def _cross(self) -> GcpSpec:
        problems: list[str] = []
        if self.zone is not None:
            m = _ZONE.fullmatch(self.zone)
            if m is None:
                problems.append(f"zone {self.zone!r} is not a GCP zone such as 'us-central1-b'")
            elif m.group("region") != self.region:
                problems.append(f"zone {self.zone!r} is not in region {self.region!r}")
        sub = _SUBNETWORK.fullmatch(self.subnetwork)
        if sub is not None and sub.group("region") not in (None, self.region):
            problems.append(
                f"subnetwork {self.subnetwork!r} is in region {sub.group('region')!r}, but the build VM runs in "
                f"{self.region!r}"
            )
        pool = _WORKER_POOL.fullmatch(self.worker_pool)
        if pool is not None and pool.group("region") != self.region:
            problems.append(
                f"worker_pool {self.worker_pool!r} is in {pool.group('region')!r}; the regional trigger in "
                f"{self.region!r} can only use a private pool of the same region"
            )
        if self.network_project is not None:
            for field, value in (("network", self.network), ("subnetwork", self.subnetwork)):
                owner = _path_project(value)
                if owner is not None and owner != self.network_project:
                    problems.append(
                        f"{field} {value!r} is in project {owner!r}, but network_project is "
                        f"{self.network_project!r}; with a Shared VPC the network and subnetwork belong to the "
                        "host project (write the name only, or a path in the host project)"
                    )
            if self.network_project == self.project:
                problems.append(
                    f"network_project {self.network_project!r} is the build project itself; leave it unset "
                    "unless the network is a Shared VPC in another (host) project"
                )
        if self.shielded_vm.secure_boot and "UEFI_COMPATIBLE" not in self.guest_os_features:
            problems.append(
                "shielded_vm.secure_boot needs a UEFI source image: add UEFI_COMPATIBLE to guest_os_features or "
                "set shielded_vm.secure_boot: false"
            )
        if problems:
            raise PydanticCustomError("gcp_section", "{problems}", {"problems": "; ".join(problems)})
        return self

    @property
    def subnetwork_project(self) -> str:
        """The project holding the subnetwork: the one in its path, else ``network_project``, else ``project``."""
        return _path_project(self.subnetwork) or self.network_project or self.project

    @property
    def subnetwork_name(self) -> str:
        """The subnetwork's short name (the last segment of a path)."""
        return self.subnetwork.rsplit("/", 1)[-1]

    @property
    def shared_vpc(self) -> bool:
        """True when the build VM's subnetwork is in another project (a Shared VPC host): the build account
        then needs ``compute.subnetworks.use`` there (see :data:`golden_images.platforms.gcp.iam.NETWORK_USER_ROLE`)."""
        return self.subnetwork_project != self.project

    @property
    def build_zone(self) -> str:
        """The zone of the build VM: ``zone`` or ``<region>-b``."""
        return self.zone or f"{self.region}-b"

    def image_family(self, image_name: str) -> str:
        """The image family: ``family`` or the catalog image name."""
        return self.family or image_name

    @property
    def storage_location(self) -> str:
        """Where the image is stored: ``storage_locations[0]`` or the region."""
        return self.storage_locations[0] if self.storage_locations else self.region
