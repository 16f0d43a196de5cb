"""The policy pack an installed golden-images generates (a wheel has no ``policies/`` directory): written once
per process, the same ``__main__.py`` as the checkout's pack, and a pack the analyzer harness can run with
every policy of the installed rules. ``tests/program/test_wheel.py`` covers it from a real wheel, in a fresh
venv coverage does not measure; this runs the generator in the test process."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from importlib import metadata
from pathlib import Path

import pytest
import yaml

from golden_images import policypack
from golden_images.engine.harness import PolicyHarness
from golden_images_policies import PACK_NAME, all_policies

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def generated(monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A fresh generated pack (the module's once-per-process directory reset for this test, removed after)."""
    monkeypatch.setattr(policypack, "_generated", None)
    directory = policypack.installed_policy_pack()
    yield directory
    shutil.rmtree(directory, ignore_errors=True)


def test_the_generated_pack_is_made_once_per_process(generated: Path) -> None:
    assert policypack.installed_policy_pack() == generated
    assert sorted(p.name for p in generated.iterdir()) == ["PulumiPolicy.yaml", "__main__.py"]


def test_the_generated_entry_builds_the_same_pack_as_the_checkouts(generated: Path) -> None:
    def code(text: str) -> list[str]:
        # The docstrings differ (the generated one says where it comes from); the statements must not.
        body = text.split('"""', 2)[2]
        return [line for line in body.splitlines() if line.strip()]

    assert code((generated / "__main__.py").read_text()) == code(
        (ROOT / "policies" / "__main__.py").read_text()
    )
    project = yaml.safe_load((generated / "PulumiPolicy.yaml").read_text())
    checkout = yaml.safe_load((ROOT / "policies" / "PulumiPolicy.yaml").read_text())
    # No virtualenv option: the pack runs with the interpreter that runs golden-images.
    assert project == {
        "runtime": "python",
        "version": policypack.package_version(),
        "description": checkout["description"],
    }


def test_the_generated_pack_runs_every_installed_policy(generated: Path) -> None:
    with PolicyHarness(generated, project="golden-images", stack="prod") as harness:
        assert harness.pack_name == PACK_NAME
        assert [p.name for p in harness.policies()] == sorted(p.name for p in all_policies())
        assert harness.analyze([]) == []


def test_a_tree_that_was_never_installed_reports_an_unknown_version(monkeypatch: pytest.MonkeyPatch) -> None:
    def not_installed(name: str) -> str:
        raise metadata.PackageNotFoundError(name)

    monkeypatch.setattr(policypack.metadata, "version", not_installed)
    assert policypack.package_version() == "0+unknown"
    assert "version: 0+unknown\n" in policypack.pack_project(policypack.package_version())
