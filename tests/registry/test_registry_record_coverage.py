"""``registry record`` on a moto server (127.0.0.1 only) for what the end-to-end tests do not reach: a stack
whose images were never built on AWS (each reported "not built", nothing recorded), the human-readable table,
and an image built *from* a recorded AMI (a plain ``ami:`` parent, not a golden parent) recorded with that
version as its parent, read back from the registry file."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import boto3
import pytest
import yaml
from typer.testing import CliRunner

from golden_images.catalog import layers
from golden_images.catalog.loader import CATALOG_KEY, load_catalog_file
from golden_images.cli import app
from golden_images.core.rules import MANAGED_BY
from golden_images.platforms.aws.pins import load_pins, pins_path
from golden_images.registry import commands, store
from golden_images.registry.model import VersionRef
from tests.conftest import stack_catalog

ROOT = Path(__file__).resolve().parents[2]
ACCOUNT = "123456789012"
REGION = "us-east-1"
runner = CliRunner()
pytestmark = pytest.mark.usefixtures("aws")  # every test here talks to moto on 127.0.0.1


def _run(*args: str) -> Any:
    return runner.invoke(app, list(args), catch_exceptions=False)


def _ami(image: str, version: str, fingerprint: str) -> str:
    """An AMI tagged as Image Builder's distribution leaves ours (provenance ARN of our recipe)."""
    ec2 = boto3.client("ec2", region_name=REGION)
    image_id = str(ec2.register_image(Name=f"{image}-{version}-x")["ImageId"])
    tags = {
        "managed-by": MANAGED_BY,
        "golden-image": image,
        "image-version": version,
        "environment": "dev",
        "fingerprint": fingerprint[:32],
        "Ec2ImageBuilderArn": (
            f"arn:aws:imagebuilder:{REGION}:{ACCOUNT}:image/{image}-dev-{fingerprint[:10]}/{version}/1"
        ),
    }
    ec2.create_tags(Resources=[image_id], Tags=[{"Key": k, "Value": v} for k, v in tags.items()])
    return image_id


def test_images_never_built_are_reported_not_built_and_nothing_is_recorded(tmp_path: Path) -> None:
    registry = tmp_path / "registry.yaml"
    result = _run(
        "registry", "record", "--stack", "dev", "--platforms", "aws", "--json",
        "--root", str(ROOT), "--registry", str(registry),
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    document = json.loads(result.output)
    assert {row["image"]: row["status"] for row in document["images"]} == {
        "base-ubuntu": "not built",
        "app-runtime": "not built",
    }
    assert all(REGION in row["not_built_in"] for row in document["images"])
    assert store.load(registry).images == {}


def test_the_record_table_names_status_and_artifacts(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(commands._out, "_width", 400)  # no cell wraps; restored after the test
    registry = tmp_path / "registry.yaml"
    catalog = load_catalog_file(ROOT / "stacks" / "Pulumi.dev.yaml", root=ROOT, stack="dev")
    base = layers.builds(catalog, ROOT, load_pins(pins_path(ROOT, "dev")))["base-ubuntu"]
    ami = _ami("base-ubuntu", base.image.version, base.fingerprint)
    result = _run(
        "registry",
        "record",
        "--stack",
        "dev",
        "--platforms",
        "aws",
        "--root",
        str(ROOT),
        "--registry",
        str(registry),
    )
    assert result.exit_code == 0, result.output
    rows = {line.split("│")[1].strip(): line for line in result.output.splitlines() if line.count("│") > 3}
    assert "recorded" in rows["base-ubuntu"] and f"aws/{REGION}: {ami}" in rows["base-ubuntu"]
    assert "not built" in rows["app-runtime"]
    assert "(written)" in result.output


def test_an_image_built_from_a_recorded_ami_records_that_version_as_its_parent(tmp_path: Path) -> None:
    registry = tmp_path / "registry.yaml"
    common = ["--root", str(ROOT), "--registry", str(registry)]
    catalog = load_catalog_file(ROOT / "stacks" / "Pulumi.dev.yaml", root=ROOT, stack="dev")
    base = layers.builds(catalog, ROOT, load_pins(pins_path(ROOT, "dev")))["base-ubuntu"]
    base_ami = _ami("base-ubuntu", base.image.version, base.fingerprint)
    first = _run("registry", "record", "--stack", "dev", "--platforms", "aws", *common)
    assert first.exit_code == 0, first.output

    # app-runtime on AWS only, from the base's AMI as a plain parent (what another repo would write).
    raw = stack_catalog("dev")
    entry = next(i for i in raw["images"] if i["name"] == "app-runtime")
    for platform in ("azure", "gcp", "proxmox"):
        entry.pop(platform, None)
    entry["aws"]["parent"] = {"ami": base_ami}
    document = yaml.safe_load((ROOT / "stacks" / "Pulumi.dev.yaml").read_text())
    document["config"][CATALOG_KEY] = raw
    stack_file = tmp_path / "Pulumi.dev.yaml"
    stack_file.write_text(yaml.safe_dump(document, sort_keys=False))
    child = layers.builds(
        load_catalog_file(stack_file, root=ROOT, stack="dev"), ROOT, load_pins(pins_path(ROOT, "dev"))
    )["app-runtime"]
    assert child.parent is None  # not layered: the parent is found through the AMI
    _ami("app-runtime", child.image.version, child.fingerprint)

    result = _run(
        "registry", "record", "--stack", "dev", "--platforms", "aws", "--stack-file", str(stack_file), "--json",
        *common,
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    rows = {row["image"]: row for row in json.loads(result.output)["images"]}
    assert rows["app-runtime"]["status"] == "recorded"
    assert rows["app-runtime"]["parent"] == str(
        VersionRef(image="base-ubuntu", environment="dev", version=base.image.version)
    )
    (recorded,) = store.load(registry).images["app-runtime"].versions
    assert recorded.parent == VersionRef(image="base-ubuntu", environment="dev", version=base.image.version)
