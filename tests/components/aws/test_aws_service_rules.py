"""Image Builder rules no provider schema shows, checked on the registered inputs and at catalog load:
lifecycle selection by recipe, deprecation that reaches the AMIs, a start condition that starts, and the
lifecycle API's limits as catalog limits."""

from __future__ import annotations

from typing import Any

import pytest

from golden_images.preview.runner import ProgramRun, run_program
from tests.conftest import ROOT, RunStack, assert_refused, by_type, one, stack_catalog

P = "config.golden-images:catalog"
RECIPE = "aws:imagebuilder/imageRecipe:ImageRecipe"
PIPELINE = "aws:imagebuilder/imagePipeline:ImagePipeline"
LIFECYCLE = "aws:imagebuilder/lifecyclePolicy:LifecyclePolicy"
FLOATING_ARN = "arn:aws:imagebuilder:us-east-1:aws:image/ubuntu-server-24-lts-x86/x.x.x"
EXACT_ARN = "arn:aws:imagebuilder:us-east-1:aws:image/ubuntu-server-24-lts-x86/2024.11.1"


@pytest.fixture(scope="module", params=["dev", "staging", "prod"])
def stack_run(request: pytest.FixtureRequest) -> ProgramRun:
    run = run_program(ROOT, request.param)
    assert run.error is None
    return run


def _details(policy: Any) -> dict[str, Any]:
    return {d["action"]["type"]: d for d in policy.inputs["policyDetails"]}


def test_lifecycle_selects_exactly_its_own_recipe(stack_run: ProgramRun) -> None:
    """Tag selection never matches pipeline-built images and matches any-of-the-tags; the recipe does."""
    for image in ("base-ubuntu", "app-runtime"):
        recipe = one(stack_run.resources, RECIPE, f"{image}-aws-recipe")
        policy = one(stack_run.resources, LIFECYCLE, f"{image}-aws-lifecycle")
        selection = policy.inputs["resourceSelection"]
        assert "tagMap" not in selection
        assert selection["recipes"] == [
            {"name": recipe.inputs["name"], "semanticVersion": recipe.inputs["version"]}
        ]
        # The provider validates semanticVersion as N.N.N (no wildcards) and the recipe must exist first.
        assert all(part.isdigit() for part in selection["recipes"][0]["semanticVersion"].split("."))
    names = [
        p.inputs["resourceSelection"]["recipes"][0]["name"] for p in by_type(stack_run.resources, LIFECYCLE)
    ]
    assert len(set(names)) == len(names), "two lifecycle policies select the same recipe"


def test_lifecycle_waits_for_its_recipe(run_stack: RunStack, requests_seen: dict[str, Any]) -> None:
    """The selection names the recipe by its deterministic name, so the policy must depend on it."""
    seen = requests_seen
    run = run_stack("staging")
    recipe = one(run.resources, RECIPE, "base-ubuntu-aws-recipe")
    assert recipe.urn in seen["base-ubuntu-aws-lifecycle"].dependencies


def test_deprecation_reaches_the_distributed_amis(stack_run: ProgramRun) -> None:
    for policy in by_type(stack_run.resources, LIFECYCLE):
        details = _details(policy)
        assert details["DEPRECATE"]["action"]["includeResources"] == {"amis": True}
        assert details["DELETE"]["action"]["includeResources"] == {"amis": True, "snapshots": True}


def test_scheduled_pipelines_with_pinned_parents_start_on_the_cron(stack_run: ProgramRun) -> None:
    """base-ubuntu's parent is a pinned SSM parameter: it builds on every cron match. app-runtime is layered on
    base-ubuntu (#15): its parent is base-ubuntu's Image Builder image, so it builds when the cron matches and
    base-ubuntu has a newer build (the layered default)."""
    pipelines = by_type(stack_run.resources, PIPELINE)
    conditions = {
        p.name: p.inputs["schedule"]["pipelineExecutionStartCondition"]
        for p in pipelines
        if "schedule" in p.inputs
    }
    if stack_run.stack == "dev":
        assert conditions == {}  # dev has no schedule
        return
    assert conditions == {
        "base-ubuntu-aws-pipeline": "EXPRESSION_MATCH_ONLY",
        "app-runtime-aws-pipeline": "EXPRESSION_MATCH_AND_DEPENDENCY_UPDATES_AVAILABLE",
    }
    # The child's "dependency" is exactly its parent's image: base-ubuntu's recipe as an image ARN.
    parent_recipe = one(stack_run.resources, RECIPE, "base-ubuntu-aws-recipe")
    child_recipe = one(stack_run.resources, RECIPE, "app-runtime-aws-recipe")
    assert child_recipe.inputs["parentImage"] == parent_recipe.outputs["arn"].replace(
        ":image-recipe/", ":image/", 1
    )


