"""Figures (:mod:`benchmarks.compare`) as text, Markdown or JSON; nothing here measures or computes a ratio.

:func:`render` picks the renderer by the document's ``kind`` (``preview``: the ``python -m benchmarks``
suite; ``audit``: ``python benchmarks/tools_audit.py``) and the format (:data:`FORMATS`).
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Mapping, Sequence
from typing import Any

FORMATS = ("text", "markdown", "json")


def render(figures: Mapping[str, Any], fmt: str = "text") -> str:
    """``figures`` in ``fmt`` (default text)."""
    if fmt == "json":
        return json.dumps(figures, indent=2, default=_jsonable)
    renderers: dict[tuple[str, str], Callable[[Mapping[str, Any]], str]] = {
        ("preview", "text"): suite_text,
        ("preview", "markdown"): suite_markdown,
        ("audit", "text"): audit_text,
        ("audit", "markdown"): audit_markdown,
    }
    return renderers[(str(figures.get("kind", "preview")), fmt)](figures)


def _jsonable(value: Any) -> Any:
    if isinstance(value, set | frozenset):
        return sorted(value)
    return str(value)


def fmt_stats(stats: Mapping[str, Any], digits: int = 3) -> str:
    """``median [min-max]``; ``-`` without runs."""
    if not stats.get("runs"):
        return "-"
    return f"{stats['median']:.{digits}f} [{stats['min']:.{digits}f}-{stats['max']:.{digits}f}]"


def _x(value: float) -> str:
    return "-" if math.isnan(value) else f"{value:.2f}"


def _meta_line(title: str, meta: Mapping[str, Any]) -> str:
    load = meta.get("load_average_at_start") or []
    end = meta.get("load_average_at_end") or []
    loads = f", load {load[0]:.1f}" + (f" -> {end[0]:.1f}" if end else "") if load else ""
    cpus = len(meta.get("cpus") or []) or "?"
    return (
        f"{title} ({meta.get('source', '?')}, {meta.get('started', '?')}) - {meta.get('runs', '?')} runs each, "
        f"median [min-max] seconds, {cpus} CPUs, Python {meta.get('python', '?')}{loads}"
    )


# --- the preview suite, text -------------------------------------------------------------------------------


def _row(
    key: str, measure: str, floor: str, ours: str, ratio: float | None = None, target: Any = None
) -> str:
    tail = f" {ratio:6.2f}" if ratio is not None else ""
    if ratio is not None and target is not None:
        tail += f" {'<= ' + str(target):>7}"
    return f"{key:4} {measure:58} {floor:26} {ours:26}{tail}".rstrip()


def _clock_rows(key: str, measure: str, data: Mapping[str, Any], target: Any = None) -> list[str]:
    """A wall-clock row and a CPU row of a pair (the CPU one is what to trust on a loaded machine)."""
    rows = []
    for index, clock in enumerate(c for c in ("wall", "cpu") if c in data["ratio"]):
        label = (measure if index == 0 else " " * len(measure)) + (" - wall" if clock == "wall" else " - CPU")
        rows.append(
            _row(
                key if index == 0 else "",
                label,
                fmt_stats(data["floor"][clock]),
                fmt_stats(data["ours"][clock]),
                data["ratio"][clock],
                target,
            )
        )
    return rows


def suite_text(figures: Mapping[str, Any]) -> str:
    """The human-readable table of the preview suite."""
    lines = [
        _meta_line("golden-images benchmarks", figures["meta"]),
        "",
        _row("", "measure", "floor", "ours") + f" {'ratio':>6} {'target':>7}",
    ]
    p1, p2, p3, p5 = (figures.get(k) for k in ("P1", "P2", "P3", "P5"))
    if p1:
        lines += _clock_rows(
            "P1", f"preview program, {p1['images']} images / {p1['resources']} resources", p1, p1["target"]
        )
    if p2:
        measure = f"analyze, {p2['policies']} policies vs no-op, {p2['resources']} resources"
        lines += _clock_rows("P2", measure, p2, p2["target"])
        same = p2["vs_same_count"]
        lines.append(
            _row(
                "",
                f"  no-op pack with {p2['policies']} policies - CPU (SDK cost per policy)",
                fmt_stats(same["floor"]["cpu"]),
                fmt_stats(same["ours"]["cpu"]),
                same["ratio"]["cpu"],
            )
        )
        lines.append(
            _row(
                "",
                "  pack start-up (not in the ratio)",
                fmt_stats(p2["startup_seconds"]["floor"]),
                fmt_stats(p2["startup_seconds"]["ours"]),
            )
        )
    if p3:
        small, large = p3["small"], p3["large"]
        for index, size in enumerate((small, large)):
            lines += _clock_rows(
                "P3" if index == 0 else "",
                f"preview program, {size['images']} images / {size['resources']} resources",
                size,
            )
        for index, clock in enumerate(c for c in ("wall", "cpu") if c in p3["ratio"]):
            label = f"growth {large['images']}/{small['images']} images (linear {p3['linear']:.0f})"
            label = (label if index == 0 else " " * len(label)) + (" - wall" if clock == "wall" else " - CPU")
            lines.append(
                _row(
                    "",
                    label,
                    f"{p3['floor_growth'][clock]:.2f}x",
                    f"{p3['ours_growth'][clock]:.2f}x",
                    p3["ratio"][clock],
                    p3["target"],
                )
            )
        lines.append(
            _row(
                "",
                f"  peak RSS MiB, {small['images']} | {large['images']} images",
                f"{small['peak_rss_mib']['floor']:.0f} | {large['peak_rss_mib']['floor']:.0f}",
                f"{small['peak_rss_mib']['ours']:.0f} | {large['peak_rss_mib']['ours']:.0f}",
            )
        )
    if p5:
        lines.append(
            f"P5   unchanged re-run: {p5['unchanged_rerun_changes']} of {p5['resources']} resources changed; "
            f"{p5['script']} (used by {p5['images_using_script']} of {p5['images']} images{_built_on(p5)}) "
            f"changed: {p5['resources_changed']} resources in {p5['images_changed']} images, "
            f"{p5['changes_outside_users']} outside them -> {'ok' if p5['met'] else 'FAILED'}"
        )
        if p5.get("layered"):
            lines.append("     " + layered_line(p5["layered"]))
    lines += _verdict_lines(figures)
    if p1:
        nt = p1["not_timed"]
        lines += [
            "",
            f"P1 catalog platforms: {', '.join(p1['platforms'])}; floor declares the same resources "
            f"({'identical' if p1['floor_equivalent'] else 'DIFFERENT'} types, names, parents, inputs; "
            f"{json.dumps(p1['floor_kinds'])})",
            f"P1 not in the ratio: provider SDK imports {fmt_stats(nt['sdk_import_seconds'])}, our modules' import "
            f"{fmt_stats(nt['ours_import_seconds'])}, --json document {fmt_stats(nt['present_seconds'])}; "
            f"whole worker process floor {fmt_stats(nt['floor_process_seconds'])}, "
            f"ours {fmt_stats(nt['ours_process_seconds'])}",
        ]
    return "\n".join(lines)


def _built_on(p5: Mapping[str, Any]) -> str:
    """``, N with the images built on them`` when the changed script's users have descendants."""
    affected = p5.get("images_affected", p5["images_using_script"])
    return f", {affected} with the images built on them" if affected != p5["images_using_script"] else ""


