"""``golden-images cleanup``: retire old golden AMIs safely.

:func:`plan_cleanup` is pure and decides, per image, *deregister/deprecate* or *keep, because …*. An image
is eligible only when all of these hold:

1. it is managed by golden-images (``managed-by=golden-images``);
2. nothing uses it (no live instance, no launch template version of any number);
3. it is older than the retention (``retention_days``, default 90);
4. it is not among the newest ``keep`` versions (default 3) of its ``golden-image`` in its region;
5. it is available (never touch an image that is still being created).

A snapshot is deleted with its image unless another image of the region that stays still references it.
:func:`apply_plan` deregisters, waits until EC2 no longer lists the images (a custom botocore waiter, so
``DeleteSnapshot`` does not race the deregistration), then deletes the snapshots. With
``deprecate_after`` the eligible images get ``EnableImageDeprecation`` instead and nothing is deleted.
"""

from __future__ import annotations

import datetime as dt
import enum
from collections import defaultdict
from collections.abc import Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError, WaiterError  # type: ignore[import-untyped,unused-ignore]
from botocore.waiter import WaiterModel, create_waiter_with_client  # type: ignore[import-untyped,unused-ignore]

from golden_images.tools.aws import ClientFactory, error_code, error_text
from golden_images.tools.facts import ImageFacts, newest_ids
from golden_images.tools.inventory import Progress, read_region


class Action(enum.StrEnum):
    """What cleanup does with an eligible image."""

    DEREGISTER = "deregister"
    DEPRECATE = "deprecate"


@dataclass(frozen=True)
class CleanupPolicy:
    """Eligibility rules. ``deprecate_after``: set a deprecation time that many days ahead instead of
    deregistering. ``images``: restrict to these ``golden-image`` names (empty: all)."""

    keep: int = 3
    retention_days: int = 90
    deprecate_after: int | None = None
    images: frozenset[str] = frozenset()

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
    """An owned image cleanup leaves alone, and why."""

    image: ImageFacts
    reason: str


@dataclass(frozen=True)
class CleanupPlan:
    """The decisions for a set of images."""

    candidates: tuple[Candidate, ...]
    kept: tuple[Kept, ...]


@dataclass(frozen=True)
class Outcome:
    """What happened when a candidate was applied."""

    region: str
    image_id: str
    action: Action
    ok: bool
    error: str | None = None
    deleted_snapshots: tuple[str, ...] = ()
    snapshot_errors: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class CleanupReport:
    """Plan, what was applied (empty on a dry run) and the regions that could not be read."""

    generated_at: dt.datetime
    regions: tuple[str, ...]
    policy: CleanupPolicy
    applied: bool
    plan: CleanupPlan
    outcomes: tuple[Outcome, ...]
    failed_regions: dict[str, str]

    @property
    def partial(self) -> bool:
        """True when a region failed."""
        return bool(self.failed_regions)

    @property
    def ok(self) -> bool:
        """No failed region and every applied action (and snapshot deletion) succeeded."""
        return not self.partial and all(o.ok and not o.snapshot_errors for o in self.outcomes)


def _keep_reason(
    image: ImageFacts, policy: CleanupPolicy, newest: frozenset[str], now: dt.datetime
) -> str | None:
    if not image.managed:
        return "not managed by golden-images"
    if policy.images and image.golden_image not in policy.images:
        return "not selected (--image)"
    if image.in_use:
        users = ", ".join(image.usage[:3]) + (" …" if len(image.usage) > 3 else "")
        return f"in use by {users}"
    if image.image_id in newest:
        return f"among the newest {policy.keep} versions of {image.golden_image or image.name}"
    if image.age_days(now) <= policy.retention_days:
        return f"{image.age_days(now)} days old, within the {policy.retention_days}-day retention"
    if image.state != "available":
        return f"state is {image.state}"
    if policy.action is Action.DEPRECATE and policy.deprecate_after is not None:
        target = now + dt.timedelta(days=policy.deprecate_after)
        if image.deprecation_time is not None and image.deprecation_time <= target:
            return f"already deprecated at {image.deprecation_time.isoformat()}"
    return None


