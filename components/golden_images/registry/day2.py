"""What the day-2 AWS tools (``cleanup``, ``audit``) need from the registry.

* :func:`protected_amis`: AMIs cleanup must never remove — every AMI a channel points at (whatever the
  state of the version: the channel still names it), and the *rollback target* of every revoked version:
  the newest good version of the same image and environment below it, which ``revoke --rollback`` or a
  person moves channels back to.
* :func:`revoked_amis`: AMIs of versions whose revocation is due (revoked themselves or built on a revoked
  version), for the audit's "revoked but still launchable / still running" findings.
* :func:`project_registry`: the project's ``stacks/registry.yaml``, found from the working directory the
  way the registry commands find it (nearest ``Pulumi.yaml``), so the tools apply it without an option.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

from . import ops, store
from .model import SCHEMA_VERSION, RecordedVersion, Registry, VersionRef, ref_of


@dataclass(frozen=True)
class RevokedAmi:
    """One AMI of a revoked version: where, which version (``ref``), why, since when, and the revoked
    ancestor (``cause``, ``None`` when the version was revoked itself)."""

    image_id: str
    region: str
    ref: VersionRef
    reason: str
    at: dt.datetime
    cause: VersionRef | None = None


def _key(version: str) -> tuple[int, ...]:
    return tuple(int(part) for part in version.split("."))


def _amis(version: RecordedVersion | None) -> dict[str, str]:
    return dict(version.artifacts.get("aws", {})) if version is not None else {}


def protected_amis(registry: Registry) -> dict[str, str]:
    """AMI id → why cleanup keeps it (a sentence naming the channel or the revoked version)."""
    keep: dict[str, str] = {}
    for image, entry in sorted(registry.images.items()):
        for name, channel in sorted(entry.channels.items()):
            if channel.current is None:
                continue
            recorded = next(
                (
                    v
                    for v in entry.versions
                    if (v.environment, v.version) == (channel.current.environment, channel.current.version)
                ),
                None,
            )
            for ami in _amis(recorded).values():
                keep.setdefault(ami, f"channel {name} of {image} points at it ({channel.current})")
        for revoked in entry.versions:
            ref = ref_of(image, revoked)
            if ops.revocation_of(registry, ref) is None:
                continue
            below = [
                v
                for v in entry.versions
                if v.environment == revoked.environment
                and _key(v.version) < _key(revoked.version)
                and ops.revocation_of(registry, ref_of(image, v)) is None
            ]
            if not below:
                continue
            target = max(below, key=lambda v: _key(v.version))
            for ami in _amis(target).values():
                keep.setdefault(
                    ami,
                    f"{ref_of(image, target)} is the newest good version before the revoked {ref} "
                    "(its rollback target)",
                )
    return keep


def revoked_amis(registry: Registry, now: dt.datetime) -> dict[str, RevokedAmi]:
    """AMI id → its revoked version, for revocations due at ``now`` (scheduled ones are left out)."""
    out: dict[str, RevokedAmi] = {}
    for image, entry in registry.images.items():
        for version in entry.versions:
            ref = ref_of(image, version)
            found = ops.revocation_of(registry, ref)
            if found is None or found[0].at > now:
                continue
            revocation, carrier = found
            cause = revocation.cause or (carrier if carrier != ref else None)
            for region, ami in _amis(version).items():
                out[ami] = RevokedAmi(ami, region, ref, revocation.reason, revocation.at, cause)
    return out


def project_registry(start: Path | None = None) -> Registry:
    """The registry of the project containing ``start`` (default: the working directory): the nearest
    directory with a ``Pulumi.yaml``, then its ``stacks/registry.yaml``. Outside a project, or without the
    file, an empty registry. Raises :class:`~golden_images.registry.store.RegistryError` for an invalid one."""
    here = (start or Path.cwd()).resolve()
    for candidate in (here, *here.parents):
        if (candidate / "Pulumi.yaml").is_file():
            return store.load(candidate / store.DEFAULT_PATH)
    return Registry(schema_version=SCHEMA_VERSION)
