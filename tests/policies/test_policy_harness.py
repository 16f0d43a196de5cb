"""The harness itself: engine protocol, config handling, start-up errors and shutdown."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from typing import Any

import pytest
from google.protobuf import json_format, struct_pb2
from policy_factories import (
    OUTPUT_SIG,
    RESOURCE_SIG,
    SECRET_SIG,
    SIG,
    UNKNOWN,
    compliant,
    mutate,
    secret,
)
from policy_support import PACK_DIR, PROJECT, resource, run

from golden_images.engine.harness import (
    PolicyConfigError,
    PolicyHarness,
    PolicyPackStartError,
    engine_properties,
    load_policy_config,
)
from golden_images.engine.model import RegisteredResource


def _pack(tmp_path: Path, main: str) -> Path:
    pack = tmp_path / "pack"
    pack.mkdir()
    shutil.copy(PACK_DIR / "PulumiPolicy.yaml", pack / "PulumiPolicy.yaml")
    (pack / "__main__.py").write_text(main)
    return pack


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie still answers kill(0); check its state.
    status = Path(f"/proc/{pid}/stat")
    return status.exists() and status.read_text().split()[2] != "Z"


def test_startup_error_is_surfaced_verbatim(tmp_path: Path) -> None:
    pack = _pack(tmp_path, "import nonexistent_module_for_the_test\n")
    with pytest.raises(PolicyPackStartError) as caught:
        PolicyHarness(pack, project=PROJECT, stack="prod").__enter__()
    assert "ModuleNotFoundError: No module named 'nonexistent_module_for_the_test'" in caught.value.stderr
    assert caught.value.stderr in str(caught.value)
    assert "failed to start" in str(caught.value)


def test_missing_policy_project_file(tmp_path: Path) -> None:
    with pytest.raises(PolicyPackStartError, match="failed to load Pulumi policy project"):
        PolicyHarness(tmp_path, project=PROJECT, stack="prod").__enter__()


def test_unknown_policy_project_key(tmp_path: Path) -> None:
    pack = _pack(tmp_path, "")
    (pack / "PulumiPolicy.yaml").write_text("runtime: python\nname: x\n")
    with pytest.raises(PolicyPackStartError, match="keys Pulumi does not accept: name"):
        PolicyHarness(pack, project=PROJECT, stack="prod").__enter__()


def test_clean_shutdown_leaves_no_process() -> None:
    with PolicyHarness(PACK_DIR, project=PROJECT, stack="prod") as harness:
        pid = harness.pid
        assert pid is not None and _alive(pid)
    assert not _alive(pid)
    assert "Traceback" not in harness.stderr


def test_policy_pack_files_follow_pulumi_layout() -> None:
    import yaml

    project = yaml.safe_load((PACK_DIR / "PulumiPolicy.yaml").read_text())
    assert set(project) <= {"runtime", "version", "main", "description", "author", "website", "license"}
    assert project["runtime"] == {"name": "python", "options": {"virtualenv": "../.venv"}}
    assert (PACK_DIR / "requirements.txt").read_text().count("pulumi-policy") == 1
    main = (PACK_DIR / "__main__.py").read_text()
    assert "PolicyPack(" in main and "def " not in main


# -- policy pack config ---------------------------------------------------------------------------------------


def test_bad_json_names_the_file(tmp_path: Path) -> None:
    path = tmp_path / "bad.json"
    path.write_text('{"all": "advisory",}')
    with pytest.raises(PolicyConfigError, match=r"bad\.json is not valid JSON"):
        load_policy_config(path)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(PolicyConfigError, match="cannot be read"):
        load_policy_config(tmp_path / "nope.json")


def test_bad_enforcement_level_names_file_and_policy(tmp_path: Path) -> None:
    path = tmp_path / "levels.json"
    path.write_text(json.dumps({"aws-ec2-ami-required-tags": "sometimes"}))
    with pytest.raises(PolicyConfigError, match=r"levels\.json: aws-ec2-ami-required-tags: 'sometimes'"):
        load_policy_config(path)


def test_schema_violation_names_file_and_policy(tmp_path: Path) -> None:
    path = tmp_path / "schema.json"
    path.write_text(
        json.dumps({"golden-image-stack-max-concurrent-majors": {"maxConcurrentMajors": "three"}})
    )
    config = load_policy_config(path)
    with pytest.raises(PolicyConfigError) as caught:
        PolicyHarness(PACK_DIR, project=PROJECT, stack="prod", config=config).__enter__()
    message = str(caught.value)
    assert "schema.json" in message
    assert (
        "golden-image-stack-max-concurrent-majors: maxConcurrentMajors: 'three' is not of type 'integer'"
        in message
    )


@pytest.mark.parametrize("env", ["dev", "staging"])
def test_shipped_configs_load_and_relax(env: str) -> None:
    config = load_policy_config(PACK_DIR / "config" / f"{env}.json")
    with PolicyHarness(PACK_DIR, project=PROJECT, stack=env, config=config) as harness:
        levels = {name: level for name, (level, _) in harness.effective_config.items()}
        props = mutate(compliant("component", env=env), "tags", {})
        [violation] = run(harness, "component", props)
        assert violation.policy == "aws-imagebuilder-resource-required-tags"
        assert violation.level == "advisory"
        public = run(harness, "launch_permission", {"imageId": "ami-1", "group": "all"})
        assert {v.level for v in public if v.policy.endswith("not-public")} == {"mandatory"}
        assert levels["aws-ec2-amilaunchpermission-not-public"] == "mandatory"


def test_all_key_sets_every_level() -> None:
    with PolicyHarness(PACK_DIR, project=PROJECT, stack="prod", config={"all": "disabled"}) as harness:
        assert run(harness, "image_recipe", {}) == []


def test_schema_defaults_are_sent_to_configure(prod: PolicyHarness) -> None:
    level, props = prod.effective_config["aws-imagebuilder-resource-required-tags"]
    assert level == "mandatory"
    assert props is not None and props["requiredTagKeys"][0] == "owner" and props["environment"] == "prod"


def test_non_env_stack_name_uses_environment_config() -> None:
    config = {"golden-image-os-lts-in-prod": {"environment": "dev"}}
    with PolicyHarness(PACK_DIR, project=PROJECT, stack="feature-x", config=config) as harness:
        props = mutate(compliant("golden_image"), "os.lts", False)
        assert [v.policy for v in run(harness, "golden_image", props)] == []
        # Other policies default to prod for an unknown stack name.
        assert [
            v.policy
            for v in run(
                harness,
                "gcp_image",
                mutate(compliant("gcp_image"), "sourceImage", "projects/x/global/images/family/f"),
            )
        ] == ["gcp-compute-image-source-pinned"]


# -- wire format ---------------------------------------------------------------------------------------------


def test_engine_properties_flattens_outputs_and_references() -> None:
    wire = struct_pb2.Struct()
    wire.update(
        {
            "kmsKeyId": {SIG: OUTPUT_SIG, "value": "k", "dependencies": ["urn:x"]},
            "pending": {SIG: OUTPUT_SIG, "dependencies": []},
            "hidden": {SIG: OUTPUT_SIG, "value": "s", "secret": True},
            "key": {SIG: RESOURCE_SIG, "urn": "urn:key", "id": "key-id"},
            "component": {SIG: RESOURCE_SIG, "urn": "urn:comp"},
            "__defaults": [],
            "nested": {"__internal": 1, "kept": secret("v")},
        }
    )
    res = RegisteredResource(urn="u", type="t", name="n", parent="", custom=True, inputs={}, wire_inputs=wire)
    got = json_format.MessageToDict(engine_properties(res))
    assert got == {
        "kmsKeyId": "k",
        "pending": UNKNOWN,
        "hidden": {SIG: SECRET_SIG, "value": "s"},
        "key": "key-id",
        "component": "urn:comp",
        # The engine drops `__` keys from the top-level map only (MarshalProperties clears SkipInternalKeys
        # for nested values).
        "nested": {"__internal": 1, "kept": {SIG: SECRET_SIG, "value": "v"}},
    }


def test_output_value_wire_inputs_reach_policies(configured: PolicyHarness) -> None:
    props = compliant("component")
    props["kmsKeyId"] = {SIG: OUTPUT_SIG, "value": "alias/aws/imagebuilder", "dependencies": []}
    wire = struct_pb2.Struct()
    wire.update(props)
    res = RegisteredResource(
        urn=resource("component", {}).urn,
        type="aws:imagebuilder/component:Component",
        name="c",
        parent="",
        custom=True,
        inputs={},
        wire_inputs=wire,
    )
    [violation] = configured.analyze([res])
    assert (
        violation.policy == "aws-imagebuilder-component-kms-key"
        and "alias/aws/imagebuilder" in violation.message
    )


def test_provider_reference_is_sent(configured: PolicyHarness, monkeypatch: pytest.MonkeyPatch) -> None:
    provider = RegisteredResource(
        urn="urn:pulumi:prod::golden-images::pulumi:providers:aws::eu",
        type="pulumi:providers:aws",
        name="eu",
        parent="",
        custom=True,
        inputs={"region": "eu-west-1"},
    )
    child = resource("component", compliant("component"))
    child = RegisteredResource(**{**child.__dict__, "provider": provider.urn + "::provider-id"})
    default = RegisteredResource(
        **{
            **child.__dict__,
            "urn": child.urn + "-2",
            "provider": "urn:pulumi:prod::golden-images::pulumi:providers:gcp::default_10_2_0::id",
        }
    )
    recorder = _Recording(configured._stub)
    monkeypatch.setattr(configured, "_stub", recorder)
    assert configured.analyze([provider, child, default]) == []
    # What the pack received, read back from the requests themselves: with the provider-sending code deleted
    # the provider fields are empty and this fails.
    sent = {r.urn: r.provider for name, r in recorder.requests if name == "Analyze"}
    assert sent[child.urn].urn == provider.urn and sent[child.urn].type == "pulumi:providers:aws"
    assert json_format.MessageToDict(sent[child.urn].properties) == {"region": "eu-west-1"}
    assert sent[default.urn].urn == "urn:pulumi:prod::golden-images::pulumi:providers:gcp::default_10_2_0"
    assert sent[default.urn].name == "default_10_2_0"
    [stack] = [r for name, r in recorder.requests if name == "AnalyzeStack"]
    by_urn = {e.urn: e.provider for e in stack.resources}
    assert by_urn[child.urn].urn == provider.urn
    assert by_urn[default.urn].type == "pulumi:providers:gcp"


class _Recording:
    """A stand-in for the harness's gRPC stub that records each request and forwards it unchanged."""

    def __init__(self, stub: Any) -> None:
        self._stub = stub
        self.requests: list[tuple[str, Any]] = []

    def __getattr__(self, name: str) -> Any:
        method = getattr(self._stub, name)
        requests = self.requests

        class _Method:
            def __call__(self, request: Any, *args: Any, **kwargs: Any) -> Any:
                requests.append((name, request))
                return method(request, *args, **kwargs)

            def future(self, request: Any, *args: Any, **kwargs: Any) -> Any:
                requests.append((name, request))
                return method.future(request, *args, **kwargs)

        return _Method()


def test_violation_json_shape(configured: PolicyHarness) -> None:
    [violation] = run(configured, "component", mutate(compliant("component"), "version", "1"))
    assert set(violation.to_json()) == {"policy", "level", "urn", "message", "tags"}
    assert violation.urn.startswith("urn:pulumi:prod::golden-images::aws:imagebuilder/component:Component::")
