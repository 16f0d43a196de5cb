"""Reuse from another repo: the package as a wheel installs it (no ``policies/`` beside it), a GoldenImage built
from plain data, ``golden-images --version``."""

from __future__ import annotations

import base64
import json
import os
import shutil
import subprocess
import sys
from importlib import metadata
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from golden_images.api import ImageArgsError, image_build
from golden_images.catalog.loader import load_catalog_file
from golden_images.cli import app
from golden_images.core.build import ImageBuild
from golden_images.preview.present import public_inputs
from golden_images.preview.runner import ProgramRun, run_program
from tests.conftest import ROOT

CONSUMER = ROOT / "tests" / "fixtures" / "consumer_project"
OTHER_TEAM = ROOT / "tests" / "fixtures" / "other_team_project"


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A site directory laid out as the wheel installs it: both packages, no repository around them."""
    site = tmp_path_factory.mktemp("site")
    shutil.copytree(ROOT / "components" / "golden_images", site / "golden_images")
    shutil.copytree(ROOT / "policies" / "golden_images_policies", site / "golden_images_policies")
    return site


def _preview_installed(site: Path, project: Path, cwd: Path) -> tuple[int, dict[str, Any], str]:
    env = {**os.environ, "PYTHONPATH": str(site), "TMPDIR": str(cwd)}
    code = (
        "import sys, golden_images, golden_images.cli as cli; "
        "assert golden_images.__file__.startswith(sys.argv[1]), golden_images.__file__; "
        "sys.argv = ['golden-images', *sys.argv[2:]]; cli.main()"
    )
    args = [str(site), "preview", "--root", str(project), "--stack", "prod", "--json"]
    result = subprocess.run(
        [sys.executable, "-c", code, *args],
        check=False,
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.stdout.strip(), result.stderr
    return result.returncode, json.loads(result.stdout), result.stderr


def test_installed_package_previews_a_consumer_with_its_own_pack(installed: Path, tmp_path: Path) -> None:
    code, document, stderr = _preview_installed(installed, CONSUMER, tmp_path)
    assert code == 0, (document["violations"], stderr)
    # The pack was generated for the installed rules (no policies/ exists next to the installed package) ...
    pack = Path(document["policyPack"])
    assert pack.parent == tmp_path and pack.name.startswith("golden-images-pack-")
    # ... and removed when the process ended.
    assert not pack.exists()
    assert [v for v in document["violations"] if v["level"] == "mandatory"] == []
    types = {r["type"] for r in document["resources"]}
    assert {
        "golden-images:index:GoldenImage",
        "golden-images:index:AwsGoldenImage",
        "aws:imagebuilder/imageRecipe:ImageRecipe",
        "aws:imagebuilder/distributionConfiguration:DistributionConfiguration",
    } <= types
    record = document["outputs"]["images"]["web-base"]
    assert (
        record["launch"]["aws"]["eu-west-1"]["resolve"] == "resolve:ssm:/golden-images/prod/web-base/ami-id"
    )


def test_installed_pack_judges_a_faulty_project(installed: Path, tmp_path: Path) -> None:
    code, document, _ = _preview_installed(installed, OTHER_TEAM, tmp_path)
    assert code == 1
    mandatory = {v["policy"] for v in document["violations"] if v["level"] == "mandatory"}
    assert {"aws-imagebuilder-recipe-ebs-encrypted", "aws-imagebuilder-distribution-not-public"} <= mandatory


def test_consumer_project_previews_with_the_pack_in_a_checkout() -> None:
    result = CliRunner().invoke(app, ["preview", "--root", str(CONSUMER), "--stack", "prod", "--json"])
    document = json.loads(result.stdout)
    assert result.exit_code == 0, document["violations"]
    assert Path(document["policyPack"]) == ROOT / "policies"
    recipe = next(r for r in document["resources"] if r["type"] == "aws:imagebuilder/imageRecipe:ImageRecipe")
    assert recipe["inputs"]["parentImage"] == "ami-0a1b2c3d4e5f60718"
    golden = next(r for r in document["resources"] if r["type"] == "golden-images:index:GoldenImage")
    assert golden["name"] == "web-base" and golden["inputs"]["environment"] == "prod"


def test_version_flag_prints_the_installed_distribution_version() -> None:
    result = CliRunner().invoke(app, ["--version"])
    assert result.exit_code == 0
    assert result.stdout.strip() == f"golden-images {metadata.version('golden-images')}"


def test_plain_data_errors_name_the_callers_field_paths() -> None:
    with pytest.raises(ImageArgsError) as caught:
        image_build(
            "web-base",
            {
                "environment": "prod",
                "root": str(CONSUMER),
                "version": 1.0,
                "description": "x",
                "os": {"family": "ubuntu", "release": "24.04", "architecture": "x86_64", "lts": True},
                "provision": [{"script": "images/missing.sh"}],
                "tags": {"owner": "web-team", "cost-center": "cc-1"},
                "aws": {"regions": ["us-east-1"], "parent": {"ami": "ami-0a1b2c3d4e5f60718"}, "kms_key": {}},
            },
        )
    found = {(i.file, i.path) for i in caught.value.issues}
    assert found >= {
        ("GoldenImage(web-base)", "version"),
        ("GoldenImage(web-base)", "provision[0].script"),
        ("GoldenImage(web-base)", "aws.kms_key"),
    }, found
    assert not any("config." in i.path or "images[" in i.path for i in caught.value.issues)


def test_invalid_plain_data_exits_2_and_registers_nothing(tmp_path: Path) -> None:
    project = tmp_path / "consumer"
    shutil.copytree(CONSUMER, project)
    main = project / "__main__.py"
    main.write_text(main.read_text().replace('"version": "1.0.0"', '"version": "1.0"'))
    result = CliRunner().invoke(app, ["preview", "--root", str(project), "--stack", "prod", "--json"])
    assert result.exit_code == 2, result.output
    assert "GoldenImage(web-base): version:" in result.output
    assert "config.golden-images:catalog" not in result.output


def test_plain_data_and_catalog_give_the_same_build() -> None:
    catalog = load_catalog_file(ROOT / "stacks" / "Pulumi.dev.yaml", root=ROOT, stack="dev")
    from_catalog = ImageBuild.from_catalog(catalog, catalog.image("base-ubuntu"), ROOT)
    image = catalog.image("base-ubuntu").model_dump(mode="json", by_alias=True, exclude_none=True)
    plain = image_build(
        "base-ubuntu", {**image, "tags": from_catalog.tags, "environment": "dev", "root": str(ROOT)}
    )
    assert plain.fingerprint == from_catalog.fingerprint
    assert plain.tags == from_catalog.tags


CONSUMER_MAIN = """
import json
from pathlib import Path

