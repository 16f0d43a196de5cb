"""``golden-images audit``: findings for the AMIs an account owns, region by region.

:func:`evaluate` is pure (facts in, findings out); :func:`run_audit` reads the regions in parallel
(bounded) and turns a region that fails into a *failed region* of the report while the others complete.

With the image registry (``stacks/registry.yaml``), two more checks: an owned AMI of a revoked version (or
of one built on a revoked version) that can still be launched, and instances in the region — of any AMI
owner — still running one (:func:`revoked_findings`).
"""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from golden_images.core.rules import REQUIRED_TAG_KEYS, missing_tag_keys
from golden_images.registry.day2 import RevokedAmi, project_registry, revoked_amis
from golden_images.registry.model import Registry
from golden_images.registry.store import RegistryError
from golden_images.tools.aws import AWS_ERRORS, ClientFactory, error_text
from golden_images.tools.facts import ImageFacts, LaunchPermission, newest_ids
from golden_images.tools.inventory import Progress, RegionInventory, read_region


class Severity(enum.IntEnum):
    """Finding severities, ordered; ``--fail-on`` compares against them."""

    INFO = 0
    LOW = 1
    MEDIUM = 2
    HIGH = 3
    CRITICAL = 4

    @property
    def label(self) -> str:
        """Lower-case name used in output and on the command line."""
        return self.name.lower()

    @classmethod
    def parse(cls, value: str) -> Severity:
        """``"high"`` → ``Severity.HIGH``; ``ValueError`` for anything else."""
        try:
            return cls[value.strip().upper()]
        except KeyError:
            names = ", ".join(s.label for s in cls)
            raise ValueError(f"unknown severity {value!r}; use one of {names}") from None


class Check(enum.StrEnum):
    """The audit's checks; the value is the stable finding code used in JSON and Markdown."""

    PUBLIC = "public"
    SHARED = "shared-outside-allow-list"
    UNENCRYPTED = "unencrypted-snapshot"
    MISSING_TAGS = "missing-tags"
    STALE = "stale-not-deprecated"
    UNUSED = "unused-old-version"
    UNMANAGED = "unmanaged"
    UNVERIFIED = "unverified-provenance"
    PUBLIC_SNAPSHOT = "public-snapshot"
    SHARED_SNAPSHOT = "snapshot-shared"
    AWS_MANAGED_KEY = "aws-managed-key"
    PROTECTED = "deregistration-protected"
    REVOKED_LAUNCHABLE = "revoked-launchable"
    REVOKED_RUNNING = "revoked-running"


#: Severity of each check (documented in docs/tools.md).
SEVERITY: dict[Check, Severity] = {
    Check.PUBLIC: Severity.CRITICAL,
    Check.SHARED: Severity.HIGH,
    Check.UNENCRYPTED: Severity.HIGH,
    Check.MISSING_TAGS: Severity.MEDIUM,
    Check.STALE: Severity.MEDIUM,
    Check.UNUSED: Severity.LOW,
    Check.UNMANAGED: Severity.LOW,
    Check.UNVERIFIED: Severity.MEDIUM,
    Check.PUBLIC_SNAPSHOT: Severity.CRITICAL,
    Check.SHARED_SNAPSHOT: Severity.HIGH,
    Check.AWS_MANAGED_KEY: Severity.HIGH,
    Check.PROTECTED: Severity.INFO,
    Check.REVOKED_LAUNCHABLE: Severity.HIGH,
    Check.REVOKED_RUNNING: Severity.CRITICAL,
}
#: Instance states that still run, or can be started again from, a revoked AMI.
LIVE_STATES = ("pending", "running", "stopping", "stopped")


