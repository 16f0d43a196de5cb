"""P5's layered catalog (:func:`benchmarks.measure.catalog.layered_catalog`) built from the dev catalog and from
literal ones: families, the three-deep chain, the base's own script, and the refusals; checked through the
catalog loader so the generated catalog is one the program accepts."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
import yaml

from benchmarks.measure.catalog import (
    CATALOG_KEY,
    REPO,
    descendants_of,
    dev_document,
    golden_parent,
    layered_catalog,
    layered_minimum,
    least_shared_script,
    make_project,
    script_users,
)
from golden_images.catalog import layers
from golden_images.catalog.loader import load_catalog_file


def dev() -> dict[str, Any]:
    catalog = dev_document()["config"][CATALOG_KEY]
    assert isinstance(catalog, dict)
    return catalog


def test_twenty_images_form_families_with_one_three_deep_chain() -> None:
    source = dev()
    catalog, lineage, copies = layered_catalog(source, 20)
    assert source == dev()  # the dev catalog it was built from is not modified
    parents = {image["name"]: golden_parent(image) for image in catalog["images"]}
    assert len(parents) == 20
    assert parents["base-ubuntu"] is None and parents["base-ubuntu-1"] is None
    assert parents["app-runtime"] == "base-ubuntu"
    assert parents["app-runtime-1"] == "app-runtime"  # the grandchild
    assert all(parents[f"app-runtime-{k}"] == f"base-ubuntu-{k}" for k in range(2, 10))
    assert (lineage.base, lineage.descendants) == ("base-ubuntu", ("app-runtime", "app-runtime-1"))
    assert set(lineage.layered_on) == {"aws", "gcp", "azure", "proxmox"}
    # Every layered section of the grandchild names the child (not only one platform).
    grandchild = next(i for i in catalog["images"] if i["name"] == "app-runtime-1")
    assert {grandchild[p]["parent"]["image"] for p in lineage.layered_on} == {"app-runtime"}
    # The base's own script: a copy of harden.sh that only the base uses; its descendants use neither.
    assert lineage.script == "images/base-ubuntu/harden-base-ubuntu-only.sh"
    assert copies == {lineage.script: "images/base-ubuntu/harden.sh"}
    assert lineage.copied_from == "images/base-ubuntu/harden.sh"
    users = script_users(catalog)
    assert users[lineage.script] == {"base-ubuntu"}
    assert not users["images/base-ubuntu/harden.sh"] & {"base-ubuntu", "app-runtime", "app-runtime-1"}
    assert descendants_of(catalog, {"base-ubuntu"}) == ["app-runtime", "app-runtime-1"]
    assert descendants_of(catalog, {"base-ubuntu-3"}) == ["app-runtime-3"]
    # P5's other script change skips the base's own script.
    script, script_users_ = least_shared_script(catalog, exclude=frozenset({lineage.script}))
    assert (script, len(script_users_)) == ("images/base-ubuntu/harden.sh", 9)
    assert least_shared_script(catalog)[0] == lineage.script


def test_the_generated_project_is_a_catalog_the_loader_accepts(tmp_path: Path) -> None:
    project = make_project(tmp_path / "p5", 6, layered=True)
    assert project.lineage is not None
    script = project.root / project.lineage.script
    assert script.read_text() == (REPO / project.lineage.copied_from).read_text()
    parsed = load_catalog_file(project.stack_file, root=project.root)
    first = ["base-ubuntu", "app-runtime", "base-ubuntu-1", "app-runtime-1"]
    assert [i.name for i in layers.ordered(parsed)][:4] == first
    assert layers.descendants(parsed, "base-ubuntu") == ["app-runtime", "app-runtime-1"]
    assert layers.descendants(parsed, "base-ubuntu-2") == ["app-runtime-2"]
    assert list(layers.problems(parsed)) == []
    raw = yaml.safe_load(project.stack_file.read_text())["config"][CATALOG_KEY]
    assert layered_catalog(dev(), 6)[0] == raw


def test_too_small_and_unlayered_catalogs_are_refused() -> None:
    assert layered_minimum(dev()) == 4
    catalog, lineage, _ = layered_catalog(dev(), 4)
    assert [i["name"] for i in catalog["images"]] == [
        "base-ubuntu",
        "app-runtime",
        "base-ubuntu-1",
        "app-runtime-1",
    ]
    assert lineage.descendants == ("app-runtime", "app-runtime-1")
    with pytest.raises(ValueError, match="needs at least 4 images"):
        layered_catalog(dev(), 3)
    flat = copy.deepcopy(dev())
    flat["images"] = [flat["images"][0]]
    with pytest.raises(ValueError, match="no layered image"):
        layered_catalog(flat, 10)
    # A depth-2 chain in a 2-image catalog has no unrelated image left to compare with.
    with pytest.raises(ValueError, match="no unrelated image"):
        layered_catalog(dev(), 2, depth=2)
    # The base's scripts are all used by its child too: nothing only the base sees.
    shared = copy.deepcopy(dev())
    shared["images"][1]["provision"] = copy.deepcopy(shared["images"][0]["provision"])
    with pytest.raises(ValueError, match="has no script its descendants do not use"):
        layered_catalog(shared, 4)
