"""The adversarial-review examples: each trips a mandatory rule through the harness (it passed before the rules
existed), and its compliant counterpart passes. Unknowns during preview stay notices, never violations."""

from __future__ import annotations

import json

import pytest
from policy_factories import DELETE, KEY, UNKNOWN, compliant, mutate
from policy_support import assert_violation, of, run

from golden_images.engine.harness import PolicyHarness, is_preview_notice

PUBLIC_IMAGE_POLICY = {"bindings": [{"role": "roles/compute.imageUser", "members": ["allUsers"]}]}

CASES = [
    (
        "gcp-compute-image-iam-not-public",
        "gcp_iam_policy",
        "policyData",
        json.dumps({"BINDINGS": [{"role": "r", "member\u017f": ["AllUsers"]}]}),
        "'AllUsers'",
    ),
    (
        "gcp-compute-image-iam-not-public",
        "gcp_iam_binding",
        "members",
        ["principalSet://goog/public:all"],
        "makes the image public",
    ),
    # GCP: IAM policy documents read as the provider reads them (case-insensitive keys, BOM stripped)
    (
        "gcp-compute-image-iam-not-public",
        "gcp_iam_policy",
        "policyData",
        json.dumps({"Bindings": [{"Role": "roles/compute.imageUser", "Members": ["allAuthenticatedUsers"]}]}),
        "'allAuthenticatedUsers' role 'roles/compute.imageUser'",
    ),
    (
        "gcp-compute-image-iam-not-public",
        "gcp_iam_policy",
        "policyData",
        "\ufeff" + json.dumps(PUBLIC_IMAGE_POLICY),
        "'allUsers'",
    ),
    (
        "gcp-compute-image-iam-not-public",
        "gcp_iam_policy",
        "policyData",
        "\ufeff{",
        "could not be read as JSON",
    ),
    (
        "gcp-compute-image-iam-not-public",
        "gcp_project_member",
        "member",
        "allAuthenticatedUsers",
        "on the whole project, folder or organization",
    ),
    (
        "gcp-compute-image-iam-not-public",
        "gcp_project_member",
        "member",
        "allUsers",
        "every image in it public",
    ),
    ("gcp-compute-snapshot-cmek", "gcp_snapshot", "snapshotEncryptionKey", DELETE, "Google-managed key"),
    (
        "gcp-compute-image-cmek",
        "gcp_image",
        "imageEncryptionKey.kmsKeySelfLink",
        "none",
        "not a Cloud KMS key",
    ),
    # AWS
    ("aws-ec2-amicopy-kms-key", "ami_copy", "kmsKeyId", "none", "'none' is not a KMS key ARN"),
    (
        "aws-imagebuilder-distribution-kms-key",
        "distribution",
        "distributions.0.amiDistributionConfiguration.kmsKeyId",
        "none",
        "'none' is not a KMS key ARN",
    ),
    (
        "aws-ec2-snapshotcreatevolumepermission-allowed-targets",
        "snapshot_permission",
        "accountId",
        "999988887777",
        "account '999988887777'",
    ),
    ("aws-ec2-image-block-public-access", "image_block_public", "state", "unblocked", "state 'unblocked'"),
    ("aws-ec2-image-block-public-access", "image_block_public", "state", "blocked", "could not be read"),
    ("aws-ec2-image-block-public-access", "image_block_public", "state", DELETE, "is not set"),
    ("aws-ec2-image-block-public-access", "snapshot_block_public", "state", "unblocked", "state 'unblocked'"),
    ("aws-ebs-snapshotcopy-kms-key", "snapshot_copy", "kmsKeyId", "alias/aws/ebs", "AWS-managed key"),
    ("aws-ebs-snapshotcopy-kms-key", "snapshot_import", "encrypted", False, "is not encrypted"),
    (
        "aws-imagebuilder-distribution-no-s3-export",
        "distribution",
        "distributions.0.s3ExportConfiguration",
        {"diskImageFormat": "RAW", "roleName": "export", "s3Bucket": "anyone"},
        "bucket 'anyone'",
    ),
    (
        "aws-imagebuilder-distribution-kms-key",
        "distribution",
        "distributions.1.amiDistributionConfiguration",
        DELETE,
        "without an amiDistributionConfiguration",
    ),
    (
        "aws-imagebuilder-distribution-allowed-targets",
        "distribution",
        "distributions.0.launchTemplateConfigurations",
        [{"launchTemplateId": "lt-1", "accountId": "999988887777"}],
        "launch template in another account",
    ),
    (
        "aws-imagebuilder-distribution-not-public",
        "distribution",
        "distributions.0.amiDistributionConfiguration.launchPermission",
        {"userGroups": ["everyone"]},
        "could not be read as a known group",
    ),
    ("aws-ec2-amilaunchpermission-not-public", "launch_permission", "group", "public", "could not be read"),
    # Azure
    (
        "azure-compute-gallery-not-community",
        "classic_gallery",
        "sharing",
        {"permission": "Community"},
        "Community",
    ),
    (
        "azure-compute-gallery-not-community",
        "classic_gallery",
        "sharing",
        {"permission": "Groups", "communityGallery": None},
        "'Groups'",
    ),
    (
        "azure-compute-gallery-not-community",
        "classic_gallery",
        "sharing",
        {"permission": "Public"},
        "could not be",
    ),
    (
        "azure-compute-gallery-not-community",
        "gallery",
        "sharingProfile.permissions",
        "Open",
        "could not be read",
    ),
    (
        "azure-compute-sharedimageversion-disk-encryption-set",
        "classic_image_version",
        "targetRegions.0.diskEncryptionSetId",
        DELETE,
        "platform-managed key",
    ),
    (
        "azure-compute-sharedimageversion-disk-encryption-set",
        "classic_image_version",
        "targetRegions",
        [],
        "lists no targetRegions",
    ),
    (
        "azure-compute-gallerysharingprofile-allowed-targets",
        "sharing_profile",
        "sharingUpdate",
        {"operationType": "EnableCommunity"},
        "enables community sharing",
    ),
    (
        "azure-compute-gallerysharingprofile-allowed-targets",
        "sharing_profile",
        "sharingUpdate.groups.0.ids",
        ["ffffffff-0000-0000-0000-000000000000"],
        "not on the allowedSubscriptionIds allow-list",
    ),
    (
        "azure-compute-gallerysharingprofile-allowed-targets",
        "sharing_profile",
        "sharingUpdate.operationType",
        "Publish",
        "could not be read",
    ),
    (
        "azure-compute-galleryimageversion-disk-encryption-set",
        "gallery_image_version",
        "publishingProfile.targetExtendedLocations",
        [{"name": "microsoftlosangeles1", "extendedLocationReplicaCount": 1}],
        "target region 'microsoftlosangeles1'",
    ),
    (
        "azure-compute-galleryimageversion-disk-encryption-set",
        "gallery_image_version",
        "publishingProfile.targetRegions.0.encryption.osDiskImage.diskEncryptionSetId",
        "des-westeurope",
        "not a disk encryption set resource id",
    ),
    (
        "azure-compute-image-disk-encryption-set",
        "azure_image",
        "storageProfile.osDisk.diskEncryptionSet",
        DELETE,
        "its OS disk",
    ),
    (
        "azure-compute-image-disk-encryption-set",
        "classic_image",
        "osDisk.diskEncryptionSetId",
        DELETE,
        "OS disk",
    ),
    (
        "azure-virtualmachineimages-template-distribute-gallery",
        "aib_template",
        "distribute.0.type",
        "VHD",
        "as 'VHD'",
    ),
    (
        "azure-virtualmachineimages-template-distribute-gallery",
        "aib_template",
        "distribute.0.type",
        "ManagedImage",
        "as 'ManagedImage'",
    ),
    (
        "azure-virtualmachineimages-template-distribute-gallery",
        "aib_template",
        "distribute.0.type",
        "Blob",
        "could not be read",
    ),
    # Proxmox: every VM kind, not only VmLegacy
    (
        "proxmox-ve-template-encrypted-datastore",
        "pve_cloned_vm",
        "disk.scsi0.datastoreId",
        "local-lvm",
        "'local-lvm'",
    ),
    (
        "proxmox-ve-template-encrypted-datastore",
        "pve_cloned_vm_legacy",
        "clone.targetDatastore",
        DELETE,
        "the source VM's datastore",
    ),
    ("proxmox-ve-template-encrypted-datastore", "pve_container", "disk.datastoreId", "local", "'local'"),
    ("proxmox-ve-template-required-tags", "pve_vm2_legacy", "tags", ["Owner=x"], "outside the flat encoding"),
    # Data Lifecycle Manager and RAM: scheduled AMI copies/shares and RAM shares of Image Builder images
    (
        "aws-dlm-lifecyclepolicy-copies-kms-key",
        "dlm_policy",
        "policyDetails.schedules.0.crossRegionCopyRules.0.cmkArn",
        "none",
        "without a customer key",
    ),
    (
        "aws-dlm-lifecyclepolicy-copies-kms-key",
        "dlm_policy",
        "policyDetails.schedules.0.crossRegionCopyRules.0.encrypted",
        False,
        "unencrypted",
    ),
    (
        "aws-dlm-lifecyclepolicy-allowed-targets",
        "dlm_policy",
        "policyDetails.schedules.0.shareRules.0.targetAccounts",
        ["999988887777"],
        "account '999988887777'",
    ),
    (
        "aws-ram-image-share-allowed-targets",
        "ram_association",
        "resourceArn",
        "arn:aws:imagebuilder:eu-west-1:111122223333:image/base/1.4.2/1",
        "through AWS RAM",
    ),
    ("aws-ram-image-share-allowed-targets", "ram_exclusive", "principals", ["999988887777"], "not on the"),
    # unreadable values elsewhere are refused too
    (
        "aws-imagebuilder-pipeline-image-tests",
        "pipeline",
        "imageTestsConfiguration.imageTestsEnabled",
        "no",
        "could not",
    ),
    (
        "aws-imagebuilder-distribution-kms-key",
        "distribution",
        "distributions",
        {"region": "x"},
        "could not be read",
    ),
    (
        "aws-imagebuilder-distribution-kms-key",
        "distribution",
        "distributions.0",
        "eu-west-1",
        "could not be read",
    ),
    ("gcp-compute-image-cmek", "gcp_image", "imageEncryptionKey", "golden", "could not be read"),
    ("aws-ec2-amicopy-kms-key", "ami_copy", "kmsKeyId", 42, "could not be read"),
]


