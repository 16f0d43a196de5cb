"""Proxmox wiring of a layered image under Pulumi mocks: each node's build VM clones the parent's template."""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import RunStack, one
from tests.layers.helpers import image, layered

VM = "proxmoxve:index/vmLegacy:VmLegacy"
DOWNLOAD = "proxmoxve:download/file:File"
BAKE = "pulumi-python:dynamic/golden-images:ProxmoxTemplateBake"
PROXMOX = "golden-images:index:ProxmoxGoldenTemplate"


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_child_clones_the_parents_template_on_each_node(
    run_stack: RunStack, requests_seen: dict[str, Any], stack: str
) -> None:
    run = run_stack(stack, layered(stack, ("aws", "azure", "gcp", "proxmox")))
    assert run.error is None, run.error
    parent = one(run.resources, PROXMOX, "base-ubuntu-proxmox")
    child = one(run.resources, PROXMOX, "app-runtime-proxmox")
    assert child.inputs["parentImage"] == "base-ubuntu@1.4.2"
    nodes = child.inputs["nodes"]
    assert nodes == parent.inputs["nodes"]
    # No cloud image download for the child: its disk is the parent's.
    assert not [r for r in run.resources if r.type == DOWNLOAD and r.name.startswith("app-runtime-")]
    for node in nodes:
        vm = one(run.resources, VM, f"app-runtime-proxmox-{node}-template-2.1.0")
        assert vm.inputs["clone"] == {"vmId": parent.inputs["vmIds"][node], "nodeName": node, "full": True}
        assert "fileId" not in vm.inputs["disks"][0]
        bake = one(run.resources, BAKE, f"base-ubuntu-proxmox-{node}-bake-1.4.2")
        assert bake.urn in requests_seen[f"app-runtime-proxmox-{node}-template-2.1.0"].dependencies
        parent_vm = one(run.resources, VM, f"base-ubuntu-proxmox-{node}-template-1.4.2")
        assert "clone" not in parent_vm.inputs
    record = run.outputs["images"]["app-runtime"]
    assert record["ancestry"]["proxmox"] == [
        {
            "image": "base-ubuntu",
            "version": "1.4.2",
            "ref": "base-ubuntu@1.4.2",
            "fingerprint": run.outputs["images"]["base-ubuntu"]["fingerprint"],
        },
        {"vendor": parent.inputs["parentImage"]},
    ]


def test_a_node_without_the_parents_template_is_refused(run_stack: RunStack) -> None:
    raw = layered("prod", ("aws", "azure", "gcp", "proxmox"))
    image(raw, "base-ubuntu")["proxmox"]["nodes"] = ["pve-prod1"]
    run = run_stack("prod", raw)
    assert run.error is not None
    assert "node(s) pve-prod2, pve-prod3 have no template of the parent" in str(run.error)
    assert run.resources == []
