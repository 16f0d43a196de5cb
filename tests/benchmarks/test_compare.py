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


# --- P5 on a layered catalog ----------------------------------------------------------------------------------

IMAGE = "golden-images:index:GoldenImage"
BASE_FP, CHILD_FP, GRAND_FP, OTHER_FP = ("a" * 64, "b" * 64, "c" * 64, "d" * 64)


def chain_run(fingerprints: dict[str, str], wires: dict[str, str]) -> dict[str, Any]:
    """Four images (base <- child <- grandchild, and an unrelated one), each with an aws and a gcp platform
    component: an AWS recipe whose name carries the image's fingerprint prefix (``wires`` overrides its
    component data) and a GCS object named by its content."""
    run: dict[str, Any] = {}
    for name, fingerprint in fingerprints.items():
        top = f"urn::{name}"
        run[top] = {"type": IMAGE, "name": name, "parent": "stack", "wire": {"fingerprint": fingerprint}}
        for platform, kind in (("aws", "AwsGoldenImage"), ("gcp", "GcpGoldenImage")):
            component = f"{top}/{platform}"
            run[component] = {
                "type": f"golden-images:index:{kind}",
                "name": f"{name}-{platform}",
                "parent": top,
                "wire": {"imageName": name},
            }
        run[f"{top}/aws/recipe"] = {
            "type": "aws:imagebuilder/imageRecipe:ImageRecipe",
            "name": f"{name}-aws-recipe",
            "parent": f"{top}/aws",
            "wire": {"name": f"{name}-dev-{fingerprint[:10]}", "components": wires.get(name, "v1")},
        }
        run[f"{top}/aws/role"] = {
            "type": "aws:iam/role:Role",
            "name": f"{name}-aws-role",
            "parent": f"{top}/aws",
            "wire": {"assumeRolePolicy": "{}"},
        }
        content = wires.get(name, "v1")
        run[f"{top}/gcp/object-{content}"] = {
            "type": "gcp:storage/bucketObject:BucketObject",
            "name": f"{name}-gcp-object-{content}",
            "parent": f"{top}/gcp",
            "wire": {"content": content},
        }
    return run


BEFORE_FPS = {"base": BASE_FP, "child": CHILD_FP, "grand": GRAND_FP, "other": OTHER_FP}
#: What the chain fingerprints do when the base's own script changes: base, child and grandchild change.
AFTER_FPS = {"base": "e" * 64, "child": "f" * 64, "grand": "0" * 64, "other": OTHER_FP}


