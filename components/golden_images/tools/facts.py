"""The pure view of an AMI that audit and cleanup reason about, its provenance, and the "newest N" ranking.

:func:`image_facts` turns one ``DescribeImages`` item (plus its launch permissions, what uses it and its
proven provenance) into an immutable :class:`ImageFacts`; everything downstream is pure and tested without
AWS.

**Ours** means proven by EC2 Image Builder's own provenance, never by our canonical tags alone (anyone can
copy ``managed-by``/``golden-image``/``image-version``): :func:`claimed_provenance` checks the
``Ec2ImageBuilderArn`` tag Image Builder sets on its output AMIs — an image ARN of *this* account naming one
of this project's recipes for the AMI's own image and environment (``<image>-<env>-<10 hex fingerprint>``,
see ``golden_images.core.naming.builder_name``) at the AMI's ``image-version`` — and
:func:`confirm_provenance` then requires ``GetImage`` to list the AMI among that image's outputs whenever the
Image Builder API answers.
"""

from __future__ import annotations

import datetime as dt
import re
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from golden_images.core.rules import MANAGED_BY, is_public_group, is_semver

#: Tag keys the tools read (the canonical tag map; see ``golden_images.core.rules.REQUIRED_TAG_KEYS``).
TAG_MANAGED_BY = "managed-by"
TAG_IMAGE = "golden-image"
TAG_VERSION = "image-version"
TAG_ENVIRONMENT = "environment"
#: Set by EC2 Image Builder on every AMI it outputs: the ARN of the Image Builder image (build version).
TAG_IMAGE_BUILDER_ARN = "Ec2ImageBuilderArn"
#: ``arn:<partition>:imagebuilder:<region>:<account>:image/<recipe name>/<x.y.z>/<build>``.
_IMAGE_ARN = re.compile(
    r"^arn:aws[a-z-]*:imagebuilder:(?P<region>[a-z0-9-]+):(?P<account>\d{12}):"
    r"image/(?P<recipe>[a-z0-9-]+)/(?P<version>\d+\.\d+\.\d+)/(?P<build>\d+)$"
)
#: The fingerprint suffix of our recipe names (``golden_images.core.fingerprint.SHORT`` hex chars).
_RECIPE_SUFFIX = re.compile(r"^-[0-9a-f]{10}$")


class ProvenanceSource:
    """How an image's provenance was established (values used in JSON)."""

    IMAGE_BUILDER = "image-builder"  # tag + GetImage lists the AMI among the image's outputs
    TAG_ONLY = "tag-only"  # tag checks out, GetImage could not be asked (the API did not answer)
    NONE = "none"  # not proven
    UNCHECKED = "unchecked"  # facts built without a provenance check (pure tests)


@dataclass(frozen=True)
class Provenance:
    """Whether an AMI is proven to be ours. ``reason`` says why (or why not) in one line; ``arn`` is the
    Image Builder image ARN the AMI claims (``None`` without the tag)."""

    proven: bool
    source: str
    reason: str
    arn: str | None = None


UNCHECKED = Provenance(False, ProvenanceSource.UNCHECKED, "provenance not checked")


def claimed_provenance(tags: Mapping[str, str], owner_id: str) -> Provenance:
    """What the ``Ec2ImageBuilderArn`` tag claims, checked against the AMI's own tags and owner (pure).

    Returns a *provisional* :class:`Provenance`: ``proven`` is ``True`` only for the tag-only level; the
    caller confirms it with :func:`confirm_provenance`."""
    arn = tags.get(TAG_IMAGE_BUILDER_ARN)
    if not arn:
        return Provenance(
            False, ProvenanceSource.NONE, f"no {TAG_IMAGE_BUILDER_ARN} tag (not built by Image Builder)"
        )
    match = _IMAGE_ARN.match(arn)
    if match is None:
        return Provenance(
            False, ProvenanceSource.NONE, f"{TAG_IMAGE_BUILDER_ARN} {arn!r} is not an image ARN", arn
        )
    image, env, version = tags.get(TAG_IMAGE), tags.get(TAG_ENVIRONMENT), tags.get(TAG_VERSION)
    if tags.get(TAG_MANAGED_BY) != MANAGED_BY or not image or not env:
        return Provenance(
            False,
            ProvenanceSource.NONE,
            "built by Image Builder but without golden-image/environment tags",
            arn,
        )
    if match["account"] != owner_id:
        return Provenance(
            False,
            ProvenanceSource.NONE,
            f"built by Image Builder in account {match['account']}, not {owner_id}",
            arn,
        )
    recipe = match["recipe"]
    stem = f"{image}-{env}"
    if not (recipe.startswith(stem) and _RECIPE_SUFFIX.match(recipe[len(stem) :])):
        return Provenance(
            False,
            ProvenanceSource.NONE,
            f"built from recipe {recipe!r}, not one of ours for {image} in {env} ({stem}-<fingerprint>)",
            arn,
        )
    if version != match["version"]:
        return Provenance(
            False,
            ProvenanceSource.NONE,
            f"image-version tag {version!r} differs from the recipe version {match['version']}",
            arn,
        )
    return Provenance(
        True, ProvenanceSource.TAG_ONLY, f"built by our recipe {recipe} {match['version']}", arn
    )


