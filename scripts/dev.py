#!/usr/bin/env python3
"""Bootstrap and run: the only entry point the README needs on a fresh machine with Python 3.11+.

    python3 scripts/dev.py preview --stack dev [--json ...]   # offline preview (program + policy pack)
    python3 scripts/dev.py test [pytest args]                 # lint, type-check and the test suite
    python3 scripts/dev.py run <command> [args]               # any command inside the project venv
    python3 scripts/dev.py engine-check [--accept-blocked-host] # the real Pulumi CLI (built from Go modules)
                                                              # on every stack; see docs/engine.md
    python3 scripts/dev.py mutation [--pack]                  # mutation score of the rules (slow; not in
                                                              # the test command); see docs/testing.md

It creates ``.venv`` (the virtualenv Pulumi.yaml names) and installs the project with its dev extras the
first time, and again whenever pyproject.toml changes (a hash stamp in the venv). ``test`` also makes sure
the system tools some tests drive for real are present — ``packer`` and ``cloud-init`` (Debian packages) —
installing them with apt-get when running as root.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VENV = ROOT / ".venv"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
STAMP = VENV / ".golden-images-install"
SYSTEM_TOOLS = {"packer": "packer", "cloud-init": "cloud-init"}


def _say(message: str) -> None:
    print(f"[dev] {message}", file=sys.stderr, flush=True)


def ensure_venv() -> None:
    """Create ``.venv`` and install ``.[dev]`` unless the stamp matches pyproject.toml."""
    wanted = hashlib.sha256((ROOT / "pyproject.toml").read_bytes()).hexdigest()
    if STAMP.is_file() and STAMP.read_text().strip() == wanted and (BIN / "golden-images").exists():
        return
    if not (BIN / "python").exists():
        _say("creating .venv")
        venv.EnvBuilder(with_pip=True).create(VENV)
    _say("installing golden-images and its dependencies into .venv (first run: a few minutes)")
    pip = [str(BIN / "python"), "-m", "pip", "--disable-pip-version-check", "-q"]
    subprocess.run([*pip, "install", "--upgrade", "pip"], check=True)
    subprocess.run([*pip, "install", "-e", f"{ROOT}[dev]"], check=True)
    STAMP.write_text(wanted + "\n")


def ensure_system_tools() -> None:
    """Install missing Debian tools the tests drive (packer, cloud-init) when we are root with apt-get."""
    missing = [pkg for tool, pkg in SYSTEM_TOOLS.items() if shutil.which(tool) is None]
    if not missing:
        return
    if shutil.which("apt-get") and hasattr(os, "geteuid") and os.geteuid() == 0:
        _say(f"installing {', '.join(missing)} with apt-get")
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        subprocess.run(["apt-get", "update", "-qq"], check=True, env=env, stdout=subprocess.DEVNULL)
        subprocess.run(
            ["apt-get", "install", "-y", "-qq", "--no-install-recommends", *missing],
            check=True,
            env=env,
            stdout=subprocess.DEVNULL,
        )
    else:
        _say(
            f"missing {', '.join(missing)}: install them (Debian: apt-get install {' '.join(missing)}); "
            "the tests that need them will fail until then"
        )


def run(args: list[str]) -> int:
    """Run ``args`` with the venv's bin directory first on PATH."""
    env = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}", "VIRTUAL_ENV": str(VENV)}
    return subprocess.run(args, cwd=ROOT, env=env, check=False).returncode


def main(argv: list[str]) -> int:
    """Dispatch ``preview``, ``test``, ``run``, ``engine-check`` or ``mutation``; returns the process exit code."""
    if sys.version_info < (3, 11):  # noqa: UP036 - this file runs on whatever python3 the user has
        print("golden-images needs Python 3.11 or newer", file=sys.stderr)
        return 2
    if not argv or argv[0] in ("-h", "--help"):
        print(__doc__)
        return 0
    command, rest = argv[0], argv[1:]
    ensure_venv()
    if command == "preview":
        return run([str(BIN / "golden-images"), "preview", *rest])
    if command == "test":
        ensure_system_tools()
        for step in (
            [str(BIN / "ruff"), "check", "."],
            [str(BIN / "ruff"), "format", "--check", "."],
            [str(BIN / "mypy")],
        ):
            _say(" ".join(Path(step[0]).name if i == 0 else a for i, a in enumerate(step)))
            if code := run(step):
                return code
        return run([str(BIN / "pytest"), "-n", "2", "--dist", "loadgroup", *rest])
    if command == "run":
        return run(rest)
    if command == "engine-check":
        return run([str(BIN / "python"), str(ROOT / "engine" / "check.py"), *rest])
    if command == "mutation":
        return run([str(BIN / "python"), str(ROOT / "scripts" / "mutation.py"), *rest])
    print(f"unknown command {command!r}\n{__doc__}", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
