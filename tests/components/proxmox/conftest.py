"""Fixtures shared by the PVE client tests: the local fake PVE API and the builder VM it serves."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.components.proxmox.fake_pve import FakePve, serve

#: The fingerprint and VM id of the builder the tests bake, and the template tags with ``{v}`` for the version.
FP = "a" * 64
VMID = 1_010_402
TAGS = (
    "environment_dev;golden-image_base-ubuntu;image-version_{v};managed-by_golden-images;owner_platform-team"
)


@pytest.fixture
def fake(tmp_path: Path) -> Iterator[tuple[str, FakePve]]:
    """``(endpoint, state)`` of a fake PVE API served on 127.0.0.1 for one test."""
    yield from serve(tmp_path)
