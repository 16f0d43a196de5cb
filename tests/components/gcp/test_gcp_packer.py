"""The Packer template: rendered by a pure function, validated with a real ``packer validate`` (Debian's
packer 1.6.6, whose built-in googlecompute builder runs its full Prepare offline), and checked for the
settings the issue requires (CMEK, no external IP, shielded VM, labels, content-addressed objects)."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from golden_images.core.naming import gcp_image_name
from golden_images.platforms.gcp.cloudbuild import bake_script, build_steps, fetch_script, verify_script
from golden_images.platforms.gcp.packer import BUILD_VM_TAG, EXECUTE_COMMAND, render_template_text
from tests.components.gcp.gcp_helpers import (
    STACKS,
    gcp_catalog,
    materialise,
    packer_validate,
    rendered_builds,
)
from tests.components.limits import GCP_NAME, has_required_tags, is_gcp_label
from tests.conftest import ROOT


@pytest.mark.parametrize("stack", STACKS)
def test_packer_validate_passes_for_every_stack_template(stack: str, tmp_path: Path) -> None:
    for name, rendered in rendered_builds(stack).items():
        workspace = tmp_path / name
        template = materialise(rendered, workspace)
        result = packer_validate(template, workspace)
        assert result.returncode == 0, f"{stack}/{name}: {result.stdout}{result.stderr}"


@pytest.mark.parametrize(
    ("case", "breakage", "expected"),
    [
        (
            "unknown-key",
            lambda t: t["builders"][0].update(image_guest_os_features=["GVNIC"]),
            "unknown configuration",
        ),
        (
            "external-ip-contradiction",
            lambda t: t["builders"][0].update(use_internal_ip=False),
            "use_internal_ip",
        ),
        ("missing-script", lambda t: t["provisioners"][0].update(script="steps/absent.sh"), "Bad script"),
        ("not-json", None, "Failed to parse"),
    ],
)
def test_packer_validate_catches_a_broken_template(
    case: str, breakage: object, expected: str, tmp_path: Path
) -> None:
    rendered = rendered_builds("dev")["base-ubuntu"]
    template_path = materialise(rendered, tmp_path)
    if breakage is None:
        template_path.write_text(render_template_text(rendered.template)[:-20])
    else:
        broken = json.loads(json.dumps(rendered.template))
        breakage(broken)  # type: ignore[operator]
        template_path.write_text(render_template_text(broken))
    result = packer_validate(template_path, tmp_path)
    assert result.returncode != 0, f"{case}: packer accepted a broken template"
    assert expected in result.stdout + result.stderr, result.stdout + result.stderr


@pytest.mark.parametrize("stack", STACKS)
def test_template_encrypts_with_cmek_without_external_ip(stack: str) -> None:
    catalog = gcp_catalog(stack)
    key = catalog["defaults"]["gcp"]["kms_key"]
    for rendered in rendered_builds(stack).values():
        (builder,) = rendered.template["builders"]
        assert builder["type"] == "googlecompute"
        assert builder["image_encryption_key"] == {"kmsKeyName": key}
        assert builder["omit_external_ip"] is True and builder["use_internal_ip"] is True
        assert (
            builder["enable_secure_boot"]
            and builder["enable_vtpm"]
            and builder["enable_integrity_monitoring"]
        )
        assert builder["image_family"] == rendered.family
        assert builder["image_name"] == rendered.image_name
        assert builder["tags"] == [BUILD_VM_TAG]
        assert builder["metadata"] == {"block-project-ssh-keys": "true"}
        assert builder["image_storage_locations"] == catalog["defaults"]["gcp"]["storage_locations"]
        assert builder["service_account_email"].startswith("gi-vm-")


def test_prod_template_uses_the_exact_source_image_dev_the_family() -> None:
    prod_builds, dev_builds = rendered_builds("prod"), rendered_builds("dev")
    prod = prod_builds["base-ubuntu"].template["builders"][0]
    dev = dev_builds["base-ubuntu"].template["builders"][0]
    assert prod["source_image"] == "ubuntu-2404-noble-amd64-v20260918" and "source_image_family" not in prod
    assert dev["source_image_family"] == "ubuntu-2404-lts-amd64" and "source_image" not in dev
    assert prod["source_image_project_id"] == ["ubuntu-os-cloud"]
    assert prod["network_project_id"] == "acme-net-host"
    # The layered app-runtime starts from base-ubuntu's exact image in the base's project, in dev as in prod.
    for stack, builds in (("prod", prod_builds), ("dev", dev_builds)):
        child = builds["app-runtime"].template["builders"][0]
        assert (
            child["source_image"] == builds["base-ubuntu"].image_name and "source_image_family" not in child
        )
        assert child["source_image"].startswith("base-ubuntu-1-4-2-")
        assert child["source_image_project_id"] == [f"acme-golden-{stack}"]


@pytest.mark.parametrize("stack", STACKS)
def test_image_name_and_labels_are_within_gcp_limits(stack: str) -> None:
    for name, rendered in rendered_builds(stack).items():
        assert GCP_NAME.fullmatch(rendered.image_name), rendered.image_name
        version = {"base-ubuntu": "1-4-2", "app-runtime": "2-1-0"}[name]
        assert rendered.image_name == f"{rendered.family}-{version}-{rendered.fingerprint[:10]}"
        labels = rendered.template["builders"][0]["image_labels"]
        assert labels == rendered.labels
        assert all(is_gcp_label(k, v) for k, v in labels.items()), labels
        assert labels["image-version"] == version and labels["environment"] == stack
        assert has_required_tags(labels), labels


def test_objects_are_content_addressed_and_every_reference_resolves() -> None:
    rendered = rendered_builds("dev")["base-ubuntu"]
    paths = {obj.path for obj in rendered.objects}
    assert len(paths) == len(rendered.objects), "objects are de-duplicated by content"
    for obj in rendered.objects:
        assert obj.sha256 == hashlib.sha256(obj.content.encode()).hexdigest()
        assert obj.sha256 in obj.path
    referenced = {p.get("script") or p.get("source") for p in rendered.template["provisioners"]}
    assert referenced <= paths
    assert rendered.template_object.content == render_template_text(rendered.template)


def test_steps_run_in_order_as_root_and_tests_are_not_baked() -> None:
    rendered = rendered_builds("dev")["base-ubuntu"]
    provisioners = rendered.template["provisioners"]
    by_path = {obj.path: obj for obj in rendered.objects}
    contents = [by_path[p.get("script") or p["source"]].content for p in provisioners]
    # packages, harden, (staging, sshd_config, install), cleanup, then the validate step.
    assert (
        "apt-get -o DPkg::Lock::Timeout=600 install -y --no-install-recommends auditd chrony" in contents[0]
    )
    assert contents[1] == (Path(__file__).parents[3] / "images/base-ubuntu/harden.sh").read_text()
    assert provisioners[3] == {
        "type": "file",
        "source": provisioners[3]["source"],
        "destination": f"/tmp/golden-images/{provisioners[3]['source'].split('/')[-1]}",
    }
    assert "install -D -m 0600 -o root -g root" in contents[4] and "sha256sum --check" in contents[4]
    assert contents[-1].endswith("sshd -t\n")
    assert not any("systemctl is-active auditd" in c for c in contents), "tests need a fresh instance"
    assert all(
        "sudo -E bash -euo pipefail '{{ .Path }}'" in p["execute_command"]
        and p["execute_command"].endswith("</dev/null")
        for p in provisioners
        if p["type"] == "shell"
    )


def test_layered_app_runtime_runs_only_its_own_steps() -> None:
    # The base's steps (packages, harden, sshd_config, validate) are in the parent image already (#15).
    rendered = rendered_builds("dev")["app-runtime"]
    provisioners = rendered.template["provisioners"]
    by_path = {obj.path: obj for obj in rendered.objects}
    contents = [by_path[p.get("script") or p["source"]].content for p in provisioners]
    assert [p["type"] for p in provisioners] == ["shell", "shell", "shell"]
    assert (
        "apt-get -o DPkg::Lock::Timeout=600 install -y --no-install-recommends containerd runc" in contents[0]
    )
    assert contents[1] == (ROOT / "images/app-runtime/install-runtime.sh").read_text()
    assert contents[2] == (ROOT / "images/base-ubuntu/cleanup.sh").read_text()
    harden = (ROOT / "images/base-ubuntu/harden.sh").read_text()
    assert not any(c == harden or "--no-install-recommends auditd" in c for c in contents)
    assert not any(c.rstrip().endswith("sshd -t") for c in contents), "no validate step of its own"
    assert {p["execute_command"] for p in provisioners} == {EXECUTE_COMMAND}


def test_script_args_never_reach_a_packer_template_string() -> None:
    raw = gcp_catalog("dev")
    raw["images"][0]["provision"][1]["args"] = ["--level", "{{ .Vars }}", "it's"]
    rendered = rendered_builds("dev", raw)["base-ubuntu"]
    provisioners = rendered.template["provisioners"]
    assert {p["execute_command"] for p in provisioners if p["type"] == "shell"} == {EXECUTE_COMMAND}
    assert "{{ .Vars }}" not in render_template_text(rendered.template).replace(EXECUTE_COMMAND, "")
    # harden.sh is staged, then started by a launcher object that holds the quoted arguments.
    by_path = {obj.path: obj for obj in rendered.objects}
    upload, launch = provisioners[2], provisioners[3]
    assert (
        upload["type"] == "file"
        and by_path[upload["source"]].content == (ROOT / "images/base-ubuntu/harden.sh").read_text()
    )
    assert by_path[launch["script"]].content == (
        f"bash -euo pipefail {upload['destination']} --level '{{{{ .Vars }}}}' 'it'\"'\"'s' </dev/null\n"
    )


def test_cloud_build_steps_fetch_verify_hashes_install_plugin_then_build() -> None:
    from golden_images.catalog.loader import load_catalog

    catalog = load_catalog(gcp_catalog("prod"), source="prod", root=ROOT, stack="prod")
    spec = catalog.images[0].gcp
    assert spec is not None
    rendered = rendered_builds("prod")["base-ubuntu"]
    fetch = fetch_script(spec, rendered, "bucket-x")
    for obj in rendered.objects:
        assert f"gs://bucket-x/{obj.path}" in fetch and f"{obj.sha256}  {obj.path}" in fetch
    assert f"gcloud compute images describe {rendered.image_name}" in fetch
    bake = bake_script(spec, rendered).splitlines()
    install = next(i for i, line in enumerate(bake) if line.startswith("packer plugins install"))
    build = next(i for i, line in enumerate(bake) if line.startswith("packer build"))
    assert install < build
    assert bake[install] == "packer plugins install github.com/hashicorp/googlecompute v1.1.6"
    assert bake[build].endswith(rendered.template_object.path)
    verify = verify_script(spec, rendered)
    assert spec.kms_key in verify and "UEFI_COMPATIBLE" in verify and "GVNIC" in verify
    steps = build_steps(spec, rendered, "bucket-x")
    assert [s.id for s in steps] == ["fetch", "bake", "verify"]
    assert steps[1].image == "hashicorp/packer:1.16.1"


@given(
    family=st.from_regex(r"[a-z]([-a-z0-9]{0,38}[a-z0-9])?", fullmatch=True),
    version=st.tuples(st.integers(0, 10**6), st.integers(0, 10**6), st.integers(0, 10**6)),
    fingerprint=st.text("0123456789abcdef", min_size=64, max_size=64),
)
def test_image_names_are_always_valid(family: str, version: tuple[int, int, int], fingerprint: str) -> None:
    name = gcp_image_name(family, ".".join(map(str, version)), fingerprint)
    assert GCP_NAME.fullmatch(name), name
    assert name.endswith(fingerprint[:10])


def test_packer_validate_passes_with_script_arguments(tmp_path: Path) -> None:
    # Arguments add a staging step, an upload and a launcher: the template must still be valid Packer.
    raw = gcp_catalog("dev")
    raw["images"][0]["provision"][1]["args"] = ["--level", "{{ .Vars }}", "it's"]
    rendered = rendered_builds("dev", raw)["base-ubuntu"]
    template = materialise(rendered, tmp_path)
    result = packer_validate(template, tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
