"""Pure registry operations: each takes a :class:`Registry` and returns a new one plus what happened.

Refusals raise :class:`RefusedError` (a rule of the registry says no: exit 1) or :class:`BadInputError` (the request
names something that does not exist or is ambiguous: exit 2). Nothing here reads files, clocks or clouds:
callers pass ``now``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from .model import (
    PLATFORMS,
    Channel,
    ChannelEvent,
    ImageEntry,
    RecordedVersion,
    Registry,
    Revocation,
    VersionRef,
    find,
    ref_of,
)

#: Pack policies the registry configures (see :func:`policy_config`).
REVOKED_POLICY = "golden-image-launch-not-revoked"
SCHEDULED_POLICY = "golden-image-launch-revocation-scheduled"
APPROVED_POLICY = "golden-image-launch-approved"


class RefusedError(Exception):
    """A registry rule refuses the operation (the message says which and what to do)."""


class BadInputError(Exception):
    """The operation names an image, version or channel that does not exist, or is ambiguous."""


def _copy(registry: Registry) -> dict[str, Any]:
    return registry.model_dump()


def _rebuild(document: dict[str, Any]) -> Registry:
    return Registry.model_validate(document)


def resolve(registry: Registry, image: str, version: str, environment: str | None = None) -> VersionRef:
    """The recorded version ``version`` of ``image`` (in ``environment`` when given; otherwise the version
    must be recorded in exactly one environment)."""
    entry = registry.images.get(image)
    if entry is None:
        known = ", ".join(sorted(registry.images)) or "none"
        raise BadInputError(f"image {image!r} is not in the registry (recorded images: {known})")
    matches = [v for v in entry.versions if v.version == version and environment in (None, v.environment)]
    if not matches:
        where = f" in {environment}" if environment else ""
        have = ", ".join(f"{v.version} ({v.environment})" for v in entry.versions) or "none"
        raise BadInputError(
            f"{image} {version}{where} is not recorded (recorded: {have}); run "
            f"'golden-images registry record --stack ENV' after the build"
        )
    if len(matches) > 1:
        envs = ", ".join(v.environment for v in matches)
        raise BadInputError(
            f"{image} {version} is recorded in several environments ({envs}); pass --stack ENV"
        )
    return ref_of(image, matches[0])


def ancestry(registry: Registry, ref: VersionRef) -> list[VersionRef]:
    """The parent chain of ``ref``, nearest first (stops at an unrecorded parent or a cycle)."""
    chain: list[VersionRef] = []
    seen = {ref}
    current = find(registry, ref)
    while current is not None and current.parent is not None and current.parent not in seen:
        chain.append(current.parent)
        seen.add(current.parent)
        current = find(registry, current.parent)
    return chain


def revocation_of(registry: Registry, ref: VersionRef) -> tuple[Revocation, VersionRef] | None:
    """The revocation that applies to ``ref`` — its own, else the nearest revoked ancestor's — with the
    version that carries it; ``None`` when neither it nor any ancestor is revoked (scheduled counts)."""
    for candidate in [ref, *ancestry(registry, ref)]:
        recorded = find(registry, candidate)
        if recorded is not None and recorded.revocation is not None:
            return recorded.revocation, candidate
    return None


def _all_refs(registry: Registry) -> Iterable[tuple[VersionRef, RecordedVersion]]:
    for image, entry in registry.images.items():
        for v in entry.versions:
            yield ref_of(image, v), v


# ------------------------------------------------------------------------------------------------ record
@dataclass
class Recorded:
    """Outcome of :func:`record`: the version and whether anything changed."""

    ref: VersionRef
    created: bool
    added: dict[str, dict[str, str]] = field(default_factory=dict)


def record(
    registry: Registry,
    *,
    image: str,
    environment: str,
    version: str,
    fingerprint: str,
    artifacts: Mapping[str, Mapping[str, str]],
    parent: VersionRef | None,
    now: dt.datetime,
) -> tuple[Registry, Recorded]:
    """Record (or complete) ``version`` of ``image`` in ``environment``. Idempotent: recording the same build
    again changes nothing; new artifact locations are added. Refuses a different fingerprint under a recorded
    version (a new build must carry a new version) and an artifact id that differs from the recorded one."""
    doc = _copy(registry)
    entry = doc["images"].setdefault(image, ImageEntry().model_dump())
    ref = VersionRef(image=image, environment=environment, version=version)  # type: ignore[arg-type]
    for existing in entry["versions"]:
        if existing["environment"] == environment and existing["version"] == version:
            if existing["fingerprint"] != fingerprint:
                raise RefusedError(
                    f"{ref} is recorded with fingerprint {existing['fingerprint'][:12]}, but the catalog now "
                    f"has {fingerprint[:12]}; bump the image's version in the catalog for the changed build"
                )
            added: dict[str, dict[str, str]] = {}
            for platform, places in artifacts.items():
                if not places:
                    continue
                have = existing["artifacts"].setdefault(platform, {})
                for location, artifact in places.items():
                    if location not in have:
                        have[location] = artifact
                        added.setdefault(platform, {})[location] = artifact
                    elif have[location] != artifact:
                        raise RefusedError(
                            f"{ref} has {platform} artifact {have[location]} in {location}, but "
                            f"{artifact} was found; a rebuild of a recorded version needs a new version"
                        )
            return _rebuild(doc), Recorded(ref, created=False, added=added)
    entry["versions"].append(
        RecordedVersion(
            environment=environment,  # type: ignore[arg-type]
            version=version,
            fingerprint=fingerprint,
            parent=parent,
            artifacts={p: dict(a) for p, a in artifacts.items() if a and p in PLATFORMS},  # type: ignore[misc]
            recorded_at=now,
        ).model_dump()
    )
    return _rebuild(doc), Recorded(ref, created=True, added={p: dict(a) for p, a in artifacts.items()})


# ----------------------------------------------------------------------------------------------- promote
def promote(registry: Registry, ref: VersionRef, channel: str, *, now: dt.datetime) -> tuple[Registry, bool]:
    """Point ``channel`` of ``ref.image`` at ``ref`` (creating the channel, without ``promotes_from``, when
    it does not exist). Refuses a revoked version, one built on a revoked version (scheduled revocations
    included), and — when the channel declares ``promotes_from`` — a version never on that channel. Returns
    whether the channel moved (``False`` when it already pointed there)."""
    if find(registry, ref) is None:
        raise BadInputError(f"{ref} is not recorded")
    revoked = revocation_of(registry, ref)
    if revoked is not None:
        revocation, carrier = revoked
        if carrier != ref:
            why = f"is built on {carrier}, which is revoked"
        elif revocation.cause is not None:
            why = f"is revoked with {revocation.cause}, which it is built on"
        else:
            why = "is revoked"
        raise RefusedError(f"{ref} {why} ({revocation.reason}); promote a good version instead")
    entry = registry.images[ref.image]
    current = entry.channels.get(channel, Channel())
    if current.current == ref:
        return registry, False
    if current.promotes_from is not None:
        source = entry.channels[current.promotes_from]
        been_there = source.current == ref or any(e.to == ref for e in source.history)
        if not been_there:
            raise RefusedError(
                f"channel {channel} of {ref.image} promotes only from {current.promotes_from}, and {ref} has "
                f"never been on {current.promotes_from}; promote it to {current.promotes_from} first"
            )
    doc = _copy(registry)
    ch = doc["images"][ref.image]["channels"].setdefault(channel, Channel().model_dump())
    ch["history"].append(
        ChannelEvent(action="promote", to=ref, previous=current.current, at=now).model_dump()
    )
    ch["current"] = ref.model_dump()
    return _rebuild(doc), True


# ------------------------------------------------------------------------------------------------ revoke
@dataclass
class ChannelReport:
    """A channel that pointed at a revoked version, and where it points now (``moved_to``) after a rollback
    (``None``: not rolled back, or no good version to roll back to — ``stranded``)."""

    image: str
    channel: str
    pointed_at: VersionRef
    moved_to: VersionRef | None = None
    stranded: bool = False


@dataclass
class Revoked:
    """Outcome of :func:`revoke`: the versions newly revoked (target first, then descendants) and the
    channels affected."""

    revoked: list[VersionRef]
    channels: list[ChannelReport]
    already: bool = False


def descendants(registry: Registry, ref: VersionRef) -> list[VersionRef]:
    """Every recorded version whose parent chain contains ``ref`` (any image), in file order."""
    return [r for r, _ in _all_refs(registry) if ref in ancestry(registry, r)]


def revoke(
    registry: Registry,
    ref: VersionRef,
    *,
    reason: str,
    at: dt.datetime,
    now: dt.datetime,
    rollback: bool = False,
) -> tuple[Registry, Revoked]:
    """Revoke ``ref`` from ``at`` (``at`` after ``now``: scheduled) and every descendant with it, each naming
    ``ref`` as the cause (a descendant already revoked keeps its own revocation). Channels pointing at a
    revoked version are reported; with ``rollback`` each moves to the newest version in its own history that
    is not revoked (none: reported as stranded, pointer unchanged)."""
    target = find(registry, ref)
    if target is None:
        raise BadInputError(f"{ref} is not recorded")
    doc = _copy(registry)
    newly: list[VersionRef] = []
    revocation = Revocation(reason=reason, at=at)
    already = target.revocation is not None
    for victim, cause in [(ref, None), *((d, ref) for d in descendants(registry, ref))]:
        recorded = find(registry, victim)
        if recorded is None or recorded.revocation is not None:
            continue
        for v in doc["images"][victim.image]["versions"]:
            if v["environment"] == victim.environment and v["version"] == victim.version:
                v["revocation"] = revocation.model_copy(update={"cause": cause}).model_dump()
        newly.append(victim)
    after = _rebuild(doc)
    reports: list[ChannelReport] = []
    for image, entry in after.images.items():
        for name, channel in entry.channels.items():
            if channel.current is None or revocation_of(after, channel.current) is None:
                continue
            report = ChannelReport(image, name, channel.current)
            if rollback:
                good = next(
                    (
                        e.to
                        for e in reversed(channel.history)
                        if e.to != channel.current and revocation_of(after, e.to) is None
                    ),
                    None,
                )
                if good is None:
                    report.stranded = True
                else:
                    report.moved_to = good
                    ch = doc["images"][image]["channels"][name]
                    ch["history"].append(
                        ChannelEvent(
                            action="rollback", to=good, previous=channel.current, at=now
                        ).model_dump()
                    )
                    ch["current"] = good.model_dump()
            reports.append(report)
    # Revocations are written into ``doc`` above as well, so rebuilding it holds both.
    return _rebuild(doc), Revoked(newly, reports, already=already and not newly)


# ----------------------------------------------------------------------------------------- policy config
def _artifact_ids(version: RecordedVersion) -> list[tuple[str, str, str]]:
    return [
        (platform, location, artifact)
        for platform, places in sorted(version.artifacts.items())
        for location, artifact in sorted(places.items())
    ]


def revoked_artifacts(registry: Registry) -> list[dict[str, Any]]:
    """Every artifact of a revoked version (or of a descendant of one): id, platform, location, image,
    version, environment, reason, at (ISO-8601 UTC) and the revoked ancestor (``cause``, or ``None``)."""
    out: list[dict[str, Any]] = []
    for ref, version in _all_refs(registry):
        found = revocation_of(registry, ref)
        if found is None:
            continue
        revocation, carrier = found
        cause = revocation.cause or (carrier if carrier != ref else None)
        for platform, location, artifact in _artifact_ids(version):
            out.append(
                {
                    "id": artifact,
                    "platform": platform,
                    "location": location,
                    "image": ref.image,
                    "version": ref.version,
                    "environment": ref.environment,
                    "reason": revocation.reason,
                    "at": revocation.at.isoformat().replace("+00:00", "Z"),
                    "cause": str(cause) if cause is not None else None,
                }
            )
    return out


def approved_artifacts(registry: Registry, environment: str | None = None) -> list[str]:
    """Ids of every artifact of a recorded version that is not revoked, nor built on a revoked version
    (scheduled revocations exclude too); only ``environment``'s versions when given."""
    return sorted(
        {
            artifact
            for ref, version in _all_refs(registry)
            if environment in (None, ref.environment) and revocation_of(registry, ref) is None
            for _, _, artifact in _artifact_ids(version)
        }
    )


