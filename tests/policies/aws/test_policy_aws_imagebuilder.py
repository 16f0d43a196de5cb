"""EC2 Image Builder policies, each driven through the harness: one case per violation, plus traps."""

from __future__ import annotations

import pytest
from policy_factories import DELETE, KEY, UNKNOWN, UNKNOWN_ARRAY, compliant, mutate, tags
from policy_support import assert_violation, of, run

from golden_images.engine.harness import PolicyHarness, is_preview_notice

CASES = [
    # (policy, kind, path, value, expected text in the message)
    ("aws-imagebuilder-component-kms-key", "component", "kmsKeyId", DELETE, "sets no KMS key"),
    ("aws-imagebuilder-component-kms-key", "component", "kmsKeyId", "", "sets no KMS key"),
    (
        "aws-imagebuilder-component-kms-key",
        "component",
        "kmsKeyId",
        "alias/aws/imagebuilder",
        "AWS-managed key",
    ),
    ("aws-imagebuilder-component-kms-key", "workflow", "kmsKeyId", DELETE, "sets no KMS key"),
    (
        "aws-imagebuilder-component-kms-key",
        "workflow",
        "kmsKeyId",
        "arn:aws:kms:eu-west-1:111122223333:alias/aws/ebs",
        "AWS-managed key",
    ),
    ("aws-imagebuilder-containerrecipe-kms-key", "container_recipe", "kmsKeyId", DELETE, "sets no KMS key"),
    (
        "aws-imagebuilder-containerrecipe-kms-key",
        "container_recipe",
        "kmsKeyId",
        "alias/aws/ecr",
        "AWS-managed",
    ),
    (
        "aws-imagebuilder-recipe-ebs-encrypted",
        "image_recipe",
        "blockDeviceMappings",
        DELETE,
        "no explicit EBS",
    ),
    ("aws-imagebuilder-recipe-ebs-encrypted", "image_recipe", "blockDeviceMappings", [], "no explicit EBS"),
    (
        "aws-imagebuilder-recipe-ebs-encrypted",
        "image_recipe",
        "blockDeviceMappings.0.ebs.encrypted",
        "false",
        "'false' means false",
    ),
    (
        "aws-imagebuilder-recipe-ebs-encrypted",
        "image_recipe",
        "blockDeviceMappings.0.ebs.encrypted",
        False,
        "does not explicitly encrypt",
    ),
    (
        "aws-imagebuilder-recipe-ebs-encrypted",
        "image_recipe",
        "blockDeviceMappings.0.ebs.encrypted",
        DELETE,
        "encrypted is not set",
    ),
    (
        "aws-imagebuilder-recipe-ebs-encrypted",
        "image_recipe",
        "blockDeviceMappings.0.ebs.kmsKeyId",
        "alias/aws/ebs",
        "AWS-managed key 'alias/aws/ebs'",
    ),
    (
        "aws-imagebuilder-recipe-ebs-encrypted",
        "image_recipe",
        "blockDeviceMappings.0.ebs.kmsKeyId",
        DELETE,
        "sets no KMS key",
    ),
    (
        "aws-imagebuilder-recipe-ebs-encrypted",
        "container_recipe",
        "instanceConfiguration.blockDeviceMappings.0.ebs.encrypted",
        "False",
        "does not explicitly encrypt",
    ),
    (
        "aws-imagebuilder-distribution-kms-key",
        "distribution",
        "distributions.1.amiDistributionConfiguration.kmsKeyId",
        DELETE,
        "region 'us-east-1'",
    ),
    (
        "aws-imagebuilder-distribution-kms-key",
        "distribution",
        "distributions.0.amiDistributionConfiguration.kmsKeyId",
        "alias/aws/ebs",
        "AWS-managed key",
    ),
    (
        "aws-imagebuilder-distribution-kms-key",
        "distribution",
        "distributions.1.amiDistributionConfiguration",
        DELETE,
        "region 'us-east-1'",
    ),
    (
        "aws-imagebuilder-distribution-not-public",
        "distribution",
        "distributions.0.amiDistributionConfiguration.launchPermission",
        {"userGroups": ["all"]},
        "public",
    ),
    (
        "aws-imagebuilder-distribution-not-public",
        "distribution",
        "distributions.1.amiDistributionConfiguration.launchPermission",
        {"userGroups": ["ALL"]},
        "us-east-1",
    ),
    (
        "aws-imagebuilder-distribution-allowed-targets",
        "distribution",
        "distributions.0.amiDistributionConfiguration.launchPermission",
        {"userIds": ["999988887777"]},
        "account '999988887777'",
    ),
    (
        "aws-imagebuilder-distribution-allowed-targets",
        "distribution",
        "distributions.0.amiDistributionConfiguration.targetAccountIds",
        ["999988887777"],
        "targetAccountIds",
    ),
    (
        "aws-imagebuilder-distribution-allowed-targets",
        "distribution",
        "distributions.0.amiDistributionConfiguration.launchPermission",
        {"organizationArns": ["arn:aws:organizations::111122223333:organization/o-zzzzzzzzzz"]},
        "organization",
    ),
    (
        "aws-imagebuilder-distribution-allowed-targets",
        "distribution",
        "distributions.0.amiDistributionConfiguration.launchPermission",
        {"organizationalUnitArns": ["not-an-ou"]},
        "not even a valid organizational unit",
    ),
    ("aws-imagebuilder-component-version-semver", "component", "version", "1.4", "not semantic"),
    ("aws-imagebuilder-component-version-semver", "workflow", "version", "v1.4.2", "not semantic"),
    ("aws-imagebuilder-recipe-version-semver", "image_recipe", "version", "1.4.2-rc1", "not semantic"),
    ("aws-imagebuilder-recipe-version-semver", "container_recipe", "version", DELETE, "not semantic"),
    (
        "aws-imagebuilder-recipe-parent-pinned",
        "image_recipe",
        "parentImage",
        "arn:aws:imagebuilder:eu-west-1:aws:image/ubuntu-server-22-lts-x86/x.x.x",
        "floating parent",
    ),
    (
        "aws-imagebuilder-recipe-parent-pinned",
        "image_recipe",
        "parentImage",
        "ssm:/aws/service/canonical/ubuntu/server/24.04/stable/current/amd64/hvm/ebs-gp3/ami-id",
        "floating parent",
    ),
    (
        "aws-imagebuilder-recipe-parent-pinned",
        "container_recipe",
        "components.0.componentArn",
        "arn:aws:imagebuilder:eu-west-1:111122223333:component/base-hardening/1.x.x",
        "floating component",
    ),
    ("aws-imagebuilder-resource-required-tags", "component", "tags", DELETE, "missing the required tags"),
    ("aws-imagebuilder-resource-required-tags", "pipeline", "tags.owner", "", "owner"),
    (
        "aws-imagebuilder-resource-required-tags",
        "infrastructure",
        "tags.environment",
        "dev",
        "environment 'dev'",
    ),
    (
        "aws-imagebuilder-resource-required-tags",
        "distribution",
        "distributions.1.amiDistributionConfiguration.amiTags",
        DELETE,
        "amiTags",
    ),
    (
        "aws-imagebuilder-resource-required-tags",
        "distribution",
        "distributions.0.amiDistributionConfiguration.amiTags.image-version",
        DELETE,
        "image-version",
    ),
    (
        "aws-imagebuilder-infrastructure-imdsv2",
        "infrastructure",
        "instanceMetadataOptions.httpTokens",
        "optional",
        "IMDSv1",
    ),
    ("aws-imagebuilder-infrastructure-imdsv2", "infrastructure", "instanceMetadataOptions", DELETE, "IMDSv1"),
    (
        "aws-imagebuilder-infrastructure-terminate-on-failure",
        "infrastructure",
        "terminateInstanceOnFailure",
        DELETE,
        "keeps failed build instances",
    ),
    (
        "aws-imagebuilder-infrastructure-terminate-on-failure",
        "infrastructure",
        "terminateInstanceOnFailure",
        "false",
        "keeps failed build instances",
    ),
    (
        "aws-imagebuilder-pipeline-image-tests",
        "pipeline",
        "imageTestsConfiguration.imageTestsEnabled",
        False,
        "disables image tests",
    ),
    (
        "aws-imagebuilder-pipeline-image-tests",
        "ib_image",
        "imageTestsConfiguration",
        {"imageTestsEnabled": "false"},
        "disables image tests",
    ),
    (
        "aws-imagebuilder-pipeline-image-scanning",
        "pipeline",
        "imageScanningConfiguration",
        DELETE,
        "does not scan",
    ),
    (
        "aws-imagebuilder-pipeline-image-scanning",
        "ib_image",
        "imageScanningConfiguration.imageScanningEnabled",
        False,
        "does not scan",
    ),
]


