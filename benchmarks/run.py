"""``python -m benchmarks [--json]``: the issue-8 benchmarks, each a ratio against a floor measured in the same run.

- **P1** program part of ``golden-images preview`` on a generated dev-shaped catalog vs the floor program that
  declares the same resources with the provider SDKs under the same runner and mocks (target ≤ 1.3).
- **P2** ``Analyze``/``AnalyzeStack`` of those resources through the harness with our pack vs a one-policy
  no-op pack (target ≤ 2.0); pack start-up reported separately.
- **P3** the P1 measurement at 200 images vs 20 (target ≤ 11), with peak RSS.
- **P5** re-running with an unchanged catalog changes nothing; changing one script changes only the resources
  of the images that use it.

Every measurement runs in its own fresh interpreter (:mod:`benchmarks.worker`); floor and ours alternate
(ABBA) so drift on a shared machine hits both. Figures: median of ``--runs`` runs (≥ 5 by default), min, max.
See docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

from benchmarks.catalog import REPO, GeneratedProject, generated_catalog, least_shared_script, make_project

TARGETS = {"P1": 1.3, "P2": 2.0, "P3": 11.0}
POLICY_CONFIG = REPO / "policies" / "config" / "dev.json"
NOOP_PACK = Path(__file__).resolve().parent / "noop_pack"


class Workers:
    """Starts one worker process per measurement, in a scratch directory."""

    def __init__(self, scratch: Path, verbose: bool) -> None:
        self.scratch = scratch
        self.verbose = verbose
        self._count = 0

    def __call__(self, task: str, **request: Any) -> dict[str, Any]:
        self._count += 1
        base = self.scratch / f"{self._count:04d}-{task}"
        request["out"] = str(base.with_suffix(".out.json"))
        request_file = base.with_suffix(".request.json")
        request_file.write_text(json.dumps(request), encoding="utf-8")
        env = dict(os.environ)
        # The checkout's own package first, so a benchmark of this tree measures this tree.
        env["PYTHONPATH"] = os.pathsep.join(
            [str(REPO), str(REPO / "components"), str(REPO / "policies"), env.get("PYTHONPATH", "")]
        ).rstrip(os.pathsep)
        started = time.perf_counter()
        done = subprocess.run(  # our own interpreter and module
            [sys.executable, "-m", "benchmarks.worker", task, str(request_file)],
            cwd=REPO,
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
        if done.returncode != 0:
            raise RuntimeError(f"benchmark worker {task} failed ({done.returncode}):\n{done.stderr[-4000:]}")
        result: dict[str, Any] = json.loads(Path(request["out"]).read_text(encoding="utf-8"))
        result["process_seconds"] = time.perf_counter() - started
        if self.verbose:
            shown = {k: v for k, v in result.items() if k not in ("differences", "kinds")}
            print(f"  {task}: {json.dumps(shown, default=str)}", file=sys.stderr, flush=True)
        return result


def summary(values: Sequence[float]) -> dict[str, float | int]:
    """Median, min and max of ``values`` (and how many)."""
    return {
        "median": statistics.median(values),
        "min": min(values),
        "max": max(values),
        "runs": len(values),
    }


def _pairs(
    runs: int, first: Callable[[], dict[str, Any]], second: Callable[[], dict[str, Any]]
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """``runs`` results of each, alternating which goes first (ABBA) to cancel drift."""
    a: list[dict[str, Any]] = []
    b: list[dict[str, Any]] = []
    for index in range(runs):
        if index % 2 == 0:
            a.append(first())
            b.append(second())
        else:
            b.append(second())
            a.append(first())
    return a, b


def _ratio(
    ours: Mapping[str, Any], floor: Mapping[str, Any], target: float, prefix: str = ""
) -> dict[str, Any]:
    value = ours["median"] / floor["median"] if floor["median"] else float("inf")
    return {f"{prefix}ratio": value, "target": target, f"{prefix}met": value <= target}


def _measured(
    name_floor: str, floor: list[dict[str, Any]], name_ours: str, ours: list[dict[str, Any]], target: float
) -> dict[str, Any]:
    """Wall and CPU summaries of both sides and both ratios (median over median)."""
    wall_floor, wall_ours = summary([r["seconds"] for r in floor]), summary([r["seconds"] for r in ours])
    cpu_floor, cpu_ours = (
        summary([r["cpu_seconds"] for r in floor]),
        summary([r["cpu_seconds"] for r in ours]),
    )
    return {
        f"{name_floor}_seconds": wall_floor,
        f"{name_ours}_seconds": wall_ours,
        f"{name_floor}_cpu_seconds": cpu_floor,
        f"{name_ours}_cpu_seconds": cpu_ours,
        **_ratio(wall_ours, wall_floor, target),
        **_ratio(cpu_ours, cpu_floor, target, "cpu_"),
    }


def bench_p1(work: Workers, project: GeneratedProject, manifest: Path, runs: int) -> dict[str, Any]:
    """Program part of the preview vs the floor program."""
    common = {"root": str(project.root), "stack_file": str(project.stack_file), "manifest": str(manifest)}
    check = work("floor", verify=True, **common)
    floor, ours = _pairs(runs, lambda: work("floor", **common), lambda: work("ours", **common))
    return {
        "images": project.images,
        "platforms": list(project.platforms),
        "resources": ours[0]["resources"],
        **_measured("floor", floor, "ours", ours, TARGETS["P1"]),
        "floor_equivalent": not check["differences"],
        "floor_differences": check["differences"][:20],
        "floor_kinds": check["kinds"],
        "ours_present_seconds": summary([r["present_seconds"] for r in ours]),
        "ours_import_seconds": summary([r["import_ours_seconds"] for r in ours]),
        "sdk_import_seconds": summary([r["import_sdk_seconds"] for r in ours + floor]),
        "ours_process_seconds": summary([r["process_seconds"] for r in ours]),
        "floor_process_seconds": summary([r["process_seconds"] for r in floor]),
    }


def bench_p2(work: Workers, project: GeneratedProject, runs: int) -> dict[str, Any]:
    """Analyze through the harness: our pack vs the no-op pack."""
    common = {"root": str(project.root), "stack_file": str(project.stack_file)}
    ours_pack = {
        "pack": str(REPO / "policies"),
        "config": str(POLICY_CONFIG) if POLICY_CONFIG.is_file() else "",
    }
    noop, ours = _pairs(
        runs,
        lambda: work("analyze", pack=str(NOOP_PACK), **common),
        lambda: work("analyze", **ours_pack, **common),
    )
    # The same number of no-op policies: what the policy SDK costs per policy, whatever the policies check.
    policies = ours[0]["policies"]
    same_count = [work("analyze", pack=str(NOOP_PACK), noop_policies=policies, **common) for _ in range(runs)]
    return {
        "images": project.images,
        "resources": ours[0]["resources"],
        "policies": ours[0]["policies"],
        "noop_same_count_seconds": summary([r["seconds"] for r in same_count]),
        "noop_same_count_cpu_seconds": summary([r["cpu_seconds"] for r in same_count]),
        "cpu_ratio_vs_same_count": statistics.median(r["cpu_seconds"] for r in ours)
        / statistics.median(r["cpu_seconds"] for r in same_count),
        "violations": ours[0]["violations"],
        **_measured("noop", noop, "ours", ours, TARGETS["P2"]),
        "noop_pack_cpu_seconds": summary([r["pack_cpu_seconds"] for r in noop]),
        "ours_pack_cpu_seconds": summary([r["pack_cpu_seconds"] for r in ours]),
        "noop_startup_seconds": summary([r["startup_seconds"] for r in noop]),
        "ours_startup_seconds": summary([r["startup_seconds"] for r in ours]),
    }


def bench_p3(
    work: Workers, small: GeneratedProject, large: GeneratedProject, manifest: Path, runs: int
) -> dict[str, Any]:
    """The P1 measurement (ours) at two catalog sizes."""

    def run(project: GeneratedProject) -> Callable[[], dict[str, Any]]:
        request = {
            "root": str(project.root),
            "stack_file": str(project.stack_file),
            "manifest": str(manifest),
        }
        return lambda: work("ours", **request)

    small_runs, large_runs = _pairs(runs, run(small), run(large))
    return {
        "small_images": small.images,
        "large_images": large.images,
        "small_resources": small_runs[0]["resources"],
        "large_resources": large_runs[0]["resources"],
        **_measured("small", small_runs, "large", large_runs, TARGETS["P3"]),
        "linear_ratio": large.images / small.images,
        "small_peak_rss_mib": max(r["peak_rss_kib"] for r in small_runs) / 1024,
        "large_peak_rss_mib": max(r["peak_rss_kib"] for r in large_runs) / 1024,
    }


def _image_of(urn: str, entries: Mapping[str, Mapping[str, Any]]) -> str:
    """The catalog image a resource belongs to: the name of its top-level ``GoldenImage`` ancestor."""
    current = urn
    while current in entries:
        entry = entries[current]
        if entry["type"] == "golden-images:index:GoldenImage":
            return str(entry["name"])
        current = entry["parent"]
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
) -> dict[str, Any]:
    """P5 figures from three runs' ``{urn: {type, name, parent, wire}}``: two with the same catalog, one after
    ``script`` (used by the images ``users``) changed. A resource counts as changed when its inputs differ or it
    exists on one side only (content-named objects are replaced: one removed, one added)."""
    unchanged = _changed(first, second)
    changed = _changed(second, changed_run)
    entries = {**second, **changed_run}
    owner = {urn: _image_of(urn, entries) for urn in changed}
    images_changed = set(owner.values())
    per_image: dict[str, int] = {}
    for image in owner.values():
        per_image[image] = per_image.get(image, 0) + 1
    outside = [urn for urn in changed if owner[urn] not in users]
    return {
        "images": images,
        "resources": len(first),
        "unchanged_rerun_changes": len(unchanged),
        "script": script,
        "images_using_script": len(users),
        "images_changed": len(images_changed),
        "resources_changed": len(changed),
        "resources_added": len(changed_run.keys() - second.keys()),
        "resources_removed": len(second.keys() - changed_run.keys()),
        "resources_of_images_using_script": sum(
            1 for urn in changed_run if _image_of(urn, changed_run) in users
        ),
        "changes_outside_users": len(outside),
        "changed_per_image": sorted(set(per_image.values())),
        "changed_types": sorted({entries[urn]["type"] for urn in changed}),
        "met": not unchanged and not outside and images_changed == users,
    }


def bench_p5(work: Workers, project: GeneratedProject, scratch: Path) -> dict[str, Any]:
    """Incremental behaviour: unchanged catalog (two fresh processes), then one script changed."""

    def inputs(name: str) -> dict[str, Any]:
        path = scratch / f"p5-{name}.json"
        work("inputs", root=str(project.root), stack_file=str(project.stack_file), inputs=str(path))
        data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
        return data

    first, second = inputs("first"), inputs("second")
    script, users = least_shared_script(generated_catalog(project.stack_file))
    with changed_script(project.root / script):
        third = inputs("changed")
    return incremental_report(first, second, third, script, users, project.images)


@contextlib.contextmanager
def changed_script(path: Path) -> Iterator[None]:
    """Append a harmless command to the script at ``path`` for the duration."""
    original = path.read_text(encoding="utf-8")
    try:
        path.write_text(original + "\necho 'benchmark P5: one script changed' >/dev/null\n", encoding="utf-8")
        yield
    finally:
        path.write_text(original, encoding="utf-8")


def _source() -> str:
    """What was measured: ``$BENCHMARK_SOURCE`` (e.g. the commit of an exported tree) or the checkout's HEAD."""
    if os.environ.get("BENCHMARK_SOURCE"):
        return os.environ["BENCHMARK_SOURCE"]
    done = subprocess.run(
        ["git", "-C", str(REPO), "describe", "--always", "--dirty"],
        capture_output=True,
        text=True,
        check=False,
    )
    return done.stdout.strip() or "unknown"


