"""Cleanup errs on keeping: the issue's scenario through the CLI on moto, each way an image is proven in use
or not ours, the order of the destructive steps, recovery after an interrupted run, failed regions without
a traceback, and the confirmation contract."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import boto3
import pytest
import typer
from botocore.awsrequest import AWSResponse
from typer.testing import CliRunner

from golden_images.tools import commands
from golden_images.tools.audit import AuditConfig, run_audit
from golden_images.tools.aws import ClientFactory
from golden_images.tools.cleanup import MARK_AMI, CleanupPolicy, KeepCode, run_cleanup
from golden_images.tools.inventory import image_usage
from tests.tools.conftest import ACCOUNT, GAPS, NOW, REGIONS, Seeder, golden_tags, tool_factory
from tests.tools.test_faults import _Raw

R = REGIONS[0]
OTHER_ACCOUNT = "222222222222"


def build_app() -> typer.Typer:
    app = typer.Typer()
    commands.register(app)
    return app


def seed_scenario(seed: Seeder) -> dict[str, str]:
    """The issue's account: ten AMIs, only three of them plain old golden versions."""
    ids = {
        # plain old golden versions: the only ones to go
        "prod-1.0.0": seed.image(
            R, name="base-1.0.0", tags=golden_tags("base", "1.0.0", "prod"), age_days=200
        ),
        "prod-1.1.0": seed.image(
            R, name="base-1.1.0", tags=golden_tags("base", "1.1.0", "prod"), age_days=150
        ),
        "dev-2.0.0": seed.image(R, name="base-2.0.0", tags=golden_tags("base", "2.0.0", "dev"), age_days=40),
        # shared with another account: its use there is invisible
        "prod-1.2.0-shared": seed.image(
            R,
            name="base-1.2.0",
            tags=golden_tags("base", "1.2.0", "prod"),
            age_days=120,
            share_accounts=[OTHER_ACCOUNT],
        ),
        # the newest prod version (dev's newer versions and a look-alike must not evict it)
        "prod-1.3.0-newest": seed.image(
            R, name="base-1.3.0", tags=golden_tags("base", "1.3.0", "prod"), age_days=30
        ),
        "dev-2.1.0-newest": seed.image(
            R, name="base-2.1.0", tags=golden_tags("base", "2.1.0", "dev"), age_days=5
        ),
        # used by an Auto Scaling launch configuration and its group
        "prod-0.9.0-asg": seed.image(
            R, name="base-0.9.0", tags=golden_tags("base", "0.9.0", "prod"), age_days=300
        ),
        # what an aws:ec2:image parameter points at, resolved by a launch template
        "prod-0.8.0-ssm": seed.image(
            R, name="base-0.8.0", tags=golden_tags("base", "0.8.0", "prod"), age_days=320
        ),
        # a team AMI that copied our tags (no Image Builder provenance)
        "team-9.0.0": seed.image(
            R,
            name="team-copy",
            tags=golden_tags("base", "9.0.0", "prod", Ec2ImageBuilderArn=None),
            age_days=60,
        ),
        # unrelated, only managed-by
        "unrelated": seed.image(R, name="unrelated", tags={"managed-by": "golden-images"}, age_days=400),
    }
    autoscaling = boto3.client("autoscaling", region_name=R)
    autoscaling.create_launch_configuration(
        LaunchConfigurationName="web-lc", ImageId=ids["prod-0.9.0-asg"], InstanceType="t3.micro"
    )
    autoscaling.create_auto_scaling_group(
        AutoScalingGroupName="web",
        LaunchConfigurationName="web-lc",
        MinSize=0,
        MaxSize=0,
        AvailabilityZones=[f"{R}a"],
    )
    boto3.client("ssm", region_name=R).put_parameter(
        Name="/team/web/ami", Value=ids["prod-0.8.0-ssm"], Type="String", DataType="aws:ec2:image"
    )
    seed.launch_template(R, "resolve:ssm:/team/web/ami")
    return ids


