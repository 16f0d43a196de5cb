"""Files a catalog references (``script:`` and ``file:`` steps), read so that they can only come from the repo.

A catalog names paths relative to the project root; the bytes end up in build documents that run as root on a
build machine and in ``golden-images preview --json`` output. So a referenced path must, after every symlink
on the way is resolved (the file itself *and* any directory above it), still be a **regular file inside the
project root** — never ``/proc/self/environ``, ``~/.aws/credentials``, a FIFO that blocks the preview or a
device. Each file is at most :data:`MAX_FILE_BYTES`; scripts must be UTF-8 (they are shell text), ``file:``
steps may hold any bytes.

Symlinks that stay inside the repository are fine (``images/common.sh -> ../shared/common.sh``).
"""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path, PurePosixPath

#: Largest referenced file, in bytes (1 MiB). Every platform embeds the bytes in a build document or uploads
#: them next to it; AWS additionally bounds the whole AWSTOE document (16,000 characters), checked separately.
MAX_FILE_BYTES = 1024 * 1024


class RepoFileError(ValueError):
    """The path cannot be used; the message names the path and says why and what is allowed."""


def resolve(root: Path, relative: str) -> Path:
    """The real path of ``relative`` under ``root`` after resolving every symlink, checked to be a regular
    file inside ``root``. Raises :class:`RepoFileError` otherwise."""
    if "\x00" in relative:
        raise RepoFileError(f"{relative!r} contains a NUL character")
    pure = PurePosixPath(relative)
    if pure.is_absolute() or ".." in pure.parts or not relative.strip():
        raise RepoFileError(
            f"{relative!r} must be a path inside the repository, relative to the project root"
        )
    real_root = root.resolve()
    try:
        real = (real_root / relative).resolve(strict=True)
    except FileNotFoundError:
        raise RepoFileError(f"{relative} does not exist under the project root") from None
    except (OSError, RuntimeError) as exc:  # a symlink loop (RuntimeError before 3.13, OSError ELOOP after)
        raise RepoFileError(f"{relative} cannot be resolved ({exc})") from None
    if not real.is_relative_to(real_root):
        raise RepoFileError(
            f"{relative} resolves to {real}, outside the repository (through a symlink); referenced files "
            "must be regular files inside the project root"
        )
    mode = real.stat().st_mode
    if not stat.S_ISREG(mode):
        kind = "a directory" if stat.S_ISDIR(mode) else "not a regular file"
        raise RepoFileError(f"{relative} is {kind}; a step references one regular file")
    return real


def read_bytes(root: Path, relative: str) -> bytes:
    """The exact bytes of ``relative`` (see :func:`resolve`), at most :data:`MAX_FILE_BYTES`."""
    real = resolve(root, relative)
    # O_NONBLOCK: should the path be swapped for a FIFO after the check, open() must not hang the preview;
    # O_NOFOLLOW: nor may it be swapped for a symlink. fstat below re-checks what was actually opened.
    flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0)
    try:
        fd = os.open(real, flags)
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise RepoFileError(f"{relative} changed into a symlink while it was read") from None
        raise RepoFileError(f"{relative} cannot be read ({exc.strerror})") from None
    with os.fdopen(fd, "rb") as handle:
        info = os.fstat(handle.fileno())
        if not stat.S_ISREG(info.st_mode):
            raise RepoFileError(f"{relative} is not a regular file")
        if info.st_size > MAX_FILE_BYTES:
            raise RepoFileError(
                f"{relative} is {info.st_size} bytes; referenced files may be at most {MAX_FILE_BYTES} bytes "
                "(install large content from a package or an artifact store instead)"
            )
        data = handle.read(MAX_FILE_BYTES + 1)
    if len(data) > MAX_FILE_BYTES:
        raise RepoFileError(f"{relative} grew beyond {MAX_FILE_BYTES} bytes while it was read")
    return data


def read_script(root: Path, relative: str) -> str:
    """The UTF-8 text of the script ``relative`` (see :func:`read_bytes`), byte for byte."""
    data = read_bytes(root, relative)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise RepoFileError(
            f"{relative} is not UTF-8 text (byte 0x{data[exc.start]:02x} on line {line}); scripts are shell "
            "text and must be UTF-8 (binary content belongs in a file: step)"
        ) from None
