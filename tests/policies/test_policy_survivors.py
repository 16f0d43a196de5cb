"""Verdicts through the pack for the mutants a manual mutation pass found surviving, and the config surface
(allowedTagValues, custom required keys, applyEverywhere, ltsReleases with mixed-case families, an
``org/project/stack`` stack name). Every expectation is a literal value and a literal policy name."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from policy_factories import compliant, mutate
from policy_support import CONFIGURED, PACK_DIR, PROJECT, of, run

from golden_images.engine.harness import PolicyConfigError, PolicyHarness

RECIPE_EBS = "aws-imagebuilder-recipe-ebs-encrypted"


@pytest.mark.parametrize(
    ("encrypted", "flagged"),
    [
        ("true", False),
        (True, False),
        (" true", False),
        ("", True),
        ("yes", True),
        ("FALSE", True),
        (False, True),
    ],
)
def test_recipe_ebs_encrypted_flag_spellings(
    configured: PolicyHarness, encrypted: Any, flagged: bool
) -> None:
    props = mutate(compliant("image_recipe"), "blockDeviceMappings.0.ebs.encrypted", encrypted)
    found = of(run(configured, "image_recipe", props), RECIPE_EBS)
    assert bool(found) is flagged, found
    assert all(v.level == "mandatory" for v in found)


@pytest.mark.parametrize(
    ("parent", "flagged"),
    [
        ("ami-0123456789abcdef0", False),
        (
            "resolve:ssm:/aws/service/canonical/ubuntu/server/24.04/stable/current/amd64/hvm/ebs-gp3/ami-id",
            True,
        ),
        ("ssm:/golden-images/prod/base/ami-id", True),
        ("arn:aws:imagebuilder:eu-west-1:aws:image/ubuntu-server-24-lts-x86/x.x.x", True),
    ],
)
def test_recipe_parent_spellings(configured: PolicyHarness, parent: str, flagged: bool) -> None:
    props = mutate(compliant("image_recipe"), "parentImage", parent)
    found = of(run(configured, "image_recipe", props), "aws-imagebuilder-recipe-parent-pinned")
    assert bool(found) is flagged, found


@pytest.mark.parametrize("value", ["   ", "\t", ""])
def test_blank_tag_value_is_missing(configured: PolicyHarness, value: str) -> None:
    props = mutate(compliant("component"), "tags.owner", value)
    found = of(run(configured, "component", props), "aws-imagebuilder-resource-required-tags")
    assert len(found) == 1 and "missing the required tags owner;" in found[0].message, found


@pytest.mark.parametrize(("length", "flagged"), [(63, False), (64, True)])
def test_gcp_label_key_length(configured: PolicyHarness, length: int, flagged: bool) -> None:
    props = mutate(compliant("gcp_image"), "labels." + "k" * length, "v")
    found = of(run(configured, "gcp_image", props), "gcp-compute-image-labels-valid")
    assert bool(found) is flagged, found


@pytest.mark.parametrize(("length", "flagged"), [(63, False), (64, True)])
def test_gcp_label_value_length(configured: PolicyHarness, length: int, flagged: bool) -> None:
    props = mutate(compliant("gcp_image"), "labels.extra", "v" * length)
    found = of(run(configured, "gcp_image", props), "gcp-compute-image-labels-valid")
    assert bool(found) is flagged, found


@pytest.mark.parametrize("block", ["tpmState", "efiDisk", "initialization"])
def test_proxmox_side_disks_on_plain_datastore(configured: PolicyHarness, block: str) -> None:
    props = mutate(compliant("pve_vm_legacy"), block, {"datastoreId": "local-lvm"})
    found = of(run(configured, "pve_vm_legacy", props), "proxmox-ve-template-encrypted-datastore")
    assert found and "local-lvm" in found[0].message, found


def test_proxmox_tpm_state_on_encrypted_datastore_passes(configured: PolicyHarness) -> None:
    props = mutate(compliant("pve_vm_legacy"), "tpmState", {"datastoreId": "enc-zfs"})
    assert run(configured, "pve_vm_legacy", props) == []


def test_empty_target_regions_flagged(configured: PolicyHarness) -> None:
    props = mutate(compliant("gallery_image_version"), "publishingProfile.targetRegions", [])
    found = of(
        run(configured, "gallery_image_version", props),
        "azure-compute-galleryimageversion-disk-encryption-set",
    )
    assert found and "lists no publishingProfile.targetRegions" in found[0].message, found


def test_unknown_raw_key_is_flagged(configured: PolicyHarness) -> None:
    from policy_factories import UNKNOWN

    props = mutate(compliant("gcp_image"), "imageEncryptionKey.rawKey", UNKNOWN)
    found = of(run(configured, "gcp_image", props), "gcp-compute-image-cmek")
    assert found and found[0].level == "mandatory" and "rawKey" in found[0].message, found


# --- the config surface -----------------------------------------------------------------------------------

CUSTOM = {
    **CONFIGURED,
    "aws-imagebuilder-resource-required-tags": {
        "allowedTagValues": {"owner": ["platform", "security"]},
        "requiredTagKeys": ["owner", "team"],
    },
    "golden-image-os-lts-in-prod": {"applyEverywhere": True, "ltsReleases": {"Ubuntu": ["24.04"]}},
}


@pytest.fixture(scope="module")
def custom() -> Iterator[PolicyHarness]:
    """A dev stack named with its org/project prefix, with tag, LTS and applyEverywhere options set."""
    with PolicyHarness(PACK_DIR, project=PROJECT, stack="acme/golden-images/dev", config=CUSTOM) as harness:
        yield harness


def _component(**tags: str) -> dict[str, Any]:
    props = compliant("component", env="dev")
    props["tags"] = {**props["tags"], "team": "images", **tags}
    return props


def test_prefixed_stack_name_is_dev(custom: PolicyHarness) -> None:
    # A dev-tagged resource passes only if acme/golden-images/dev is read as dev, not prod.
    assert run(custom, "component", _component()) == []
    found = run(custom, "component", _component(environment="prod"))
    assert [v.policy for v in found] == ["aws-imagebuilder-resource-required-tags"], found
    assert "deployed by a dev stack" in found[0].message


@pytest.mark.parametrize(("owner", "flagged"), [("platform", False), ("security", False), ("intruder", True)])
def test_allowed_tag_values(custom: PolicyHarness, owner: str, flagged: bool) -> None:
    found = of(run(custom, "component", _component(owner=owner)), "aws-imagebuilder-resource-required-tags")
    assert bool(found) is flagged, found
    if flagged:
        assert "sets 'owner' to 'intruder'" in found[0].message and "platform, security" in found[0].message


def test_custom_required_keys(custom: PolicyHarness) -> None:
    props = compliant("component", env="dev")  # no "team" tag
    found = of(run(custom, "component", props), "aws-imagebuilder-resource-required-tags")
    assert len(found) == 1 and "missing the required tags team;" in found[0].message, found


def test_allowed_tag_values_off_by_default(dev: PolicyHarness) -> None:
    props = mutate(compliant("component", env="dev"), "tags.owner", "intruder")
    assert run(dev, "component", props) == []


def _golden(release: str, lts: Any = True, family: str = "ubuntu") -> dict[str, Any]:
    props = compliant("golden_image", env="dev")
    props["os"] = {**props["os"], "family": family, "release": release, "lts": lts}
    return props


LTS = "golden-image-os-lts-in-prod"


@pytest.mark.parametrize(
    ("family", "release", "lts", "flagged"),
    [
        ("ubuntu", "24.04", True, False),
        ("UBUNTU", "24.04", True, False),
        ("ubuntu", "22.04", True, True),
        ("ubuntu", "24.04", False, True),
        ("ubuntu", "24.04", "yes", True),
        ("debian", "12", True, True),
    ],
)
def test_lts_releases_applied_everywhere(
    custom: PolicyHarness, family: str, release: str, lts: Any, flagged: bool
) -> None:
    found = of(run(custom, "golden_image", _golden(release, lts, family)), LTS)
    assert bool(found) is flagged, found


def test_prod_rule_off_in_dev_without_apply_everywhere(dev: PolicyHarness) -> None:
    assert of(run(dev, "golden_image", _golden("22.10", False)), LTS) == []


@pytest.mark.parametrize(
    ("config", "message"),
    [
        (
            {"golden-image-os-lts-in-prod": {"applyEverywhere": "yes"}},
            "golden-image-os-lts-in-prod: applyEverywhere: 'yes' is not of type 'boolean'",
        ),
        (
            {"aws-imagebuilder-resource-required-tags": {"allowedTagValues": {"owner": "platform"}}},
            "aws-imagebuilder-resource-required-tags: allowedTagValues",
        ),
        (
            {"golden-image-os-lts-in-prod": {"ltsReleases": ["24.04"]}},
            "golden-image-os-lts-in-prod: ltsReleases",
        ),
        (
            {"aws-imagebuilder-resource-required-tags": {"requiredTagKeys": [""]}},
            "aws-imagebuilder-resource-required-tags: requiredTagKeys",
        ),
        (
            {"golden-image-os-lts-in-prd": {"applyEverywhere": True}},
            "golden-image-os-lts-in-prd: invalid enforcement level",
        ),
    ],
    ids=["wrong-type-flag", "wrong-type-values", "wrong-type-lts", "empty-key", "misspelt-policy"],
)
def test_bad_pack_config_is_refused(config: dict[str, Any], message: str) -> None:
    with (
        pytest.raises(PolicyConfigError) as error,
        PolicyHarness(PACK_DIR, project=PROJECT, stack="dev", config=config),
    ):
        pass
    assert message in str(error.value), str(error.value)
