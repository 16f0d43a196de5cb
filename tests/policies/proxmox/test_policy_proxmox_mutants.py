"""Verdicts, word for word, for the mutants of ``proxmox/templates.py`` (issue 21, docs/testing.md
"Mutation testing"): what makes a template (explicit false spellings, the builder tag with either separator,
cloned kinds), every datastore place with unknown, absent and unreadable values and the loops going on past a
skipped entry, and the tag split (longest key first, no empty value, unknown tags). Each case changes the
compliant resource (named ``golden``) on the configured prod pack. Expectations are literal sentences, never
computed with the pack's code."""

# ruff: noqa: E501 (whole sentences are kept on one line each, as the pack says them)

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from policy_factories import DELETE, UNKNOWN
from policy_support import CONFIGURED, PACK_DIR, PROJECT, messages

from golden_images.engine.harness import PolicyHarness

DATASTORE = "proxmox-ve-template-encrypted-datastore"
TAGS = "proxmox-ve-template-required-tags"
#: The end of every datastore sentence.
NOT_ALLOWED = "which is not on the encrypted-datastore allow-list (encryption there is attested, not enforced); move it to an encrypted datastore or attest the datastore in encryptedDatastores."
#: The compliant tags without the builder tag ``managed-by.golden-images``.
NO_BUILDER = [
    "cost-center.cc-1234",
    "environment.prod",
    "golden-image.base",
    "image-version.1.4.2",
    "owner.platform",
]
WITH_UNDERSCORE_BUILDER = [
    "cost-center.cc-1234",
    "environment.prod",
    "golden-image.base",
    "image-version.1.4.2",
    "managed-by_golden-images",
    "owner.platform",
]
EFI_LOCAL = f"Proxmox VM template 'golden' keeps its EFI disk on datastore 'local', {NOT_ALLOWED}"

