"""``ProxmoxGoldenTemplate`` under Pulumi mocks: what it registers, with which inputs and options."""

from __future__ import annotations

import json
from typing import Any

import pytest
import yaml

from golden_images.core.rules import is_proxmox_tag
from golden_images.engine.model import RegisteredResource
from golden_images.platforms.proxmox import layout
from golden_images.platforms.proxmox.dynamic import BakeError, connection
from golden_images.platforms.proxmox.pve import PROXMOX_TOKEN_ENV_VARS
from golden_images.platforms.proxmox.spec import ProxmoxSpec
from golden_images.preview.runner import PLACEHOLDER_SECRET, ProgramRun, run_program
from tests.components.proxmox.helpers import catalog
from tests.conftest import ROOT, RunStack, assert_refused, by_type, one, write_stack

VM = "proxmoxve:index/vmLegacy:VmLegacy"
DOWNLOAD = "proxmoxve:download/file:File"
SNIPPET = "proxmoxve:index/fileLegacy:FileLegacy"
PROVIDER = "pulumi:providers:proxmoxve"
BAKE = "pulumi-python:dynamic/golden-images:ProxmoxTemplateBake"
COMPONENT = "golden-images:index:ProxmoxGoldenTemplate"


def _spec(stack: str, image: str) -> ProxmoxSpec:
    from golden_images.catalog.loader import load_catalog

    cat = load_catalog(catalog(stack), source=f"stacks/Pulumi.{stack}.yaml", root=ROOT, stack=stack)
    spec = cat.image(image).proxmox
    assert spec is not None
    return spec


def _run(run_stack: RunStack, stack: str, raw: dict[str, Any] | None = None, **extra: Any) -> ProgramRun:
    run = run_stack(stack, raw if raw is not None else catalog(stack), extra=extra or None)
    assert run.error is None, run.error
    return run


def test_dev_registers_one_template_pipeline_per_node_and_image(run_stack: RunStack) -> None:
    run = _run(run_stack, "dev")
    assert len(by_type(run.resources, COMPONENT)) == 2
    for token in (PROVIDER, SNIPPET, VM, BAKE):
        assert len(by_type(run.resources, token)) == 2, token  # 2 images x 1 node
    # Only the root image downloads the cloud image; the layered app-runtime clones base-ubuntu's template.
    assert [d.name for d in by_type(run.resources, DOWNLOAD)] == ["base-ubuntu-proxmox-pve-dev1-cloud-image"]
    component = one(run.resources, COMPONENT, "base-ubuntu-proxmox")
    children = {r.name for r in run.resources if r.parent == component.urn}
    assert children == {
        "base-ubuntu-proxmox-provider",
        "base-ubuntu-proxmox-pve-dev1-cloud-image",
        "base-ubuntu-proxmox-pve-dev1-user-data",
        "base-ubuntu-proxmox-pve-dev1-template-1.4.2",
        "base-ubuntu-proxmox-pve-dev1-bake-1.4.2",
    }


def test_cloud_image_is_pinned_by_sha256_and_never_silently_overwritten(run_stack: RunStack) -> None:
    run = _run(run_stack, "prod")
    raw = catalog("prod")["defaults"]["proxmox"]["cloud_image"]
    downloads = by_type(run.resources, DOWNLOAD)
    assert len(downloads) == 3  # the root image x 3 nodes (app-runtime is layered on base-ubuntu)
    for download in downloads:
        inputs = download.inputs
        assert inputs["url"] == raw["url"]
        assert inputs["checksum"] == raw["sha256"] and inputs["checksumAlgorithm"] == "sha256"
        assert inputs["overwrite"] is False and inputs["overwriteUnmanaged"] is False
        assert inputs["contentType"] == "iso" and inputs["datastoreId"] == "local"
        assert inputs["fileName"].endswith(f"-{raw['sha256'][:12]}.img")
    assert {d.inputs["nodeName"] for d in downloads} == {"pve-prod1", "pve-prod2", "pve-prod3"}


