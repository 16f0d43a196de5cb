"""Verdicts, word for word, for the survivors of a second even sample of ``aws/imagebuilder.py``'s mutants
(issue 21; docs/testing.md): an unknown block device mapping followed by an unencrypted one (the loop must go
on), and an allowed export bucket followed by a foreign one. Expectations are literal sentences."""

# ruff: noqa: E501 (whole sentences are kept on one line each, as the pack says them)

from __future__ import annotations

from collections.abc import Iterator

import pytest
from policy_factories import KEY, UNKNOWN
from policy_support import PACK_DIR, PROJECT, messages

from golden_images.engine.harness import PolicyHarness

EXPORT = "aws-imagebuilder-distribution-no-s3-export"


@pytest.fixture(scope="module")
def allowing() -> Iterator[PolicyHarness]:
    """A prod pack that allows exports to the bucket ``ours``."""
    config = {EXPORT: {"allowedExportBuckets": ["ours"]}}
    with PolicyHarness(PACK_DIR, project=PROJECT, stack="prod", config=config) as harness:
        yield harness


def test_an_unknown_mapping_does_not_end_the_scan(configured: PolicyHarness) -> None:
    mappings = [UNKNOWN, {"deviceName": "/dev/sdb", "ebs": {"encrypted": "false", "kmsKeyId": KEY}}]
    assert messages(
        configured, "image_recipe", {"blockDeviceMappings": mappings}, "aws-imagebuilder-recipe-ebs-encrypted"
    ) == [
        "Image Builder image recipe 'golden' does not explicitly encrypt block device '/dev/sdb' (encrypted is 'false'; it is a string and 'false' means false); set ebs.encrypted to \"true\" with a customer-managed kmsKeyId."
    ]


def test_an_allowed_bucket_does_not_end_the_scan(allowing: PolicyHarness) -> None:
    changes = {
        "distributions.0.s3ExportConfiguration": {
            "s3Bucket": "ours",
            "roleName": "r",
            "diskImageFormat": "RAW",
        },
        "distributions.1.s3ExportConfiguration": {
            "s3Bucket": "foreign",
            "roleName": "r",
            "diskImageFormat": "RAW",
        },
    }
    assert messages(allowing, "distribution", changes, EXPORT) == [
        "Image Builder distribution configuration 'golden' exports the image in region 'us-east-1' as a disk file to S3 bucket 'foreign', outside the AMI's KMS encryption and launch permissions; remove s3ExportConfiguration or add the bucket to allowedExportBuckets."
    ]
