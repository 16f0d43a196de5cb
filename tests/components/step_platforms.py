"""Run the rendered step runners of all four platforms with bash, in a scratch directory.

Each platform is rendered by its real renderer, parsed back with the parser its consumer uses (PyYAML for
AWSTOE and cloud-init, JSON for AIB and Packer), and then executed the way the platform executes it:

* AWS: every ``ExecuteBash`` action's commands as one bash script (AWSTOE writes them to a file);
* Azure: every customizer's ``inline`` as a ``/bin/sh -e`` script (Packer's shell provisioner under AIB);
* GCP: every provisioner in order — ``file`` copies the object to its destination, ``shell`` renders
  ``execute_command`` (the three Go-template actions it uses) and runs it with ``/bin/sh -c``;
* Proxmox: ``write_files`` written (base64-decoded), then the driver ``runcmd`` starts, with bash.

Nothing touches the real system: ``TMPDIR`` and every fixed path a renderer writes to point into the
scratch directory, and ``sudo``, ``apt-get``, ``dnf`` and ``cloud-init`` are shims on ``PATH`` that log
their arguments to ``shims.log`` (``sudo`` drops its options and runs the command).
"""

from __future__ import annotations

import base64
import json
import re
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from golden_images.catalog.spec import ImageSpec
from golden_images.core.steps import ResolvedSteps
from golden_images.platforms.aws import awstoe
from golden_images.platforms.azure import aib
from golden_images.platforms.gcp import packer
from golden_images.platforms.proxmox import cloudinit

PLATFORMS = ("aws", "azure", "gcp", "proxmox")
BASH = "/usr/bin/bash"

_LOGGING_SHIM = """#!/bin/sh
printf "%s" "$(basename "$0")" >> "$SHIM_LOG"
printf " %s" "$@" >> "$SHIM_LOG"
echo >> "$SHIM_LOG"
"""
_SUDO_SHIM = """#!/bin/sh
# sudo -n / sudo -E: drop the options, run the command as the test user.
while [ "$#" -gt 0 ]; do case "$1" in -*) shift ;; *) break ;; esac; done
exec "$@"
"""


#: A ``bash`` shim that keeps each step file, its arguments (NUL-separated) and a staged file (an absolute
#: first argument) in ``$CAPTURE/<n>.*`` instead of running the step; anything else (an inline runner fed on
#: stdin, a step file outside ``$CAPTURE_ONLY``: GCP's staging and launcher steps) runs in the real bash.
CAPTURE_BASH = """#!/bin/sh
if [ "$#" -lt 3 ]; then exec /usr/bin/bash "$@"; fi
keep=no
for prefix in $(echo "${CAPTURE_ONLY:-/}" | tr ':' ' '); do case "$3" in "$prefix"*) keep=yes ;; esac; done
if [ "$keep" = no ]; then exec /usr/bin/bash "$@"; fi
n=$(ls "$CAPTURE" | grep -c '[.]step$' || true)
cp "$3" "$CAPTURE/$n.step"
shift 3
case "${1:-}" in /*) if [ -f "$1" ]; then cp "$1" "$CAPTURE/$n.data"; fi ;; esac
if [ "$#" -gt 0 ]; then printf '%s\\0' "$@" > "$CAPTURE/$n.args"; else : > "$CAPTURE/$n.args"; fi
"""


def captured(scratch: Path) -> list[tuple[bytes, list[bytes], bytes | None]]:
    """``(step file bytes, arguments, staged file bytes or None)`` of every step the capture shim saw."""
    capture = scratch / "capture"
    out = []
    for index in range(len(list(capture.glob("*.step")))):
        data = capture / f"{index}.data"
        args = (capture / f"{index}.args").read_bytes()
        out.append(
            (
                (capture / f"{index}.step").read_bytes(),
                args.split(b"\0")[:-1] if args else [],
                data.read_bytes() if data.exists() else None,
            )
        )
    return out


@dataclass(frozen=True)
class Outcome:
    """What a run did: ``returncode`` (0 = the build succeeded), output, and the shims' log."""

    returncode: int
    stdout: str
    stderr: str
    shim_log: str


def shims(directory: Path, extra: dict[str, str] | None = None) -> Path:
    """A directory of shims (``sudo``, ``apt-get``, ``dnf``, ``cloud-init`` plus ``extra`` name → text)."""
    directory.mkdir(parents=True, exist_ok=True)
    scripts = {"sudo": _SUDO_SHIM, **dict.fromkeys(("apt-get", "dnf", "cloud-init"), _LOGGING_SHIM)}
    for name, text in {**scripts, **(extra or {})}.items():
        path = directory / name
        path.write_text(text)
        path.chmod(0o755)
    return directory


