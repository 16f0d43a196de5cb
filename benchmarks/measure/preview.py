"""The preview suite's measurements (P1, P2, P3, P5): worker processes started in a fixed order, samples out.

- **P1** the program part of ``golden-images preview`` on a generated dev-shaped catalog vs the floor program
  that declares the same resources with the provider SDKs under the same runner and mocks.
- **P2** ``Analyze``/``AnalyzeStack`` of those resources through the harness with our pack vs a one-policy
  no-op pack, and vs a no-op pack with as many policies as ours.
- **P3** the P1 pair (floor and ours) at the small and at the large catalog size, in the same run.
- **P5** on a layered catalog: re-running with an unchanged catalog changes nothing; changing one script
  changes only the resources of the images that use it and of their descendants; changing the script only a
  chain's base uses changes the base and every image built on it, and nothing of the unrelated images.

Every measurement runs in its own fresh interpreter (:mod:`benchmarks.measure.worker`); floor and ours
alternate (ABBA) so drift on a shared machine hits both. This module returns the workers' results as they
are; :mod:`benchmarks.compare` turns them into figures.
"""

from __future__ import annotations

import contextlib
import json
import os
import platform
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from benchmarks.measure.catalog import (
    CATALOG_KEY,
    REPO,
    GeneratedProject,
    descendants_of,
    dev_document,
    generated_catalog,
    layered_minimum,
    least_shared_script,
    make_project,
)

POLICY_CONFIG = REPO / "policies" / "config" / "dev.json"
NOOP_PACK = REPO / "benchmarks" / "noop_pack"
Sample = dict[str, Any]


class Workers:
    """Starts one worker process per measurement, in a scratch directory (request and result files kept
    there), pinned to ``cpus`` (default: not pinned); ``verbose`` prints each result to stderr."""

    def __init__(self, scratch: Path, verbose: bool = False, cpus: list[int] | None = None) -> None:
        self.scratch = scratch
        self.verbose = verbose
        self.cpus = list(cpus or [])
        self._count = 0

    def _pin(self) -> None:
        # In the child between fork and exec: only the worker is pinned, not the process driving it.
        os.sched_setaffinity(0, self.cpus)

    def __call__(self, task: str, **request: Any) -> Sample:
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
            [sys.executable, "-m", "benchmarks.measure.worker", task, str(request_file)],
            cwd=REPO,
            env=env,
            capture_output=True,
            text=True,
            check=False,
            preexec_fn=self._pin if self.cpus else None,  # the driver starts no threads
        )
        if done.returncode != 0:
            raise RuntimeError(f"benchmark worker {task} failed ({done.returncode}):\n{done.stderr[-4000:]}")
        result: Sample = json.loads(Path(request["out"]).read_text(encoding="utf-8"))
        result["process_seconds"] = time.perf_counter() - started
        if self.verbose:
            shown = {k: v for k, v in result.items() if k not in ("differences", "kinds")}
            print(f"  {task}: {json.dumps(shown, default=str)}", file=sys.stderr, flush=True)
        return result


def alternate(
    runs: int, first: Callable[[], Sample], second: Callable[[], Sample]
) -> tuple[list[Sample], list[Sample]]:
    """``runs`` results of each, alternating which goes first (ABBA) to cancel drift."""
    a: list[Sample] = []
    b: list[Sample] = []
    for index in range(runs):
        if index % 2 == 0:
            a.append(first())
            b.append(second())
        else:
            b.append(second())
            a.append(first())
    return a, b


def _files(project: GeneratedProject, manifest: Path) -> dict[str, str]:
    return {"root": str(project.root), "stack_file": str(project.stack_file), "manifest": str(manifest)}


def write_manifest(work: Workers, project: GeneratedProject, manifest: Path) -> Path:
    """Run our program once on ``project`` and store what it registered (the floor's input) at ``manifest``."""
    work("manifest", root=str(project.root), stack_file=str(project.stack_file), manifest=str(manifest))
    return manifest


