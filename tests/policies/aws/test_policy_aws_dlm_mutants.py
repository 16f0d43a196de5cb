"""Verdicts, word for word, for the mutants of ``aws/dlm.py`` that survived the first mutation pass (issue 21;
results in docs/testing.md): event-based policies' ``actions[].crossRegionCopies`` (no recorded case had one),
an unknown copy rule or copy followed by a bad one (``continue`` must not become ``break``), and share rules.
Each case changes the compliant DLM policy (named ``golden``) through the configured pack and lists every
message of one policy. Expectations are literal sentences, never computed with the pack's code."""

# ruff: noqa: E501 (whole sentences are kept on one line each, as the pack says them)

from __future__ import annotations

import pytest
from policy_factories import ACCOUNT, KEY_US, ORG, OU, UNKNOWN
from policy_support import messages

from golden_images.engine.harness import PolicyHarness

COPIES = "aws-dlm-lifecyclepolicy-copies-kms-key"
RAM = "aws-ram-image-share-allowed-targets"
LABEL = "Data Lifecycle Manager policy 'golden'"
RAM_LABEL = "RAM share associations 'golden'"
IMAGE = "arn:aws:imagebuilder:eu-west-1:111122223333:image/base/1.4.2/1"
IMAGE_2 = "arn:aws:imagebuilder:eu-west-1:111122223333:image/base/1.4.3/1"
SUBNET = "arn:aws:ec2:eu-west-1:111122223333:subnet/subnet-0123456789abcdef0"
GOOD_COPY = {"target": "us-east-1", "encryptionConfiguration": {"encrypted": True, "cmkArn": KEY_US}}


def _actions(*copies: object) -> dict[str, object]:
    """An event-based action whose crossRegionCopies are ``copies``."""
    return {"policyDetails.actions": [{"name": "share-copy", "crossRegionCopies": list(copies)}]}


CASES = [
    pytest.param(
        "dlm_policy",
        {
            "policyDetails.schedules.0.crossRegionCopyRules": [
                UNKNOWN,
                {"targetRegion": "us-west-2", "encrypted": False, "cmkArn": KEY_US},
            ]
        },
        COPIES,
        [
            f"{LABEL} copies schedule #1's images/snapshots to 'us-west-2' unencrypted (encrypted is False); set encrypted true and cmkArn."
        ],
        id="unknown-copy-rule-then-unencrypted",
    ),
    pytest.param(
        "dlm_policy",
        {
            "policyDetails.schedules.0.crossRegionCopyRules": [
                {"target": "arn:aws:outposts:us-east-1:111122223333:outpost/op-1", "encrypted": True}
            ]
        },
        COPIES,
        [
            f"{LABEL} copies schedule #1's images/snapshots to 'arn:aws:outposts:us-east-1:111122223333:outpost/op-1' without a customer key (no KMS key is set, so AWS uses its AWS-managed key); set cmkArn to a customer KMS key."
        ],
        id="copy-rule-target-instead-of-region",
    ),
    pytest.param("dlm_policy", _actions(GOOD_COPY), COPIES, [], id="action-copy-customer-key"),
    pytest.param(
        "dlm_policy",
        _actions(
            UNKNOWN,
            {
                "target": "us-west-2",
                "encryptionConfiguration": {"encrypted": True, "cmkArn": "alias/aws/ebs"},
            },
        ),
        COPIES,
        [
            f"{LABEL} copies shared snapshots to 'us-west-2' without a customer key ('alias/aws/ebs' is an AWS-managed key, which cannot be restricted or shared); set cmkArn to a customer KMS key."
        ],
        id="action-unknown-copy-then-aws-managed-key",
    ),
    pytest.param(
        "dlm_policy",
        _actions(
            GOOD_COPY,
            {"target": "eu-central-1", "encryptionConfiguration": {"encrypted": False, "cmkArn": KEY_US}},
        ),
        COPIES,
        [
            f"{LABEL} copies shared snapshots to 'eu-central-1' unencrypted (encrypted is False); set encrypted true and cmkArn."
        ],
        id="action-second-copy-unencrypted",
    ),
    pytest.param(
        "dlm_policy",
        _actions({"target": "us-west-2", "encryptionConfiguration": {"encrypted": True}}),
        COPIES,
        [
            f"{LABEL} copies shared snapshots to 'us-west-2' without a customer key (no KMS key is set, so AWS uses its AWS-managed key); set cmkArn to a customer KMS key."
        ],
        id="action-copy-without-key",
    ),
    pytest.param(
        "dlm_policy",
        _actions({"target": "us-west-2"}),
        COPIES,
        [
            f"{LABEL} copies shared snapshots to 'us-west-2' unencrypted (encrypted is None); set encrypted true and cmkArn."
        ],
        id="action-copy-without-encryption-configuration",
    ),
    pytest.param(
        "dlm_policy",
        {
            "policyDetails.actions": [
                {"name": "first", "crossRegionCopies": [GOOD_COPY]},
                {
                    "name": "second",
                    "crossRegionCopies": [
                        {
                            "target": "ap-south-1",
                            "encryptionConfiguration": {"encrypted": "false", "cmkArn": KEY_US},
                        }
                    ],
                },
            ]
        },
        COPIES,
        [
            f"{LABEL} copies shared snapshots to 'ap-south-1' unencrypted (encrypted is 'false'); set encrypted true and cmkArn."
        ],
        id="second-action-copy-unencrypted",
    ),
    pytest.param(
        "ram_exclusive",
        {"resourceArns": [SUBNET], "principals": ["999988887777"]},
        RAM,
        [],
        id="ram-no-image-arn",
    ),
    pytest.param(
        "ram_exclusive",
        {"resourceArns": [SUBNET, IMAGE], "principals": ["999988887777"]},
        RAM,
        [
            f"{RAM_LABEL} shares {IMAGE} with account '999988887777', which is not on the allowedAccountIds allow-list; remove it or add it to the policy config."
        ],
        id="ram-names-the-first-image-arn",
    ),
    pytest.param(
        "ram_exclusive",
        {"resourceArns": [IMAGE, IMAGE_2], "principals": [ORG, ACCOUNT, OU]},
        RAM,
        [
            f"{RAM_LABEL} shares {IMAGE} with organization '{ORG}', which is not on the allowedOrganizationArns allow-list; remove it or add it to the policy config."
        ],
        id="ram-organization-principal",
    ),
    pytest.param(
        "ram_exclusive",
        {
            "resourceArns": [IMAGE, IMAGE_2],
            "principals": ["arn:aws:organizations::111122223333:organization/bad"],
        },
        RAM,
        [
            f"{RAM_LABEL} shares {IMAGE} with organization 'arn:aws:organizations::111122223333:organization/bad' (it is not even a valid organization), which is not on the allowedOrganizationArns allow-list; remove it or add it to the policy config."
        ],
        id="ram-malformed-organization-principal",
    ),
    pytest.param(
        "ram_exclusive",
        {"resourceArns": [IMAGE, IMAGE_2], "principals": ["999988887777"]},
        RAM,
        [
            f"{RAM_LABEL} shares {IMAGE} with account '999988887777', which is not on the allowedAccountIds allow-list; remove it or add it to the policy config."
        ],
        id="ram-account-principal-two-images",
    ),
]


@pytest.mark.parametrize(("kind", "changes", "policy", "expected"), CASES)
def test_mutant_verdicts(
    configured: PolicyHarness, kind: str, changes: dict[str, object], policy: str, expected: list[str]
) -> None:
    assert messages(configured, kind, dict(changes), policy) == expected
