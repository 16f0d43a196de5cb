"""Pure Azure renderers: AIB customizers (executed here with bash, sudo stripped), names, roles, version rules."""

from __future__ import annotations

import hashlib
import os
import re
import subprocess
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from golden_images.catalog.loader import load_catalog
from golden_images.core.build import ImageBuild
from golden_images.core.steps import ResolvedStep, ResolvedSteps
from golden_images.platforms.azure import aib, roles
from golden_images.platforms.azure.component import gallery_name, template_fingerprint
from golden_images.platforms.azure.spec import is_azure_region, is_gallery_version_int32
from tests.components.step_platforms import shims
from tests.conftest import ROOT, stack_catalog

_NAME = re.compile(r"^[A-Za-z0-9-]{1,80}$")


def _run(inline: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    # AIB runs the inline command with /bin/sh -e as the packer user, through sudo; here a sudo shim on PATH
    # runs the command as the test user.
    shim_dir = shims(cwd / ".shims")
    env = {**os.environ, "PATH": f"{shim_dir}:{os.environ['PATH']}", "SHIM_LOG": str(cwd / ".shims.log")}
    return subprocess.run(
        ["/bin/sh", "-e", "-c", inline],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )


def _file_step(dest: Path, content: bytes, sha: str | None = None) -> ResolvedStep:
    owner = subprocess.run(["id", "-un"], capture_output=True, text=True, check=True).stdout.strip()
    return ResolvedStep(
        kind="file",
        name="copy",
        data=content,
        source="x",
        destination=str(dest),
        sha256=sha or hashlib.sha256(content).hexdigest(),
        mode="0600",
        owner=owner,
    )


def test_shell_step_runs_strict_with_arguments(tmp_path: Path) -> None:
    step = ResolvedStep(
        kind="script", name="args", content='printf "%s|" "$@" > out\n', args=("a b", "$HOME")
    )
    (command,) = aib.render_customizers(ResolvedSteps((step,), (), ()), "ubuntu")
    assert command.name == "provision-01-args"
    result = _run(command.inline[0], tmp_path)
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "out").read_text() == "a b|$HOME|"  # arguments arrive literally, never expanded


def test_shell_step_failure_fails_the_customizer(tmp_path: Path) -> None:
    step = ResolvedStep(kind="shell", name="fails", content="false | true\necho after > out")
    (command,) = aib.render_customizers(ResolvedSteps((step,), (), ()), "ubuntu")
    assert _run(command.inline[0], tmp_path).returncode != 0  # pipefail
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize(
    "content",
    [b"no trailing newline", b"line\n", b"a\n\nb\n\n", b"", b"$(touch pwned) `x` \\ '\"", b"\x00\r\n \xff"],
)
def test_file_step_writes_exact_bytes_and_verifies_checksum(tmp_path: Path, content: bytes) -> None:
    dest = tmp_path / "etc" / "conf"
    result = _run(aib.render_step(_file_step(dest, content), "ubuntu"), tmp_path)
    assert result.returncode == 0, result.stderr
    assert dest.read_bytes() == content
    assert oct(dest.stat().st_mode & 0o777) == "0o600"
    assert not (tmp_path / "pwned").exists()


def test_file_step_checksum_mismatch_fails_the_build(tmp_path: Path) -> None:
    dest = tmp_path / "conf"
    result = _run(aib.render_step(_file_step(dest, b"real content\n", sha="0" * 64), "ubuntu"), tmp_path)
    assert result.returncode == 1
    assert "checksum mismatch" in result.stderr


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(content=st.binary(max_size=200))
def test_any_file_survives_rendering(tmp_path: Path, content: bytes) -> None:
    dest = tmp_path / "f"
    if dest.exists():
        os.unlink(dest)
    result = _run(aib.render_step(_file_step(dest, content), "ubuntu"), tmp_path)
    assert result.returncode == 0, result.stderr
    assert dest.read_bytes() == content


def test_packages_use_the_family_package_manager() -> None:
    assert (
        "apt-get -o DPkg::Lock::Timeout=600 install -y --no-install-recommends auditd chrony"
        in aib.package_command("ubuntu", ("auditd", "chrony"))
    )
    assert aib.package_command("rocky", ("audit",)) == "dnf install -y audit\n"


def test_tests_become_validators_and_validate_steps_run_last() -> None:
    steps = ResolvedSteps(
        provision=(ResolvedStep(kind="shell", name="p", content="true"),),
        validate=(ResolvedStep(kind="shell", name="v", content="true"),),
        test=(ResolvedStep(kind="shell", name="services up!", content="true"),),
    )
    assert [c.name for c in aib.render_customizers(steps, "ubuntu")] == ["provision-01-p", "validate-01-v"]
    assert [v.as_dict() for v in aib.render_validators(steps, "ubuntu")] == [
        {"type": "Shell", "name": "test-01-services-up", "inline": [aib.render_step(steps.test[0], "ubuntu")]}
    ]


