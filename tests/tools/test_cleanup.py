"""Cleanup: dry run, apply, deprecation, and hypothesis properties (pure planner and end to end on moto).

moto gaps: creation dates are seeded on moto's backend objects; ``EnableImageDeprecation`` (HTTP 500 in
moto 5.2.5) and Image Builder (absent) are answered by conftest's ``MotoGaps`` hook, which records the
deprecation requests and writes the deprecation time to moto's backend.
"""

from __future__ import annotations

import datetime as dt
import json
from collections import defaultdict
from typing import Any

import boto3
import hypothesis.strategies as st
import pytest
import typer
from hypothesis import HealthCheck, given, settings
from typer.testing import CliRunner

from golden_images.tools import commands
from golden_images.tools.aws import ClientFactory
from golden_images.tools.cleanup import Action, CleanupPolicy, plan_cleanup, run_cleanup
from golden_images.tools.facts import ImageFacts, LaunchPermission, Provenance, ProvenanceSource
from tests.tools.conftest import ACCOUNT, GAPS, NOW, REGIONS, Seeder, golden_tags, image_arn, tool_factory

R = REGIONS[0]


def seed_history(seed: Seeder) -> dict[str, str]:
    """base: six versions, 1.0.0 in use by a launch template, 1.1.0 young-ish; plus an unmanaged image."""
    ids = {
        "1.0.0": seed.image(R, name="base-1.0.0", tags=golden_tags("base", "1.0.0"), age_days=300),
        "1.1.0": seed.image(R, name="base-1.1.0", tags=golden_tags("base", "1.1.0"), age_days=60),
        "1.2.0": seed.image(R, name="base-1.2.0", tags=golden_tags("base", "1.2.0"), age_days=200),
        "1.3.0": seed.image(R, name="base-1.3.0", tags=golden_tags("base", "1.3.0"), age_days=150),
        "1.4.0": seed.image(R, name="base-1.4.0", tags=golden_tags("base", "1.4.0"), age_days=120),
        "1.5.0": seed.image(R, name="base-1.5.0", tags=golden_tags("base", "1.5.0"), age_days=100),
        "hand": seed.image(R, name="hand-made", age_days=500),
    }
    seed.launch_template(R, ids["1.0.0"])
    return ids


def test_dry_run_lists_and_changes_nothing(seed: Seeder) -> None:
    ids = seed_history(seed)
    before = seed.image_ids(R), seed.snapshot_ids(R)
    report = run_cleanup(tool_factory(), [R], CleanupPolicy(keep=3, retention_days=90), apply=False, now=NOW)
    assert [c.image.image_id for c in report.plan.candidates] == [ids["1.2.0"]]
    candidate = report.plan.candidates[0]
    assert candidate.snapshots == (seed.snapshot_of(R, ids["1.2.0"]),)
    assert "200 days old" in candidate.reason
    reasons = {k.image.image_id: k.reason for k in report.plan.kept}
    assert reasons[ids["hand"]].startswith("not proven ours: no Ec2ImageBuilderArn tag")
    assert reasons[ids["1.0.0"]].startswith("in use by lt-")
    assert reasons[ids["1.1.0"]].startswith("60 days old")
    assert reasons[ids["1.5.0"]].startswith("among the newest 3")
    assert report.outcomes == () and report.ok
    assert (seed.image_ids(R), seed.snapshot_ids(R)) == before


def test_apply_deregisters_and_deletes_snapshots_but_keeps_shared_ones(seed: Seeder) -> None:
    ids = seed_history(seed)
    # 1.3.0 shares its snapshot with the in-use 1.0.0 (possible with RegisterImage): it must survive.
    backend = seed.backend(R)
    backend.amis[ids["1.3.0"]].ebs_snapshot = backend.amis[ids["1.0.0"]].ebs_snapshot
    shared = seed.snapshot_of(R, ids["1.0.0"])
    own = seed.snapshot_of(R, ids["1.2.0"])
    policy = CleanupPolicy(keep=2, retention_days=90)
    report = run_cleanup(tool_factory(), [R], policy, apply=True, now=NOW)
    assert report.ok
    assert {c.image.image_id for c in report.plan.candidates} == {ids["1.2.0"], ids["1.3.0"]}
    remaining = seed.image_ids(R)
    assert ids["1.2.0"] not in remaining and ids["1.3.0"] not in remaining
    assert {ids["1.0.0"], ids["1.1.0"], ids["1.4.0"], ids["1.5.0"], ids["hand"]} <= remaining
    snaps = seed.snapshot_ids(R)
    assert own not in snaps and shared in snaps
    by_id = {o.image_id: o for o in report.outcomes}
    assert by_id[ids["1.2.0"]].deleted_snapshots == (own,)
    assert by_id[ids["1.3.0"]].deleted_snapshots == ()


