"""Referenced files (``script:``/``file:`` steps): the path checks the catalog tests do not reach (a NUL
character, an absolute path, ``..``, a blank path) and what ``read_bytes`` says when the file changes between
the check and the read. The change is staged the way it happens: ``resolve`` checked one file, and by the
time ``open`` runs the path names a symlink, a FIFO or nothing; the refusals come from the real system calls
(``O_NOFOLLOW``, ``O_NONBLOCK``, ``fstat``), and the FIFO read must not hang."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from golden_images.core import repofiles
from golden_images.core.repofiles import RepoFileError


@pytest.mark.parametrize(
    ("relative", "says"),
    [
        ("images/a\x00b.sh", "contains a NUL character"),
        ("/etc/passwd", "must be a path inside the repository, relative to the project root"),
        ("images/../../etc/passwd", "must be a path inside the repository, relative to the project root"),
        ("   ", "must be a path inside the repository, relative to the project root"),
    ],
)
def test_paths_that_cannot_name_a_file_in_the_repository_are_refused(
    tmp_path: Path, relative: str, says: str
) -> None:
    with pytest.raises(RepoFileError) as caught:
        repofiles.resolve(tmp_path, relative)
    assert str(caught.value) == f"{relative!r} {says}"


def _swapped(monkeypatch: pytest.MonkeyPatch, target: Path) -> None:
    """``resolve`` passes (it checked the regular file that was there) but returns ``target``."""
    monkeypatch.setattr(repofiles, "resolve", lambda root, relative: target)


def test_a_file_turned_into_a_symlink_after_the_check_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "real.sh").write_text("echo hi\n")
    link = tmp_path / "step.sh"
    link.symlink_to(tmp_path / "real.sh")
    _swapped(monkeypatch, link)
    with pytest.raises(RepoFileError) as caught:
        repofiles.read_bytes(tmp_path, "step.sh")
    assert str(caught.value) == "step.sh changed into a symlink while it was read"


def test_a_file_removed_after_the_check_is_refused_with_the_reason(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _swapped(monkeypatch, tmp_path / "gone.sh")
    with pytest.raises(RepoFileError) as caught:
        repofiles.read_bytes(tmp_path, "gone.sh")
    assert str(caught.value) == "gone.sh cannot be read (No such file or directory)"


def test_a_file_turned_into_a_fifo_after_the_check_is_refused_without_blocking(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fifo = tmp_path / "step.sh"
    os.mkfifo(fifo)  # no writer: a blocking open would hang the preview here
    _swapped(monkeypatch, fifo)
    with pytest.raises(RepoFileError) as caught:
        repofiles.read_bytes(tmp_path, "step.sh")
    assert str(caught.value) == "step.sh is not a regular file"


def test_a_regular_file_in_the_repository_is_read_byte_for_byte(tmp_path: Path) -> None:
    """Positive control for the refusals above: the same calls on an unchanged file return its bytes."""
    (tmp_path / "images").mkdir()
    (tmp_path / "images" / "step.sh").write_bytes(b"#!/bin/sh\necho caf\xc3\xa9\n")
    assert repofiles.read_bytes(tmp_path, "images/step.sh") == b"#!/bin/sh\necho caf\xc3\xa9\n"
    assert repofiles.read_script(tmp_path, "images/step.sh") == "#!/bin/sh\necho café\n"