import pulumi

from golden_images.golden_image import GoldenImage

args = json.loads(Path("image.json").read_text())
name = args.pop("name")
pulumi.export("images", {name: GoldenImage(name, args).record})
"""


def test_plain_data_registers_what_the_catalog_registers(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The dev catalog's base-ubuntu (all four platforms) as plain data: identical URNs and inputs."""
    stack_file = ROOT / "stacks" / "Pulumi.dev.yaml"
    catalog = load_catalog_file(stack_file, root=ROOT, stack="dev")
    build = ImageBuild.from_catalog(catalog, catalog.image("base-ubuntu"), ROOT)
    image = catalog.image("base-ubuntu").model_dump(mode="json", by_alias=True, exclude_none=True)
    project = tmp_path / "consumer"
    project.mkdir()
    shutil.copy2(ROOT / "Pulumi.yaml", project / "Pulumi.yaml")  # same project name: comparable URNs
    (project / "__main__.py").write_text(CONSUMER_MAIN)
    (project / "image.json").write_text(
        json.dumps({**image, "tags": build.tags, "environment": "dev", "root": str(ROOT)})
    )
    monkeypatch.chdir(project)  # as the language host runs a program: from its project directory
    plain = run_program(project, "dev", stack_file=stack_file)
    assert plain.error is None, plain.error
    full = run_program(ROOT, "dev")

    def subtree(run: ProgramRun) -> dict[str, dict[str, object]]:
        return {
            r.urn: public_inputs(r)
            for r in run.resources
            if r.name == "base-ubuntu" or r.name.startswith("base-ubuntu-")
        }

    expected = subtree(full)
    assert len(expected) > 30
    assert subtree(plain) == expected
    assert plain.outputs["images"]["base-ubuntu"] == full.outputs["images"]["base-ubuntu"]


ALONE_MAIN = """
import json
from pathlib import Path

import pulumi

from golden_images.api import image_build
from golden_images.platforms.aws.component import AwsGoldenImage

build = image_build("web-base", json.loads(Path("image.json").read_text()))
aws_only = AwsGoldenImage("web-base-aws", {"build": build})
pulumi.export("artifacts", aws_only.artifacts)
"""


def test_a_platform_component_alone_from_plain_data(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    project = tmp_path / "alone"
    shutil.copytree(CONSUMER, project)
    (project / "__main__.py").write_text(ALONE_MAIN)
    args = {
        "environment": "prod",
        "version": "1.0.0",
        "description": "AWS only",
        "os": {"family": "ubuntu", "release": "24.04", "architecture": "x86_64", "lts": True},
        "provision": [{"name": "web-setup", "script": "images/web-setup.sh"}],
        "tags": {"owner": "web-team", "cost-center": "cc-2002"},
        "aws": {
            "regions": ["us-east-1"],
            "parent": {"ami": "ami-0a1b2c3d4e5f60718"},
            "kms_keys": {"us-east-1": "arn:aws:kms:us-east-1:444444444444:alias/web"},
        },
    }
    (project / "image.json").write_text(json.dumps(args))
    monkeypatch.chdir(project)
    run = run_program(project, "prod", stack_file=project / "Pulumi.prod.yaml")
    assert run.error is None, run.error
    by_type = {r.type: r for r in run.resources}
    assert "golden-images:index:GoldenImage" not in by_type
    assert by_type["golden-images:index:AwsGoldenImage"].name == "web-base-aws"
    component = by_type["aws:imagebuilder/component:Component"]
    # The repo-relative script was read from the project directory and rendered into the AWSTOE document.
    # (AWSTOE gets step text base64-encoded, so compare the encoded bytes, whitespace-insensitively.)
    script = base64.b64encode((CONSUMER / "images" / "web-setup.sh").read_bytes()).decode()
    assert script in "".join(str(component.inputs["data"]).split())
    assert run.outputs["artifacts"] == {"us-east-1": "ssm:/golden-images/prod/web-base/ami-id"}
