"""The pure view of an AMI that audit and cleanup reason about, and the "newest N versions" ranking.

:func:`image_facts` turns one ``DescribeImages`` item (plus its launch permissions and whether anything
uses it) into an immutable :class:`ImageFacts`; everything downstream is pure and tested without AWS.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from golden_images.common.rules import MANAGED_BY, is_public_group, is_semver

#: Tag keys the tools read (the canonical tag map; see ``golden_images.common.rules.REQUIRED_TAG_KEYS``).
TAG_MANAGED_BY = "managed-by"
TAG_IMAGE = "golden-image"
TAG_VERSION = "image-version"


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
    is ``None`` when it was not looked up (cleanup does not need it).
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
        """Versions are ranked within a group: the ``golden-image`` tag, else the AMI name."""
        return self.golden_image or f"name:{self.name}"

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
) -> ImageFacts:
    """Build :class:`ImageFacts` from a ``DescribeImages`` item. ``usage`` names what references the image
    (instance ids, ``lt-…:v3`` launch template versions); empty means unused."""
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
    )


def version_key(image: ImageFacts) -> tuple[int, tuple[int, int, int], dt.datetime, str]:
    """Sort key, larger is newer: semver versions rank above untagged ones, then creation time, then id."""
    version = image.version
    if version is not None and is_semver(version):
        major, minor, patch = (int(p) for p in version.split("."))
        return (1, (major, minor, patch), image.created, image.image_id)
    return (0, (0, 0, 0), image.created, image.image_id)


def newest_ids(images: Iterable[ImageFacts], keep: int) -> frozenset[str]:
    """Ids of the newest ``keep`` images of every :attr:`ImageFacts.group` (per region)."""
    groups: dict[tuple[str, str], list[ImageFacts]] = defaultdict(list)
    for image in images:
        groups[(image.region, image.group)].append(image)
    kept: set[str] = set()
    for members in groups.values():
        members.sort(key=version_key, reverse=True)
        kept.update(m.image_id for m in members[: max(keep, 0)])
    return frozenset(kept)
