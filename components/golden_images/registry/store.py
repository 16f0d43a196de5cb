"""Read and write ``stacks/registry.yaml``.

Reading uses the stack files' hostile-input YAML reader (:mod:`golden_images.core.safeyaml`) and the strict
model; every problem is reported at once as :class:`~golden_images.catalog.loader.Issue` (file, dotted field
path, message) in a :class:`RegistryError`. A missing file is an empty registry. Writing is deterministic
(images and channels sorted by name, fields in schema order, ``None`` fields left out, timestamps as quoted
ISO-8601 UTC) and atomic (temporary file, then rename), so an unchanged registry rewrites byte-identical.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Final

import yaml
from pydantic import ValidationError

from golden_images.catalog.loader import CatalogError, Issue
from golden_images.core import safeyaml, yamlout

from .model import SCHEMA_VERSION, Registry

#: Where the registry lives, relative to the project root.
DEFAULT_PATH: Final = Path("stacks") / "registry.yaml"
_HEADER: Final = (
    "# golden-images image registry: written by `golden-images registry record`, `promote` and `revoke`.\n"
    "# Review changes in pull requests; edit by hand only to fix a mistake (the commands validate it).\n"
)


class RegistryError(CatalogError):
    """The registry file is invalid; ``issues`` lists every problem (same shape as catalog errors)."""


def _dotted(loc: Sequence[int | str]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out


def parse(text: str, file: str) -> Registry:
    """Validate registry ``text`` (named ``file`` in errors); raise :class:`RegistryError`."""
    try:
        document = safeyaml.load(text)
    except safeyaml.YamlError as problem:
        raise RegistryError([Issue(file, problem.path, str(problem))]) from None
    except yaml.YAMLError as problem:
        raise RegistryError([Issue(file, "", f"not valid YAML: {problem}")]) from None
    if document is None:
        document = {"schema_version": SCHEMA_VERSION}
    if not isinstance(document, dict):
        raise RegistryError(
            [Issue(file, "", "the registry must be a mapping with schema_version and images")]
        )
    try:
        return Registry.model_validate(document)
    except ValidationError as err:
        issues = []
        for e in err.errors():
            # Validators of a whole model report under its own location; their message carries the detail.
            message = str(e["msg"]).removeprefix("Value error, ")
            issues.append(Issue(file, _dotted(e["loc"]), message))
        raise RegistryError(issues) from None


def load(path: Path) -> Registry:
    """The registry at ``path``; an empty one (current schema) when the file does not exist."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return Registry(schema_version=SCHEMA_VERSION)
    except OSError as error:
        raise RegistryError([Issue(str(path), "", f"cannot be read: {error.strerror or error}")]) from None
    try:
        text = safeyaml.decode(data)
    except safeyaml.YamlError as problem:
        raise RegistryError([Issue(str(path), problem.path, str(problem))]) from None
    return parse(text, str(path))


def to_document(registry: Registry) -> dict[str, Any]:
    """The plain, deterministically ordered document of ``registry`` (what :func:`dump` writes)."""
    raw = registry.model_dump(mode="json", exclude_none=True)
    images: dict[str, Any] = {}
    for name in sorted(raw.get("images", {})):
        entry = raw["images"][name]
        entry["channels"] = {c: entry["channels"][c] for c in sorted(entry.get("channels", {}))}
        images[name] = entry
    return {"schema_version": raw["schema_version"], "images": images}


def dump(registry: Registry) -> str:
    """YAML text of ``registry`` (see module docstring)."""
    return _HEADER + yamlout.dump(to_document(registry))


def save(registry: Registry, path: Path) -> bool:
    """Write ``registry`` to ``path`` atomically; ``False`` (nothing written) when the file already holds
    exactly that text."""
    text = dump(registry)
    try:
        if path.read_text(encoding="utf-8") == text:
            return False
    except (FileNotFoundError, UnicodeDecodeError):
        pass
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".registry-", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return True
