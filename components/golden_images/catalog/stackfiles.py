"""Stack files: where Pulumi reads a stack's config (``stackConfigDir: stacks`` in ``Pulumi.yaml``).

The one place that spells ``stacks/Pulumi.<stack>.yaml``; everything that names, finds or lists stack files
goes through here. A stack may be given fully qualified (``org/project/dev``); its file uses the last part.
"""

from __future__ import annotations

from pathlib import Path
from typing import Final

#: The project's stack config directory, relative to the project root.
STACKS_DIR: Final = "stacks"


def short_name(stack: str) -> str:
    """``org/project/dev`` → ``dev`` (a plain name is returned as is)."""
    return stack.rsplit("/", maxsplit=1)[-1]


def stack_file_name(stack: str) -> str:
    """The stack file of ``stack`` relative to the project root, as named in errors."""
    return f"{STACKS_DIR}/Pulumi.{short_name(stack)}.yaml"


def stack_file(root: Path, stack: str) -> Path:
    """The stack file of ``stack`` under the project ``root``."""
    return root / stack_file_name(stack)


def stack_files(root: Path) -> list[Path]:
    """Every stack file under ``root``, sorted by name."""
    return sorted((root / STACKS_DIR).glob("Pulumi.*.yaml"))


def stack_of(path: Path) -> str:
    """The stack a stack file belongs to (``stacks/Pulumi.dev.yaml`` → ``dev``)."""
    return path.name.removeprefix("Pulumi.").removesuffix(".yaml")
