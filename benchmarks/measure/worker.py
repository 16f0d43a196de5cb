"""One measured variant, run in a fresh interpreter: ``python -m benchmarks.measure.worker <task> <request.json>``.

The driver (:mod:`benchmarks.measure.preview`) starts one worker per measurement so that nothing leaks between variants
(Pulumi's runtime settings, import caches, the garbage collector's state, a policy pack process). Each worker
writes its figures as JSON to ``request["out"]``.

Tasks:

- ``manifest`` — run our program once; store what it registered (the floor's input), its outputs and the
  modules it imported.
- ``ours`` — the program part of ``golden-images preview`` (stack-file checks, catalog pre-check, program run
  under mocks), timed; presentation (``--json`` document) timed separately.
- ``floor`` — the floor program (:mod:`benchmarks.floor_program`) under the same runner and mocks, timed;
  optionally compared with the manifest.
- ``analyze`` — start a policy pack through the harness (timed: start-up) and analyze our resources (timed).
- ``inputs`` — run our program and store every resource's wire inputs (P5).
"""

from __future__ import annotations

import contextlib
import gc
import importlib
import json
import os
import resource
import sys
import time
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

from google.protobuf import json_format

Request = Mapping[str, Any]
STACK = "dev"
PROJECT = "golden-images"


def _peak_rss_kib() -> int:
    return int(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)


