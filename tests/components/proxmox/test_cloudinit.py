"""The builder VM's user data: valid per Debian's ``cloud-init schema``, and doing the right things in order."""

from __future__ import annotations

import base64
import hashlib
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from golden_images.catalog.loader import load_catalog
from golden_images.core.build import ImageBuild
from golden_images.platforms.proxmox.cloudinit import (
    DRIVER,
    POWEROFF_FLAG,
    STATUS_FILE,
    render_driver,
    render_user_data,
)
from tests.components.proxmox.helpers import catalog
from tests.conftest import ROOT

STACKS = ("dev", "staging", "prod")


def _cloud_init() -> str:
    found = shutil.which("cloud-init")
    if found is None:
        message = (
            "cloud-init is not installed (apt-get install -y cloud-init; scripts/dev.py test installs it)"
        )
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(message)  # CI must validate for real, never skip
        pytest.skip(message)
    return found


def _schema(path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [_cloud_init(), "schema", "--config-file", str(path)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def _builds(stack: str) -> list[ImageBuild]:
    cat = load_catalog(catalog(stack), source=f"stacks/Pulumi.{stack}.yaml", root=ROOT, stack=stack)
    return [ImageBuild.from_catalog(cat, image, ROOT) for image in cat.images]


def _user_data(build: ImageBuild) -> str:
    return render_user_data(build.image, build.steps, build.fingerprint)


def test_every_rendered_user_data_of_the_three_stacks_passes_cloud_init_schema(tmp_path: Path) -> None:
    checked = 0
    for stack in STACKS:
        for build in _builds(stack):
            path = tmp_path / f"{stack}-{build.image.name}.yaml"
            path.write_text(_user_data(build))
            result = _schema(path)
            assert result.returncode == 0, f"{path.name}: {result.stdout}{result.stderr}"
            assert "Valid cloud-config" in result.stdout
            checked += 1
    assert checked == 6


def test_cloud_init_schema_rejects_a_broken_user_data(tmp_path: Path) -> None:
    build = _builds("dev")[0]
    document = yaml.safe_load(_user_data(build))
    document["power_state"]["mode"] = "hibernate"  # not one of poweroff, reboot, halt
    document["runcmd"] = "not-a-list"
    path = tmp_path / "broken.yaml"
    path.write_text("#cloud-config\n" + yaml.safe_dump(document))
    result = _schema(path)
    assert result.returncode != 0
    assert "power_state.mode" in result.stdout + result.stderr


def _parsed(build: ImageBuild) -> dict[str, Any]:
    text = _user_data(build)
    assert text.startswith("#cloud-config\n")
    parsed: dict[str, Any] = yaml.safe_load(text)
    return parsed


def test_user_data_installs_the_agent_and_powers_off_only_after_success() -> None:
    document = _parsed(_builds("dev")[0])
    assert "qemu-guest-agent" in document["packages"]
    assert document["runcmd"] == [["systemctl", "enable", "--now", "qemu-guest-agent"], [DRIVER]]
    assert document["power_state"]["mode"] == "poweroff"
    assert document["power_state"]["condition"] == ["test", "-f", POWEROFF_FLAG]
    assert document["power_state"]["delay"] >= 1  # the window in which the bake reads "ok"


def test_driver_runs_provision_then_validate_in_order_and_marks_success_last() -> None:
    build = _builds("dev")[0]  # base-ubuntu: packages, script, file, script; validate: shell
    driver = render_driver(build.image, build.steps, build.fingerprint)
    lines = driver.splitlines()
    steps = [line.split("=", 1)[1] for line in lines if line.startswith("STEP=")]
    assert steps == [
        '"start"',
        "provision:base-packages",
        "provision:harden",
        "provision:sshd-config",
        "provision:cleanup",
        "validate:sshd-syntax",
        '"prepare-template"',
    ]
    packages = base64.b64decode(_parsed(build)["write_files"][0]["content"]).decode()
    assert (
        "apt-get -o DPkg::Lock::Timeout=600 install -y --no-install-recommends auditd chrony "
        "unattended-upgrades apparmor-utils" in packages
    )
    assert "bash -euo pipefail /var/lib/golden-images/build/provision-01.sh </dev/null" in lines
    assert lines.index('echo "ok $FINGERPRINT" > "$STATUS"') < lines.index(f"touch {POWEROFF_FLAG}")
    assert f"STATUS={STATUS_FILE}" in lines and f"FINGERPRINT={build.fingerprint}" in lines
    assert 'trap \'echo "failed $STEP $FINGERPRINT" > "$STATUS"\' ERR' in lines
    assert " && " not in driver  # a failing left side of && would neither trip set -e nor the ERR trap


def test_files_keep_their_exact_bytes_and_are_checked_against_sha256() -> None:
    build = _builds("dev")[0]
    document = _parsed(build)
    step = next(s for s in build.steps.provision if s.kind == "file")
    staged = next(f for f in document["write_files"] if f["path"].endswith(".file"))
    assert staged["encoding"] == "b64"
    content = base64.b64decode(staged["content"])
    assert hashlib.sha256(content).hexdigest() == step.sha256
    driver = next(f for f in document["write_files"] if f["path"] == DRIVER)["content"]
    installer_path = staged["path"].removesuffix(".file") + ".sh"
    assert f"bash -euo pipefail {installer_path} {staged['path']} </dev/null" in driver
    installer = next(f for f in document["write_files"] if f["path"] == installer_path)
    install = base64.b64decode(installer["content"]).decode()
    assert step.sha256 in install and "sha256sum --check" in install
    assert 'install -D -m 0600 -o root -g root "$src" /etc/ssh/sshd_config' in install


def test_driver_is_valid_bash(tmp_path: Path) -> None:
    for stack in STACKS:
        for build in _builds(stack):
            script = tmp_path / f"{stack}-{build.image.name}.sh"
            script.write_text(render_driver(build.image, build.steps, build.fingerprint))
            result = subprocess.run(["bash", "-n", str(script)], capture_output=True, text=True, check=False)
            assert result.returncode == 0, result.stderr


def test_rendering_is_deterministic_and_test_steps_stay_out() -> None:
    first, second = _builds("prod")[0], _builds("prod")[0]
    assert _user_data(first) == _user_data(second)
    for test_step in first.steps.test:
        assert test_step.content not in _user_data(first)
