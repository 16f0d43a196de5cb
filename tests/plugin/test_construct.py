"""``Construct`` through the plugin registers what the Python components register.

Each case builds one component twice: through the plugin's provider (``Construct`` from a fake engine, as a
TypeScript/Go/YAML program's ``pulumi up`` would reach it) and by a Python program passing the same plain data
to ``golden_images`` under the preview mocks (``run_program``). Types, names, parents, wire inputs,
dependencies and the components' registered outputs must be identical; the provider's returned state must
carry the typed version record and the exact record JSON.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import grpc
import pytest
import yaml
from google.protobuf import json_format

from golden_images.preview.runner import ProgramRun, run_program
from tests.conftest import ROOT
from tests.plugin.provider import (
    PROJECT,
    STACK,
    STACK_URN,
    Plugin,
    Registration,
    make_urn,
    object_to_wire,
    property_errors,
    running_plugin,
    secret,
)

pytestmark = pytest.mark.slow

ENDPOINT = "https://pve-dev1.example.internal:8006/"
CONFIG = {"golden-images:proxmoxEndpoint": ENDPOINT}
PLATFORM_TYPES = {
    "aws": "AwsGoldenImage",
    "azure": "AzureGoldenImage",
    "gcp": "GcpGoldenImage",
    "proxmox": "ProxmoxGoldenTemplate",
}

PROGRAM = '''\
"""Build one component from plain data (component.json), as another repo's Python program would."""
import importlib
import json
from pathlib import Path

import pulumi

from golden_images.api import image_build
from golden_images.golden_image import PLATFORM_COMPONENTS, GoldenImage

spec = json.loads(Path("component.json").read_text())
args = spec["args"]
if spec["platform"] is None:
    image = GoldenImage(spec["name"], args)
    pulumi.export("record", image.record)
else:
    module, cls = PLATFORM_COMPONENTS[spec["platform"]]
    extras = {k: args.pop(k) for k in ("endpoint", "api_token") if k in args}
    if "api_token" in extras:
        extras["api_token"] = pulumi.Output.secret(extras["api_token"])
    build = image_build(spec["name"], args)
    getattr(importlib.import_module(module), cls)(spec["name"], {"build": build, **extras})
