"""The shipped per-environment pack configs keep a missing golden parent mandatory.

``policies/config/dev.json`` turns ``all`` advisory, so the rule has to be named there; staging makes every
rule mandatory and prod ships no level overrides. A child whose parent is neither in the stack nor declared
from a registry would otherwise be built on nothing the stack can vouch for.
"""

from __future__ import annotations

import json

import pytest
from policy_support import PACK_DIR, PROJECT
from test_chain import analyze, chain, on

from golden_images.engine.harness import PolicyHarness


@pytest.mark.parametrize("stack", ["dev", "staging", "prod"])
def test_a_missing_parent_is_mandatory_under_the_shipped_config(stack: str) -> None:
    config = json.loads((PACK_DIR / "config" / f"{stack}.json").read_text(encoding="utf-8"))
    _, child = chain("gcp", 1)
    with PolicyHarness(PACK_DIR, project=PROJECT, stack=stack, config=config) as harness:
        [message] = on(analyze(harness, [child]), "golden-image-stack-parent-exists", child)
    assert "base-ubuntu@1.4.2" in message