def plan_cleanup(images: Sequence[ImageFacts], policy: CleanupPolicy, now: dt.datetime) -> CleanupPlan:
    """Decide for every image (pass each region's complete owned inventory: the newest-N ranking and the
    snapshot sharing check look at all of them)."""
    newest = newest_ids((i for i in images if i.managed), policy.keep)
    chosen: list[ImageFacts] = []
    kept: list[Kept] = []
    for image in images:
        reason = _keep_reason(image, policy, newest, now)
        if reason is None:
            chosen.append(image)
        else:
            kept.append(Kept(image, reason))
    chosen_ids = {i.image_id for i in chosen}
    # Snapshots still referenced by an image that stays (in the same region) must survive.
    staying: dict[str, set[str]] = defaultdict(set)
    for image in images:
        if image.image_id not in chosen_ids:
            staying[image.region].update(image.snapshot_ids)
    candidates: list[Candidate] = []
    for image in chosen:
        why = (
            f"unused, {image.age_days(now)} days old (retention {policy.retention_days}), "
            f"not among the newest {policy.keep} of {image.golden_image or image.name}"
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
    return CleanupPlan(candidates=tuple(candidates), kept=tuple(kept))


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


def _deregister(ec2: Any, candidate: Candidate) -> Outcome:
    image = candidate.image
    try:
        ec2.deregister_image(ImageId=image.image_id)
    except (ClientError, BotoCoreError) as exc:
        return Outcome(image.region, image.image_id, Action.DEREGISTER, ok=False, error=error_text(exc))
    return Outcome(image.region, image.image_id, Action.DEREGISTER, ok=True)


def _delete_snapshots(ec2: Any, outcome: Outcome, snapshots: Iterable[str]) -> Outcome:
    deleted: list[str] = []
    errors: dict[str, str] = {}
    for snapshot in snapshots:
        try:
            ec2.delete_snapshot(SnapshotId=snapshot)
        except (ClientError, BotoCoreError) as exc:
            if error_code(exc) == "InvalidSnapshot.NotFound":
                deleted.append(snapshot)  # already gone: the goal state holds
            else:
                errors[snapshot] = error_text(exc)
        else:
            deleted.append(snapshot)
    return Outcome(
        outcome.region,
        outcome.image_id,
        outcome.action,
        ok=outcome.ok,
        error=outcome.error,
        deleted_snapshots=tuple(deleted),
        snapshot_errors=errors,
    )


def _deprecate(ec2: Any, candidate: Candidate) -> Outcome:
    image = candidate.image
    assert candidate.deprecate_at is not None
    try:
        ec2.enable_image_deprecation(ImageId=image.image_id, DeprecateAt=candidate.deprecate_at)
    except (ClientError, BotoCoreError) as exc:
        return Outcome(image.region, image.image_id, Action.DEPRECATE, ok=False, error=error_text(exc))
    return Outcome(image.region, image.image_id, Action.DEPRECATE, ok=True)


def apply_region(ec2: Any, candidates: Sequence[Candidate], *, workers: int = 4) -> list[Outcome]:
    """Apply one region's candidates. Snapshots are only deleted for images whose deregistration
    succeeded and was observed by the waiter."""
    if not candidates:
        return []
    with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
        if candidates[0].action is Action.DEPRECATE:
            return list(pool.map(lambda c: _deprecate(ec2, c), candidates))
        outcomes = list(pool.map(lambda c: _deregister(ec2, c), candidates))
        done = [o.image_id for o in outcomes if o.ok]
        try:
            wait_deregistered(ec2, done)
        except (WaiterError, ClientError, BotoCoreError) as exc:
            # Without confirmation, deleting snapshots could fail half-way; report and keep them.
            msg = f"deregistered, snapshots kept: {error_text(exc)}"
            return [
                Outcome(o.region, o.image_id, o.action, ok=False, error=msg) if o.ok else o for o in outcomes
            ]
        by_id = {c.image.image_id: c for c in candidates}
        return list(
            pool.map(
                lambda o: _delete_snapshots(ec2, o, by_id[o.image_id].snapshots) if o.ok else o,
                outcomes,
            )
        )


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
) -> CleanupReport:
    """Plan (and with ``apply`` carry out) the cleanup of ``regions`` in parallel; a region that cannot be
    read is reported in ``failed_regions`` and nothing is done there."""
    now = now or dt.datetime.now(dt.UTC)
    unique = tuple(dict.fromkeys(regions))
    clients = {region: factory.client("ec2", region) for region in unique}

    def one(region: str) -> tuple[str, CleanupPlan | None, list[Outcome], str | None]:
        try:
            inv = read_region(clients[region], region, with_launch_permissions=False, progress=progress)
        except (ClientError, BotoCoreError) as exc:
            return region, None, [], error_text(exc)
        plan = plan_cleanup(inv.images, policy, now)
        outcomes = apply_region(clients[region], plan.candidates, workers=workers) if apply else []
        return region, plan, outcomes, None

    candidates: list[Candidate] = []
    kept: list[Kept] = []
    outcomes: list[Outcome] = []
    failed: dict[str, str] = {}
    with ThreadPoolExecutor(max_workers=max(1, min(concurrency, len(unique) or 1))) as pool:
        for region, plan, region_outcomes, error in pool.map(one, unique):
            if plan is None:
                failed[region] = error or "unknown error"
                continue
            candidates.extend(plan.candidates)
            kept.extend(plan.kept)
            outcomes.extend(region_outcomes)
    return CleanupReport(
        generated_at=now,
        regions=unique,
        policy=policy,
        applied=apply,
        plan=CleanupPlan(tuple(candidates), tuple(kept)),
        outcomes=tuple(outcomes),
        failed_regions=dict(sorted(failed.items())),
    )
