"""Smoke test of the benchmark machinery on a tiny generated catalog (the benchmarks themselves are not part of
the test suite: ``python -m benchmarks``)."""

from __future__ import annotations

import json
from pathlib import Path

from benchmarks.catalog import (
    dev_document,
    generate_catalog,
    generated_catalog,
    least_shared_script,
    make_project,
)
from benchmarks.floor_program import replay
from benchmarks.run import changed_script, incremental_report
from benchmarks.worker import compare, inputs_map, task_floor, task_manifest
from golden_images.common.loader import CATALOG_KEY
from golden_images.preview.runner import run_program


def test_generated_catalog_clones_dev_images() -> None:
    dev = dev_document()["config"][CATALOG_KEY]
    catalog = generate_catalog(dev, 5)
    names = [i["name"] for i in catalog["images"]]
    assert names == ["base-ubuntu", "app-runtime", "base-ubuntu-1", "app-runtime-1", "base-ubuntu-2"]
    assert len({i["version"] for i in catalog["images"]}) == 5
    assert catalog["images"][2]["provision"] == dev["images"][0]["provision"]
    assert catalog["defaults"] == dev["defaults"]


def test_floor_declares_what_ours_declares_and_p5_counts(tmp_path: Path) -> None:
    project = make_project(tmp_path / "project", 2)  # the dev catalog itself: base-ubuntu, app-runtime
    catalog = generated_catalog(project.stack_file)
    assert "aws" in project.platforms

    # The floor registers the same (type, name) set, parents, inputs and dependencies as our program.
    manifest = tmp_path / "manifest.json"
    request = {"root": str(project.root), "stack_file": str(project.stack_file), "manifest": str(manifest)}
    made = task_manifest(request)
    data = json.loads(manifest.read_text())
    assert made["resources"] == len(data["resources"]) > 3 * 10
    assert any(r["property_dependencies"] for r in data["resources"])  # the structure is captured too
    floor = task_floor({**request, "verify": True})
    assert floor["differences"] == []
    assert floor["resources"] == made["resources"]
    assert floor["kinds"]["sdk"] > floor["kinds"].get("custom", 0)  # provider SDK classes, not raw tokens
    assert floor["kinds"]["component"] == sum(1 for r in data["resources"] if not r["custom"])

    replay.PLAN = None

    # P5: same catalog → 0 changes; one script → only the images using it change.
    first_run = run_program(project.root, "dev", stack_file=project.stack_file)
    first = inputs_map(first_run.resources)
    # compare() does notice a difference.
    tampered = json.loads(manifest.read_text())
    tampered["resources"][-1]["wire"] = {"changed": True}
    differences = compare(tampered, first_run.resources)
    assert len(differences) == 1 and differences[0].endswith("inputs differ"), differences
    second = inputs_map(run_program(project.root, "dev", stack_file=project.stack_file).resources)
    script, users = least_shared_script(catalog)
    assert script == "images/app-runtime/install-runtime.sh" and users == {"app-runtime"}
    with changed_script(project.root / script):
        third = inputs_map(run_program(project.root, "dev", stack_file=project.stack_file).resources)
    report = incremental_report(first, second, third, script, users, 2)
    assert report["unchanged_rerun_changes"] == 0
    assert report["changes_outside_users"] == 0
    assert report["images_changed"] == 1
    assert 0 < report["resources_changed"] < report["resources_of_images_using_script"]
    assert "aws:imagebuilder/component:Component" in report["changed_types"]
    assert report["met"] is True