EXPECTED_KEPT = {
    "prod-1.2.0-shared": KeepCode.SHARED,
    "prod-1.3.0-newest": KeepCode.NEWEST,
    "dev-2.1.0-newest": KeepCode.NEWEST,
    "prod-0.9.0-asg": KeepCode.IN_USE,
    "prod-0.8.0-ssm": KeepCode.IN_USE,
    "team-9.0.0": KeepCode.UNPROVEN,
    "unrelated": KeepCode.UNPROVEN,
}
REMOVED = {"prod-1.0.0", "prod-1.1.0", "dev-2.0.0"}


def test_issue_scenario_via_cli_removes_only_plain_old_golden_versions(seed: Seeder) -> None:
    ids = seed_scenario(seed)
    label = {v: k for k, v in ids.items()}
    snaps = {k: seed.snapshot_of(R, v) for k, v in ids.items()}
    runner = CliRunner()
    args = ["cleanup", "--keep", "1", "--retention-days", "0"]
    table = runner.invoke(build_app(), args)
    assert table.exit_code == 0, table.output
    for code in ("unproven", "in-use", "shared", "newest"):
        assert code in table.stdout
    applied = runner.invoke(build_app(), [*args, "--apply", "--yes", "--json"])
    assert applied.exit_code == 0, applied.output
    doc = json.loads(applied.stdout)
    assert {label[c["image_id"]] for c in doc["candidates"]} == REMOVED
    assert all(c["result"]["ok"] for c in doc["candidates"])
    assert {label[k["image_id"]]: k["code"] for k in doc["kept"]} == {
        k: v.value for k, v in EXPECTED_KEPT.items()
    }
    reasons = {label[k["image_id"]]: k["reason"] for k in doc["kept"]}
    assert "lc:web-lc (asg web)" in reasons["prod-0.9.0-asg"]
    assert (
        "(resolve:ssm:/team/web/ami)" in reasons["prod-0.8.0-ssm"]
        and "ssm:/team/web/ami" in reasons["prod-0.8.0-ssm"]
    )
    assert OTHER_ACCOUNT in reasons["prod-1.2.0-shared"]
    assert "no Ec2ImageBuilderArn tag" in reasons["team-9.0.0"]
    assert "in prod" in reasons["prod-1.3.0-newest"] and "in dev" in reasons["dev-2.1.0-newest"]
    # moto's state: exactly the three are gone, with their snapshots; everything else is intact.
    remaining, remaining_snaps = seed.image_ids(R), seed.snapshot_ids(R)
    for key, image in ids.items():
        assert (image in remaining) is (key not in REMOVED), key
        assert (snaps[key] in remaining_snaps) is (key not in REMOVED), key
    # Deprecation came first, for each removed image.
    assert {d["ImageId"] for d in GAPS.deprecations} == {ids[k] for k in REMOVED}


