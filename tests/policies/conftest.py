"""Shared fixtures: one running policy pack per configuration for the whole session."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from policy_support import CONFIGURED, PACK_DIR, PROJECT
from policy_verdicts import Packs

from golden_images.engine.harness import PolicyHarness


def _start(stack: str, config: dict[str, Any] | None = None) -> Iterator[PolicyHarness]:
    with PolicyHarness(PACK_DIR, project=PROJECT, stack=stack, config=config) as harness:
        yield harness


@pytest.fixture(scope="session")
def prod() -> Iterator[PolicyHarness]:
    """The pack with no config on a prod stack: prod-grade defaults."""
    yield from _start("prod")


@pytest.fixture(scope="session")
def configured() -> Iterator[PolicyHarness]:
    """The pack on a prod stack with sharing and datastore allow-lists configured."""
    yield from _start("prod", CONFIGURED)


@pytest.fixture(scope="session")
def dev() -> Iterator[PolicyHarness]:
    """The pack on a dev stack, no config (levels stay mandatory; prod-only rules are off)."""
    yield from _start("dev", CONFIGURED)


@pytest.fixture(scope="module")
def verdict_packs() -> Iterator[Packs]:
    """Packs for a verdict table's cases, started on first use and stopped after the module."""
    packs = Packs()
    try:
        yield packs
    finally:
        packs.close()