@pytest.mark.parametrize(("policy", "kind", "path", "value", "expected"), CASES, ids=lambda x: str(x)[:50])
def test_example_is_a_mandatory_violation(
    configured: PolicyHarness, policy: str, kind: str, path: str, value: object, expected: str
) -> None:
    assert_violation(configured, policy, kind, path, value, expected, exclusive=False)


@pytest.mark.parametrize("kind", sorted({c[1] for c in CASES}))
def test_compliant_counterpart_passes(configured: PolicyHarness, kind: str) -> None:
    assert run(configured, kind, compliant(kind)) == []


def test_ami_from_instance_cannot_prove_encryption(configured: PolicyHarness) -> None:
    """AmiFromInstance has no encryption input; its counterpart is an encrypted AmiCopy with a customer key."""
    found = of(
        run(configured, "ami_from_instance", compliant("ami_from_instance")),
        "aws-ec2-amifrominstance-encryption-provable",
    )
    assert found and found[0].level == "mandatory" and "cannot be proven" in found[0].message
    assert run(configured, "ami_copy", compliant("ami_copy")) == []


@pytest.mark.parametrize(
    "key",
    [
        KEY,
        "1234abcd-12ab-34cd-56ef-1234567890ab",
        "mrk-1234567890abcdef1234567890abcdef",
        "alias/golden",
        "arn:aws:kms:eu-west-1:111122223333:alias/golden",
    ],
)
def test_every_customer_key_shape_is_accepted(configured: PolicyHarness, key: str) -> None:
    assert run(configured, "ami_copy", mutate(compliant("ami_copy"), "kmsKeyId", key)) == []