CASES = [
    # What is a template: an explicit false (any case, padded) without the builder tag is not judged ...
    pytest.param(
        "pve_vm_legacy",
        {"tags": NO_BUILDER, "template": "false", "efiDisk.datastoreId": "local"},
        DATASTORE,
        [],
        id="template-string-false",
    ),
    pytest.param(
        "pve_vm_legacy",
        {"tags": NO_BUILDER, "template": " FALSE ", "efiDisk.datastoreId": "local"},
        DATASTORE,
        [],
        id="template-padded-upper-false",
    ),
    pytest.param(
        "pve_vm_legacy",
        {"tags": NO_BUILDER, "template": False, "efiDisk.datastoreId": "local"},
        DATASTORE,
        [],
        id="template-false",
    ),
    pytest.param(
        "pve_vm_legacy",
        {"tags": NO_BUILDER, "template": DELETE, "efiDisk.datastoreId": "local"},
        DATASTORE,
        [],
        id="template-absent",
    ),
    pytest.param(
        "pve_vm_legacy",
        {"tags": NO_BUILDER, "template": UNKNOWN, "efiDisk.datastoreId": "local"},
        DATASTORE,
        [],
        id="template-unknown",
    ),
    # ... anything else that is set is judged as a template (fail closed).
    pytest.param(
        "pve_vm_legacy",
        {"tags": NO_BUILDER, "template": "no", "efiDisk.datastoreId": "local"},
        DATASTORE,
        [EFI_LOCAL],
        id="template-string-no",
    ),
    pytest.param(
        "pve_vm_legacy",
        {"tags": NO_BUILDER, "template": "true", "efiDisk.datastoreId": "local"},
        DATASTORE,
        [EFI_LOCAL],
        id="template-string-true",
    ),
    pytest.param(
        "pve_vm_legacy",
        {"tags": NO_BUILDER, "template": 0, "efiDisk.datastoreId": "local"},
        DATASTORE,
        [EFI_LOCAL],
        id="template-zero",
    ),
    # The builder tag, with '_' as the separator too, marks a not-yet-converted template; '-' does not.
    pytest.param(
        "pve_vm_legacy",
        {"template": False, "tags": WITH_UNDERSCORE_BUILDER, "efiDisk.datastoreId": "local"},
        DATASTORE,
        [EFI_LOCAL],
        id="builder-tag-underscore",
    ),
    pytest.param(
        "pve_vm_legacy",
        {
            "template": False,
            "tags": [*NO_BUILDER[:4], "managed-by-golden-images", NO_BUILDER[4]],
            "efiDisk.datastoreId": "local",
        },
        DATASTORE,
        [],
        id="builder-tag-dash-is-not-the-builder-tag",
    ),
    # Cloned kinds have no template input: only the builder tag counts.
    pytest.param(
        "pve_cloned_vm",
        {"template": True, "tags": NO_BUILDER, "disk.scsi0.datastoreId": "local"},
        DATASTORE,
        [],
        id="cloned-template-input-ignored",
    ),
    pytest.param(
        "pve_cloned_vm_legacy",
        {"tags": WITH_UNDERSCORE_BUILDER, "disk.scsi0.datastoreId": "local"},
        DATASTORE,
        [f"Proxmox cloned VM 'golden' keeps its disk 'scsi0' on datastore 'local', {NOT_ALLOWED}"],
        id="cloned-builder-tag-underscore",
    ),
    # Disks without an interface are numbered from 1; an unknown datastore is skipped and the next is judged.
    pytest.param(
        "pve_vm_legacy",
        {"disks": [{"datastoreId": "local"}, {"datastoreId": "local-lvm"}]},
        DATASTORE,
        [
            f"Proxmox VM template 'golden' keeps its disk #1 on datastore 'local', {NOT_ALLOWED}",
            f"Proxmox VM template 'golden' keeps its disk #2 on datastore 'local-lvm', {NOT_ALLOWED}",
        ],
        id="disks-numbered",
    ),
    pytest.param(
        "pve_vm_legacy",
        {"disks": [{"interface": "scsi0", "datastoreId": UNKNOWN}, {"interface": 5, "datastoreId": 7}]},
        DATASTORE,
        [f"Proxmox VM template 'golden' keeps its disk #2 on datastore 7.0, {NOT_ALLOWED}"],
        id="unknown-datastore-then-number",
    ),
    pytest.param(
        "pve_vm_legacy",
        {"tpmState": {"datastoreId": None}},
        DATASTORE,
        [
            f"Proxmox VM template 'golden' keeps its TPM state on datastore the provider default (local-lvm), {NOT_ALLOWED}"
        ],
        id="tpm-state-default-datastore",
    ),
    pytest.param(
        "pve_vm_legacy",
        {"efiDisk": UNKNOWN, "initialization": None},
        DATASTORE,
        [],
        id="side-disks-unknown-or-absent",
    ),
    # The disk map: an unknown slot is skipped and the next one judged; a slot without a datastore is the default.
    pytest.param(
        "pve_vm",
        {"disk": {"scsi0": UNKNOWN, "scsi1": {"datastoreId": "local"}}},
        DATASTORE,
        [f"Proxmox VM template 'golden' keeps its disk 'scsi1' on datastore 'local', {NOT_ALLOWED}"],
        id="disk-map-unknown-slot-then-plain",
    ),
    pytest.param(
        "pve_vm",
        {"disk": {"scsi0": {"sizeGb": 20}}},
        DATASTORE,
        [
            f"Proxmox VM template 'golden' keeps its disk 'scsi0' on datastore the provider default (local-lvm), {NOT_ALLOWED}"
        ],
        id="disk-map-slot-default-datastore",
    ),
    # Only cloned kinds have a clone target.
    pytest.param("pve_vm", {"clone": {"targetDatastore": "local"}}, DATASTORE, [], id="clone-on-a-plain-vm"),
    pytest.param("pve_cloned_vm", {"disk.scsi0": {"sizeGb": 20}}, DATASTORE, [], id="cloned-disk-on-target"),
    pytest.param(
        "pve_cloned_vm",
        {"disk.scsi0": {"sizeGb": 20}, "clone.targetDatastore": DELETE},
        DATASTORE,
        [
            f"Proxmox cloned VM 'golden' keeps its cloned disks (clone.targetDatastore) on datastore the source VM's datastore, {NOT_ALLOWED}",
            f"Proxmox cloned VM 'golden' keeps its disk 'scsi0' on datastore the source VM's datastore, {NOT_ALLOWED}",
        ],
        id="cloned-no-target",
    ),
    pytest.param(
        "pve_cloned_vm_legacy",
        {"clone": UNKNOWN, "disk.scsi0": {"sizeGb": 20}},
        DATASTORE,
        [],
        id="clone-unknown",
    ),
    pytest.param(
        "pve_cloned_vm_legacy",
        {"clone": DELETE, "disk": DELETE},
        DATASTORE,
        [
            f"Proxmox cloned VM 'golden' keeps its cloned disks (clone.targetDatastore) on datastore the source VM's datastore, {NOT_ALLOWED}"
        ],
        id="clone-absent",
    ),
    # The container's one root disk.
    pytest.param("pve_container", {"disk": UNKNOWN}, DATASTORE, [], id="container-disk-unknown"),
    pytest.param("pve_container", {"disk": DELETE}, DATASTORE, [], id="container-disk-absent"),
    pytest.param(
        "pve_container",
        {"disk": {"size": 8}},
        DATASTORE,
        [
            f"Proxmox container template 'golden' keeps its root disk on datastore the provider default (local-lvm), {NOT_ALLOWED}"
        ],
        id="container-disk-default-datastore",
    ),
    # Tags.
    pytest.param("pve_vm", {"tags": UNKNOWN}, TAGS, [], id="tags-unknown"),
    pytest.param("pve_vm", {"tags": NO_BUILDER, "template": False}, TAGS, [], id="tags-not-a-template"),
    pytest.param(
        "pve_vm",
        {"tags": ["Bad Tag", "X", *WITH_UNDERSCORE_BUILDER]},
        TAGS,
        [
            "Proxmox VM template 'golden' has tags 'Bad Tag', 'X' outside the flat encoding [a-z0-9_][a-z0-9_+.-]*; render tags with the golden-images Proxmox tag renderer."
        ],
        id="two-bad-tags",
    ),
    pytest.param(
        "pve_vm",
        {"tags": [*NO_BUILDER[:4], "managed-by.golden-images", "owner_platform"]},
        TAGS,
        [],
        id="underscore-separator",
    ),
    # "owner." has no value: owner is missing.
    pytest.param(
        "pve_vm",
        {"tags": [*NO_BUILDER[:4], "managed-by.golden-images", "owner."]},
        TAGS,
        [
            "Proxmox VM template 'golden' is missing the required tags owner; add them with non-empty values (the golden-images tag renderer sets every required key)."
        ],
        id="empty-value-is-missing",
    ),
    pytest.param(
        "pve_vm",
        {"tags": [*NO_BUILDER[:4], "managed-by.golden-images", 7]},
        TAGS,
        [
            "Proxmox VM template 'golden' is missing the required tags owner; add them with non-empty values (the golden-images tag renderer sets every required key)."
        ],
        id="non-string-tag",
    ),
    # An unknown tag may carry any key (no "missing"), and the tags after it are still read.
    pytest.param(
        "pve_vm",
        {
            "tags": [
                UNKNOWN,
                "environment.dev",
                "cost-center.cc-1234",
                "golden-image.base",
                "image-version.1.4.2",
                "owner.platform",
            ]
        },
        TAGS,
        [
            "Proxmox VM template 'golden' is tagged environment 'dev' but is deployed by a prod stack; tag it with environment 'prod' or deploy it from the dev stack."
        ],
        id="unknown-tag-then-environment",
    ),
    # With an unknown tag the order cannot be checked.
    pytest.param(
        "pve_vm",
        {"tags": [UNKNOWN, "owner.platform", "managed-by.golden-images", "image-version.1.4.2"]},
        TAGS,
        [],
        id="unknown-tag-unsorted",
    ),
]