@given(st.text(max_size=120))
def test_step_names_are_always_valid(name: str) -> None:
    assert _NAME.fullmatch(aib._step_name("provision", 7, name))


def test_runner_script_fails_without_artifact_and_writes_json(tmp_path: Path) -> None:
    fake = tmp_path / "az"
    out = tmp_path / "out.json"
    env = {
        **os.environ,
        "PATH": f"{tmp_path}:{os.environ['PATH']}",
        "GI_RESOURCE_GROUP": "rg",
        "GI_TEMPLATE": "t",
        "GI_RUN_OUTPUT": "o",
        "AZ_SCRIPTS_OUTPUT_PATH": str(out),
        "FAKE_ARTIFACT": "/subscriptions/x/versions/0.1.2",
    }
    # A fake ``az``: ``image builder run`` succeeds, ``image builder show-runs`` prints $FAKE_ARTIFACT.
    fake.write_text(
        '#!/bin/bash\nif [ "$2" = "builder" ] && [ "$3" = "show-runs" ]; then echo "$FAKE_ARTIFACT"; fi\n'
    )
    fake.chmod(0o755)
    ok = subprocess.run(
        ["bash", "-c", aib.RUNNER_SCRIPT], env=env, capture_output=True, text=True, check=False
    )
    assert ok.returncode == 0, ok.stderr
    assert out.read_text() == '{"artifactId": "/subscriptions/x/versions/0.1.2"}'
    env["FAKE_ARTIFACT"] = ""
    failed = subprocess.run(
        ["bash", "-c", aib.RUNNER_SCRIPT], env=env, capture_output=True, text=True, check=False
    )
    assert failed.returncode == 1 and "has no artifact id" in failed.stderr


def test_roles_and_names() -> None:
    assert roles.stable_guid("a", "b") == roles.stable_guid("a", "b") != roles.stable_guid("a", "c")
    assert (
        roles.scope_resource_group(
            "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Network/virtualNetworks/v"
        )
        == "/subscriptions/s/resourceGroups/rg"
    )
    assert set(roles.SOURCE_GALLERY_ACTIONS) < set(roles.GALLERY_ACTIONS)
    assert not any(a.startswith("Microsoft.Compute/images/") for a in roles.GALLERY_ACTIONS)


@pytest.mark.parametrize(
    ("value", "ok"),
    [
        ("1.4.2", True),
        ("0.0.0", True),
        ("2147483647.0.1", True),
        ("2147483648.0.0", False),
        ("1.4", False),
        ("1.4.2-rc1", False),
        ("latest", False),
        ("\uff11.2.3", False),  # a full-width digit is not ASCII
    ],
)
def test_gallery_version_names(value: str, ok: bool) -> None:
    assert is_gallery_version_int32(value) is ok


def test_region_names() -> None:
    assert is_azure_region("germanywestcentral") and not is_azure_region("West Europe")


def _build(raw: dict[str, object]) -> ImageBuild:
    catalog = load_catalog(raw, source="stacks/Pulumi.staging.yaml", root=ROOT, stack="staging")
    return ImageBuild.from_catalog(catalog, catalog.images[0], ROOT)


def test_template_fingerprint_tracks_build_inputs_only() -> None:
    raw = stack_catalog("staging")
    base = _fp(raw)
    described = stack_catalog("staging")
    described["images"][0]["description"] = "new words, same bytes"
    assert _fp(described) == base
    resized = stack_catalog("staging")
    resized["defaults"]["azure"]["vm_size"] = "Standard_D8ds_v5"
    assert _fp(resized) != base
    more = stack_catalog("staging")
    more["defaults"]["azure"]["replication"][1]["replica_count"] = 3
    # With customer keys the template only writes the build-region copy: replica counts are the version's job.
    assert _fp(more) == base


def _fp(raw: dict[str, object]) -> str:
    build = _build(raw)
    assert build.image.azure is not None
    return template_fingerprint(build, build.image.azure)


def test_gallery_names_are_valid_per_image() -> None:
    build = _build(stack_catalog("staging"))
    assert build.image.azure is not None
    name = gallery_name(build.image.azure, "staging", "app-runtime")
    assert name == "golden_images_staging_app_runtime"
    assert re.fullmatch(r"^[A-Za-z0-9][A-Za-z0-9_.]{0,78}[A-Za-z0-9]$", name)