def test_other_proofs_of_use_and_protection(seed: Seeder) -> None:
    ec2 = seed.ec2(R)
    tags = lambda v: golden_tags("base", v, "prod")  # noqa: E731
    ids = {
        "stopped": seed.image(R, name="b-1", tags=tags("1.0.0"), age_days=200),
        "recipe-parent": seed.image(R, name="b-2", tags=tags("1.1.0"), age_days=200),
        "spot-fleet": seed.image(R, name="b-3", tags=tags("1.2.0"), age_days=200),
        "protected": seed.image(R, name="b-4", tags=tags("1.3.0"), age_days=200, protected=True),
        "lt-old-version": seed.image(R, name="b-5", tags=tags("1.4.0"), age_days=200),
        "plain": seed.image(R, name="b-6", tags=tags("1.5.0"), age_days=200),
        "newest": seed.image(R, name="b-7", tags=tags("1.6.0"), age_days=200),
    }
    instance = seed.run_instance(R, ids["stopped"])
    ec2.stop_instances(InstanceIds=[instance])
    GAPS.recipe(R, "child-prod-0123456789", "1.0.0", ids["recipe-parent"])
    ec2.request_spot_fleet(
        SpotFleetRequestConfig={
            "AllocationStrategy": "lowestPrice",
            "IamFleetRole": f"arn:aws:iam::{ACCOUNT}:role/fleet",
            "TargetCapacity": 1,
            "LaunchSpecifications": [{"ImageId": ids["spot-fleet"], "InstanceType": "t3.micro"}],
        }
    )
    seed.launch_template(R, ids["lt-old-version"], ids["newest"])
    report = run_cleanup(tool_factory(), [R], CleanupPolicy(keep=1, retention_days=90), apply=True, now=NOW)
    assert report.ok
    label = {v: k for k, v in ids.items()}
    assert [label[c.image.image_id] for c in report.plan.candidates] == ["plain"]
    kept = {label[k.image.image_id]: k for k in report.plan.kept}
    assert kept["stopped"].code is KeepCode.IN_USE and f"{instance} (stopped)" in kept["stopped"].reason
    assert "recipe:child-prod-0123456789/1.0.0" in kept["recipe-parent"].reason
    assert "spot-fleet:sfr-" in kept["spot-fleet"].reason
    assert kept["protected"].code is KeepCode.PROTECTED
    assert ":v1" in kept["lt-old-version"].reason
    assert seed.image_ids(R) == set(ids.values()) - {ids["plain"]}


def test_resolve_ssm_alone_is_a_use() -> None:
    """The template source resolves the parameter itself (independently of the parameter scan)."""
    ec2 = boto3.client("ec2", region_name=R)
    ssm = boto3.client("ssm", region_name=R)
    ssm.put_parameter(Name="/p/ami", Value="ami-0123456789abcdef0", Type="String", DataType="aws:ec2:image")
    lt = ec2.create_launch_template(
        LaunchTemplateName="t", LaunchTemplateData={"ImageId": "resolve:ssm:/p/ami"}
    )
    usage = image_usage(ec2, ssm=ssm)  # no image ids: the parameter scan matches nothing
    template = lt["LaunchTemplate"]["LaunchTemplateId"]
    assert usage == {"ami-0123456789abcdef0": (f"{template}:v1 (resolve:ssm:/p/ami)",)}


@pytest.mark.parametrize(
    ("include", "deprecated_days_ago", "removed"),
    [(False, 40, False), (True, 40, True), (True, 10, False), (True, None, False)],
)
def test_shared_images_need_opt_in_and_a_deprecation_grace(
    seed: Seeder, include: bool, deprecated_days_ago: int | None, removed: bool
) -> None:
    deprecation = None if deprecated_days_ago is None else NOW - dt.timedelta(days=deprecated_days_ago)
    shared = seed.image(
        R,
        name="b-1",
        tags=golden_tags("base", "1.0.0"),
        age_days=200,
        share_accounts=[OTHER_ACCOUNT],
        deprecation=deprecation,
    )
    seed.image(R, name="b-2", tags=golden_tags("base", "2.0.0"), age_days=1)
    policy = CleanupPolicy(keep=1, retention_days=90, include_shared=include, shared_grace_days=30)
    report = run_cleanup(tool_factory(), [R], policy, apply=True, now=NOW)
    assert report.ok
    assert (shared not in seed.image_ids(R)) is removed
    if removed:
        assert GAPS.deprecations == []  # already deprecated: not deprecated again
        assert report.outcomes[0].steps["deprecate"].startswith("skipped")
    else:
        (kept,) = [k for k in report.plan.kept if k.image.image_id == shared]
        assert kept.code is KeepCode.SHARED


class Killed(BaseException):
    """Stands for the process being killed (not an exception the tools may catch)."""


