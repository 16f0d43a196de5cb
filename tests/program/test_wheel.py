"""The built wheel carries what a pip-installed user needs: the library, the rules package and the published
version-record schema (package data), and nothing of the repository's own tree."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_wheel_ships_the_schema_and_both_packages(tmp_path: Path) -> None:
    # Built from a copy of the tree so the build's egg-info and build/ directories never land in the checkout
    # (the isolated build env fetches setuptools>=77 from the package index, as any pip install does).
    src = tmp_path / "src"
    subprocess.run(
        ["git", "-C", str(ROOT), "archive", "--format=tar", "-o", str(tmp_path / "src.tar"), "HEAD"],
        check=True,
    )
    src.mkdir()
    subprocess.run(["tar", "-xf", str(tmp_path / "src.tar"), "-C", str(src)], check=True)
    # The working tree's pyproject and schema may be newer than HEAD (uncommitted edits under test).
    (src / "pyproject.toml").write_bytes((ROOT / "pyproject.toml").read_bytes())
    out = tmp_path / "dist"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "-q",
            "--no-deps",
            "-w",
            str(out),
            str(src),
        ],
        check=True,
        capture_output=True,
    )
    (wheel,) = out.glob("golden_images-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    assert "golden_images/schemas/version-record.schema.json" in names
    assert "golden_images/cli.py" in names and "golden_images_policies/pack.py" in names
    assert not any(n.startswith(("tests/", "stacks/", "images/")) for n in names)
