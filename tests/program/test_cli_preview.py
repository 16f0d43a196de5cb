"""``golden-images preview`` end to end: program under mocks, then the real policy pack through the
analyzer protocol; JSON contract and exit codes."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner

from golden_images.cli import app
from tests.conftest import ROOT, stack_catalog, write_stack

FIXTURE = ROOT / "tests" / "fixtures" / "other_team_project"


def _preview(*args: str) -> tuple[int, dict[str, Any]]:
    result = CliRunner().invoke(app, ["preview", "--root", str(ROOT), "--json", *args])
    assert result.stdout.strip(), result.output
    return result.exit_code, json.loads(result.stdout)


@pytest.mark.parametrize("stack", ["dev", "staging", "prod"])
def test_stacks_have_no_mandatory_violations(stack: str) -> None:
    code, document = _preview("--stack", stack)
    mandatory = [v for v in document["violations"] if v["level"] == "mandatory"]
    assert mandatory == []
    assert code == 0
    assert document["stack"] == stack
    types = {r["type"] for r in document["resources"]}
    assert {
        "golden-images:index:GoldenImage",
        "golden-images:index:AwsGoldenImage",
        "aws:imagebuilder/component:Component",
        "aws:imagebuilder/imageRecipe:ImageRecipe",
        "aws:imagebuilder/infrastructureConfiguration:InfrastructureConfiguration",
        "aws:imagebuilder/distributionConfiguration:DistributionConfiguration",
        "aws:imagebuilder/imagePipeline:ImagePipeline",
        "aws:imagebuilder/lifecyclePolicy:LifecyclePolicy",
        "aws:iam/role:Role",
        "aws:iam/instanceProfile:InstanceProfile",
    } <= types
    by_urn = {r["urn"]: r for r in document["resources"]}
    for resource in document["resources"]:
        assert set(resource) == {"urn", "type", "name", "parent", "inputs"}
        if resource["type"].startswith("aws:imagebuilder/"):
            parent = by_urn[resource["parent"]]
            assert parent["type"] == "golden-images:index:AwsGoldenImage"
            assert by_urn[parent["parent"]]["type"] == "golden-images:index:GoldenImage"


def test_foreign_stack_with_faults_gives_exactly_the_expected_violations() -> None:
    result = CliRunner().invoke(app, ["preview", "--root", str(FIXTURE), "--stack", "prod", "--json"])
    document = json.loads(result.stdout)
    assert result.exit_code == 1
    found = {(v["policy"], v["urn"].rsplit("::", 1)[-1], v["level"]) for v in document["violations"]}
    assert found == {
        ("aws-imagebuilder-resource-required-tags", "team-b-component", "mandatory"),
        ("aws-imagebuilder-distribution-kms-key", "team-b-distribution", "mandatory"),
        ("aws-imagebuilder-distribution-not-public", "team-b-distribution", "mandatory"),
        ("aws-imagebuilder-recipe-ebs-encrypted", "team-b-recipe", "mandatory"),
        ("aws-imagebuilder-recipe-parent-pinned", "team-b-recipe", "mandatory"),
        # As under the engine: the component's ARN is unknown during preview, so AnalyzeStack's check of the
        # recipe's outputs cannot run yet and says so (advisory).
        ("aws-imagebuilder-recipe-parent-pinned", "team-b-recipe", "advisory"),
    }
    messages = {v["policy"]: v["message"] for v in document["violations"]}
    assert "eu-west-1" in messages["aws-imagebuilder-distribution-kms-key"]
    assert "'false'" in messages["aws-imagebuilder-recipe-ebs-encrypted"]
    assert all(
        v["tags"] and (v["message"].endswith(".") or "during preview" in v["message"])
        for v in document["violations"]
    )


def test_invalid_catalog_exits_2_with_file_and_field(tmp_path: Path) -> None:
    raw = stack_catalog("dev")
    raw["images"][0]["version"] = "1.0"
    stack_file = write_stack(tmp_path, "dev", raw)
    code, document = _preview("--stack", "dev", "--stack-file", str(stack_file))
    assert code == 2
    assert document["resources"] == [] and document["violations"] == []
    assert [(e["path"], "MAJOR.MINOR.PATCH" in e["message"]) for e in document["errors"]] == [
        ("config.golden-images:catalog.images[0].version", True)
    ]


def test_missing_stack_file_exits_2() -> None:
    code, document = _preview("--stack", "qa")
    assert code == 2 and "does not exist" in document["errors"][0]["message"]


def test_broken_policy_config_exits_2(tmp_path: Path) -> None:
    config = tmp_path / "bad.json"
    config.write_text(json.dumps({"aws-imagebuilder-recipe-ebs-encrypted": "sometimes"}))
    code, document = _preview("--stack", "dev", "--policy-config", str(config))
    assert code == 2
    assert "aws-imagebuilder-recipe-ebs-encrypted" in document["errors"][0]["message"]


def test_dev_relaxation_turns_faults_advisory(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        app,
        [
            "preview",
            "--root",
            str(FIXTURE),
            "--stack",
            "prod",
            "--json",
            "--policy-config",
            str(ROOT / "policies" / "config" / "dev.json"),
        ],
    )
    document = json.loads(result.stdout)
    levels = {v["policy"]: v["level"] for v in document["violations"]}
    # dev keeps public sharing mandatory and relaxes the rest.
    assert levels["aws-imagebuilder-distribution-not-public"] == "mandatory"
    assert levels["aws-imagebuilder-recipe-ebs-encrypted"] == "advisory"
    assert result.exit_code == 1


def test_human_output_lists_tree_and_violations() -> None:
    result = CliRunner().invoke(app, ["preview", "--root", str(FIXTURE), "--stack", "prod"])
    assert result.exit_code == 1
    assert "aws:imagebuilder/imageRecipe:ImageRecipe" in result.stdout
    assert "policy violations (5)" in result.stdout


def test_project_files_follow_pulumi_rules() -> None:
    """Pulumi.yaml and PulumiPolicy.yaml use only keys Pulumi's project schemas define (there is no
    `policyPacks` key); config declarations use the scalar/array types the engine accepts."""
    project = yaml.safe_load((ROOT / "Pulumi.yaml").read_text())
    allowed = {
        "name",
        "runtime",
        "description",
        "main",
        "stackConfigDir",
        "config",
        "backend",
        "options",
        "template",
        "plugins",
        "author",
        "website",
        "license",
        "packages",
    }
    assert set(project) <= allowed
    assert project["name"] == "golden-images" and project["stackConfigDir"] == "stacks"
    assert project["runtime"]["name"] == "python"
    assert project["runtime"]["options"]["virtualenv"] == ".venv"
    for key, value in project["config"].items():
        if isinstance(value, dict):
            assert set(value) <= {"type", "description", "default", "secret", "items"}, key
            assert value["type"] in {"string", "integer", "boolean", "array"}, key
            assert "description" in value, key
    policy = yaml.safe_load((ROOT / "policies" / "PulumiPolicy.yaml").read_text())
    assert set(policy) <= {"runtime", "version", "description", "main"}
    assert policy["runtime"]["name"] == "python"
    for stack in ("dev", "staging", "prod"):
        assert (ROOT / "stacks" / f"Pulumi.{stack}.yaml").is_file()


def test_deferred_rules_are_not_shown_as_findings() -> None:
    """Prod's Azure published versions take their source from the build's output, unknown in preview: the
    pack says it could not evaluate the rule yet; people see that apart from findings, JSON keeps it."""
    result = CliRunner().invoke(app, ["preview", "--root", str(ROOT), "--stack", "prod"])
    assert result.exit_code == 0
    assert "deferred until the values are known" in result.stdout
    assert "azure-compute-galleryimageversion-source-pinned on base-ubuntu-azure-version" in result.stdout
    assert "policy violations" not in result.stdout
    code, document = _preview("--stack", "prod")
    deferred = [v for v in document["violations"] if v["message"].startswith("can't run policy")]
    assert code == 0 and deferred and all(v["level"] == "advisory" for v in deferred)


def test_find_root_walks_up_to_the_nearest_pulumi_yaml(tmp_path: Path) -> None:
    from golden_images.cli import find_root

    (tmp_path / "Pulumi.yaml").write_text("name: outer\nruntime: python\n")
    inner = tmp_path / "teams" / "web"
    (inner / "deep" / "er").mkdir(parents=True)
    (inner / "Pulumi.yaml").write_text("name: inner\nruntime: python\n")
    assert find_root(inner / "deep" / "er") == inner  # the nearest, not the outermost
    assert find_root(inner) == inner
    assert find_root(tmp_path / "teams") == tmp_path
    # A directory named Pulumi.yaml is not a project file.
    (tmp_path / "teams" / "odd" / "Pulumi.yaml").mkdir(parents=True)
    assert find_root(tmp_path / "teams" / "odd") == tmp_path


def test_preview_outside_any_project_exits_2_saying_to_pass_root(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import typer

    from golden_images.cli import find_root

    with pytest.raises(typer.BadParameter) as info:
        find_root(tmp_path)
    assert (
        str(info.value)
        == f"no Pulumi.yaml in {tmp_path} or any parent; run inside the project or pass --root"
    )
    monkeypatch.chdir(tmp_path)  # restored by monkeypatch when the test ends
    result = CliRunner().invoke(app, ["preview", "--stack", "dev", "--json"])
    assert result.exit_code == 2, result.output
    flat = "".join(result.output.split())
    assert "noPulumi.yamlin" in flat and "pass--root" in flat, result.output
    assert "Traceback" not in result.output
