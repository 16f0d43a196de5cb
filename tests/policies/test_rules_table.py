"""Written-out expectations for ``golden_images.core.rules``: literal inputs and the verdict each must get.

No expectation is computed with the module's own functions or constants, so a wrong rule (a mutant, a
regex typo, a boundary moved by one) fails here. The policy pack imports these functions; the harness tests
in ``test_policy_survivors.py`` show the same values reach a verdict through the pack.
"""

from __future__ import annotations

from typing import Any

import pytest

from golden_images.core import rules

UUID = "1234abcd-12ab-34cd-56ef-1234567890ab"
MRK = "mrk-1234567890abcdef1234567890abcdef"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (True, True),
        (False, False),
        ("true", True),
        ("True", True),
        ("TRUE", True),
        (" true", True),
        ("true\n", True),
        ("false", False),
        ("FALSE", False),
        ("False", False),
        ("", False),
        ("   ", False),
        ("yes", False),
        ("1", False),
        ("t", False),
        ("on", False),
        ("truee", False),
        (None, False),
        (1, False),
        (0, False),
        ([], False),
    ],
)
def test_is_truthy_flag(value: Any, expected: bool) -> None:
    assert rules.is_truthy_flag(value) is expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("latest", True),
        ("LATEST", True),
        (" latest ", True),
        ("current", True),
        ("stable", True),
        ("*", True),
        ("x.x.x", True),
        ("1.x.x", True),
        ("2.*", True),
        ("1.2.x", True),
        ("ssm:/aws/service/canonical/ubuntu/server/24.04/stable/current/amd64/hvm/ebs-gp3/ami-id", True),
        ("SSM:/golden/base", True),
        ("resolve:ssm:/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64", True),
        ("resolve:ssm:/golden-images/prod/base/ami-id", True),
        ("RESOLVE:SSM:/golden/base", True),
        ("arn:aws:imagebuilder:us-east-1:aws:image/ubuntu-24/x.x.x", True),
        ("arn:aws:imagebuilder:us-east-1:aws:image/ubuntu-24/2024.x.x", True),
        (
            "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Compute/galleries/g/images/i/versions/latest",
            True,
        ),
        ("Canonical:ubuntu-24_04-lts:server:latest", True),
        ("Canonical:ubuntu-24_04-lts:server:24.x.x", True),
        ("/subscriptions/s/galleries/g/images/i/versions/1.*/", True),
        ("projects/ubuntu-os-cloud/global/images/family/ubuntu-2404-lts-amd64", True),
        ("https://www.googleapis.com/compute/v1/projects/p/global/images/family/base", True),
        ("ami-0a1b2c3d4e5f60718", False),
        ("arn:aws:imagebuilder:us-east-1:aws:image/ubuntu-24/2024.11.1", False),
        ("arn:aws:imagebuilder:us-east-1:111122223333:image/base/1.4.2/3", False),
        (
            "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Compute/galleries/g/images/i/versions/1.4.1",
            False,
        ),
        ("Canonical:ubuntu-24_04-lts:server:24.04.202401010", False),
        ("projects/ubuntu-os-cloud/global/images/ubuntu-2404-noble-v20241115", False),
        ("1.4.2", False),
        ("", False),
        ("   ", False),
        (None, False),
        (7, False),
    ],
)
def test_is_floating_reference(value: Any, expected: bool) -> None:
    assert rules.is_floating_reference(value) is expected


@pytest.mark.parametrize(
    ("value", "customer", "reference"),
    [
        (f"arn:aws:kms:eu-west-1:111122223333:key/{UUID}", True, True),
        (f"arn:aws:kms:us-east-1:111122223333:key/{MRK}", True, True),
        (f"arn:aws-us-gov:kms:us-gov-west-1:111122223333:key/{UUID}", True, True),
        (UUID, True, True),
        (MRK, True, True),
        ("alias/golden", True, True),
        ("alias/team/golden_images-1", True, True),
        ("arn:aws:kms:us-east-1:111111111111:alias/golden", True, True),
        ("alias/aws/ebs", False, True),
        ("arn:aws:kms:us-east-1:111111111111:alias/aws/imagebuilder", False, True),
        ("none", False, False),
        ("default", False, False),
        ("", False, False),
        ("   ", False, False),
        (" alias/golden", False, False),
        ("alias/golden ", False, False),
        ("-" * 36, False, False),
        (UUID.upper(), False, False),
        ("mrk-1234", False, False),
        ("arn:aws:s3:::bucket", False, False),
        (f"arn:aws:kms:eu-west-1:11112222333:key/{UUID}", False, False),
        (f"arn:aws:kms:eu-west-1:111122223333:key/{UUID}/extra", False, False),
        (None, False, False),
        (123, False, False),
    ],
)
def test_kms_keys(value: Any, customer: bool, reference: bool) -> None:
    assert rules.is_customer_kms_key(value) is customer
    assert rules.is_kms_key_reference(value) is reference