def layered_line(layered: Mapping[str, Any]) -> str:
    """P5's chain figure in one line: what the base's own script changed, split base / descendants /
    unrelated, the chain checks and the verdict (with the first reasons when it failed)."""
    per_image = layered["changed_per_image"]
    descendants = ", ".join(f"{name} {per_image[name]}" for name in layered["descendants"])
    chain = 1 + len(layered["descendants"])
    line = (
        f"layered: {layered['script']} (used by {layered['base']} only) edited: changed "
        f"{layered['resources_changed']} of {layered['resources']} resources: base {layered['base_changed']}, "
        f"descendants {layered['descendants_changed']} ({descendants}), unrelated {layered['unrelated_changed']} "
        f"(of {layered['unrelated_images']} unrelated images); chain fingerprints changed "
        f"{layered['fingerprints_changed']} of {chain}, platform builds changed "
        f"{layered['platform_components_changed']} of {layered['platform_components_total']}, layered on "
        f"{', '.join(layered['layered_on']) or 'no platform'}"
    )
    if layered["met"]:
        return line + " -> ok"
    reasons = [
        *(f"unrelated changed: {urn.rsplit('::', 1)[-1]}" for urn in layered["unrelated_examples"][:3]),
        *(f"fingerprint unchanged: {name}" for name in layered["fingerprint_unchanged"]),
        *layered["not_changed"][:3],
        *(
            f"still carries the old fingerprint: {item}"
            for item in layered["stale_fingerprint_resources"][:3]
        ),
        *(f"not layered on {p}" for p in layered.get("platforms_not_layered", [])),
    ]
    return line + " -> FAILED (" + "; ".join(reasons) + ")"


