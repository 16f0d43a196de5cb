"""Smoke test of the benchmark machinery on the dev catalog (the benchmarks themselves are not part of the test
suite: ``python -m benchmarks``). Everything that runs a Pulumi program runs in the benchmark's own worker
processes, so nothing here changes this process's Pulumi settings, floor plan or CPU affinity."""

from __future__ import annotations

import json
import os
from pathlib import Path
from types import SimpleNamespace

import pytest

from benchmarks import compare, render
from benchmarks.floor_program import replay
from benchmarks.measure import preview
from benchmarks.measure.catalog import CATALOG_KEY, dev_document, generate_catalog
from benchmarks.measure.worker import compare as compare_registrations


def test_generated_catalog_clones_dev_images() -> None:
    dev = dev_document()["config"][CATALOG_KEY]
    catalog = generate_catalog(dev, 5)
    names = [i["name"] for i in catalog["images"]]
    assert names == ["base-ubuntu", "app-runtime", "base-ubuntu-1", "app-runtime-1", "base-ubuntu-2"]
    assert len({i["version"] for i in catalog["images"]}) == 5
    assert catalog["images"][2]["provision"] == dev["images"][0]["provision"]
    assert catalog["defaults"] == dev["defaults"]


@pytest.mark.slow
def test_p1_and_p5_on_the_dev_catalog(tmp_path: Path) -> None:
    """P1 on the dev catalog itself (2 images) and P5 on its smallest layered catalog (4 images), 1 run each,
    then judged and rendered: what ``python -m benchmarks --only P1,P5`` does (8 worker processes, ~35 s of
    CPU)."""
    affinity = os.sched_getaffinity(0)
    raw = preview.measure(tmp_path, {"P1", "P5"}, runs=1, images=2)
    assert os.sched_getaffinity(0) == affinity  # only the workers are pinned
    figures = compare.suite_figures(raw)

    # The floor registers the same (type, name) set, parents, inputs and dependencies as our program.
    p1 = figures["P1"]
    assert "aws" in p1["platforms"]
    assert p1["floor_differences"] == []
    assert p1["floor_equivalent"] is True
    kinds = p1["floor_kinds"]
    assert sum(kinds.values()) == p1["resources"] > 3 * 10
    assert kinds["sdk"] > kinds.get("custom", 0)  # provider SDK classes, not raw tokens
    assert p1["ratio"]["cpu"] > 0 and p1["judged_on"] == "cpu"
    assert replay.PLAN is None

    # The registration comparison the floor check relies on does notice a changed input.
    manifest = json.loads((tmp_path / "manifest-2.json").read_text())
    assert any(r["property_dependencies"] for r in manifest["resources"])  # the structure is captured too
    registrations = [
        SimpleNamespace(
            type=e["type"],
            name=e["name"],
            parent=e["parent"],
            custom=e["custom"],
            wire_inputs=None,
            inputs=e["wire"],
        )
        for e in manifest["resources"]
    ]
    assert compare_registrations(manifest, registrations) == []
    tampered = json.loads(json.dumps(manifest))
    tampered["resources"][-1]["wire"] = {"changed": True}
    differences = compare_registrations(tampered, registrations)
    assert len(differences) == 1 and differences[0].endswith("inputs differ"), differences

    # P5 runs on the layered catalog (4 images: base-ubuntu <- app-runtime <- app-runtime-1, and base-ubuntu-1).
    # Same catalog -> 0 changes; the least shared script -> only the images using it change.
    p5 = figures["P5"]
    assert p5["images"] == 4
    assert p5["script"] == "images/base-ubuntu/harden.sh" and p5["images_using_script"] == 1
    assert p5["unchanged_rerun_changes"] == 0
    assert p5["changes_outside_users"] == 0
    assert p5["images_changed"] == p5["images_affected"] == 1
    assert 0 < p5["resources_changed"] < p5["resources_of_images_using_script"]
    assert "aws:imagebuilder/component:Component" in p5["changed_types"]
    assert p5["met"] is True
    # The base's own script -> the base and both descendants change on every platform, base-ubuntu-1 not at all.
    chain = p5["layered"]
    assert (chain["base"], chain["descendants"]) == ("base-ubuntu", ["app-runtime", "app-runtime-1"])
    assert chain["unrelated_images"] == 1 and chain["unrelated_changed"] == 0
    assert all(count > 0 for count in chain["changed_per_image"].values())
    assert chain["base_changed"] + chain["descendants_changed"] == chain["resources_changed"]
    assert chain["fingerprints_changed"] == 3
    assert (
        chain["platform_components_changed"] == chain["platform_components_total"] == 3 * len(p1["platforms"])
    )
    assert chain["layered_on"] == chain["catalog_platforms"] == p1["platforms"]
    assert all(chain["fingerprint_carriers"].values()) and chain["stale_fingerprint_resources"] == []
    assert chain["met"] is True

    # Rendered, saved and read back: the same ratios, and a diff against itself changes nothing.
    text = render.render(figures)
    assert "identical types, names, parents, inputs" in text
    assert f"P1 {p1['ratio']['cpu']:.2f} <= 1.3 (cpu)" in text
    saved = tmp_path / "result.json"
    saved.write_text(render.render(figures, "json"))
    again = json.loads(saved.read_text())
    assert again["P1"]["ratio"] == p1["ratio"]
    assert [row["status"] for row in compare.diff(again, figures)] == ["same"]
    table = render.render(figures, "markdown")
    assert "| P1 |" in table
    assert f"changed {chain['resources_changed']} of {chain['resources']} resources: base" in table
    assert "unrelated 0 on the chain's change met" in text


def test_floor_plan_is_set_only_while_planned() -> None:
    plan = replay.FloorPlan(steps=[], outputs={})
    assert replay.PLAN is None
    with replay.planned(plan):
        assert replay.PLAN is plan
    assert replay.PLAN is None
    with pytest.raises(RuntimeError, match="boom"), replay.planned(plan):
        raise RuntimeError("boom")
    assert replay.PLAN is None
    with pytest.raises(RuntimeError, match="no floor plan"):
        replay.replay()