def kill_on_delete_snapshot(client: Any, service: str, region: str) -> None:
    def handler(**_: Any) -> None:
        raise Killed

    client.meta.events.register("before-send.ec2.DeleteSnapshot", handler)


def test_interrupted_run_leaves_tagged_snapshots_the_next_run_deletes(seed: Seeder) -> None:
    ids = [seed.image(R, name=f"b-{n}", tags=golden_tags("base", f"1.{n}.0"), age_days=200) for n in range(3)]
    newest = seed.image(R, name="b-new", tags=golden_tags("base", "2.0.0"), age_days=1)
    snaps = {i: seed.snapshot_of(R, i) for i in ids}
    # Not ours to delete: an untagged snapshot naming a gone AMI in its description (guesswork would take it).
    ec2 = seed.ec2(R)
    volume = ec2.create_volume(Size=1, AvailabilityZone=f"{R}a")["VolumeId"]
    stray = ec2.create_snapshot(
        VolumeId=volume, Description="Created by CreateImage for ami-0000000000000dead"
    )
    policy = CleanupPolicy(keep=1, retention_days=90)
    with pytest.raises(Killed):
        run_cleanup(tool_factory(kill_on_delete_snapshot), [R], policy, apply=True, now=NOW)
    assert seed.image_ids(R) == {newest}  # deregistered...
    left = seed.snapshot_ids(R)
    assert set(snaps.values()) <= left  # ...but killed before any snapshot went
    tagged = ec2.describe_snapshots(SnapshotIds=list(snaps.values()))["Snapshots"]
    assert {t["Value"] for s in tagged for t in s["Tags"] if t["Key"] == MARK_AMI} == set(ids)
    # The next run finds them by the tags the first run left, and nothing else.
    dry = run_cleanup(tool_factory(), [R], policy, apply=False, now=NOW)
    assert {(o.snapshot_id, o.image_id) for o in dry.plan.orphans} == {(snaps[i], i) for i in ids}
    assert dry.plan.candidates == ()
    again = run_cleanup(tool_factory(), [R], policy, apply=True, now=NOW)
    assert again.ok and sorted(s for o in again.outcomes for s in o.deleted_snapshots) == sorted(
        snaps.values()
    )
    remaining = seed.snapshot_ids(R)
    assert not set(snaps.values()) & remaining
    assert stray["SnapshotId"] in remaining and seed.snapshot_of(R, newest) in remaining


def test_a_marked_snapshot_of_a_still_registered_image_is_not_an_orphan(seed: Seeder) -> None:
    """Killed after tagging but before deregistering: the AMI still exists, so its snapshot stays."""
    image = seed.image(R, name="b-1", tags=golden_tags("base", "1.0.0"), age_days=200)
    snap = seed.snapshot_of(R, image)
    seed.ec2(R).create_tags(
        Resources=[snap],
        Tags=[{"Key": MARK_AMI, "Value": image}, {"Key": "golden-images:image-builder-arn", "Value": "x"}],
    )
    seed.run_instance(R, image)  # and it became in use since
    report = run_cleanup(tool_factory(), [R], CleanupPolicy(keep=1, retention_days=0), apply=True, now=NOW)
    assert report.ok and report.plan.orphans == () and snap in seed.snapshot_ids(R)


def non_xml_500(operation: str, region: str) -> Any:
    def hook(client: Any, service: str, client_region: str) -> None:
        def handler(request: Any, **_: Any) -> AWSResponse | None:
            if client_region != region:
                return None
            return AWSResponse(
                request.url, 500, {"Content-Type": "text/plain"}, _Raw(b"Internal Server Error")
            )

        client.meta.events.register(f"before-send.ec2.{operation}", handler)

    return hook


