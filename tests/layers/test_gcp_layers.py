"""GCP wiring of a layered image under Pulumi mocks: the child's Packer source is the parent's baked image."""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import RunStack, one
from tests.layers.helpers import layered

GCP = "golden-images:index:GcpGoldenImage"
TRIGGER = "gcp:cloudbuild/trigger:Trigger"


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_child_source_is_the_parents_image(
    run_stack: RunStack, requests_seen: dict[str, Any], stack: str
) -> None:
    run = run_stack(stack, layered(stack, ("aws", "gcp")))
    assert run.error is None, run.error
    parent = one(run.resources, GCP, "base-ubuntu-gcp")
    child = one(run.resources, GCP, "app-runtime-gcp")
    expected = f"projects/{parent.inputs['project']}/global/images/{parent.inputs['expectedImage']}"
    assert child.inputs["sourceImage"] == expected
    assert child.inputs["parentImage"] == expected
    assert parent.inputs["sourceImage"].startswith("projects/ubuntu-os-cloud/")
    # The child's image name (content-named) differs from the parent's and from a vendor-based build.
    assert child.inputs["expectedImage"] != parent.inputs["expectedImage"]
    parent_trigger = one(run.resources, TRIGGER, "base-ubuntu-gcp-trigger")
    assert parent_trigger.urn in requests_seen["app-runtime-gcp-trigger"].dependencies
    record = run.outputs["images"]["app-runtime"]
    assert record["parent"]["gcp"] == expected
    assert record["ancestry"]["gcp"][0]["ref"] == "base-ubuntu@1.4.2"
    assert record["ancestry"]["gcp"][-1] == {"vendor": parent.inputs["sourceImage"]}
