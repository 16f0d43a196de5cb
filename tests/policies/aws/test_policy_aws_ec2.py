"""EC2 AMI policies through the harness."""

from __future__ import annotations

import pytest
from policy_factories import DELETE, ORG, OU, UNKNOWN, compliant, mutate
from policy_support import of, run

from golden_images.engine.harness import PolicyHarness, is_preview_notice

CASES = [
    ("aws-ec2-ami-ebs-encrypted", "ami", "ebsBlockDevices", DELETE, "no EBS block devices"),
    ("aws-ec2-ami-ebs-encrypted", "ami", "ebsBlockDevices", [], "no EBS block devices"),
    ("aws-ec2-ami-ebs-encrypted", "ami", "ebsBlockDevices.0.encrypted", DELETE, "without encrypted: true"),
    ("aws-ec2-ami-ebs-encrypted", "ami", "ebsBlockDevices.0.encrypted", False, "'/dev/xvda'"),
    ("aws-ec2-ami-ebs-encrypted", "ami", "ebsBlockDevices.0.encrypted", "false", "without encrypted: true"),
    ("aws-ec2-amicopy-kms-key", "ami_copy", "encrypted", DELETE, "is not encrypted"),
    ("aws-ec2-amicopy-kms-key", "ami_copy", "encrypted", "false", "is not encrypted"),
    ("aws-ec2-amicopy-kms-key", "ami_copy", "kmsKeyId", DELETE, "sets no kmsKeyId"),
    ("aws-ec2-amicopy-kms-key", "ami_copy", "kmsKeyId", "alias/aws/ebs", "AWS-managed key 'alias/aws/ebs'"),
    ("aws-ec2-amilaunchpermission-not-public", "launch_permission", "accountId", DELETE, None),
    (
        "aws-ec2-amilaunchpermission-allowed-targets",
        "launch_permission",
        "accountId",
        "999988887777",
        "account '999988887777'",
    ),
    (
        "aws-ec2-amilaunchpermission-allowed-targets",
        "launch_permission",
        "accountId",
        "12345",
        "not even a valid account",
    ),
    ("aws-ec2-ami-required-tags", "ami", "tags", DELETE, "missing the required tags"),
    ("aws-ec2-ami-required-tags", "ami_copy", "tags.cost-center", DELETE, "cost-center"),
    ("aws-ec2-ami-required-tags", "ami_copy", "tags.environment", "staging", "environment 'staging'"),
]


@pytest.mark.parametrize(("policy", "kind", "path", "value", "expected"), CASES, ids=lambda x: str(x)[:40])
def test_violation(
    configured: PolicyHarness, policy: str, kind: str, path: str, value: object, expected: str | None
) -> None:
    props = mutate(compliant(kind), path, value)
    if policy.endswith("not-public"):
        props["group"] = "all"
    violations = run(configured, kind, props, name="golden")
    found = of(violations, policy)
    assert found and all(v.level == "mandatory" for v in found), violations
    assert expected is None or any(expected in v.message for v in found), [v.message for v in found]
    assert {v.policy for v in violations} == {policy}


def test_public_group_any_case(configured: PolicyHarness) -> None:
    for group in ("all", "ALL", " All "):
        found = of(
            run(configured, "launch_permission", {"imageId": "ami-1", "group": group}),
            "aws-ec2-amilaunchpermission-not-public",
        )
        assert found and "public" in found[0].message


def test_organization_and_ou_targets(configured: PolicyHarness) -> None:
    assert run(configured, "launch_permission", {"imageId": "ami-1", "organizationArn": ORG}) == []
    assert run(configured, "launch_permission", {"imageId": "ami-1", "organizationalUnitArn": OU}) == []
    bad = run(
        configured, "launch_permission", {"imageId": "ami-1", "organizationArn": ORG.replace("abc", "zzz")}
    )
    assert of(bad, "aws-ec2-amilaunchpermission-allowed-targets")


def test_any_sharing_fails_without_config(prod: PolicyHarness) -> None:
    found = of(
        run(prod, "launch_permission", compliant("launch_permission")),
        "aws-ec2-amilaunchpermission-allowed-targets",
    )
    assert found and "allow-list" in found[0].message


def test_unknown_snapshot_encryption_in_preview(configured: PolicyHarness) -> None:
    props = mutate(compliant("ami"), "ebsBlockDevices.0.encrypted", UNKNOWN)
    violations = run(configured, "ami", props)
    assert violations and all(is_preview_notice(v) for v in violations)


def test_second_block_device_unencrypted(configured: PolicyHarness) -> None:
    props = compliant("ami")
    props["ebsBlockDevices"].append({"deviceName": "/dev/xvdb", "snapshotId": "snap-1"})
    [violation] = of(run(configured, "ami", props), "aws-ec2-ami-ebs-encrypted")
    assert "'/dev/xvdb'" in violation.message
