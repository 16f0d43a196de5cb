"""Replay of written-out verdict tables: literal resources in, the exact violations (policy, level, whole
message, URN) out, through the running pack.

Each ``verdicts_*.json`` beside a family's tests holds ``packs`` (id -> ``{"stack", "config"}``: the stack
name and the policy pack config a pack is started with) and ``cases`` (``{"pack", "resources", "violations"}``,
the violations as ``[policy, level, message, urn]`` rows). The resources are the ones the hand-written tests
send (their inputs, recorded once); the violations are what the pack answered, reviewed and kept as literal
text. The hand-written tests assert the verdict and its key phrase; these tables pin every sentence word for
word, so a changed message, a branch taken wrongly or a violation lost or added fails here. A deliberate change
edits the table in the same commit.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from policy_support import PACK_DIR, PROJECT

from golden_images.engine.harness import PolicyHarness
from golden_images.engine.model import RegisteredResource

Case = dict[str, Any]


@dataclass(frozen=True)
class Table:
    """One verdict table: its packs (id -> stack and config) and its cases."""

    packs: dict[str, dict[str, Any]]
    cases: list[Case]


def load(path: Path) -> Table:
    """The table at ``path``."""
    document = json.loads(path.read_text(encoding="utf-8"))
    return Table(packs=document["packs"], cases=document["cases"])


def case_id(index: int, case: Case) -> str:
    """``<pack id>-<index>-<resource names>`` for test ids."""
    return f"{case['pack']}-{index}-" + "+".join(r["name"] for r in case["resources"])


class Packs:
    """Running packs started on first use, one per table pack id, closed by :meth:`close`."""

    def __init__(self) -> None:
        self._running: dict[str, PolicyHarness] = {}

    def get(self, table: Table, pack_id: str) -> PolicyHarness:
        pack = table.packs[pack_id]
        key = json.dumps([pack["stack"], pack["config"]], sort_keys=True)
        if key not in self._running:
            harness = PolicyHarness(PACK_DIR, project=PROJECT, stack=pack["stack"], config=pack["config"])
            self._running[key] = harness.__enter__()
        return self._running[key]

    def close(self) -> None:
        for harness in self._running.values():
            harness.close()
        self._running.clear()


def verdict(packs: Packs, table: Table, case: Case) -> list[list[str]]:
    """The pack's violations for ``case`` as sorted ``[policy, level, message, urn]`` rows."""
    resources = [
        RegisteredResource(
            urn=r["urn"],
            type=r["type"],
            name=r["name"],
            parent=r["parent"],
            custom=r["custom"],
            inputs=r["inputs"],
        )
        for r in case["resources"]
    ]
    found = packs.get(table, case["pack"]).analyze(resources)
    return sorted([v.policy, v.level, v.message, v.urn] for v in found)
