"""Registries for tests, built through the registry's own operations (``ops.record``), so every test starts
from a registry the commands themselves could have written."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping

from golden_images.registry import ops
from golden_images.registry.model import SCHEMA_VERSION, Registry, VersionRef

#: platform → location → artifact id, as recorded.
Artifacts = Mapping[str, Mapping[str, str]]


def ref(version: str, image: str = "base-ubuntu") -> VersionRef:
    """The prod version ``image@version``."""
    return VersionRef(image=image, environment="prod", version=version)


def layered_registry(
    base: Mapping[str, Artifacts],
    *,
    now: dt.datetime,
    child: Artifacts | None = None,
    child_of: str | None = None,
) -> Registry:
    """A prod registry with ``base-ubuntu`` recorded at each version of ``base`` (fingerprint derived from the
    version) and, with ``child``, ``app-runtime 2.0.0`` built on ``base-ubuntu`` ``child_of``."""
    reg = Registry(schema_version=SCHEMA_VERSION)
    for version, artifacts in base.items():
        reg, _ = ops.record(
            reg,
            image="base-ubuntu",
            environment="prod",
            version=version,
            fingerprint=version.replace(".", "") * 20,
            artifacts=artifacts,
            parent=None,
            now=now,
        )
    if child is not None:
        reg, _ = ops.record(
            reg,
            image="app-runtime",
            environment="prod",
            version="2.0.0",
            fingerprint="2" * 64,
            artifacts=child,
            parent=ref(child_of) if child_of else None,
            now=now,
        )
    return reg
