"""``golden-images cleanup``: retire old golden AMIs safely — it errs on keeping.

:func:`plan_cleanup` is pure and decides, per image, *deregister/deprecate* or *keep, because …* (each kept
image carries a stable :class:`KeepCode` and a sentence). An image is eligible only when all of these hold,
checked in this order (the first that fails is the reason shown):

1. it is proven ours (``Ec2ImageBuilderArn`` naming our recipe, confirmed by ``GetImage``; see
   :mod:`golden_images.tools.facts`) — tags alone are not proof;
2. it is selected (``--image``);
3. the image registry (``stacks/registry.yaml``) does not need it: no channel points at it, and it is not
   the newest good version before a revoked one (the rollback target; :mod:`golden_images.registry.day2`);
4. it has no deregistration protection;
5. nothing in the region uses it (:mod:`golden_images.tools.inventory` lists the sources);
6. it is not shared (launch permissions to accounts, OUs, organisations or the public): use in other
   accounts is invisible from here, so a shared image counts as in use — unless ``include_shared`` *and* it
   has been deprecated for longer than ``shared_grace_days``;
7. it is not among the newest ``keep`` proven versions of its (image, environment) in its region;
8. it is older than ``retention_days``; 9. it is ``available``.

Applying a deregistration is, per image: tag the snapshots that will go with it (``golden-images:
cleanup-of=<ami>``, ``golden-images:image-builder-arn=<arn>``: the provenance a later run trusts) →
``EnableImageDeprecation`` (unless already deprecated) → ``DeregisterImage`` → wait until EC2 no longer
lists it → ``DeleteSnapshot``; every step's outcome is recorded and a failed step stops that image. A run
interrupted between deregistration and snapshot deletion leaves tagged snapshots whose AMI is gone: the
next run lists them as *orphans* and deletes them (never an untagged snapshot, never one an image still
references). With ``deprecate_after`` the eligible images only get a deprecation time.
"""

from __future__ import annotations

import datetime as dt
import enum
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from typing import Any

from botocore.exceptions import WaiterError  # type: ignore[import-untyped,unused-ignore]
from botocore.waiter import WaiterModel, create_waiter_with_client  # type: ignore[import-untyped,unused-ignore]

from golden_images.registry.day2 import project_registry, protected_amis
from golden_images.registry.model import Registry
from golden_images.registry.store import RegistryError
from golden_images.tools.aws import AWS_ERRORS, ClientFactory, error_code, error_text
from golden_images.tools.facts import ImageFacts, newest_ids, tag_map
from golden_images.tools.inventory import IMAGE_BUILDER_GAP, Progress, read_region

#: Tags cleanup puts on the snapshots it is about to delete (before the AMI is deregistered).
MARK_AMI = "golden-images:cleanup-of"
MARK_ARN = "golden-images:image-builder-arn"


class KeepCode(enum.StrEnum):
    """Why an image is kept (stable values for ``--json``)."""

    UNPROVEN = "unproven"
    NOT_SELECTED = "not-selected"
    REGISTRY = "registry"
    PROTECTED = "deregistration-protection"
    IN_USE = "in-use"
    SHARED = "shared"
    NEWEST = "newest"
    RETENTION = "retention"
    STATE = "state"
    DEPRECATED = "already-deprecated"


class Action(enum.StrEnum):
    """What cleanup does with an eligible image."""

    DEREGISTER = "deregister"
    DEPRECATE = "deprecate"


@dataclass(frozen=True)
class CleanupPolicy:
    """Eligibility rules. ``keep`` newest proven versions per (image, environment) and region (default 3);
    ``retention_days`` (default 90); ``deprecate_after``: set a deprecation time that many days ahead
    instead of deregistering (default ``None``: deregister); ``images``: restrict to these ``golden-image``
    names (empty, the default: all); ``include_shared``: allow shared images that have been deprecated for
    more than ``shared_grace_days`` (default ``False``, 30 days)."""

    keep: int = 3
    retention_days: int = 90
    deprecate_after: int | None = None
    images: frozenset[str] = frozenset()
    include_shared: bool = False
    shared_grace_days: int = 30

    @property
    def action(self) -> Action:
        """Deregister by default; deprecate when ``deprecate_after`` is set."""
        return Action.DEPRECATE if self.deprecate_after is not None else Action.DEREGISTER


@dataclass(frozen=True)
class Candidate:
    """An image cleanup acts on, why, and which snapshots go with it."""

    image: ImageFacts
    action: Action
    reason: str
    snapshots: tuple[str, ...] = ()
    deprecate_at: dt.datetime | None = None


