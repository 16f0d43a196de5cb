"""Azure Compute Gallery and VM Image Builder policies through the harness."""

from __future__ import annotations

import pytest
from policy_factories import DELETE, UNKNOWN, compliant, mutate
from policy_support import assert_violation, of, run

from golden_images.engine.harness import PolicyHarness, is_preview_notice

CASES = [
    (
        "azure-compute-galleryimageversion-disk-encryption-set",
        "gallery_image_version",
        "publishingProfile.targetRegions.1.encryption",
        DELETE,
        "target region 'northeurope'",
    ),
    (
        "azure-compute-galleryimageversion-disk-encryption-set",
        "gallery_image_version",
        "publishingProfile.targetRegions.0.encryption.osDiskImage.diskEncryptionSetId",
        "",
        "'westeurope'",
    ),
    (
        "azure-compute-galleryimageversion-disk-encryption-set",
        "gallery_image_version",
        "publishingProfile.targetRegions.1.encryption.dataDiskImages.0.diskEncryptionSetId",
        DELETE,
        "data disk LUN 0",
    ),
    (
        "azure-compute-galleryimageversion-disk-encryption-set",
        "gallery_image_version",
        "publishingProfile",
        DELETE,
        "lists no publishingProfile.targetRegions",
    ),
    (
        "azure-compute-gallery-not-community",
        "gallery",
        "sharingProfile.permissions",
        "Community",
        "'Community'",
    ),
    ("azure-compute-gallery-not-community", "gallery", "sharingProfile.permissions", "groups", "'groups'"),
    (
        "azure-compute-gallery-not-community",
        "gallery",
        "sharingProfile.communityGalleryInfo",
        {"publisherUri": "https://example.com", "publicNamePrefix": "acme"},
        "community gallery",
    ),
    (
        "azure-compute-galleryimageversion-name-format",
        "gallery_image_version",
        "galleryImageVersionName",
        "1.4.2-rc1",
        "int.int.int",
    ),
    (
        "azure-compute-galleryimageversion-name-format",
        "gallery_image_version",
        "galleryImageVersionName",
        "1.4.99999999999",
        "int.int.int",
    ),
    (
        "azure-compute-galleryimageversion-source-pinned",
        "gallery_image_version",
        "storageProfile.source.id",
        "/subscriptions/x/resourceGroups/rg/providers/Microsoft.Compute/galleries/g/images/base/versions/latest",
        "floating source",
    ),
    (
        "azure-virtualmachineimages-template-source-pinned",
        "aib_template",
        "source.version",
        "latest",
        "platform image version 'latest'",
    ),
    (
        "azure-virtualmachineimages-template-source-pinned",
        "aib_template",
        "source",
        {"type": "SharedImageVersion", "imageVersionId": "/x/galleries/g/images/base/versions/latest"},
        "floating gallery image",
    ),
    (
        "azure-virtualmachineimages-template-private-subnet",
        "aib_template",
        "vmProfile.vnetConfig",
        DELETE,
        "private subnet",
    ),
    (
        "azure-virtualmachineimages-template-private-subnet",
        "aib_template",
        "vmProfile",
        DELETE,
        "private subnet",
    ),
    ("azure-compute-image-required-tags", "gallery", "tags", DELETE, "missing the required tags"),
    ("azure-compute-image-required-tags", "gallery_image", "tags.managed-by", DELETE, "managed-by"),
    (
        "azure-compute-image-required-tags",
        "gallery_image_version",
        "tags.environment",
        "dev",
        "environment 'dev'",
    ),
    ("azure-compute-image-required-tags", "aib_template", "tags.golden-image", " ", "golden-image"),
]


@pytest.mark.parametrize(("policy", "kind", "path", "value", "expected"), CASES, ids=lambda x: str(x)[:40])
def test_violation(
    configured: PolicyHarness, policy: str, kind: str, path: str, value: object, expected: str
) -> None:
    assert_violation(configured, policy, kind, path, value, expected)


def test_version_name_falls_back_to_resource_name(configured: PolicyHarness) -> None:
    props = mutate(compliant("gallery_image_version"), "galleryImageVersionName", DELETE)
    assert run(configured, "gallery_image_version", props, name="1.4.2") == []
    assert of(
        run(configured, "gallery_image_version", props, name="base-version"),
        "azure-compute-galleryimageversion-name-format",
    )


def test_private_gallery_passes(configured: PolicyHarness) -> None:
    for permissions in ("Private", DELETE):
        assert (
            run(
                configured, "gallery", mutate(compliant("gallery"), "sharingProfile.permissions", permissions)
            )
            == []
        )


def test_unknown_des_in_preview(configured: PolicyHarness) -> None:
    props = mutate(
        compliant("gallery_image_version"),
        "publishingProfile.targetRegions.0.encryption.osDiskImage.diskEncryptionSetId",
        UNKNOWN,
    )
    violations = run(configured, "gallery_image_version", props)
    assert violations and all(is_preview_notice(v) for v in violations)
