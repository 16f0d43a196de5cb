#!/usr/bin/env python3
"""Line and branch coverage of the package and the policy pack, the pack's own subprocess included.

Usage::

    python3 scripts/coverage.py                      # the whole suite on a snapshot of the working tree
    python3 scripts/coverage.py tests/tools          # only these tests (any pytest arguments)
    python3 scripts/coverage.py --head               # a snapshot of the committed tree (HEAD) instead
    python3 scripts/coverage.py --in-place           # no snapshot: run in the working tree itself
    python3 scripts/coverage.py --json cov.json      # also the per-module numbers as JSON

By default the suite runs in a throwaway copy of the working tree (tracked and untracked files git does not
ignore; ``.venv`` linked in; committed as a fresh git repository, so tests that use git see the copy), with
``PYTHONPATH`` and ``GOLDEN_IMAGES_POLICY_PACK`` pointing the tests and the pack subprocess at the copy: in a
tree others edit while the suite runs (the run takes 15-30 minutes under coverage on two shared cores) a file
changing mid-run would otherwise break collection or the report.

What is measured: ``golden_images`` (``components/golden_images``) and ``golden_images_policies``
(``policies/golden_images_policies``), with branch coverage on. The policy pack runs in a subprocess the
analyzer harness starts (``python -m pulumi.policy``), and the CLI tests start ``golden-images`` processes;
every one of those Python processes is measured too: the script writes, in a throwaway directory, a
``sitecustomize.py`` that calls ``coverage.process_startup()`` and puts that directory on ``PYTHONPATH``
together with ``COVERAGE_PROCESS_START`` (coverage's documented subprocess support), so each process (pytest,
its xdist workers, the pack, the CLI) writes its own data file; they are combined at the end, with
any other copy of a package (``test_reuse.py`` runs one laid out as a wheel installs it) mapped onto the
tree's files. Nothing is
installed into ``.venv``: when the venv has no ``coverage`` module, coverage 7.x is installed with
``pip install --target`` into a private directory under the system temp dir (default
``$TMPDIR/gi-coverage/lib``; ``--lib DIR`` to choose) and only added to ``PYTHONPATH`` for the run.

The pytest run defaults to ``-n 2 --dist loadgroup -o addopts= -q tests`` (as ``scripts/dev.py test``);
arguments after the options replace it. Prints a table per module: statements, line %, branches, branch %,
then every module below ``--threshold`` (default 90) lines; ``--report FILE`` also keeps coverage's own
report with the missing lines. The first lines say what was measured (snapshot kind, commit, start time) and the
last ones how pytest ended: a pytest that did not finish (killed, interrupted, a lost xdist controller) is
reported as a **partial** table, since the data of the tests that never ran is missing. Exit code: pytest's
when the tests failed or did not finish, otherwise 0; 2 on bad arguments.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
VENV_PY = ROOT / ".venv" / "bin" / "python"
#: 7.x: ``process_startup`` and branch coverage as used here; the C tracer is in the wheel.
COVERAGE_REQUIREMENT = "coverage>=7.10,<8"
#: The measured packages and where each lives in the repository.
SOURCES = {
    "golden_images": "components/golden_images",
    "golden_images_policies": "policies/golden_images_policies",
}
#: pytest's exit codes after which every selected test ran (1: some failed); anything else leaves a partial table.
COMPLETE_EXITS = (0, 1)
DEFAULT_PYTEST = ["-n", "2", "--dist", "loadgroup", "-o", "addopts=", "-q", "-p", "no:cacheprovider", "tests"]

SITECUSTOMIZE = '''\
"""Written by scripts/coverage.py: start coverage in every Python process of the run (the pack too)."""
try:
    import coverage
except ImportError:  # a foreign interpreter (e.g. a fresh venv a test builds): not measured
    pass
else:
    coverage.process_startup()
'''


def has_coverage(extra_path: str | None) -> bool:
    env = dict(os.environ)
    if extra_path:
        env["PYTHONPATH"] = extra_path
    probe = subprocess.run([str(VENV_PY), "-c", "import coverage"], env=env, capture_output=True, check=False)
    return probe.returncode == 0


def ensure_coverage(lib: Path) -> str | None:
    """The extra ``PYTHONPATH`` entry that makes ``import coverage`` work (``None``: the venv has it)."""
    if has_coverage(None):
        return None
    if not has_coverage(str(lib)):
        print(
            f"coverage: .venv has no coverage module; installing {COVERAGE_REQUIREMENT} into {lib}",
            flush=True,
        )
        lib.mkdir(parents=True, exist_ok=True)
        subprocess.run(
            [str(VENV_PY), "-m", "pip", "install", "-q", "--target", str(lib), COVERAGE_REQUIREMENT],
            check=True,
        )
    return str(lib)


def copy_tree(dest: Path, *, head: bool) -> None:
    """A snapshot into ``dest``, so edits made while the suite runs (a shared tree) cannot change it under the
    run: the committed tree (``head``, ``git archive HEAD``) or the working tree as it is now (tracked and
    untracked files git does not ignore)."""
    if head:
        archive = subprocess.run(["git", "-C", str(ROOT), "archive", "HEAD"], check=True, capture_output=True)
        subprocess.run(["tar", "-x", "-C", str(dest)], input=archive.stdout, check=True)
        return
    listed = subprocess.run(
        ["git", "-C", str(ROOT), "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        check=True,
        capture_output=True,
    ).stdout
    present = b"\0".join(p for p in listed.split(b"\0") if p and (ROOT / p.decode()).is_file())
    packed = subprocess.run(
        ["tar", "-c", "-C", str(ROOT), "--null", "-T", "-"], input=present, check=True, capture_output=True
    )
    subprocess.run(["tar", "-x", "-C", str(dest)], input=packed.stdout, check=True)


def commit_snapshot(tree: Path) -> None:
    """Make the copy a git repository whose ``HEAD`` holds exactly the copied files: tests that read the
    repository through git (the wheel test builds from ``git archive HEAD``) then see the measured tree, not
    the shared checkout, and do not fail for want of a ``.git``."""
    git = ["git", "-C", str(tree), "-c", "user.name=coverage", "-c", "user.email=coverage@localhost"]
    for step in (["init", "-q"], ["add", "-A"], ["commit", "-q", "--no-verify", "-m", "coverage snapshot"]):
        subprocess.run([*git, *step], check=True, capture_output=True)


def write_rc(path: Path, data_file: Path, tree: Path) -> None:
    sources = "".join(f"    {name}\n" for name in SOURCES)
    # Any other copy of a package (the wheel test installs the built wheel into a temp dir and runs it; a
    # process that fell back to the editable install) is the same code: its data is merged onto the tree's
    # files instead of being reported as extra modules.
    aliases = "".join(f"{name} =\n    {tree / where}\n    */{name}\n" for name, where in SOURCES.items())
    path.write_text(
        "[run]\n"
        "branch = True\n"
        "parallel = True\n"
        # The pack stops on SIGINT (the harness's close); SIGTERM'd processes still save their data.
        "sigterm = True\n"
        f"data_file = {data_file}\n"
        f"source_pkgs =\n{sources}"
        "disable_warnings = module-not-imported, no-data-collected, module-not-measured\n"
        f"\n[paths]\n{aliases}"
        "\n[report]\n"
        # A module moved or deleted while the suite ran has data but no source: skip it, do not fail.
        "ignore_errors = True\n"
        "show_missing = True\n"
        "skip_empty = True\n"
    )


def module_rows(report: dict[str, object], tree: Path) -> list[dict[str, object]]:
    """Per-file numbers from ``coverage json``: path relative to the repo, line % and branch % separately."""
    rows: list[dict[str, object]] = []
    files = report["files"]
    assert isinstance(files, dict)
    for name, entry in sorted(files.items()):
        summary = entry["summary"]
        statements = summary["num_statements"]
        missing = summary["missing_lines"]
        branches = summary.get("num_branches", 0)
        missing_branches = summary.get("missing_branches", 0)
        path = Path(name)
        resolved = path if path.is_absolute() else tree / path
        rel = str(resolved.relative_to(tree)) if resolved.is_relative_to(tree) else name
        rows.append(
            {
                "module": rel,
                "statements": statements,
                "missing": missing,
                "lines": 100.0 * (statements - missing) / statements if statements else 100.0,
                "branches": branches,
                "missing_branches": missing_branches,
                "branch": 100.0 * (branches - missing_branches) / branches if branches else 100.0,
            }
        )
    return rows


def print_table(rows: list[dict[str, object]], threshold: float) -> None:
    width = max(len(str(r["module"])) for r in rows)
    print(f"\n{'module':<{width}}  {'stmts':>6} {'lines':>7}  {'branches':>8} {'branch':>7}")
    totals = {"statements": 0, "missing": 0, "branches": 0, "missing_branches": 0}
    for row in rows:
        for key in totals:
            value = row[key]
            assert isinstance(value, int)
            totals[key] += value
        mark = "  <" if float(row["lines"]) < threshold else ""  # type: ignore[arg-type]
        print(
            f"{row['module']:<{width}}  {row['statements']:>6} {row['lines']:>6.1f}%  "
            f"{row['branches']:>8} {row['branch']:>6.1f}%{mark}"
        )
    lines = 100.0 * (totals["statements"] - totals["missing"]) / max(totals["statements"], 1)
    branch = 100.0 * (totals["branches"] - totals["missing_branches"]) / max(totals["branches"], 1)
    print(
        f"{'TOTAL':<{width}}  {totals['statements']:>6} {lines:>6.1f}%  {totals['branches']:>8} {branch:>6.1f}%"
    )
    below = [r for r in rows if float(r["lines"]) < threshold]  # type: ignore[arg-type]
    print(f"\nmodules below {threshold:g}% lines: {len(below)}")
    for row in below:
        print(
            f"  {row['module']}: {row['lines']:.1f}% ({row['missing']} of {row['statements']} lines missing)"
        )


def describe_tree(*, head: bool, in_place: bool) -> str:
    """What is measured, for the header: the snapshot kind and the commit (``+ uncommitted`` when it differs)."""
    commit = subprocess.run(
        ["git", "-C", str(ROOT), "rev-parse", "--short=12", "HEAD"],
        capture_output=True,
        text=True,
        check=False,
    ).stdout.strip()
    if head:
        return f"committed tree at {commit}"
    dirty = subprocess.run(
        ["git", "-C", str(ROOT), "status", "--porcelain", "--untracked-files=normal"],
        capture_output=True,
        text=True,
        check=False,
    ).stdout.strip()
    kind = "working tree in place" if in_place else "snapshot of the working tree"
    return f"{kind} at {commit}" + (" + uncommitted changes" if dirty else "")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--lib",
        type=Path,
        default=Path(tempfile.gettempdir()) / "gi-coverage" / "lib",
        help="private install directory for coverage when .venv has none (default: $TMPDIR/gi-coverage/lib)",
    )
    parser.add_argument(
        "--threshold", type=float, default=90.0, help="line %% below which a module is listed"
    )
    snapshot = parser.add_mutually_exclusive_group()
    snapshot.add_argument("--head", action="store_true", help="measure a copy of the committed tree (HEAD)")
    snapshot.add_argument(
        "--in-place", action="store_true", help="run in the working tree itself (default: a copy of it)"
    )
    parser.add_argument("--json", type=Path, help="also write the per-module rows here as JSON")
    parser.add_argument("--report", type=Path, help="also write coverage's report with missing lines here")
    args, pytest_args = parser.parse_known_args(argv)
    if not VENV_PY.exists():
        print(
            f"coverage: {VENV_PY} missing; create the venv first (scripts/dev.py run true)", file=sys.stderr
        )
        return 2
    extra = ensure_coverage(args.lib)
    with tempfile.TemporaryDirectory(prefix="gi-coverage-") as tmp:
        work = Path(tmp)
        (work / "sitecustomize.py").write_text(SITECUSTOMIZE)
        rc = work / "coveragerc"
        (work / "data").mkdir()
        tree = ROOT
        source_path: list[str] = []
        extra_env: dict[str, str] = {}
        if not args.in_place:
            tree = work / "tree"
            tree.mkdir()
            copy_tree(tree, head=args.head)
            commit_snapshot(tree)
            (tree / ".venv").symlink_to(ROOT / ".venv")  # tests that run .venv/bin/... find the project venv
            # The copy before the editable install on sys.path, for the tests and the pack subprocess alike.
            source_path = [str(tree / "components"), str(tree / "policies"), str(tree)]
            extra_env = {"GOLDEN_IMAGES_POLICY_PACK": str(tree / "policies")}
        write_rc(rc, work / "data" / ".coverage", tree)
        path = [
            str(work),
            *source_path,
            *([extra] if extra else []),
            *filter(None, [os.environ.get("PYTHONPATH")]),
        ]
        env = {
            **os.environ,
            **extra_env,
            "PYTHONPATH": os.pathsep.join(path),
            "COVERAGE_PROCESS_START": str(rc),
        }
        where = subprocess.run(
            [str(VENV_PY), "-c", "import golden_images; print(golden_images.__file__)"],
            env={k: v for k, v in env.items() if k != "COVERAGE_PROCESS_START"},
            cwd=tree,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        if not where.startswith(str(tree)):
            print(f"coverage: tests would import {where}, not {tree}", file=sys.stderr)
            return 1
        command = [str(VENV_PY), "-m", "pytest", *(pytest_args or DEFAULT_PYTEST)]
        started = datetime.now(UTC)
        print(f"coverage: {describe_tree(head=args.head, in_place=args.in_place)}", flush=True)
        print(f"coverage: started {started:%Y-%m-%d %H:%M} UTC", flush=True)
        print(f"$ (cd {tree}) " + " ".join(command), flush=True)
        clock = time.monotonic()
        tests = subprocess.run(command, cwd=tree, env=env, check=False)
        minutes = (time.monotonic() - clock) / 60
        # Combining and reporting must not measure themselves: no COVERAGE_PROCESS_START from here on.
        report_env = {k: v for k, v in env.items() if k != "COVERAGE_PROCESS_START"}
        coverage = [str(VENV_PY), "-m", "coverage"]
        subprocess.run([*coverage, "combine", "-q", f"--rcfile={rc}"], cwd=tree, env=report_env, check=True)
        text = subprocess.run(
            [*coverage, "report", f"--rcfile={rc}"], cwd=tree, env=report_env, check=True, capture_output=True
        ).stdout.decode()
        if args.report:
            args.report.write_text(text)
        out = work / "coverage.json"
        subprocess.run(
            [*coverage, "json", "-q", f"--rcfile={rc}", "-o", str(out)], cwd=tree, env=report_env, check=True
        )
        data = json.loads(out.read_text())
        rows = module_rows(data, tree)
    print_table(rows, args.threshold)
    if args.json:
        args.json.write_text(json.dumps(rows, indent=2) + "\n")
    if tests.returncode in COMPLETE_EXITS:
        print(
            f"\ncoverage: pytest exited {tests.returncode} after {minutes:.1f} min; the table covers every test"
        )
        return tests.returncode
    print(
        f"\ncoverage: PARTIAL: pytest exited {tests.returncode} after {minutes:.1f} min without finishing"
        " (negative: killed by that signal); the table lacks the tests that did not run",
        file=sys.stderr,
    )
    return tests.returncode if tests.returncode > 0 else 1


if __name__ == "__main__":
    sys.exit(main())
