"""The preview ``--json`` of dev, staging and prod, pinned byte for byte against reviewed snapshots.

A restructuring must leave these identical; a deliberate change in behaviour regenerates them with
``GOLDEN_IMAGES_UPDATE_SNAPSHOTS=1 .venv/bin/python -m pytest tests/program/test_preview_snapshot.py`` and the
diff is reviewed in the pull request. Violations are compared in a stable order (the pack analyzes resources
concurrently, so their arrival order is not part of the contract).
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from golden_images.cli import app
from tests.conftest import ROOT

SNAPSHOTS = Path(__file__).resolve().parent / "snapshots"


def _canonical(document: dict[str, Any]) -> str:
    document = dict(document)
    # The pack's absolute path depends on where the checkout lives; the snapshot pins it relative to the root.
    pack = Path(document.get("policyPack", ""))
    if pack.is_absolute() and pack.is_relative_to(ROOT):
        document["policyPack"] = pack.relative_to(ROOT).as_posix()
    document["violations"] = sorted(
        document["violations"], key=lambda v: json.dumps(v, sort_keys=True, ensure_ascii=False)
    )
    return json.dumps(document, indent=1, sort_keys=True, ensure_ascii=False) + "\n"


@pytest.mark.parametrize("stack", ["dev", "staging", "prod"])
def test_preview_json_is_pinned(stack: str) -> None:
    result = CliRunner().invoke(app, ["preview", "--root", str(ROOT), "--stack", stack, "--json"])
    assert result.exit_code == 0, result.output
    got = _canonical(json.loads(result.stdout))
    snapshot = SNAPSHOTS / f"preview-{stack}.json"
    if os.environ.get("GOLDEN_IMAGES_UPDATE_SNAPSHOTS") == "1":
        snapshot.write_text(got, encoding="utf-8")
    assert got == snapshot.read_text(encoding="utf-8"), (
        f"the {stack} preview changed; if that is intended, regenerate the snapshot (see the module docstring)"
    )
