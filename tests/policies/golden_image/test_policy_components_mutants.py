"""Verdicts, word for word, for the mutants of ``golden_image/components.py`` (issue 21, docs/testing.md
"Mutation testing"): every branch of the semver, environment, LTS, encryption-level and parent rules, with
unknown (preview) values, non-string values, mixed-case families and every default LTS release. Each case
changes the compliant component (named ``golden``) on the configured prod pack and lists every message of one
policy. Expectations are literal sentences, never computed with the pack's code."""

# ruff: noqa: E501 (whole sentences are kept on one line each, as the pack says them)

from __future__ import annotations

import pytest
from policy_factories import DELETE, UNKNOWN
from policy_support import messages

from golden_images.engine.harness import PolicyHarness

SEMVER = "golden-image-version-semver"
TAGS = "golden-image-required-tags"
LTS = "golden-image-os-lts-in-prod"
ENCRYPTION = "golden-image-platform-encryption-in-prod"
PARENT = "golden-image-platform-parent-pinned"

ENCRYPTION_TAIL = "but prod images need a customer-managed key (or, on Proxmox, a datastore attested as encrypted); set the platform's CMK settings in the catalog (AWS kms_keys, Azure disk_encryption_sets, GCP kms_key, Proxmox encrypted_datastores)."

CASES = [
    # semver: an unknown version is not judged; a suffix is not semantic.
    pytest.param("golden_image", {"version": UNKNOWN}, SEMVER, [], id="semver-unknown"),
    pytest.param(
        "gcp_golden_image",
        {"version": "1.4.2-rc1"},
        SEMVER,
        [
            "GCP golden image 'golden' has version '1.4.2-rc1', which is not semantic MAJOR.MINOR.PATCH; set the catalog version to MAJOR.MINOR.PATCH (no 'v' prefix, no suffix), for example 1.4.2."
        ],
        id="semver-suffix",
    ),
    # The component's own environment: unknown or not a string is not compared.
    pytest.param("golden_image", {"environment": UNKNOWN}, TAGS, [], id="environment-unknown"),
    pytest.param("golden_image", {"environment": 7}, TAGS, [], id="environment-not-a-string"),
    pytest.param(
        "golden_image",
        {"environment": "dev", "tags.environment": "dev"},
        TAGS,
        [
            "golden image 'golden' is built for environment 'dev' but deployed by a prod stack; deploy it from the dev stack or change its environment.",
            "golden image 'golden' is tagged environment 'dev' but is deployed by a prod stack; tag it with environment 'prod' or deploy it from the dev stack.",
        ],
        id="environment-and-tag-both-dev",
    ),
    # LTS: unknown os, family or release is not judged; an unknown lts flag still lets the release be checked.
    pytest.param("golden_image", {"os": UNKNOWN}, LTS, [], id="os-unknown"),
    pytest.param(
        "golden_image",
        {"os": "ubuntu"},
        LTS,
        [
            "golden image 'golden' declares no base OS (os); declare family, release and lts so prod can be checked."
        ],
        id="os-not-an-object",
    ),
    pytest.param("golden_image", {"os.lts": UNKNOWN}, LTS, [], id="lts-unknown"),
    pytest.param(
        "golden_image",
        {"os.lts": UNKNOWN, "os.release": "23.10"},
        LTS,
        [
            "golden image 'golden' uses ubuntu release '23.10', which is not an allowed LTS release for prod (allowed: 20.04, 22.04, 24.04); use an LTS release or add it to ltsReleases."
        ],
        id="lts-unknown-release-not-allowed",
    ),
    pytest.param("golden_image", {"os.family": UNKNOWN, "os.release": "23.10"}, LTS, [], id="family-unknown"),
    pytest.param("golden_image", {"os.release": UNKNOWN}, LTS, [], id="release-unknown"),
    pytest.param("golden_image", {"os.family": "Ubuntu"}, LTS, [], id="family-mixed-case"),
    pytest.param("golden_image", {"os.lts": "true"}, LTS, [], id="lts-string-true"),
    pytest.param(
        "golden_image",
        {"os.lts": DELETE},
        LTS,
        [
            "golden image 'golden' is built on a non-LTS base OS ('ubuntu' '24.04'); prod images must use an LTS release."
        ],
        id="lts-absent",
    ),
    pytest.param(
        "golden_image",
        {"os.lts": False, "os.release": "23.10"},
        LTS,
        [
            "golden image 'golden' is built on a non-LTS base OS ('ubuntu' '23.10'); prod images must use an LTS release.",
            "golden image 'golden' uses ubuntu release '23.10', which is not an allowed LTS release for prod (allowed: 20.04, 22.04, 24.04); use an LTS release or add it to ltsReleases.",
        ],
        id="not-lts-and-release-not-allowed",
    ),
    pytest.param(
        "golden_image",
        {"os.family": "windows-server", "os.release": "2016"},
        LTS,
        [
            "golden image 'golden' uses windows-server release '2016', which is not an allowed LTS release for prod (allowed: 2019, 2022, 2025); use an LTS release or add it to ltsReleases."
        ],
        id="windows-2016",
    ),
    pytest.param(
        "golden_image",
        {"os.family": "rhel", "os.release": "7"},
        LTS,
        [
            "golden image 'golden' uses rhel release '7', which is not an allowed LTS release for prod (allowed: 8, 9, 10); use an LTS release or add it to ltsReleases."
        ],
        id="rhel-7",
    ),
    # Encryption level: unknown is not judged; a non-string level is "no encryption level"; levels are exact.
    pytest.param("aws_golden_image", {"encryption": UNKNOWN}, ENCRYPTION, [], id="encryption-unknown"),
    pytest.param(
        "aws_golden_image",
        {"encryption": 7},
        ENCRYPTION,
        [f"AWS golden image 'golden' reports no encryption level, {ENCRYPTION_TAIL}"],
        id="encryption-not-a-string",
    ),
    pytest.param("aws_golden_image", {"encryption": "verified"}, ENCRYPTION, [], id="encryption-verified"),
    pytest.param("azure_golden_image", {"encryption": "attested"}, ENCRYPTION, [], id="encryption-attested"),
    pytest.param(
        "gcp_golden_image",
        {"encryption": "ENFORCED"},
        ENCRYPTION,
        [f"GCP golden image 'golden' reports encryption level 'ENFORCED', {ENCRYPTION_TAIL}"],
        id="encryption-upper-case",
    ),
    # The platform rules judge platform components only, not the GoldenImage itself.
    pytest.param("golden_image", {"encryption": "none"}, ENCRYPTION, [], id="encryption-not-on-golden-image"),
    pytest.param("golden_image", {"parentImage": "latest"}, PARENT, [], id="parent-not-on-golden-image"),
    # Parent: unknown or absent is not judged; a parent that is not a string cannot be shown to be pinned.
    pytest.param("aws_golden_image", {"parentImage": UNKNOWN}, PARENT, [], id="parent-unknown"),
    pytest.param("aws_golden_image", {"parentImage": None}, PARENT, [], id="parent-none"),
    pytest.param(
        "aws_golden_image",
        {"parentImage": 7},
        PARENT,
        [
            "AWS golden image 'golden' builds from the floating parent 7.0, so the prod image changes without a code change; pin the parent to an exact image (run 'golden-images pin' for AWS SSM parameters)."
        ],
        id="parent-not-a-string",
    ),
]