def test_non_xml_500_fails_the_region_with_the_error_not_a_traceback(seed: Seeder) -> None:
    old = {r: seed.image(r, name="b-0", tags=golden_tags("base", "0.1.0"), age_days=400) for r in REGIONS[:2]}
    for r in REGIONS[:2]:
        seed.image(r, name="b-1", tags=golden_tags("base", "1.0.0"), age_days=1)
    commands.factory_hooks.append(non_xml_500("DescribeImages", REGIONS[1]))
    result = CliRunner().invoke(
        build_app(),
        [
            "cleanup",
            "-r",
            ",".join(REGIONS[:2]),
            "--keep",
            "1",
            "--max-attempts",
            "2",
            "--apply",
            "--yes",
            "--json",
        ],
    )
    assert (result.exit_code == 1 and result.exception is None) or isinstance(result.exception, SystemExit)
    doc = json.loads(result.stdout)
    assert list(doc["failed_regions"]) == [REGIONS[1]]
    assert (
        "ResponseParserError" in doc["failed_regions"][REGIONS[1]]
        or "500" in doc["failed_regions"][REGIONS[1]]
    )
    assert old[REGIONS[0]] not in seed.image_ids(REGIONS[0])
    assert old[REGIONS[1]] in seed.image_ids(REGIONS[1])


def test_failed_deprecation_stops_the_image_before_deregistration(seed: Seeder) -> None:
    """moto's own EnableImageDeprecation answer (a non-XML 500) fails that step; nothing is deregistered."""
    old = seed.image(R, name="b-0", tags=golden_tags("base", "0.1.0"), age_days=400)
    seed.image(R, name="b-1", tags=golden_tags("base", "1.0.0"), age_days=1)
    GAPS.moto_deprecation = True
    report = run_cleanup(tool_factory(max_attempts=1), [R], CleanupPolicy(keep=1), apply=True, now=NOW)
    (outcome,) = report.outcomes
    assert not outcome.ok and not report.ok
    assert list(outcome.steps) == ["mark-snapshots", "deprecate"] and outcome.steps["mark-snapshots"] == "ok"
    assert outcome.error is not None and outcome.error.startswith("deprecate:")
    assert old in seed.image_ids(R) and seed.snapshot_of(R, old) in seed.snapshot_ids(R)


def test_unreadable_image_builder_fails_the_region(seed: Seeder) -> None:
    """Without the recipe list, "no recipe uses it" is unproven: the region is failed, nothing changes."""
    old = seed.image(R, name="b-0", tags=golden_tags("base", "0.1.0"), age_days=400)
    seed.image(R, name="b-1", tags=golden_tags("base", "1.0.0"), age_days=1)
    GAPS.unavailable.add(R)
    report = run_cleanup(tool_factory(), [R], CleanupPolicy(keep=1), apply=True, now=NOW)
    assert list(report.failed_regions) == [R] and "Image Builder recipe" in report.failed_regions[R]
    assert report.outcomes == () and old in seed.image_ids(R)


def test_on_plain_moto_image_builder_cleanup_fails_the_region_audit_goes_tag_only(seed: Seeder) -> None:
    """Without the stand-in, moto's own Image Builder answer (HTML 500) reaches the tools."""
    old = seed.image(R, name="b-0", tags=golden_tags("base", "0.1.0"), age_days=400)
    seed.image(R, name="b-1", tags=golden_tags("base", "1.0.0"), age_days=1)
    plain = ClientFactory(max_attempts=1)
    report = run_cleanup(plain, [R], CleanupPolicy(keep=1), apply=True, now=NOW)
    assert list(report.failed_regions) == [R] and "500 calling ListImageRecipes" in report.failed_regions[R]
    assert old in seed.image_ids(R)
    audit = run_audit(plain, [R], AuditConfig(), now=NOW)
    assert not audit.partial
    assert {i.provenance.source for i in audit.images} == {"tag-only"}


