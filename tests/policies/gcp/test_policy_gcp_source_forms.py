"""Every form the Google provider accepts for ``sourceImage``, and whether prod accepts it as pinned.

The provider (``ResolveImage``) takes a self link, ``projects/<p>/global/images/<name>`` and
``global/images/<name>`` as they are; ``…/images/family/<f>`` and ``family/<f>`` name a family (its newest
image); the shorthands ``<p>/<x>`` and ``<x>`` are looked up as an image first and then, when no image has
that name, as a family — so they do not pin bytes either. Written out, not derived from the rule.
"""

from __future__ import annotations

import pytest
from policy_support import messages

from golden_images.core.rules import is_floating_reference
from golden_images.engine.harness import PolicyHarness

POLICY = "gcp-compute-image-source-pinned"
LINK = (
    "https://www.googleapis.com/compute/v1/projects/ubuntu-os-cloud/global/images/ubuntu-2404-noble-v20260918"
)

PINNED = [
    LINK,
    "projects/ubuntu-os-cloud/global/images/ubuntu-2404-noble-v20260918",
    "global/images/ubuntu-2404-noble-v20260918",
]
FAMILY = [
    "projects/ubuntu-os-cloud/global/images/family/ubuntu-2404-lts-amd64",
    "global/images/family/ubuntu-2404-lts-amd64",
    "family/ubuntu-2404-lts-amd64",
    "https://www.googleapis.com/compute/v1/projects/ubuntu-os-cloud/global/images/family/ubuntu-2404-lts-amd64",
]
SHORTHAND = ["ubuntu-os-cloud/ubuntu-2404-noble-v20260918", "ubuntu-2404-noble-v20260918"]


@pytest.mark.parametrize("source", PINNED)
def test_exact_images_pass(configured: PolicyHarness, source: str) -> None:
    assert messages(configured, "gcp_image", {"sourceImage": source}, POLICY) == []


@pytest.mark.parametrize("source", FAMILY)
def test_families_are_floating(configured: PolicyHarness, source: str) -> None:
    assert messages(configured, "gcp_image", {"sourceImage": source}, POLICY) == [
        f"GCP image 'golden' is created from the image family or floating reference '{source}', "
        f"which resolves to whatever is newest; point sourceImage at an exact image name."
    ]


@pytest.mark.parametrize("source", SHORTHAND)
def test_shorthands_may_resolve_to_a_family(configured: PolicyHarness, source: str) -> None:
    assert messages(configured, "gcp_image", {"sourceImage": source}, POLICY) == [
        f"GCP image 'golden' is created from '{source}', a shorthand the Google provider resolves "
        f"to an image of that name or, when there is none, to a family's newest image; point sourceImage at an "
        f"exact image (projects/<p>/global/images/<name>)."
    ]


def test_a_source_image_that_is_not_a_string_is_reported(configured: PolicyHarness) -> None:
    [message] = messages(configured, "gcp_image", {"sourceImage": ["family/x"]}, POLICY)
    assert "has a sourceImage that is not a string (['family/x']), so it cannot be checked" in message


def test_an_image_without_a_source_image_is_not_judged(configured: PolicyHarness) -> None:
    assert messages(configured, "gcp_image", {"sourceImage": None}, POLICY) == []


def test_the_family_shorthand_is_a_floating_reference() -> None:
    assert is_floating_reference("family/ubuntu-2404-lts-amd64")
    assert is_floating_reference("FAMILY/ubuntu-2404-lts-amd64")
    assert not is_floating_reference("projects/p/global/images/family-tree-v1")