@pytest.mark.parametrize(("kind", "changes", "policy", "expected"), CASES)
def test_component_verdicts(
    configured: PolicyHarness, kind: str, changes: dict[str, object], policy: str, expected: list[str]
) -> None:
    assert messages(configured, kind, dict(changes), policy) == expected


#: Every release of the default ltsReleases table (written out, not read from the pack).
DEFAULT_LTS = [
    ("ubuntu", "20.04"),
    ("ubuntu", "22.04"),
    ("ubuntu", "24.04"),
    ("debian", "11"),
    ("debian", "12"),
    ("debian", "13"),
    ("rhel", "8"),
    ("rhel", "9"),
    ("rhel", "10"),
    ("rocky", "8"),
    ("rocky", "9"),
    ("rocky", "10"),
    ("almalinux", "8"),
    ("almalinux", "9"),
    ("almalinux", "10"),
    ("amazon-linux", "2023"),
    ("windows-server", "2019"),
    ("windows-server", "2022"),
    ("windows-server", "2025"),
]


@pytest.mark.parametrize(("family", "release"), DEFAULT_LTS)
def test_every_default_lts_release_is_allowed(configured: PolicyHarness, family: str, release: str) -> None:
    assert messages(configured, "golden_image", {"os.family": family, "os.release": release}, LTS) == []


@pytest.mark.parametrize(
    ("family", "shown"), [(DELETE, "None"), ("  ", "'  '"), (7, "7.0")], ids=["absent", "blank", "number"]
)
def test_unreadable_family_is_reported(configured: PolicyHarness, family: object, shown: str) -> None:
    """Fail closed: a family that cannot be read is reported (it used to pass the prod LTS rule silently).
    Numbers cross the wire as doubles (7 is shown as 7.0)."""
    assert messages(configured, "golden_image", {"os.family": family, "os.release": "23.10"}, LTS) == [
        f"golden image 'golden' declares no readable base OS family (os.family is {shown}); declare the family so prod can check its release against ltsReleases."
    ]