@pytest.mark.parametrize(
    ("key", "value", "expected"),
    [
        ("a" * 63, "v", True),
        ("a" * 64, "v", False),
        ("k", "a" * 63, True),
        ("k", "a" * 64, False),
        ("k", "", True),
        ("", "v", False),
        ("1k", "v", False),
        ("_k", "v", False),
        ("Owner", "v", False),
        ("owner", "Platform", False),
        ("image-version", "1-4-2", True),
        ("image-version", "1.4.2", False),
        ("cost_center", "cc-1234", True),
        ("k", None, False),
        (None, "v", False),
    ],
)
def test_is_gcp_label(key: Any, value: Any, expected: bool) -> None:
    assert rules.is_gcp_label(key, value) is expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("a", True),
        ("a" * 63, True),
        ("a" * 64, False),
        ("a" + "-" * 61 + "b", True),
        ("a-", False),
        ("1a", False),
        ("Base", False),
        ("", False),
        (None, False),
    ],
)
def test_is_gcp_resource_name(value: Any, expected: bool) -> None:
    assert rules.is_gcp_resource_name(value) is expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [("a" * 128, True), ("a" * 129, False), ("A_b-1", True), ("", False), ("a b", False), ("a.b", False)],
)
def test_is_image_builder_name(value: str, expected: bool) -> None:
    assert rules.is_image_builder_name(value) is expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("abc", True),
        ("ab", False),
        ("a" * 40, True),
        ("a" * 41, False),
        ("base-ubuntu", True),
        ("ab-", False),
        ("1ab", False),
        ("Abc", False),
        ("a_b", False),
        (None, False),
    ],
)
def test_is_catalog_image_name(value: Any, expected: bool) -> None:
    assert rules.is_catalog_image_name(value) is expected


@pytest.mark.parametrize(
    ("tags", "required", "expected"),
    [
        ({"owner": "platform"}, ("owner",), []),
        ({"owner": "   "}, ("owner",), ["owner"]),
        ({"owner": "\t\n"}, ("owner",), ["owner"]),
        ({"owner": ""}, ("owner",), ["owner"]),
        ({"owner": 1}, ("owner",), ["owner"]),
        ({"Owner": "platform"}, ("owner",), ["owner"]),
        ({}, ("owner", "cost-center"), ["owner", "cost-center"]),
        (None, ("owner",), ["owner"]),
        (["owner"], ("owner",), ["owner"]),
        ({"owner": "p", "cost-center": " c "}, ("cost-center", "owner", "x"), ["x"]),
    ],
)
def test_missing_tag_keys(tags: Any, required: tuple[str, ...], expected: list[str]) -> None:
    assert rules.missing_tag_keys(tags, required) == expected


def test_default_required_tag_keys_written_out() -> None:
    assert rules.missing_tag_keys({}) == [
        "owner",
        "cost-center",
        "environment",
        "managed-by",
        "golden-image",
        "image-version",
    ]


@pytest.mark.parametrize(
    ("value", "semver", "major"),
    [
        ("1.4.2", True, 1),
        ("0.0.0", True, 0),
        ("10.0.1", True, 10),
        ("1.4", False, None),
        ("01.4.2", False, None),
        ("1.04.2", False, None),
        ("1.4.02", False, None),
        ("v1.4.2", False, None),
        ("1.4.2-rc1", False, None),
        ("1.4.2\n", False, None),
        (None, False, None),
    ],
)
def test_semver(value: Any, semver: bool, major: int | None) -> None:
    assert rules.is_semver(value) is semver
    assert rules.semver_major(value) == major


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("1.4.2", True),
        ("2147483647.2147483647.2147483647", True),
        ("2147483648.0.0", False),
        ("0.2147483648.0", False),
        ("1.4.2147483648", False),
        ("1.4", False),
        ("1.4.2.0", False),
        ("1.a.2", False),
        ("1.\u0663.2", False),
        (None, False),
    ],
)
def test_is_gallery_version_name(value: Any, expected: bool) -> None:
    assert rules.is_gallery_version_name(value) is expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("arn:aws:imagebuilder:us-east-1:aws:image/ubuntu-24/2024.11.1", "2024.11.1"),
        ("arn:aws:imagebuilder:us-east-1:111122223333:image/base/1.4.2/3", "1.4.2"),
        ("arn:aws:imagebuilder:us-east-1:aws:image/ubuntu-24/x.x.x", "x.x.x"),
        ("arn:aws:imagebuilder:us-east-1:aws:image/ubuntu-24", None),
        ("ami-0a1b2c3d4e5f60718", None),
        (None, None),
    ],
)
def test_image_builder_arn_version(value: Any, expected: str | None) -> None:
    assert rules.image_builder_arn_version(value) == expected