@pytest.mark.parametrize(("policy", "kind", "path", "value", "expected"), CASES, ids=lambda x: str(x)[:40])
def test_violation(
    configured: PolicyHarness, policy: str, kind: str, path: str, value: object, expected: str
) -> None:
    assert_violation(configured, policy, kind, path, value, expected)


def test_message_is_a_complete_sentence(configured: PolicyHarness) -> None:
    props = mutate(compliant("image_recipe"), "blockDeviceMappings.0.ebs.encrypted", "false")
    [violation] = of(run(configured, "image_recipe", props), "aws-imagebuilder-recipe-ebs-encrypted")
    assert violation.message[0].isupper() and violation.message.endswith(".")
    assert violation.description.startswith("Every Image Builder recipe block device")
    assert violation.tags[0] == "encryption"


def test_no_device_and_instance_store_mappings_are_not_ebs(configured: PolicyHarness) -> None:
    props = compliant("image_recipe")
    props["blockDeviceMappings"] += [
        {"deviceName": "/dev/sdb", "noDevice": "true"},
        {"virtualName": "ephemeral0"},
    ]
    assert run(configured, "image_recipe", props) == []
    only_suppressed = mutate(props, "blockDeviceMappings", [{"deviceName": "/dev/sdb", "noDevice": "true"}])
    assert of(run(configured, "image_recipe", only_suppressed), "aws-imagebuilder-recipe-ebs-encrypted")


