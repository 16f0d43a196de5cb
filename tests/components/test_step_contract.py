"""One step contract on all four platforms, checked by executing every platform's rendered runner with bash.

Each step is its own file run with ``bash -euo pipefail``, stdin from ``/dev/null``, arguments as separate
quoted words; a failing command fails the build. See ``step_platforms`` for how each platform is run.
"""

from __future__ import annotations

import getpass
import hashlib
from pathlib import Path

import pytest

from golden_images.catalog.loader import load_catalog
from golden_images.catalog.spec import ImageSpec
from golden_images.core import shellsteps
from golden_images.core.steps import ResolvedStep, ResolvedSteps
from tests.components.step_platforms import PLATFORMS, run_platform
from tests.conftest import ROOT, stack_catalog

pytestmark = pytest.mark.parametrize("platform", PLATFORMS)


@pytest.fixture(scope="module")
def image() -> ImageSpec:
    catalog = load_catalog(stack_catalog("dev"), source="stacks/Pulumi.dev.yaml", root=ROOT, stack="dev")
    ubuntu = catalog.images[0]
    assert ubuntu.os.family == "ubuntu"
    return ubuntu


def _steps(*provision: ResolvedStep) -> ResolvedSteps:
    return ResolvedSteps(provision=provision, validate=(), test=())


def _shell(text: str, name: str = "inline") -> ResolvedStep:
    return ResolvedStep(kind="shell", name=name, content=text)


def _script(text: str, *args: str, name: str = "script") -> ResolvedStep:
    return ResolvedStep(kind="script", name=name, content=text, source="images/x/run.sh", args=args)


def _file(data: bytes, source: str, destination: Path, sha256: str | None = None) -> ResolvedStep:
    return ResolvedStep(
        kind="file",
        name="copy",
        data=data,
        source=source,
        destination=str(destination),
        sha256=sha256 or hashlib.sha256(data).hexdigest(),
        mode="0640",
        owner=getpass.getuser(),
    )


