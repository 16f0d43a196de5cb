"""Verdicts, word for word, for the mutants of ``gcp/compute.py`` (issue 21, docs/testing.md "Mutation
testing"): IAM policy documents (not text, not JSON, not an object, duplicate keys in any case, a skipped
binding or members list followed by a public one, the last role), bindings and members that are not lists,
unreadable and public members on resource and scope IAM, the CMEK blocks, the source image and the labels. Each
case changes the compliant resource (named ``golden``) on the configured prod pack and lists every message of
one policy. Expectations are literal sentences, never computed with the pack's code."""

# ruff: noqa: E501 (whole sentences are kept on one line each, as the pack says them)

from __future__ import annotations

import json
from typing import Any

import pytest
from policy_factories import DELETE, UNKNOWN
from policy_support import messages

from golden_images.engine.harness import PolicyHarness

IAM = "gcp-compute-image-iam-not-public"
CMEK = "gcp-compute-image-cmek"
PUBLIC = {"role": "roles/compute.imageUser", "members": ["allUsers"]}
INSTEAD = "grant roles to specific groups or service accounts instead."
POLICY_PUBLIC = f"GCP image IAM policy 'golden' grants 'allUsers' role 'roles/compute.imageUser' which makes the image public; {INSTEAD}"
LABEL_RULES = "which GCP rejects; use lowercase letters, digits, '-' and '_' only, keys starting with a letter, at most 63 characters (1.4.2 becomes 1-4-2)."


def _policy(document: Any) -> dict[str, Any]:
    return {"policyData": json.dumps(document)}