'''


def dev_image(name: str) -> dict[str, Any]:
    """One image of the dev stack as plain data: its platform sections with ``defaults.<platform>`` merged
    under them and the default tags added (what the loader does for stack files), built from the repo."""
    catalog = yaml.safe_load((ROOT / "stacks" / "Pulumi.dev.yaml").read_text())["config"][
        "golden-images:catalog"
    ]
    defaults = catalog.get("defaults", {})
    image = copy.deepcopy(next(i for i in catalog["images"] if i["name"] == name))
    for platform in PLATFORM_TYPES:
        if platform in image:
            image[platform] = _merge(defaults.get(platform, {}), image[platform])
    image["tags"] = {**defaults.get("tags", {}), **image.get("tags", {})}
    if "required_tags" in defaults:
        image["required_tags"] = defaults["required_tags"]
    return {"environment": "dev", "root": str(ROOT), **image}


def _merge(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    merged = copy.deepcopy(base)
    for key, value in override.items():
        merged[key] = _merge(merged[key], value) if isinstance(value, dict) and key in merged else value
    return merged


def python_path(tmp_path: Path, name: str, platform: str | None, args: dict[str, Any]) -> ProgramRun:
    """Run ``args`` through golden_images in a Python program under the preview mocks."""
    project = tmp_path / "python-program"
    (project / "stacks").mkdir(parents=True)
    (project / "Pulumi.yaml").write_text(f"name: {PROJECT}\nruntime: python\n")
    (project / "stacks" / f"Pulumi.{STACK}.yaml").write_text(yaml.safe_dump({"config": CONFIG}))
    (project / "__main__.py").write_text(PROGRAM)
    (project / "component.json").write_text(json.dumps({"name": name, "platform": platform, "args": args}))
    run = run_program(project, STACK, project=PROJECT, preview=True)
    assert run.error is None, run.error
    return run


def python_registrations(run: ProgramRun) -> dict[str, dict[str, Any]]:
    return {
        r.urn: {
            "type": r.type,
            "name": r.name,
            "parent": r.parent,
            "custom": r.custom,
            "inputs": json_format.MessageToDict(r.wire_inputs),
            "provider": r.provider,
            "dependencies": tuple(sorted(r.dependencies)),
            "property_dependencies": {k: tuple(sorted(v)) for k, v in r.property_dependencies.items()},
        }
        for r in run.resources
    }


def plugin_registrations(registrations: list[Registration]) -> dict[str, dict[str, Any]]:
    return {
        r.urn: {
            "type": r.type,
            "name": r.name,
            "parent": r.parent,
            "custom": r.custom,
            "inputs": r.inputs,
            "provider": r.provider,
            "dependencies": r.dependencies,
            "property_dependencies": r.property_dependencies,
        }
        for r in registrations
    }


def wire_inputs(plugin: Plugin, token: str, args: dict[str, Any]) -> dict[str, Any]:
    """``args`` as an SDK generated from the plugin's schema sends them (camelCase property names)."""
    schema = plugin.schema()
    return object_to_wire(args, schema["resources"][token]["inputProperties"], schema["types"])


def assert_same_registrations(plugin: Plugin, run: ProgramRun) -> dict[str, dict[str, Any]]:
    expected = python_registrations(run)
    actual = plugin_registrations(plugin.monitor.registrations)
    assert sorted(actual) == sorted(expected)
    for urn, registration in expected.items():
        assert actual[urn] == registration, urn
    return actual


@pytest.fixture
def plugin(tmp_path: Path) -> Any:
    with running_plugin(tmp_path) as running:
        yield running


def test_golden_image_construct_registers_what_the_python_component_registers(
    plugin: Plugin, tmp_path: Path
) -> None:
    args = dev_image("base-ubuntu")
    assert set(PLATFORM_TYPES) <= set(args), "the dev image should use every platform"
    token = "golden-images:index:GoldenImage"
    response = plugin.construct(token, "base-ubuntu", wire_inputs(plugin, token, args), config=CONFIG)
    run = python_path(tmp_path, "base-ubuntu", None, args)

    urn = make_urn(STACK_URN, token, "base-ubuntu")
    assert response.urn == urn
    registered = assert_same_registrations(plugin, run)
    # The component itself (top level, under the stack) and one child component per platform.
    assert registered[urn]["parent"] == STACK_URN
    assert registered[urn]["inputs"]["imageName"] == "base-ubuntu"
    children = {r["type"]: r["name"] for r in registered.values() if r["parent"] == urn}
    assert children == {f"golden-images:index:{t}": f"base-ubuntu-{p}" for p, t in PLATFORM_TYPES.items()}
    # Real cloud resources below them (not only components).
    types = {r["type"] for r in registered.values()}
    assert {
        "aws:imagebuilder/imageRecipe:ImageRecipe",
        "azure-native:virtualmachineimages:VirtualMachineImageTemplate",
        "gcp:cloudbuild/trigger:Trigger",
        "proxmoxve:index/vmLegacy:VmLegacy",
    } <= types
    assert len(registered) > 40
    # Components registered the same outputs (the record included), as the engine would store them.
    python_outputs = {r.urn: r.outputs for r in run.engine_resources if not r.custom and r.urn in registered}
    assert set(plugin.monitor.outputs) == {u for u, r in registered.items() if not r["custom"]}
    for component, outputs in plugin.monitor.outputs.items():
        assert outputs == python_outputs[component], component

    state = json_format.MessageToDict(response.state)
    record = run.outputs["record"]
    # The JSON string is the exact contract; the typed object is the same record with schema names.
    assert json.loads(state["recordJson"]) == record
    typed = state["record"]
    assert typed["name"] == "base-ubuntu" and typed["fingerprint"] == record["fingerprint"]
    assert "builtAt" not in typed and record["built_at"] is None
    region = next(iter(record["launch"]["aws"]))
    assert typed["launch"]["aws"][region] == {
        "resolve": record["launch"]["aws"][region]["resolve"],
        "ssmParameter": record["launch"]["aws"][region]["ssm_parameter"],
    }
    assert typed["launch"]["gcp"]["familySelfLink"] == record["launch"]["gcp"]["family_self_link"]
    assert typed["launch"]["azure"] == {"definitionId": record["launch"]["azure"]["definition_id"]}
    node = next(iter(record["launch"]["proxmox"]))
    assert typed["launch"]["proxmox"][node] == {"vmId": record["launch"]["proxmox"][node]["vm_id"]}
    assert typed["artifacts"]["azure"]["galleryImageId"] == record["artifacts"]["azure"]["gallery_image_id"]
    assert typed["tags"] == record["tags"]
    # Ancestry (map of lists of objects) passes through with its nulls dropped, like every optional value.
    assert typed["ancestry"] == {
        platform: [{k: v for k, v in link.items() if v is not None} for link in chain]
        for platform, chain in record["ancestry"].items()
    }
    assert set(typed["ancestry"]) == set(PLATFORM_TYPES)


@pytest.mark.parametrize("platform", ["aws", "azure", "gcp"])
def test_platform_construct_registers_what_the_python_component_registers(
    plugin: Plugin, tmp_path: Path, platform: str
) -> None:
    image = dev_image("base-ubuntu")  # the dev stack's root image (app-runtime is layered on it)
    args = {k: v for k, v in image.items() if k not in set(PLATFORM_TYPES) - {platform}}
    token = f"golden-images:index:{PLATFORM_TYPES[platform]}"
    response = plugin.construct(token, f"app-{platform}", wire_inputs(plugin, token, args), config=CONFIG)
    run = python_path(tmp_path, f"app-{platform}", platform, args)
    registered = assert_same_registrations(plugin, run)
    assert registered[response.urn]["type"] == token
    state = json_format.MessageToDict(response.state)
    assert state["encryptionLevel"] in {"enforced", "platform-default"}
    assert state["parentReference"]
    assert state["artifacts"]


def test_proxmox_construct_takes_the_connection_as_inputs_with_the_token_secret(
    plugin: Plugin, tmp_path: Path
) -> None:
    image = dev_image("base-ubuntu")
    args = {k: v for k, v in image.items() if k not in {"aws", "azure", "gcp"}}
    token = "golden-images:index:ProxmoxGoldenTemplate"
    inputs = wire_inputs(plugin, token, args)
    inputs |= {
        "endpoint": "https://pve-other.example.internal:8006/",
        "apiToken": secret("root@pam!ci=s3cr3t"),
    }
    response = plugin.construct(token, "base-pve", inputs)  # no config: the endpoint comes from the inputs
    run = python_path(
        tmp_path,
        "base-pve",
        "proxmox",
        {**args, "endpoint": "https://pve-other.example.internal:8006/", "api_token": "root@pam!ci=s3cr3t"},
    )
    registered = assert_same_registrations(plugin, run)
    provider = next(r for r in registered.values() if r["type"] == "pulumi:providers:proxmoxve")
    assert provider["inputs"]["endpoint"] == "https://pve-other.example.internal:8006/"
    assert provider["inputs"]["apiToken"] == secret("root@pam!ci=s3cr3t")
    state = json_format.MessageToDict(response.state)
    # Integers crossed the wire as floats; the VM ids are the catalog's integers again.
    start = image["proxmox"]["vm_id_range"]["start"]
    assert all(start <= v <= image["proxmox"]["vm_id_range"]["end"] for v in state["vmIds"].values())
    assert set(state["vmIds"]) == set(image["proxmox"]["nodes"])


def test_invalid_plain_data_is_refused_with_the_field_path_and_nothing_registers(plugin: Plugin) -> None:
    args = dev_image("base-ubuntu")
    args["aws"]["kms_keys"] = {"us-east-1": "alias/aws/ebs"}  # an AWS-managed key: the catalog refuses it
    args["version"] = "1.4"
    token = "golden-images:index:GoldenImage"
    with pytest.raises(grpc.RpcError) as refused:
        plugin.construct(token, "base-ubuntu", wire_inputs(plugin, token, args), config=CONFIG)
    details = refused.value.details() or ""
    assert "GoldenImage(base-ubuntu): aws.kms_keys.us-east-1:" in details, details
    assert "customer-managed" in details
    assert "GoldenImage(base-ubuntu): version:" in details, details
    assert plugin.monitor.registrations == []


def test_missing_required_input_is_refused_by_the_provider(plugin: Plugin) -> None:
    args = dev_image("base-ubuntu")
    del args["provision"]
    token = "golden-images:index:GoldenImage"
    with pytest.raises(grpc.RpcError) as refused:
        plugin.construct(token, "base-ubuntu", wire_inputs(plugin, token, args), config=CONFIG)
    assert property_errors(refused.value) == [
        ("provision", "Missing required input 'provision' on 'GoldenImage'")
    ]
    assert plugin.monitor.registrations == []


def test_an_output_in_a_plain_input_is_refused_with_its_path(plugin: Plugin) -> None:
    args = dev_image("base-ubuntu")
    token = "golden-images:index:GoldenImage"
    # The engine marks an input computed from another resource's output with that resource's URN; the
    # provider then hands it to the component as an Output, which the catalog model cannot validate.
    upstream = make_urn(STACK_URN, "aws:ssm/parameter:Parameter", "description-source")
    with pytest.raises(grpc.RpcError) as refused:
        plugin.construct(
            token,
            "base-ubuntu",
            wire_inputs(plugin, token, args),
            config=CONFIG,
            dependencies={"description": [upstream]},
        )
    details = refused.value.details() or ""
    assert "GoldenImage(base-ubuntu): description: must be a plain value known when the component" in details
    assert plugin.monitor.registrations == []