def program_pair(
    work: Workers, project: GeneratedProject, manifest: Path, runs: int
) -> tuple[list[Sample], list[Sample]]:
    """``runs`` floor and ``runs`` ours program runs on ``project``, alternating."""
    files = _files(project, manifest)
    return alternate(runs, lambda: work("floor", **files), lambda: work("ours", **files))


def measure_p1(work: Workers, project: GeneratedProject, manifest: Path, runs: int) -> dict[str, Any]:
    """Program part of the preview vs the floor program, plus one checked floor run (registration by
    registration against the manifest)."""
    check = work("floor", verify=True, **_files(project, manifest))
    floor, ours = program_pair(work, project, manifest, runs)
    return {
        "images": project.images,
        "platforms": list(project.platforms),
        "check": {"differences": check["differences"], "kinds": check["kinds"]},
        "floor": floor,
        "ours": ours,
    }


def measure_p2(work: Workers, project: GeneratedProject, runs: int) -> dict[str, Any]:
    """Analyze through the harness: our pack vs the no-op pack, then the no-op pack with ours' policy count."""
    files = {"root": str(project.root), "stack_file": str(project.stack_file)}
    ours_pack = {
        "pack": str(REPO / "policies"),
        "config": str(POLICY_CONFIG) if POLICY_CONFIG.is_file() else "",
    }
    noop, ours = alternate(
        runs,
        lambda: work("analyze", pack=str(NOOP_PACK), **files),
        lambda: work("analyze", **ours_pack, **files),
    )
    policies = ours[0]["policies"]
    same = [work("analyze", pack=str(NOOP_PACK), noop_policies=policies, **files) for _ in range(runs)]
    return {"images": project.images, "noop": noop, "ours": ours, "noop_same_count": same}


def measure_p3(
    work: Workers,
    sizes: dict[str, tuple[GeneratedProject, Path]],
    runs: int,
    reuse: dict[str, tuple[list[Sample], list[Sample]]] | None = None,
) -> dict[str, Any]:
    """The floor/ours pair at each size of ``sizes`` (``{"small"|"large": (project, manifest)}``); a size in
    ``reuse`` takes those samples (P1's, measured in the same run) instead of measuring again."""
    reuse = reuse or {}
    result: dict[str, Any] = {}
    for size, (project, manifest) in sizes.items():
        floor, ours = reuse.get(size) or program_pair(work, project, manifest, runs)
        result[size] = {"images": project.images, "floor": floor, "ours": ours}
    return result


@contextlib.contextmanager
def changed_script(path: Path) -> Iterator[None]:
    """Append a harmless command to the script at ``path`` for the duration."""
    original = path.read_text(encoding="utf-8")
    try:
        path.write_text(original + "\necho 'benchmark P5: one script changed' >/dev/null\n", encoding="utf-8")
        yield
    finally:
        path.write_text(original, encoding="utf-8")


def measure_p5(work: Workers, project: GeneratedProject, scratch: Path) -> dict[str, Any]:
    """Four runs' wire inputs on a layered ``project`` (:func:`make_project` with ``layered``): the unchanged
    catalog twice (two fresh processes), then the least shared script other than the base's own changed, then
    the base's own script changed. Returns ``first``, ``second``, ``changed``, ``layered``
    (``{urn: {type, name, parent, wire}}`` each), ``script``, ``users``, ``affected`` (the users and their
    descendants) and ``lineage`` (``base``, ``descendants``, ``script``, ``copied_from``, ``layered_on``)."""
    if project.lineage is None:
        raise ValueError("P5 needs a layered project (make_project(..., layered=True))")
    lineage = project.lineage

    def inputs(name: str) -> dict[str, Any]:
        path = scratch / f"p5-{name}.json"
        work("inputs", root=str(project.root), stack_file=str(project.stack_file), inputs=str(path))
        data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
        return data

    first, second = inputs("first"), inputs("second")
    catalog = generated_catalog(project.stack_file)
    script, users = least_shared_script(catalog, exclude=frozenset({lineage.script}))
    with changed_script(project.root / script):
        changed = inputs("changed")
    with changed_script(project.root / lineage.script):
        layered = inputs("layered")
    return {
        "first": first,
        "second": second,
        "changed": changed,
        "layered": layered,
        "script": script,
        "users": sorted(users),
        "affected": sorted(users | set(descendants_of(catalog, users))),
        "lineage": {
            "base": lineage.base,
            "descendants": list(lineage.descendants),
            "script": lineage.script,
            "copied_from": lineage.copied_from,
            "layered_on": list(lineage.layered_on),
        },
    }