def test_true_string_is_encrypted(configured: PolicyHarness) -> None:
    for value in ("true", "True", True):
        props = mutate(compliant("image_recipe"), "blockDeviceMappings.0.ebs.encrypted", value)
        assert run(configured, "image_recipe", props) == []


def test_container_only_region_still_needs_an_ami_key(configured: PolicyHarness) -> None:
    """Image Builder copies the AMI into every listed region; a container-only entry leaves the parent's key."""
    props = compliant("distribution")
    props["distributions"].append(
        {
            "region": "eu-central-1",
            "containerDistributionConfiguration": {
                "targetRepository": {"repositoryName": "b", "service": "ECR"}
            },
        }
    )
    [found] = of(run(configured, "distribution", props), "aws-imagebuilder-distribution-kms-key")
    assert found.level == "mandatory" and "region 'eu-central-1' without an amiDistributionConfiguration" in (
        found.message
    )
    props["distributions"][-1]["amiDistributionConfiguration"] = {"kmsKeyId": KEY, "amiTags": tags()}
    assert run(configured, "distribution", props) == []


def test_distribution_without_config_fails_sharing_by_default(prod: PolicyHarness) -> None:
    props = mutate(
        compliant("distribution"),
        "distributions.0.amiDistributionConfiguration.launchPermission",
        {"userIds": ["444455556666"]},
    )
    assert of(run(prod, "distribution", props), "aws-imagebuilder-distribution-allowed-targets")


def test_allow_listed_targets_pass(configured: PolicyHarness) -> None:
    from policy_factories import ACCOUNT, ORG, OU

    props = mutate(
        compliant("distribution"),
        "distributions.0.amiDistributionConfiguration.launchPermission",
        {"userIds": [ACCOUNT], "organizationArns": [ORG], "organizationalUnitArns": [OU]},
    )
    props["distributions"][0]["amiDistributionConfiguration"]["targetAccountIds"] = [ACCOUNT]
    assert run(configured, "distribution", props) == []


def test_prod_only_rules_are_off_in_dev(dev: PolicyHarness) -> None:
    props = mutate(
        compliant("image_recipe", env="dev"), "parentImage", "arn:aws:imagebuilder:x:aws:image/u/x.x.x"
    )
    assert run(dev, "image_recipe", props) == []


def test_unknown_kms_key_in_preview_is_not_a_violation(configured: PolicyHarness) -> None:
    props = mutate(compliant("image_recipe"), "blockDeviceMappings.0.ebs.kmsKeyId", UNKNOWN)
    violations = run(configured, "image_recipe", props)
    assert [v for v in violations if v.level == "mandatory"] == []
    [notice] = violations
    assert is_preview_notice(notice) and notice.policy == "aws-imagebuilder-recipe-ebs-encrypted"
    assert "can't be known during preview" in notice.message


def test_unknown_value_does_not_hide_a_certain_violation(configured: PolicyHarness) -> None:
    props = compliant("distribution")
    props["distributions"][0]["amiDistributionConfiguration"]["kmsKeyId"] = UNKNOWN
    del props["distributions"][1]["amiDistributionConfiguration"]["kmsKeyId"]
    found = of(run(configured, "distribution", props), "aws-imagebuilder-distribution-kms-key")
    assert [v.level for v in found] == ["mandatory", "advisory"]
    assert "us-east-1" in found[0].message and is_preview_notice(found[1])


def test_unknown_whole_list_is_skipped(configured: PolicyHarness) -> None:
    # Each policy that could not judge says so with a preview notice (a non-empty list, so all() can fail).
    props = mutate(compliant("image_recipe"), "blockDeviceMappings", UNKNOWN_ARRAY)
    found = run(configured, "image_recipe", props)
    assert [v.policy for v in found] == ["aws-imagebuilder-recipe-ebs-encrypted"], found
    assert all(is_preview_notice(v) for v in found)
    props = mutate(compliant("distribution"), "distributions", UNKNOWN)
    found = run(configured, "distribution", props)
    assert sorted(v.policy for v in found) == [
        "aws-imagebuilder-distribution-allowed-targets",
        "aws-imagebuilder-distribution-kms-key",
        "aws-imagebuilder-distribution-no-s3-export",
        "aws-imagebuilder-distribution-not-public",
        "aws-imagebuilder-resource-required-tags",
    ], found
    assert all(is_preview_notice(v) for v in found)


def test_unknown_tag_value_counts_as_present(configured: PolicyHarness) -> None:
    props = mutate(compliant("component"), "tags", {**tags(), "image-version": UNKNOWN})
    found = run(configured, "component", props)
    assert [v.policy for v in found] == ["aws-imagebuilder-resource-required-tags"], found
    assert all(is_preview_notice(v) for v in found)
