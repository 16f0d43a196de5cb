"""The shipped images' steps work in the order every platform runs them.

Each platform's rendered step runner (``step_platforms.run_platform``: the real renderer, parsed back by its
consumer's parser, executed the way the platform executes it) runs the catalog's real scripts with bash in a
scratch root: a private mount namespace (``unshare``) where ``/etc`` is an overlay whose writes land in the
test's directory, ``/var`` is the test's own directory, ``/run`` and ``/tmp`` are empty, and ``sshd``,
``systemctl``, ``apt-get``, ``sysctl``, ``passwd`` and ``containerd`` are stand-ins that record what is
asked of them. The stand-ins enforce what the real commands would: ``sshd -t`` needs host keys and
``/run/sshd``; ``systemctl enable`` needs the unit to be installed; ``containerd`` needs its package.

Proven per platform and image: the build succeeds, ``sshd -t`` ran with host keys present, and every unit
enabled (or checked) was installed before.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from golden_images.catalog.loader import load_catalog
from golden_images.core.steps import resolve_steps
from tests.components import step_platforms
from tests.components.step_platforms import PLATFORMS, Outcome, run_platform
from tests.conftest import ROOT, stack_catalog

#: Units a fresh Ubuntu cloud image already has (the packages it ships).
PREINSTALLED = ("ssh", "cloud-init", "systemd-networkd")

# Mounts the scratch root, then runs "$@" in it. /etc: an overlay (writes go to $JAIL/upper/etc); /var: an
# empty directory of the test's (the host's /var holds files of users the namespace cannot map); /run and
# /tmp: empty tmpfs (a build VM whose ssh.service never ran has no /run/sshd); the scratch
# directory, which lives in /tmp, is bound back so the runner's files and the stand-ins stay reachable.
JAIL = """#!/bin/bash
set -euo pipefail
mkdir -p "$JAIL/upper/etc" "$JAIL/work/etc" "$JAIL/var"
mount -t overlay overlay -o "lowerdir=/etc,upperdir=$JAIL/upper/etc,workdir=$JAIL/work/etc" /etc
mount --bind "$JAIL/var" /var
mkdir -p /var/lib/apt/lists/partial /var/tmp /var/log /var/cache/apt
mount -t tmpfs tmpfs /mnt
mkdir /mnt/scratch
mount --bind "$SCRATCH" /mnt/scratch
mount -t tmpfs tmpfs /tmp
mount -t tmpfs tmpfs /run
mkdir -p "$SCRATCH"
mount --bind /mnt/scratch "$SCRATCH"
exec "$@"
"""

_STATE = 'log="$SHIM_LOG"; units="$(dirname "$SHIM_LOG")/units"\n'
STANDINS = {
    "apt-get": "#!/bin/bash\n"
    + _STATE
    + """echo "apt-get $*" >> "$log"
install=0; skip=0
for a in "$@"; do
  if [ "$skip" = 1 ]; then skip=0; continue; fi
  case "$a" in
    -o) skip=1 ;;
    -*) ;;
    install) install=1 ;;
    *) if [ "$install" = 1 ]; then echo "$a" >> "$units"; fi ;;
  esac
done
""",
    "systemctl": "#!/bin/bash\n"
    + _STATE
    + """echo "systemctl $*" >> "$log"
verb=""; names=()
for a in "$@"; do
  case "$a" in
    -*) ;;
    *) if [ -z "$verb" ]; then verb="$a"; else names+=("${a%.service}"); fi ;;
  esac
done
case "$verb" in
  enable|start|restart|is-active|is-enabled)
    for u in "${names[@]}"; do
      if ! grep -qx "$u" "$units"; then
        echo "Failed to $verb unit: Unit file $u.service does not exist." >&2; exit 1
      fi
    done ;;
esac
""",
    "sshd": "#!/bin/bash\n"
    + _STATE
    + """echo "sshd $*" >> "$log"