@dataclass(frozen=True)
class AllowList:
    """Sharing targets that are not findings (besides the owning account itself).

    An organizational unit is allowed when listed itself or when its organization is listed (the
    ``o-…`` id in the OU ARN matches an allowed organization ARN).
    """

    accounts: frozenset[str] = frozenset()
    organizations: frozenset[str] = frozenset()
    organizational_units: frozenset[str] = frozenset()

    def allows(self, permission: LaunchPermission, owner_id: str) -> bool:
        """True when sharing with ``permission``'s target is acceptable (``all`` never is)."""
        if permission.group is not None:
            return False
        if permission.user_id is not None:
            return permission.user_id == owner_id or permission.user_id in self.accounts
        if permission.organization_arn is not None:
            return permission.organization_arn in self.organizations
        if permission.organizational_unit_arn is not None:
            ou = permission.organizational_unit_arn
            if ou in self.organizational_units:
                return True
            org_ids = {arn.rsplit("/", 1)[-1] for arn in self.organizations}
            parts = ou.split(":ou/", 1)[-1].split("/")
            return bool(parts) and parts[0] in org_ids
        return False


@dataclass(frozen=True)
class AuditConfig:
    """Audit thresholds. ``max_age_days``: images older than this must carry a deprecation time (default
    90). ``keep``: the newest N versions of each image are never "unused old versions" (default 3)."""

    max_age_days: int = 90
    keep: int = 3
    allow: AllowList = field(default_factory=AllowList)
    required_tags: tuple[str, ...] = REQUIRED_TAG_KEYS


@dataclass(frozen=True)
class Finding:
    """One problem with one image."""

    region: str
    image_id: str
    image_name: str
    golden_image: str | None
    version: str | None
    check: Check
    severity: Severity
    message: str


@dataclass(frozen=True)
class AuditReport:
    """The outcome of an audit. ``failed_regions`` maps a region to why it could not be read: when it is
    not empty the report is *partial* and the command exits non-zero."""

    generated_at: dt.datetime
    regions: tuple[str, ...]
    config: AuditConfig
    images: tuple[ImageFacts, ...]
    findings: tuple[Finding, ...]
    failed_regions: dict[str, str]

    @property
    def partial(self) -> bool:
        """True when at least one region failed."""
        return bool(self.failed_regions)

    def worst(self) -> Severity | None:
        """The highest severity found, or ``None`` without findings."""
        return max((f.severity for f in self.findings), default=None)

    def fails(self, threshold: Severity | None) -> bool:
        """Exit-code rule: a failed region, or a finding at/above ``threshold`` (``None``: never)."""
        if self.partial:
            return True
        worst = self.worst()
        return threshold is not None and worst is not None and worst >= threshold


def _finding(image: ImageFacts, check: Check, message: str) -> Finding:
    return Finding(
        region=image.region,
        image_id=image.image_id,
        image_name=image.name,
        golden_image=image.golden_image,
        version=image.version,
        check=check,
        severity=SEVERITY[check],
        message=message,
    )


