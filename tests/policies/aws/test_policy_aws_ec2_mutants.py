"""Verdicts, word for word, for the mutants of ``aws/ec2.py`` that survived the first mutation pass (issue 21;
results in docs/testing.md): an unknown EBS block device followed by a bad one (``continue`` must not become
``break``), devices without a ``deviceName`` (named by position), an AmiFromInstance without a source instance id
and AMI launch permissions to organizational units. Each case changes a compliant resource (named ``golden``)
through the configured pack and lists every message of one policy. Expectations are literal sentences, never
computed with the pack's code."""

# ruff: noqa: E501 (whole sentences are kept on one line each, as the pack says them)

from __future__ import annotations

import pytest
from policy_factories import DELETE, OU, UNKNOWN
from policy_support import messages

from golden_images.engine.harness import PolicyHarness

EBS = "aws-ec2-ami-ebs-encrypted"
FIX = "register the AMI from a snapshot encrypted with a customer-managed key and set encrypted to true."
ROOT_DEVICE = {"deviceName": "/dev/xvda", "snapshotId": "snap-0123456789abcdef0", "encrypted": True}

CASES = [
    pytest.param(
        "ami",
        {"ebsBlockDevices": [UNKNOWN, {"deviceName": "/dev/xvdb", "encrypted": False}]},
        EBS,
        [f"AMI 'golden' registers device '/dev/xvdb' without encrypted: true; {FIX}"],
        id="unknown-device-then-unencrypted",
    ),
    pytest.param(
        "ami",
        {"ebsBlockDevices": [ROOT_DEVICE, {"snapshotId": "snap-0123456789abcdef1"}, {"encrypted": "no"}]},
        EBS,
        [
            f"AMI 'golden' registers block device #2 without encrypted: true; {FIX}",
            f"AMI 'golden' registers block device #3 without encrypted: true; {FIX}",
        ],
        id="unnamed-devices-by-position",
    ),
    pytest.param(
        "ami_from_instance",
        {"sourceInstanceId": DELETE},
        "aws-ec2-amifrominstance-encryption-provable",
        [
            "AMI from instance 'golden' snapshots instance with whatever keys its volumes use, which nothing in the resource shows, so its encryption cannot be proven; build the image with Image Builder or copy it with an AmiCopy that sets encrypted true and a customer-managed kmsKeyId."
        ],
        id="from-instance-without-source-id",
    ),
    pytest.param(
        "launch_permission",
        {
            "accountId": DELETE,
            "organizationalUnitArn": "arn:aws:organizations::111122223333:ou/o-abcdefghij/ou-ab12-zzzzzzzz",
        },
        "aws-ec2-amilaunchpermission-allowed-targets",
        [
            "AMI launch permission 'golden' shares the AMI with organizational unit 'arn:aws:organizations::111122223333:ou/o-abcdefghij/ou-ab12-zzzzzzzz', which is not on the allowedOrganizationalUnitArns allow-list; remove it or add it to the policy config."
        ],
        id="launch-permission-unlisted-ou",
    ),
    pytest.param(
        "launch_permission",
        {"accountId": DELETE, "organizationalUnitArn": OU},
        "aws-ec2-amilaunchpermission-allowed-targets",
        [],
        id="launch-permission-listed-ou",
    ),
]


@pytest.mark.parametrize(("kind", "changes", "policy", "expected"), CASES)
def test_mutant_verdicts(
    configured: PolicyHarness, kind: str, changes: dict[str, object], policy: str, expected: list[str]
) -> None:
    assert messages(configured, kind, dict(changes), policy) == expected