case " $* " in
  *" -t "*|*" -T "*)
    keys=(/etc/ssh/ssh_host_*_key)
    if [ ! -e "${keys[0]}" ]; then echo "sshd: no hostkeys available -- exiting." >&2; exit 1; fi
    if [ ! -d /run/sshd ]; then echo "Missing privilege separation directory: /run/sshd" >&2; exit 255; fi
    echo "sshd-check ok: ${keys[*]}" >> "$log" ;;
esac
""",
    "containerd": "#!/bin/bash\n"
    + _STATE
    + """echo "containerd $*" >> "$log"
if ! grep -qx containerd "$units"; then echo "containerd: command not found" >&2; exit 127; fi
if [ "$*" = "config default" ]; then printf '[plugins]\\n  SystemdCgroup = false\\n'; fi
""",
    "passwd": "#!/bin/bash\n"
    + _STATE
    + """echo "passwd $*" >> "$log"
if [ "${1:-}" = "-S" ]; then echo "root L 12/01/2026 0 99999 7 -1"; fi
""",
}
for _name in ("sysctl", "poweroff", "shutdown", "reboot"):
    STANDINS[_name] = "#!/bin/bash\n" + _STATE + f'echo "{_name} $*" >> "$log"\n'

_UNSHARE = shutil.which("unshare")
pytestmark = pytest.mark.skipif(_UNSHARE is None, reason="needs unshare (util-linux) for the scratch root")


def _jailed(tmp: Path) -> object:
    """A replacement for ``step_platforms._sh`` that runs every command inside the scratch root."""
    jail = tmp / "jail"
    (jail / "upper/etc/ssh").mkdir(parents=True)
    # What a build VM from a cloud image has: host keys, the drop-in directories harden.sh writes to.
    for kind in ("ed25519", "rsa"):
        (jail / f"upper/etc/ssh/ssh_host_{kind}_key").write_text(f"stand-in {kind} host key\n")
    for directory in ("sysctl.d", "modprobe.d"):
        (jail / "upper/etc" / directory).mkdir()
    script = tmp / "jail.sh"
    script.write_text(JAIL)

    def run(argv: list[str], scratch: Path, env: dict[str, str]) -> subprocess.CompletedProcess[bytes]:
        units = scratch / "units"
        if not units.exists():
            units.write_text("".join(f"{u}\n" for u in PREINSTALLED))
        wrapped = [
            str(_UNSHARE),
            "--user",
            "--map-root-user",
            "--mount",
            "--net",
            "--pid",
            "--fork",
            "--",
            "/usr/bin/bash",
            str(script),
            *argv,
        ]
        jail_env = {**env, "JAIL": str(jail), "SCRATCH": str(scratch)}
        return subprocess.run(
            wrapped, cwd=scratch, env=jail_env, capture_output=True, timeout=120, check=False
        )

    return run


def _bake(stack: str, image_name: str, platform: str, tmp: Path, monkeypatch: pytest.MonkeyPatch) -> Outcome:
    catalog = load_catalog(stack_catalog(stack), source=f"stacks/Pulumi.{stack}.yaml", root=ROOT, stack=stack)
    image = catalog.image(image_name)
    monkeypatch.setattr(step_platforms, "_sh", _jailed(tmp))
    return run_platform(platform, image, resolve_steps(image, ROOT), tmp / "scratch", monkeypatch, STANDINS)


def _installed_before(log: list[str]) -> list[str]:
    """Every ``systemctl enable/is-*`` unit and ``containerd`` call that came before its package's install."""
    installed = set(PREINSTALLED)
    problems = []
    for line in log:
        words = line.split()
        if words and words[0] == "apt-get" and "install" in words:
            installed.update(w for w in words[words.index("install") + 1 :] if not w.startswith("-"))
        elif words and words[0] == "systemctl" and len(words) > 1 and words[1] in ("enable", "is-active"):
            units = [w.removesuffix(".service") for w in words[2:] if not w.startswith("-")]
            problems += [f"{line!r}: {u} not installed yet" for u in units if u not in installed]
        elif words and words[0] == "containerd" and "containerd" not in installed:
            problems.append(f"{line!r} before containerd was installed")
    return problems