def _policy_entry(base: Mapping[str, Any], name: str) -> dict[str, Any]:
    given = base.get(name)
    if isinstance(given, str):
        return {"enforcementLevel": given}
    return dict(given) if isinstance(given, Mapping) else {}


def policy_config(
    registry: Registry, base: Mapping[str, Any], environment: str | None = None
) -> dict[str, Any]:
    """``base`` (a pack config) plus the registry: the revoked artifacts for the not-revoked policy
    (mandatory unless ``base`` says otherwise) and the scheduled-revocation policy (advisory unless ``base``
    says otherwise), the approved artifacts for the approved policy (which stays off unless ``base`` sets
    ``requireApproved``). The policies compare ``at`` with their own clock, so one config serves before and
    after a scheduled time."""
    config = dict(base)
    revoked = revoked_artifacts(registry)
    entry = _policy_entry(base, REVOKED_POLICY)
    entry["revokedArtifacts"] = revoked
    config[REVOKED_POLICY] = entry
    scheduled = _policy_entry(base, SCHEDULED_POLICY)
    scheduled.setdefault("enforcementLevel", "advisory")
    scheduled["revokedArtifacts"] = revoked
    config[SCHEDULED_POLICY] = scheduled
    approved = _policy_entry(base, APPROVED_POLICY)
    approved["approvedArtifacts"] = approved_artifacts(registry, environment)
    config[APPROVED_POLICY] = approved
    return config
