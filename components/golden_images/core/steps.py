"""Steps with their repository content resolved, the form every platform renderer consumes.

Reading the files once here keeps renderers pure (no I/O) and lets the fingerprint hash exactly what the
renderers embed.
"""

from __future__ import annotations

import functools
import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from golden_images.core import repofiles
from golden_images.core.image import FileStep, ImageCore, PackagesStep, ScriptStep, ShellStep, Step

Phase = Literal["provision", "validate", "test"]


@dataclass(frozen=True)
class ResolvedStep:
    """A step ready to render. ``kind`` is shell|script|file|packages; ``content`` is the shell text (inline
    or the script file's content, exactly as in the repository: no newline translation); ``data`` the copied
    file's bytes (file steps only, may be binary); ``source`` the repo path for script/file."""

    kind: str
    name: str
    content: str = ""
    data: bytes = b""
    source: str | None = None
    args: tuple[str, ...] = ()
    destination: str | None = None
    sha256: str | None = None
    mode: str | None = None
    owner: str | None = None
    packages: tuple[str, ...] = ()

    def identity(self) -> dict[str, object]:
        """Everything that affects the built bytes, JSON-ready (used by the fingerprint)."""
        return {
            "kind": self.kind,
            # A file's bytes or a script's UTF-8 text: for a text file both hash the same, so moving text
            # between the two never changes the fingerprint by itself.
            "content_sha256": hashlib.sha256(
                self.data if self.kind == "file" else self.content.encode()
            ).hexdigest(),
            "args": list(self.args),
            "destination": self.destination,
            "sha256": self.sha256,
            "mode": self.mode,
            "owner": self.owner,
            "packages": list(self.packages),
        }


@dataclass(frozen=True)
class ResolvedSteps:
    """All phases of an image with content resolved."""

    provision: tuple[ResolvedStep, ...]
    validate: tuple[ResolvedStep, ...]
    test: tuple[ResolvedStep, ...]

    def phases(self) -> tuple[tuple[Phase, tuple[ResolvedStep, ...]], ...]:
        """``(phase, steps)`` pairs in build order."""
        return (("provision", self.provision), ("validate", self.validate), ("test", self.test))

    def files(self) -> tuple[ResolvedStep, ...]:
        """Steps that carry a repository file (script or file), in order, for platforms that upload them."""
        return tuple(s for _, steps in self.phases() for s in steps if s.source is not None)


@functools.lru_cache(maxsize=1024)
def _read_bytes(root: Path, relative: str, real: Path, mtime_ns: int, size: int) -> bytes:
    # Keyed on the resolved path, mtime and size so a long-lived process (benchmarks, tests) sees edits and
    # a re-pointed symlink; cached otherwise.
    del real, mtime_ns, size
    return repofiles.read_bytes(root, relative)


def read_repo_bytes(root: Path, relative: str) -> bytes:
    """Exact bytes of a repository file, read through :func:`repofiles.read_bytes` (resolved inside the
    repository, regular file, size-capped) so the bytes a renderer embeds are the bytes the loader checked;
    cached by resolved path, modification time and size."""
    real = repofiles.resolve(root, relative)
    stat = real.stat()
    return _read_bytes(root, relative, real, stat.st_mtime_ns, stat.st_size)


def read_repo_text(root: Path, relative: str) -> str:
    """UTF-8 text of a repository file, byte for byte (``\\r\\n`` stays ``\\r\\n``: the text a script step
    runs is the text that was reviewed and hashed)."""
    return read_repo_bytes(root, relative).decode("utf-8")


def _resolve(step: Step, index: int, phase: str, root: Path) -> ResolvedStep:
    default_name = f"{phase}-{index + 1:02d}"
    name = step.name or default_name
    if isinstance(step, ShellStep):
        return ResolvedStep(kind="shell", name=name, content=step.shell)
    if isinstance(step, ScriptStep):
        return ResolvedStep(
            kind="script",
            name=step.name or f"{default_name}-{Path(step.script).stem}",
            content=read_repo_text(root, step.script),
            source=step.script,
            args=step.args,
        )
    if isinstance(step, FileStep):
        return ResolvedStep(
            kind="file",
            name=step.name or f"{default_name}-{Path(step.file).name}",
            data=read_repo_bytes(root, step.file),
            source=step.file,
            destination=step.destination,
            sha256=step.sha256,
            mode=step.mode,
            owner=step.owner,
        )
    assert isinstance(step, PackagesStep)
    return ResolvedStep(kind="packages", name=name, packages=step.packages)


def resolve_steps(image: ImageCore, root: Path) -> ResolvedSteps:
    """Resolve every step of ``image`` against the repository at ``root``."""
    return ResolvedSteps(
        provision=tuple(_resolve(s, i, "provision", root) for i, s in enumerate(image.provision)),
        validate=tuple(_resolve(s, i, "validate", root) for i, s in enumerate(image.validate_steps)),
        test=tuple(_resolve(s, i, "test", root) for i, s in enumerate(image.tests)),
    )
