#!/usr/bin/env python3
"""Mutation testing of the rules: mutmut over the shared rules module and the policy pack, then the score.

Usage::

    python3 scripts/mutation.py                  # components/golden_images/core/rules.py, fast rule tests
    python3 scripts/mutation.py --pack           # also policies/golden_images_policies/*.py with tests/policies
    python3 scripts/mutation.py --paths policies/golden_images_policies/tagging.py \\
        --tests tests/policies/test_policy_survivors.py

Defaults: only ``rules.py`` is mutated and ``tests/policies/test_rules_table.py`` plus
``tests/policies/test_policy_survivors.py`` judge each mutant (each pack test starts the pack, so ``--pack``
with all of ``tests/policies`` costs about a minute per mutant). mutmut 2.x is installed into the project
venv from PyPI when missing: 2.x takes its configuration as command-line flags, and 3.x only reads
``pyproject.toml``/``setup.cfg``, which this script must not change. mutmut 2.x rewrites the files it mutates
in place, so everything runs in a throwaway copy of the committed tree (``git archive HEAD``): the working tree
others edit is never touched. ``PYTHONPATH`` and ``GOLDEN_IMAGES_POLICY_PACK`` point the tests and the pack
subprocess at the copy. Prints the score and every surviving mutant (its diff) and exits 0; exit 2 on bad
arguments, 1 when mutmut itself fails.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from xml.etree import ElementTree

ROOT = Path(__file__).resolve().parents[1]
VENV_PY = ROOT / ".venv" / "bin" / "python"
MUTMUT = ROOT / ".venv" / "bin" / "mutmut"
#: mutmut 2.x: configuration by CLI flags (3.x needs pyproject/setup.cfg, which we may not edit).
MUTMUT_REQUIREMENT = "mutmut>=2.5,<3"
RULES = ["components/golden_images/core/rules.py"]
# Every rules module, family subpackages included (aws/, azure/, …); the pack entry and package inits hold no rules.
PACK = sorted(
    str(p.relative_to(ROOT))
    for p in (ROOT / "policies" / "golden_images_policies").rglob("*.py")
    if p.name not in {"__init__.py", "pack.py"}
)
FAST_TESTS = ["tests/policies/test_rules_table.py", "tests/policies/test_policy_survivors.py"]


def ensure_mutmut() -> None:
    """Install mutmut 2.x into the project venv when it is missing (pip, from PyPI)."""
    if MUTMUT.exists():
        return
    print(f"installing {MUTMUT_REQUIREMENT} into {VENV_PY.parent.parent}", flush=True)
    subprocess.run([str(VENV_PY), "-m", "pip", "install", "-q", MUTMUT_REQUIREMENT], check=True)


def copy_tree(dest: Path) -> None:
    """The committed tree (HEAD) into ``dest``: read-only for the repository, unaffected by others' edits."""
    archive = subprocess.run(["git", "-C", str(ROOT), "archive", "HEAD"], check=True, capture_output=True)
    subprocess.run(["tar", "-x", "-C", str(dest)], input=archive.stdout, check=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pack", action="store_true", help="also mutate the policy pack (slow)")
    parser.add_argument(
        "--paths", nargs="+", help="files to mutate (default: rules.py, plus the pack with --pack)"
    )
    parser.add_argument("--tests", nargs="+", help="test files or dirs judging each mutant")
    args = parser.parse_args(argv)
    paths = args.paths or (RULES + PACK if args.pack else RULES)
    tests = args.tests or (
        ["tests/policies", "tests/components/test_pure_renderers.py"] if args.pack else FAST_TESTS
    )
    for rel in [*paths, *tests]:
        if not (ROOT / rel).exists():
            print(f"mutation: {rel}: no such file; pass paths relative to {ROOT}", file=sys.stderr)
            return 2
    if not VENV_PY.exists():
        print(
            f"mutation: {VENV_PY} missing; create the venv first (scripts/dev.py run true)", file=sys.stderr
        )
        return 2
    ensure_mutmut()
    with tempfile.TemporaryDirectory(prefix="gi-mutation-") as tmp:
        work = Path(tmp)
        copy_tree(work)
        env = {
            **os.environ,
            "PYTHONPATH": os.pathsep.join([str(work / "components"), str(work / "policies"), str(work)]),
            "GOLDEN_IMAGES_POLICY_PACK": str(work / "policies"),
            "PYTHONDONTWRITEBYTECODE": "1",
        }
        # Proof that the copy, not the editable install, is what the tests import.
        where = subprocess.run(
            [str(VENV_PY), "-c", "import golden_images.core.rules as r; print(r.__file__)"],
            env=env,
            cwd=work,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        if not where.startswith(str(work)):
            print(f"mutation: tests would import {where}, not the copy", file=sys.stderr)
            return 1
        runner = f"{VENV_PY} -m pytest -x -q -p no:cacheprovider -p no:warnings " + " ".join(tests)
        command = [
            str(MUTMUT),
            "run",
            "--paths-to-mutate",
            ",".join(paths),
            "--tests-dir",
            "tests",
            "--runner",
            runner,
            "--no-progress",
        ]
        print("$ " + " ".join(command), flush=True)
        run = subprocess.run(command, check=False, cwd=work, env=env)
        if run.returncode & 1:
            print("mutation: mutmut failed (see above)", file=sys.stderr)
            return 1
        # junitxml lists every mutant: a <failure> or <error> is a survivor (or timeout);
        # suspicious/untested mutants count as survivors too (skipped), the rest were killed.
        report = subprocess.run(
            [str(MUTMUT), "junitxml"], cwd=work, env=env, capture_output=True, text=True, check=True
        ).stdout
        cases = ElementTree.fromstring(report).iter("testcase")
        outcomes = {c.get("name", "?"): [child.tag for child in c] for c in cases}
        survivors = [
            name.rsplit("#", 1)[-1]
            for name, tags in outcomes.items()
            if {"failure", "error", "skipped"} & set(tags)
        ]
        killed = sum(1 for tags in outcomes.values() if not {"failure", "error", "skipped"} & set(tags))
        total = len(outcomes)
        for mutant in survivors:
            diff = subprocess.run(
                [str(MUTMUT), "show", mutant], check=False, cwd=work, env=env, capture_output=True, text=True
            ).stdout
            print(f"--- surviving mutant {mutant}\n{diff}")
        score = 100.0 * killed / total if total else 0.0
        print(f"mutation score: {killed}/{total} killed ({score:.1f}%), {len(survivors)} surviving")
        shutil.rmtree(work / ".mutmut-cache", ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
