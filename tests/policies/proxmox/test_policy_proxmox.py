"""Proxmox VE template policies through the harness."""

from __future__ import annotations

import pytest
from policy_factories import DELETE, UNKNOWN, compliant, mutate, proxmox_tags
from policy_support import assert_violation, of, run

from golden_images.engine.harness import PolicyHarness

CASES = [
    (
        "proxmox-ve-template-encrypted-datastore",
        "pve_vm_legacy",
        "disks.0.datastoreId",
        "local-lvm",
        "'local-lvm'",
    ),
    (
        "proxmox-ve-template-encrypted-datastore",
        "pve_vm_legacy",
        "disks.0.datastoreId",
        DELETE,
        "provider default",
    ),
    ("proxmox-ve-template-encrypted-datastore", "pve_vm_legacy", "efiDisk.datastoreId", "local", "EFI disk"),
    (
        "proxmox-ve-template-encrypted-datastore",
        "pve_vm_legacy",
        "initialization.datastoreId",
        "local",
        "cloud-init drive",
    ),
    ("proxmox-ve-template-required-tags", "pve_vm_legacy", "tags", DELETE, "missing the required tags"),
    ("proxmox-ve-template-required-tags", "pve_vm_legacy", "tags", ["Owner.Platform"], "flat encoding"),
    ("proxmox-ve-template-required-tags", "pve_vm", "tags", list(reversed(proxmox_tags())), "unsorted"),
    (
        "proxmox-ve-template-required-tags",
        "pve_vm",
        "tags",
        [t for t in proxmox_tags() if not t.startswith("owner")],
        "owner",
    ),
    ("proxmox-ve-template-required-tags", "pve_vm_legacy", "tags", proxmox_tags("dev"), "environment 'dev'"),
]


@pytest.mark.parametrize(("policy", "kind", "path", "value", "expected"), CASES, ids=lambda x: str(x)[:40])
def test_violation(
    configured: PolicyHarness, policy: str, kind: str, path: str, value: object, expected: str
) -> None:
    assert_violation(configured, policy, kind, path, value, expected, exclusive=False)


def test_attested_wording(prod: PolicyHarness) -> None:
    [violation] = of(
        run(prod, "pve_vm_legacy", compliant("pve_vm_legacy")), "proxmox-ve-template-encrypted-datastore"
    )[:1]
    assert "attested" in violation.message


def test_non_templates_are_not_golden_images(prod: PolicyHarness) -> None:
    props = mutate(compliant("pve_vm_legacy"), "template", False)
    props["tags"] = ["Whatever"]
    assert run(prod, "pve_vm_legacy", props) == []


def test_underscore_separator_is_accepted(configured: PolicyHarness) -> None:
    props = mutate(compliant("pve_vm"), "tags", sorted(t.replace(".", "_", 1) for t in proxmox_tags()))
    assert run(configured, "pve_vm", props) == []


def test_unknown_tag_in_preview(configured: PolicyHarness) -> None:
    props = mutate(compliant("pve_vm"), "tags", [*proxmox_tags()[:-1], UNKNOWN])
    assert all(v.level == "advisory" for v in run(configured, "pve_vm", props))


@pytest.mark.parametrize("separator", [".", "_"])
def test_golden_builder_vm_is_judged_before_conversion(configured: PolicyHarness, separator: str) -> None:
    """golden-images creates a plain VM and converts it after provisioning, so the engine only sees
    ``template: false``; the ``managed-by`` tag marks it as a future template."""
    props = mutate(compliant("pve_vm_legacy"), "template", False)
    props["tags"] = sorted(t.replace(".", separator, 1) for t in proxmox_tags())
    props = mutate(props, "disks.0.datastoreId", "local-lvm")
    found = of(run(configured, "pve_vm_legacy", props), "proxmox-ve-template-encrypted-datastore")
    assert [v.level for v in found] == ["mandatory"]
    assert "'local-lvm'" in found[0].message