def test_deprecate_instead_of_deregister(seed: Seeder) -> None:
    ids = seed_history(seed)
    already = seed.image(
        R,
        name="base-0.9.0",
        tags=golden_tags("base", "0.9.0"),
        age_days=400,
        deprecation=NOW - dt.timedelta(days=1),
    )
    policy = CleanupPolicy(keep=3, retention_days=90, deprecate_after=14)
    report = run_cleanup(tool_factory(), [R], policy, apply=True, now=NOW)
    assert report.ok and report.policy.action is Action.DEPRECATE
    assert [c["ImageId"] for c in GAPS.deprecations] == [ids["1.2.0"]]
    assert GAPS.deprecations[0]["DeprecateAt"] == NOW + dt.timedelta(days=14)
    assert ids["1.2.0"] in seed.image_ids(R)  # nothing deregistered
    assert any(
        k.image.image_id == already and k.reason.startswith("already deprecated") for k in report.plan.kept
    )


def test_cli_dry_run_apply_and_bad_input(seed: Seeder) -> None:
    ids = seed_history(seed)
    app = typer.Typer()
    commands.register(app)
    runner = CliRunner()
    dry = runner.invoke(app, ["cleanup", "--json"])
    assert dry.exit_code == 0, dry.output
    doc = json.loads(dry.stdout)
    assert doc["applied"] is False and doc["action"] == "deregister"
    assert [c["image_id"] for c in doc["candidates"]] == [ids["1.2.0"]]
    assert "result" not in doc["candidates"][0]
    table = runner.invoke(app, ["cleanup"])
    assert table.exit_code == 0 and "dry run" in table.stdout.lower()
    dep = runner.invoke(app, ["cleanup", "--deprecate-after", "30", "--apply", "--yes", "--json"])
    assert dep.exit_code == 0 and [c["ImageId"] for c in GAPS.deprecations] == [ids["1.2.0"]]
    applied = runner.invoke(app, ["cleanup", "--apply", "--yes", "--json", "--image", "base"])
    assert applied.exit_code == 0
    result = json.loads(applied.stdout)["candidates"][0]["result"]
    assert result["ok"] is True
    assert list(result["steps"]) == ["mark-snapshots", "deprecate", "deregister", "delete-snapshots"]
    assert ids["1.2.0"] not in seed.image_ids(R)
    # Each refusal names its own problem: a typo'd flag also exits 2, so the exit code alone proves nothing.
    for bad, says in (
        (["--keep", "0"], "Invalid value for '--keep': Input should be greater than or equal to 1"),
        (["--region", "mars-1"], "error: not an AWS region: mars-1"),
        (
            ["--retention-days", "-1"],
            "Invalid value for '--retention-days': Input should be greater than or equal to 0",
        ),
    ):
        refused = runner.invoke(app, ["cleanup", *bad])
        assert refused.exit_code == 2 and says in " ".join(refused.output.replace("│", " ").split()), (
            refused.output
        )


# --- properties ------------------------------------------------------------------------------------------
#
# A generated fleet: images of three names in two environments, each proven ours or not (tags copied by a
# team, a recipe of another image, an ARN Image Builder does not list the AMI under), each referenced in one
# of the ways the inventory reads (or not), shared or not, protected or not, of any age. The oracle below
# is written from the rules, not from the planner.

USES = ("none", "instance", "template", "launch-config", "ssm", "resolve-ssm", "recipe")
PROOFS = ("proven", "copied-tags", "foreign-recipe", "not-an-output")
image_st = st.fixed_dictionaries(
    {
        "group": st.sampled_from(["a", "b", "c"]),
        "env": st.sampled_from(["dev", "prod"]),
        "proof": st.sampled_from(PROOFS),
        "use": st.sampled_from(USES),
        "shared": st.booleans(),
        "protected": st.booleans(),
        "age": st.integers(min_value=0, max_value=400),
        "minor": st.integers(min_value=0, max_value=30),
    }
)
images_st = st.lists(
    image_st, min_size=1, max_size=10, unique_by=lambda i: (i["group"], i["env"], i["minor"])
)
policy_st = st.builds(
    CleanupPolicy,
    keep=st.integers(min_value=1, max_value=4),
    retention_days=st.integers(min_value=0, max_value=300),
)


def protected(specs: list[dict[str, Any]], keep: int) -> set[int]:
    """Indexes that must never be removed: unproven, referenced, shared, deregistration-protected, or among
    the newest ``keep`` *proven* versions of their (image, environment)."""
    out = {
        i
        for i, s in enumerate(specs)
        if s["proof"] != "proven" or s["use"] != "none" or s["shared"] or s["protected"]
    }
    groups: dict[tuple[str, str], list[int]] = defaultdict(list)
    for i, s in enumerate(specs):
        if s["proof"] == "proven":
            groups[(s["group"], s["env"])].append(i)
    for members in groups.values():
        out.update(sorted(members, key=lambda i: specs[i]["minor"], reverse=True)[:keep])
    return out


def expected_removed(specs: list[dict[str, Any]], policy: CleanupPolicy) -> set[int]:
    safe = protected(specs, policy.keep)
    return {i for i, s in enumerate(specs) if i not in safe and s["age"] > policy.retention_days}


