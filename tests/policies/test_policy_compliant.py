"""Happy path: the compliant factory of every resource type passes every policy."""

from __future__ import annotations

import pytest
from policy_factories import NEVER_COMPLIANT, T, compliant
from policy_support import of, run

from golden_images.engine.harness import PolicyHarness

COMPLIANT_KINDS = sorted(set(T) - NEVER_COMPLIANT)


@pytest.mark.parametrize("kind", COMPLIANT_KINDS)
def test_compliant_resource_has_no_violation(configured: PolicyHarness, kind: str) -> None:
    assert run(configured, kind, compliant(kind)) == []


@pytest.mark.parametrize("kind", COMPLIANT_KINDS)
def test_compliant_resource_on_dev_stack(dev: PolicyHarness, kind: str) -> None:
    assert run(dev, kind, compliant(kind, env="dev")) == []


def test_defaults_refuse_any_sharing_and_unattested_datastores(prod: PolicyHarness) -> None:
    """No config = strictest: empty allow-lists, so sharing and Proxmox disks fail; the rest passes."""
    assert of(
        run(prod, "launch_permission", compliant("launch_permission")),
        "aws-ec2-amilaunchpermission-allowed-targets",
    )
    shared = {
        "launch_permission": "aws-ec2-amilaunchpermission-allowed-targets",
        "snapshot_permission": "aws-ec2-snapshotcreatevolumepermission-allowed-targets",
        "sharing_profile": "azure-compute-gallerysharingprofile-allowed-targets",
        "dlm_policy": "aws-dlm-lifecyclepolicy-allowed-targets",
        "ram_exclusive": "aws-ram-image-share-allowed-targets",
    }
    for kind, policy in shared.items():
        assert of(run(prod, kind, compliant(kind)), policy), kind
    stored = [k for k in COMPLIANT_KINDS if k.startswith("pve_") and k not in ("pve_vm", "pve_vm2_legacy")]
    for kind in stored:
        assert of(run(prod, kind, compliant(kind)), "proxmox-ve-template-encrypted-datastore"), kind
    for kind in sorted(set(COMPLIANT_KINDS) - set(shared) - set(stored) - {"launch_permission"}):
        assert run(prod, kind, compliant(kind)) == [], kind


def test_unrelated_resource_types_are_ignored(prod: PolicyHarness) -> None:
    assert run(prod, "aws:s3/bucketV2:BucketV2", {"bucket": "x"}) == []
    assert run(prod, "proxmoxve:index/vmLegacy:VmLegacy", {"nodeName": "pve", "template": False}) == []
