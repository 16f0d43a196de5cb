#!/usr/bin/env python3
"""Mutation testing of the rules: mutmut's mutants of the shared rules module and the policy pack, then the score.

Usage::

    python3 scripts/mutation.py                  # components/golden_images/core/rules.py, fast rule tests
    python3 scripts/mutation.py --pack           # also every policies/golden_images_policies/**.py, tests/policies
    python3 scripts/mutation.py --mutmut /tmp/mutmut/bin/mutmut \\
        --paths policies/golden_images_policies/aws/dlm.py \\
        --tests tests/policies/aws/test_policy_aws_dlm_verdicts.py --sample 2 --log /tmp/dlm.jsonl
    python3 scripts/mutation.py --paths policies/golden_images_policies/aws/dlm.py --tests ... --ids 7 12

Defaults: only ``rules.py`` is mutated and ``tests/policies/test_rules_table.py`` plus
``tests/policies/test_policy_survivors.py`` judge each mutant (each pack test starts the pack, so ``--pack``
with all of ``tests/policies`` costs about a minute per mutant).

mutmut 2.x (``mutmut>=2.5,<3``) makes the mutants: ``--mutmut PATH`` (or ``$MUTMUT``) names its executable, e.g.
from a separate venv (``python3 -m venv /tmp/mutmut && /tmp/mutmut/bin/pip install "mutmut>=2.5,<3"``); the
interpreter on its ``#!`` line runs mutmut's engine (``list_mutations``/``mutate``). Only when neither is given
is mutmut installed into the project venv. This script, not ``mutmut run``, applies and judges each mutant:
mutmut 2.5.1's result cache crashed mid-run (``ValueError: Attribute Mutant.line is required``), so there is no
cache at all, and every result is printed (and appended to ``--log``) as soon as it is known.

A mutant's id is its 1-based position in mutmut's list for its file (the id ``mutmut run``/``mutmut show`` give it
when that file is run alone). ``--sample N`` tests every N-th id (1, 1+N, 1+2N, ...; ``--offset K`` starts at id
1+K), ``--ids`` exactly the ids given (one file only); ``--show`` prints their diffs and runs nothing. Everything
runs in a throwaway copy of the committed tree (``git archive HEAD``; commit tests before a run): the working tree
others edit is never touched. ``PYTHONPATH`` and ``GOLDEN_IMAGES_POLICY_PACK`` point the tests and the pack
subprocess at the copy. The runner is the project venv's ``python -m pytest -x`` over ``--tests`` (in the order
given: put the fastest killers first), with ``--confcutdir=tests/policies`` when every test is under
``tests/policies`` (the root conftest imports the whole program stack, ~9 s per mutant, and those tests do not need
it). A mutant is killed when the runner exits non-zero (the exit code is shown when it is not 1), survives when it
passes, and times out after 3x the unmutated run's time (at least that time + 60 s; counted apart, not as killed;
``--timeout S`` sets it and skips the unmutated run, for a runner already shown to pass). Prints killed/tested per
file, the score and every survivor's diff; exits 0, 2 on bad arguments, 1 when the unmutated tests fail or the
mutation engine does.
"""

from __future__ import annotations

import argparse
import difflib
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
VENV_PY = ROOT / ".venv" / "bin" / "python"
VENV_MUTMUT = ROOT / ".venv" / "bin" / "mutmut"
#: mutmut 2.x: its engine API (list_mutations/mutate) is what this script uses; 3.x has a different one.
MUTMUT_REQUIREMENT = "mutmut>=2.5,<3"
RULES = ["components/golden_images/core/rules.py"]
# Every rules module, family subpackages included (aws/, azure/, …); the pack entry and package inits hold no rules.
PACK = sorted(
    str(p.relative_to(ROOT))
    for p in (ROOT / "policies" / "golden_images_policies").rglob("*.py")
    if p.name not in {"__init__.py", "pack.py"}
)
FAST_TESTS = ["tests/policies/test_rules_table.py", "tests/policies/test_policy_survivors.py"]
POLICY_TESTS = "tests/policies"

#: Run in mutmut's interpreter: every mutant of the file argv[1] as JSON (line number, mutated source).
_ENGINE = """
import json, sys
from mutmut import Context, list_mutations, mutate
path = sys.argv[1]
source = open(path).read()
out = []
for mid in list_mutations(Context(source=source, filename=path)):
    mutated, count = mutate(Context(source=source, filename=path, mutation_id=mid))
    assert count == 1, (mid, count)
    out.append({"line_number": mid.line_number + 1, "source": mutated})
json.dump(out, sys.stdout)
"""


@dataclass
class Mutant:
    """One mutant of ``path``: ``id`` is 1-based in mutmut's list for the file."""

    path: str
    id: int
    line_number: int
    source: str


def ensure_venv_mutmut() -> Path:
    """mutmut 2.x in the project venv, installed (pip) when missing; used only without --mutmut/$MUTMUT."""
    if not VENV_MUTMUT.exists():
        print(f"installing {MUTMUT_REQUIREMENT} into {VENV_PY.parent.parent}", flush=True)
        subprocess.run([str(VENV_PY), "-m", "pip", "install", "-q", MUTMUT_REQUIREMENT], check=True)
    return VENV_MUTMUT


