"""Render the builder VM's cloud-init user data from an image's resolved steps (pure).

The user data bakes the image *once*, on the builder VM, before it becomes a template:

1. ``packages`` installs ``qemu-guest-agent`` (the wait/convert step talks to it) and ``runcmd`` starts it;
2. ``write_files`` drops every step under ``/var/lib/golden-images/build`` (base64-encoded, so their bytes,
   and therefore their sha256, survive YAML whatever they contain) and the driver
   ``/usr/local/sbin/golden-images-bake``;
3. the driver runs the provision steps, then the validate steps, in catalog order, each its own file run
   with ``bash -euo pipefail <file> <args> </dev/null`` (the shared step contract,
   :mod:`golden_images.core.shellsteps`); file steps are verified against their sha256, installed with
   mode and owner and verified again;
4. on success it prepares the disk for cloning (cloud-init state, machine-id, SSH host keys), writes
   ``ok <fingerprint>`` to :data:`STATUS_FILE` and creates :data:`POWEROFF_FLAG`; on failure it writes
   ``failed <step> <fingerprint>`` and leaves the VM running;
5. ``power_state`` powers the VM off one minute later, only if the flag exists (so a failed build never
   looks finished, and the minute lets the wait step read the success marker through the guest agent).

Test steps are not rendered: they belong on a fresh clone, which this platform does not launch (see
docs/proxmox.md).
"""

from __future__ import annotations

import base64
import shlex

from golden_images.core import shellsteps
from golden_images.core.image import ImageCore
from golden_images.core.steps import ResolvedStep, ResolvedSteps
from golden_images.core.yamlout import dump

#: Written by the driver: ``running <fp>``, ``ok <fp>`` or ``failed <step> <fp>``; read via the guest agent.
STATUS_FILE = "/var/lib/golden-images/status"
#: Created only after a successful bake; ``power_state`` powers off only when it exists. Under ``/run`` so
#: it never reaches the template's disk.
POWEROFF_FLAG = "/run/golden-images/poweroff"
DRIVER = "/usr/local/sbin/golden-images-bake"
BUILD_DIR = "/var/lib/golden-images/build"
#: Minutes between success and power-off: the window in which the wait step reads ``ok`` from the guest.
POWEROFF_DELAY_MINUTES = 1

#: What the driver resets so clones get their own identity (module constants so tests can redirect them).
MACHINE_ID = "/etc/machine-id"
DBUS_MACHINE_ID = "/var/lib/dbus/machine-id"
SSH_HOST_KEYS = "/etc/ssh/ssh_host_*"


def _step_path(phase: str, index: int) -> str:
    return f"{BUILD_DIR}/{phase}-{index + 1:02d}"


def _step_file(step: ResolvedStep, family: str) -> shellsteps.StepFile:
    # The driver runs inside cloud-init (runcmd), so a package step must not wait for cloud-init to finish.
    return shellsteps.step_file(step, family, wait_for_cloud_init=False)


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _step_files(phase: str, index: int, step: ResolvedStep, family: str) -> list[dict[str, str]]:
    # Base64 for every step file: cloud-init writes the bytes exactly, whatever the text contains.
    base = _step_path(phase, index)
    file = _step_file(step, family)
    common = {"permissions": "0700", "owner": "root:root", "encoding": "b64"}
    out = [{"path": f"{base}.sh", **common, "content": _b64(file.script.encode("utf-8"))}]
    if file.data is not None:
        out.append({"path": f"{base}.file", **common, "permissions": "0600", "content": _b64(file.data)})
    return out


def _step_command(phase: str, index: int, step: ResolvedStep, family: str) -> str:
    # One command per line: with `a && b`, a failing `a` neither trips `set -e` nor the ERR trap.
    base = _step_path(phase, index)
    file = _step_file(step, family)
    words = [f"{base}.file"] if file.data is not None else []
    return shellsteps.run_line(shlex.quote(f"{base}.sh"), shellsteps.quote_words([*words, *file.args]))


def render_driver(image: ImageCore, steps: ResolvedSteps, fingerprint: str) -> str:
    """The bake driver script (bash) for ``image``."""
    family = image.os.family
    lines = [
        "#!/bin/bash",
        f"# golden-images bake driver: {image.name} {image.version}",
        "set -euo pipefail",
        f"FINGERPRINT={shlex.quote(fingerprint)}",
        f"STATUS={shlex.quote(STATUS_FILE)}",
        'mkdir -p "$(dirname "$STATUS")"',
        'STEP="start"',
        # Any failing command records which step failed; the VM keeps running so it is never mistaken for a
        # finished build, and the wait step reads the marker and fails fast.
        'trap \'echo "failed $STEP $FINGERPRINT" > "$STATUS"\' ERR',
        'echo "running $FINGERPRINT" > "$STATUS"',
    ]
    for phase, phase_steps in (("provision", steps.provision), ("validate", steps.validate)):
        for index, step in enumerate(phase_steps):
            lines.append(f"STEP={shlex.quote(phase + ':' + step.name)}")
            lines.append(_step_command(phase, index, step, family))
    lines += [
        'STEP="prepare-template"',
        f"rm -rf {shlex.quote(BUILD_DIR)}",
        # Clones must run cloud-init as new instances with their own identity.
        "cloud-init clean --logs",
        f"truncate -s 0 {shlex.quote(MACHINE_ID)}",
        f"rm -f {shlex.quote(DBUS_MACHINE_ID)} {SSH_HOST_KEYS}",
        "sync",
        'echo "ok $FINGERPRINT" > "$STATUS"',
        f"mkdir -p {shlex.quote(POWEROFF_FLAG.rsplit('/', 1)[0])}",
        f"touch {shlex.quote(POWEROFF_FLAG)}",
        "",
    ]
    return "\n".join(lines)


def render_user_data(image: ImageCore, steps: ResolvedSteps, fingerprint: str) -> str:
    """The ``#cloud-config`` user data of the builder VM (deterministic: same inputs, same text)."""
    files: list[dict[str, str]] = []
    for phase, phase_steps in (("provision", steps.provision), ("validate", steps.validate)):
        for index, step in enumerate(phase_steps):
            files.extend(_step_files(phase, index, step, image.os.family))
    files.append(
        {
            "path": DRIVER,
            "permissions": "0700",
            "owner": "root:root",
            "content": render_driver(image, steps, fingerprint),
        }
    )
    document = {
        "package_update": True,
        "packages": ["qemu-guest-agent"],
        "write_files": files,
        "runcmd": [
            ["systemctl", "enable", "--now", "qemu-guest-agent"],
            [DRIVER],
        ],
        "power_state": {
            "mode": "poweroff",
            "delay": POWEROFF_DELAY_MINUTES,
            "message": f"golden-images: {image.name} {image.version} baked, powering off for templating",
            "timeout": 300,
            "condition": ["test", "-f", POWEROFF_FLAG],
        },
    }
    header = f"#cloud-config\n# golden-images {image.name} {image.version} fingerprint {fingerprint}\n"
    return header + dump(document)