def evaluate(images: Sequence[ImageFacts], config: AuditConfig, now: dt.datetime) -> list[Finding]:
    """Every finding for ``images`` (owned AMIs of any number of regions), in a stable order.

    The "newest N" ranking is computed per region and per image group over *all* given images, so pass
    a region's complete inventory.
    """
    kept = newest_ids((i for i in images if i.proven), config.keep)
    findings: list[Finding] = []
    for image in images:
        ref = f"AMI {image.image_id} ({image.name or 'unnamed'}) in {image.region}"
        if image.public:
            findings.append(
                _finding(
                    image,
                    Check.PUBLIC,
                    f"{ref} is public (launch permission group 'all'). Remove the public launch permission.",
                )
            )
        outside = [
            p.target
            for p in image.launch_permissions or ()
            if p.group is None and not config.allow.allows(p, image.owner_id)
        ]
        if outside:
            findings.append(
                _finding(
                    image,
                    Check.SHARED,
                    f"{ref} is shared with {', '.join(sorted(outside))}, outside the allow-list. "
                    "Remove those launch permissions or add the targets to the allow-list.",
                )
            )
        if image.unencrypted_snapshot_ids:
            findings.append(
                _finding(
                    image,
                    Check.UNENCRYPTED,
                    f"{ref} has unencrypted EBS snapshots ({', '.join(image.unencrypted_snapshot_ids)}). "
                    "Rebuild it with an encrypted (CMK) recipe or copy it with encryption.",
                )
            )
        missing = missing_tag_keys(dict(image.tags), config.required_tags)
        if missing:
            findings.append(
                _finding(
                    image,
                    Check.MISSING_TAGS,
                    f"{ref} lacks required tags: {', '.join(missing)}. "
                    "Tag it or rebuild it from the catalog.",
                )
            )
        age = image.age_days(now)
        if age > config.max_age_days and image.deprecation_time is None:
            findings.append(
                _finding(
                    image,
                    Check.STALE,
                    f"{ref} is {age} days old (limit {config.max_age_days}) and has no deprecation time. "
                    "Set one (golden-images cleanup --deprecate-after DAYS --apply) or deregister it.",
                )
            )
        for snapshot, targets in sorted(image.snapshot_shares.items()):
            if "all" in targets:
                findings.append(
                    _finding(
                        image,
                        Check.PUBLIC_SNAPSHOT,
                        f"{ref}: snapshot {snapshot} is public (createVolumePermission group 'all'). "
                        "Remove it: anyone can copy the disk.",
                    )
                )
            others = sorted(t for t in targets if t != "all" and t not in config.allow.accounts)
            if others:
                findings.append(
                    _finding(
                        image,
                        Check.SHARED_SNAPSHOT,
                        f"{ref}: snapshot {snapshot} grants createVolumePermission to {', '.join(others)}. "
                        "Share the AMI instead (launch permissions) and remove the volume permission.",
                    )
                )
        if image.aws_managed_key_snapshots:
            findings.append(
                _finding(
                    image,
                    Check.AWS_MANAGED_KEY,
                    f"{ref} has snapshots encrypted with an AWS-managed KMS key "
                    f"({', '.join(image.aws_managed_key_snapshots)}): it cannot be shared with other accounts "
                    "and its key policy is not yours. Rebuild it with the region's customer-managed key.",
                )
            )
        if image.deregistration_protected:
            findings.append(
                _finding(
                    image,
                    Check.PROTECTED,
                    f"{ref} has deregistration protection; cleanup leaves it alone until it is disabled.",
                )
            )
        claims = image.managed or image.golden_image is not None
        if claims and not image.proven:
            findings.append(
                _finding(
                    image,
                    Check.UNVERIFIED,
                    f"{ref} carries golden-images tags but its provenance is not proven: "
                    f"{image.provenance.reason}. cleanup never touches it; check who built it.",
                )
            )
        if image.proven and not image.in_use and image.image_id not in kept:
            findings.append(
                _finding(
                    image,
                    Check.UNUSED,
                    f"{ref} is proven ours, nothing in the region uses it, and it is not among the newest "
                    f"{config.keep} versions of {image.golden_image!r} in {image.environment!r}. "
                    "Let golden-images cleanup deregister it.",
                )
            )
        if not claims:
            findings.append(
                _finding(
                    image,
                    Check.UNMANAGED,
                    f"{ref} is not managed by golden-images (no managed-by=golden-images tag). "
                    "Build it from the catalog or move it out of the account.",
                )
            )
    findings.sort(key=lambda f: (f.region, f.image_id, -f.severity, f.check.value))
    return findings


def _revoked_label(revoked: RevokedAmi) -> str:
    cause = f", built on the revoked {revoked.cause}" if revoked.cause is not None else ""
    at = revoked.at.isoformat().replace("+00:00", "Z")
    return f"{revoked.ref} (revoked since {at}: {revoked.reason}{cause})"