@dataclass(frozen=True)
class Kept:
    """An owned image cleanup leaves alone, why (``reason``) and the stable ``code`` of that reason."""

    image: ImageFacts
    reason: str
    code: KeepCode = KeepCode.UNPROVEN


@dataclass(frozen=True)
class Orphan:
    """A snapshot a previous cleanup tagged for deletion whose AMI no longer exists."""

    region: str
    snapshot_id: str
    image_id: str


@dataclass(frozen=True)
class CleanupPlan:
    """The decisions for a set of images, plus orphaned snapshots of interrupted runs."""

    candidates: tuple[Candidate, ...]
    kept: tuple[Kept, ...]
    orphans: tuple[Orphan, ...] = ()


@dataclass(frozen=True)
class Outcome:
    """What happened when a candidate (or an orphan, ``action`` deregister, ``image_id`` its former AMI)
    was applied. ``steps``: step name → ``"ok"``, ``"skipped: …"`` or the error, in the order run."""

    region: str
    image_id: str
    action: Action
    ok: bool
    error: str | None = None
    deleted_snapshots: tuple[str, ...] = ()
    snapshot_errors: dict[str, str] = field(default_factory=dict)
    steps: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class CleanupReport:
    """Plan, what was applied (empty on a dry run), the regions that could not be read, usage sources that
    could not be read where that is tolerated (``gaps``: region → source → error), and whether the user
    declined the confirmation."""

    generated_at: dt.datetime
    regions: tuple[str, ...]
    policy: CleanupPolicy
    applied: bool
    plan: CleanupPlan
    outcomes: tuple[Outcome, ...]
    failed_regions: dict[str, str]
    gaps: dict[str, dict[str, str]] = field(default_factory=dict)
    declined: bool = False

    @property
    def partial(self) -> bool:
        """True when a region failed."""
        return bool(self.failed_regions)

    @property
    def ok(self) -> bool:
        """No failed region and every applied action (and snapshot deletion) succeeded."""
        return not self.partial and all(o.ok and not o.snapshot_errors for o in self.outcomes)


def _users(values: Sequence[str]) -> str:
    return ", ".join(values[:3]) + (f" and {len(values) - 3} more" if len(values) > 3 else "")


def _keep_reason(
    image: ImageFacts,
    policy: CleanupPolicy,
    newest: frozenset[str],
    now: dt.datetime,
    registry_keep: Mapping[str, str],
) -> tuple[KeepCode, str] | None:
    if not image.proven:
        return KeepCode.UNPROVEN, f"not proven ours: {image.provenance.reason}"
    if policy.images and image.golden_image not in policy.images:
        return KeepCode.NOT_SELECTED, "not selected (--image)"
    if image.image_id in registry_keep:
        return KeepCode.REGISTRY, f"the image registry needs it: {registry_keep[image.image_id]}"
    if image.deregistration_protected:
        return KeepCode.PROTECTED, "deregistration protection is enabled"
    if image.in_use:
        return KeepCode.IN_USE, f"in use by {_users(image.usage)}"
    shared = image.shared_with
    if shared:
        if not policy.include_shared:
            return KeepCode.SHARED, (
                f"shared with {_users(shared)}: use there is invisible from this account "
                "(--include-shared allows it once deprecated long enough)"
            )
        limit = now - dt.timedelta(days=policy.shared_grace_days)
        if image.deprecation_time is None or image.deprecation_time > limit:
            return KeepCode.SHARED, (
                f"shared with {_users(shared)} and not deprecated for more than "
                f"{policy.shared_grace_days} days"
            )
    if image.image_id in newest:
        return KeepCode.NEWEST, (
            f"among the newest {policy.keep} versions of {image.golden_image} in {image.environment}"
        )
    if image.age_days(now) <= policy.retention_days:
        return KeepCode.RETENTION, (
            f"{image.age_days(now)} days old, within the {policy.retention_days}-day retention"
        )
    if image.state != "available":
        return KeepCode.STATE, f"state is {image.state}"
    if policy.action is Action.DEPRECATE and policy.deprecate_after is not None:
        target = now + dt.timedelta(days=policy.deprecate_after)
        if image.deprecation_time is not None and image.deprecation_time <= target:
            return KeepCode.DEPRECATED, f"already deprecated at {image.deprecation_time.isoformat()}"
    return None


