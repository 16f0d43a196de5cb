"""AWS wiring of a layered image under Pulumi mocks: the child's recipe starts from the parent's image."""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import RunStack, one
from tests.layers.helpers import layered

RECIPE = "aws:imagebuilder/imageRecipe:ImageRecipe"
PIPELINE = "aws:imagebuilder/imagePipeline:ImagePipeline"
IMAGE = "aws:imagebuilder/image:Image"
AWS = "golden-images:index:AwsGoldenImage"


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_child_recipe_parent_is_the_parents_image_arn(
    run_stack: RunStack, requests_seen: dict[str, Any], stack: str
) -> None:
    run = run_stack(stack, layered(stack))
    assert run.error is None, run.error
    parent_recipe = one(run.resources, RECIPE, "base-ubuntu-aws-recipe")
    child_recipe = one(run.resources, RECIPE, "app-runtime-aws-recipe")
    # The parent's output (its recipe's ARN, as the mocks return it) turned into its image's ARN.
    recipe_arn = parent_recipe.outputs["arn"]
    assert ":image-recipe/" in recipe_arn
    assert child_recipe.inputs["parentImage"] == recipe_arn.replace(":image-recipe/", ":image/")
    assert child_recipe.inputs["parentImage"].endswith("/1.4.2")
    component = one(run.resources, AWS, "app-runtime-aws")
    assert component.inputs["parentImage"] == child_recipe.inputs["parentImage"]
    # The parent's vendor parent is untouched.
    assert (
        one(run.resources, RECIPE, "base-ubuntu-aws-recipe")
        .inputs["parentImage"]
        .startswith(("ami-", "ssm:"))
    )
    # The child's pipeline depends on the parent's and starts on the parent's new builds.
    parent_pipeline = one(run.resources, PIPELINE, "base-ubuntu-aws-pipeline")
    child_pipeline = one(run.resources, PIPELINE, "app-runtime-aws-pipeline")
    assert parent_pipeline.urn in requests_seen["app-runtime-aws-pipeline"].dependencies
    assert parent_pipeline.urn not in requests_seen["base-ubuntu-aws-recipe"].dependencies
    schedule = child_pipeline.inputs.get("schedule")
    if schedule is not None:
        assert (
            schedule["pipelineExecutionStartCondition"] == "EXPRESSION_MATCH_AND_DEPENDENCY_UPDATES_AVAILABLE"
        )
    # The record names the chain down to the vendor source.
    record = run.outputs["images"]["app-runtime"]
    assert record["parent"]["aws"] == "base-ubuntu@1.4.2"
    base = run.outputs["images"]["base-ubuntu"]
    assert record["ancestry"]["aws"][0] == {
        "image": "base-ubuntu",
        "version": "1.4.2",
        "ref": "base-ubuntu@1.4.2",
        "fingerprint": base["fingerprint"],
    }
    assert record["ancestry"]["aws"][-1] == {"vendor": base["parent"]["aws"]}
    assert base["ancestry"]["aws"] == [{"vendor": base["parent"]["aws"]}]


def test_a_baked_child_waits_for_the_baked_parent(run_stack: RunStack, requests_seen: dict[str, Any]) -> None:
    run = run_stack("dev", layered("dev"), extra={"golden-images:bakeOnUp": "true"})
    assert run.error is None, run.error
    parent_image = one(run.resources, IMAGE, "base-ubuntu-aws-image")
    one(run.resources, IMAGE, "app-runtime-aws-image")
    assert parent_image.urn in requests_seen["app-runtime-aws-image"].dependencies
