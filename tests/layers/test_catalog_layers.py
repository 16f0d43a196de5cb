"""The catalog's layering rules, through the loader: refusals name the file, the field and the chain."""

from __future__ import annotations

import copy

import pytest

from golden_images.catalog import layers
from golden_images.catalog.loader import CatalogError, load_catalog
from tests.conftest import ROOT
from tests.layers.helpers import image, layered, reparent

FILE = "stacks/Pulumi.dev.yaml"
PREFIX = "config.golden-images:catalog"


def _refusal(raw: object, path: str) -> str:
    with pytest.raises(CatalogError) as caught:
        load_catalog(raw, source=FILE, root=ROOT, stack="dev")
    lines = [str(i) for i in caught.value.issues if i.path == f"{PREFIX}.{path}"]
    assert lines, [str(i) for i in caught.value.issues]
    assert all(line.startswith(f"{FILE}: {PREFIX}.{path}: ") for line in lines)
    return lines[0]


def test_a_layered_catalog_loads_and_orders_parents_first() -> None:
    raw = layered("dev")
    # The parent is listed after its child: the order of declaration must not matter.
    raw["images"].reverse()
    catalog = load_catalog(raw, source=FILE, root=ROOT, stack="dev")
    assert [i.name for i in catalog.images] == ["app-runtime", "base-ubuntu"]
    assert [i.name for i in layers.ordered(catalog)] == ["base-ubuntu", "app-runtime"]
    child = catalog.image("app-runtime")
    assert child.aws.parent.image == "base-ubuntu"
    # The defaults' vendor parent is not merged into a layered section (it would be a second parent).
    assert child.aws.parent.ssm_parameter is None
    assert layers.ancestors(catalog, "app-runtime") == ["base-ubuntu"]
    assert layers.descendants(catalog, "base-ubuntu") == ["app-runtime"]


def test_self_reference_is_refused() -> None:
    raw = layered("dev")
    reparent(image(raw, "base-ubuntu"), "base-ubuntu")
    assert "names itself as its parent" in _refusal(raw, "images[0].aws.parent.image")


def test_a_cycle_is_refused_with_the_chain_named() -> None:
    raw = layered("dev")
    reparent(image(raw, "base-ubuntu"), "app-runtime")
    line = _refusal(raw, "images[0].aws.parent.image")
    assert "base-ubuntu -> app-runtime -> base-ubuntu" in line
    assert "app-runtime -> base-ubuntu -> app-runtime" in _refusal(raw, "images[1].aws.parent.image")


def test_a_three_image_cycle_names_every_link() -> None:
    raw = layered("dev")
    third = copy.deepcopy(image(raw, "app-runtime"))
    third["name"] = "app-web"
    raw["images"].append(third)  # app-web -> base-ubuntu
    reparent(image(raw, "base-ubuntu"), "app-web")
    reparent(image(raw, "app-web"), "app-runtime")
    line = _refusal(raw, "images[0].aws.parent.image")
    assert "base-ubuntu -> app-web -> app-runtime -> base-ubuntu" in line


def test_an_unknown_parent_is_refused() -> None:
    raw = layered("dev")
    reparent(image(raw, "app-runtime"), "base-ubunt")
    line = _refusal(raw, "images[1].aws.parent.image")
    assert "'base-ubunt' is not in this catalog" in line


def test_a_parent_lacking_the_platform_is_refused() -> None:
    raw = layered("dev")
    del image(raw, "base-ubuntu")["aws"]
    line = _refusal(raw, "images[1].aws.parent.image")
    assert "'base-ubuntu' has no aws section" in line


@pytest.mark.parametrize(
    ("fact", "value"), [("family", "debian"), ("release", "22.04"), ("architecture", "arm64"), ("lts", False)]
)
def test_a_child_contradicting_the_parents_os_is_refused(fact: str, value: object) -> None:
    raw = layered("dev")
    image(raw, "app-runtime")["os"][fact] = value
    line = _refusal(raw, f"images[1].os.{fact}")
    assert "builds on 'base-ubuntu'" in line and "inherits its parent's OS" in line


def test_different_parents_per_platform_are_refused() -> None:
    raw = layered("dev")
    image(raw, "app-runtime")["gcp"]["parent"] = {"image": "app-runtime"}
    assert (
        "name different golden parents (aws: base-ubuntu, azure: base-ubuntu, gcp: app-runtime, proxmox: base-ubuntu)"
        in _refusal(raw, "images[1].aws.parent.image")
    )


def test_a_layered_gcp_section_does_not_inherit_the_default_source() -> None:
    catalog = load_catalog(layered("dev"), source=FILE, root=ROOT, stack="dev")
    child = catalog.image("app-runtime")
    assert child.gcp.parent.image == "base-ubuntu" and child.gcp.source is None
    assert child.azure.parent.image == "base-ubuntu" and child.azure.vendor_source is None


def test_a_gcp_section_with_both_a_source_and_a_parent_is_refused() -> None:
    raw = layered("dev")
    image(raw, "app-runtime")["gcp"]["source_image"] = {
        "project": "ubuntu-os-cloud",
        "family": "ubuntu-2404-lts-amd64",
    }
    assert "exactly one of source_image (a vendor image) or parent" in _refusal(raw, "images[1].gcp")


def test_a_golden_parent_excludes_a_vendor_parent() -> None:
    raw = layered("dev")
    image(raw, "app-runtime")["aws"]["parent"]["ami"] = "ami-0123456789abcdef0"
    assert "exactly one of ami, image_builder_arn, ssm_parameter or image" in _refusal(
        raw, "images[1].aws.parent"
    )