def plan_cleanup(
    images: Sequence[ImageFacts],
    policy: CleanupPolicy,
    now: dt.datetime,
    orphans: Sequence[Orphan] = (),
    registry_keep: Mapping[str, str] | None = None,
) -> CleanupPlan:
    """Decide for every image (pass each region's complete owned inventory: the newest-N ranking and the
    snapshot sharing check look at all of them). Only proven images rank. ``registry_keep`` (AMI id → why;
    default none) are the AMIs the image registry needs (:func:`golden_images.registry.day2.protected_amis`)."""
    newest = newest_ids((i for i in images if i.proven), policy.keep)
    keep = registry_keep or {}
    chosen: list[ImageFacts] = []
    kept: list[Kept] = []
    for image in images:
        decision = _keep_reason(image, policy, newest, now, keep)
        if decision is None:
            chosen.append(image)
        else:
            kept.append(Kept(image, decision[1], decision[0]))
    chosen_ids = {i.image_id for i in chosen}
    # Snapshots still referenced by an image that stays (in the same region) must survive.
    staying: dict[str, set[str]] = defaultdict(set)
    for image in images:
        if image.image_id not in chosen_ids:
            staying[image.region].update(image.snapshot_ids)
    candidates: list[Candidate] = []
    for image in chosen:
        why = (
            f"ours ({image.provenance.source}), unused, unshared, {image.age_days(now)} days old "
            f"(retention {policy.retention_days}), not among the newest {policy.keep} of "
            f"{image.golden_image} in {image.environment}"
        )
        if policy.action is Action.DEPRECATE:
            assert policy.deprecate_after is not None
            candidates.append(
                Candidate(
                    image,
                    Action.DEPRECATE,
                    why,
                    deprecate_at=now + dt.timedelta(days=policy.deprecate_after),
                )
            )
        else:
            snaps = tuple(s for s in image.snapshot_ids if s not in staying[image.region])
            candidates.append(Candidate(image, Action.DEREGISTER, why, snapshots=snaps))
    order = lambda i: (i.region, i.group, i.created, i.image_id)  # noqa: E731
    candidates.sort(key=lambda c: order(c.image))
    kept.sort(key=lambda k: order(k.image))
    safe_orphans = tuple(
        o for o in orphans if o.snapshot_id not in staying[o.region] | _chosen_snaps(candidates)
    )
    return CleanupPlan(candidates=tuple(candidates), kept=tuple(kept), orphans=safe_orphans)


def _chosen_snaps(candidates: Iterable[Candidate]) -> set[str]:
    return {s for c in candidates for s in c.image.snapshot_ids}


def find_orphans(ec2: Any, region: str, images: Sequence[ImageFacts]) -> list[Orphan]:
    """Snapshots tagged by an earlier cleanup (:data:`MARK_AMI` and :data:`MARK_ARN`) whose AMI is no longer
    owned in the region and that no owned image references."""
    owned = {i.image_id for i in images}
    referenced = {s for i in images for s in i.snapshot_ids}
    orphans: list[Orphan] = []
    for page in ec2.get_paginator("describe_snapshots").paginate(
        OwnerIds=["self"], Filters=[{"Name": "tag-key", "Values": [MARK_AMI]}]
    ):
        for snapshot in page.get("Snapshots", ()):
            tags = tag_map(snapshot.get("Tags"))
            image_id = tags.get(MARK_AMI, "")
            if not image_id.startswith("ami-") or not tags.get(MARK_ARN):
                continue
            if image_id in owned or snapshot["SnapshotId"] in referenced:
                continue  # the image still exists (the earlier run stopped before deregistering)
            orphans.append(Orphan(region, str(snapshot["SnapshotId"]), image_id))
    return sorted(orphans, key=lambda o: o.snapshot_id)


# DescribeImages filtered by id returns nothing once an image is deregistered (an id lookup may still
# return it for a while, hence the filter). Success also on NotFound for older API behaviour.
_WAITERS = WaiterModel(
    {
        "version": 2,
        "waiters": {
            "ImageDeregistered": {
                "operation": "DescribeImages",
                "delay": 2,
                "maxAttempts": 30,
                "acceptors": [
                    {
                        "matcher": "path",
                        "argument": "length(Images[]) == `0`",
                        "expected": True,
                        "state": "success",
                    },
                    {"matcher": "error", "expected": "InvalidAMIID.NotFound", "state": "success"},
                ],
            }
        },
    }
)


def wait_deregistered(ec2: Any, image_ids: Sequence[str]) -> None:
    """Block until none of ``image_ids`` is listed any more (chunks of 200 filter values)."""
    waiter = create_waiter_with_client("ImageDeregistered", _WAITERS, ec2)
    for start in range(0, len(image_ids), 200):
        chunk = list(image_ids[start : start + 200])
        waiter.wait(Owners=["self"], Filters=[{"Name": "image-id", "Values": chunk}])


