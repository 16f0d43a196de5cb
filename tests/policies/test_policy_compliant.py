"""Happy path: the compliant factory of every resource type passes every policy."""

from __future__ import annotations

import pytest
from policy_factories import T, compliant
from policy_support import of, run

from golden_images.preview.harness import PolicyHarness


@pytest.mark.parametrize("kind", sorted(T))
def test_compliant_resource_has_no_violation(configured: PolicyHarness, kind: str) -> None:
    assert run(configured, kind, compliant(kind)) == []


@pytest.mark.parametrize("kind", sorted(T))
def test_compliant_resource_on_dev_stack(dev: PolicyHarness, kind: str) -> None:
    assert run(dev, kind, compliant(kind, env="dev")) == []


def test_defaults_refuse_any_sharing_and_unattested_datastores(prod: PolicyHarness) -> None:
    """No config = strictest: empty allow-lists, so sharing and Proxmox disks fail; the rest passes."""
    assert of(
        run(prod, "launch_permission", compliant("launch_permission")),
        "aws-ec2-amilaunchpermission-allowed-targets",
    )
    assert of(
        run(prod, "pve_vm_legacy", compliant("pve_vm_legacy")), "proxmox-ve-template-encrypted-datastore"
    )
    for kind in sorted(set(T) - {"launch_permission", "pve_vm_legacy"}):
        assert run(prod, kind, compliant(kind)) == [], kind


def test_unrelated_resource_types_are_ignored(prod: PolicyHarness) -> None:
    assert run(prod, "aws:s3/bucketV2:BucketV2", {"bucket": "x"}) == []
    assert run(prod, "proxmoxve:index/vmLegacy:VmLegacy", {"nodeName": "pve", "template": False}) == []
