"""Bad GCP sections: each is reported with the stack file, the dotted field path and what is allowed, and
the program registers nothing."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from golden_images.catalog.loader import CatalogError, load_catalog
from tests.components.gcp.gcp_helpers import gcp_catalog
from tests.conftest import ROOT, RunStack, assert_refused

P = "config.golden-images:catalog"
Raw = dict[str, Any]


def _gcp(raw: Raw, image: int | None = None) -> dict[str, Any]:
    return raw["defaults"]["gcp"] if image is None else raw["images"][image]["gcp"]


def _set(key: str, value: Any, image: int | None = None) -> Callable[[Raw], None]:
    def mutate(raw: Raw) -> None:
        target = _gcp(raw, image)
        *parents, last = key.split(".")
        for part in parents:
            target = target.setdefault(part, {})
        target[last] = value

    return mutate


def _drop(key: str) -> Callable[[Raw], None]:
    return lambda raw: _gcp(raw).pop(key)


# (id, stack, mutation, dotted path, words the message must contain)
CASES: list[tuple[str, str, Callable[[Raw], None], str, str]] = [
    (
        "shared-vpc-subnetwork-in-another-project",
        "prod",
        _set(
            "subnetwork", "projects/acme-golden-prod/regions/us-central1/subnetworks/golden-build-us-central1"
        ),
        f"{P}.images[0].gcp",
        "with a Shared VPC the network and subnetwork belong to the host project",
    ),
    (
        "shared-vpc-network-in-another-project",
        "prod",
        _set("network", "projects/acme-other-host/global/networks/golden-build"),
        f"{P}.images[0].gcp",
        "network 'projects/acme-other-host/global/networks/golden-build' is in project 'acme-other-host'",
    ),
    (
        "shared-vpc-host-is-the-build-project",
        "prod",
        _set("network_project", "acme-golden-prod"),
        f"{P}.images[0].gcp",
        "is the build project itself",
    ),
    (
        "prod-family-source",
        "prod",
        _set("source_image", {"project": "ubuntu-os-cloud", "family": "ubuntu-2404-lts-amd64"}),
        f"{P}.images[0].gcp.source_image.family",
        "prod needs a pinned source image",
    ),
    (
        "image-and-family",
        "dev",
        _set("source_image.image", "ubuntu-2404-noble-amd64-v20241115"),
        f"{P}.images[0].gcp.source_image",
        "exactly one of image",
    ),
    (
        "kms-key-version",
        "dev",
        _set(
            "kms_key",
            "projects/acme-security-dev/locations/us-central1/keyRings/golden-images/cryptoKeys/images/"
            "cryptoKeyVersions/1",
        ),
        f"{P}.images[0].gcp.kms_key",
        "not a key version",
    ),
    ("kms-key-missing", "dev", _drop("kms_key"), f"{P}.images[0].gcp.kms_key", "required field is missing"),
    ("zone-outside-region", "dev", _set("zone", "europe-west1-b"), f"{P}.images[0].gcp", "is not in region"),
    (
        "pool-other-region",
        "dev",
        _set("worker_pool", "projects/acme-golden-dev/locations/europe-west1/workerPools/golden-build"),
        f"{P}.images[0].gcp",
        "private pool of the same region",
    ),
    (
        "subnetwork-other-region",
        "dev",
        _set("subnetwork", "projects/acme-golden-dev/regions/europe-west1/subnetworks/build"),
        f"{P}.images[0].gcp",
        "but the build VM runs in",
    ),
    (
        "two-storage-locations",
        "dev",
        _set("storage_locations", ["us", "eu"]),
        f"{P}.images[0].gcp.storage_locations",
        "exactly one location",
    ),
    (
        "packer-latest",
        "dev",
        _set("builder", {"packer_image": "hashicorp/packer:latest"}),
        f"{P}.images[0].gcp.builder.packer_image",
        "pin an exact version tag or a sha256 digest",
    ),
    (
        "packer-untagged",
        "dev",
        _set("builder", {"packer_image": "hashicorp/packer"}),
        f"{P}.images[0].gcp.builder.packer_image",
        "<registry>/<path>:<tag>",
    ),
    (
        "family-uppercase",
        "dev",
        _set("family", "Base_Ubuntu", image=0),
        f"{P}.images[0].gcp.family",
        "lowercase letters, digits and hyphens",
    ),
    (
        "secure-boot-without-uefi",
        "dev",
        _set("guest_os_features", ["GVNIC"]),
        f"{P}.images[0].gcp",
        "add UEFI_COMPATIBLE to guest_os_features",
    ),
    (
        "unknown-guest-feature",
        "dev",
        _set("guest_os_features", ["UEFI_COMPATIBLE", "WINDOWS"]),
        f"{P}.images[0].gcp.guest_os_features[1]",
        "'GVNIC'",
    ),
    ("unknown-key", "dev", _set("regionn", "us-central1"), f"{P}.images[0].gcp.regionn", "allowed keys here"),
    (
        "cron-six-fields",
        "dev",
        _set("schedule", {"cron": "0 3 * * 2 *"}),
        f"{P}.images[0].gcp.schedule.cron",
        "5 unix cron fields",
    ),
    (
        "project-number-missing",
        "dev",
        _drop("project_number"),
        f"{P}.images[0].gcp.project_number",
        "required field is missing",
    ),
    ("bad-project-id", "dev", _set("project", "Acme"), f"{P}.images[0].gcp.project", "GCP project id"),
    (
        "bad-machine-type",
        "dev",
        _set("machine_type", "E2 standard"),
        f"{P}.images[0].gcp.machine_type",
        "Compute Engine machine type",
    ),
    (
        "disk-too-small",
        "dev",
        _set("disk_size_gb", 5),
        f"{P}.images[0].gcp.disk_size_gb",
        "greater than or equal to 10",
    ),
    (
        "floating-source-image",
        "prod",
        _set("source_image", {"project": "ubuntu-os-cloud", "image": "latest"}),
        f"{P}.images[0].gcp.source_image.image",
        "not an exact image name",
    ),
]


@pytest.mark.parametrize(("case", "stack", "mutate", "path", "words"), CASES, ids=[c[0] for c in CASES])
def test_bad_gcp_section_is_reported_and_nothing_registered(
    run_stack: RunStack, case: str, stack: str, mutate: Callable[[Raw], None], path: str, words: str
) -> None:
    raw = gcp_catalog(stack)
    mutate(raw)
    assert_refused(run_stack(stack, raw), stack, path, words)


def test_at_least_ten_gcp_cases() -> None:
    assert len({c[0] for c in CASES}) >= 10


def test_every_gcp_problem_is_reported_together() -> None:
    raw = gcp_catalog("prod")
    _gcp(raw)["zone"] = "europe-west1-b"
    _gcp(raw)["storage_locations"] = ["us", "eu"]
    raw["images"][1]["gcp"]["family"] = "-bad"
    with pytest.raises(CatalogError) as info:
        load_catalog(raw, source="stacks/Pulumi.prod.yaml", root=ROOT, stack="prod")
    paths = {issue.path for issue in info.value.issues}
    assert {
        f"{P}.images[0].gcp.storage_locations",
        f"{P}.images[1].gcp.storage_locations",
        f"{P}.images[1].gcp.family",
    } <= paths
    assert all(issue.file == "stacks/Pulumi.prod.yaml" for issue in info.value.issues)


def test_family_source_is_allowed_outside_prod_and_defaults_apply() -> None:
    catalog = load_catalog(gcp_catalog("dev"), source="stacks/Pulumi.dev.yaml", root=ROOT, stack="dev")
    spec = catalog.images[0].gcp
    assert spec is not None
    assert (
        spec.source_image.reference == "projects/ubuntu-os-cloud/global/images/family/ubuntu-2404-lts-amd64"
    )
    assert spec.image_family("base-ubuntu") == "base-ubuntu"
    assert spec.build_zone == "us-central1-b"
    assert spec.builder.packer_image == "hashicorp/packer:1.16.1"
    assert spec.builder.gcloud_image == "gcr.io/google.com/cloudsdktool/cloud-sdk:568.0.0-slim"
    assert spec.builder.timeout_minutes == 120
    assert spec.shielded_vm.secure_boot and spec.disk_type == "pd-balanced" and spec.schedule is None


def test_digest_pinned_builder_image_is_accepted() -> None:
    raw = gcp_catalog("prod")
    _gcp(raw)["builder"] = {"packer_image": "hashicorp/packer@sha256:" + "a" * 64}
    catalog = load_catalog(raw, source="stacks/Pulumi.prod.yaml", root=ROOT, stack="prod")
    assert catalog.images[0].gcp is not None
    assert catalog.images[0].gcp.builder.packer_image.endswith("a" * 64)