def confirm_provenance(
    claimed: Provenance,
    image_id: str,
    region: str,
    *,
    outputs: Iterable[Mapping[str, Any]] | None,
    error: str | None = None,
    not_found: bool = False,
) -> Provenance:
    """Confirm a tag claim with ``GetImage``'s ``outputResources.amis`` (``outputs``; ``None`` when the API
    did not answer, with ``error`` saying why). An answer that does not list the AMI, or an image Image
    Builder does not know (``not_found``), disproves the claim; an API that does not answer (access denied,
    not offered) leaves the tag-only level, reported as such."""
    if not claimed.proven:
        return claimed
    if not_found:
        return Provenance(
            False, ProvenanceSource.NONE, f"Image Builder has no image {claimed.arn}", claimed.arn
        )
    if outputs is None:
        return Provenance(
            True,
            ProvenanceSource.TAG_ONLY,
            f"{claimed.reason}; GetImage unanswered ({error or 'no answer'}), tag only",
            claimed.arn,
        )
    for ami in outputs:
        if ami.get("image") == image_id and ami.get("region") in (None, region):
            return Provenance(
                True, ProvenanceSource.IMAGE_BUILDER, f"{claimed.reason}; GetImage lists it", claimed.arn
            )
    return Provenance(
        False,
        ProvenanceSource.NONE,
        f"GetImage {claimed.arn} does not list {image_id} in {region} among its outputs",
        claimed.arn,
    )


@dataclass(frozen=True)
class LaunchPermission:
    """One launch permission of an image: exactly one of the fields is set."""

    group: str | None = None
    user_id: str | None = None
    organization_arn: str | None = None
    organizational_unit_arn: str | None = None

    @classmethod
    def from_api(cls, item: Mapping[str, Any]) -> LaunchPermission:
        """From a ``DescribeImageAttribute`` ``LaunchPermissions`` item."""
        return cls(
            group=item.get("Group"),
            user_id=item.get("UserId"),
            organization_arn=item.get("OrganizationArn"),
            organizational_unit_arn=item.get("OrganizationalUnitArn"),
        )

    @property
    def target(self) -> str:
        """The account, organization, OU or group the image is shared with."""
        return self.user_id or self.organization_arn or self.organizational_unit_arn or self.group or "?"


@dataclass(frozen=True)
class ImageFacts:
    """What the tools know about one owned AMI in one region.

    ``encrypted`` is ``False`` unless *every* EBS mapping reports ``Encrypted: true``: a mapping without the
    field (moto omits it; real EC2 always sets it for EBS) cannot be proven encrypted. ``launch_permissions``
    is ``None`` when it was not looked up. ``deregistration_protected``: ``DeregistrationProtection`` starts
    with ``enabled``. The snapshot fields are filled by the audit (empty otherwise): snapshots whose
    ``createVolumePermission`` is public or names other accounts, and snapshots encrypted with an
    AWS-managed KMS key.
    """

    region: str
    image_id: str
    name: str
    owner_id: str
    created: dt.datetime
    state: str
    tags: Mapping[str, str]
    public: bool
    snapshot_ids: tuple[str, ...]
    unencrypted_snapshot_ids: tuple[str, ...]
    deprecation_time: dt.datetime | None
    in_use: bool
    launch_permissions: tuple[LaunchPermission, ...] | None = None
    usage: tuple[str, ...] = field(default=())
    deregistration_protected: bool = False
    provenance: Provenance = UNCHECKED
    snapshot_shares: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    aws_managed_key_snapshots: tuple[str, ...] = ()

    @property
    def proven(self) -> bool:
        """True when Image Builder's provenance proves the image ours (see :func:`claimed_provenance`)."""
        return self.provenance.proven

    @property
    def environment(self) -> str | None:
        """The ``environment`` tag, if any."""
        return self.tags.get(TAG_ENVIRONMENT) or None

    @property
    def shared_with(self) -> tuple[str, ...]:
        """Launch-permission targets other than the owner (``all`` when public)."""
        targets = [p.target for p in self.launch_permissions or () if p.user_id != self.owner_id]
        if self.public and "all" not in targets:
            targets.append("all")
        return tuple(sorted(set(targets)))

    @property
    def managed(self) -> bool:
        """True when the image carries ``managed-by=golden-images``."""
        return self.tags.get(TAG_MANAGED_BY) == MANAGED_BY

    @property
    def golden_image(self) -> str | None:
        """The catalog image name (``golden-image`` tag), if any."""
        value = self.tags.get(TAG_IMAGE)
        return value if value else None

    @property
    def version(self) -> str | None:
        """The ``image-version`` tag, if any."""
        value = self.tags.get(TAG_VERSION)
        return value if value else None

    @property
    def group(self) -> str:
        """Versions are ranked within a group: ``<golden-image>/<environment>`` (dev's newer versions never
        evict prod's), else the AMI name."""
        if self.golden_image:
            return f"{self.golden_image}/{self.environment or '-'}"
        return f"name:{self.name}"

    @property
    def encrypted(self) -> bool:
        """True when every EBS snapshot of the image is encrypted."""
        return not self.unencrypted_snapshot_ids

    def age_days(self, now: dt.datetime) -> int:
        """Whole days since creation (never negative)."""
        return max(0, (now - self.created).days)


