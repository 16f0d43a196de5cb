"""From measured samples to figures and verdicts, and from two results to their differences.

Nothing here measures or prints: :mod:`benchmarks.measure` produces samples (one dict per worker run or
timed round), this module turns them into summaries, ratios and verdicts against :data:`TARGETS`, and
:func:`diff` compares a result with a previous one (``python -m benchmarks --compare previous.json``).
:mod:`benchmarks.render` shows the figures.

A *pair* is a floor and ours measured in the same run, alternating; its ratio is median over median. On a
shared machine wall time is mostly waiting for a CPU, so verdicts use the CPU ratio where there is one.
"""

from __future__ import annotations

import json
import statistics
from collections.abc import Mapping, Sequence
from typing import Any

from golden_images.core.fingerprint import SHORT

#: The targets of each benchmark's headline ratio (``≤``). P3: our growth from the small to the large catalog
#: over the floor's growth measured in the same run.
TARGETS: dict[str, float] = {
    "P1": 1.3,
    "P2": 2.0,
    "P3": 1.1,
    "audit_vs_floor": 1.2,
    "audit_vs_custodian": 0.5,
}
#: A ratio that grew by more than this fraction against the previous result is a regression in :func:`diff`
#: (run-to-run noise of the CPU ratios on 2 shared cores is around 10 %).
DEFAULT_TOLERANCE = 0.15


def summary(values: Sequence[float]) -> dict[str, float | int]:
    """Median, min and max of ``values`` and how many there are (``runs``); NaNs without values."""
    if not values:
        nan = float("nan")
        return {"median": nan, "min": nan, "max": nan, "runs": 0}
    return {
        "median": statistics.median(values),
        "min": min(values),
        "max": max(values),
        "runs": len(values),
    }


def ratio(ours: float, floor: float) -> float:
    """``ours / floor``; infinity for a zero floor (a floor that took no time cannot be matched)."""
    return ours / floor if floor else float("inf")