def _p5_met(p5: Mapping[str, Any]) -> bool:
    return bool(p5["met"] and p5.get("layered", {}).get("met", True))


def _verdict_lines(figures: Mapping[str, Any]) -> list[str]:
    judged = []
    for key in ("P1", "P2", "P3"):
        data = figures.get(key)
        if data:
            clock = data["judged_on"]
            state = "met" if data["met"] else "NOT MET"
            judged.append(f"{key} {data['ratio'][clock]:.2f} <= {data['target']} ({clock}) {state}")
    p5 = figures.get("P5")
    if p5:
        layered = p5.get("layered")
        chain = f", unrelated {layered['unrelated_changed']} on the chain's change" if layered else ""
        judged.append(
            f"P5 unchanged {p5['unchanged_rerun_changes']}, outside {p5['changes_outside_users']}{chain} "
            + ("met" if _p5_met(p5) else "NOT MET")
        )
    return ["", "verdicts: " + "; ".join(judged)] if judged else []


# --- the preview suite, Markdown ----------------------------------------------------------------------------


def _md_stats(stats: Mapping[str, Any], digits: int = 2, unit: str = " s") -> str:
    if not stats.get("runs"):
        return ""
    return f"{stats['median']:.{digits}f}{unit} ({stats['min']:.{digits}f}-{stats['max']:.{digits}f})"


def _md_met(data: Mapping[str, Any]) -> str:
    return "met" if data["met"] else "**not met**"