def _step(ec2: Any, steps: dict[str, str], name: str, call: Callable[[], Any]) -> bool:
    try:
        call()
    except AWS_ERRORS as exc:
        steps[name] = error_text(exc)
        return False
    steps[name] = "ok"
    return True


def _failed(candidate: Candidate, steps: dict[str, str], step: str) -> Outcome:
    image = candidate.image
    return Outcome(
        image.region, image.image_id, candidate.action, ok=False, error=f"{step}: {steps[step]}", steps=steps
    )


def _retire(ec2: Any, candidate: Candidate, now: dt.datetime) -> Outcome:
    """Mark the snapshots, deprecate, deregister (the waiter and the deletions follow per region)."""
    image = candidate.image
    steps: dict[str, str] = {}
    if candidate.snapshots:
        tags = [
            {"Key": MARK_AMI, "Value": image.image_id},
            {"Key": MARK_ARN, "Value": image.provenance.arn or ""},
        ]
        if not _step(
            ec2,
            steps,
            "mark-snapshots",
            lambda: ec2.create_tags(Resources=list(candidate.snapshots), Tags=tags),
        ):
            return _failed(candidate, steps, "mark-snapshots")
    if image.deprecation_time is not None and image.deprecation_time <= now:
        steps["deprecate"] = f"skipped: deprecated since {image.deprecation_time.isoformat()}"
    else:
        # EC2 refuses a deprecation time in the past and rounds to the minute: the next whole minute.
        at = (now + dt.timedelta(minutes=1)).replace(second=0, microsecond=0)
        if not _step(
            ec2,
            steps,
            "deprecate",
            lambda: ec2.enable_image_deprecation(ImageId=image.image_id, DeprecateAt=at),
        ):
            return _failed(candidate, steps, "deprecate")
    if not _step(ec2, steps, "deregister", lambda: ec2.deregister_image(ImageId=image.image_id)):
        return _failed(candidate, steps, "deregister")
    return Outcome(image.region, image.image_id, Action.DEREGISTER, ok=True, steps=steps)


def _delete_snapshots(ec2: Any, outcome: Outcome, snapshots: Iterable[str]) -> Outcome:
    deleted: list[str] = []
    errors: dict[str, str] = {}
    for snapshot in snapshots:
        try:
            ec2.delete_snapshot(SnapshotId=snapshot)
        except AWS_ERRORS as exc:
            if error_code(exc) == "InvalidSnapshot.NotFound":
                deleted.append(snapshot)  # already gone: the goal state holds
            else:
                errors[snapshot] = error_text(exc)
        else:
            deleted.append(snapshot)
    steps = dict(outcome.steps)
    steps["delete-snapshots"] = "ok" if not errors else f"{len(errors)} failed"
    return replace(outcome, deleted_snapshots=tuple(deleted), snapshot_errors=errors, steps=steps)


def _deprecate(ec2: Any, candidate: Candidate) -> Outcome:
    image = candidate.image
    assert candidate.deprecate_at is not None
    steps: dict[str, str] = {}
    at = candidate.deprecate_at
    if not _step(
        ec2, steps, "deprecate", lambda: ec2.enable_image_deprecation(ImageId=image.image_id, DeprecateAt=at)
    ):
        return _failed(candidate, steps, "deprecate")
    return Outcome(image.region, image.image_id, Action.DEPRECATE, ok=True, steps=steps)


def apply_region(
    ec2: Any,
    candidates: Sequence[Candidate],
    *,
    orphans: Sequence[Orphan] = (),
    workers: int = 4,
    now: dt.datetime | None = None,
) -> list[Outcome]:
    """Apply one region's candidates (and delete its orphaned snapshots). Snapshots are only deleted for
    images whose deregistration succeeded and was observed by the waiter."""
    now = now or dt.datetime.now(dt.UTC)
    outcomes: list[Outcome] = []
    with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
        if orphans:
            for orphan in orphans:
                base = Outcome(
                    orphan.region, orphan.image_id, Action.DEREGISTER, ok=True, steps={"orphan": "ok"}
                )
                outcomes.append(_delete_snapshots(ec2, base, [orphan.snapshot_id]))
        if not candidates:
            return outcomes
        if candidates[0].action is Action.DEPRECATE:
            return outcomes + list(pool.map(lambda c: _deprecate(ec2, c), candidates))
        retired = list(pool.map(lambda c: _retire(ec2, c, now), candidates))
        done = [o.image_id for o in retired if o.ok]
        try:
            wait_deregistered(ec2, done)
        except (WaiterError, *AWS_ERRORS) as exc:
            # Without confirmation, deleting snapshots could fail half-way; keep them (they are tagged: the
            # next run deletes them once the AMI is gone).
            msg = f"deregistered, snapshots kept for the next run: {error_text(exc)}"
            return outcomes + [replace(o, ok=False, error=msg) if o.ok else o for o in retired]
        by_id = {c.image.image_id: c for c in candidates}
        return outcomes + list(
            pool.map(
                lambda o: _delete_snapshots(ec2, o, by_id[o.image_id].snapshots) if o.ok else o,
                retired,
            )
        )