def mutmut_python(mutmut: Path) -> Path | None:
    """The interpreter on the ``mutmut`` executable's ``#!`` line (pip writes an absolute one), or None."""
    try:
        first = mutmut.read_bytes().split(b"\n", 1)[0].decode()
    except (OSError, UnicodeDecodeError):
        return None
    words = first[2:].split() if first.startswith("#!") else []
    if len(words) == 2 and Path(words[0]).name == "env":  # #!/usr/bin/env python3
        found = subprocess.run(
            ["which", words[1]], capture_output=True, text=True, check=False
        ).stdout.strip()
        words = [found] if found else []
    python = Path(words[0]) if words else None
    return python if python is not None and python.exists() else None


def copy_tree(dest: Path) -> None:
    """The committed tree (HEAD) into ``dest``: read-only for the repository, unaffected by others' edits."""
    archive = subprocess.run(["git", "-C", str(ROOT), "archive", "HEAD"], check=True, capture_output=True)
    subprocess.run(["tar", "-x", "-C", str(dest)], input=archive.stdout, check=True)


def list_mutants(python: Path, work: Path, path: str) -> list[Mutant]:
    """Every mutant mutmut makes of ``path`` (in the copy), in mutmut's order."""
    done = subprocess.run(
        [str(python), "-c", _ENGINE, path], cwd=work, capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        raise RuntimeError(f"mutmut's engine failed on {path}:\n{done.stderr}")
    rows: list[dict[str, Any]] = json.loads(done.stdout)
    return [Mutant(path, i, row["line_number"], row["source"]) for i, row in enumerate(rows, start=1)]


def select(mutants: list[Mutant], sample: int, offset: int, ids: set[int] | None) -> list[Mutant]:
    """The mutants to test: ``ids`` when given, else every ``sample``-th id from ``1 + offset``."""
    if ids is not None:
        return [m for m in mutants if m.id in ids]
    return [m for m in mutants if (m.id - 1) % sample == offset]


def run_tests(
    command: list[str], work: Path, env: dict[str, str], timeout: float | None
) -> tuple[int | None, float]:
    """Exit code (None on timeout) and seconds of one runner call."""
    start = time.monotonic()
    # Its own process group: on a timeout the policy packs the tests started go too (killing pytest alone
    # left them serving, orphaned, for the rest of the run).
    with subprocess.Popen(
        command,
        cwd=work,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    ) as process:
        try:
            code = process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
            return None, time.monotonic() - start
    return code, time.monotonic() - start


def diff(original: str, mutated: str, path: str) -> str:
    """The unified diff of one mutant (one line of context)."""
    lines = difflib.unified_diff(
        original.splitlines(keepends=True), mutated.splitlines(keepends=True), path, path, n=1
    )
    return "".join(lines)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pack", action="store_true", help="also mutate the policy pack (slow)")
    parser.add_argument(
        "--paths", nargs="+", help="files to mutate (default: rules.py, plus the pack with --pack)"
    )
    parser.add_argument(
        "--tests", nargs="+", help="test files or dirs judging each mutant, fastest killers first"
    )
    parser.add_argument(
        "--mutmut", type=Path, help="mutmut 2.x executable (default: $MUTMUT, else installed into .venv)"
    )
    parser.add_argument("--sample", type=int, default=1, help="test every N-th mutant id (default 1: all)")
    parser.add_argument("--offset", type=int, default=0, help="with --sample: start at id 1+K (default 0)")
    parser.add_argument("--ids", type=int, nargs="+", help="test only these mutant ids (one --paths file)")
    parser.add_argument(
        "--timeout",
        type=float,
        help="seconds per mutant; skips the unmutated run (only for a runner already shown to pass)",
    )
    parser.add_argument("--show", action="store_true", help="print the selected mutants' diffs, run nothing")
    parser.add_argument("--log", type=Path, help="append one JSON line per judged mutant to this file")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    paths: list[str] = args.paths or (RULES + PACK if args.pack else RULES)
    tests: list[str] = args.tests or (
        ["tests/policies", "tests/components/test_pure_renderers.py"] if args.pack else FAST_TESTS
    )
    for rel in [*paths, *tests]:
        if not (ROOT / rel).exists():
            print(f"mutation: {rel}: no such file; pass paths relative to {ROOT}", file=sys.stderr)
            return 2
    if args.sample < 1 or not 0 <= args.offset < args.sample:
        print("mutation: --sample must be >= 1 and --offset in 0..sample-1", file=sys.stderr)
        return 2
    if args.ids and len(paths) != 1:
        print("mutation: --ids needs exactly one --paths file (ids are per file)", file=sys.stderr)
        return 2
    if not VENV_PY.exists():
        print(
            f"mutation: {VENV_PY} missing; create the venv first (scripts/dev.py run true)", file=sys.stderr
        )
        return 2
    given = args.mutmut or (Path(os.environ["MUTMUT"]) if os.environ.get("MUTMUT") else None)
    mutmut = given or ensure_venv_mutmut()
    python = mutmut_python(mutmut)
    if python is None:
        source = "--mutmut" if args.mutmut else "$MUTMUT" if given else str(VENV_MUTMUT)
        print(
            f"mutation: {source}={mutmut}: not a mutmut 2.x executable with a #! interpreter; "
            f'install one with pip install "{MUTMUT_REQUIREMENT}" and pass its bin/mutmut',
            file=sys.stderr,
        )
        return 2
    confcut = (
        ["--confcutdir=" + POLICY_TESTS] if all(Path(t).is_relative_to(POLICY_TESTS) for t in tests) else []
    )
    runner = [str(VENV_PY), "-m", "pytest", "-x", "-q", "-p", "no:cacheprovider", "-p", "no:warnings"]
    runner += ["-o", "addopts=", *confcut, *tests]
    log = args.log.open("a") if args.log else None
    with tempfile.TemporaryDirectory(prefix="gi-mutation-") as tmp:
        work = Path(tmp)
        copy_tree(work)
        env = {
            **os.environ,
            "PYTHONPATH": os.pathsep.join([str(work / "components"), str(work / "policies"), str(work)]),
            "GOLDEN_IMAGES_POLICY_PACK": str(work / "policies"),
            "PYTHONDONTWRITEBYTECODE": "1",
        }
        # Proof that the copy, not the editable install, is what the tests and the pack import.
        probe = (
            "import golden_images.core.rules as r, golden_images_policies as p; print(r.__file__, p.__file__)"
        )
        where = subprocess.run(
            [str(VENV_PY), "-c", probe], env=env, cwd=work, capture_output=True, text=True, check=True
        ).stdout.split()
        if not all(w.startswith(str(work)) for w in where):
            print(f"mutation: tests would import {where}, not the copy", file=sys.stderr)
            return 1
        try:
            mutants = {path: list_mutants(python, work, path) for path in paths}
        except RuntimeError as error:
            print(f"mutation: {error}", file=sys.stderr)
            return 1
        ids = set(args.ids) if args.ids else None
        chosen = {path: select(found, args.sample, args.offset, ids) for path, found in mutants.items()}
        if args.show:
            for path in paths:
                original = (work / path).read_text()
                for mutant in chosen[path]:
                    print(f"--- mutant {path} #{mutant.id}\n{diff(original, mutant.source, path)}")
            return 0
        print("$ " + " ".join(runner), flush=True)
        if args.timeout:
            baseline, timeout = 0.0, args.timeout
        else:
            rc, baseline = run_tests(runner, work, env, None)
            if rc != 0:
                print(
                    f"mutation: the tests fail without any mutant (exit {rc}): {' '.join(runner)}",
                    file=sys.stderr,
                )
                return 1
            timeout = max(3 * baseline, baseline + 60)
        print(
            f"unmutated run {baseline:.1f}s (timeout {timeout:.0f}s); mutmut engine {python}; "
            + ", ".join(f"{p}: {len(chosen[p])} of {len(mutants[p])} mutants" for p in paths),
            flush=True,
        )
        results: dict[str, dict[str, list[int]]] = {}
        survivors: list[tuple[Mutant, str]] = []
        for path in paths:
            target = work / path
            original = target.read_text()
            tally = results.setdefault(path, {"killed": [], "survived": [], "timeout": []})
            try:
                for mutant in chosen[path]:
                    target.write_text(mutant.source)
                    rc, seconds = run_tests(runner, work, env, timeout)
                    status = "timeout" if rc is None else "survived" if rc == 0 else "killed"
                    tally[status].append(mutant.id)
                    note = "" if rc in (0, 1, None) else f" (exit {rc})"
                    print(
                        f"{path} #{mutant.id} line {mutant.line_number}: {status}{note} {seconds:.1f}s",
                        flush=True,
                    )
                    if status == "survived":
                        survivors.append((mutant, diff(original, mutant.source, path)))
                    if log:
                        row = {"path": path, "id": mutant.id, "line": mutant.line_number, "status": status}
                        log.write(json.dumps({**row, "rc": rc, "seconds": round(seconds, 1)}) + "\n")
                        log.flush()
            finally:
                target.write_text(original)
    if log:
        log.close()
    for mutant, text in survivors:
        print(f"--- surviving mutant {mutant.path} #{mutant.id}\n{text}")
    killed = tested = 0
    for path in paths:
        tally = results[path]
        n = sum(len(v) for v in tally.values())
        killed, tested = killed + len(tally["killed"]), tested + n
        pct = 100.0 * len(tally["killed"]) / n if n else 0.0
        print(
            f"{path}: {len(tally['killed'])}/{n} killed ({pct:.1f}%) of {len(mutants[path])} mutants; "
            f"survived {tally['survived']}; timeout {tally['timeout']}"
        )
    score = 100.0 * killed / tested if tested else 0.0
    print(f"mutation score: {killed}/{tested} killed ({score:.1f}%), {len(survivors)} surviving")
    return 0


if __name__ == "__main__":
    sys.exit(main())
