"""Sharing outside the allow-lists is never relaxed: in every shipped config (policies/config/*.json), a sharing
violation is mandatory on its own stack; environments differ only in their allow-lists."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from policy_factories import DELETE, compliant, mutate
from policy_support import PACK_DIR, PROJECT, of, run

from golden_images.engine.harness import PolicyHarness, load_policy_config
from golden_images_policies import all_policies

CONFIGS = sorted((PACK_DIR / "config").glob("*.json"))
SHARING = sorted(p.name for p in all_policies() if p.tags[0] == "sharing")

#: One sharing violation per sharing policy: (kind, path, value) applied to the compliant factory.
FOREIGN = "999988887777"
EXAMPLES = {
    "aws-imagebuilder-distribution-not-public": (
        "distribution",
        "distributions.0.amiDistributionConfiguration.launchPermission",
        {"userGroups": ["all"]},
    ),
    "aws-imagebuilder-distribution-no-s3-export": (
        "distribution",
        "distributions.0.s3ExportConfiguration",
        {"s3Bucket": "foreign-bucket", "roleName": "r", "diskImageFormat": "RAW"},
    ),
    "aws-imagebuilder-distribution-allowed-targets": (
        "distribution",
        "distributions.0.amiDistributionConfiguration.targetAccountIds",
        [FOREIGN],
    ),
    "aws-ec2-amilaunchpermission-not-public": ("launch_permission", "group", "all"),
    "aws-ec2-amilaunchpermission-allowed-targets": ("launch_permission", "accountId", FOREIGN),
    "aws-ec2-snapshotcreatevolumepermission-allowed-targets": ("snapshot_permission", "accountId", FOREIGN),
    "aws-ec2-image-block-public-access": ("image_block_public", "state", "unblocked"),
    "aws-dlm-lifecyclepolicy-allowed-targets": (
        "dlm_policy",
        "policyDetails.schedules.0.shareRules.0.targetAccounts",
        [FOREIGN],
    ),
    "aws-ram-image-share-allowed-targets": ("ram_exclusive", "principals", [FOREIGN]),
    "azure-compute-gallery-not-community": ("gallery", "sharingProfile.permissions", "Community"),
    "azure-compute-gallerysharingprofile-allowed-targets": (
        "sharing_profile",
        "sharingUpdate.groups.0.ids",
        ["ffffffff-0000-0000-0000-000000000000"],
    ),
    "azure-virtualmachineimages-template-distribute-gallery": ("aib_template", "distribute.0.type", "VHD"),
    "gcp-compute-image-iam-not-public": ("gcp_iam_member", "member", "allUsers"),
}


def test_every_sharing_policy_has_an_example() -> None:
    assert sorted(EXAMPLES) == SHARING


@pytest.fixture(scope="module", params=CONFIGS, ids=lambda p: p.name)
def shipped(request: pytest.FixtureRequest) -> Iterator[PolicyHarness]:
    path: Path = request.param
    with PolicyHarness(
        PACK_DIR, project=PROJECT, stack=path.stem, config=load_policy_config(path)
    ) as harness:
        yield harness


@pytest.mark.parametrize("policy", SHARING)
def test_sharing_is_mandatory_in_every_shipped_config(shipped: PolicyHarness, policy: str) -> None:
    kind, path, value = EXAMPLES[policy]
    props = mutate(compliant(kind), path, value)
    if kind == "launch_permission" and path == "group":
        props = mutate(props, "accountId", DELETE)
    found = of(run(shipped, kind, props, name="golden"), policy)
    assert found and all(v.level == "mandatory" for v in found), found
