"""Verdicts, word for word, for the mutants of ``aws/imagebuilder.py`` that survived the first mutation pass
(docs/testing.md): each case changes the compliant resource (named ``golden``) and lists every message
the policy must give. Expectations are literal sentences, never computed with the pack's code."""

# ruff: noqa: E501 (whole sentences are kept on one line each, as the pack says them)

from __future__ import annotations

import pytest
from policy_factories import DELETE, KEY, UNKNOWN
from policy_support import messages

from golden_images.engine.harness import PolicyHarness

EBS = "aws-imagebuilder-recipe-ebs-encrypted"
UNENCRYPTED = {"encrypted": "false", "kmsKeyId": KEY}
SDA1_UNENCRYPTED = (
    "Image Builder image recipe 'golden' does not explicitly encrypt block device '/dev/sda1' (encrypted is "
    "'false'; it is a string and 'false' means false); set ebs.encrypted to \"true\" with a customer-managed "
    "kmsKeyId."
)

CASES = [
    # An unknown mapping may be the EBS root volume: no "no explicit mappings" verdict.
    pytest.param("image_recipe", {"blockDeviceMappings": [UNKNOWN]}, EBS, [], id="unknown-mapping-only"),
    # An unreadable entry is skipped, the mappings after it are still judged.
    pytest.param(
        "image_recipe",
        {"blockDeviceMappings": [42, {"deviceName": "/dev/sda1", "ebs": UNENCRYPTED}]},
        EBS,
        [SDA1_UNENCRYPTED],
        id="junk-then-mapping",
    ),
    # A suppressed device persists nothing; the mappings after it are still judged.
    pytest.param(
        "image_recipe",
        {
            "blockDeviceMappings": [
                {"deviceName": "/dev/sdb", "noDevice": "true"},
                {"deviceName": "/dev/sda1", "ebs": UNENCRYPTED},
            ]
        },
        EBS,
        [SDA1_UNENCRYPTED],
        id="suppressed-then-mapping",
    ),
    # Without a device name the mapping is named by its position.
    pytest.param(
        "image_recipe",
        {"blockDeviceMappings": [{"ebs": UNENCRYPTED}]},
        EBS,
        [
            "Image Builder image recipe 'golden' does not explicitly encrypt block device #1 (encrypted is "
            "'false'; it is a string and 'false' means false); set ebs.encrypted to \"true\" with a "
            "customer-managed kmsKeyId."
        ],
        id="mapping-without-device-name",
    ),
    # The neighbours of the survivors: every loop's skip-and-continue, every label and every message branch.
    pytest.param(
        "distribution",
        {
            "distributions.0": UNKNOWN,
            "distributions.1.amiDistributionConfiguration.kmsKeyId": "alias/aws/ebs",
        },
        "aws-imagebuilder-distribution-kms-key",
        [
            "Image Builder distribution configuration 'golden' uses the AWS-managed key 'alias/aws/ebs' for the AMI it distributes to region 'us-east-1', which cannot be restricted or shared; set kmsKeyId to a customer-managed KMS key ARN."
        ],
        id="dist-unknown-then-aws-key",
    ),
    pytest.param(
        "distribution",
        {
            "distributions.0.amiDistributionConfiguration": UNKNOWN,
            "distributions.1.amiDistributionConfiguration.kmsKeyId": "alias/aws/ebs",
        },
        "aws-imagebuilder-distribution-kms-key",
        [
            "Image Builder distribution configuration 'golden' uses the AWS-managed key 'alias/aws/ebs' for the AMI it distributes to region 'us-east-1', which cannot be restricted or shared; set kmsKeyId to a customer-managed KMS key ARN."
        ],
        id="ami-unknown-then-aws-key",
    ),
    pytest.param(
        "distribution",
        {
            "distributions.0.amiDistributionConfiguration": DELETE,
            "distributions.1.amiDistributionConfiguration.kmsKeyId": "alias/aws/ebs",
        },
        "aws-imagebuilder-distribution-kms-key",
        [
            "Image Builder distribution configuration 'golden' lists region 'eu-west-1' without an amiDistributionConfiguration, so the AMI is still copied there with the parent image's key; add amiDistributionConfiguration with a customer-managed kmsKeyId for that region.",
            "Image Builder distribution configuration 'golden' uses the AWS-managed key 'alias/aws/ebs' for the AMI it distributes to region 'us-east-1', which cannot be restricted or shared; set kmsKeyId to a customer-managed KMS key ARN.",
        ],
        id="ami-missing-then-aws-key",
    ),
    pytest.param(
        "distribution",
        {
            "distributions.0.amiDistributionConfiguration": "x",
            "distributions.1.amiDistributionConfiguration.kmsKeyId": "alias/aws/ebs",
        },
        "aws-imagebuilder-distribution-kms-key",
        [
            "Image Builder distribution configuration 'golden' has an amiDistributionConfiguration for region 'eu-west-1' that could not be read (it is not an object); fix it.",
            "Image Builder distribution configuration 'golden' uses the AWS-managed key 'alias/aws/ebs' for the AMI it distributes to region 'us-east-1', which cannot be restricted or shared; set kmsKeyId to a customer-managed KMS key ARN.",
        ],
        id="ami-not-object-then-aws-key",
    ),
    pytest.param(
        "distribution",
        {"distributions.0": 7, "distributions.1.amiDistributionConfiguration.kmsKeyId": "alias/aws/ebs"},
        "aws-imagebuilder-distribution-kms-key",
        [
            "Image Builder distribution configuration 'golden' has a distributions[0] entry that could not be read (it is not an object); fix the entry.",
            "Image Builder distribution configuration 'golden' uses the AWS-managed key 'alias/aws/ebs' for the AMI it distributes to region 'us-east-1', which cannot be restricted or shared; set kmsKeyId to a customer-managed KMS key ARN.",
        ],
        id="dist-not-object-then-aws-key",
    ),
    pytest.param(
        "distribution",
        {"distributions": "x"},
        "aws-imagebuilder-distribution-kms-key",
        [
            "Image Builder distribution configuration 'golden' has a distributions entry that could not be read (it is not an object); fix the entry."
        ],
        id="distributions-not-a-list",
    ),
    pytest.param(
        "distribution",
        {"distributions.0.region": DELETE, "distributions.0.amiDistributionConfiguration.kmsKeyId": "none"},
        "aws-imagebuilder-distribution-kms-key",
        [
            "Image Builder distribution configuration 'golden' sets the KMS key for the AMI it distributes to distributions[0] to 'none': 'none' is not a KMS key ARN, key id, alias name or alias ARN, so it is not a customer key; set kmsKeyId to a customer-managed KMS key ARN, key id or alias."
        ],
        id="dist-without-region",
    ),
    pytest.param(
        "distribution",
        {
            "distributions.0.s3ExportConfiguration": UNKNOWN,
            "distributions.1.s3ExportConfiguration": {
                "s3Bucket": "foreign",
                "roleName": "r",
                "diskImageFormat": "RAW",
            },
        },
        "aws-imagebuilder-distribution-no-s3-export",
        [
            "Image Builder distribution configuration 'golden' exports the image in region 'us-east-1' as a disk file to S3 bucket 'foreign', outside the AMI's KMS encryption and launch permissions; remove s3ExportConfiguration or add the bucket to allowedExportBuckets."
        ],
        id="export-unknown-then-foreign",
    ),
    pytest.param(
        "distribution",
        {
            "distributions.0.s3ExportConfiguration": {"s3Bucket": UNKNOWN},
            "distributions.1.s3ExportConfiguration": {"s3Bucket": "foreign"},
        },
        "aws-imagebuilder-distribution-no-s3-export",
        [
            "Image Builder distribution configuration 'golden' exports the image in region 'us-east-1' as a disk file to S3 bucket 'foreign', outside the AMI's KMS encryption and launch permissions; remove s3ExportConfiguration or add the bucket to allowedExportBuckets."
        ],
        id="export-bucket-unknown-then-foreign",
    ),
    pytest.param(
        "distribution",
        {
            "distributions.0.s3ExportConfiguration": {"s3Bucket": 5},
            "distributions.1.s3ExportConfiguration": "x",
        },
        "aws-imagebuilder-distribution-no-s3-export",
        [
            "Image Builder distribution configuration 'golden' exports the image in region 'eu-west-1' as a disk file to S3 a bucket that could not be read, outside the AMI's KMS encryption and launch permissions; remove s3ExportConfiguration or add the bucket to allowedExportBuckets.",
            "Image Builder distribution configuration 'golden' exports the image in region 'us-east-1' as a disk file to S3 a bucket that could not be read, outside the AMI's KMS encryption and launch permissions; remove s3ExportConfiguration or add the bucket to allowedExportBuckets.",
        ],
        id="export-unreadable",
    ),
    pytest.param(
        "distribution",
        {"distributions.0": 7, "distributions.1.s3ExportConfiguration": {"s3Bucket": "foreign"}},
        "aws-imagebuilder-distribution-no-s3-export",
        [
            "Image Builder distribution configuration 'golden' exports the image in region 'us-east-1' as a disk file to S3 bucket 'foreign', outside the AMI's KMS encryption and launch permissions; remove s3ExportConfiguration or add the bucket to allowedExportBuckets."
        ],
        id="export-of-unreadable-dist",
    ),
    pytest.param(
        "distribution",
        {"distributions.0.amiDistributionConfiguration.launchPermission": {"userGroups": [UNKNOWN, "all"]}},
        "aws-imagebuilder-distribution-not-public",
        [
            "Image Builder distribution configuration 'golden' makes the AMI it distributes to region 'eu-west-1' public (launchPermission.userGroups contains 'all'); remove 'all' and share with allow-listed accounts or organizations only."
        ],
        id="public-after-unknown-group",
    ),
    pytest.param(
        "distribution",
        {"distributions.1.amiDistributionConfiguration.launchPermission": {"userGroups": "all"}},
        "aws-imagebuilder-distribution-not-public",
        [
            "Image Builder distribution configuration 'golden' makes the AMI it distributes to region 'us-east-1' public (launchPermission.userGroups contains 'all'); remove 'all' and share with allow-listed accounts or organizations only."
        ],
        id="public-group-as-string",
    ),
    pytest.param(
        "distribution",
        {"distributions.0.amiDistributionConfiguration.launchPermission": {"userGroups": ["admins"]}},
        "aws-imagebuilder-distribution-not-public",
        [
            "Image Builder distribution configuration 'golden' shares the AMI it distributes to region 'eu-west-1' with launchPermission.userGroups entry 'admins', which could not be read as a known group; remove it."
        ],
        id="unknown-group-name",
    ),
    pytest.param(
        "distribution",
        {
            "distributions.0.launchTemplateConfigurations": [
                {"accountId": "999988887777", "launchTemplateId": "lt-1"}
            ],
            "distributions.0.fastLaunchConfigurations": [{"accountId": "999988887777"}],
            "distributions.0.ssmParameterConfigurations": [
                {"amiAccountId": "999988887777", "parameterName": "p"}
            ],
        },
        "aws-imagebuilder-distribution-allowed-targets",
        [
            "Image Builder distribution configuration 'golden' shares the AMI in region 'eu-west-1' (fast launch in another account via fastLaunchConfigurations) with account '999988887777', which is not on the allowedAccountIds allow-list; remove it or add it to the policy config.",
            "Image Builder distribution configuration 'golden' shares the AMI in region 'eu-west-1' (launch template in another account via launchTemplateConfigurations) with account '999988887777', which is not on the allowedAccountIds allow-list; remove it or add it to the policy config.",
            "Image Builder distribution configuration 'golden' shares the AMI in region 'eu-west-1' (published via ssmParameterConfigurations) with account '999988887777', which is not on the allowedAccountIds allow-list; remove it or add it to the policy config.",
        ],
        id="targets-launch-template-fast-launch-ssm",
    ),
    pytest.param(
        "distribution",
        {
            "distributions.0": 7,
            "distributions.1.amiDistributionConfiguration.targetAccountIds": ["999988887777"],
        },
        "aws-imagebuilder-distribution-allowed-targets",
        [
            "Image Builder distribution configuration 'golden' shares the AMI in region 'us-east-1' (copied via targetAccountIds) with account '999988887777', which is not on the allowedAccountIds allow-list; remove it or add it to the policy config."
        ],
        id="targets-after-unreadable-dist",
    ),
    pytest.param(
        "distribution",
        {
            "distributions.0.amiDistributionConfiguration.launchPermission": {
                "userIds": [5, "12"],
                "organizationArns": ["arn:aws:organizations::1:organization/o-zzzzzzzzzz"],
                "organizationalUnitArns": "ou-x",
            }
        },
        "aws-imagebuilder-distribution-allowed-targets",
        [
            "Image Builder distribution configuration 'golden' shares the AMI in region 'eu-west-1' with a account that could not be read (float 5.0, not a string); set it to an allow-listed account.",
            "Image Builder distribution configuration 'golden' shares the AMI in region 'eu-west-1' with account '12' (it is not even a valid account), which is not on the allowedAccountIds allow-list; remove it or add it to the policy config.",
            "Image Builder distribution configuration 'golden' shares the AMI in region 'eu-west-1' with organization 'arn:aws:organizations::1:organization/o-zzzzzzzzzz' (it is not even a valid organization), which is not on the allowedOrganizationArns allow-list; remove it or add it to the policy config.",
            "Image Builder distribution configuration 'golden' shares the AMI in region 'eu-west-1' with organizational unit 'ou-x' (it is not even a valid organizational unit), which is not on the allowedOrganizationalUnitArns allow-list; remove it or add it to the policy config.",
        ],
        id="targets-unreadable-and-invalid",
    ),
    pytest.param(
        "distribution",
        {"distributions.1.amiDistributionConfiguration.targetAccountIds": "999988887777"},
        "aws-imagebuilder-distribution-allowed-targets",
        [
            "Image Builder distribution configuration 'golden' shares the AMI in region 'us-east-1' (copied via targetAccountIds) with account '999988887777', which is not on the allowedAccountIds allow-list; remove it or add it to the policy config."
        ],
        id="targets-lone-account-string",
    ),
    pytest.param(
        "distribution",
        {
            "distributions.0.region": DELETE,
            "distributions.0.amiDistributionConfiguration.amiTags": {"owner": "platform"},
        },
        "aws-imagebuilder-resource-required-tags",
        [
            "Image Builder distribution configuration 'golden' is missing the required AMI tags (amiTags) cost-center, environment, managed-by, golden-image, image-version; add them with non-empty values (the golden-images tag renderer sets every required key)."
        ],
        id="ami-tags-without-region",
    ),
    pytest.param(
        "distribution",
        {
            "distributions.0.amiDistributionConfiguration": UNKNOWN,
            "distributions.1.amiDistributionConfiguration.amiTags": {"owner": "platform"},
        },
        "aws-imagebuilder-resource-required-tags",
        [
            "Image Builder distribution configuration 'golden' is missing the required AMI tags (amiTags) for region 'us-east-1' cost-center, environment, managed-by, golden-image, image-version; add them with non-empty values (the golden-images tag renderer sets every required key)."
        ],
        id="ami-tags-after-unknown-ami",
    ),
    pytest.param(
        "distribution",
        {
            "distributions.0.amiDistributionConfiguration": DELETE,
            "distributions.1.amiDistributionConfiguration.amiTags": DELETE,
        },
        "aws-imagebuilder-resource-required-tags",
        [
            "Image Builder distribution configuration 'golden' is missing the required AMI tags (amiTags) for region 'us-east-1' owner, cost-center, environment, managed-by, golden-image, image-version; add them with non-empty values (the golden-images tag renderer sets every required key)."
        ],
        id="ami-tags-after-missing-ami",
    ),
    pytest.param(
        "component",
        {"kmsKeyId": DELETE},
        "aws-imagebuilder-component-kms-key",
        [
            "Image Builder component 'golden' sets no KMS key for its document, so AWS encrypts it with an AWS-managed key; set kmsKeyId to a customer-managed KMS key ARN."
        ],
        id="component-key-missing",
    ),
    pytest.param(
        "component",
        {"kmsKeyId": "  "},
        "aws-imagebuilder-component-kms-key",
        [
            "Image Builder component 'golden' sets no KMS key for its document, so AWS encrypts it with an AWS-managed key; set kmsKeyId to a customer-managed KMS key ARN."
        ],
        id="component-key-blank",
    ),
    pytest.param(
        "component",
        {"kmsKeyId": "arn:aws:kms:eu-west-1:111122223333:alias/aws/imagebuilder"},
        "aws-imagebuilder-component-kms-key",
        [
            "Image Builder component 'golden' uses the AWS-managed key 'arn:aws:kms:eu-west-1:111122223333:alias/aws/imagebuilder' for its document, which cannot be restricted or shared; set kmsKeyId to a customer-managed KMS key ARN."
        ],
        id="component-key-aws-managed-arn",
    ),
    pytest.param(
        "component",
        {"kmsKeyId": "none"},
        "aws-imagebuilder-component-kms-key",
        [
            "Image Builder component 'golden' sets the KMS key for its document to 'none': 'none' is not a KMS key ARN, key id, alias name or alias ARN, so it is not a customer key; set kmsKeyId to a customer-managed KMS key ARN, key id or alias."
        ],
        id="component-key-not-a-key",
    ),
    pytest.param(
        "component",
        {"kmsKeyId": 7},
        "aws-imagebuilder-component-kms-key",
        [
            "Image Builder component 'golden' sets the KMS key for its document to 7.0: the key could not be read (it is a float, not a string); set kmsKeyId to a customer-managed KMS key ARN, key id or alias."
        ],
        id="component-key-number",
    ),
    pytest.param(
        "container_recipe",
        {
            "instanceConfiguration": {
                "blockDeviceMappings": [{"deviceName": "/dev/xvda", "ebs": {"encrypted": True}}]
            }
        },
        "aws-imagebuilder-recipe-ebs-encrypted",
        [
            "Image Builder container recipe 'golden' sets no KMS key for build instance block device '/dev/xvda', so AWS encrypts it with an AWS-managed key; set kmsKeyId to a customer-managed KMS key ARN."
        ],
        id="container-build-volume",
    ),
    pytest.param(
        "container_recipe",
        {"instanceConfiguration": DELETE},
        "aws-imagebuilder-recipe-ebs-encrypted",
        [],
        id="container-no-build-volumes",
    ),
    pytest.param(
        "image_recipe",
        {"blockDeviceMappings": [{"deviceName": "/dev/sda1", "ebs": UNKNOWN}]},
        "aws-imagebuilder-recipe-ebs-encrypted",
        [],
        id="recipe-mapping-ebs-unknown",
    ),
    pytest.param(
        "image_recipe",
        {"blockDeviceMappings": [{"deviceName": "/dev/sdb", "virtualName": "ephemeral0"}]},
        "aws-imagebuilder-recipe-ebs-encrypted",
        [
            "Image Builder image recipe 'golden' has no explicit EBS block device mappings, so its volumes inherit the parent image's encryption; add a mapping for the root device with ebs.encrypted \"true\" and a customer-managed kmsKeyId."
        ],
        id="recipe-virtual-name-only",
    ),
    pytest.param(
        "image_recipe",
        {"blockDeviceMappings.0.ebs.encrypted": DELETE},
        "aws-imagebuilder-recipe-ebs-encrypted",
        [
            "Image Builder image recipe 'golden' does not explicitly encrypt block device '/dev/sda1' (encrypted is not set; it is a string and 'false' means false); set ebs.encrypted to \"true\" with a customer-managed kmsKeyId."
        ],
        id="recipe-encrypted-missing",
    ),
    pytest.param(
        "image_recipe",
        {
            "parentImage": "arn:aws:imagebuilder:eu-west-1:aws:image/ubuntu-server-22-lts-x86/x.x.x",
            "components": [
                {"componentArn": "arn:aws:imagebuilder:eu-west-1:111122223333:component/a/1.0.0"},
                {"componentArn": "arn:aws:imagebuilder:eu-west-1:111122223333:component/b/1.x.x"},
            ],
        },
        "aws-imagebuilder-recipe-parent-pinned",
        [
            "Image Builder image recipe 'golden' builds from the floating parent image 'arn:aws:imagebuilder:eu-west-1:aws:image/ubuntu-server-22-lts-x86/x.x.x', so prod images change without a code change; pin the parent to an exact version (AMI id or full Image Builder image ARN).",
            "Image Builder image recipe 'golden' uses the floating component version 'arn:aws:imagebuilder:eu-west-1:111122223333:component/b/1.x.x'; pin the component ARN to an exact MAJOR.MINOR.PATCH version.",
        ],
        id="recipe-floating-parent-and-components",
    ),
    pytest.param(
        "infrastructure",
        {"instanceMetadataOptions.httpTokens": "optional"},
        "aws-imagebuilder-infrastructure-imdsv2",
        [
            "Image Builder infrastructure configuration 'golden' lets build instances use IMDSv1 (httpTokens is 'optional'); set instanceMetadataOptions.httpTokens to 'required'."
        ],
        id="imds-optional",
    ),
    pytest.param(
        "infrastructure",
        {"instanceMetadataOptions": DELETE},
        "aws-imagebuilder-infrastructure-imdsv2",
        [
            "Image Builder infrastructure configuration 'golden' lets build instances use IMDSv1 (httpTokens is None); set instanceMetadataOptions.httpTokens to 'required'."
        ],
        id="imds-missing",
    ),
    pytest.param(
        "infrastructure",
        {"terminateInstanceOnFailure": "false"},
        "aws-imagebuilder-infrastructure-terminate-on-failure",
        [
            "Image Builder infrastructure configuration 'golden' keeps failed build instances running (terminateInstanceOnFailure is 'false'); set terminateInstanceOnFailure to true."
        ],
        id="terminate-false-string",
    ),
    pytest.param(
        "infrastructure",
        {"terminateInstanceOnFailure": DELETE},
        "aws-imagebuilder-infrastructure-terminate-on-failure",
        [
            "Image Builder infrastructure configuration 'golden' keeps failed build instances running (terminateInstanceOnFailure is None); set terminateInstanceOnFailure to true."
        ],
        id="terminate-missing",
    ),
    pytest.param(
        "pipeline",
        {"imageTestsConfiguration": {"imageTestsEnabled": " FALSE "}},
        "aws-imagebuilder-pipeline-image-tests",
        [
            "Image Builder image pipeline 'golden' disables image tests; remove imageTestsEnabled false so every image is tested before distribution."
        ],
        id="tests-false-string",
    ),
    pytest.param(
        "pipeline",
        {"imageTestsConfiguration": {"imageTestsEnabled": "maybe"}},
        "aws-imagebuilder-pipeline-image-tests",
        [
            "Image Builder image pipeline 'golden' sets imageTestsEnabled to 'maybe', which could not be read as true or false; remove it (tests run by default) or set it to true."
        ],
        id="tests-unreadable",
    ),
    pytest.param(
        "ib_image",
        {"imageTestsConfiguration": {"imageTestsEnabled": False}},
        "aws-imagebuilder-pipeline-image-tests",
        [
            "Image Builder image 'golden' disables image tests; remove imageTestsEnabled false so every image is tested before distribution."
        ],
        id="tests-false",
    ),
    pytest.param(
        "ib_image",
        {"imageScanningConfiguration": DELETE},
        "aws-imagebuilder-pipeline-image-scanning",
        [
            "Image Builder image 'golden' does not scan its images for vulnerabilities; set imageScanningConfiguration.imageScanningEnabled to true."
        ],
        id="scanning-missing",
    ),
    pytest.param(
        "pipeline",
        {"imageScanningConfiguration": {"imageScanningEnabled": "false"}},
        "aws-imagebuilder-pipeline-image-scanning",
        [
            "Image Builder image pipeline 'golden' does not scan its images for vulnerabilities; set imageScanningConfiguration.imageScanningEnabled to true."
        ],
        id="scanning-false-string",
    ),
    pytest.param(
        "workflow",
        {"version": "1.4"},
        "aws-imagebuilder-component-version-semver",
        [
            "Image Builder workflow 'golden' has version '1.4', which is not semantic MAJOR.MINOR.PATCH (for example 1.4.2); derive it from the golden image version."
        ],
        id="semver-workflow",
    ),
    pytest.param(
        "container_recipe",
        {"version": "v1.4.2"},
        "aws-imagebuilder-recipe-version-semver",
        [
            "Image Builder container recipe 'golden' has version 'v1.4.2', which is not semantic MAJOR.MINOR.PATCH (for example 1.4.2); derive it from the golden image version."
        ],
        id="semver-recipe",
    ),
]


@pytest.mark.parametrize(("kind", "changes", "policy", "expected"), CASES)
def test_survivor_verdicts(
    configured: PolicyHarness, kind: str, changes: dict[str, object], policy: str, expected: list[str]
) -> None:
    assert messages(configured, kind, dict(changes), policy) == expected