@pytest.mark.parametrize("stack", ["dev", "staging", "prod"])
@pytest.mark.parametrize("image_name", ["base-ubuntu", "app-runtime"])
@pytest.mark.parametrize("platform", PLATFORMS)
def test_shipped_images_build_in_platform_order(
    platform: str, image_name: str, stack: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    outcome = _bake(stack, image_name, platform, tmp_path, monkeypatch)
    log = outcome.shim_log.splitlines()
    assert outcome.returncode == 0, f"{platform} {image_name}: {outcome.stderr[-2000:]}\n{outcome.shim_log}"
    assert _installed_before(log) == [], log
    if image_name == "base-ubuntu":
        # validate runs after every provision step (cleanup included) and still finds host keys.
        checks = [line for line in log if line.startswith("sshd-check ok: ")]
        assert checks and "/etc/ssh/ssh_host_" in checks[0], log
        assert log.index("cloud-init clean --logs") < log.index(checks[0]), "validate ran before cleanup"
    enabled = [line for line in log if line.startswith("systemctl enable")]
    # Nothing escaped the scratch root: the written files are in the overlay.
    upper = tmp_path / "jail/upper/etc"
    if image_name == "base-ubuntu":
        assert any("auditd" in line for line in enabled), log  # harden.sh ran
        assert (upper / "sysctl.d/60-golden-images.conf").is_file()
    else:
        # Layered on base-ubuntu (#15): only its own runtime steps run, in catalog order; the base's
        # hardening is already in the parent image and does not run again.
        own = [
            "apt-get -o DPkg::Lock::Timeout=600 install -y --no-install-recommends containerd runc",
            "containerd config default",
            "systemctl enable containerd",
            "apt-get clean",
            "cloud-init clean --logs",
        ]
        assert [line for line in log if line in own][: len(own)] == own, log
        assert enabled == ["systemctl enable containerd"], log
        assert not any("auditd" in line or line.startswith("sysctl") for line in log), log
        assert not (upper / "sysctl.d/60-golden-images.conf").exists()
        assert (upper / "containerd/config.toml").read_text() == "[plugins]\n  SystemdCgroup = true\n"


def test_the_stand_ins_catch_the_defects(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The harness can fail: host keys removed before ``sshd -t``, and a unit enabled before its package,
    are build failures with the services' own messages."""
    from golden_images.core.steps import ResolvedStep, ResolvedSteps

    catalog = load_catalog(stack_catalog("dev"), source="stacks/Pulumi.dev.yaml", root=ROOT, stack="dev")
    image = catalog.image("base-ubuntu")
    monkeypatch.setattr(step_platforms, "_sh", _jailed(tmp_path))
    steps = ResolvedSteps(
        provision=(ResolvedStep(kind="shell", name="drop-keys", content="rm -f /etc/ssh/ssh_host_*"),),
        validate=(ResolvedStep(kind="shell", name="sshd", content="install -d /run/sshd\nsshd -t"),),
        test=(),
    )
    outcome = run_platform("aws", image, steps, tmp_path / "a", monkeypatch, STANDINS)
    assert outcome.returncode != 0 and "no hostkeys available" in outcome.stderr
    enable = ResolvedSteps(
        provision=(ResolvedStep(kind="shell", name="enable", content="systemctl enable --now auditd"),),
        validate=(),
        test=(),
    )
    outcome = run_platform("aws", image, enable, tmp_path / "b", monkeypatch, STANDINS)
    assert outcome.returncode != 0 and "Unit file auditd.service does not exist" in outcome.stderr