def test_one_vm_id_per_version_and_node(run_stack: RunStack) -> None:
    run = _run(run_stack, "prod")
    ids = {vm.name: int(vm.inputs["vmId"]) for vm in by_type(run.resources, VM)}
    assert ids["base-ubuntu-proxmox-pve-prod1-template-1.4.2"] == 1_010_402
    assert ids["base-ubuntu-proxmox-pve-prod2-template-1.4.2"] == 1_110_402
    assert ids["app-runtime-proxmox-pve-prod3-template-2.1.0"] == 2_220_100
    assert len(set(ids.values())) == 6

    bumped = catalog("prod")
    bumped["images"][0]["version"] = "1.4.3"
    run2 = _run(run_stack, "prod", bumped)
    new = one(run2.resources, VM, "base-ubuntu-proxmox-pve-prod1-template-1.4.3")
    assert int(new.inputs["vmId"]) == 1_010_403  # the 1.4.2 template keeps its id: versions coexist
    bake = one(run2.resources, BAKE, "base-ubuntu-proxmox-pve-prod1-bake-1.4.3")
    assert int(bake.inputs["vm_id"]) == 1_010_403 and bake.inputs["retain"] == 5


def test_vm_is_a_started_builder_with_agent_tags_and_description(run_stack: RunStack) -> None:
    run = _run(run_stack, "staging")
    vm = one(run.resources, VM, "base-ubuntu-proxmox-pve-stg2-template-1.4.2").inputs
    assert vm["template"] is False and vm["started"] is True and vm["onBoot"] is False
    assert vm["agent"]["enabled"] is True
    assert vm["tags"] == sorted(vm["tags"]) and all(is_proxmox_tag(t) for t in vm["tags"])
    for required in (
        "owner_",
        "cost-center_",
        "environment_staging",
        "managed-by_golden-images",
        "golden-image_base-ubuntu",
        "image-version_1.4.2",
    ):
        assert any(t.startswith(required) for t in vm["tags"]), required
    assert "golden-images-version: 1.4.2" in vm["description"]
    record = run.outputs["images"]["base-ubuntu"]
    assert f"golden-images-image-fingerprint: {record['fingerprint']}" in vm["description"]
    bake = one(run.resources, BAKE, "base-ubuntu-proxmox-pve-stg2-bake-1.4.2").inputs
    assert layout.description_fingerprint(vm["description"]) == bake["fingerprint"]
    assert vm["bios"] == "ovmf" and vm["efiDisk"]["preEnrolledKeys"] is True
    assert vm["tpmState"]["version"] == "v2.0"
    stores = {
        vm["disks"][0]["datastoreId"],
        vm["efiDisk"]["datastoreId"],
        vm["tpmState"]["datastoreId"],
        vm["initialization"]["datastoreId"],
    }
    assert stores == {"zfs-crypt"}
    assert vm["initialization"]["userDataFileId"] == "base-ubuntu-proxmox-pve-stg2-user-data-id"
    assert vm["disks"][0]["fileId"] == "base-ubuntu-proxmox-pve-stg2-cloud-image-id"


def test_uefi_off_means_seabios_without_efi_disk_or_tpm(run_stack: RunStack) -> None:
    raw = catalog("dev")
    raw["defaults"]["proxmox"]["uefi"] = False
    vm = by_type(_run(run_stack, "dev", raw).resources, VM)[0].inputs
    assert vm["bios"] == "seabios" and "efiDisk" not in vm and "tpmState" not in vm