def test_apply_needs_yes_without_a_terminal_and_asks_on_one(
    seed: Seeder, monkeypatch: pytest.MonkeyPatch
) -> None:
    old = seed.image(R, name="b-0", tags=golden_tags("base", "0.1.0"), age_days=400)
    seed.image(R, name="b-1", tags=golden_tags("base", "1.0.0"), age_days=1)
    runner = CliRunner()
    args = ["cleanup", "--keep", "1", "--apply"]
    refused = runner.invoke(build_app(), args)
    assert refused.exit_code == 2 and "--yes" in refused.output and old in seed.image_ids(R)
    monkeypatch.setattr(commands, "_interactive", lambda: True)
    declined = runner.invoke(build_app(), args, input="n\n")
    assert declined.exit_code == 1 and old in seed.image_ids(R)
    # The plan was shown first (on stderr; the AMI id itself is folded in the 80-column test console).
    assert declined.output.index("Deregister: 1 image(s)") < declined.output.index("Apply this plan?")
    assert "Re-run with --apply" not in declined.output
    accepted = runner.invoke(build_app(), args, input="y\n")
    assert accepted.exit_code == 0, accepted.output
    assert old not in seed.image_ids(R)


def test_destructive_calls_run_in_order_tag_deprecate_deregister_wait_delete(seed: Seeder) -> None:
    old = seed.image(R, name="b-0", tags=golden_tags("base", "0.1.0"), age_days=400)
    seed.image(R, name="b-1", tags=golden_tags("base", "1.0.0"), age_days=1)
    calls: list[str] = []
    writes = {"CreateTags", "EnableImageDeprecation", "DeregisterImage", "DeleteSnapshot"}

    def record(client: Any, service: str, region: str) -> None:
        def handler(event_name: str, **_: Any) -> None:
            op = event_name.rsplit(".", 1)[-1]
            if op in writes or (op == "DescribeImages" and calls):
                calls.append(op)

        client.meta.events.register("before-parameter-build.ec2", handler)

    report = run_cleanup(tool_factory(record), [R], CleanupPolicy(keep=1), apply=True, now=NOW)
    assert report.ok
    assert calls == [
        "CreateTags",
        "EnableImageDeprecation",
        "DeregisterImage",
        "DescribeImages",
        "DeleteSnapshot",
    ]
    assert old not in seed.image_ids(R)


# --- a failing deregistration, waiter or snapshot deletion --------------------------------------------------


def _refuse(op: str, code: str, message: str, *, after: str | None = None) -> Any:
    """A client hook: ``op`` answers ``code`` (HTTP 400, as EC2 does) — every call, or only once ``after``
    was called (so the planner's own calls of the same operation still succeed)."""

    def hook(client: Any, service: str, region: str) -> None:
        if service != "ec2":
            return
        seen: list[str] = []

        def mark(**_: Any) -> None:
            seen.append(after or "")

        def refuse(**_: Any) -> tuple[AWSResponse, dict[str, Any]] | None:
            if after is not None and not seen:
                return None
            parsed = {
                "Error": {"Code": code, "Message": message},
                "ResponseMetadata": {"HTTPStatusCode": 400},
            }
            return AWSResponse("https://stubbed.invalid/", 400, {}, None), parsed

        if after is not None:
            client.meta.events.register(f"before-call.ec2.{after}", mark)
        client.meta.events.register(f"before-call.ec2.{op}", refuse)

    return hook


def _old_and_new(seed: Seeder) -> tuple[str, str]:
    old = seed.image(R, name="b-0", tags=golden_tags("base", "0.1.0"), age_days=400)
    seed.image(R, name="b-1", tags=golden_tags("base", "1.0.0"), age_days=1)
    return old, seed.snapshot_of(R, old)


