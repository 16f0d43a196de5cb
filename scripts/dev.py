#!/usr/bin/env python3
"""Bootstrap and run: the only entry point the README needs on a fresh machine with Python 3.11+.

    python3 scripts/dev.py preview --stack dev [--json ...]   # offline preview (program + policy pack)
    python3 scripts/dev.py test [pytest args]                 # lint, type-check and the test suite
    python3 scripts/dev.py run <command> [args]               # any command inside the project venv
    python3 scripts/dev.py engine-check [--accept-blocked-host] # the real Pulumi CLI (built from Go modules)
                                                              # on every stack; see docs/engine.md
    python3 scripts/dev.py mutation [--pack]                  # mutation score of the rules (slow; not in
                                                              # the test command); see docs/testing.md
    python3 scripts/dev.py coverage [pytest args]             # line + branch coverage incl. the pack's
                                                              # subprocess (slow; not in test); docs/testing.md
    python3 scripts/dev.py lock                               # re-resolve uv.lock after editing pyproject

It creates ``.venv`` (the virtualenv Pulumi.yaml names, ``toolchain: uv``) and installs the project with its
dev extras exactly as ``uv.lock`` pins them (``uv sync --frozen --extra dev``) the first time, and again
whenever ``uv.lock`` or ``pyproject.toml`` changes (a hash stamp in the venv). It uses ``uv`` from PATH when it
is at least UV_MIN (below), otherwise uv UV_VERSION installed from PyPI into a bootstrap venv of its own under
``~/.cache/golden-images/`` (``$XDG_CACHE_HOME`` when set; outside the repository). ``test`` also checks
that the lock still matches pyproject.toml (``uv lock --check``) and makes sure the system tools some tests
drive for real are present — ``packer`` and ``cloud-init`` (Debian packages) — installing them with apt-get
when running as root. ``run`` puts the venv and that uv first on PATH (the real ``pulumi`` CLI needs ``uv``).
After editing the dependencies in pyproject.toml, ``python3 scripts/dev.py lock`` rewrites ``uv.lock``.
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
#: The uv installed when none (or an older one) is on PATH; the version that wrote uv.lock.
UV_VERSION = "0.13.9"
#: Oldest uv on PATH that is used as is (pyproject's [tool.uv] required-version says the same).
UV_MIN = (0, 13)
#: What the venv must hold besides the project: a sync without the dev extra (``pulumi install`` runs plain
#: ``uv sync``) removes the test tools while the stamp still matches.
VENV_MARKERS = ("golden-images", "pytest")


def _say(message: str) -> None:
    print(f"[dev] {message}", file=sys.stderr, flush=True)


def _cache_home() -> Path:
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")


def _uv_version(uv: str) -> tuple[int, ...] | None:
    """``uv --version`` as numbers (``uv 0.13.9 (…)`` -> (0, 13, 9)); None when it does not run."""
    try:
        out = subprocess.run([uv, "--version"], capture_output=True, text=True, check=True).stdout
        return tuple(int(part) for part in out.split()[1].split(".")[:3])
    except (OSError, subprocess.CalledProcessError, IndexError, ValueError):
        return None


def find_uv() -> Path:
    """The uv to use: ``uv`` on PATH when it is at least :data:`UV_MIN`, else :data:`UV_VERSION` in a
    bootstrap venv under the user's cache directory, installed there from PyPI the first time."""
    on_path = shutil.which("uv")
    if on_path and (version := _uv_version(on_path)) and version[:2] >= UV_MIN:
        return Path(on_path)
    home = _cache_home() / "golden-images" / f"uv-{UV_VERSION}"
    uv = home / ("Scripts/uv.exe" if os.name == "nt" else "bin/uv")
    if _uv_version(str(uv)):
        return uv
    _say(f"installing uv {UV_VERSION} into {home} (from PyPI, once per machine)")
    # Built next to its final place and renamed, so an interrupted install is never mistaken for a good one.
    staging = home.with_name(f"{home.name}.partial-{os.getpid()}")
    shutil.rmtree(staging, ignore_errors=True)
    venv.EnvBuilder(with_pip=True).create(staging)
    python = staging / ("Scripts/python.exe" if os.name == "nt" else "bin/python")
    pip = [str(python), "-m", "pip", "--disable-pip-version-check", "-q"]
    subprocess.run([*pip, "install", f"uv=={UV_VERSION}"], check=True)
    shutil.rmtree(home, ignore_errors=True)  # a broken earlier install (a working one was returned above)
    try:
        staging.rename(home)  # the uv binary is self-contained; the bootstrap venv's own scripts are not used
    except OSError:
        shutil.rmtree(staging, ignore_errors=True)  # a concurrent run renamed its copy first: use that one
    return uv