def _restrict_cpus(cpus: int) -> list[int]:
    try:
        available = sorted(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return []
    chosen = available[:cpus]
    os.sched_setaffinity(0, chosen)  # inherited by every worker
    return chosen


def _fmt(stats: Mapping[str, Any]) -> str:
    return f"{stats['median']:.3f} [{stats['min']:.3f}-{stats['max']:.3f}]"


def _row(key: str, measure: str, floor: str, ours: str, ratio: float | None = None, target: float = 0) -> str:
    tail = f" {ratio:6.2f} {'<= ' + str(target):>7}" if ratio is not None else ""
    return f"{key:4} {measure:58} {floor:26} {ours:26}{tail}".rstrip()


def _rows(key: str, measure: str, data: Mapping[str, Any], floor: str, ours: str) -> list[str]:
    """A wall-clock row and a CPU row (the CPU one is what to trust on a loaded machine)."""
    return [
        _row(
            key,
            measure + " - wall",
            _fmt(data[f"{floor}_seconds"]),
            _fmt(data[f"{ours}_seconds"]),
            data["ratio"],
            data["target"],
        ),
        _row(
            "",
            " " * len(measure) + " - CPU",
            _fmt(data[f"{floor}_cpu_seconds"]),
            _fmt(data[f"{ours}_cpu_seconds"]),
            data["cpu_ratio"],
            data["target"],
        ),
    ]


def render_table(result: Mapping[str, Any]) -> str:
    """The human-readable table."""
    lines = [
        f"golden-images benchmarks ({result.get('source', '?')}) - {result['runs']} runs each, "
        f"median [min-max] seconds, {len(result['cpus']) or '?'} CPUs, Python {result['python']}",
        "",
        _row("", "measure", "floor (P3: small)", "ours (P3: large)") + f" {'ratio':>6} {'target':>7}",
    ]
    if p1 := result.get("P1"):
        measure = f"preview program, {p1['images']} images / {p1['resources']} resources"
        lines += _rows("P1", measure, p1, "floor", "ours")
    if p2 := result.get("P2"):
        measure = f"analyze, {p2['policies']} policies vs no-op, {p2['resources']} resources"
        lines += _rows("P2", measure, p2, "noop", "ours")
        lines.append(
            _row(
                "",
                f"  no-op pack with {p2['policies']} policies - CPU (SDK cost per policy)",
                _fmt(p2["noop_same_count_cpu_seconds"]),
                _fmt(p2["ours_cpu_seconds"]),
                p2["cpu_ratio_vs_same_count"],
                p2["target"],
            )
        )
        lines.append(
            _row(
                "",
                "  pack start-up (not in the ratio)",
                _fmt(p2["noop_startup_seconds"]),
                _fmt(p2["ours_startup_seconds"]),
            )
        )
    if p3 := result.get("P3"):
        measure = f"preview program, {p3['large_images']} vs {p3['small_images']} images"
        lines += _rows("P3", measure, p3, "small", "large")
        lines.append(
            _row(
                "",
                f"  peak RSS MiB, {p3['small_images']} | {p3['large_images']} images",
                f"{p3['small_peak_rss_mib']:.0f}",
                f"{p3['large_peak_rss_mib']:.0f}",
            )
        )
    if p5 := result.get("P5"):
        lines.append(
            f"P5   unchanged re-run: {p5['unchanged_rerun_changes']} of {p5['resources']} resources changed; "
            f"{p5['script']} (used by {p5['images_using_script']} of {p5['images']} images) changed: "
            f"{p5['resources_changed']} resources in {p5['images_changed']} images, "
            f"{p5['changes_outside_users']} outside them -> {'ok' if p5['met'] else 'FAILED'}"
        )
    if p1:
        lines += [
            "",
            f"P1 catalog platforms: {', '.join(p1['platforms'])}; floor declares the same resources "
            f"({'identical' if p1['floor_equivalent'] else 'DIFFERENT'} types, names, parents, inputs; "
            f"{json.dumps(p1['floor_kinds'])})",
            f"P1 not in the ratio: provider SDK imports {_fmt(p1['sdk_import_seconds'])}, our modules' import "
            f"{_fmt(p1['ours_import_seconds'])}, --json document {_fmt(p1['ours_present_seconds'])}; "
            f"whole worker process floor {_fmt(p1['floor_process_seconds'])}, ours {_fmt(p1['ours_process_seconds'])}",
        ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Entry point of ``python -m benchmarks``."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    parser.add_argument("--runs", type=int, default=5, help="runs per variant (default 5)")
    parser.add_argument(
        "--images", type=int, default=20, help="catalog size for P1, P2, P5 and P3's small side"
    )
    parser.add_argument("--scale-images", type=int, default=200, help="catalog size of P3's large side")
    parser.add_argument("--only", default="P1,P2,P3,P5", help="comma-separated subset, e.g. P1,P5")
    parser.add_argument("--cpus", type=int, default=2, help="CPUs the benchmark may use (default 2)")
    parser.add_argument("--keep", type=Path, help="keep the generated projects and worker files here")
    parser.add_argument("-v", "--verbose", action="store_true", help="print every worker's figures to stderr")
    args = parser.parse_args(argv)
    selected = {part.strip().upper() for part in args.only.split(",") if part.strip()}

    cpus = _restrict_cpus(args.cpus)
    with tempfile.TemporaryDirectory(prefix="golden-images-bench-") as tmp:
        scratch = args.keep or Path(tmp)
        scratch.mkdir(parents=True, exist_ok=True)
        work = Workers(scratch, args.verbose)
        small = make_project(scratch / f"catalog-{args.images}", args.images)
        manifest = scratch / "manifest.json"
        work("manifest", root=str(small.root), stack_file=str(small.stack_file), manifest=str(manifest))
        result: dict[str, Any] = {
            "source": _source(),
            "runs": args.runs,
            "cpus": cpus,
            "python": platform.python_version(),
            "platforms": list(small.platforms),
        }
        if "P1" in selected:
            result["P1"] = bench_p1(work, small, manifest, args.runs)
        if "P2" in selected:
            result["P2"] = bench_p2(work, small, args.runs)
        if "P3" in selected:
            large = make_project(scratch / f"catalog-{args.scale_images}", args.scale_images)
            result["P3"] = bench_p3(work, small, large, manifest, args.runs)
        if "P5" in selected:
            p5_project = make_project(scratch / f"catalog-{args.images}-p5", args.images)
            result["P5"] = bench_p5(work, p5_project, scratch)
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        print(render_table(result))
    return 0