@pytest.mark.parametrize(
    ("fn", "value", "expected"),
    [
        (rules.is_aws_account_id, "111122223333", True),
        (rules.is_aws_account_id, "11112222333", False),
        (rules.is_aws_account_id, "1111222233334", False),
        (rules.is_aws_account_id, 111122223333, False),
        (rules.is_aws_region, "eu-west-1", True),
        (rules.is_aws_region, "us-gov-west-1", True),
        (rules.is_aws_region, "eu-west", False),
        (rules.is_aws_region, "EU-WEST-1", False),
        (rules.is_ami_id, "ami-0a1b2c3d", True),
        (rules.is_ami_id, "ami-0a1b2c3d4e5f60718", True),
        (rules.is_ami_id, "ami-0a1b2c3d4", False),
        (rules.is_ami_id, "ami-0A1B2C3D", False),
        (rules.is_aws_org_arn, "arn:aws:organizations::111122223333:organization/o-abcdefghij", True),
        (rules.is_aws_org_arn, "arn:aws:organizations::111122223333:organization/o-abc", False),
        (rules.is_aws_ou_arn, "arn:aws:organizations::111122223333:ou/o-abcdefghij/ou-ab12-abcdefgh", True),
        (rules.is_aws_ou_arn, "arn:aws:organizations::111122223333:ou/o-abcdefghij/ou-ab12", False),
        (rules.is_public_group, "all", True),
        (rules.is_public_group, " ALL ", True),
        (rules.is_public_group, "al", False),
        (rules.is_public_group, None, False),
        (rules.is_reserved_tag_key, "aws:createdBy", True),
        (rules.is_reserved_tag_key, "AWS:x", True),
        (rules.is_reserved_tag_key, "awsx", False),
        (rules.is_reserved_tag_key, None, False),
        (rules.is_proxmox_tag, "owner_platform", True),
        (rules.is_proxmox_tag, "image-version_1.4.2", True),
        (rules.is_proxmox_tag, "_x", True),
        (rules.is_proxmox_tag, "-x", False),
        (rules.is_proxmox_tag, "Owner", False),
        (rules.is_proxmox_tag, "", False),
    ],
)
def test_simple_shapes(fn: Any, value: Any, expected: bool) -> None:
    assert fn(value) is expected


@pytest.mark.parametrize(
    ("expression", "problem"),
    [
        ("cron(0 4 ? * MON *)", None),
        (" cron(0 4 1 * ? *) ", None),
        ("cron(0/15 4 ? * MON-FRI 2027)", None),
        (
            "cron(0 4 * * *)",
            "Image Builder cron takes 6 fields (minutes hours day-of-month month day-of-week year), got 5",
        ),
        (
            "cron(0 4 ? * MON * 1)",
            "Image Builder cron takes 6 fields (minutes hours day-of-month month day-of-week year), got 7",
        ),
        (
            "cron(0 4 * * MON *)",
            "exactly one of day-of-month (3rd field) and day-of-week (5th field) must be '?'",
        ),
        (
            "cron(0 4 ? * ? *)",
            "exactly one of day-of-month (3rd field) and day-of-week (5th field) must be '?'",
        ),
        ("cron(0 4 ? * MON; *)", "a cron field holds a character Image Builder does not accept"),
        (
            "rate(1 day)",
            "the schedule must be written as 'cron(<6 fields>)', for example 'cron(0 4 ? * MON *)'",
        ),
        (None, "the schedule must be a string such as 'cron(0 4 ? * MON *)'"),
    ],
)
def test_cron_problem(expression: Any, problem: str | None) -> None:
    # Whole sentences: the catalog shows them to the user verbatim.
    assert rules.cron_problem(expression) == problem


def test_constants_written_out() -> None:
    # Day-2 tools and the pack key on these exact strings.
    assert rules.MANAGED_BY == "golden-images"
    assert rules.ENVIRONMENTS == ("dev", "staging", "prod")


def test_as_str() -> None:
    assert rules.as_str("x") == "x"
    assert rules.as_str("") == ""
    assert rules.as_str(1) is None