def test_a_floating_image_builder_parent_waits_for_updates(run_stack: RunStack) -> None:
    raw = stack_catalog("dev")
    raw["defaults"]["aws"]["schedule"] = {"cron": "cron(0 4 ? * MON *)"}
    raw["images"][0]["aws"]["parent"] = {"image_builder_arn": FLOATING_ARN}
    run = run_stack("dev", raw)
    assert run.error is None
    conditions = {
        p.name: p.inputs["schedule"]["pipelineExecutionStartCondition"]
        for p in by_type(run.resources, PIPELINE)
    }
    # Both wait for updates: base-ubuntu for a newer x.x.x vendor image, the layered app-runtime (#15) for a
    # newer build of base-ubuntu.
    assert conditions == {
        "base-ubuntu-aws-pipeline": "EXPRESSION_MATCH_AND_DEPENDENCY_UPDATES_AVAILABLE",
        "app-runtime-aws-pipeline": "EXPRESSION_MATCH_AND_DEPENDENCY_UPDATES_AVAILABLE",
    }


@pytest.mark.parametrize(
    "parent",
    [
        {"ami": "ami-0a1b2c3d4e5f60718"},
        {"image_builder_arn": EXACT_ARN},
        {
            "ssm_parameter": "/aws/service/canonical/ubuntu/server/24.04/stable/current/amd64/hvm/ebs-gp3/ami-id"
        },
    ],
    ids=["ami", "exact-arn", "ssm"],
)
def test_update_start_condition_with_a_pinned_parent_is_refused(
    run_stack: RunStack, parent: dict[str, str]
) -> None:
    raw = stack_catalog("staging")
    raw["defaults"]["aws"]["schedule"] = {
        "cron": "cron(0 4 ? * MON *)",
        "start_condition": "EXPRESSION_MATCH_AND_DEPENDENCY_UPDATES_AVAILABLE",
    }
    raw["images"][0]["aws"]["parent"] = parent
    assert_refused(run_stack("staging", raw), "staging", f"{P}.images[0].aws", "never starts a build")


def test_explicit_match_only_is_kept(run_stack: RunStack) -> None:
    raw = stack_catalog("dev")
    raw["defaults"]["aws"]["schedule"] = {
        "cron": "cron(0 4 ? * MON *)",
        "start_condition": "EXPRESSION_MATCH_ONLY",
    }
    raw["images"][0]["aws"]["parent"] = {"image_builder_arn": FLOATING_ARN}
    run = run_stack("dev", raw)
    pipeline = one(run.resources, PIPELINE, "base-ubuntu-aws-pipeline")
    assert pipeline.inputs["schedule"]["pipelineExecutionStartCondition"] == "EXPRESSION_MATCH_ONLY"


@pytest.mark.parametrize(
    ("field", "value", "words"),
    [
        ("keep", 11, "keep must be 1-10, got 11"),
        ("keep", 0, "greater than or equal to 1"),
        ("deprecate_after_days", 1001, "deprecate_after_days must be 1-1000, got 1001"),
        ("deprecate_after_days", 0, "greater than or equal to 1"),
    ],
)
def test_retention_limits_are_image_builders(run_stack: RunStack, field: str, value: int, words: str) -> None:
    raw = stack_catalog("dev")
    raw["defaults"]["aws"]["retention"][field] = value
    assert_refused(run_stack("dev", raw), "dev", f"{P}.images[0].aws.retention.{field}", words)


def test_retention_bounds_are_accepted(run_stack: RunStack) -> None:
    raw = stack_catalog("dev")
    raw["defaults"]["aws"]["retention"] = {"keep": 10, "deprecate_after_days": 1000}
    run = run_stack("dev", raw)
    assert run.error is None
    details = _details(one(run.resources, LIFECYCLE, "base-ubuntu-aws-lifecycle"))
    assert details["DEPRECATE"]["filter"]["retainAtLeast"] == 10
    assert details["DEPRECATE"]["filter"]["value"] == 1000
