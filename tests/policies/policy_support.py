"""Helpers shared by the policy tests (imported by module name; conftest only holds fixtures)."""

from __future__ import annotations

import itertools
import os
from pathlib import Path
from typing import Any

from policy_factories import ACCOUNT, ENCRYPTED_DATASTORE, ORG, OU, SUBSCRIPTION, T, compliant, mutate

from golden_images.engine.harness import PolicyHarness, is_preview_notice
from golden_images.engine.model import RegisteredResource, Violation

#: The pack under test; GOLDEN_IMAGES_POLICY_PACK points at another copy (e.g. an older commit's, to show that a
#: test fails before a fix). Default: this repository's ``policies``.
PACK_DIR = Path(
    os.environ.get("GOLDEN_IMAGES_POLICY_PACK") or Path(__file__).resolve().parents[2] / "policies"
)
PROJECT = "golden-images"
_ids = itertools.count()

#: Allow-lists a real deployment would configure (the defaults are empty = nothing shared, nothing attested).
CONFIGURED = {
    "aws-imagebuilder-distribution-allowed-targets": {
        "allowedAccountIds": [ACCOUNT],
        "allowedOrganizationArns": [ORG],
        "allowedOrganizationalUnitArns": [OU],
    },
    "aws-ec2-amilaunchpermission-allowed-targets": {
        "allowedAccountIds": [ACCOUNT],
        "allowedOrganizationArns": [ORG],
        "allowedOrganizationalUnitArns": [OU],
    },
    "aws-ec2-snapshotcreatevolumepermission-allowed-targets": {"allowedAccountIds": [ACCOUNT]},
    "aws-dlm-lifecyclepolicy-allowed-targets": {"allowedAccountIds": [ACCOUNT]},
    "aws-ram-image-share-allowed-targets": {
        "allowedAccountIds": [ACCOUNT],
        "allowedOrganizationalUnitArns": [OU],
    },
    "azure-compute-gallerysharingprofile-allowed-targets": {"allowedSubscriptionIds": [SUBSCRIPTION]},
    "proxmox-ve-template-encrypted-datastore": {"encryptedDatastores": [ENCRYPTED_DATASTORE]},
}


def resource(kind: str, props: dict[str, Any], name: str = "base") -> RegisteredResource:
    type_ = T.get(kind, kind)
    urn = f"urn:pulumi:prod::{PROJECT}::{type_}::{name}-{next(_ids)}"
    return RegisteredResource(
        urn=urn, type=type_, name=name, parent="", custom=not type_.startswith("golden-images:"), inputs=props
    )


def run(harness: PolicyHarness, kind: str, props: dict[str, Any], name: str = "base") -> list[Violation]:
    """Analyze one resource (and the one-resource stack) through the pack."""
    return harness.analyze([resource(kind, props, name)])


def of(violations: list[Violation], policy: str) -> list[Violation]:
    return [v for v in violations if v.policy == policy]


def assert_violation(
    harness: PolicyHarness,
    policy: str,
    kind: str,
    path: str,
    value: object,
    expected: str,
    *,
    exclusive: bool = True,
) -> None:
    """Changing ``path`` of a compliant ``kind`` to ``value`` trips ``policy``: mandatory, naming the resource
    and saying ``expected``; with ``exclusive`` (default) no other policy fires."""
    violations = run(harness, kind, mutate(compliant(kind), path, value), name="golden")
    found = of(violations, policy)
    assert found and all(v.level == "mandatory" for v in found), violations
    assert any(expected in v.message for v in found), [v.message for v in found]
    assert all("'golden'" in v.message for v in found), [v.message for v in found]  # names the resource
    if exclusive:
        assert {v.policy for v in violations} == {policy}, "one mutation trips exactly one policy"


def messages(harness: PolicyHarness, kind: str, changes: dict[str, Any], policy: str) -> list[str]:
    """The sorted messages ``policy`` gives the compliant ``kind`` (named ``golden``) with ``changes`` applied
    (dotted path -> value, in order), preview notices left out."""
    props = compliant(kind)
    for path, value in changes.items():
        props = mutate(props, path, value)
    found = of(run(harness, kind, props, name="golden"), policy)
    return sorted(v.message for v in found if not is_preview_notice(v))