def test_conversion_only_in_the_bake_which_waits_for_the_vm(
    run_stack: RunStack, requests_seen: dict[str, Any]
) -> None:
    run = _run(run_stack, "dev")
    vm = one(run.resources, VM, "base-ubuntu-proxmox-pve-dev1-template-1.4.2")
    bake = one(run.resources, BAKE, "base-ubuntu-proxmox-pve-dev1-bake-1.4.2")
    assert vm.inputs["template"] is False  # never created as a template (linked clones on ZFS)
    request = requests_seen[bake.name]
    assert vm.urn in request.dependencies
    assert request.customTimeouts.create == "60m"  # 45 min build + margin
    assert bake.inputs["vm_id"] == vm.inputs["vmId"]
    spec = _spec("dev", "base-ubuntu")
    image_fp = run.outputs["images"]["base-ubuntu"]["fingerprint"]
    assert bake.inputs["fingerprint"] == layout.template_fingerprint(image_fp, spec)
    assert bake.inputs["timeout_seconds"] == 45 * 60 and bake.inputs["poll_seconds"] == 10
    vm_request = requests_seen[vm.name]
    assert vm_request.retainOnDelete is True and vm_request.deleteBeforeReplace is True
    assert set(vm_request.ignoreChanges) == {
        "template",
        "started",
        "initialization",
        "description",
        "disks",
        "efiDisk",
        "tpmState",
    }
    # Everything on PVE goes through the component's explicit provider.
    provider = one(run.resources, PROVIDER, "base-ubuntu-proxmox-provider")
    assert vm_request.provider.startswith(provider.urn)


def test_snippet_is_the_rendered_user_data(run_stack: RunStack) -> None:
    """The snippet read back as cloud-config: the catalog's steps in order (apt lines written out, scripts
    byte-for-byte from images/), the guest agent, the bake runner and the power-off that marks it done."""
    import base64
    import re

    run = _run(run_stack, "dev")
    snippet = one(run.resources, SNIPPET, "app-runtime-proxmox-pve-dev1-user-data").inputs
    text = snippet["sourceRaw"]["data"]
    header = re.fullmatch(
        r"#cloud-config\n# golden-images app-runtime 2\.1\.0 fingerprint ([0-9a-f]{64})\n",
        text[: text.index("\n", 14) + 1],
    )
    assert header, text[:200]
    fingerprint = header.group(1)
    assert snippet["sourceRaw"]["fileName"] == f"golden-app-runtime-2.1.0-{fingerprint[:10]}.yaml"
    assert snippet["contentType"] == "snippets" and snippet["overwrite"] is False
    doc = yaml.safe_load(text)
    assert doc["packages"] == ["qemu-guest-agent"]
    assert doc["runcmd"] == [
        ["systemctl", "enable", "--now", "qemu-guest-agent"],
        ["/usr/local/sbin/golden-images-bake"],
    ]
    assert doc["power_state"] == {
        "mode": "poweroff",
        "delay": 1,
        "message": "golden-images: app-runtime 2.1.0 baked, powering off for templating",
        "timeout": 300,
        "condition": ["test", "-f", "/run/golden-images/poweroff"],
    }
    provision = [
        f for f in doc["write_files"] if f["path"].startswith("/var/lib/golden-images/build/provision-")
    ]
    assert [f["path"] for f in provision] == [
        f"/var/lib/golden-images/build/provision-0{i}.sh" for i in range(1, 4)
    ]
    assert all(
        (f["permissions"], f["owner"], f["encoding"]) == ("0700", "root:root", "b64") for f in provision
    )
    bodies = [base64.b64decode(f["content"]) for f in provision]
    apt = "apt-get -o DPkg::Lock::Timeout=600"
    # Layered on base-ubuntu (#15): only the runtime layer is provisioned here.
    assert bodies[0].decode() == (
        f"export DEBIAN_FRONTEND=noninteractive\n{apt} update -y\n"
        f"{apt} install -y --no-install-recommends containerd runc\n"
    )
    assert bodies[1] == (ROOT / "images/app-runtime/install-runtime.sh").read_bytes()
    assert bodies[2] == (ROOT / "images/base-ubuntu/cleanup.sh").read_bytes()


def _plaintext(value: Any) -> str:
    return json.dumps(value, default=str)


def test_api_token_is_secret_on_the_wire_and_absent_from_outputs(run_stack: RunStack) -> None:
    # An encrypted stack value (as `pulumi config set --secret` writes it); offline it is a placeholder.
    run = _run(run_stack, "dev", **{"golden-images:proxmoxApiToken": {"secure": "v1:c2VjcmV0"}})
    for provider in by_type(run.resources, PROVIDER):
        assert "apiToken" in provider.secret_paths
        assert provider.inputs["endpoint"] == "https://pve-dev.example.internal:8006/"
    for bake in by_type(run.resources, BAKE):
        assert "api_token" in bake.secret_paths and "__provider" in bake.secret_paths
    for resource in run.resources:
        if resource.type not in (PROVIDER, BAKE):
            assert PLACEHOLDER_SECRET not in _plaintext(resource.inputs), resource.name
    assert PLACEHOLDER_SECRET not in _plaintext(run.outputs)


