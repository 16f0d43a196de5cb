"""GCP image policies through the harness."""

from __future__ import annotations

import json

import pytest
from policy_factories import DELETE, UNKNOWN, compliant, labels, mutate, secret
from policy_support import assert_violation, of, run

from golden_images.engine.harness import PolicyHarness, is_preview_notice

CASES = [
    ("gcp-compute-image-cmek", "gcp_image", "imageEncryptionKey", DELETE, "Google-managed key"),
    (
        "gcp-compute-image-cmek",
        "gcp_image",
        "imageEncryptionKey",
        {"rawKey": "c2VjcmV0"},
        "customer-supplied rawKey",
    ),
    (
        "gcp-compute-image-cmek",
        "gcp_image",
        "imageEncryptionKey",
        {"rsaEncryptedKey": "abc"},
        "rsaEncryptedKey",
    ),
    ("gcp-compute-image-cmek", "gcp_image", "imageEncryptionKey.kmsKeySelfLink", "", "Google-managed key"),
    (
        "gcp-compute-machineimage-cmek",
        "gcp_machine_image",
        "machineImageEncryptionKey",
        DELETE,
        "Google-managed",
    ),
    (
        "gcp-compute-machineimage-cmek",
        "gcp_machine_image",
        "machineImageEncryptionKey",
        {"rawKey": "c2VjcmV0"},
        "stored in Pulumi state",
    ),
    ("gcp-compute-image-iam-not-public", "gcp_iam_binding", "members", ["allUsers"], "'allUsers'"),
    (
        "gcp-compute-image-iam-not-public",
        "gcp_iam_binding",
        "members",
        ["group:a@example.com", "allAuthenticatedUsers"],
        "'allAuthenticatedUsers'",
    ),
    ("gcp-compute-image-iam-not-public", "gcp_iam_member", "member", "allUsers", "public"),
    (
        "gcp-compute-image-iam-not-public",
        "gcp_iam_policy",
        "policyData",
        json.dumps({"bindings": [{"role": "roles/compute.imageUser", "members": ["allUsers"]}]}),
        "'allUsers'",
    ),
    (
        "gcp-compute-image-source-pinned",
        "gcp_image",
        "sourceImage",
        "projects/ubuntu-os-cloud/global/images/family/ubuntu-2404-lts-amd64",
        "image family",
    ),
    ("gcp-compute-image-required-labels", "gcp_image", "labels", DELETE, "missing the required labels"),
    ("gcp-compute-image-required-labels", "gcp_image", "labels.owner", DELETE, "owner"),
    ("gcp-compute-image-required-labels", "gcp_image", "labels.environment", "dev", "environment 'dev'"),
    ("gcp-compute-image-labels-valid", "gcp_image", "labels", {**labels(), "Team": "x"}, "'Team'"),
    (
        "gcp-compute-image-labels-valid",
        "gcp_image",
        "labels",
        {**labels(), "version": "1.4.2"},
        "GCP rejects",
    ),
]


@pytest.mark.parametrize(("policy", "kind", "path", "value", "expected"), CASES, ids=lambda x: str(x)[:40])
def test_violation(
    configured: PolicyHarness, policy: str, kind: str, path: str, value: object, expected: str
) -> None:
    assert_violation(configured, policy, kind, path, value, expected)


def test_raw_key_fails_even_next_to_kms_key(configured: PolicyHarness) -> None:
    props = mutate(compliant("gcp_image"), "imageEncryptionKey.rawKey", "c2VjcmV0")
    [violation] = of(run(configured, "gcp_image", props), "gcp-compute-image-cmek")
    assert "rawKey" in violation.message


def test_raw_key_sent_as_secret_still_fails(configured: PolicyHarness) -> None:
    """Secrets arrive unwrapped in Analyze; a secret raw key is still a raw key."""
    props = mutate(
        compliant("gcp_machine_image"), "machineImageEncryptionKey", {"rawKey": secret("c2VjcmV0")}
    )
    assert of(run(configured, "gcp_machine_image", props), "gcp-compute-machineimage-cmek")


def test_unknown_kms_key_is_only_a_notice(configured: PolicyHarness) -> None:
    props = mutate(compliant("gcp_image"), "imageEncryptionKey", {"kmsKeySelfLink": UNKNOWN})
    violations = run(configured, "gcp_image", props)
    assert violations and all(is_preview_notice(v) for v in violations)


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        ("{not json", "could not be read as JSON"),
        ("[]", "a JSON list, not an object"),
        (json.dumps({"bindings": "x"}), "bindings that could not be read"),
        (json.dumps({"bindings": [1]}), "binding #1 that could not be read"),
        (json.dumps({"bindings": [{"members": 2}]}), "members in policyData binding #1"),
        (json.dumps({"bindings": [{"members": [7]}]}), "member that could not be read"),
    ],
)
def test_unreadable_policy_data_fails_closed(configured: PolicyHarness, data: str, expected: str) -> None:
    found = of(
        run(configured, "gcp_iam_policy", {"image": "x", "policyData": data}),
        "gcp-compute-image-iam-not-public",
    )
    assert found and all(v.level == "mandatory" for v in found)
    assert any(expected in v.message for v in found), [v.message for v in found]