def revoked_findings(
    region: str,
    images: Sequence[ImageFacts],
    usage: Mapping[str, Sequence[str]],
    revoked: Mapping[str, RevokedAmi],
) -> list[Finding]:
    """Findings of one region for the registry's revoked AMIs (``revoked``: AMI id → version, due
    revocations only): an owned, ``available`` AMI of a revoked version is still launchable (deprecation does
    not stop a launch by id); instances in :data:`LIVE_STATES` still run one, whoever owns it (``usage`` is
    the region's image id → users map)."""
    findings: list[Finding] = []
    owned = {i.image_id: i for i in images}
    for image_id, entry in sorted(revoked.items()):
        image = owned.get(image_id)
        label = _revoked_label(entry)
        if image is not None and image.state == "available":
            others = [u for u in image.usage if not u.startswith("i-")]
            used = f" It is still referenced by {', '.join(others)}." if others else ""
            findings.append(
                _finding(
                    image,
                    Check.REVOKED_LAUNCHABLE,
                    f"AMI {image_id} ({image.name or 'unnamed'}) in {region} is {label} and can still be "
                    f"launched.{used} Deprecate it (aws ec2 enable-image-deprecation) and deregister it once nothing "
                    "runs it; pulumi previews are stopped by golden-image-launch-not-revoked with the registry's "
                    "policy config, launches outside Pulumi are not.",
                )
            )
        live = [
            u
            for u in usage.get(image_id, ())
            if u.startswith("i-") and u.rsplit("(", 1)[-1].rstrip(")") in LIVE_STATES
        ]
        if live:
            findings.append(
                Finding(
                    region=region,
                    image_id=image_id,
                    image_name=image.name if image is not None else "",
                    golden_image=entry.ref.image,
                    version=entry.ref.version,
                    check=Check.REVOKED_RUNNING,
                    severity=SEVERITY[Check.REVOKED_RUNNING],
                    message=f"AMI {image_id} in {region} is {label}, and instances still run it: "
                    f"{', '.join(live)}. Replace them with a good version (a channel's current AMI).",
                )
            )
    return findings


def _sorted_images(images: Iterable[ImageFacts]) -> tuple[ImageFacts, ...]:
    return tuple(sorted(images, key=lambda i: (i.region, i.group, i.created, i.image_id)))


def run_audit(
    factory: ClientFactory,
    regions: Sequence[str],
    config: AuditConfig,
    *,
    now: dt.datetime | None = None,
    concurrency: int = 4,
    workers: int = 8,
    progress: Progress | None = None,
    registry: Registry | None = None,
) -> AuditReport:
    """Audit ``regions`` in parallel (at most ``concurrency`` at once, ``workers`` permission lookups per
    region). A region whose calls fail (after botocore's retries) is recorded in ``failed_regions``.
    ``registry`` (default: the project's ``stacks/registry.yaml``, found from the working directory) adds the
    revoked-AMI checks; an invalid registry file fails every region (the report would be silently partial)."""
    now = now or dt.datetime.now(dt.UTC)
    unique = tuple(dict.fromkeys(regions))
    try:
        revoked = revoked_amis(registry if registry is not None else project_registry(), now)
    except RegistryError as exc:
        problem = f"the image registry is invalid, so revoked AMIs cannot be checked: {exc}"
        return AuditReport(
            generated_at=now,
            regions=unique,
            config=config,
            images=(),
            findings=(),
            failed_regions={r: problem for r in sorted(unique)},
        )
    for region in unique:  # created up front, one after the other (a boto3 session is not thread-safe)
        for service in ("ec2", "ssm", "autoscaling", "imagebuilder", "kms"):
            factory.client(service, region)
    images: list[ImageFacts] = []
    findings: list[Finding] = []
    failed: dict[str, str] = {}

    def one(region: str) -> tuple[str, RegionInventory | None, str | None]:
        try:
            inv = read_region(
                factory,
                region,
                with_launch_permissions=True,
                with_snapshots=True,
                workers=workers,
                progress=progress,
            )
        except AWS_ERRORS as exc:
            return region, None, error_text(exc)
        return region, inv, None

    with ThreadPoolExecutor(max_workers=max(1, min(concurrency, len(unique) or 1))) as pool:
        for region, inv, error in pool.map(one, unique):
            if inv is None:
                failed[region] = error or "unknown error"
                continue
            images.extend(inv.images)
            findings.extend(evaluate(inv.images, config, now))
            findings.extend(revoked_findings(region, inv.images, inv.usage, revoked))
    findings.sort(key=lambda f: (f.region, f.image_id, -f.severity, f.check.value))
    return AuditReport(
        generated_at=now,
        regions=unique,
        config=config,
        images=_sorted_images(images),
        findings=tuple(findings),
        failed_regions=dict(sorted(failed.items())),
    )
