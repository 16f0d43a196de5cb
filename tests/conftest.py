"""Shared fixtures: the project root, a fresh event loop per test, and helpers to run the program for a
stack (or a modified catalog) under Pulumi mocks."""

from __future__ import annotations

import asyncio
import copy
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from golden_images.catalog.loader import CATALOG_KEY
from golden_images.engine.model import RegisteredResource
from golden_images.preview.runner import ProgramRun, run_program

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(autouse=True)
def fresh_event_loop() -> Iterator[None]:
    """Pulumi keeps per-loop state; every test gets its own loop or later tests fail with
    "There is no current event loop"."""
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    yield
    loop.close()
    asyncio.set_event_loop(None)


def stack_document(stack: str) -> dict[str, Any]:
    """The parsed stack file ``stacks/Pulumi.<stack>.yaml``."""
    return yaml.safe_load((ROOT / "stacks" / f"Pulumi.{stack}.yaml").read_text())


def stack_catalog(stack: str) -> dict[str, Any]:
    """A deep copy of the raw catalog of ``stack``, for tests to modify."""
    return copy.deepcopy(stack_document(stack)["config"][CATALOG_KEY])


def write_stack(directory: Path, stack: str, catalog: Any, extra: dict[str, Any] | None = None) -> Path:
    """Write a stack file holding ``catalog`` (plus ``extra`` config) and return its path."""
    document = copy.deepcopy(stack_document(stack))
    document["config"][CATALOG_KEY] = catalog
    document["config"].update(extra or {})
    path = directory / f"Pulumi.{stack}.yaml"
    path.write_text(yaml.safe_dump(document, sort_keys=False))
    return path


RunStack = Callable[..., ProgramRun]


@pytest.fixture
def run_stack(tmp_path: Path) -> RunStack:
    """``run_stack(stack, catalog=None, root=ROOT)`` runs the program under mocks; with ``catalog`` the stack
    file is replaced by one holding that raw catalog."""

    def _run(
        stack: str, catalog: Any = None, root: Path = ROOT, extra: dict[str, Any] | None = None
    ) -> ProgramRun:
        stack_file = None
        if catalog is not None or extra is not None:
            raw = catalog if catalog is not None else stack_catalog(stack)
            stack_file = write_stack(tmp_path, stack, raw, extra)
        return run_program(root, stack, stack_file=stack_file)

    return _run


def by_type(resources: list[RegisteredResource], token: str) -> list[RegisteredResource]:
    """Registrations of one type token."""
    return [r for r in resources if r.type == token]


def one(resources: list[RegisteredResource], token: str, name: str) -> RegisteredResource:
    """The single registration of ``token`` called ``name``."""
    found = [r for r in resources if r.type == token and r.name == name]
    assert len(found) == 1, (
        f"expected one {token} named {name}, got {[r.name for r in by_type(resources, token)]}"
    )
    return found[0]


def assert_refused(run: ProgramRun, stack: str, path: str, words: str) -> None:
    """The program refused its catalog: the error names ``stacks/Pulumi.<stack>.yaml`` and the dotted
    ``path``, that problem's line says ``words``, and nothing was registered."""
    assert run.error is not None, "the program accepted a bad catalog"
    message = str(run.error)
    assert f"stacks/Pulumi.{stack}.yaml: {path}:" in message, message
    line = next(line for line in message.splitlines() if f": {path}:" in line)
    assert words in line, line
    assert run.resources == [], "nothing may be registered when the catalog is invalid"


@pytest.fixture
def requests_seen(monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """The raw RegisterResource requests of the next program run, by resource name: resource options such as
    ``retainOnDelete`` and ``dependencies`` are not part of :class:`RegisteredResource`."""
    from golden_images.preview.runner import CapturingMonitor

    seen: dict[str, Any] = {}
    original = CapturingMonitor.RegisterResource

    def spy(self: CapturingMonitor, request: Any) -> Any:
        seen[request.name] = request
        return original(self, request)

    monkeypatch.setattr(CapturingMonitor, "RegisterResource", spy)
    return seen