def source() -> str:
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


def choose_cpus(cpus: int) -> list[int]:
    """The first ``cpus`` CPUs this process may use (Linux; empty elsewhere, and then nothing is pinned)."""
    try:
        return sorted(os.sched_getaffinity(0))[:cpus]
    except AttributeError:  # not Linux
        return []


def load_average() -> list[float]:
    """The 1, 5 and 15 minute load averages (empty where unavailable)."""
    try:
        return [round(x, 2) for x in os.getloadavg()]
    except OSError:
        return []


def measure(
    scratch: Path,
    selected: set[str],
    *,
    runs: int = 5,
    images: int = 20,
    scale_images: int = 200,
    cpus: int = 2,
    verbose: bool = False,
    log: Callable[[str], None] = lambda _message: None,
) -> dict[str, Any]:
    """Measure the ``selected`` benchmarks (``P1``, ``P2``, ``P3``, ``P5``); generated projects and worker
    files go to ``scratch``. Defaults: 5 runs per variant, 20 images (P1, P2, P5, P3's small side; P5 at least
    what its layered chain needs), 200 (P3's large side), 2 CPUs (every worker is pinned to them; this process
    is not). Returns the samples with ``meta`` (source, runs, CPUs, Python, load averages)."""
    chosen = choose_cpus(cpus)
    work = Workers(scratch, verbose, chosen)
    raw: dict[str, Any] = {
        "meta": {
            "source": source(),
            "runs": runs,
            "cpus": chosen,
            "python": platform.python_version(),
            "started": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
            "load_average_at_start": load_average(),
        }
    }
    small = make_project(scratch / f"catalog-{images}", images)
    raw["meta"]["platforms"] = list(small.platforms)
    manifest = write_manifest(work, small, scratch / f"manifest-{images}.json")
    if "P1" in selected:
        log("P1 ...")
        raw["P1"] = measure_p1(work, small, manifest, runs)
    if "P2" in selected:
        log("P2 ...")
        raw["P2"] = measure_p2(work, small, runs)
    if "P3" in selected:
        log("P3 ...")
        large = make_project(scratch / f"catalog-{scale_images}", scale_images)
        large_manifest = write_manifest(work, large, scratch / f"manifest-{scale_images}.json")
        reuse = {"small": (raw["P1"]["floor"], raw["P1"]["ours"])} if "P1" in raw else None
        raw["P3"] = measure_p3(
            work, {"small": (small, manifest), "large": (large, large_manifest)}, runs, reuse
        )
    if "P5" in selected:
        log("P5 ...")
        # The layered catalog needs room for its chain and an unrelated image (the dev catalog: 4 images).
        count = max(images, layered_minimum(dev_document()["config"][CATALOG_KEY]))
        p5_project = make_project(scratch / f"catalog-{count}-p5", count, layered=True)
        raw["P5"] = measure_p5(work, p5_project, scratch)
        raw["P5"]["images"] = count
        raw["P5"]["platforms"] = list(p5_project.platforms)
    raw["meta"]["load_average_at_end"] = load_average()
    raw["meta"]["finished"] = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    return raw
