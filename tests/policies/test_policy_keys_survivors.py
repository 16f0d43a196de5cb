"""Verdicts, word for word, for the mutants of ``keys.py`` that survived the first mutation pass
(docs/testing.md) outside AWS: a key value that is not a string, on Azure and GCP (the resource is
named ``golden``). Expectations are literal sentences, never computed with the pack's code. The AWS reasons are
in ``aws/test_policy_aws_dlm_survivors.py``."""

# ruff: noqa: E501 (whole sentences are kept on one line each, as the pack says them)

from __future__ import annotations

import pytest
from policy_support import messages

from golden_images.engine.harness import PolicyHarness

CASES = [
    pytest.param(
        "gallery_image_version",
        {"publishingProfile.targetRegions.0.encryption.osDiskImage.diskEncryptionSetId": 7},
        "azure-compute-galleryimageversion-disk-encryption-set",
        [
            "Azure gallery image version 'golden' does not encrypt the OS disk in target region 'westeurope' with a customer key (the disk encryption set could not be read (it is a float, not a string)); set encryption.osDiskImage.diskEncryptionSetId to a disk encryption set in that region (a DES is regional)."
        ],
        id="des-unreadable",
    ),
    pytest.param(
        "gcp_image",
        {"imageEncryptionKey.kmsKeySelfLink": 7},
        "gcp-compute-image-cmek",
        [
            "GCP image 'golden' sets imageEncryptionKey.kmsKeySelfLink to 7.0: the key could not be read (it is a float, not a string); set it to a Cloud KMS key (CMEK)."
        ],
        id="gcp-key-unreadable",
    ),
]


@pytest.mark.parametrize(("kind", "changes", "policy", "expected"), CASES)
def test_survivor_verdicts(
    configured: PolicyHarness, kind: str, changes: dict[str, object], policy: str, expected: list[str]
) -> None:
    assert messages(configured, kind, dict(changes), policy) == expected