@pytest.mark.parametrize("kind", ["shell", "script"])
def test_a_failing_first_command_fails_the_build(
    platform: str, kind: str, image: ImageSpec, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    body = "false\ntouch after-false\n"
    first = _shell(body, "first") if kind == "shell" else _script(body, name="first")
    outcome = run_platform(platform, image, _steps(first, _shell("touch next-step")), tmp_path, monkeypatch)
    assert outcome.returncode != 0
    assert not (tmp_path / "after-false").exists(), "the step went on after a failing command"
    assert not (tmp_path / "next-step").exists(), "the build went on after a failing step"
    if platform == "proxmox":
        status = next(tmp_path.glob("root/var/lib/golden-images/status")).read_text()
        assert status.startswith("failed provision:first ")


def test_a_failing_pipeline_stage_and_an_unset_variable_fail_the_step(
    platform: str, image: ImageSpec, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for index, body in enumerate(["false | true\ntouch after\n", 'echo "$UNSET_VARIABLE"\ntouch after\n']):
        scratch = tmp_path / str(index)
        outcome = run_platform(platform, image, _steps(_script(body)), scratch, monkeypatch)
        assert outcome.returncode != 0 and not (scratch / "after").exists(), body


def test_a_step_reading_stdin_reads_nothing_and_cannot_swallow_the_runner(
    platform: str, image: ImageSpec, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    reader = "cat > stdin.txt\ntouch second-line-ran\n"
    steps = _steps(_script(reader, "with-arg", name="reads"), _shell(reader.replace("second", "shell")))
    outcome = run_platform(platform, image, steps, tmp_path, monkeypatch)
    assert outcome.returncode == 0, outcome.stderr
    assert (tmp_path / "stdin.txt").read_bytes() == b""
    assert (tmp_path / "second-line-ran").exists() and (tmp_path / "shell-line-ran").exists()


def test_a_script_containing_the_wrappers_delimiters_runs_whole(
    platform: str, image: ImageSpec, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    delimiters = [
        "GOLDEN_IMAGES_SCRIPT",  # the AWS heredoc delimiter before the shared contract
        shellsteps.B64_DELIMITER,
        "GOLDEN_IMAGES_RUNNER",
        "EOF",
    ]
    listing = "\n".join(delimiters)
    body = f"cat > seen.txt <<'END_OF_LIST'\n{listing}\nEND_OF_LIST\ntouch done\n"
    outcome = run_platform(platform, image, _steps(_script(body, "arg")), tmp_path, monkeypatch)
    assert outcome.returncode == 0, outcome.stderr
    assert (tmp_path / "seen.txt").read_text() == listing + "\n"
    assert (tmp_path / "done").exists()


ARGS = (
    "a b",
    "it's",
    '"double"',
    "$HOME",
    "`touch pwned`",
    "{{ .Vars }}",
    "{{",
    "",
    "two\nlines",
    "tab\t",
    "ü",
)


def test_arguments_arrive_as_separate_exact_words(
    platform: str, image: ImageSpec, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    step = _script('printf "%s\\0" "$@" > args.bin\n', *ARGS)
    outcome = run_platform(platform, image, _steps(step), tmp_path, monkeypatch)
    assert outcome.returncode == 0, outcome.stderr
    assert (tmp_path / "args.bin").read_bytes().split(b"\0")[:-1] == [a.encode() for a in ARGS]
    assert not (tmp_path / "pwned").exists()


QUOTED_SOURCE = "images/x/it's $(touch pwned).conf"
DATA = b"line one\r\ntrailing spaces   \n\x00binary\xff\xfe\nno newline"


def test_a_file_whose_name_has_quotes_is_installed_exactly(
    platform: str, image: ImageSpec, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    destination = tmp_path / "etc" / "it's$(touch${IFS}pwned).conf"
    steps = _steps(_file(DATA, QUOTED_SOURCE, destination))
    outcome = run_platform(platform, image, steps, tmp_path, monkeypatch)
    assert outcome.returncode == 0, outcome.stderr
    assert destination.read_bytes() == DATA
    assert oct(destination.stat().st_mode & 0o777) == "0o640"
    assert not list(tmp_path.rglob("pwned"))


def test_a_file_checksum_mismatch_fails_and_names_the_file(
    platform: str, image: ImageSpec, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    destination = tmp_path / "etc" / "conf"
    steps = _steps(_file(DATA, QUOTED_SOURCE, destination, sha256="0" * 64), _shell("touch next-step"))
    outcome = run_platform(platform, image, steps, tmp_path, monkeypatch)
    assert outcome.returncode != 0
    assert f"checksum mismatch: {QUOTED_SOURCE} for {destination}" in outcome.stderr
    assert not destination.exists() and not (tmp_path / "next-step").exists()
    assert not list(tmp_path.rglob("pwned"))


def test_packages_wait_for_cloud_init_and_for_the_dpkg_lock(
    platform: str, image: ImageSpec, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    step = ResolvedStep(kind="packages", name="pkgs", packages=("auditd", "chrony"))
    outcome = run_platform(platform, image, _steps(step), tmp_path, monkeypatch)
    assert outcome.returncode == 0, outcome.stderr
    calls = outcome.shim_log.splitlines()
    lock = f"-o DPkg::Lock::Timeout={shellsteps.APT_LOCK_TIMEOUT_SECONDS}"
    install = f"apt-get {lock} install -y --no-install-recommends auditd chrony"
    assert f"apt-get {lock} update -y" in calls and install in calls
    if platform == "proxmox":
        # The Proxmox driver runs inside cloud-init (runcmd): waiting for cloud-init there never ends.
        assert not any(c.startswith("cloud-init status") for c in calls)
    else:
        assert calls.index("cloud-init status --wait") < calls.index(install)
