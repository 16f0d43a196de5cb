"""Launch rules through the analyzer harness: every launching resource type, with a pack config written by
the registry's own ``policy_config`` from a registry with a revoked version, its descendant, a scheduled
revocation and a good version."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import pytest
from policy_support import PACK_DIR, PROJECT, of, run

from golden_images.engine.harness import PolicyHarness, is_preview_notice
from golden_images.registry import ops
from golden_images.registry.model import Registry
from golden_images_policies.launch import LAUNCH_TYPES
from tests.registry.builders import layered_registry, ref

NOW = dt.datetime.now(dt.UTC).replace(microsecond=0)
REVOKED = ops.REVOKED_POLICY
SCHEDULED = ops.SCHEDULED_POLICY
APPROVED = ops.APPROVED_POLICY
GALLERY = (
    "/subscriptions/0000/resourceGroups/rg/providers/Microsoft.Compute/galleries/g/images/base/versions/1.0.0"
)
ARTIFACTS = {
    "1.0.0": {
        "aws": {"us-east-1": "ami-0000000000000a100"},
        "azure": {"westeurope": GALLERY},
        "gcp": {"global": "projects/p/global/images/base-1-0-0-aaaaaaaaaa"},
        "proxmox": {"pve1": "9100"},
    },
    "1.1.0": {"aws": {"us-east-1": "ami-0000000000000a110"}},
    "1.2.0": {"aws": {"us-east-1": "ami-0000000000000a120"}},
}
CHILD = "ami-0000000000000b200"


def _registry() -> Registry:
    parent = ref("1.0.0")
    reg = layered_registry(ARTIFACTS, now=NOW, child={"aws": {"us-east-1": CHILD}}, child_of="1.0.0")
    reg, _ = ops.revoke(
        reg, parent, reason="CVE-2026-0001 in openssh", at=NOW - dt.timedelta(hours=1), now=NOW
    )
    scheduled = ref("1.1.0")
    reg, _ = ops.revoke(reg, scheduled, reason="end of support", at=NOW + dt.timedelta(days=7), now=NOW)
    return reg


def _config(**approved: Any) -> dict[str, Any]:
    return ops.policy_config(_registry(), {APPROVED: approved} if approved else {})


@pytest.fixture(scope="module")
def registry_pack() -> Iterator[PolicyHarness]:
    with PolicyHarness(PACK_DIR, project=PROJECT, stack="prod", config=_config()) as harness:
        yield harness


@pytest.fixture(scope="module")
def strict_pack() -> Iterator[PolicyHarness]:
    with PolicyHarness(
        PACK_DIR, project=PROJECT, stack="prod", config=_config(requireApproved=True)
    ) as harness:
        yield harness


def _props(kind: str, image: str) -> dict[str, Any]:
    """Minimal inputs of ``kind`` launching ``image``."""
    azure_ref = {"imageReference": {"id": image}}
    vm = int(image) if image.isdigit() else 0  # the table is built whole: non-Proxmox ids give 0
    return {
        "aws:ec2/instance:Instance": {"ami": image, "instanceType": "t3.micro"},
        "aws:ec2/launchTemplate:LaunchTemplate": {"imageId": image},
        "aws:ec2/launchConfiguration:LaunchConfiguration": {"imageId": image, "instanceType": "t3.micro"},
        "aws:ec2/spotInstanceRequest:SpotInstanceRequest": {"ami": image},
        "aws:ec2/spotFleetRequest:SpotFleetRequest": {
            "launchSpecifications": [{"ami": "ami-0000000000000a120"}, {"ami": image}]
        },
        "azure-native:compute:VirtualMachine": {"storageProfile": azure_ref},
        "azure-native:compute:VirtualMachineScaleSet": {
            "virtualMachineProfile": {"storageProfile": azure_ref}
        },
        "azure:compute/linuxVirtualMachine:LinuxVirtualMachine": {"sourceImageId": image},
        "azure:compute/windowsVirtualMachine:WindowsVirtualMachine": {"sourceImageId": image},
        "azure:compute/linuxVirtualMachineScaleSet:LinuxVirtualMachineScaleSet": {"sourceImageId": image},
        "azure:compute/windowsVirtualMachineScaleSet:WindowsVirtualMachineScaleSet": {"sourceImageId": image},
        "azure:compute/orchestratedVirtualMachineScaleSet:OrchestratedVirtualMachineScaleSet": {
            "sourceImageId": image
        },
        "azure:compute/virtualMachine:VirtualMachine": {"storageImageReference": {"id": image}},
        "azure:compute/scaleSet:ScaleSet": {"storageProfileImageReference": {"id": image}},
        "gcp:compute/instance:Instance": {"bootDisk": {"initializeParams": {"image": image}}},
        "gcp:compute/instanceTemplate:InstanceTemplate": {"disks": [{"sourceImage": image}]},
        "gcp:compute/regionInstanceTemplate:RegionInstanceTemplate": {"disks": [{"sourceImage": image}]},
        "proxmoxve:cloned/vm:Vm": {
            "nodeName": "pve2",
            "clone": {"sourceVmId": vm, "sourceNodeName": "pve1"},
        },
        "proxmoxve:cloned/vmLegacy:VmLegacy": {"nodeName": "pve1", "clone": {"sourceVmId": vm}},
        "proxmoxve:index/vmLegacy:VmLegacy": {"nodeName": "pve1", "clone": {"vmId": vm}},
    }[kind]


def _revoked_id(kind: str) -> str:
    if kind.startswith("aws:"):
        return "ami-0000000000000a100"
    if kind.startswith("azure"):
        return GALLERY.upper()  # Azure ids compare case-insensitively
    if kind.startswith("gcp:"):
        return "https://www.googleapis.com/compute/v1/projects/p/global/images/base-1-0-0-aaaaaaaaaa"
    return "9100"


def _good_id(kind: str) -> str:
    if kind.startswith("aws:"):
        return "ami-0000000000000a120"
    if kind.startswith("azure"):
        return GALLERY.replace("1.0.0", "1.2.0")
    if kind.startswith("gcp:"):
        return "projects/p/global/images/base-1-2-0-cccccccccc"
    return "9120"


@pytest.mark.parametrize("kind", LAUNCH_TYPES)
def test_revoked_image_is_mandatory_violation(registry_pack: PolicyHarness, kind: str) -> None:
    found = of(run(registry_pack, kind, _props(kind, _revoked_id(kind)), name="web"), REVOKED)
    assert len(found) == 1 and found[0].level == "mandatory", found
    message = found[0].message
    assert "base-ubuntu 1.0.0 (prod)" in message and "CVE-2026-0001 in openssh" in message
    assert "'web'" in message


@pytest.mark.parametrize("kind", LAUNCH_TYPES)
def test_good_image_passes(registry_pack: PolicyHarness, kind: str) -> None:
    violations = run(registry_pack, kind, _props(kind, _good_id(kind)))
    assert [v for v in violations if v.policy in (REVOKED, SCHEDULED, APPROVED)] == []


def test_descendant_names_its_revoked_ancestor(registry_pack: PolicyHarness) -> None:
    [found] = of(run(registry_pack, "aws:ec2/instance:Instance", {"ami": CHILD}), REVOKED)
    assert "app-runtime 2.0.0 (prod)" in found.message
    assert "built on the revoked base-ubuntu 1.0.0 (prod)" in found.message


def test_scheduled_revocation_warns_until_its_time(registry_pack: PolicyHarness) -> None:
    violations = run(
        registry_pack, "aws:ec2/launchTemplate:LaunchTemplate", {"imageId": "ami-0000000000000a110"}
    )
    assert of(violations, REVOKED) == []
    [warning] = of(violations, SCHEDULED)
    assert warning.level == "advisory" and "end of support" in warning.message
    assert "scheduled to be revoked" in warning.message


def test_proxmox_clone_from_another_node_is_not_the_artifact(registry_pack: PolicyHarness) -> None:
    props = {"nodeName": "pve2", "clone": {"sourceVmId": 9100, "sourceNodeName": "pve2"}}
    assert of(run(registry_pack, "proxmoxve:cloned/vm:Vm", props), REVOKED) == []


def test_approved_is_off_by_default_and_enforced_when_required(
    registry_pack: PolicyHarness, strict_pack: PolicyHarness
) -> None:
    stranger = {"ami": "ami-0123456789abcdef0"}
    assert of(run(registry_pack, "aws:ec2/instance:Instance", stranger), APPROVED) == []
    [found] = of(run(strict_pack, "aws:ec2/instance:Instance", stranger), APPROVED)
    assert found.level == "mandatory" and "not an approved artifact" in found.message
    assert of(run(strict_pack, "aws:ec2/instance:Instance", {"ami": "ami-0000000000000a120"}), APPROVED) == []
    # Revoked and scheduled versions are not approved.
    assert of(run(strict_pack, "aws:ec2/instance:Instance", {"ami": "ami-0000000000000a110"}), APPROVED)


def test_unknown_image_is_not_judged(registry_pack: PolicyHarness) -> None:
    from policy_factories import UNKNOWN

    violations = run(registry_pack, "aws:ec2/instance:Instance", {"ami": UNKNOWN})
    ours = [v for v in violations if v.policy in (REVOKED, SCHEDULED, APPROVED)]
    # Only the SDK's advisory "cannot run during preview" note: an unknown id is never guessed at.
    assert ours and all(is_preview_notice(v) for v in ours), ours