def test_plaintext_api_token_is_refused(run_stack: RunStack) -> None:
    token = "root@pam!golden=2b1e3c44-5d6f-4a7b-8c9d-0e1f2a3b4c5d"
    run = run_stack("dev", catalog("dev"), extra={"golden-images:proxmoxApiToken": token})
    assert_refused(run, "dev", "config.golden-images:proxmoxApiToken", "pulumi config set --secret")
    assert token not in str(run.error)


def test_without_a_token_the_provider_reads_its_environment_variable(
    run_stack: RunStack, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The stack files set no proxmoxApiToken (Pulumi.yaml does not require it): the provider gets none and
    reads PROXMOX_VE_API_TOKEN itself, so the token never enters the program's inputs or the state."""
    token = "root@pam!env=7a1e3c44-5d6f-4a7b-8c9d-0e1f2a3b4c5d"
    monkeypatch.setenv("PROXMOX_VE_API_TOKEN", token)
    run = _run(run_stack, "dev")
    providers = by_type(run.resources, PROVIDER)
    assert providers and all("apiToken" not in p.inputs for p in providers)
    assert all(not b.inputs.get("api_token") for b in by_type(run.resources, BAKE))
    assert token not in _plaintext([r.inputs for r in run.resources]) + _plaintext(run.outputs)


def test_up_without_any_token_is_refused_before_anything_registers(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Any
) -> None:
    for name in PROXMOX_TOKEN_ENV_VARS:
        monkeypatch.delenv(name, raising=False)
    stack_file = write_stack(tmp_path, "dev", catalog("dev"))
    preview = run_program(ROOT, "dev", stack_file=stack_file)
    assert preview.error is None  # a preview runs; the CLI notes what `pulumi up` still needs
    up = run_program(ROOT, "dev", stack_file=stack_file, preview=False)
    assert_refused(up, "dev", "config.golden-images:proxmoxApiToken", "PROXMOX_VE_API_TOKEN")


def test_bake_connection_falls_back_to_the_environment() -> None:
    props = {"endpoint": "https://pve1:8006/", "api_token": None}
    token = "root@pam!env=7a1e3c44-5d6f-4a7b-8c9d-0e1f2a3b4c5d"
    assert connection(props, {"PROXMOX_VE_API_TOKEN": token}).api_token == token
    assert connection(props, {"PM_VE_API_TOKEN": token}).api_token == token
    assert connection({**props, "api_token": "a@pve!x=y"}, {"PROXMOX_VE_API_TOKEN": token}).api_token == (
        "a@pve!x=y"
    )
    with pytest.raises(BakeError, match="PROXMOX_VE_API_TOKEN"):
        connection(props, {})


def test_version_record_carries_node_to_vm_id_and_honest_encryption(run_stack: RunStack) -> None:
    dev = _run(run_stack, "dev").outputs["images"]["base-ubuntu"]
    assert dev["artifacts"]["proxmox"] == {"pve-dev1": 1_010_402}
    assert dev["encryption"]["proxmox"] == "none"  # local-lvm is not attested
    assert dev["parent"]["proxmox"].endswith(
        "@sha256:" + catalog("dev")["defaults"]["proxmox"]["cloud_image"]["sha256"]
    )
    prod = _run(run_stack, "prod").outputs["images"]["app-runtime"]
    assert prod["artifacts"]["proxmox"] == {
        "pve-prod1": 2_020_100,
        "pve-prod2": 2_120_100,
        "pve-prod3": 2_220_100,
    }
    assert prod["encryption"]["proxmox"] == "attested"


def test_attestation_must_cover_the_vm_datastore(run_stack: RunStack) -> None:
    raw = catalog("prod")
    raw["defaults"]["proxmox"]["vm_datastore"] = "local-lvm"  # not on the allow-list
    record = _run(run_stack, "prod", raw).outputs["images"]["base-ubuntu"]
    assert record["encryption"]["proxmox"] == "none"


def _inputs(run: ProgramRun) -> dict[str, dict[str, Any]]:
    return {r.urn: r.inputs for r in run.resources}


def test_unchanged_spec_gives_identical_inputs(run_stack: RunStack) -> None:
    first, second = _run(run_stack, "staging"), _run(run_stack, "staging")
    assert _inputs(first) == _inputs(second)


def test_a_tag_change_touches_no_build_input_but_a_script_change_rebuilds(run_stack: RunStack) -> None:
    base = _run(run_stack, "dev")
    tagged = catalog("dev")
    tagged["defaults"]["tags"]["owner"] = "another-team"
    retag = _run(run_stack, "dev", tagged)
    changed = {urn for urn, inputs in _inputs(retag).items() if _inputs(base).get(urn) != inputs}
    changed_types = {r.type for r in retag.resources if r.urn in changed}
    assert VM in changed_types and SNIPPET not in changed_types and BAKE not in changed_types
    assert DOWNLOAD not in changed_types

    edited = catalog("dev")
    edited["images"][1]["provision"].append({"name": "extra", "shell": "echo extra"})
    rebuilt = _run(run_stack, "dev", edited)
    old = one(base.resources, BAKE, "app-runtime-proxmox-pve-dev1-bake-2.1.0").inputs
    new = one(rebuilt.resources, BAKE, "app-runtime-proxmox-pve-dev1-bake-2.1.0").inputs
    assert old["fingerprint"] != new["fingerprint"]  # the bake resource is replaced (see diff in test_pve)
    assert (
        one(rebuilt.resources, BAKE, "base-ubuntu-proxmox-pve-dev1-bake-1.4.2").inputs
        == one(base.resources, BAKE, "base-ubuntu-proxmox-pve-dev1-bake-1.4.2").inputs
    )


def test_a_new_cloud_image_pin_is_a_new_template_build(run_stack: RunStack) -> None:
    base = _run(run_stack, "dev")
    repinned = catalog("dev")
    repinned["defaults"]["proxmox"]["cloud_image"]["sha256"] = "f" * 64
    run = _run(run_stack, "dev", repinned)
    name = "base-ubuntu-proxmox-pve-dev1-bake-1.4.2"
    assert (
        one(run.resources, BAKE, name).inputs["fingerprint"]
        != one(base.resources, BAKE, name).inputs["fingerprint"]
    )
    # The cloud image is in the fingerprint chain (#15): the record's fingerprint and parent both change.
    old, new = base.outputs["images"]["base-ubuntu"], run.outputs["images"]["base-ubuntu"]
    assert old["fingerprint"] != new["fingerprint"] and old["parent"]["proxmox"] != new["parent"]["proxmox"]


def test_component_registration_carries_version_tags_and_no_secret(run_stack: RunStack) -> None:
    run = _run(run_stack, "prod")
    component: RegisteredResource = one(run.resources, COMPONENT, "base-ubuntu-proxmox")
    assert component.inputs["version"] == "1.4.2" and component.inputs["environment"] == "prod"
    assert component.inputs["tags"]["golden-image"] == "base-ubuntu"
    assert component.inputs["encryption"] == "attested"
    assert component.secret_paths == ()


def test_bake_provider_is_serialized_by_reference_and_secret(run_stack: RunStack) -> None:
    import base64

    import dill

    from golden_images.platforms.proxmox.dynamic import TemplateBakeProvider

    run = _run(run_stack, "dev")
    bake = by_type(run.resources, BAKE)[0]
    assert "__provider" in bake.secret_paths
    provider = dill.loads(base64.b64decode(bake.inputs["__provider"]["value"]))
    # The engine's dynamic-provider host imports golden_images.platforms.proxmox.dynamic from the project venv rather
    # than running a pickled copy of the code, and the pickle carries no connection data.
    assert type(provider) is TemplateBakeProvider
    assert b"golden_images.platforms.proxmox.dynamic" in base64.b64decode(bake.inputs["__provider"]["value"])
    assert len(bake.inputs["__provider"]["value"]) < 2000
