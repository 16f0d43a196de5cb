"""``golden-images lineage`` as a person reads it (the text, not ``--json``): the ancestor chain and "no
descendants" of a layered image; the project found from the working directory when ``--root`` is not
given, and refused outside one; and a broken stack file refused with exit 2 naming it. Run through the real
CLI app (``cli.py`` mounts the command)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from golden_images.cli import app
from tests.conftest import ROOT

runner = CliRunner()


def _flat(text: str) -> str:
    return " ".join(text.split())


def test_text_output_shows_the_parent_chain_and_no_descendants(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT / "images")  # a directory below the project: Pulumi.yaml is found above it
    result = runner.invoke(app, ["lineage", "app-runtime", "--stack", "dev"])
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0].startswith("dev: app-runtime@")
    assert lines[1].strip().startswith("^ base-ubuntu@1.4.2")
    assert "no descendants" in result.stdout


def test_text_output_of_the_base_lists_its_descendant(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)
    result = runner.invoke(app, ["lineage", "base-ubuntu", "--stack", "prod"])
    assert result.exit_code == 0, result.output
    out = _flat(result.stdout)
    assert "v app-runtime@" in out and "(on base-ubuntu)" in out
    assert "vendor source (aws): ami-" in out
    assert "no descendants" not in out


def test_outside_a_project_without_root_exits_2(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)  # the temp dir is outside the repository: no Pulumi.yaml above it
    result = runner.invoke(app, ["lineage", "app-runtime"])
    assert result.exit_code == 2
    assert "no Pulumi.yaml in" in _flat(result.output)
    assert "pass --root" in _flat(result.output)


def test_a_broken_stack_file_exits_2_naming_it(tmp_path: Path) -> None:
    project = tmp_path / "project"
    (project / "stacks").mkdir(parents=True)
    shutil.copy(ROOT / "Pulumi.yaml", project / "Pulumi.yaml")
    (project / "stacks" / "Pulumi.dev.yaml").write_text(
        "config:\n  golden-images:catalog: [not, a, catalog]\n"
    )
    result = runner.invoke(app, ["lineage", "app-runtime", "--stack", "dev", "--root", str(project)])
    assert result.exit_code == 2
    assert "stacks/Pulumi.dev.yaml: config.golden-images:catalog: the catalog is a list" in _flat(
        result.output
    )
    assert "Traceback" not in result.output
