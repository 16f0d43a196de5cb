"""Verdicts, word for word, for the mutants of ``keys.py``'s AWS key reasons that survived the first mutation pass
(docs/testing.md): Data Lifecycle Manager copy rules are where a key's reason is shown as it is, so
each case changes the compliant policy's copy key (the policy is named ``golden``) and lists every message.
Expectations are literal sentences, never computed with the pack's code."""

# ruff: noqa: E501 (whole sentences are kept on one line each, as the pack says them)

from __future__ import annotations

import pytest
from policy_factories import DELETE, UNKNOWN
from policy_support import messages

from golden_images.engine.harness import PolicyHarness

CASES = [
    pytest.param(
        "dlm_policy",
        {"policyDetails.schedules.0.crossRegionCopyRules.0.cmkArn": DELETE},
        "aws-dlm-lifecyclepolicy-copies-kms-key",
        [
            "Data Lifecycle Manager policy 'golden' copies schedule #1's images/snapshots to 'us-east-1' without a customer key (no KMS key is set, so AWS uses its AWS-managed key); set cmkArn to a customer KMS key."
        ],
        id="copy-key-missing",
    ),
    pytest.param(
        "dlm_policy",
        {"policyDetails.schedules.0.crossRegionCopyRules.0.cmkArn": " "},
        "aws-dlm-lifecyclepolicy-copies-kms-key",
        [
            "Data Lifecycle Manager policy 'golden' copies schedule #1's images/snapshots to 'us-east-1' without a customer key (no KMS key is set, so AWS uses its AWS-managed key); set cmkArn to a customer KMS key."
        ],
        id="copy-key-blank",
    ),
    pytest.param(
        "dlm_policy",
        {"policyDetails.schedules.0.crossRegionCopyRules.0.cmkArn": "alias/aws/ebs"},
        "aws-dlm-lifecyclepolicy-copies-kms-key",
        [
            "Data Lifecycle Manager policy 'golden' copies schedule #1's images/snapshots to 'us-east-1' without a customer key ('alias/aws/ebs' is an AWS-managed key, which cannot be restricted or shared); set cmkArn to a customer KMS key."
        ],
        id="copy-key-aws-managed-alias",
    ),
    pytest.param(
        "dlm_policy",
        {
            "policyDetails.schedules.0.crossRegionCopyRules.0.cmkArn": "arn:aws:kms:us-east-1:111122223333:alias/aws/ebs"
        },
        "aws-dlm-lifecyclepolicy-copies-kms-key",
        [
            "Data Lifecycle Manager policy 'golden' copies schedule #1's images/snapshots to 'us-east-1' without a customer key ('arn:aws:kms:us-east-1:111122223333:alias/aws/ebs' is an AWS-managed key, which cannot be restricted or shared); set cmkArn to a customer KMS key."
        ],
        id="copy-key-aws-managed-alias-arn",
    ),
    pytest.param(
        "dlm_policy",
        {"policyDetails.schedules.0.crossRegionCopyRules.0.cmkArn": 7},
        "aws-dlm-lifecyclepolicy-copies-kms-key",
        [
            "Data Lifecycle Manager policy 'golden' copies schedule #1's images/snapshots to 'us-east-1' without a customer key (the key could not be read (it is a float, not a string)); set cmkArn to a customer KMS key."
        ],
        id="copy-key-number",
    ),
    pytest.param(
        "dlm_policy",
        {"policyDetails.schedules.0.crossRegionCopyRules.0.cmkArn": UNKNOWN},
        "aws-dlm-lifecyclepolicy-copies-kms-key",
        [],
        id="copy-key-unknown",
    ),
    pytest.param(
        "dlm_policy",
        {},
        "aws-dlm-lifecyclepolicy-copies-kms-key",
        [],
        id="copy-key-customer",
    ),
]


@pytest.mark.parametrize(("kind", "changes", "policy", "expected"), CASES)
def test_survivor_verdicts(
    configured: PolicyHarness, kind: str, changes: dict[str, object], policy: str, expected: list[str]
) -> None:
    assert messages(configured, kind, dict(changes), policy) == expected
