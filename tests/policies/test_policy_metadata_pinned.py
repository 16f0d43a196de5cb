"""Every policy's full metadata, written out: ``policy_metadata.json`` holds, per policy, the description,
enforcement level, severity, tags, remediation, config schema (as the engine reads it through GetAnalyzerInfo,
numbers as the protobuf Struct carries them) and the resource types it judges.

A reworded description, a changed default or pattern, a dropped type all fail here; a deliberate change edits
the JSON in the same commit, so the diff shows it.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from golden_images.engine.harness import PolicyHarness
from golden_images_policies import all_policies
from golden_images_policies.registry import POLICY_TYPES

EXPECTED: dict[str, dict[str, Any]] = json.loads(
    (Path(__file__).resolve().parent / "policy_metadata.json").read_text(encoding="utf-8")
)


@pytest.fixture(scope="module")
def reported(prod: PolicyHarness) -> dict[str, dict[str, Any]]:
    return {
        p.name: {
            "description": p.description,
            "enforcementLevel": p.enforcement_level,
            "severity": p.severity,
            "policyType": p.policy_type,
            "tags": list(p.tags),
            "remediation": p.remediation,
            "configSchema": dict(p.config_schema) if p.config_schema else None,
            "requiredConfig": list(p.required_config),
        }
        for p in prod.policies()
    }


def test_the_pack_has_exactly_the_pinned_policies(reported: dict[str, dict[str, Any]]) -> None:
    assert sorted(reported) == sorted(EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_metadata_is_pinned(reported: dict[str, dict[str, Any]], name: str) -> None:
    expected = {k: v for k, v in EXPECTED[name].items() if k != "types"}
    assert reported[name] == expected


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_types_are_pinned(name: str) -> None:
    all_policies()  # registers every module's policies
    types = POLICY_TYPES.get(name)
    assert (sorted(types) if types is not None else None) == EXPECTED[name]["types"]