def parse_time(value: Any) -> dt.datetime | None:
    """Parse an EC2 timestamp (``2024-05-01T12:00:00.000Z``) or pass a ``datetime`` through, as UTC."""
    if isinstance(value, dt.datetime):
        return value if value.tzinfo else value.replace(tzinfo=dt.UTC)
    if not isinstance(value, str) or not value:
        return None
    text = value.strip().replace("Z", "+00:00")
    try:
        parsed = dt.datetime.fromisoformat(text)
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)


def tag_map(tags: Iterable[Mapping[str, Any]] | None) -> dict[str, str]:
    """EC2 ``[{"Key", "Value"}]`` → ``{key: value}``."""
    return {str(t["Key"]): str(t.get("Value", "")) for t in tags or () if "Key" in t}


def image_facts(
    image: Mapping[str, Any],
    region: str,
    *,
    usage: Sequence[str] = (),
    launch_permissions: Sequence[Mapping[str, Any]] | None = None,
    provenance: Provenance = UNCHECKED,
) -> ImageFacts:
    """Build :class:`ImageFacts` from a ``DescribeImages`` item. ``usage`` names what references the image
    (instance ids, ``lt-…:v3`` launch template versions, …); empty means unused. ``provenance`` defaults
    to :data:`UNCHECKED` (not proven)."""
    snapshots: list[str] = []
    unencrypted: list[str] = []
    for mapping in image.get("BlockDeviceMappings") or ():
        ebs = mapping.get("Ebs")
        if not isinstance(ebs, Mapping):
            continue  # instance-store / ephemeral mappings hold no snapshot
        snap = ebs.get("SnapshotId")
        if isinstance(snap, str) and snap:
            snapshots.append(snap)
        if ebs.get("Encrypted") is not True:
            unencrypted.append(snap if isinstance(snap, str) and snap else mapping.get("DeviceName", "?"))
    created = parse_time(image.get("CreationDate")) or dt.datetime.fromtimestamp(0, dt.UTC)
    perms = None
    if launch_permissions is not None:
        perms = tuple(LaunchPermission.from_api(p) for p in launch_permissions)
    public = bool(image.get("Public")) or any(is_public_group(p.group) for p in perms or ())
    return ImageFacts(
        region=region,
        image_id=str(image["ImageId"]),
        name=str(image.get("Name") or ""),
        owner_id=str(image.get("OwnerId") or ""),
        created=created,
        state=str(image.get("State") or "unknown"),
        tags=tag_map(image.get("Tags")),
        public=public,
        snapshot_ids=tuple(snapshots),
        unencrypted_snapshot_ids=tuple(unencrypted),
        deprecation_time=parse_time(image.get("DeprecationTime")),
        in_use=bool(usage),
        launch_permissions=perms,
        usage=tuple(usage),
        deregistration_protected=str(image.get("DeregistrationProtection") or "").startswith("enabled"),
        provenance=provenance,
    )


def version_key(image: ImageFacts) -> tuple[int, tuple[int, int, int], dt.datetime, str]:
    """Sort key, larger is newer: semver versions rank above untagged ones, then creation time, then id."""
    version = image.version
    if version is not None and is_semver(version):
        major, minor, patch = (int(p) for p in version.split("."))
        return (1, (major, minor, patch), image.created, image.image_id)
    return (0, (0, 0, 0), image.created, image.image_id)


def newest_ids(images: Iterable[ImageFacts], keep: int) -> frozenset[str]:
    """Ids of the newest ``keep`` images of every :attr:`ImageFacts.group` per region (callers pass only
    proven images: an unproven look-alike must never take a keep slot)."""
    groups: dict[tuple[str, str], list[ImageFacts]] = defaultdict(list)
    for image in images:
        groups[(image.region, image.group)].append(image)
    kept: set[str] = set()
    for members in groups.values():
        members.sort(key=version_key, reverse=True)
        kept.update(m.image_id for m in members[: max(keep, 0)])
    return frozenset(kept)