def _cpu_of(pid: int | None) -> float:
    """CPU seconds (user + system) used so far by process ``pid``, from /proc (0 where unavailable)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text(encoding="ascii").rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime, stime


def _preimport(modules: list[str]) -> float:
    """Import ``modules`` (provider SDK submodules, our package); seconds taken."""
    start = time.perf_counter()
    for name in modules:
        try:
            importlib.import_module(name)
        except ImportError:
            continue
    return time.perf_counter() - start


def _wire(resource_: Any) -> dict[str, Any]:
    wire = resource_.wire_inputs
    return json_format.MessageToDict(wire) if wire is not None else dict(resource_.inputs)


def _our_program(root: Path, stack_file: Path) -> Any:
    """What ``golden-images preview`` does before policy evaluation, through the CLI's own function when it
    has one."""
    from golden_images import cli

    program_part: Callable[..., Any] | None = getattr(cli, "run_preview_program", None)
    if program_part is not None:
        return program_part(root, STACK, stack_file, PROJECT)
    from golden_images.catalog.loader import CATALOG_KEY, load_catalog_file, read_stack_file
    from golden_images.preview.runner import run_program

    if CATALOG_KEY in read_stack_file(stack_file) or PROJECT == "golden-images":
        load_catalog_file(stack_file, root=root, stack=STACK)
    return run_program(root, STACK, stack_file=stack_file, project=PROJECT)


@contextlib.contextmanager
def capture_structure() -> Iterator[tuple[dict[str, dict[str, Any]], dict[str, dict[str, Any]]]]:
    """While active, also record per URN each registration's dependencies and each component's registered
    outputs (the runner's monitor keeps neither; the floor reproduces both)."""
    from golden_images.preview import runner

    structure: dict[str, dict[str, Any]] = {}
    outputs: dict[str, dict[str, Any]] = {}
    monitor = runner.CapturingMonitor
    register = monitor.RegisterResource
    register_outputs = monitor.RegisterResourceOutputs

    def capture(self: Any, request: Any) -> Any:
        response = register(self, request)
        structure[response.urn] = {
            "dependencies": list(request.dependencies),
            "property_dependencies": {k: list(v.urns) for k, v in request.propertyDependencies.items()},
        }
        return response

    def capture_outputs(self: Any, request: Any) -> Any:
        outputs[request.urn] = json_format.MessageToDict(request.outputs)
        return register_outputs(self, request)

    monitor.RegisterResource = capture  # type: ignore[method-assign]
    monitor.RegisterResourceOutputs = capture_outputs  # type: ignore[method-assign]
    try:
        yield structure, outputs
    finally:
        monitor.RegisterResource = register  # type: ignore[method-assign]
        monitor.RegisterResourceOutputs = register_outputs  # type: ignore[method-assign]


def task_manifest(request: Request) -> dict[str, Any]:
    from golden_images.preview.runner import run_program

    root, stack_file = Path(request["root"]), Path(request["stack_file"])
    with capture_structure() as (structure, component_outputs):
        run = run_program(root, STACK, stack_file=stack_file, project=PROJECT)
    if run.error is not None:
        raise SystemExit(f"the generated catalog is invalid: {run.error}")
    manifest = {
        "resources": [
            {
                "urn": r.urn,
                "type": r.type,
                "name": r.name,
                "parent": r.parent,
                "custom": r.custom,
                "provider": r.provider,
                "custom_timeouts": r.custom_timeouts,
                "wire": _wire(r),
                **structure.get(r.urn, {}),
                "outputs": component_outputs.get(r.urn) if not r.custom else None,
            }
            for r in run.resources
        ],
        "outputs": json.loads(json.dumps(run.outputs, default=str)),
        "modules": sorted(
            m for m in sys.modules if m.split(".")[0].startswith("pulumi") or m.startswith("golden_images")
        ),
    }
    Path(request["manifest"]).write_text(json.dumps(manifest), encoding="utf-8")
    return {"resources": len(run.resources), "modules": len(manifest["modules"])}


def _modules(request: Request, ours: bool) -> tuple[list[str], list[str]]:
    manifest = json.loads(Path(request["manifest"]).read_text(encoding="utf-8"))
    sdk = [m for m in manifest["modules"] if not m.startswith("golden_images")]
    own = [m for m in manifest["modules"] if m.startswith("golden_images")]
    return sdk, own if ours else []


def task_ours(request: Request) -> dict[str, Any]:
    import golden_images.preview.runner  # noqa: F401 - the runner is shared machinery, imported untimed by both

    sdk, own = _modules(request, ours=True)
    imports_sdk = _preimport(sdk)
    imports_ours = _preimport(own)
    root, stack_file = Path(request["root"]), Path(request["stack_file"])
    gc.collect()
    start, cpu = time.perf_counter(), time.process_time()
    run = _our_program(root, stack_file)
    elapsed, cpu = time.perf_counter() - start, time.process_time() - cpu
    if run.error is not None:
        raise SystemExit(f"our program refused the generated catalog: {run.error}")
    from golden_images.preview.present import to_json

    start = time.perf_counter()
    json.dumps(to_json(STACK, run.resources, [], run.outputs, None), indent=2, default=str)
    present = time.perf_counter() - start
    return {
        "seconds": elapsed,
        "cpu_seconds": cpu,
        "present_seconds": present,
        "import_sdk_seconds": imports_sdk,
        "import_ours_seconds": imports_ours,
        "resources": len(run.resources),
        "peak_rss_kib": _peak_rss_kib(),
    }


def compare(
    manifest: Mapping[str, Any],
    resources: list[Any],
    structure: Mapping[str, Mapping[str, Any]] | None = None,
) -> list[str]:
    """Differences between the manifest's registrations and ``resources`` (type, name, parent, custom flag,
    wire inputs and, given the floor's captured ``structure``, dependencies), as readable lines; empty when
    identical."""
    expected = {(e["type"], e["name"]): e for e in manifest["resources"]}
    got = {(r.type, r.name): r for r in resources}
    problems = [f"missing {key}" for key in sorted(expected.keys() - got.keys())]
    problems += [f"unexpected {key}" for key in sorted(got.keys() - expected.keys())]
    for key in sorted(expected.keys() & got.keys()):
        e, r = expected[key], got[key]
        if e["parent"] != r.parent:
            problems.append(f"{key}: parent {r.parent} != {e['parent']}")
        if e["custom"] != r.custom:
            problems.append(f"{key}: custom {r.custom} != {e['custom']}")
        if e["wire"] != _wire(r):
            problems.append(f"{key}: inputs differ")
        if structure is not None:
            mine = structure.get(r.urn, {})
            if sorted(mine.get("dependencies", [])) != sorted(e.get("dependencies", [])):
                problems.append(f"{key}: dependencies differ")
            theirs = {k: sorted(v) for k, v in (e.get("property_dependencies") or {}).items()}
            if {k: sorted(v) for k, v in mine.get("property_dependencies", {}).items()} != theirs:
                problems.append(f"{key}: property dependencies differ")
    return problems


def task_floor(request: Request) -> dict[str, Any]:
    from benchmarks.floor_program import replay
    from golden_images.preview import runner

    sdk, _ = _modules(request, ours=False)
    imports_sdk = _preimport(sdk)
    manifest = json.loads(Path(request["manifest"]).read_text(encoding="utf-8"))
    plan = replay.prepare(manifest)
    floor_root = Path(replay.__file__).resolve().parent
    stack_file = Path(request["stack_file"])
    verify = bool(request.get("verify"))
    gc.collect()
    with (
        replay.planned(plan),
        capture_structure() if verify else contextlib.nullcontext((None, None)) as (structure, _),
    ):
        start, cpu = time.perf_counter(), time.process_time()
        run = runner.run_program(floor_root, STACK, stack_file=stack_file, project=PROJECT)
        elapsed, cpu = time.perf_counter() - start, time.process_time() - cpu
    if run.error is not None:
        raise SystemExit(f"the floor program failed: {run.error}")
    result: dict[str, Any] = {
        "seconds": elapsed,
        "cpu_seconds": cpu,
        "import_sdk_seconds": imports_sdk,
        "resources": len(run.resources),
        "kinds": plan.kinds(),
        "peak_rss_kib": _peak_rss_kib(),
    }
    if verify:
        result["differences"] = compare(manifest, run.resources, structure)
    return result


def task_analyze(request: Request) -> dict[str, Any]:
    from golden_images.engine.harness import PolicyHarness, load_policy_config
    from golden_images.preview.runner import run_program

    run = run_program(Path(request["root"]), STACK, stack_file=Path(request["stack_file"]), project=PROJECT)
    config = load_policy_config(Path(request["config"])) if request.get("config") else None
    if request.get("noop_policies"):
        os.environ["BENCHMARK_NOOP_POLICIES"] = str(request["noop_policies"])  # the pack inherits it
    gc.collect()
    start = time.perf_counter()
    with PolicyHarness(Path(request["pack"]), project=PROJECT, stack=STACK, config=config) as harness:
        started = time.perf_counter()
        cpu, pack_cpu = time.process_time(), _cpu_of(harness.pid)
        violations = harness.analyze(run.resources)
        analyzed = time.perf_counter()
        cpu, pack_cpu = time.process_time() - cpu, _cpu_of(harness.pid) - pack_cpu
        policies = len(harness.policies())
    return {
        "startup_seconds": started - start,
        "seconds": analyzed - started,
        "cpu_seconds": cpu + pack_cpu,
        "pack_cpu_seconds": pack_cpu,
        "resources": len(run.resources),
        "violations": len(violations),
        "policies": policies,
    }


def inputs_map(resources: list[Any]) -> dict[str, dict[str, Any]]:
    """``{urn: {type, name, parent, wire}}`` of a run's registrations (P5's comparison unit)."""
    return {r.urn: {"type": r.type, "name": r.name, "parent": r.parent, "wire": _wire(r)} for r in resources}


def task_inputs(request: Request) -> dict[str, Any]:
    from golden_images.preview.runner import run_program

    run = run_program(Path(request["root"]), STACK, stack_file=Path(request["stack_file"]), project=PROJECT)
    if run.error is not None:
        raise SystemExit(f"our program refused the catalog: {run.error}")
    inputs = inputs_map(run.resources)
    Path(request["inputs"]).write_text(json.dumps(inputs, sort_keys=True), encoding="utf-8")
    return {"resources": len(inputs)}


TASKS: dict[str, Callable[[Request], dict[str, Any]]] = {
    "manifest": task_manifest,
    "ours": task_ours,
    "floor": task_floor,
    "analyze": task_analyze,
    "inputs": task_inputs,
}


def main(argv: list[str]) -> None:
    """``worker <task> <request.json>``: run the task, write its result to the request's ``out`` file."""
    task, request_file = argv
    request = json.loads(Path(request_file).read_text(encoding="utf-8"))
    result = TASKS[task](request)
    result["peak_rss_kib"] = _peak_rss_kib()
    Path(request["out"]).write_text(json.dumps(result), encoding="utf-8")


if __name__ == "__main__":
    main(sys.argv[1:])