def facts(i: int, spec: dict[str, Any]) -> ImageFacts:
    tags = golden_tags(spec["group"], f"1.{spec['minor']}.0", spec["env"])
    proof = (
        Provenance(True, ProvenanceSource.IMAGE_BUILDER, "ok", tags["Ec2ImageBuilderArn"])
        if spec["proof"] == "proven"
        else Provenance(False, ProvenanceSource.NONE, spec["proof"])
    )
    return ImageFacts(
        region=R,
        image_id=f"ami-{i:08x}",
        name=f"img-{i}",
        owner_id=ACCOUNT,
        created=NOW - dt.timedelta(days=spec["age"]),
        state="available",
        tags=tags,
        public=False,
        snapshot_ids=(f"snap-{i:08x}",),
        unencrypted_snapshot_ids=(),
        deprecation_time=None,
        in_use=spec["use"] != "none",
        launch_permissions=(LaunchPermission(user_id="222222222222"),) if spec["shared"] else (),
        usage=("i-1",) if spec["use"] != "none" else (),
        deregistration_protected=spec["protected"],
        provenance=proof,
    )


@given(specs=images_st, policy=policy_st)
@settings(max_examples=300, deadline=None)
def test_plan_never_selects_a_protected_image(specs: list[dict[str, Any]], policy: CleanupPolicy) -> None:
    plan = plan_cleanup([facts(i, s) for i, s in enumerate(specs)], policy, NOW)
    chosen = {int(c.image.image_id[4:], 16) for c in plan.candidates}
    assert not chosen & protected(specs, policy.keep)
    assert chosen == expected_removed(specs, policy)
    assert len(plan.candidates) + len(plan.kept) == len(specs)
    for c in plan.candidates:
        assert c.snapshots == c.image.snapshot_ids


def seed_fleet(seed: Seeder, specs: list[dict[str, Any]]) -> list[str]:
    """Create the generated fleet on moto (and in the Image Builder stand-in)."""
    ids: list[str] = []
    ssm = boto3.client("ssm", region_name=R)
    autoscaling = boto3.client("autoscaling", region_name=R)
    for i, s in enumerate(specs):
        version = f"1.{s['minor']}.0"
        tags = golden_tags(s["group"], version, s["env"])
        if s["proof"] == "copied-tags":
            tags.pop("Ec2ImageBuilderArn")
        elif s["proof"] == "foreign-recipe":
            tags["Ec2ImageBuilderArn"] = image_arn("team", s["env"], version)
            GAPS.images[tags["Ec2ImageBuilderArn"]] = []
        image = seed.image(
            R,
            name=f"img-{i}",
            tags=tags,
            age_days=s["age"],
            share_accounts=["222222222222"] if s["shared"] else (),
            protected=s["protected"],
            in_image_builder=s["proof"] != "not-an-output",
        )
        if s["proof"] == "not-an-output":
            GAPS.images.setdefault(tags["Ec2ImageBuilderArn"], [])
        ids.append(image)
        use = s["use"]
        if use == "instance":
            seed.run_instance(R, image)
        elif use == "template":
            seed.launch_template(R, image)
        elif use == "launch-config":
            autoscaling.create_launch_configuration(
                LaunchConfigurationName=f"lc-{i}", ImageId=image, InstanceType="t3.micro"
            )
        elif use in ("ssm", "resolve-ssm"):
            ssm.put_parameter(Name=f"/team/img-{i}", Value=image, Type="String", DataType="aws:ec2:image")
            if use == "resolve-ssm":
                # A template resolving the parameter at launch (test_usage covers this source alone).
                seed.launch_template(R, f"resolve:ssm:/team/img-{i}")
        elif use == "recipe":
            GAPS.recipe(R, f"child-{i}", "1.0.0", image)
    return ids


@pytest.fixture
def fleet_factory() -> ClientFactory:
    """One factory per test, shared by its hypothesis examples (function-scoped fixtures are built once per
    test: a new boto3 session per example would reload the EC2 model), dropped when the test ends so no
    client outlives the test's environment."""
    return tool_factory()


@given(specs=images_st, policy=policy_st)
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_apply_on_moto_never_removes_a_protected_image_and_removes_the_rest(
    moto_server: Any,
    seed: Seeder,
    fleet_factory: ClientFactory,
    specs: list[dict[str, Any]],
    policy: CleanupPolicy,
) -> None:
    moto_server.reset()  # hypothesis runs many examples inside one test: start each from an empty account
    GAPS.reset()
    ids = seed_fleet(seed, specs)
    snapshots = {image: seed.snapshot_of(R, image) for image in ids}
    report = run_cleanup(fleet_factory, [R], policy, apply=True, now=NOW)
    assert report.ok, (report.failed_regions, report.outcomes)
    remaining = seed.image_ids(R)
    remaining_snaps = seed.snapshot_ids(R)
    removed = expected_removed(specs, policy)
    for i, image in enumerate(ids):
        if i in removed:
            assert image not in remaining and snapshots[image] not in remaining_snaps
        else:
            assert image in remaining and snapshots[image] in remaining_snaps
    assert {o.image_id for o in report.outcomes} == {ids[i] for i in removed}
    # Every kept image says why, with a stable code.
    assert {k.image.image_id for k in report.plan.kept} == {
        ids[i] for i in range(len(ids)) if i not in removed
    }
    assert all(k.reason for k in report.plan.kept)
