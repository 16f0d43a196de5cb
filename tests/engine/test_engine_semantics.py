"""The harness and runner send what the Pulumi engine sends (pkg/v3 and sdk/v3 v3.274.1 sources).

An echo pack written per test reports, as violation messages, exactly what the Python policy SDK decoded from
the harness's requests, so each assertion reads the value back through the real consumer.
"""

from __future__ import annotations

import json
from pathlib import Path
from textwrap import dedent

import pytest

from golden_images.engine.harness import PolicyConfigError, PolicyHarness
from golden_images.engine.model import RegisteredResource
from golden_images.preview.runner import run_program

ROOT = Path(__file__).resolve().parents[2]

ECHO_PACK = dedent(
    """
    import json
    from collections.abc import Mapping
    from pulumi_policy import (EnforcementLevel, PolicyPack, ResourceValidationPolicy,
                               StackValidationPolicy)

    def plain(value):
        return dict(value) if isinstance(value, Mapping) else list(value)

    def echo_opts(args, report):
        o = args.opts
        report(json.dumps({
            "protect": o.protect, "ignore_changes": list(o.ignore_changes),
            "delete_before_replace": o.delete_before_replace, "aliases": list(o.aliases),
            "additional_secret_outputs": list(o.additional_secret_outputs),
            "create": o.custom_timeouts.create_seconds, "delete": o.custom_timeouts.delete_seconds,
            "parent": o.parent, "props": args.props,
        }, sort_keys=True, default=plain))

    def echo_stack(args, report):
        for r in args.resources:
            report(json.dumps({
                "urn": r.urn, "props": r.props,
                "dependencies": [d.urn for d in r.dependencies],
                "property_dependencies": {k: [d.urn for d in v] for k, v in r.property_dependencies.items()},
            }, sort_keys=True, default=plain))

    PolicyPack("echo", enforcement_level=EnforcementLevel.ADVISORY, policies=[
        ResourceValidationPolicy(name="echo-opts", description="echo", validate=echo_opts),
        StackValidationPolicy(name="echo-stack", description="echo", validate=echo_stack),
    ])
    """
)


@pytest.fixture
def echo_pack(tmp_path: Path) -> Path:
    (tmp_path / "PulumiPolicy.yaml").write_text("runtime: python\nversion: 0.0.1\n", encoding="utf-8")
    (tmp_path / "__main__.py").write_text(ECHO_PACK, encoding="utf-8")
    return tmp_path


def _resource(**kwargs: object) -> RegisteredResource:
    base: dict[str, object] = {
        "urn": "urn:pulumi:dev::p::aws:s3/bucket:Bucket::b",
        "type": "aws:s3/bucket:Bucket",
        "name": "b",
        "parent": "urn:pulumi:dev::p::pulumi:pulumi:Stack::p-dev",
        "custom": True,
        "inputs": {},
        "wire_inputs": {"bucket": "x", "__defaults": [], "nested": {"__kept": 1}},
    }
    base.update(kwargs)
    return RegisteredResource(**base)  # type: ignore[arg-type]


def test_analyze_receives_every_resource_option_and_only_top_level_internal_keys_dropped(
    echo_pack: Path,
) -> None:
    resource = _resource(
        protect=True,
        ignore_changes=("tags",),
        delete_before_replace=False,
        aliases=("urn:pulumi:dev::p::aws:s3/bucket:Bucket::old",),
        additional_secret_outputs=("arn",),
        custom_timeouts={"create": "4h", "delete": "90m"},
    )
    with PolicyHarness(echo_pack, project="p", stack="dev") as harness:
        violations = harness.analyze([resource])
    [opts] = [json.loads(v.message) for v in violations if v.policy == "echo-opts"]
    assert opts == {
        "protect": True,
        "ignore_changes": ["tags"],
        "delete_before_replace": False,  # defined as false, not left unset
        "aliases": ["urn:pulumi:dev::p::aws:s3/bucket:Bucket::old"],
        "additional_secret_outputs": ["arn"],
        "create": 14400.0,
        "delete": 5400.0,
        "parent": "urn:pulumi:dev::p::pulumi:pulumi:Stack::p-dev",
        "props": {"bucket": "x", "nested": {"__kept": 1}},
    }


def test_analyze_stack_receives_dependencies_and_property_dependencies(echo_pack: Path) -> None:
    dep = "urn:pulumi:dev::p::aws:kms/key:Key::k"
    resource = _resource(dependencies=(dep,), property_dependencies={"kmsKeyId": (dep,)})
    key = _resource(urn=dep, type="aws:kms/key:Key", name="k", wire_inputs={})
    with PolicyHarness(echo_pack, project="p", stack="dev") as harness:
        violations = harness.analyze([key, resource])
    stack = {
        entry["urn"]: entry
        for entry in (json.loads(v.message) for v in violations if v.policy == "echo-stack")
    }
    assert stack[resource.urn]["dependencies"] == [dep]
    assert stack[resource.urn]["property_dependencies"] == {"kmsKeyId": [dep]}


def test_config_entry_without_enforcement_level_is_an_engine_error(echo_pack: Path) -> None:
    # A properties-only entry for a policy the pack does not have: the engine's Configure refuses it
    # ("invalid enforcement level"), it is not silently advisory.
    harness = PolicyHarness(echo_pack, project="p", stack="dev", config={"no-such-policy": {"x": 1}})
    with pytest.raises(PolicyConfigError, match="no-such-policy: invalid enforcement level"), harness:
        pass


def _wire(resource: RegisteredResource) -> object:
    from google.protobuf import json_format

    return json_format.MessageToDict(resource.wire_inputs)


def test_runner_adds_stack_resource_default_providers_and_unknown_outputs() -> None:
    run = run_program(ROOT, "dev", engine_unknowns=True)
    by_type: dict[str, list[RegisteredResource]] = {}
    for r in run.engine_resources:
        by_type.setdefault(r.type, []).append(r)
    [stack] = by_type["pulumi:pulumi:Stack"]
    assert stack.urn == "urn:pulumi:dev::golden-images::pulumi:pulumi:Stack::golden-images-dev"
    assert set(stack.outputs) >= {"images", "environment"}  # the stack's exports are its outputs
    [aws_provider] = by_type["pulumi:providers:aws"]
    assert aws_provider.name.startswith("default_7_")
    assert aws_provider.inputs["region"] == run.config["aws:region"]
    recipes = by_type["aws:imagebuilder/imageRecipe:ImageRecipe"]
    assert recipes and all(r.provider.startswith(aws_provider.urn + "::") for r in recipes)
    # Inputs that consume another new resource's id or ARN are unknown, as in a real preview.
    unknown = "04da6b54-80e4-46f7-96ec-b56ff0331ba9"
    wired = [r for r in run.resources if r.custom and unknown in json.dumps(_wire(r))]
    assert wired, "no input consumed an unknown output"
    profiles = by_type["aws:iam/instanceProfile:InstanceProfile"]
    assert all(p.dependencies for p in profiles)
    # The program's own registrations stay as they were (no stack, no default providers).
    assert not any(r.type == "pulumi:pulumi:Stack" or r.name.startswith("default") for r in run.resources)