def _env(scratch: Path, shim_dir: Path) -> dict[str, str]:
    tmp = scratch / "tmp"
    tmp.mkdir(exist_ok=True)
    (scratch / "capture").mkdir(exist_ok=True)
    return {
        "CAPTURE": str(scratch / "capture"),
        "PATH": f"{shim_dir}:/usr/local/bin:/usr/bin:/bin",
        "TMPDIR": str(tmp),
        "HOME": str(scratch),
        "SHIM_LOG": str(scratch / "shims.log"),
        "LC_ALL": "C.UTF-8",
    }


def _sh(argv: list[str], scratch: Path, env: dict[str, str]) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(argv, cwd=scratch, env=env, capture_output=True, timeout=60, check=False)


def _outcome(scratch: Path, result: subprocess.CompletedProcess[bytes]) -> Outcome:
    log = scratch / "shims.log"
    return Outcome(
        result.returncode,
        result.stdout.decode(errors="replace"),
        result.stderr.decode(errors="replace"),
        log.read_text() if log.exists() else "",
    )


# --- rendering, parsed back by each consumer's parser --------------------------------------------------


def aws_scripts(steps: ResolvedSteps, family: str) -> list[str]:
    """The bash script of every ``ExecuteBash`` action, from the YAML AWSTOE reads."""
    document = yaml.safe_load(awstoe._render("img", "1.0.0", "d", family, steps))
    out = []
    for phase in document["phases"]:
        for step in phase["steps"]:
            assert step["action"] == "ExecuteBash"
            out.append("\n".join(step["inputs"]["commands"]) + "\n")
    return out


def azure_scripts(steps: ResolvedSteps, family: str) -> list[str]:
    """The ``/bin/sh -e`` script of every customizer then validator, from the JSON AIB stores."""
    customizers = [c.as_dict() for c in aib.render_customizers(steps, family)]
    customizers += [v.as_dict() for v in aib.render_validators(steps, family)]
    parsed: list[dict[str, Any]] = json.loads(json.dumps(customizers))
    return ["\n".join(c["inline"]) + "\n" for c in parsed]


_GO_ACTION = re.compile(r"\{\{(.*?)\}\}")


def render_go_template(text: str, path: str, env_vars: str) -> str:
    """Packer's rendering of ``execute_command``: the three actions the renderer uses; any other action (an
    unescaped ``{{`` from catalog text) fails the test, as it would change the command."""

    def action(match: re.Match[str]) -> str:
        inner = match.group(1).strip()
        if inner == ".Path":
            return path
        if inner == ".Vars":
            return env_vars
        if inner == '"{{"':
            return "{{"
        raise AssertionError(f"unexpected Go template action {{{{{match.group(1)}}}}} in {text!r}")

    return _GO_ACTION.sub(action, text)


def gcp_provisioners(steps: ResolvedSteps, family: str) -> tuple[list[dict[str, Any]], dict[str, str]]:
    """The provisioners (from the JSON Packer reads) and the objects by path."""
    provisioners, objects = packer.render_provisioners(steps, family)
    template = json.loads(packer.render_template_text({"provisioners": provisioners}))
    return template["provisioners"], {o.path: o.content for o in objects}


def _gcp_internal(steps: ResolvedSteps, family: str) -> set[str]:
    # The renderer's own objects (staging directory, launchers), told apart by their description.
    _, objects = packer.render_provisioners(steps, family)
    return {o.path for o in objects if o.description.startswith(("launch step", "staging directory"))}


def proxmox_user_data(image: ImageSpec, steps: ResolvedSteps) -> dict[str, Any]:
    """The user data as cloud-init reads it."""
    text = cloudinit.render_user_data(image, steps, "f" * 64)
    assert text.startswith("#cloud-config\n")
    parsed: dict[str, Any] = yaml.safe_load(text)
    return parsed


@contextmanager
def proxmox_paths(monkeypatch: pytest.MonkeyPatch, scratch: Path) -> Iterator[Path]:
    """Point every path the cloud-init renderer writes to into ``scratch/root``."""
    root = scratch / "root"
    for name in ("STATUS_FILE", "POWEROFF_FLAG", "DRIVER", "BUILD_DIR", "MACHINE_ID", "DBUS_MACHINE_ID"):
        monkeypatch.setattr(cloudinit, name, f"{root}{getattr(cloudinit, name)}")
    monkeypatch.setattr(cloudinit, "SSH_HOST_KEYS", f"{root}/etc/ssh/ssh_host_*")
    # What a builder VM has: a machine id to reset.
    (root / "etc").mkdir(parents=True, exist_ok=True)
    (root / "etc/machine-id").write_text("0" * 32 + "\n")
    yield root


