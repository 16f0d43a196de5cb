"""Azure wiring of a layered image under Pulumi mocks: the child's AIB source is the parent's gallery version."""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import RunStack, one
from tests.layers.helpers import layered

AZURE = "golden-images:index:AzureGoldenImage"
TEMPLATE = "azure-native:virtualmachineimages:VirtualMachineImageTemplate"
GALLERY = "azure-native:compute:Gallery"
VERSION = "azure-native:compute:GalleryImageVersion"
GROUP = "azure-native:resources:ResourceGroup"


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_child_source_is_the_parents_gallery_version(
    run_stack: RunStack, requests_seen: dict[str, Any], stack: str
) -> None:
    run = run_stack(stack, layered(stack, ("aws", "azure")))
    assert run.error is None, run.error
    gallery = one(run.resources, GALLERY, "base-ubuntu-azure-gallery")
    template = one(run.resources, TEMPLATE, "app-runtime-azure-template")
    source = template.inputs["source"]
    assert source["type"] == "SharedImageVersion"
    sub = gallery.inputs.get("subscriptionId") or source["imageVersionId"].split("/")[2]
    # Built from the parent's names as registered: its resource group (the created group's name, else the
    # existing group the gallery names), gallery and definition (the image name).
    groups = [r for r in run.resources if r.type == GROUP and r.name == "base-ubuntu-azure-resource-group"]
    group = groups[0].inputs["resourceGroupName"] if groups else gallery.inputs["resourceGroupName"]
    expected_definition = (
        f"/subscriptions/{sub}/resourceGroups/{group}/providers/"
        f"Microsoft.Compute/galleries/{gallery.inputs['galleryName']}/images/base-ubuntu"
    )
    published = [r for r in run.resources if r.type == VERSION and r.name == "base-ubuntu-azure-version"]
    if stack == "prod":
        # Prod publishes an exact version with customer keys: the child starts from exactly that version,
        # and its template waits until it is published.
        assert len(published) == 1
        assert source["imageVersionId"] == f"{expected_definition}/versions/1.4.2"
        assert published[0].urn in requests_seen["app-runtime-azure-template"].dependencies
    else:
        assert published == []
        assert source["imageVersionId"] == f"{expected_definition}/versions/latest"
    child = one(run.resources, AZURE, "app-runtime-azure")
    assert child.inputs["parentImage"] == source["imageVersionId"]
    record = run.outputs["images"]["app-runtime"]
    assert record["ancestry"]["azure"][0]["ref"] == "base-ubuntu@1.4.2"
    parent_source = one(run.resources, AZURE, "base-ubuntu-azure").inputs["parentImage"]
    assert record["ancestry"]["azure"][-1] == {"vendor": parent_source}
