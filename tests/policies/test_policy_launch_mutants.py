"""Verdicts, word for word, for the mutants of ``launch.py`` that survived the first mutation pass (issue 21;
results in docs/testing.md): Azure VMs launched from a shared or community gallery image (only ``id`` was in the
recorded cases) and a cloned legacy Proxmox VM whose source node differs from its own node; also the neighbours
the sample did not reach (bare GCP names, VM ids as strings, bools or absent, duplicate entries, times). Each case sends one
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


GALLERY_X = "/subscriptions/0000/resourceGroups/rg/providers/Microsoft.Compute/galleries/g/images/base/versions/2.0.0X"
REVOKED = [
    _entry(SHARED, "azure", "westeurope"),
    _entry(COMMUNITY, "azure", "westeurope"),
    _entry(GALLERY_X, "azure", "westeurope"),
    _entry("9100", "proxmox", "pve1"),
    _entry("projects/p/global/images/base-1-0-0-aaaaaaaaaa", "gcp", "global"),
    # The same artifact twice: the first matching entry is reported, once.
    _entry("ami-0000000000000d100", "aws", "us-east-1", reason="first reason"),
    _entry("ami-0000000000000d100", "aws", "us-east-1", reason="second reason"),
    # No image, version or environment; a time without a zone (read as UTC); a time with an offset.
    {"id": "ami-0000000000000e100", "platform": "aws", "reason": "bad build", "at": "2020-01-01T00:00:00"},
    _entry("ami-0000000000000f100", "aws", "us-east-1", at="2020-01-01T02:00:00+02:00"),
    # The second full run's survivors: an id revoked on another platform, an entry without an environment.
    _entry("ami-0000000000000b200", "azure", "westeurope"),
    {k: v for k, v in _entry("ami-0000000000000c200", "aws", "us-east-1").items() if k != "environment"},
    # A bare GCP image name as the revoked id; an unreadable time (treated as due, never skipped).
    _entry("base-2-0-0-bbbbbbbbbb", "gcp", "global"),
    _entry("ami-0000000000000e200", "aws", "us-east-1", at="soon"),
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
TABLE.packs["strict"] = {
    "stack": "prod",
    "config": {"golden-image-launch-approved": {"requireApproved": True, "approvedArtifacts": ["9100"]}},
}
NOT_REVOKED = "golden-image-launch-not-revoked"
APPROVED = "golden-image-launch-approved"
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
    pytest.param(
        "registry",
        "proxmoxve:index/vmLegacy:VmLegacy",
        {"nodeName": "pve1", "clone": {"vmId": 9100, "nodeName": "pve2"}},
        [],
        id="pve-legacy-clone-from-another-node",
    ),
    pytest.param(
        "registry",
        "proxmoxve:cloned/vm:Vm",
        {"nodeName": "pve1", "clone": {"sourceVmId": "9100"}},
        [[NOT_REVOKED, "mandatory", f"Proxmox cloned VM 'web' launches 9100, {TAIL}"]],
        id="pve-clone-vm-id-as-string",
    ),
    pytest.param(
        "strict",
        "proxmoxve:cloned/vm:Vm",
        {"nodeName": "pve1", "clone": {}},
        [],
        id="pve-clone-without-vm-id",
    ),
    pytest.param(
        "strict",
        "proxmoxve:cloned/vm:Vm",
        {"nodeName": "pve1", "clone": {"sourceVmId": True}},
        [],
        id="pve-clone-vm-id-bool",
    ),
    pytest.param(
        "strict",
        "proxmoxve:cloned/vm:Vm",
        {"nodeName": "pve1", "clone": {"sourceVmId": 9101}},
        [
            [
                APPROVED,
                "mandatory",
                "Proxmox cloned VM 'web' launches 9101, which is not an approved artifact of the image registry; launch a recorded, unrevoked golden image (golden-images registry show).",
            ]
        ],
        id="pve-clone-not-approved",
    ),
    pytest.param(
        "registry",
        "gcp:compute/instance:Instance",
        {"bootDisk": {"initializeParams": {"image": "base-1-0-0-aaaaaaaaaa"}}},
        [[NOT_REVOKED, "mandatory", f"GCP instance 'web' launches base-1-0-0-aaaaaaaaaa, {TAIL}"]],
        id="gcp-bare-image-name",
    ),
    pytest.param(
        "registry",
        "gcp:compute/instance:Instance",
        {"bootDisk": {"initializeParams": {"image": "images"}}},
        [],
        id="gcp-bare-name-is-the-last-part-only",
    ),
    pytest.param(
        "registry",
        "gcp:compute/instance:Instance",
        {"bootDisk": {"initializeParams": {"image": "projects/p/global/images/base-1-0-0-aaaaaaaaaaX"}}},
        [],
        id="gcp-path-differs-by-a-trailing-letter",
    ),
    pytest.param(
        "registry",
        "azure:compute/linuxVirtualMachine:LinuxVirtualMachine",
        {"sourceImageId": GALLERY_X.lower() + "/"},
        [
            [
                NOT_REVOKED,
                "mandatory",
                f"azure:compute/linuxVirtualMachine:LinuxVirtualMachine 'web' launches {GALLERY_X.lower()}/, {TAIL}",
            ]
        ],
        id="azure-id-case-and-trailing-slash",
    ),
    pytest.param(
        "registry",
        "aws:ec2/instance:Instance",
        {"ami": "ami-0000000000000d100"},
        [
            [
                NOT_REVOKED,
                "mandatory",
                "EC2 instance 'web' launches ami-0000000000000d100, which is base-ubuntu 1.0.0 (prod), revoked since 2020-01-01T00:00:00Z: first reason; launch a good version instead (golden-images registry show --image base-ubuntu).",
            ]
        ],
        id="aws-two-entries-one-violation",
    ),
    pytest.param(
        "registry",
        "aws:ec2/instance:Instance",
        {"ami": " ami-0000000000000e100 "},
        [
            [
                NOT_REVOKED,
                "mandatory",
                "EC2 instance 'web' launches ami-0000000000000e100, which is a registry version, revoked since 2020-01-01T00:00:00Z: bad build; launch a good version instead (golden-images registry show).",
            ]
        ],
        id="aws-entry-without-image-and-zone",
    ),
    pytest.param(
        "registry",
        "aws:ec2/launchTemplate:LaunchTemplate",
        {"imageId": "ami-0000000000000f100"},
        [
            [
                NOT_REVOKED,
                "mandatory",
                "EC2 launch template 'web' launches ami-0000000000000f100, which is base-ubuntu 1.0.0 (prod), revoked since 2020-01-01T02:00:00+02:00: CVE-2026-0001 in openssh; launch a good version instead (golden-images registry show --image base-ubuntu).",
            ]
        ],
        id="aws-entry-time-with-offset",
    ),
    pytest.param(
        "registry",
        "gcp:compute/instance:Instance",
        {
            "bootDisk": {
                "initializeParams": {
                    "image": "https://compute.googleapis.com/compute/v1/projects/p/global/images/base-1-0-0-aaaaaaaaaa"
                }
            }
        },
        [
            [
                NOT_REVOKED,
                "mandatory",
                f"GCP instance 'web' launches https://compute.googleapis.com/compute/v1/projects/p/global/images/base-1-0-0-aaaaaaaaaa, {TAIL}",
            ]
        ],
        id="gcp-compute-self-link",
    ),
    pytest.param(
        "registry",
        "aws:ec2/instance:Instance",
        {"ami": "ami-0000000000000b200"},
        [],
        id="aws-id-revoked-on-another-platform",
    ),
    pytest.param(
        "registry",
        "aws:ec2/instance:Instance",
        {"ami": "ami-0000000000000c200"},
        [
            [
                NOT_REVOKED,
                "mandatory",
                "EC2 instance 'web' launches ami-0000000000000c200, which is base-ubuntu 1.0.0, revoked since 2020-01-01T00:00:00Z: CVE-2026-0001 in openssh; launch a good version instead (golden-images registry show --image base-ubuntu).",
            ]
        ],
        id="aws-entry-without-environment",
    ),
    pytest.param(
        "registry",
        "proxmoxve:cloned/vm:Vm",
        {"nodeName": "pve2", "clone": {"sourceVmId": 9100}},
        [],
        id="pve-clone-on-another-node-without-a-source-node",
    ),
    pytest.param(
        "registry",
        "azure:compute/linuxVirtualMachine:LinuxVirtualMachine",
        {"sourceImageId": GALLERY_X},
        [
            [
                NOT_REVOKED,
                "mandatory",
                f"azure:compute/linuxVirtualMachine:LinuxVirtualMachine 'web' launches {GALLERY_X}, {TAIL}",
            ]
        ],
        id="azure-id-ending-in-capital-x-as-written",
    ),
    pytest.param(
        "registry",
        "gcp:compute/instance:Instance",
        {"bootDisk": {"initializeParams": {"image": "base-2-0-0-bbbbbbbbbb"}}},
        [[NOT_REVOKED, "mandatory", f"GCP instance 'web' launches base-2-0-0-bbbbbbbbbb, {TAIL}"]],
        id="gcp-bare-name-revoked-as-a-bare-name",
    ),
    pytest.param(
        "registry",
        "aws:ec2/instance:Instance",
        {"ami": "ami-0000000000000e200"},
        [
            [
                NOT_REVOKED,
                "mandatory",
                "EC2 instance 'web' launches ami-0000000000000e200, which is base-ubuntu 1.0.0 (prod), revoked (its time 'soon' cannot be read, so it counts as revoked now): CVE-2026-0001 in openssh; launch a good version instead (golden-images registry show --image base-ubuntu).",
            ]
        ],
        id="aws-entry-with-an-unreadable-time",
    ),
]


@pytest.mark.parametrize(("pack", "type_", "inputs", "expected"), CASES)
def test_mutant_verdicts(
    verdict_packs: Packs, pack: str, type_: str, inputs: dict[str, Any], expected: list[list[str]]
) -> None:
    found = verdict_packs.get(TABLE, pack).analyze([resource(type_, inputs, name="web")])
    assert sorted([v.policy, v.level, v.message] for v in found if not is_preview_notice(v)) == expected
