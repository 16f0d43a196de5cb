"""Verdicts, word for word, for the mutants of ``launch.py`` that survived the first mutation pass (issue 21;
results in docs/testing.md): Azure VMs launched from a shared or community gallery image (only ``id`` was in the
recorded cases) and a cloned legacy Proxmox VM whose source node differs from its own node. Each case sends one
launching resource (named ``web``) to a pack started with a literal registry config and lists every violation
(policy, level, whole message). Expectations are literal sentences, never computed with the pack's code."""

# ruff: noqa: E501 (whole sentences are kept on one line each, as the pack says them)

from __future__ import annotations

from typing import Any

import pytest
from policy_support import resource
from policy_verdicts import Packs, Table

from golden_images.engine.harness import is_preview_notice

SHARED = "/SharedGalleries/gal-1/Images/base/Versions/1.0.0"
COMMUNITY = "/CommunityGalleries/pub-1/Images/base/Versions/1.0.0"


def _entry(artifact: str, platform: str, location: str, **extra: Any) -> dict[str, Any]:
    """A revoked artifact as ``golden-images registry policy-config`` writes it."""
    entry = {
        "id": artifact,
        "platform": platform,
        "location": location,
        "image": "base-ubuntu",
        "version": "1.0.0",
        "environment": "prod",
        "reason": "CVE-2026-0001 in openssh",
        "at": "2020-01-01T00:00:00Z",
        "cause": None,
    }
    return {**entry, **extra}


REVOKED = [
    _entry(SHARED, "azure", "westeurope"),
    _entry(COMMUNITY, "azure", "westeurope"),
    _entry("9100", "proxmox", "pve1"),
]
TABLE = Table(
    packs={
        "registry": {
            "stack": "prod",
            "config": {
                "golden-image-launch-not-revoked": {"revokedArtifacts": REVOKED},
                "golden-image-launch-revocation-scheduled": {
                    "enforcementLevel": "advisory",
                    "revokedArtifacts": REVOKED,
                },
            },
        },
    },
    cases=[],
)
NOT_REVOKED = "golden-image-launch-not-revoked"
TAIL = "which is base-ubuntu 1.0.0 (prod), revoked since 2020-01-01T00:00:00Z: CVE-2026-0001 in openssh; launch a good version instead (golden-images registry show --image base-ubuntu)."

CASES = [
    pytest.param(
        "registry",
        "azure-native:compute:VirtualMachine",
        {"storageProfile": {"imageReference": {"sharedGalleryImageId": SHARED.lower()}}},
        [[NOT_REVOKED, "mandatory", f"Azure VM 'web' launches {SHARED.lower()}, {TAIL}"]],
        id="azure-vm-shared-gallery-image",
    ),
    pytest.param(
        "registry",
        "azure-native:compute:VirtualMachineScaleSet",
        {
            "virtualMachineProfile": {
                "storageProfile": {"imageReference": {"communityGalleryImageId": COMMUNITY}}
            }
        },
        [[NOT_REVOKED, "mandatory", f"Azure VM scale set 'web' launches {COMMUNITY}, {TAIL}"]],
        id="azure-scale-set-community-gallery-image",
    ),
    pytest.param(
        "registry",
        "proxmoxve:cloned/vmLegacy:VmLegacy",
        {"nodeName": "pve1", "clone": {"sourceVmId": 9100, "sourceNodeName": "pve2"}},
        [],
        id="pve-cloned-legacy-from-another-node",
    ),
    pytest.param(
        "registry",
        "proxmoxve:cloned/vmLegacy:VmLegacy",
        {"nodeName": "pve2", "clone": {"sourceVmId": 9100, "sourceNodeName": "pve1"}},
        [[NOT_REVOKED, "mandatory", f"Proxmox cloned VM 'web' launches 9100, {TAIL}"]],
        id="pve-cloned-legacy-from-the-artifact-node",
    ),
]


@pytest.mark.parametrize(("pack", "type_", "inputs", "expected"), CASES)
def test_mutant_verdicts(
    verdict_packs: Packs, pack: str, type_: str, inputs: dict[str, Any], expected: list[list[str]]
) -> None:
    found = verdict_packs.get(TABLE, pack).analyze([resource(type_, inputs, name="web")])
    assert sorted([v.policy, v.level, v.message] for v in found if not is_preview_notice(v)) == expected
