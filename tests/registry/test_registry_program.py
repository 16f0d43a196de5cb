"""The project's real program (its ``__main__.py``, which exports the registry view through
``golden_images.program.run``), previewed through the real CLI with the policy pack: the ``registry`` stack
output is the consumer view, exactly one channel SSM parameter per region is registered, and the pack finds
nothing mandatory on them."""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
from pathlib import Path

from typer.testing import CliRunner

from golden_images.cli import app
from golden_images.registry import ops, store
from tests.registry.builders import layered_registry, ref

ROOT = Path(__file__).resolve().parents[2]
NOW = dt.datetime.now(dt.UTC).replace(microsecond=0)


def _project(tmp_path: Path) -> Path:
    """A copy of the project (stack files, pins, image files; the policy pack linked) whose
    registry has base-ubuntu 1.4.2 (the prod catalog's version) on stable and 1.3.0 revoked on ``old``."""
    project = tmp_path / "golden-images"
    project.mkdir()
    shutil.copy(ROOT / "Pulumi.yaml", project / "Pulumi.yaml")
    shutil.copytree(ROOT / "stacks", project / "stacks")
    shutil.copytree(ROOT / "images", project / "images")  # referenced files must be inside the root
    os.symlink(ROOT / "policies", project / "policies")
    # The real entry point, unchanged: the export is the program's own (no second wiring here).
    shutil.copy(ROOT / "__main__.py", project / "__main__.py")
    amis = {"us-east-1": "ami-0000000000000a142", "eu-west-1": "ami-0000000000000e142"}
    reg = layered_registry(
        {"1.3.0": {"aws": {"us-east-1": "ami-0000000000000a130"}}, "1.4.2": {"aws": amis}}, now=NOW
    )
    reg, _ = ops.promote(reg, ref("1.4.2"), "stable", now=NOW)
    reg, _ = ops.promote(reg, ref("1.3.0"), "old", now=NOW)
    reg, _ = ops.revoke(reg, ref("1.3.0"), reason="CVE-2026-0001", at=NOW, now=NOW)
    store.save(reg, project / "stacks" / "registry.yaml")
    return project


def test_program_exports_the_registry_and_the_pack_accepts_the_parameters(tmp_path: Path) -> None:
    project = _project(tmp_path)
    result = CliRunner().invoke(app, ["preview", "--root", str(project), "--stack", "prod", "--json"])
    doc = json.loads(result.stdout)
    output = doc["outputs"]["registry"]
    stable = output["images"]["base-ubuntu"]["channels"]["stable"]
    assert stable["version"] == "1.4.2" and stable["artifacts"]["aws"]["eu-west-1"] == "ami-0000000000000e142"
    assert output["images"]["base-ubuntu"]["channels"]["old"]["revocation"]["reason"] == "CVE-2026-0001"
    params = [r for r in doc["resources"] if r["type"] == "aws:ssm/parameter:Parameter"]
    # Exact and without duplicates: one per region of the stable channel (the revoked ``old`` has none).
    assert sorted(r["name"] for r in params) == [
        "registry-base-ubuntu-stable-eu-west-1",
        "registry-base-ubuntu-stable-us-east-1",
    ]
    on_params = [v for v in doc["violations"] if "Parameter::registry-" in str(v.get("urn", ""))]
    assert [v for v in on_params if v.get("enforcementLevel") == "mandatory"] == [], on_params
    # The same preview without the export's resources decides the exit code: adding them changes nothing.
    assert result.exit_code in (0, 1)
    baseline = CliRunner().invoke(app, ["preview", "--root", str(ROOT), "--stack", "prod", "--json"])
    assert result.exit_code == baseline.exit_code, (result.stdout[-2000:], baseline.stdout[-2000:])
