"""Bad ``azure`` sections: each is reported with the stack file, the dotted field path and what is allowed, and
the program registers nothing."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from golden_images.catalog.loader import CatalogError, load_catalog
from tests.conftest import ROOT, RunStack, assert_refused, stack_catalog

P = "config.golden-images:catalog.images[0].azure"
Raw = dict[str, Any]
SUB = "22222222-2222-4222-8222-222222222222"
GALLERY_VERSION = (
    f"/subscriptions/{SUB}/resourceGroups/rg-base/providers/Microsoft.Compute/galleries/base_gallery/images/"
    "base-ubuntu/versions/"
)


def _az(raw: Raw) -> dict[str, Any]:
    return raw["defaults"]["azure"]


def _set(mutate: Callable[[dict[str, Any]], None]) -> Callable[[Raw], None]:
    def apply(raw: Raw) -> None:
        mutate(_az(raw))

    return apply


def _region(index: int, value: Any) -> Callable[[dict[str, Any]], None]:
    return lambda az: az["replication"][index].__setitem__("region", value)


CASES: list[tuple[str, str, Callable[[Raw], None], str, str]] = [
    (
        "gallery-prefix-too-long-for-80-character-gallery-names",
        "staging",
        _set(lambda az: az.__setitem__("gallery_prefix", "g" * 32)),
        f"{P}.gallery_prefix",
        "at most 31 keep the gallery name <prefix>_<env>_<image> within Azure's 80 characters",
    ),
    (
        "marketplace-latest",
        "dev",
        _set(lambda az: az["source"]["marketplace"].__setitem__("version", "latest")),
        f"{P}.source.marketplace.version",
        "not an exact marketplace image version; write Major.Minor.Build",
    ),
    (
        "two-sources",
        "dev",
        _set(lambda az: az["source"].__setitem__("gallery_image_version_id", GALLERY_VERSION + "1.0.0")),
        f"{P}.source",
        "set exactly one of marketplace or gallery_image_version_id (got marketplace, gallery_image_version_id)",
    ),
    (
        "gallery-source-latest",
        "dev",
        _set(lambda az: az.__setitem__("source", {"gallery_image_version_id": GALLERY_VERSION + "latest"})),
        f"{P}.source.gallery_image_version_id",
        "is not an exact int.int.int version",
    ),
    (
        "gallery-source-beyond-32-bit",
        "dev",
        _set(
            lambda az: az.__setitem__(
                "source", {"gallery_image_version_id": GALLERY_VERSION + "1.0.2147483648"}
            )
        ),
        f"{P}.source.gallery_image_version_id",
        "is not an exact int.int.int version",
    ),
    (
        "region-display-name",
        "staging",
        _set(_region(1, "North Europe")),
        f"{P}.replication[1].region",
        "use the lowercase ARM name such as 'westeurope'",
    ),
    (
        "duplicate-region",
        "staging",
        _set(_region(1, "westeurope")),
        f"{P}.replication",
        "region(s) westeurope listed more than once",
    ),
    (
        "location-not-replicated",
        "dev",
        _set(lambda az: az.__setitem__("location", "northeurope")),
        f"{P}.replication",
        "replication must include the build location 'northeurope'",
    ),
    (
        "zero-replicas",
        "dev",
        _set(lambda az: az["replication"][0].__setitem__("replica_count", 0)),
        f"{P}.replication[0].replica_count",
        "greater than or equal to 1",
    ),
    (
        "storage-type",
        "dev",
        _set(lambda az: az["replication"][0].__setitem__("storage_account_type", "Premium_ZRS")),
        f"{P}.replication[0].storage_account_type",
        "'Standard_LRS', 'Standard_ZRS' or 'Premium_LRS'",
    ),
    (
        "des-missing-region",
        "staging",
        _set(lambda az: az["disk_encryption_sets"].pop("northeurope")),
        f"{P}.disk_encryption_sets",
        "no disk encryption set for replication region(s) northeurope; a DES is regional",
    ),
    (
        "des-extra-region",
        "staging",
        _set(
            lambda az: az["disk_encryption_sets"].__setitem__(
                "eastus", az["disk_encryption_sets"]["westeurope"].replace("westeurope", "eastus")
            )
        ),
        f"{P}.disk_encryption_sets",
        "region(s) eastus are not replication regions",
    ),
    (
        "des-not-an-id",
        "staging",
        _set(lambda az: az["disk_encryption_sets"].__setitem__("westeurope", "des-golden-images-westeurope")),
        f"{P}.disk_encryption_sets",
        "is not a disk encryption set id; write /subscriptions/<guid>/resourceGroups/<rg>/providers/"
        "Microsoft.Compute/diskEncryptionSets/<name>",
    ),
    (
        "prod-without-cmk",
        "prod",
        _set(lambda az: az.pop("disk_encryption_sets")),
        f"{P}.disk_encryption_sets",
        "prod needs customer-managed keys: map every replication region to a disk encryption set "
        "(westeurope, northeurope, germanywestcentral)",
    ),
    (
        "prod-without-subnet",
        "prod",
        _set(lambda az: az.pop("subnet_id")),
        f"{P}.subnet_id",
        "prod builds run on a private subnet: set subnet_id",
    ),
    (
        "subnet-not-an-id",
        "dev",
        _set(lambda az: az.__setitem__("subnet_id", "snet-image-builder")),
        f"{P}.subnet_id",
        "is not a subnet id; write /subscriptions/<guid>/resourceGroups/<rg>/providers/Microsoft.Network/",
    ),
    (
        "subscription-not-a-guid",
        "dev",
        _set(lambda az: az.__setitem__("subscription_id", "my-subscription")),
        f"{P}.subscription_id",
        "is not an Azure subscription id (a GUID",
    ),
    (
        "trusted-launch-gen1",
        "dev",
        _set(lambda az: az["image_definition"].__setitem__("hyper_v_generation", "V1")),
        f"{P}.image_definition",
        "security_type TrustedLaunchSupported needs hyper_v_generation V2",
    ),
    (
        "created-group-with-name",
        "dev",
        _set(lambda az: az["resource_group"].__setitem__("name", "rg-shared")),
        f"{P}.resource_group",
        "with create: true the group is named rg-golden-images-<env>-<image>; remove name",
    ),
    (
        "unknown-key",
        "dev",
        _set(lambda az: az.__setitem__("gallery_name", "shared")),
        f"{P}.gallery_name",
        "unknown key 'gallery_name'; allowed keys here: bake_on_up, build_timeout_minutes",
    ),
    (
        "build-timeout",
        "dev",
        _set(lambda az: az.__setitem__("build_timeout_minutes", 2000)),
        f"{P}.build_timeout_minutes",
        "less than or equal to 960",
    ),
    (
        "async-bake-with-cmk",
        "staging",
        _set(lambda az: az.__setitem__("wait_for_build", False)),
        f"{P}.wait_for_build",
        "disk_encryption_sets need wait_for_build: true when bake_on_up is true",
    ),
    (
        "vm-size",
        "dev",
        _set(lambda az: az.__setitem__("vm_size", "D2ds_v5")),
        f"{P}.vm_size",
        "should match pattern",
    ),
    (
        "os-type-windows",
        "dev",
        _set(lambda az: az["image_definition"].__setitem__("os_type", "Windows")),
        f"{P}.image_definition.os_type",
        "Input should be 'Linux'",
    ),
]


@pytest.mark.parametrize(
    ("stack", "mutate", "path", "fragment"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_bad_azure_section_is_reported_and_nothing_registered(
    run_stack: RunStack, stack: str, mutate: Callable[[Raw], None], path: str, fragment: str
) -> None:
    catalog = stack_catalog(stack)
    mutate(catalog)
    assert_refused(run_stack(stack, catalog), stack, path, fragment)


def test_every_problem_is_reported_at_once() -> None:
    raw = stack_catalog("staging")
    az = _az(raw)
    az["subscription_id"] = "nope"
    az["replication"][1]["region"] = "North Europe"
    az["source"]["marketplace"]["version"] = "latest"
    with pytest.raises(CatalogError) as info:
        load_catalog(raw, source="stacks/Pulumi.staging.yaml", root=ROOT, stack="staging")
    paths = {issue.path for issue in info.value.issues}
    base, child = (f"config.golden-images:catalog.images[{i}].azure" for i in (0, 1))
    assert {
        f"{base}.subscription_id",
        f"{base}.replication[1].region",
        f"{base}.source.marketplace.version",
    } <= paths
    assert {f"{child}.subscription_id", f"{child}.replication[1].region"} <= paths
    # app-runtime is layered on base-ubuntu (#15): it builds from base-ubuntu's gallery version and does not
    # inherit the marketplace source from the defaults, so the bad source version is base-ubuntu's alone.
    assert not [p for p in paths if p.startswith(f"{child}.source")]
    assert all(issue.file == "stacks/Pulumi.staging.yaml" for issue in info.value.issues)


def test_image_section_overrides_defaults() -> None:
    raw = stack_catalog("dev")
    raw["images"][1]["azure"] = {
        "os_disk_size_gb": 64,
        "replication": [{"region": "westeurope", "replica_count": 3}],
    }
    catalog = load_catalog(raw, source="stacks/Pulumi.dev.yaml", root=ROOT, stack="dev")
    spec = catalog.images[1].azure
    assert spec is not None
    assert spec.os_disk_size_gb == 64 and spec.replication[0].replica_count == 3
    assert spec.replication[0].storage_account_type == "Standard_ZRS"  # list replaced, model default applies
    assert spec.location == "westeurope" and not spec.uses_cmk


def test_longest_allowed_gallery_name_fits_azure() -> None:
    from golden_images.platforms.azure.component import gallery_name

    raw = stack_catalog("staging")
    raw["defaults"]["azure"]["gallery_prefix"] = "g" * 31
    raw["images"][0]["name"] = "a" * 40
    # app-runtime is layered on images[0] (#15) on every platform: it follows the rename.
    for section in raw["images"][1].values():
        if isinstance(section, dict) and isinstance(section.get("parent"), dict):
            section["parent"]["image"] = "a" * 40
    catalog = load_catalog(raw, source="stacks/Pulumi.staging.yaml", root=ROOT, stack="staging")
    spec = catalog.images[0].azure
    assert spec is not None
    assert len(gallery_name(spec, "staging", catalog.images[0].name)) == 80
    child = catalog.images[1].azure
    assert child is not None and child.parent is not None and child.parent.image == "a" * 40