@pytest.mark.parametrize(
    "key",
    [
        "none",
        "default",
        "alias/aws/ebs",
        "arn:aws:kms:eu-west-1:111122223333:alias/aws/ebs",
        "arn:aws:s3:::b",
    ],
)
def test_non_keys_are_refused(configured: PolicyHarness, key: str) -> None:
    assert of(
        run(configured, "ami_copy", mutate(compliant("ami_copy"), "kmsKeyId", key)), "aws-ec2-amicopy-kms-key"
    )


@pytest.mark.parametrize(
    ("kind", "path"),
    [
        ("gcp_iam_policy", "policyData"),
        ("image_block_public", "state"),
        ("sharing_profile", "sharingUpdate.operationType"),
        ("aib_template", "distribute.0.type"),
        ("classic_image_version", "targetRegions.0.diskEncryptionSetId"),
        ("snapshot_copy", "kmsKeyId"),
    ],
)
def test_unknown_during_preview_is_only_a_notice(configured: PolicyHarness, kind: str, path: str) -> None:
    violations = run(configured, kind, mutate(compliant(kind), path, UNKNOWN))
    assert violations and all(is_preview_notice(v) for v in violations), violations


def test_unreadable_template_flag_counts_as_a_template(configured: PolicyHarness) -> None:
    """A VM whose template flag is not an explicit false is judged as a template (fail closed)."""
    props = mutate(compliant("pve_vm_legacy"), "template", "yes")
    props = mutate(props, "disks.0.datastoreId", "local-lvm")
    assert of(run(configured, "pve_vm_legacy", props), "proxmox-ve-template-encrypted-datastore")
    ordinary = mutate(props, "template", False)
    ordinary["tags"] = []
    assert run(configured, "pve_vm_legacy", ordinary) == []
