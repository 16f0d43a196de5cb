"""Figures, verdicts and diffs of the benchmarks from literal samples (no measuring): the numbers a reader
would compute by hand."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from benchmarks import compare, render
from benchmarks.run import load_result


def runs(wall: list[float], cpu: list[float], **extra: Any) -> list[dict[str, Any]]:
    return [{"seconds": w, "cpu_seconds": c, **extra} for w, c in zip(wall, cpu, strict=True)]


def test_summary_is_median_min_max_and_count() -> None:
    assert compare.summary([3.0, 1.0, 2.0, 10.0]) == {"median": 2.5, "min": 1.0, "max": 10.0, "runs": 4}
    assert compare.summary([])["runs"] == 0


def test_pair_judges_on_cpu_when_both_sides_have_it() -> None:
    # Wall 3.0 (over target 1.3) but CPU 1.2: on a loaded machine the CPU ratio decides.
    figures = compare.pair(runs([1, 1, 1], [5, 5, 6]), runs([3, 3, 3], [6, 6, 7]), 1.3)
    assert figures["ratio"] == {"wall": 3.0, "cpu": 1.2}
    assert (figures["judged_on"], figures["met"]) == ("cpu", True)
    only_wall = compare.pair([{"seconds": 1.0}], [{"seconds": 1.4}], 1.3)
    assert only_wall["ratio"] == pytest.approx({"wall": 1.4})
    assert (only_wall["judged_on"], only_wall["met"]) == ("wall", False)


def size(images: int, floor_cpu: float, ours_cpu: float) -> dict[str, Any]:
    sample = {"resources": images * 50, "peak_rss_kib": images * 6 * 1024}
    return {
        "images": images,
        "floor": runs([floor_cpu] * 3, [floor_cpu] * 3, **sample),
        "ours": runs([ours_cpu] * 3, [ours_cpu] * 3, **sample),
    }


def test_p3_is_our_growth_over_the_floors_growth() -> None:
    # The floor grows 11x (5 -> 55 s), ours 11.27x (5.5 -> 62 s): 1.02, met, although 62 / 5.5 is above 11.
    p3 = compare.p3_figures({"small": size(20, 5.0, 5.5), "large": size(200, 55.0, 62.0)})
    assert p3["floor_growth"]["cpu"] == pytest.approx(11.0)
    assert p3["ours_growth"]["cpu"] == pytest.approx(62 / 5.5)
    assert p3["ratio"]["cpu"] == pytest.approx(1.0248, abs=1e-4)
    assert p3["ratio"]["cpu"] == pytest.approx(p3["large"]["ratio"]["cpu"] / p3["small"]["ratio"]["cpu"])
    assert (p3["target"], p3["met"], p3["linear"]) == (1.1, True, 10.0)
    assert p3["large"]["peak_rss_mib"] == {"floor": 1200.0, "ours": 1200.0}
    # Ours 12x while the floor grows 10x: 1.2, not met.
    worse = compare.p3_figures({"small": size(20, 5.0, 5.0), "large": size(200, 50.0, 60.0)})
    assert worse["ratio"]["cpu"] == pytest.approx(1.2)
    assert worse["met"] is False


def preview_figures(p1: float, p2: float, p3: float) -> dict[str, Any]:
    def judged(value: float, target: float) -> dict[str, Any]:
        return {
            "ratio": {"wall": value, "cpu": value},
            "target": target,
            "judged_on": "cpu",
            "met": value <= target,
        }

    return {
        "kind": "preview",
        "meta": {},
        "P1": judged(p1, 1.3),
        "P2": {**judged(p2, 2.0), "vs_same_count": {"ratio": {"wall": 1.1, "cpu": 1.13}}},
        "P3": judged(p3, 1.1),
    }


def test_diff_names_regressions_improvements_and_target_crossings() -> None:
    before = preview_figures(p1=1.09, p2=3.04, p3=1.05)
    after = preview_figures(p1=1.30, p2=2.50, p3=1.08)
    rows = {row["name"]: row for row in compare.diff(before, after)}
    assert rows["P1"]["status"] == "regressed" and rows["P1"]["change"] == pytest.approx(0.1927, abs=1e-4)
    assert rows["P2"]["status"] == "improved"
    assert rows["P3"]["status"] == "same"
    assert rows["P2 vs same-count no-op"]["status"] == "same"
    # +4 % only, but across the target: a regression.
    crossed = {
        r["name"]: r for r in compare.diff(preview_figures(1.0, 1.0, 1.07), preview_figures(1.0, 1.0, 1.11))
    }
    assert crossed["P3"]["status"] == "regressed"
    back = {
        r["name"]: r for r in compare.diff(preview_figures(1.0, 1.0, 1.11), preview_figures(1.0, 1.0, 1.07))
    }
    assert back["P3"]["status"] == "improved"
    partial = {"kind": "preview", "meta": {}, "P1": preview_figures(1.0, 1.0, 1.0)["P1"]}
    assert {r["name"]: r["status"] for r in compare.diff(partial, before)}["P2"] == "new"
    text = render.render_diff(compare.diff(before, after))
    assert "P1                           1.09 -> 1.30 (+19%) (target <= 1.3) regressed" in text


def audit_raw(
    audit_s: list[tuple[float, float]], floor_s: list[tuple[float, float]], floor_calls: dict[str, int]
) -> dict[str, Any]:
    """(wall, CPU) seconds per round of each side."""

    def rounds(values: list[tuple[float, float]], rss: float) -> list[dict[str, Any]]:
        return [
            {"seconds": w, "cpu_seconds": c, "server_cpu_seconds": c / 2, "peak_rss_mb": rss}
            for w, c in values
        ]

    return {
        "meta": {"amis_per_region": 300, "regions": ["a", "b", "c"], "runs": len(audit_s)},
        "audit": {"runs": rounds(audit_s, 120.0), "findings": 700},
        "floor": {"runs": rounds(floor_s, 100.0), "images": 900},
        "custodian": {"skipped": "disabled"},
        "calls": {"audit": {"ec2:DescribeImages": 3, "imagebuilder:GetImage": 850}, "floor": floor_calls},
    }


def test_audit_ratio_and_the_call_check() -> None:
    same_calls = {"ec2:DescribeImages": 3, "imagebuilder:GetImage": 850}
    # Wall 10 / 8.5 = 1.18, CPU 21 / 20 = 1.05: judged on CPU (the machine's load is in the wall time).
    figures = compare.audit_figures(
        audit_raw(
            [(9.0, 20.0), (11.0, 22.0), (10.0, 21.0)], [(9.0, 19.0), (8.0, 20.0), (8.5, 20.0)], same_calls
        )
    )
    assert figures["ratios"]["audit_vs_floor"] == {
        "ratio": pytest.approx(1.05),
        "judged_on": "cpu",
        "wall_ratio": pytest.approx(10 / 8.5),
        "cpu_ratio": pytest.approx(1.05),
        "target": 1.2,
        "met": True,
    }
    assert figures["audit"]["server_cpu"]["median"] == 10.5
    assert "audit_vs_custodian" not in figures["ratios"]
    assert figures["calls"]["identical"] is True and figures["calls"]["total"] == {"audit": 853, "floor": 853}
    assert figures["audit"]["findings"] == 700
    text = render.render(figures)
    assert "audit_vs_floor: 1.05x cpu (target <= 1.2x) met; wall 1.18x" in text
    assert "API calls per round: audit 853, floor 853 (identical)" in text
    assert re.search(r"custodian +skipped: disabled", text)
    # The old floor (no GetImage): the check names the operation.
    old = compare.audit_figures(audit_raw([(10.0, 21.0)], [(5.6, 10.0)], {"ec2:DescribeImages": 3}))
    assert old["calls"]["differences"] == {"imagebuilder:GetImage": {"audit": 850, "floor": 0}}
    assert old["ratios"]["audit_vs_floor"]["ratio"] == pytest.approx(2.1)
    assert old["ratios"]["audit_vs_floor"]["met"] is False
    assert "DIFFERENT" in render.render(old)
    table = render.render(old, "markdown")
    assert "| audit | 10.00 s (10.00-10.00) | 21.00 s (21.00-21.00) | 120.0 MB (in run) | - | - |" in table
    assert "audit/floor **2.10x** (cpu) | ≤ 1.2x **not met** |" in table


def test_incremental_report_counts_by_owning_image() -> None:
    def res(kind: str, name: str, parent: str, wire: dict[str, Any]) -> dict[str, Any]:
        return {"type": kind, "name": name, "parent": parent, "wire": wire}

    image = "golden-images:index:GoldenImage"
    first = {
        "a": res(image, "app", "", {}),
        "a/doc": res("aws:imagebuilder/component:Component", "app-doc", "a", {"data": "v1"}),
        "a/obj1": res("gcp:storage/bucketObject:BucketObject", "app-obj-1", "a", {}),
        "b": res(image, "base", "", {}),
        "b/doc": res("aws:imagebuilder/component:Component", "base-doc", "b", {"data": "v1"}),
    }
    changed = {k: v for k, v in first.items() if k != "a/obj1"}
    changed["a/doc"] = res("aws:imagebuilder/component:Component", "app-doc", "a", {"data": "v2"})
    changed["a/obj2"] = res("gcp:storage/bucketObject:BucketObject", "app-obj-2", "a", {})
    report = compare.incremental_report(first, dict(first), changed, "images/app/x.sh", {"app"}, 2)
    assert report["unchanged_rerun_changes"] == 0
    assert (report["resources_changed"], report["resources_added"], report["resources_removed"]) == (3, 1, 1)
    assert (report["images_changed"], report["changes_outside_users"], report["met"]) == (1, 0, True)
    assert report["changed_per_image"] == [3]
    leaked = dict(
        changed, **{"b/doc": res("aws:imagebuilder/component:Component", "base-doc", "b", {"data": "v2"})}
    )
    bad = compare.incremental_report(first, dict(first), leaked, "images/app/x.sh", {"app"}, 2)
    assert (bad["changes_outside_users"], bad["met"]) == (1, False)


def test_a_saved_result_that_is_not_one_is_refused_with_its_name(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    broken = tmp_path / "old.json"
    broken.write_text("{not json")
    with pytest.raises(SystemExit) as exited:
        load_result(broken)
    assert exited.value.code == 2
    assert re.search(r"--compare .*old\.json: not a readable benchmark result", capsys.readouterr().err)
    broken.write_text(json.dumps({"P1": {}}))
    with pytest.raises(SystemExit) as exited:
        load_result(broken)
    assert exited.value.code == 2
    assert "old.json: no 'meta' field, not a benchmark result; pass a --save" in capsys.readouterr().err