#: ``confirm(report)`` → proceed? Called once with the complete dry-run report before anything changes.
Confirm = Callable[["CleanupReport"], bool]


def run_cleanup(
    factory: ClientFactory,
    regions: Sequence[str],
    policy: CleanupPolicy,
    *,
    apply: bool,
    now: dt.datetime | None = None,
    concurrency: int = 4,
    workers: int = 4,
    progress: Progress | None = None,
    confirm: Confirm | None = None,
    registry: Registry | None = None,
) -> CleanupReport:
    """Plan every region in parallel, then (with ``apply``, and ``confirm`` returning ``True`` when given)
    carry the plan out. A region that cannot be read — including one whose Image Builder recipes cannot be
    listed, so that "no recipe uses it" is unproven — is reported in ``failed_regions`` and nothing is done
    there. ``registry`` (default: the project's ``stacks/registry.yaml``, found from the working directory)
    decides which AMIs channels and rollbacks need; an invalid registry file fails every region (nothing is
    planned or done: cleanup errs on keeping)."""
    now = now or dt.datetime.now(dt.UTC)
    unique = tuple(dict.fromkeys(regions))
    try:
        registry_keep = protected_amis(registry if registry is not None else project_registry())
    except RegistryError as exc:
        problem = f"the image registry is invalid, so what its channels need is unknown: {exc}"
        return CleanupReport(
            generated_at=now,
            regions=unique,
            policy=policy,
            applied=False,
            plan=CleanupPlan((), ()),
            outcomes=(),
            failed_regions={r: problem for r in sorted(unique)},
        )

    def plan_one(region: str) -> tuple[str, CleanupPlan | None, dict[str, str], str | None]:
        try:
            inv = read_region(
                factory, region, with_launch_permissions=True, workers=workers, progress=progress
            )
            if IMAGE_BUILDER_GAP in inv.gaps:
                return (
                    region,
                    None,
                    {},
                    (
                        "cannot prove that no Image Builder recipe uses these AMIs: "
                        + inv.gaps[IMAGE_BUILDER_GAP]
                    ),
                )
            orphans = find_orphans(factory.client("ec2", region), region, inv.images)
        except AWS_ERRORS as exc:
            return region, None, {}, error_text(exc)
        plan = plan_cleanup(inv.images, policy, now, orphans, registry_keep)
        return region, plan, dict(inv.gaps), None

    plans: dict[str, CleanupPlan] = {}
    gaps: dict[str, dict[str, str]] = {}
    failed: dict[str, str] = {}
    with ThreadPoolExecutor(max_workers=max(1, min(concurrency, len(unique) or 1))) as pool:
        for region, plan, region_gaps, error in pool.map(plan_one, unique):
            if plan is None:
                failed[region] = error or "unknown error"
                continue
            plans[region] = plan
            if region_gaps:
                gaps[region] = region_gaps
    merged = CleanupPlan(
        tuple(c for p in plans.values() for c in p.candidates),
        tuple(k for p in plans.values() for k in p.kept),
        tuple(o for p in plans.values() for o in p.orphans),
    )
    report = CleanupReport(
        generated_at=now,
        regions=unique,
        policy=policy,
        applied=False,
        plan=merged,
        outcomes=(),
        failed_regions=dict(sorted(failed.items())),
        gaps=dict(sorted(gaps.items())),
    )
    if not apply:
        return report
    if confirm is not None and (merged.candidates or merged.orphans) and not confirm(report):
        return replace(report, declined=True)

    def apply_one(region: str) -> list[Outcome]:
        plan = plans[region]
        return apply_region(
            factory.client("ec2", region), plan.candidates, orphans=plan.orphans, workers=workers, now=now
        )

    outcomes: list[Outcome] = []
    with ThreadPoolExecutor(max_workers=max(1, min(concurrency, len(plans) or 1))) as pool:
        for region_outcomes in pool.map(apply_one, list(plans)):
            outcomes.extend(region_outcomes)
    return replace(report, applied=True, outcomes=tuple(outcomes))