def layered(after: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
    before = chain_run(BEFORE_FPS, {})
    return compare.layered_report(
        before, after, "base", ["child", "grand"], "images/base/harden-base-only.sh", 4, **kwargs
    )


def test_layered_report_counts_base_descendants_and_unrelated() -> None:
    # Base: its script changed (component data v2); child and grandchild only through the chain fingerprint.
    after = chain_run(AFTER_FPS, {"base": "v2"})
    report = layered(after, platforms=["aws", "gcp"], layered_on=["aws", "gcp"])
    # Per image: GoldenImage (fingerprint) + recipe (name) = 2; the base also replaces its GCS object (+2).
    assert report["changed_per_image"] == {"base": 4, "child": 2, "grand": 2}
    assert (report["resources"], report["resources_changed"]) == (24, 8)
    assert (report["base_changed"], report["descendants_changed"], report["unrelated_changed"]) == (4, 4, 0)
    assert (report["resources_added"], report["resources_removed"], report["unrelated_images"]) == (1, 1, 1)
    assert report["fingerprints_changed"] == 3 and report["fingerprint_unchanged"] == []
    assert (report["platform_components_changed"], report["platform_components_total"]) == (4, 6)
    # The grandchild's and child's gcp builds did not change (their objects hold no fingerprint) -> named.
    assert report["not_changed"] == ["child: child-gcp unchanged", "grand: grand-gcp unchanged"]
    assert report["fingerprint_carriers"] == {"base": 2, "child": 2, "grand": 2}
    assert report["met"] is False


def passing_after() -> dict[str, Any]:
    """Every chain image's GCS object replaced too (the build's content carries the parent's output)."""
    return chain_run(AFTER_FPS, {"base": "v2", "child": "v3", "grand": "v4"})


def test_layered_report_is_met_when_exactly_the_chain_changes() -> None:
    report = layered(passing_after(), platforms=["aws", "gcp"], layered_on=["aws", "gcp"])
    assert report["changed_per_image"] == {"base": 4, "child": 4, "grand": 4}
    assert (report["resources_changed"], report["unrelated_changed"]) == (12, 0)
    assert (report["platform_components_changed"], report["platform_components_total"]) == (6, 6)
    assert report["not_changed"] == [] and report["stale_fingerprint_resources"] == []
    assert report["met"] is True
    line = render.layered_line(report)
    assert line.startswith(
        "layered: images/base/harden-base-only.sh (used by base only) edited: changed 12 of 24 resources: "
        "base 4, descendants 8 (child 4, grand 4), unrelated 0 (of 1 unrelated images); chain fingerprints "
        "changed 3 of 3, platform builds changed 6 of 6, layered on aws, gcp -> ok"
    )


def test_layered_report_fails_when_an_unrelated_resource_changes() -> None:
    after = passing_after()
    after["urn::other/aws/role"]["wire"] = {"assumeRolePolicy": '{"changed": true}'}
    report = layered(after)
    assert (report["unrelated_changed"], report["unrelated_examples"]) == (1, ["urn::other/aws/role"])
    assert report["descendants_changed"] == 8
    assert report["met"] is False
    assert "FAILED (unrelated changed: other/aws/role)" in render.layered_line(report)


def test_layered_report_fails_when_a_descendant_does_not_change() -> None:
    # The grandchild keeps its old fingerprint and builds: the chain stopped at the child.
    fingerprints = dict(AFTER_FPS, grand=GRAND_FP)
    after = chain_run(fingerprints, {"base": "v2", "child": "v3"})
    report = layered(after)
    assert report["changed_per_image"]["grand"] == 0
    assert report["fingerprint_unchanged"] == ["grand"]
    assert report["not_changed"] == ["grand: grand-aws unchanged", "grand: grand-gcp unchanged"]
    assert report["stale_fingerprint_resources"] == ["grand: grand", "grand: grand-aws-recipe"]
    assert report["met"] is False
    assert "fingerprint unchanged: grand" in render.layered_line(report)


def test_layered_report_fails_on_a_stale_fingerprint_name_or_a_platform_not_layered() -> None:
    # The child's fingerprint changed, but its recipe kept the name derived from the old one (and its inputs).
    after = passing_after()
    after["urn::child/aws/recipe"] = chain_run(BEFORE_FPS, {})["urn::child/aws/recipe"]
    stale = layered(after)
    assert stale["fingerprint_unchanged"] == []
    assert stale["stale_fingerprint_resources"] == ["child: child-aws-recipe"]
    assert stale["not_changed"] == ["child: child-aws unchanged"]  # the recipe was its only aws build change
    assert stale["met"] is False
    # With another aws resource of the child changing, the stale name alone still fails the figure.
    after["urn::child/aws/role"]["wire"] = {"assumeRolePolicy": '{"v": 3}'}
    only_stale = layered(after)
    assert (only_stale["not_changed"], only_stale["unrelated_changed"]) == ([], 0)
    assert (only_stale["stale_fingerprint_resources"], only_stale["met"]) == (
        ["child: child-aws-recipe"],
        False,
    )
    # Everything changed as it should, but the chain is layered on aws only while the catalog has gcp too.
    report = layered(passing_after(), platforms=["aws", "gcp"], layered_on=["aws"])
    assert (report["platforms_not_layered"], report["met"]) == (["gcp"], False)


def test_suite_figures_and_tables_carry_the_chain_figure() -> None:
    before = chain_run(BEFORE_FPS, {})
    raw = {
        "meta": {},
        "P5": {
            "first": before,
            "second": json.loads(json.dumps(before)),
            "changed": before,
            "layered": passing_after(),
            "script": "images/child/x.sh",
            "users": ["child"],
            "affected": ["child", "grand"],
            "images": 4,
            "platforms": ["aws", "gcp"],
            "lineage": {
                "base": "base",
                "descendants": ["child", "grand"],
                "script": "images/base/harden-base-only.sh",
                "copied_from": "images/base/harden.sh",
                "layered_on": ["aws", "gcp"],
            },
        },
    }
    figures = compare.suite_figures(raw)
    # Nothing changed in the least shared script's run although two images use it or build on it: not met.
    assert (figures["P5"]["images_affected"], figures["P5"]["images_changed"], figures["P5"]["met"]) == (
        2,
        0,
        False,
    )
    assert figures["P5"]["layered"]["met"] is True
    assert figures["P5"]["layered"]["catalog_platforms"] == ["aws", "gcp"]
    text = render.render(figures)
    assert "platform builds changed 6 of 6, layered on aws, gcp -> ok" in text
    # A chain layered on fewer platforms than the catalog has fails the figure.
    raw["P5"]["lineage"]["layered_on"] = ["aws"]
    assert compare.suite_figures(raw)["P5"]["layered"]["platforms_not_layered"] == ["gcp"]
    assert "not layered on gcp" in render.render(compare.suite_figures(raw))
    raw["P5"]["lineage"]["layered_on"] = ["aws", "gcp"]
    assert "(used by 1 of 4 images, 2 with the images built on them)" in text
    assert "verdicts: P5 unchanged 0, outside 0, unrelated 0 on the chain's change NOT MET" in text
    table = render.render(figures, "markdown")
    assert (
        "| changed 12 of 24 resources: base 4, descendants 8 (child 4, grand 4), unrelated 0; 3 added, 3 removed; "
        "chain fingerprints changed 3 of 3, platform builds 6 of 6 | | | 0 unrelated, every descendant | met |"
    ) in table


def test_incremental_report_allows_and_requires_the_users_descendants() -> None:
    # "base" uses the changed script; "child" does not, but is built on it (and "grand" on "child").
    before = chain_run(BEFORE_FPS, {})
    after = chain_run(dict(BEFORE_FPS, base=AFTER_FPS["base"], child=AFTER_FPS["child"]), {"base": "v2"})
    users = {"base"}
    alone = compare.incremental_report(before, before, after, "images/base/x.sh", users, 4)
    assert (alone["changes_outside_users"], alone["met"]) == (2, False)  # the child's fingerprint and recipe
    allowed = compare.incremental_report(
        before, before, after, "images/base/x.sh", users, 4, {"base", "child"}
    )
    assert (allowed["images_affected"], allowed["changes_outside_users"], allowed["met"]) == (2, 0, True)
    # The grandchild is built on the child too: it must change as well, and here it did not.
    missing = compare.incremental_report(
        before, before, after, "images/base/x.sh", users, 4, {"base", "child", "grand"}
    )
    assert (missing["images_changed"], missing["met"]) == (2, False)
