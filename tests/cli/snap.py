"""Reviewed snapshots of rendered text under ``tests/cli/snapshots``.

A deliberate change regenerates them with ``GOLDEN_IMAGES_UPDATE_SNAPSHOTS=1 .venv/bin/python -m pytest
tests/cli`` and the diff is read in review. Every check also asserts that no line is wider than the width the
text was rendered for (what "designed for 80 columns" means, measured).
"""

from __future__ import annotations

import io
import os
import re
from collections.abc import Callable, Iterable
from pathlib import Path

from rich.console import Console

SNAPSHOTS = Path(__file__).resolve().parent / "snapshots"
WIDTHS = (80, 120)
_IDS = re.compile(r"\b(ami|snap|lt|i)-[0-9a-f]{8,17}\b")


def console(width: int) -> Console:
    """A plain (no colour, no terminal) console of ``width`` columns recording what it prints."""
    return Console(
        file=io.StringIO(), width=width, color_system=None, force_terminal=False, record=True, highlight=False
    )


def rendered(width: int, draw: Callable[[Console], None]) -> str:
    """What ``draw`` prints on a :func:`console` of ``width`` columns, trailing spaces removed."""
    out = console(width)
    draw(out)
    return "\n".join(line.rstrip() for line in out.export_text().splitlines()) + "\n"


def stable_ids(text: str, order: Iterable[str] = ()) -> str:
    """moto's random resource ids replaced by numbered ones of the same length (so the layout is the one
    the real ids get): ids listed in ``order`` first, in that order, then the others as they appear."""
    mapping: dict[str, str] = {}

    def number(found: str) -> str:
        if found not in mapping:
            prefix, _, digits = found.partition("-")
            mapping[found] = f"{prefix}-{len(mapping) + 1:0{len(digits)}d}"
        return mapping[found]

    for known in order:
        number(known)
    return _IDS.sub(lambda m: number(m.group(0)), text)


def check(name: str, text: str, width: int) -> None:
    """``text`` equals ``snapshots/<name>.txt`` (written instead when regenerating) and fits ``width``."""
    wide = [line for line in text.splitlines() if len(line) > width]
    assert not wide, f"{name}: lines wider than {width} columns: {wide[:3]}"
    path = SNAPSHOTS / f"{name}.txt"
    if os.environ.get("GOLDEN_IMAGES_UPDATE_SNAPSHOTS") == "1":
        path.write_text(text, encoding="utf-8")
    assert path.is_file(), f"no snapshot {path}; regenerate (see tests/cli/snap.py)"
    assert text == path.read_text(encoding="utf-8"), f"{name} changed; regenerate and review the diff"
