"""The EC2 Image Builder rules' verdict table (``verdicts_imagebuilder.json``):
every case's violations, word for word."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from policy_verdicts import Packs, case_id, load, verdict

TABLE = load(Path(__file__).resolve().parent / "verdicts_imagebuilder.json")


@pytest.mark.parametrize("case", TABLE.cases, ids=[case_id(i, c) for i, c in enumerate(TABLE.cases)])
def test_verdict_word_for_word(verdict_packs: Packs, case: dict[str, Any]) -> None:
    assert verdict(verdict_packs, TABLE, case) == sorted(case["violations"])