def test_refused_deregistration_keeps_image_and_snapshot_and_says_which_step(seed: Seeder) -> None:
    old, snapshot = _old_and_new(seed)
    refuse = _refuse(
        "DeregisterImage", "UnauthorizedOperation", "You are not authorized to perform this operation."
    )
    deletes: list[str] = []

    def count_deletes(client: Any, service: str, region: str) -> None:
        client.meta.events.register("before-call.ec2.DeleteSnapshot", lambda **_: deletes.append("x"))

    report = run_cleanup(tool_factory(refuse, count_deletes), [R], CleanupPolicy(keep=1), apply=True, now=NOW)
    (outcome,) = report.outcomes
    assert not report.ok and not outcome.ok
    assert list(outcome.steps) == ["mark-snapshots", "deprecate", "deregister"]
    assert outcome.steps["mark-snapshots"] == outcome.steps["deprecate"] == "ok"
    assert outcome.error is not None and outcome.error.startswith("deregister: ")
    assert "UnauthorizedOperation" in outcome.error and "not authorized" in outcome.error
    assert old in seed.image_ids(R) and snapshot in seed.snapshot_ids(R)
    assert deletes == []  # no snapshot of a still-registered image is touched


def test_failed_waiter_keeps_the_snapshots_of_a_deregistered_image(seed: Seeder) -> None:
    """The AMI is deregistered but the waiter cannot confirm it (DescribeImages refused): deleting its
    snapshots could fail half-way, so they stay, tagged, for the next run."""
    old, snapshot = _old_and_new(seed)
    refuse = _refuse(
        "DescribeImages", "RequestLimitExceeded", "Request limit exceeded.", after="DeregisterImage"
    )
    report = run_cleanup(
        tool_factory(refuse, max_attempts=1), [R], CleanupPolicy(keep=1), apply=True, now=NOW
    )
    (outcome,) = report.outcomes
    assert not report.ok and not outcome.ok
    assert outcome.error is not None
    assert outcome.error.startswith("deregistered, snapshots kept for the next run: ")
    assert "RequestLimitExceeded" in outcome.error
    assert outcome.deleted_snapshots == () and "delete-snapshots" not in outcome.steps
    assert old not in seed.image_ids(R)
    assert snapshot in seed.snapshot_ids(R)
    tags = seed.ec2(R).describe_snapshots(SnapshotIds=[snapshot])["Snapshots"][0]["Tags"]
    assert {"Key": MARK_AMI, "Value": old} in tags
    # The next run (no fault) finds the tagged snapshot as an orphan and deletes it.
    again = run_cleanup(tool_factory(), [R], CleanupPolicy(keep=1), apply=True, now=NOW)
    assert again.ok and [s for o in again.outcomes for s in o.deleted_snapshots] == [snapshot]
    assert snapshot not in seed.snapshot_ids(R)


@pytest.mark.parametrize(
    ("code", "deleted"),
    [("InvalidSnapshot.InUse", False), ("InvalidSnapshot.NotFound", True)],
    ids=["in-use-is-an-error", "already-gone-is-done"],
)
def test_snapshot_deletion_failure_is_reported_per_snapshot(seed: Seeder, code: str, deleted: bool) -> None:
    old, snapshot = _old_and_new(seed)
    refuse = _refuse("DeleteSnapshot", code, f"The snapshot {snapshot} is refused.")
    report = run_cleanup(tool_factory(refuse), [R], CleanupPolicy(keep=1), apply=True, now=NOW)
    (outcome,) = report.outcomes
    assert outcome.ok  # the image itself was retired
    assert old not in seed.image_ids(R)
    if deleted:
        assert outcome.snapshot_errors == {} and outcome.deleted_snapshots == (snapshot,)
        assert outcome.steps["delete-snapshots"] == "ok" and report.ok
    else:
        assert outcome.deleted_snapshots == ()
        assert list(outcome.snapshot_errors) == [snapshot]
        assert code in outcome.snapshot_errors[snapshot]
        assert outcome.steps["delete-snapshots"] == "1 failed"
        assert not report.ok  # a kept snapshot fails the run, so it is looked at
        assert snapshot in seed.snapshot_ids(R)
