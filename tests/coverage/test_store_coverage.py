"""The registry file's reader and writer on the inputs the command tests do not send: an empty file, a
document that is not a mapping, a path that cannot be read, bytes that are not UTF-8, and a write that fails
after the temporary file was made (the registry must keep its old text and no temporary file may stay)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from golden_images.registry import store
from golden_images.registry.model import SCHEMA_VERSION, Registry


def test_an_empty_registry_file_is_an_empty_registry_of_the_current_schema() -> None:
    registry = store.parse("", "stacks/registry.yaml")
    assert registry.schema_version == SCHEMA_VERSION
    assert registry.images == {}


def test_a_document_that_is_not_a_mapping_is_refused_naming_the_file() -> None:
    with pytest.raises(store.RegistryError) as caught:
        store.parse("- base-ubuntu\n- app-runtime\n", "stacks/registry.yaml")
    (issue,) = caught.value.issues
    assert issue.file == "stacks/registry.yaml"
    assert issue.message == "the registry must be a mapping with schema_version and images"


def test_a_registry_path_that_cannot_be_read_is_refused_with_the_reason(tmp_path: Path) -> None:
    directory = tmp_path / "registry.yaml"
    directory.mkdir()  # reading a directory fails with EISDIR, not FileNotFoundError
    with pytest.raises(store.RegistryError) as caught:
        store.load(directory)
    (issue,) = caught.value.issues
    assert issue.file == str(directory)
    assert issue.message == "cannot be read: Is a directory"


def test_a_registry_file_that_is_not_utf8_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "registry.yaml"
    path.write_bytes(b"schema_version: 1\nimages: {caf\xe9: {}}\n")
    with pytest.raises(store.RegistryError) as caught:
        store.load(path)
    (issue,) = caught.value.issues
    assert issue.file == str(path)
    assert "UTF-8" in issue.message


def test_a_failed_write_keeps_the_old_file_and_leaves_no_temporary_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "registry.yaml"
    old = Registry(schema_version=SCHEMA_VERSION)
    assert store.save(old, path) is True
    before = path.read_bytes()

    def no_space(src: str, dst: str) -> None:
        raise OSError(28, "No space left on device")

    # The rename is the step after the temporary file is written; failing it exercises the cleanup.
    monkeypatch.setattr(os, "replace", no_space)
    with pytest.raises(OSError, match="No space left"):
        store.save(old, path.with_name("other.yaml"))
    monkeypatch.undo()
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["registry.yaml"]


def test_saving_the_same_registry_twice_writes_once(tmp_path: Path) -> None:
    path = tmp_path / "nested" / "registry.yaml"
    registry = Registry(schema_version=SCHEMA_VERSION)
    assert store.save(registry, path) is True  # the directory is created
    mtime = path.stat().st_mtime_ns
    assert store.save(registry, path) is False
    assert path.stat().st_mtime_ns == mtime
