"""What the policies' config schemas refuse, through the harness's engine-equivalent config validation.

The engine validates each policy's config against ``{"type": "object", "properties": ..., "required": ...}``
built from the schema the pack sends (pulumi-policy's ``PolicyConfigSchema`` carries only ``properties`` and
``required``), so a misspelt *top-level* option cannot be refused by schema; nested objects with a fixed set of
keys (the registry's revoked-artifact entries) refuse unknown keys with ``additionalProperties: false``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from policy_support import PACK_DIR, PROJECT

from golden_images.engine.harness import PolicyConfigError, PolicyHarness, load_policy_config

#: A revoked-artifact entry exactly as ``golden-images registry policy-config`` writes it (all nine keys).
ENTRY: dict[str, Any] = {
    "id": "ami-0123456789abcdef0",
    "platform": "aws",
    "location": "eu-west-1",
    "image": "base",
    "version": "1.2.0",
    "environment": "prod",
    "reason": "CVE-2026-0001",
    "at": "2026-01-01T00:00:00Z",
    "cause": None,
}


def _start(tmp_path: Path, config: dict[str, Any]) -> None:
    path = tmp_path / "pack-config.json"
    path.write_text(json.dumps(config))
    with PolicyHarness(PACK_DIR, project=PROJECT, stack="prod", config=load_policy_config(path)) as harness:
        assert harness.policies()


@pytest.mark.parametrize(
    "policy", ["golden-image-launch-not-revoked", "golden-image-launch-revocation-scheduled"]
)
def test_misspelt_key_in_a_revoked_artifact_is_refused(tmp_path: Path, policy: str) -> None:
    entry = {**ENTRY, "reson": ENTRY["reason"]}
    with pytest.raises(PolicyConfigError) as caught:
        _start(tmp_path, {policy: {"revokedArtifacts": [entry]}})
    message = str(caught.value)
    assert "pack-config.json" in message
    assert (
        f"{policy}: revokedArtifacts.0: Additional properties are not allowed ('reson' was unexpected)"
        in message
    )


def test_a_registry_written_artifact_is_accepted(tmp_path: Path) -> None:
    _start(
        tmp_path,
        {
            "golden-image-launch-not-revoked": {"revokedArtifacts": [ENTRY]},
            "golden-image-launch-revocation-scheduled": {
                "revokedArtifacts": [{**ENTRY, "cause": "base 1.1.0"}]
            },
        },
    )