# --- execution -----------------------------------------------------------------------------------------


def run_platform(
    platform: str,
    image: ImageSpec,
    steps: ResolvedSteps,
    scratch: Path,
    monkeypatch: pytest.MonkeyPatch,
    extra_shims: dict[str, str] | None = None,
) -> Outcome:
    """Render ``steps`` for ``platform`` and run them like the platform does; stops at the first failure."""
    scratch.mkdir(parents=True, exist_ok=True)
    env = _env(scratch, shims(scratch / "shims", extra_shims))
    family = image.os.family
    if platform == "aws":
        return _sequence(scratch, env, [[BASH, "-c", s] for s in aws_scripts(steps, family)])
    if platform == "azure":
        return _sequence(scratch, env, [["/bin/sh", "-e", "-c", s] for s in azure_scripts(steps, family)])
    if platform == "gcp":
        monkeypatch.setattr(packer, "STAGING_DIR", str(scratch / "staging"))
        # The catalog's steps run from the staging directory or straight from Packer's upload; the renderer's
        # own staging and launcher steps are run, never captured.
        env["CAPTURE_ONLY"] = f"{scratch / 'staging'}/:{scratch / 'tmp' / 'packer'}/"
        provisioners, objects = gcp_provisioners(steps, family)
        return _gcp(scratch, env, provisioners, objects, _gcp_internal(steps, family))
    assert platform == "proxmox"
    with proxmox_paths(monkeypatch, scratch) as root:
        document = proxmox_user_data(image, steps)
        for entry in document["write_files"]:
            path = Path(entry["path"])
            assert str(path).startswith(str(root)), path  # never outside the scratch directory
            path.parent.mkdir(parents=True, exist_ok=True)
            data = entry["content"]
            path.write_bytes(base64.b64decode(data) if entry.get("encoding") == "b64" else data.encode())
            path.chmod(int(entry["permissions"], 8))
        driver = Path(cloudinit.DRIVER)
        text = driver.read_text()
        # The driver may only name paths under the scratch root (or relative ones): redirection is complete.
        for absolute in re.findall(r"(?<![\w.$])/(?:etc|var|run|usr)/[^\s'\"]*", text):
            raise AssertionError(f"driver names a real system path {absolute!r}")
        # runcmd starts the driver; its shebang is bash.
        return _outcome(scratch, _sh([BASH, str(driver)], scratch, env))


def _sequence(scratch: Path, env: dict[str, str], argvs: list[list[str]]) -> Outcome:
    result = subprocess.CompletedProcess[bytes]([], 0, b"", b"")
    for argv in argvs:
        result = _sh(argv, scratch, env)
        if result.returncode != 0:
            break
    return _outcome(scratch, result)


def _gcp(
    scratch: Path,
    env: dict[str, str],
    provisioners: list[dict[str, Any]],
    objects: dict[str, str],
    internal: set[str],
) -> Outcome:
    result = subprocess.CompletedProcess[bytes]([], 0, b"", b"")
    for index, provisioner in enumerate(provisioners):
        if provisioner["type"] == "file":
            # Packer's file provisioner uploads the object's bytes as they are.
            Path(provisioner["destination"]).write_text(objects[provisioner["source"]])
            continue
        # Packer uploads the script to a temporary path and runs execute_command on it.
        script = (
            scratch / "tmp" / ("internal" if provisioner["script"] in internal else "packer") / f"{index}.sh"
        )
        script.parent.mkdir(exist_ok=True)
        script.write_text(objects[provisioner["script"]])
        command = render_go_template(provisioner["execute_command"], str(script), "PACKER_BUILD_NAME='x'")
        result = _sh(["/bin/sh", "-c", command], scratch, env)
        if result.returncode != 0:
            break
    return _outcome(scratch, result)


_B64_HEREDOC = re.compile(r"base64 -d > (\S+) <<'GOLDEN_IMAGES_B64'\n(.*?)GOLDEN_IMAGES_B64", re.DOTALL)


def b64_heredocs(runner: str) -> dict[str, bytes]:
    """Target → decoded bytes of every base64 heredoc in an inline runner (what bash would write)."""
    return {m.group(1): base64.b64decode(m.group(2)) for m in _B64_HEREDOC.finditer(runner)}