CASES = [
    # policyData that is not JSON text, not JSON, or not an object.
    pytest.param(
        "gcp_iam_policy",
        {"policyData": 7},
        IAM,
        ["GCP image IAM policy 'golden' has policyData that could not be read (a float, not JSON text)."],
        id="policy-data-not-text",
    ),
    pytest.param("gcp_iam_policy", {"policyData": UNKNOWN}, IAM, [], id="policy-data-unknown"),
    pytest.param("gcp_iam_policy", {"policyData": None}, IAM, [], id="policy-data-none"),
    pytest.param(
        "gcp_iam_policy",
        {"policyData": "{bindings"},
        IAM,
        [
            "GCP image IAM policy 'golden' has policyData that could not be read as JSON (Expecting property name enclosed in double quotes at character 1); render it with gcp.organizations.get_iam_policy so the pack can check its members."
        ],
        id="policy-data-not-json",
    ),
    pytest.param(
        "gcp_iam_policy",
        {"policyData": "[]"},
        IAM,
        ["GCP image IAM policy 'golden' has policyData that could not be read (a JSON list, not an object)."],
        id="policy-data-a-list",
    ),
    pytest.param(
        "gcp_iam_policy",
        {"policyData": "\ufeff" + json.dumps({"bindings": [PUBLIC]})},
        IAM,
        [POLICY_PUBLIC],
        id="byte-order-mark",
    ),
    # Only a byte-order mark is stripped: other leading text is not JSON.
    pytest.param(
        "gcp_iam_policy",
        {"policyData": 'X{"bindings": []}'},
        IAM,
        [
            "GCP image IAM policy 'golden' has policyData that could not be read as JSON (Expecting value at character 0); render it with gcp.organizations.get_iam_policy so the pack can check its members."
        ],
        id="leading-text-is-not-stripped",
    ),
    # Duplicate keys in any case are all read; an unreadable or null one is skipped and the next is judged.
    pytest.param(
        "gcp_iam_policy",
        _policy({"bindings": 5, "Bindings": [PUBLIC]}),
        IAM,
        [
            POLICY_PUBLIC,
            "GCP image IAM policy 'golden' has policyData bindings that could not be read (not a list).",
        ],
        id="bindings-not-a-list-then-public",
    ),
    pytest.param(
        "gcp_iam_policy",
        _policy({"bindings": None, "BINDINGS": [PUBLIC]}),
        IAM,
        [POLICY_PUBLIC],
        id="bindings-null-then-public",
    ),
    pytest.param(
        "gcp_iam_policy",
        _policy({"bindings": ["x", PUBLIC]}),
        IAM,
        [
            POLICY_PUBLIC,
            "GCP image IAM policy 'golden' has policyData binding #1 that could not be read (not an object).",
        ],
        id="binding-not-an-object-then-public",
    ),
    pytest.param(
        "gcp_iam_policy",
        _policy({"bindings": [{"role": "r", "members": "allUsers"}, PUBLIC]}),
        IAM,
        [
            POLICY_PUBLIC,
            "GCP image IAM policy 'golden' has members in policyData binding #1 that could not be read.",
        ],
        id="members-not-a-list-then-public",
    ),
    # Within one binding: an unreadable members key, then a public one (keys in any case).
    pytest.param(
        "gcp_iam_policy",
        _policy({"bindings": [{"role": "roles/compute.imageUser", "members": "x", "Members": ["allUsers"]}]}),
        IAM,
        [
            POLICY_PUBLIC,
            "GCP image IAM policy 'golden' has members in policyData binding #1 that could not be read.",
        ],
        id="members-key-not-a-list-then-public-in-same-binding",
    ),
    pytest.param(
        "gcp_iam_policy",
        _policy(
            {
                "bindings": [
                    {
                        "role": "roles/a",
                        "Role": "roles/b",
                        "members": None,
                        "Members": ["allAuthenticatedUsers"],
                    }
                ]
            }
        ),
        IAM,
        [
            f"GCP image IAM policy 'golden' grants 'allAuthenticatedUsers' role 'roles/b' which makes the image public; {INSTEAD}"
        ],
        id="last-role-and-null-members-then-public",
    ),
    pytest.param(
        "gcp_iam_policy",
        _policy({"bindings": [{"members": [7, "principalSet://goog/public:all"]}]}),
        IAM,
        [
            f"GCP image IAM policy 'golden' grants 'principalSet://goog/public:all' a role which makes the image public; {INSTEAD}",
            "GCP image IAM policy 'golden' grants a member that could not be read (int 7, not a string); list principals as strings such as group:team@example.com.",
        ],
        id="unreadable-member-then-public-principal-set",
    ),
    # Bindings and members on the resource kinds.
    pytest.param(
        "gcp_iam_binding",
        {"members": "allUsers"},
        IAM,
        ["GCP image IAM binding 'golden' has members that could not be read (not a list of principals)."],
        id="binding-members-a-string",
    ),
    pytest.param("gcp_iam_binding", {"members": None}, IAM, [], id="binding-members-none"),
    pytest.param("gcp_iam_binding", {"members": UNKNOWN}, IAM, [], id="binding-members-unknown"),
    pytest.param(
        "gcp_iam_binding",
        {"members": [UNKNOWN, " AllUsers "], "role": 7},
        IAM,
        [
            f"GCP image IAM binding 'golden' grants ' AllUsers ' a role which makes the image public; {INSTEAD}"
        ],
        id="unknown-member-then-padded-public-no-role-name",
    ),
    pytest.param(
        "gcp_iam_member",
        {"member": "allAuthenticatedUsers"},
        IAM,
        [
            f"GCP image IAM member 'golden' grants 'allAuthenticatedUsers' role 'roles/compute.imageUser' which makes the image public; {INSTEAD}"
        ],
        id="member-all-authenticated",
    ),
    pytest.param(
        "gcp_compute_snapshotIamMember",
        {"member": "allUsers", "role": "roles/viewer"},
        IAM,
        [
            f"gcp:compute/snapshotIamMember:SnapshotIamMember 'golden' grants 'allUsers' role 'roles/viewer' which makes the image public; {INSTEAD}"
        ],
        id="snapshot-member",
    ),
    # Project and organization IAM: the scope sentence.
    pytest.param(
        "gcp_project_member",
        {"member": "allUsers"},
        IAM,
        [
            f"gcp:projects/iAMMember:IAMMember 'golden' grants 'allUsers' role 'roles/compute.imageUser' on the whole project, folder or organization, which makes every image in it public; {INSTEAD}"
        ],
        id="project-member",
    ),
    pytest.param(
        "gcp_organizations_iAMBinding",
        {"members": ["allUsers"], "role": "roles/viewer"},
        IAM,
        [
            f"gcp:organizations/iAMBinding:IAMBinding 'golden' grants 'allUsers' role 'roles/viewer' on the whole project, folder or organization, which makes every image in it public; {INSTEAD}"
        ],
        id="organization-binding",
    ),
    # CMEK blocks.
    pytest.param(
        "gcp_image",
        {"imageEncryptionKey": "k"},
        CMEK,
        [
            "GCP image 'golden' has a imageEncryptionKey that could not be read (it is not an object); set imageEncryptionKey.kmsKeySelfLink."
        ],
        id="key-block-not-an-object",
    ),
    pytest.param("gcp_image", {"imageEncryptionKey": UNKNOWN}, CMEK, [], id="key-block-unknown"),
    pytest.param("gcp_image", {"imageEncryptionKey.kmsKeySelfLink": UNKNOWN}, CMEK, [], id="key-unknown"),
    pytest.param(
        "gcp_image",
        {"imageEncryptionKey": DELETE},
        CMEK,
        [
            "GCP image 'golden' is encrypted with a Google-managed key; set imageEncryptionKey.kmsKeySelfLink to a Cloud KMS key (CMEK) the Compute Engine service agent may use."
        ],
        id="key-block-absent",
    ),
    pytest.param(
        "gcp_image",
        {"imageEncryptionKey.kmsKeySelfLink": "  "},
        CMEK,
        [
            "GCP image 'golden' is encrypted with a Google-managed key; set imageEncryptionKey.kmsKeySelfLink to a Cloud KMS key (CMEK) the Compute Engine service agent may use."
        ],
        id="key-blank",
    ),
    pytest.param(
        "gcp_image",
        {"imageEncryptionKey.rsaEncryptedKey": "abc", "imageEncryptionKey.rawKey": " "},
        CMEK,
        [
            "GCP image 'golden' is encrypted with a customer-supplied rsaEncryptedKey, which is stored in Pulumi state and cannot be rotated; use a Cloud KMS key in imageEncryptionKey.kmsKeySelfLink instead."
        ],
        id="rsa-key-set-raw-key-blank",
    ),
    pytest.param(
        "gcp_image",
        {"imageEncryptionKey.kmsKeySelfLink": "global/keys/x"},
        CMEK,
        [
            "GCP image 'golden' sets imageEncryptionKey.kmsKeySelfLink to 'global/keys/x': 'global/keys/x' is not a Cloud KMS key name (projects/<p>/locations/<l>/keyRings/<r>/cryptoKeys/<k>), so it is not a customer key; set it to a Cloud KMS key (CMEK)."
        ],
        id="key-not-a-kms-name",
    ),
    pytest.param(
        "gcp_machine_image",
        {"machineImageEncryptionKey.kmsKeyName": DELETE, "machineImageEncryptionKey.rawKey": "abc"},
        "gcp-compute-machineimage-cmek",
        [
            "GCP machine image 'golden' is encrypted with a Google-managed key; set machineImageEncryptionKey.kmsKeyName to a Cloud KMS key (CMEK) the Compute Engine service agent may use.",
            "GCP machine image 'golden' is encrypted with a customer-supplied rawKey, which is stored in Pulumi state and cannot be rotated; use a Cloud KMS key in machineImageEncryptionKey.kmsKeyName instead.",
        ],
        id="machine-image-raw-key-no-kms-key",
    ),
    pytest.param(
        "gcp_snapshot",
        {"snapshotEncryptionKey": 5},
        "gcp-compute-snapshot-cmek",
        [
            "GCP snapshot 'golden' has a snapshotEncryptionKey that could not be read (it is not an object); set snapshotEncryptionKey.kmsKeySelfLink."
        ],
        id="snapshot-key-block-not-an-object",
    ),
    # Source image.
    pytest.param(
        "gcp_image",
        {"sourceImage": "projects/ubuntu-os-cloud/global/images/family/ubuntu-2404-lts-amd64"},
        "gcp-compute-image-source-pinned",
        [
            "GCP image 'golden' is created from the image family or floating reference 'projects/ubuntu-os-cloud/global/images/family/ubuntu-2404-lts-amd64', which resolves to whatever is newest; point sourceImage at an exact image name."
        ],
        id="source-family",
    ),
    pytest.param(
        "gcp_image",
        {"sourceImage": "latest"},
        "gcp-compute-image-source-pinned",
        [
            "GCP image 'golden' is created from the image family or floating reference 'latest', which resolves to whatever is newest; point sourceImage at an exact image name."
        ],
        id="source-floating",
    ),
    # Any "/family/" path, not only ".../images/family/<f>".
    pytest.param(
        "gcp_image",
        {"sourceImage": "projects/debian-cloud/family/debian-12"},
        "gcp-compute-image-source-pinned",
        [
            "GCP image 'golden' is created from the image family or floating reference 'projects/debian-cloud/family/debian-12', which resolves to whatever is newest; point sourceImage at an exact image name."
        ],
        id="source-family-without-images",
    ),
    # Labels: an unknown value is skipped and the next label judged; a non-map is left to the required-labels rule.
    pytest.param(
        "gcp_image",
        {"labels": {"owner": UNKNOWN, "Bad": "x", "ok": "Y"}},
        "gcp-compute-image-labels-valid",
        [
            f"GCP image 'golden' has the label 'Bad': 'x', {LABEL_RULES}",
            f"GCP image 'golden' has the label 'ok': 'Y', {LABEL_RULES}",
        ],
        id="unknown-label-then-invalid",
    ),
    # Label keys arrive sorted: the unknown value comes first here, the invalid label after it.
    pytest.param(
        "gcp_image",
        {"labels": {"a-unknown": UNKNOWN, "b": "Y"}},
        "gcp-compute-image-labels-valid",
        [f"GCP image 'golden' has the label 'b': 'Y', {LABEL_RULES}"],
        id="first-label-unknown-then-invalid",
    ),
    pytest.param("gcp_image", {"labels": UNKNOWN}, "gcp-compute-image-labels-valid", [], id="labels-unknown"),
    pytest.param("gcp_image", {"labels": ["a"]}, "gcp-compute-image-labels-valid", [], id="labels-not-a-map"),
    pytest.param(
        "gcp_image",
        {"labels": ["a"]},
        "gcp-compute-image-required-labels",
        [
            "GCP image 'golden' is missing the required labels owner, cost-center, environment, managed-by, golden-image, image-version; add them with non-empty values (the golden-images tag renderer sets every required key)."
        ],
        id="labels-not-a-map-are-missing",
    ),
]


@pytest.mark.parametrize(("kind", "changes", "policy", "expected"), CASES)
def test_gcp_verdicts(
    configured: PolicyHarness, kind: str, changes: dict[str, Any], policy: str, expected: list[str]
) -> None:
    assert messages(configured, kind, dict(changes), policy) == expected
