"""Canaries for the moto 5.2.5 gaps the tools' tests work around. If one of these fails, moto now models the
field or call: drop the workaround named in the test."""

from __future__ import annotations

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError
from botocore.parsers import ResponseParserError

from tests.tools.conftest import _ORIGINAL_BDM, REGIONS, Seeder


def test_describe_images_has_no_ebs_encrypted_field(seed: Seeder) -> None:
    """Workaround: conftest patches moto's ``Ami.block_device_mappings`` to report the snapshot's flag."""
    image = seed.image(name="probe-image")
    ami = seed.backend(REGIONS[0]).amis[image]
    assert all("Encrypted" not in m["Ebs"] for m in _ORIGINAL_BDM.fget(ami))


def test_enable_image_deprecation_is_not_implemented(seed: Seeder) -> None:
    """Workaround: conftest's ``MotoGaps`` answers this one call (``before-call`` hook, documented shape).
    moto's answer is a 500 whose body is not XML: botocore raises ``ResponseParserError``, which is not a
    ``BotoCoreError`` (the tools catch it, see ``golden_images.tools.aws.AWS_ERRORS``)."""
    image = seed.image(name="probe-image")
    ec2 = boto3.client("ec2", region_name=REGIONS[0], config=Config(retries={"total_max_attempts": 1}))
    with pytest.raises(ResponseParserError):
        ec2.enable_image_deprecation(ImageId=image, DeprecateAt="2030-01-01T00:00:00Z")


def test_image_builder_is_not_modelled() -> None:
    """Workaround: conftest's ``MotoGaps`` is an in-memory Image Builder. (In-process moto says 404 "Not yet
    implemented"; the server answers an HTML 500, which botocore turns into a ``ClientError`` "500".)"""
    client = boto3.client(
        "imagebuilder", region_name=REGIONS[0], config=Config(retries={"total_max_attempts": 1})
    )
    with pytest.raises(ClientError) as err:
        client.list_image_recipes(owner="Self")
    assert err.value.response["Error"]["Code"] == "500"


def test_deregistration_protection_is_not_implemented(seed: Seeder) -> None:
    """Workaround: tests seed ``deregistration_protection`` on the backend ``Ami`` (moto serialises it)."""
    image = seed.image(name="probe-image")
    ec2 = seed.ec2(REGIONS[0])
    with pytest.raises((ClientError, ResponseParserError)):
        ec2.enable_image_deregistration_protection(ImageId=image)
    assert "DeregistrationProtection" not in ec2.describe_images(ImageIds=[image])["Images"][0]


def test_kms_aws_managed_keys_are_reported_as_customer_keys() -> None:
    """Workaround: tests seed ``key_manager = "AWS"`` on the backend key."""
    kms = boto3.client("kms", region_name=REGIONS[0])
    assert kms.describe_key(KeyId="alias/aws/ebs")["KeyMetadata"]["KeyManager"] == "CUSTOMER"


def test_launch_templates_truncate_without_next_token(seed: Seeder) -> None:
    """Workaround: the inventory asks for pages of 200 (AWS's maximum), so moto returns up to 200."""
    ec2 = seed.ec2(REGIONS[0])
    image = seed.image(name="probe-image")
    for n in range(16):
        ec2.create_launch_template(LaunchTemplateName=f"probe-{n}", LaunchTemplateData={"ImageId": image})
    page = ec2.describe_launch_templates()
    assert len(page["LaunchTemplates"]) == 15 and "NextToken" not in page
    assert len(ec2.describe_launch_templates(MaxResults=200)["LaunchTemplates"]) == 16
