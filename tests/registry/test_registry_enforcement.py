"""Done-when of the registry: another team's project launching a revoked AMI (instance and launch template),
previewed with the pack config the registry writes, exits 1 naming the revoked version and reason; the same
project launching a good AMI exits 0. Everything runs through the real CLI (policy-config, preview)."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from golden_images.cli import app
from golden_images.registry import ops, store
from tests.registry.builders import layered_registry

ROOT = Path(__file__).resolve().parents[2]
FIXTURE = ROOT / "tests" / "fixtures" / "registry_consumer"
NOW = dt.datetime.now(dt.UTC).replace(microsecond=0)
REVOKED_AMI = "ami-0000000000000a110"
CHILD_AMI = "ami-0000000000000b200"
GOOD_AMI = "ami-0000000000000a120"


@pytest.fixture(scope="module")
def pack_config(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A registry with base 1.1.0 revoked (and app 2.0.0 built on it), written to a file; then
    ``golden-images registry policy-config`` over it, saved as the pack config file."""
    tmp = tmp_path_factory.mktemp("registry")
    reg = layered_registry(
        {"1.1.0": {"aws": {"us-east-1": REVOKED_AMI}}, "1.2.0": {"aws": {"us-east-1": GOOD_AMI}}},
        now=NOW,
        child={"aws": {"us-east-1": CHILD_AMI}},
        child_of="1.1.0",
    )
    registry = tmp / "registry.yaml"
    store.save(reg, registry)
    common = ["--root", str(ROOT), "--registry", str(registry)]
    revoked = CliRunner().invoke(
        app,
        [
            "revoke",
            "base-ubuntu",
            "1.1.0",
            "--stack",
            "prod",
            "--reason",
            "CVE-2026-0001 in openssh",
            *common,
        ],
    )
    assert revoked.exit_code == 0, revoked.output
    printed = CliRunner().invoke(app, ["registry", "policy-config", "--stack", "prod", *common])
    assert printed.exit_code == 0, printed.output
    config = tmp / "pack-config.json"
    config.write_text(printed.stdout)
    return config


def _preview(tmp_path: Path, pack_config: Path, ami: str) -> tuple[int, dict[str, object]]:
    stack_file = tmp_path / "Pulumi.prod.yaml"
    stack_file.write_text(f"config:\n  aws:region: us-east-1\n  team-c-web:ami: {ami}\n")
    result = CliRunner().invoke(
        app,
        [
            "preview",
            "--root",
            str(FIXTURE),
            "--stack",
            "prod",
            "--stack-file",
            str(stack_file),
            "--policy-config",
            str(pack_config),
            "--json",
        ],
    )
    return result.exit_code, json.loads(result.stdout)


def test_revoked_ami_fails_the_preview(tmp_path: Path, pack_config: Path) -> None:
    code, document = _preview(tmp_path, pack_config, REVOKED_AMI)
    assert code == 1
    violations = document["violations"]
    assert isinstance(violations, list)
    found = {(v["policy"], v["urn"].rsplit("::", 1)[-1], v["level"]) for v in violations}
    assert found == {
        (ops.REVOKED_POLICY, "team-c-web", "mandatory"),
        (ops.REVOKED_POLICY, "team-c-web-template", "mandatory"),
    }
    for v in violations:
        assert "base-ubuntu 1.1.0 (prod)" in v["message"] and "CVE-2026-0001 in openssh" in v["message"]


def test_descendant_ami_fails_naming_the_cause(tmp_path: Path, pack_config: Path) -> None:
    code, document = _preview(tmp_path, pack_config, CHILD_AMI)
    assert code == 1
    violations = document["violations"]
    assert isinstance(violations, list) and len(violations) == 2
    assert all("built on the revoked base-ubuntu 1.1.0 (prod)" in v["message"] for v in violations)


def test_good_ami_passes(tmp_path: Path, pack_config: Path) -> None:
    code, document = _preview(tmp_path, pack_config, GOOD_AMI)
    assert code == 0, document["violations"]
    assert document["violations"] == []
    resources = document["resources"]
    assert isinstance(resources, list)
    assert {r["type"] for r in resources} >= {
        "aws:ec2/instance:Instance",
        "aws:ec2/launchTemplate:LaunchTemplate",
    }