def _uv_env() -> dict[str, str]:
    """The environment for uv: the project environment is always ``.venv`` (what Pulumi.yaml names), whatever
    the caller's ``UV_PROJECT_ENVIRONMENT`` or activated virtualenv say."""
    env = {k: v for k, v in os.environ.items() if k != "VIRTUAL_ENV"}
    env["UV_PROJECT_ENVIRONMENT"] = str(VENV)
    return env


def _lock_hash() -> str:
    digest = hashlib.sha256()
    for name in ("uv.lock", "pyproject.toml"):
        digest.update(name.encode() + b"\0" + (ROOT / name).read_bytes() + b"\0")
    return digest.hexdigest()


def ensure_venv() -> Path:
    """Create ``.venv`` and sync it to ``uv.lock`` with the dev extra unless the stamp matches uv.lock and
    pyproject.toml (and the venv still holds :data:`VENV_MARKERS`); returns the uv used (or to use)."""
    uv = find_uv()
    wanted = _lock_hash()
    complete = all((BIN / name).exists() for name in VENV_MARKERS)
    if STAMP.is_file() and STAMP.read_text().strip() == wanted and complete:
        return uv
    env = _uv_env()
    if not (BIN / "python").exists():
        _say("creating .venv")
        # --seed: pip in the venv (the wheel test and scripts/mutation.py run `python -m pip`); the interpreter
        # running this script, so uv never downloads one.
        subprocess.run(
            [str(uv), "venv", "--quiet", "--seed", "--python", sys.executable, str(VENV)], check=True, env=env
        )
    _say("installing golden-images and its dependencies into .venv from uv.lock")
    # --frozen: exactly the lock, never re-resolved here (`test` checks it still matches pyproject.toml).
    subprocess.run([str(uv), "sync", "--frozen", "--extra", "dev", "--quiet"], cwd=ROOT, check=True, env=env)
    STAMP.write_text(wanted + "\n")
    return uv


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


def run(args: list[str], uv: Path) -> int:
    """Run ``args`` with the venv's bin directory, then ``uv``'s, first on PATH (the real ``pulumi`` CLI runs
    the program through ``uv``, Pulumi.yaml's toolchain)."""
    path = os.pathsep.join([str(BIN), str(uv.parent), os.environ.get("PATH", "")])
    env = {**_uv_env(), "PATH": path, "VIRTUAL_ENV": str(VENV)}
    return subprocess.run(args, cwd=ROOT, env=env, check=False).returncode


def main(argv: list[str]) -> int:
    """Dispatch ``preview``, ``test``, ``run``, ``engine-check``, ``mutation`` or ``lock``; returns the process
    exit code."""
    if sys.version_info < (3, 11):  # noqa: UP036 - this file runs on whatever python3 the user has
        print("golden-images needs Python 3.11 or newer", file=sys.stderr)
        return 2
    if not argv or argv[0] in ("-h", "--help"):
        print(__doc__)
        return 0
    command, rest = argv[0], argv[1:]
    if command == "lock":
        # Before any sync: the venv follows the lock, not the other way round.
        return subprocess.run(
            [str(find_uv()), "lock", *rest], cwd=ROOT, env=_uv_env(), check=False
        ).returncode
    uv = ensure_venv()
    if command == "preview":
        return run([str(BIN / "golden-images"), "preview", *rest], uv)
    if command == "test":
        ensure_system_tools()
        for step in (
            # The lock still resolves pyproject.toml's dependencies (an edit without `dev.py lock` fails here).
            [str(uv), "lock", "--check"],
            [str(BIN / "ruff"), "check", "."],
            [str(BIN / "ruff"), "format", "--check", "."],
            [str(BIN / "mypy")],
        ):
            _say(" ".join(Path(step[0]).name if i == 0 else a for i, a in enumerate(step)))
            if code := run(step, uv):
                return code
        return run([str(BIN / "pytest"), "-n", "2", "--dist", "loadgroup", *rest], uv)
    if command == "run":
        return run(rest, uv)
    if command == "engine-check":
        return run([str(BIN / "python"), str(ROOT / "engine" / "check.py"), *rest], uv)
    if command == "mutation":
        return run([str(BIN / "python"), str(ROOT / "scripts" / "mutation.py"), *rest], uv)
    if command == "coverage":
        return run([str(BIN / "python"), str(ROOT / "scripts" / "coverage.py"), *rest], uv)
    print(f"unknown command {command!r}\n{__doc__}", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
