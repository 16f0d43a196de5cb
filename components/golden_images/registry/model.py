"""Schema of ``stacks/registry.yaml`` (pydantic, strict and closed like the catalog).

A version is identified by ``(environment, version)`` within its image: the same semantic version may be
built in dev and in prod from different inputs. Its ``parent`` names the recorded version it was built on
(another image, any environment), which is what revocation follows to find descendants.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Final, Literal

from pydantic import (
    AfterValidator,
    BeforeValidator,
    Field,
    StringConstraints,
    field_validator,
    model_validator,
)

from golden_images.core.base import CatalogModel, ImageName, SemVer
from golden_images.core.rules import ENVIRONMENTS

#: Written into every registry file; a file with another value is refused (bump it with a migration).
SCHEMA_VERSION: Final = 1
PLATFORMS: Final = ("aws", "azure", "gcp", "proxmox")

Environment = Literal["dev", "staging", "prod"]
Platform = Literal["aws", "azure", "gcp", "proxmox"]
ChannelName = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9-]{0,39}$")]
Fingerprint = Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{10,64}$")]
Text = Annotated[str, StringConstraints(min_length=1, max_length=2000)]
ArtifactId = Annotated[str, StringConstraints(min_length=1, max_length=1024)]
#: A region (AWS/Azure), ``global`` (GCP) or a Proxmox node name.
Location = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$")]


def _aware(value: dt.datetime) -> dt.datetime:
    if value.tzinfo is None:
        raise ValueError(
            "timestamp has no time zone; write ISO-8601 with an offset, e.g. 2026-12-01T10:00:00Z"
        )
    return value.astimezone(dt.UTC)


def _parse(value: object) -> object:
    # Strict models take no strings for datetimes; the file holds ISO-8601 text (quoted by the writer).
    if isinstance(value, str):
        try:
            return dt.datetime.fromisoformat(value)
        except ValueError:
            raise ValueError(
                f"{value!r} is not an ISO-8601 timestamp; write e.g. 2026-12-01T10:00:00Z"
            ) from None
    return value


Timestamp = Annotated[dt.datetime, BeforeValidator(_parse), AfterValidator(_aware)]
assert set(ENVIRONMENTS) == {"dev", "staging", "prod"}  # Environment mirrors the catalog's environments


class VersionRef(CatalogModel):
    """A pointer to one recorded version: ``image`` (default: the same image), ``environment``, ``version``."""

    image: ImageName
    environment: Environment
    version: SemVer

    def __str__(self) -> str:
        return f"{self.image} {self.version} ({self.environment})"


class Revocation(CatalogModel):
    """Why and when a version stops being launchable. ``at`` in the future is a scheduled revocation
    (advisory until then). ``cause`` names the revoked ancestor when this version was revoked because it was
    built on it; ``None`` when revoked directly."""

    reason: Text
    at: Timestamp
    cause: VersionRef | None = None


class RecordedVersion(CatalogModel):
    """One built version: its content ``fingerprint``, ``parent`` (the recorded version it was built on, if
    any), ``artifacts`` per platform and location (AMI ids per region, gallery image version ids per region,
    GCP image paths under ``global``, Proxmox node → VM id), ``recorded_at`` and its ``revocation``."""

    environment: Environment
    version: SemVer
    fingerprint: Fingerprint
    parent: VersionRef | None = None
    artifacts: dict[Platform, dict[Location, ArtifactId]] = Field(default_factory=dict)
    recorded_at: Timestamp
    revocation: Revocation | None = None


class ChannelEvent(CatalogModel):
    """One move of a channel: ``action`` (promote, rollback), to which version, when, and the previous
    pointer (``None`` for the first promotion)."""

    action: Literal["promote", "rollback"]
    to: VersionRef
    previous: VersionRef | None = None
    at: Timestamp


class Channel(CatalogModel):
    """A name consumers follow (``candidate``, ``stable``…). ``current`` points at one recorded version of
    this image (``None`` until the first promotion); ``promotes_from`` (default none) is the channel a version
    must have been on before it may be promoted here; ``history`` is append-only, oldest first."""

    current: VersionRef | None = None
    promotes_from: ChannelName | None = None
    history: list[ChannelEvent] = Field(default_factory=list)


class ImageEntry(CatalogModel):
    """Every recorded version of one image, oldest first, and its channels."""

    versions: list[RecordedVersion] = Field(default_factory=list)
    channels: dict[ChannelName, Channel] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _unique_versions(self) -> ImageEntry:
        seen: set[tuple[str, str]] = set()
        for index, v in enumerate(self.versions):
            key = (v.environment, v.version)
            if key in seen:
                raise ValueError(
                    f"versions[{index}]: {v.version} ({v.environment}) is recorded twice; keep one entry"
                )
            seen.add(key)
        for name, channel in self.channels.items():
            if channel.promotes_from is not None and channel.promotes_from not in self.channels:
                raise ValueError(
                    f"channels.{name}.promotes_from: channel {channel.promotes_from!r} is not declared; "
                    f"declare it or remove promotes_from"
                )
        return self


class Registry(CatalogModel):
    """The whole file: ``schema_version`` (must be :data:`SCHEMA_VERSION`) and ``images`` by name."""

    schema_version: int
    images: dict[ImageName, ImageEntry] = Field(default_factory=dict)

    @field_validator("schema_version")
    @classmethod
    def _known_schema(cls, value: int) -> int:
        if value != SCHEMA_VERSION:
            raise ValueError(f"schema_version {value} is not supported; this tool reads {SCHEMA_VERSION}")
        return value

    @model_validator(mode="after")
    def _refs_resolve(self) -> Registry:
        for image, entry in self.images.items():
            for v in entry.versions:
                if v.parent is not None and find(self, v.parent) is None:
                    raise ValueError(
                        f"images.{image}: version {v.version} ({v.environment}) names parent {v.parent}, "
                        f"which is not recorded; record the parent first or remove it"
                    )
            for name, channel in entry.channels.items():
                for ref in [channel.current, *(e.to for e in channel.history)]:
                    if ref is not None and (ref.image != image or find(self, ref) is None):
                        raise ValueError(
                            f"images.{image}.channels.{name} points at {ref}, which is not a recorded version "
                            f"of {image}"
                        )
        return self


def find(registry: Registry, ref: VersionRef) -> RecordedVersion | None:
    """The recorded version ``ref`` names, or ``None``."""
    entry = registry.images.get(ref.image)
    if entry is None:
        return None
    for v in entry.versions:
        if v.environment == ref.environment and v.version == ref.version:
            return v
    return None


def ref_of(image: str, version: RecordedVersion) -> VersionRef:
    """The pointer to ``version`` of ``image``."""
    return VersionRef(image=image, environment=version.environment, version=version.version)
