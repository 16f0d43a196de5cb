"""Every policy's name and metadata, as the engine reads them through GetAnalyzerInfo."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from golden_images.engine.harness import PolicyHarness, PolicyInfo
from golden_images_policies import all_policies
from golden_images_policies.base import CONCERNS

NAME = re.compile(r"^(aws|azure|gcp|proxmox|golden-image)(-[a-z0-9]+){2,}$")
NAMES = sorted(p.name for p in all_policies())


@pytest.fixture(scope="module")
def infos(prod: PolicyHarness) -> dict[str, PolicyInfo]:
    return {p.name: p for p in prod.policies()}


def test_pack_identity(prod: PolicyHarness) -> None:
    assert prod.pack_name == "golden-images"
    assert len(NAMES) == len(set(NAMES)) == len(prod.policies())


@pytest.mark.parametrize("name", NAMES)
def test_policy_metadata(infos: dict[str, PolicyInfo], name: str) -> None:
    info = infos[name]
    assert NAME.fullmatch(name), name
    assert info.description.endswith(".") and len(info.description) > 20
    assert info.severity in {"low", "medium", "high", "critical"}
    assert info.enforcement_level == "mandatory", "no config = prod-grade: every policy mandatory"
    assert info.remediation and info.remediation.endswith(".")
    assert info.policy_type in {"resource", "stack"}
    concerns = [t for t in info.tags if t in CONCERNS]
    assert len(concerns) == 1, info.tags
    assert info.tags[0] == concerns[0]


@pytest.mark.parametrize("name", NAMES)
def test_config_schema_defaults_validate(infos: dict[str, PolicyInfo], name: str) -> None:
    """Every config property documents itself and has a default (no config must work)."""
    for prop, schema in (infos[name].config_schema or {}).items():
        assert "default" in schema, (name, prop)
        assert schema.get("description"), (name, prop)


def test_every_concern_is_covered(infos: dict[str, PolicyInfo]) -> None:
    assert {t for i in infos.values() for t in i.tags if t in CONCERNS} == set(CONCERNS)


def test_readme_lists_every_policy() -> None:
    """policies/README.md's policy table names every policy of the pack."""
    readme = (Path(__file__).resolve().parents[2] / "policies" / "README.md").read_text(encoding="utf-8")
    assert [n for n in NAMES if f"| {n} |" not in readme] == []