def suite_markdown(figures: Mapping[str, Any]) -> str:
    """The preview suite as a Markdown table (CPU figures; wall ratios beside them), as docs/benchmarks.md
    shows it."""
    rows = [
        "| | measure | floor | ours | ratio (CPU) | ratio (wall) | target | |",
        "| --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    p1, p2, p3, p5 = (figures.get(k) for k in ("P1", "P2", "P3", "P5"))
    if p1:
        rows.append(
            f"| P1 | preview program, {p1['images']} images / {p1['resources']} resources, CPU "
            f"| {_md_stats(p1['floor']['cpu'])} | {_md_stats(p1['ours']['cpu'])} | **{p1['ratio']['cpu']:.2f}** "
            f"| {p1['ratio']['wall']:.2f} | ≤ {p1['target']} | {_md_met(p1)} |"
        )
    if p2:
        rows.append(
            f"| P2 | analyze {p2['resources']} resources, our {p2['policies']} policies vs 1 no-op policy, CPU "
            f"| {_md_stats(p2['floor']['cpu'])} | {_md_stats(p2['ours']['cpu'])} | **{p2['ratio']['cpu']:.2f}** "
            f"| {p2['ratio']['wall']:.2f} | ≤ {p2['target']} | {_md_met(p2)} |"
        )
        same = p2["vs_same_count"]
        rows.append(
            f"| P2' | same, vs a no-op pack with {p2['policies']} policies, CPU "
            f"| {_md_stats(same['floor']['cpu'])} | {_md_stats(same['ours']['cpu'])} | {same['ratio']['cpu']:.2f} "
            f"| {same['ratio']['wall']:.2f} | | our rules' own cost |"
        )
    if p3:
        small, large = p3["small"], p3["large"]
        for size in (small, large):
            rows.append(
                f"| P3 | preview program, {size['images']} images / {size['resources']} resources, CPU "
                f"| {_md_stats(size['floor']['cpu'])} | {_md_stats(size['ours']['cpu'])} "
                f"| {size['ratio']['cpu']:.2f} | {size['ratio']['wall']:.2f} | | |"
            )
        rows.append(
            f"| P3 | growth {large['images']} / {small['images']} images (linear = {p3['linear']:.0f}), CPU "
            f"| {p3['floor_growth']['cpu']:.2f}x | {p3['ours_growth']['cpu']:.2f}x | **{p3['ratio']['cpu']:.2f}** "
            f"| {p3['ratio']['wall']:.2f} | ≤ {p3['target']} | {_md_met(p3)} |"
        )
        rows.append(
            f"| P3 | peak RSS of the worker process, {small['images']} / {large['images']} images "
            f"| {small['peak_rss_mib']['floor']:.0f} / {large['peak_rss_mib']['floor']:.0f} MiB "
            f"| {small['peak_rss_mib']['ours']:.0f} / {large['peak_rss_mib']['ours']:.0f} MiB | | | | |"
        )
    if p5:
        rows.append(
            f"| P5 | unchanged catalog, second fresh run | | {p5['unchanged_rerun_changes']} of {p5['resources']} "
            f"resources changed | | | 0 | {'met' if p5['unchanged_rerun_changes'] == 0 else '**not met**'} |"
        )
        rows.append(
            f"| P5 | `{p5['script']}` changed (used by {p5['images_using_script']} of {p5['images']} "
            f"images{_built_on(p5)}) | "
            f"| {p5['resources_changed']} resources changed ({p5['resources_added']} added, "
            f"{p5['resources_removed']} removed), in {p5['images_changed']} images; "
            f"{p5['changes_outside_users']} elsewhere | | | 0 outside | {'met' if p5['met'] else '**not met**'} |"
        )
        layered = p5.get("layered")
        if layered:
            per_image = layered["changed_per_image"]
            chain = 1 + len(layered["descendants"])
            rows.append(
                f"| P5 | `{layered['script']}` changed (used by {layered['base']} only; built on it: "
                + ", ".join(layered["descendants"])
                + f"; {layered['unrelated_images']} unrelated images; layered on "
                f"{', '.join(layered['layered_on'])}) "
                f"| | changed {layered['resources_changed']} of {layered['resources']} resources: base "
                f"{layered['base_changed']}, descendants {layered['descendants_changed']} ("
                + ", ".join(f"{name} {per_image[name]}" for name in layered["descendants"])
                + f"), unrelated {layered['unrelated_changed']}; {layered['resources_added']} added, "
                f"{layered['resources_removed']} removed; chain fingerprints changed "
                f"{layered['fingerprints_changed']} of {chain}, platform builds "
                f"{layered['platform_components_changed']} of {layered['platform_components_total']} "
                f"| | | 0 unrelated, every descendant | {'met' if layered['met'] else '**not met**'} |"
            )
    return "\n".join(rows)


# --- the audit benchmark ------------------------------------------------------------------------------------


def audit_text(figures: Mapping[str, Any]) -> str:
    """The audit benchmark's summary lines: wall and CPU (process + moto server) per contender, the ratios
    (judged on CPU when measured), and the call check."""
    meta = figures["meta"]
    lines = [
        f"{meta['amis_per_region']} AMIs x {len(meta['regions'])} regions, median [min-max] of {meta['runs']} "
        f"rounds, latency {meta.get('latency_ms', 0)} ms, {meta.get('started', '?')}, load {_loads(meta)}"
    ]
    for kind in ("audit", "floor", "floor-serial", "custodian"):
        data = figures.get(kind)
        if data is None:
            continue
        if "skipped" in data:
            lines.append(f"  {kind:<12} skipped: {data['skipped'][:200]}")
            continue
        cpu = f"   CPU {fmt_stats(data['cpu'], 2):>24} s" if "cpu" in data else ""
        lines.append(f"  {kind:<12} wall {fmt_stats(data['wall'], 2):>24} s{cpu}   peak RSS {_rss(data)}")
    for name, data in figures.get("ratios", {}).items():
        judged = (
            ""
            if data["target"] is None
            else f" (target <= {data['target']}x) {'met' if data['met'] else 'NOT MET'}"
        )
        other = " ".join(
            f"{c} {data[c + '_ratio']:.2f}x"
            for c in ("wall", "cpu")
            if c != data["judged_on"] and c + "_ratio" in data
        )
        lines.append(
            f"  {name}: {data['ratio']:.2f}x {data['judged_on']}{judged}" + (f"; {other}" if other else "")
        )
    calls = figures.get("calls")
    if calls:
        state = "identical" if calls["identical"] else f"DIFFERENT {json.dumps(calls['differences'])}"
        lines.append(
            f"  API calls per round: audit {calls['total']['audit']}, floor {calls['total']['floor']} ({state})"
        )
    return "\n".join(lines)


def _loads(meta: Mapping[str, Any]) -> str:
    start = meta.get("load_average_at_start") or []
    end = meta.get("load_average_at_end") or []
    return (f"{start[0]:.1f}" if start else "?") + (f" -> {end[0]:.1f}" if end else "")


def _rss(data: Mapping[str, Any]) -> str:
    """Median peak RSS of fresh processes; else of the in-run readings, marked (they include what earlier
    rounds left allocated in the benchmark process)."""
    fresh = data.get("fresh_process_peak_rss_mb") or {}
    if fresh.get("runs"):
        return f"{fresh['median']:7.1f} MB"
    stats = data["in_run_peak_rss_mb"]
    return f"{stats['median']:7.1f} MB (in run)" if stats.get("runs") else "      -"


def audit_markdown(figures: Mapping[str, Any]) -> str:
    """The audit benchmark as a Markdown table (wall and CPU medians, the judged ratio)."""
    rows = [
        "| | wall (min-max) | CPU, process + server (min-max) | peak RSS | ratio | target |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    ratios = figures.get("ratios", {})
    names = {
        "floor": "audit_vs_floor",
        "floor-serial": "audit_vs_floor_serial",
        "custodian": "audit_vs_custodian",
    }
    for kind in ("audit", "floor", "floor-serial", "custodian"):
        data = figures.get(kind)
        if data is None or "skipped" in data:
            continue
        r = ratios.get(names.get(kind, ""))
        ratio = f"audit/{kind} **{r['ratio']:.2f}x** ({r['judged_on']})" if r else "-"
        target = (
            (f"≤ {r['target']}x " + ("met" if r["met"] else "**not met**"))
            if r and r["target"] is not None
            else "-"
        )
        cpu = _md_stats(data["cpu"]) if "cpu" in data else ""
        rows.append(
            f"| {kind} | {_md_stats(data['wall'])} | {cpu} | {_rss(data).strip()} | {ratio} | {target} |"
        )
    return "\n".join(rows)


# --- two results --------------------------------------------------------------------------------------------


def render_diff(rows: Sequence[Mapping[str, Any]]) -> str:
    """:func:`benchmarks.compare.diff` as lines: ratio before -> after (change) and the status."""
    lines = ["compared with the previous result:"]
    for row in rows:
        if "previous" not in row:
            lines.append(f"  {row['name']:<28} {row['status']}")
            continue
        target = f" (target <= {row['target']})" if row.get("target") is not None else ""
        lines.append(
            f"  {row['name']:<28} {row['previous']:.2f} -> {row['current']:.2f} ({row['change']:+.0%}){target} "
            f"{row['status']}"
        )
    return "\n".join(lines)
