"""The golden-parent props a layered child registers (what the pack's chain rules read), on every platform."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from golden_images.engine.harness import PolicyHarness, is_preview_notice
from golden_images.engine.model import RegisteredResource
from golden_images.preview.runner import ProgramRun
from tests.conftest import ROOT, RunStack, one, stack_catalog
from tests.layers.helpers import image, reparent

PLATFORMS = {
    "aws": "golden-images:index:AwsGoldenImage",
    "azure": "golden-images:index:AzureGoldenImage",
    "gcp": "golden-images:index:GcpGoldenImage",
    "proxmox": "golden-images:index:ProxmoxGoldenTemplate",
}
GOLDEN_IMAGE = "golden-images:index:GoldenImage"
CHAIN_POLICIES = {
    "golden-image-platform-chain-pinned",
    "golden-image-platform-chain-encryption-in-prod",
    "golden-image-stack-chain-pinned",
    "golden-image-stack-chain-encryption-in-prod",
    "golden-image-stack-parent-exists",
}


def three_levels(stack: str) -> dict[str, Any]:
    """The stack's catalog plus ``app-worker`` layered on ``app-runtime`` (itself on ``base-ubuntu``) everywhere."""
    raw = stack_catalog(stack)
    worker = copy.deepcopy(image(raw, "app-runtime"))
    worker.update(name="app-worker", version="3.0.1", description="Worker host on the application runtime")
    worker["proxmox"]["vm_id_range"] = {"start": 3000000, "end": 3299999}
    reparent(worker, "app-runtime")
    raw["images"].append(worker)
    return raw


def engine_view(run: ProgramRun, token: str, name: str) -> RegisteredResource:
    """The component as the engine holds it (its registered outputs), what ``AnalyzeStack`` receives."""
    return one(run.engine_resources, token, name)


def expected_claim(run: ProgramRun, platform: str, parent: str, root: str) -> dict[str, str]:
    token = PLATFORMS[platform]
    parent_image = one(run.resources, GOLDEN_IMAGE, parent)
    return {
        "image": parent,
        "version": parent_image.inputs["version"],
        "fingerprint": parent_image.inputs["fingerprint"],
        "encryption": one(run.resources, token, f"{parent}-{platform}").inputs["encryption"],
        # The chain root's vendor source as pinned (what the root's own component registers).
        "parentImage": one(run.resources, token, f"{root}-{platform}").inputs["parentImage"],
    }


@pytest.mark.parametrize("stack", ["dev", "staging", "prod"])
def test_a_layered_child_registers_its_golden_parent_on_every_platform(
    run_stack: RunStack, stack: str
) -> None:
    run = run_stack(stack)
    assert run.error is None, run.error
    for platform, token in PLATFORMS.items():
        claim = expected_claim(run, platform, "base-ubuntu", "base-ubuntu")
        assert all(isinstance(v, str) and v for v in claim.values()), claim  # plain strings, never Outputs
        child = one(run.resources, token, f"app-runtime-{platform}")
        assert child.inputs["goldenParent"] == claim, platform
        outputs = engine_view(run, token, f"app-runtime-{platform}").outputs
        assert outputs["goldenParent"] == claim, platform
        assert outputs["lineage"] == {
            "image": "app-runtime",
            "version": child.inputs["version"],
            "fingerprint": one(run.resources, GOLDEN_IMAGE, "app-runtime").inputs["fingerprint"],
            "parentImage": run.outputs["images"]["app-runtime"]["parent"][platform],
        }
        # A vendor-based image registers no goldenParent (its inputs are what they were), only its lineage.
        base = one(run.resources, token, f"base-ubuntu-{platform}")
        assert "goldenParent" not in base.inputs
        base_outputs = engine_view(run, token, f"base-ubuntu-{platform}").outputs
        assert "goldenParent" not in base_outputs
        assert base_outputs["lineage"]["parentImage"] == base.inputs["parentImage"] == claim["parentImage"]


def test_a_grandchild_names_its_parent_and_the_chain_root(run_stack: RunStack) -> None:
    run = run_stack("prod", three_levels("prod"))
    assert run.error is None, run.error
    for platform, token in PLATFORMS.items():
        worker = one(run.resources, token, f"app-worker-{platform}")
        assert worker.inputs["goldenParent"] == expected_claim(run, platform, "app-runtime", "base-ubuntu")
        assert (
            engine_view(run, token, f"app-worker-{platform}").outputs["goldenParent"]
            == (worker.inputs["goldenParent"])
        )


def test_the_pack_accepts_the_registered_chain_and_sees_a_missing_parent(run_stack: RunStack) -> None:
    """The registrations as the engine holds them pass every chain rule; without its parent a child fails."""
    run = run_stack("prod", three_levels("prod"))
    assert run.error is None, run.error
    with PolicyHarness(ROOT / "policies", project="golden-images", stack="prod") as harness:
        violations = harness.analyze(run.engine_resources)
        assert [v for v in violations if v.policy in CHAIN_POLICIES and not is_preview_notice(v)] == []
        # Drop app-runtime's AWS component: app-worker's AWS parent is no longer in the stack.
        gone = one(run.engine_resources, PLATFORMS["aws"], "app-runtime-aws").urn
        kept = [r for r in run.engine_resources if gone not in (r.urn, r.parent)]
        missing = [v for v in harness.analyze(kept) if v.policy == "golden-image-stack-parent-exists"]
    assert [v.urn for v in missing] == [one(run.resources, PLATFORMS["aws"], "app-worker-aws").urn]
    assert "golden parent app-runtime@2.1.0, which is neither in this stack" in missing[0].message