def side(runs: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """Wall (``seconds``) and CPU (``cpu_seconds``, when the runs have it) summaries of one side."""
    figures: dict[str, Any] = {"wall": summary([r["seconds"] for r in runs])}
    if runs and all("cpu_seconds" in r for r in runs):
        figures["cpu"] = summary([r["cpu_seconds"] for r in runs])
    return figures


def pair(
    floor_runs: Sequence[Mapping[str, Any]], ours_runs: Sequence[Mapping[str, Any]], target: float | None
) -> dict[str, Any]:
    """Both sides' summaries, the wall and CPU ratios (median over median) and, given a target, the verdict
    (on the CPU ratio when both sides have CPU time, else on wall time)."""
    floor, ours = side(floor_runs), side(ours_runs)
    ratios: dict[str, float] = {
        clock: ratio(ours[clock]["median"], floor[clock]["median"])
        for clock in ("wall", "cpu")
        if clock in floor and clock in ours
    }
    figures: dict[str, Any] = {"floor": floor, "ours": ours, "ratio": ratios}
    if target is not None:
        figures |= verdict(ratios, target)
    return figures


def verdict(ratios: Mapping[str, float], target: float) -> dict[str, Any]:
    """``{"target", "judged_on", "met"}`` for ``ratios`` (CPU when present)."""
    clock = "cpu" if "cpu" in ratios else "wall"
    return {"target": target, "judged_on": clock, "met": ratios[clock] <= target}


def growth(small: Mapping[str, Any], large: Mapping[str, Any]) -> dict[str, Any]:
    """P3: how much each side grew from the small catalog's pair to the large one's, and our growth over the
    floor's. Equal to the large P1 ratio over the small one, so drift between the two phases cancels: only
    what *our* code adds per image moves it, not the SDK's own (super-linear) growth."""
    clocks = [c for c in ("wall", "cpu") if c in small["ratio"] and c in large["ratio"]]
    ours = {c: ratio(large["ours"][c]["median"], small["ours"][c]["median"]) for c in clocks}
    floor = {c: ratio(large["floor"][c]["median"], small["floor"][c]["median"]) for c in clocks}
    ratios = {c: ratio(ours[c], floor[c]) for c in clocks}
    return {"ours_growth": ours, "floor_growth": floor, "ratio": ratios, **verdict(ratios, TARGETS["P3"])}


# --- the preview suite --------------------------------------------------------------------------------------


def p1_figures(raw: Mapping[str, Any]) -> dict[str, Any]:
    """P1 from its samples (``floor`` and ``ours`` worker runs, the ``check`` run)."""
    ours, floor, check = raw["ours"], raw["floor"], raw["check"]
    return {
        "images": raw["images"],
        "platforms": raw["platforms"],
        "resources": ours[0]["resources"],
        **pair(floor, ours, TARGETS["P1"]),
        "floor_equivalent": not check["differences"],
        "floor_differences": check["differences"][:20],
        "floor_kinds": check["kinds"],
        "not_timed": {
            "present_seconds": summary([r["present_seconds"] for r in ours]),
            "ours_import_seconds": summary([r["import_ours_seconds"] for r in ours]),
            "sdk_import_seconds": summary([r["import_sdk_seconds"] for r in ours + floor]),
            "ours_process_seconds": summary([r["process_seconds"] for r in ours]),
            "floor_process_seconds": summary([r["process_seconds"] for r in floor]),
        },
        "peak_rss_mib": _peak_rss(floor, ours),
    }


def p2_figures(raw: Mapping[str, Any]) -> dict[str, Any]:
    """P2 from its samples: ours vs the one-policy no-op pack (the target) and vs a no-op pack with as many
    policies as ours (what our rules cost beyond the policy SDK's per-policy cost; no target)."""
    ours, noop, same = raw["ours"], raw["noop"], raw["noop_same_count"]
    return {
        "images": raw["images"],
        "resources": ours[0]["resources"],
        "policies": ours[0]["policies"],
        "violations": ours[0]["violations"],
        **pair(noop, ours, TARGETS["P2"]),
        "vs_same_count": pair(same, ours, None),
        "startup_seconds": {
            "floor": summary([r["startup_seconds"] for r in noop]),
            "ours": summary([r["startup_seconds"] for r in ours]),
        },
        "pack_cpu_seconds": {
            "floor": summary([r["pack_cpu_seconds"] for r in noop]),
            "ours": summary([r["pack_cpu_seconds"] for r in ours]),
        },
    }


def _peak_rss(floor: Sequence[Mapping[str, Any]], ours: Sequence[Mapping[str, Any]]) -> dict[str, float]:
    return {
        "floor": max(r["peak_rss_kib"] for r in floor) / 1024,
        "ours": max(r["peak_rss_kib"] for r in ours) / 1024,
    }


def p3_figures(raw: Mapping[str, Any]) -> dict[str, Any]:
    """P3 from the floor/ours pairs at both catalog sizes: the headline is our growth over the floor's
    (target :data:`TARGETS` ``P3``); our plain large/small ratio is kept for reference (linear = the image
    ratio), with no target: the SDK's growth dominates it."""
    sizes: dict[str, Any] = {}
    for size in ("small", "large"):
        data = raw[size]
        sizes[size] = {
            "images": data["images"],
            "resources": data["ours"][0]["resources"],
            **pair(data["floor"], data["ours"], None),
            "peak_rss_mib": _peak_rss(data["floor"], data["ours"]),
        }
    grown = growth(sizes["small"], sizes["large"])
    return {
        **sizes,
        **grown,
        "linear": sizes["large"]["images"] / sizes["small"]["images"],
    }


#: The type token of the top-level component of one catalog image.
IMAGE_TYPE = "golden-images:index:GoldenImage"


def _image_of(urn: str, entries: Mapping[str, Mapping[str, Any]]) -> str:
    """The catalog image a resource belongs to: the name of its top-level ``GoldenImage`` ancestor."""
    current = urn
    while current in entries:
        entry = entries[current]
        if entry["type"] == IMAGE_TYPE:
            return str(entry["name"])
        current = entry["parent"]
    return ""


def _platform_of(urn: str, entries: Mapping[str, Mapping[str, Any]]) -> str:
    """The URN of the platform component (a direct child of the image's ``GoldenImage``) above ``urn``, or
    ``urn`` itself; empty for the ``GoldenImage`` and for resources outside any image."""
    current = urn
    while current in entries:
        entry = entries[current]
        if entry["type"] == IMAGE_TYPE:
            return ""
        parent = entry["parent"]
        if parent in entries and entries[parent]["type"] == IMAGE_TYPE:
            return current
        current = parent
    return ""


def _changed(before: Mapping[str, Any], after: Mapping[str, Any]) -> list[str]:
    keys = before.keys() | after.keys()
    return sorted(k for k in keys if before.get(k, {}).get("wire") != after.get(k, {}).get("wire"))


def incremental_report(
    first: Mapping[str, Any],
    second: Mapping[str, Any],
    changed_run: Mapping[str, Any],
    script: str,
    users: set[str],
    images: int,
    affected: set[str] | None = None,
) -> dict[str, Any]:
    """P5 figures from three runs' ``{urn: {type, name, parent, wire}}``: two with the same catalog, one after
    ``script`` (used by the images ``users``) changed. Only the images ``affected`` (default: ``users``; in a
    layered catalog the users and every image built on them) may change, and each of them must. A resource
    counts as changed when its inputs differ or it exists on one side only (content-named objects are
    replaced: one removed, one added)."""
    affected = set(users) if affected is None else set(affected)
    unchanged = _changed(first, second)
    changed = _changed(second, changed_run)
    entries = {**second, **changed_run}
    owner = {urn: _image_of(urn, entries) for urn in changed}
    images_changed = set(owner.values())
    per_image: dict[str, int] = {}
    for image in owner.values():
        per_image[image] = per_image.get(image, 0) + 1
    outside = [urn for urn in changed if owner[urn] not in affected]
    return {
        "images": images,
        "resources": len(first),
        "unchanged_rerun_changes": len(unchanged),
        "script": script,
        "images_using_script": len(users),
        "images_affected": len(affected),
        "images_changed": len(images_changed),
        "resources_changed": len(changed),
        "resources_added": len(changed_run.keys() - second.keys()),
        "resources_removed": len(second.keys() - changed_run.keys()),
        "resources_of_images_using_script": sum(
            1 for urn in changed_run if _image_of(urn, changed_run) in users
        ),
        "resources_of_affected_images": sum(
            1 for urn in changed_run if _image_of(urn, changed_run) in affected
        ),
        "changes_outside_users": len(outside),
        "changed_per_image": sorted(set(per_image.values())),
        "changed_types": sorted({entries[urn]["type"] for urn in changed}),
        "met": not unchanged and not outside and images_changed == affected,
    }


def _mentions(wire: Any, fingerprint: str) -> bool:
    """True when ``fingerprint`` or its name prefix (its first ``SHORT`` characters) occurs in ``wire``."""
    return fingerprint[:SHORT] in json.dumps(wire, sort_keys=True)


def layered_report(
    before: Mapping[str, Any],
    after: Mapping[str, Any],
    base: str,
    descendants: Sequence[str],
    script: str,
    images: int,
    platforms: Sequence[str] = (),
    layered_on: Sequence[str] = (),
) -> dict[str, Any]:
    """P5 on a chain: ``before`` and ``after`` (``{urn: {type, name, parent, wire}}``) are the runs before and
    after ``script``, used by ``base`` alone, changed; ``descendants`` are the images built on ``base``
    (directly or not). Met when exactly the chain changed:

    - no resource of any other image changes (``unrelated``: 0);
    - the base and every descendant change: its ``GoldenImage``'s ``fingerprint`` input (the chain
      fingerprint) differs, every platform component of it has a changed resource (its builds are
      replaced), and every resource whose inputs carried its old fingerprint (or the fingerprint's name
      prefix) changed;
    - the chain is layered on every platform of the catalog: ``layered_on`` (the platforms on which every
      descendant is built on its parent) covers ``platforms`` (default: none given, not checked).

    A resource counts as changed when its inputs differ or it exists on one side only (replaced)."""
    chain = [base, *descendants]
    changed = _changed(before, after)
    entries = {**before, **after}
    owner = {urn: _image_of(urn, entries) for urn in changed}
    per_image = {name: sum(1 for urn in changed if owner[urn] == name) for name in chain}
    unrelated = sorted(urn for urn in changed if owner[urn] not in chain)
    tops = {entry["name"]: urn for urn, entry in before.items() if entry["type"] == IMAGE_TYPE}
    changed_platforms = {_platform_of(urn, entries) for urn in changed}
    missing: list[str] = []
    fingerprint_unchanged: list[str] = []
    stale: list[str] = []
    components_of: dict[str, list[str]] = {}
    components_changed = 0
    carrying: dict[str, int] = {}
    for name in chain:
        top = tops.get(name)
        if top is None or top not in after:
            missing.append(f"{name}: no GoldenImage in both runs")
            continue
        old = str(before[top]["wire"].get("fingerprint", ""))
        if not old or old == after[top]["wire"].get("fingerprint"):
            fingerprint_unchanged.append(name)
        components = sorted(
            urn for urn, entry in before.items() if entry["parent"] == top and entry["type"] != IMAGE_TYPE
        )
        components_of[name] = [str(before[urn]["type"]) for urn in components]
        components_changed += sum(1 for urn in components if urn in changed_platforms)
        missing += [
            f"{name}: {before[urn]['name']} unchanged" for urn in components if urn not in changed_platforms
        ]
        mine = [
            urn
            for urn, e in before.items()
            if old and _image_of(urn, before) == name and _mentions(e["wire"], old)
        ]
        carrying[name] = len(mine)
        stale += [f"{name}: {before[urn]['name']}" for urn in mine if urn not in changed]
    descendants_changed = sum(per_image[name] for name in descendants)
    return {
        "images": images,
        "resources": len(before),
        "script": script,
        "base": base,
        "descendants": list(descendants),
        "unrelated_images": len({_image_of(urn, before) for urn in before} - set(chain) - {""}),
        "resources_changed": len(changed),
        "resources_added": len(after.keys() - before.keys()),
        "resources_removed": len(before.keys() - after.keys()),
        "base_changed": per_image[base],
        "descendants_changed": descendants_changed,
        "unrelated_changed": len(unrelated),
        "unrelated_examples": unrelated[:10],
        "changed_per_image": per_image,
        "platform_components": components_of,
        "platform_components_total": sum(len(v) for v in components_of.values()),
        "platform_components_changed": components_changed,
        "fingerprint_carriers": carrying,
        "fingerprints_changed": len(chain) - len(fingerprint_unchanged),
        "fingerprint_unchanged": fingerprint_unchanged,
        "not_changed": missing,
        "stale_fingerprint_resources": stale,
        "catalog_platforms": list(platforms),
        "layered_on": list(layered_on),
        "platforms_not_layered": [p for p in platforms if p not in layered_on],
        "met": not unrelated
        and not fingerprint_unchanged
        and not missing
        and not stale
        and all(p in layered_on for p in platforms),
    }


def suite_figures(raw: Mapping[str, Any]) -> dict[str, Any]:
    """Figures of every benchmark present in ``raw`` (the samples of :func:`benchmarks.measure.preview.measure`),
    with ``meta`` and the samples themselves (so a saved result can be re-read and compared)."""
    figures: dict[str, Any] = {"kind": "preview", "meta": dict(raw["meta"])}
    builders = {"P1": p1_figures, "P2": p2_figures, "P3": p3_figures}
    for key, build in builders.items():
        if key in raw:
            figures[key] = build(raw[key])
    if "P5" in raw:
        p5 = raw["P5"]
        figures["P5"] = incremental_report(
            p5["first"],
            p5["second"],
            p5["changed"],
            p5["script"],
            set(p5["users"]),
            p5["images"],
            set(p5["affected"]) if "affected" in p5 else None,
        )
        if "layered" in p5:
            chain = p5["lineage"]
            figures["P5"]["layered"] = layered_report(
                p5["second"],
                p5["layered"],
                chain["base"],
                chain["descendants"],
                chain["script"],
                p5["images"],
                p5.get("platforms", ()),
                chain.get("layered_on", ()),
            )
    figures["samples"] = {k: v for k, v in raw.items() if k not in ("meta", "P5")}
    return figures


# --- the audit benchmark ------------------------------------------------------------------------------------

#: Contender → the name of the audit's ratio against it. ``floor-serial`` (the floor with the audit's one-by-one
#: ``GetImage`` lookups, ``--diagnose``) has no target: it attributes the gap to the floor.
AUDIT_RATIOS = {
    "floor": "audit_vs_floor",
    "floor-serial": "audit_vs_floor_serial",
    "custodian": "audit_vs_custodian",
}


def audit_figures(raw: Mapping[str, Any]) -> dict[str, Any]:
    """Figures of the audit benchmark (:func:`benchmarks.measure.audit.measure`): each contender's wall and CPU
    time (its own process plus the moto server's) and memory, the ratios against their targets (judged on CPU
    when measured, as the preview suite), and whether the floor made the audit's calls."""
    figures: dict[str, Any] = {"kind": "audit", "meta": dict(raw["meta"])}
    for name in ("audit", "floor", "floor-serial", "custodian"):
        data = raw.get(name)
        if data is None:
            continue
        if "skipped" in data:
            figures[name] = {"skipped": data["skipped"]}
            continue
        runs = data["runs"]
        figures[name] = {
            **side(runs),
            "in_run_peak_rss_mb": summary([r["peak_rss_mb"] for r in runs]),
            "fresh_process_peak_rss_mb": summary(data.get("fresh_process_peak_rss_mb", [])),
            **{k: v for k, v in data.items() if k not in ("runs", "fresh_process_peak_rss_mb")},
        }
        if runs and all("server_cpu_seconds" in r for r in runs):
            figures[name]["server_cpu"] = summary([r["server_cpu_seconds"] for r in runs])
    ratios: dict[str, Any] = {}
    audit = figures.get("audit", {})
    for other, key in AUDIT_RATIOS.items():
        theirs = figures.get(other, {})
        if not (audit.get("wall", {}).get("runs") and theirs.get("wall", {}).get("runs")):
            continue
        clocks = {
            c: ratio(audit[c]["median"], theirs[c]["median"])
            for c in ("wall", "cpu")
            if c in audit and c in theirs
        }
        target = TARGETS.get(key)
        judged = verdict(clocks, target) if target is not None else {"target": None, "met": None}
        clock = "cpu" if "cpu" in clocks else "wall"
        ratios[key] = {
            "ratio": clocks[clock],
            "judged_on": clock,
            **{f"{c}_ratio": v for c, v in clocks.items()},
            **judged,
        }
    figures["ratios"] = ratios
    calls = raw.get("calls") or {}
    if calls:
        figures["calls"] = calls_check(calls.get("audit", {}), calls.get("floor", {}))
    return figures


def calls_check(audit: Mapping[str, int], floor: Mapping[str, int]) -> dict[str, Any]:
    """Per-operation call counts of one audit round and one floor round, and the operations whose counts
    differ (empty: the floor made exactly the audit's calls)."""
    operations = sorted(audit.keys() | floor.keys())
    differences = {
        op: {"audit": audit.get(op, 0), "floor": floor.get(op, 0)}
        for op in operations
        if audit.get(op, 0) != floor.get(op, 0)
    }
    return {
        "audit": dict(sorted(audit.items())),
        "floor": dict(sorted(floor.items())),
        "total": {"audit": sum(audit.values()), "floor": sum(floor.values())},
        "differences": differences,
        "identical": not differences,
    }


# --- two results --------------------------------------------------------------------------------------------


def headline_ratios(figures: Mapping[str, Any]) -> dict[str, tuple[float, float | None]]:
    """``{name: (ratio, target)}`` of a figures document's judged ratios (either kind)."""
    found: dict[str, tuple[float, float | None]] = {}
    if figures.get("kind") == "audit":
        for name, data in (figures.get("ratios") or {}).items():
            found[name] = (float(data["ratio"]), data.get("target"))
        return found
    for key in ("P1", "P2", "P3"):
        data = figures.get(key)
        if not data:
            continue
        clock = data.get("judged_on", "cpu")
        found[key] = (float(data["ratio"][clock]), data.get("target"))
        if key == "P2":
            found["P2 vs same-count no-op"] = (float(data["vs_same_count"]["ratio"]["cpu"]), None)
    return found


def diff(
    previous: Mapping[str, Any], current: Mapping[str, Any], tolerance: float = DEFAULT_TOLERANCE
) -> list[dict[str, Any]]:
    """Each headline ratio present in both results: previous, current, relative change, and a status —
    ``regressed`` (grew by more than ``tolerance``, default :data:`DEFAULT_TOLERANCE`, or crossed its target
    upwards), ``improved`` (shrank by more than ``tolerance`` or crossed it downwards) or ``same``. Ratios in
    only one of the two are listed with status ``new`` or ``gone``."""
    before, after = headline_ratios(previous), headline_ratios(current)
    rows: list[dict[str, Any]] = []
    for name in list(dict.fromkeys([*before, *after])):
        if name not in before or name not in after:
            rows.append({"name": name, "status": "new" if name in after else "gone"})
            continue
        (old, target), (new, _) = before[name], after[name]
        change = ratio(new, old) - 1
        status = "same"
        if change > tolerance or (target is not None and old <= target < new):
            status = "regressed"
        elif change < -tolerance or (target is not None and new <= target < old):
            status = "improved"
        rows.append(
            {
                "name": name,
                "previous": old,
                "current": new,
                "change": change,
                "target": target,
                "status": status,
            }
        )
    return rows