@pytest.mark.parametrize(("kind", "changes", "policy", "expected"), CASES)
def test_proxmox_verdicts(
    configured: PolicyHarness, kind: str, changes: dict[str, Any], policy: str, expected: list[str]
) -> None:
    assert messages(configured, kind, dict(changes), policy) == expected


def test_disk_map_that_is_not_an_object_is_reported(configured: PolicyHarness) -> None:
    [message] = messages(configured, "pve_vm", {"disk": ["scsi0"]}, DATASTORE)
    assert message.startswith(
        "Proxmox VM template 'golden' keeps its disk map (could not be read: not an object) on datastore "
    ), message
    assert message.endswith(NOT_ALLOWED), message


def test_disk_map_that_is_not_an_object_is_shown_readably(configured: PolicyHarness) -> None:
    """The value as plain data (it was the repr of the SDK's list proxy: a memory address)."""
    [message] = messages(configured, "pve_vm", {"disk": ["scsi0"]}, DATASTORE)
    assert "on datastore ['scsi0']," in message, message


#: Required keys where one is the other plus ".x": the longer key is tried first.
NESTED_KEYS = {**CONFIGURED, TAGS: {"requiredTagKeys": ["team", "team.x"]}}


@pytest.fixture(scope="module")
def nested() -> Iterator[PolicyHarness]:
    """A prod stack whose Proxmox tag rule requires ``team`` and ``team.x``."""
    with PolicyHarness(PACK_DIR, project=PROJECT, stack="prod", config=NESTED_KEYS) as harness:
        yield harness


@pytest.mark.parametrize(
    ("tags", "expected"),
    [
        # team.x + "y": the longer key wins, so team is missing.
        (
            ["team.x.y"],
            [
                "Proxmox VM template 'golden' is missing the required tags team; add them with non-empty values (the golden-images tag renderer sets every required key)."
            ],
        ),
        # team.x + "" is no value, so the tag is read as team + "x.".
        (
            ["team.x."],
            [
                "Proxmox VM template 'golden' is missing the required tags team.x; add them with non-empty values (the golden-images tag renderer sets every required key)."
            ],
        ),
        (["team.a", "team.x.b"], []),
    ],
    ids=["longer-key-first", "empty-value-falls-back-to-shorter-key", "both"],
)
def test_longest_key_first(nested: PolicyHarness, tags: list[str], expected: list[str]) -> None:
    assert messages(nested, "pve_vm", {"tags": tags}, TAGS) == expected
