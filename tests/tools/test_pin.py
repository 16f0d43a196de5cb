"""``pin`` against moto's SSM public parameters (moto ships Amazon Linux's
``/aws/service/ami-amazon-linux-latest/*`` per region). moto does not ship Canonical's Ubuntu parameters:
the test on the repository's own stacks seeds them through moto's SSM backend, as AWS would publish them."""

from __future__ import annotations

import datetime as dt
import json
import shutil
from pathlib import Path
from typing import Any

import boto3
import pytest
import typer
import yaml
from moto.backends import get_backend
from moto.ssm.models import Parameter
from typer.testing import CliRunner

from golden_images.platforms.aws.pins import load_pins, pins_path
from golden_images.tools.aws import ClientFactory
from golden_images.tools.commands import register
from golden_images.tools.pin import Change, StackError, pin_stack, ssm_parents
from tests.tools.conftest import ACCOUNT

ROOT = Path(__file__).resolve().parents[2]
AL_X86 = "/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64"
AL_ARM = "/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-arm64"
CATALOG: dict[str, Any] = {
    "environment": "dev",
    "defaults": {"aws": {"regions": ["us-east-1"], "parent": {"ssm_parameter": AL_X86}}},
    "images": [
        {"name": "base-al", "aws": {}},
        {
            "name": "arm-al",
            "aws": {"regions": ["us-east-1", "eu-west-1"], "parent": {"ssm_parameter": AL_ARM}},
        },
        {"name": "eu-al", "aws": {"regions": ["eu-west-1"]}},
        {"name": "fixed", "aws": {"parent": {"ssm_parameter": None, "ami": "ami-0123456789abcdef0"}}},
        {"name": "azure-only", "azure": {"location": "westeurope"}},
    ],
}


def write_project(root: Path, catalog: Any = CATALOG, env: str = "dev") -> Path:
    (root / "stacks").mkdir(parents=True, exist_ok=True)
    (root / "Pulumi.yaml").write_text("name: test\nruntime: python\n")
    path = root / "stacks" / f"Pulumi.{env}.yaml"
    path.write_text(yaml.safe_dump({"config": {"golden-images:catalog": catalog}}))
    return path


def ssm_value(name: str, region: str) -> str:
    return str(boto3.client("ssm", region_name=region).get_parameter(Name=name)["Parameter"]["Value"])


def app() -> typer.Typer:
    a = typer.Typer()
    register(a)
    return a


def test_ssm_parents_deep_merges_defaults(tmp_path: Path) -> None:
    assert ssm_parents(write_project(tmp_path)) == {
        AL_ARM: ["eu-west-1", "us-east-1"],
        AL_X86: ["eu-west-1", "us-east-1"],
    }


def test_ssm_parents_reads_the_repository_stacks_like_the_loader() -> None:
    """The stand-in reader agrees with the catalog loader on the real stacks (guards the later switch)."""
    loader = pytest.importorskip("golden_images.catalog.loader")
    for stack_file in sorted((ROOT / "stacks").glob("Pulumi.*.yaml")):
        catalog = loader.load_catalog_file(stack_file, root=ROOT)
        expected: dict[str, set[str]] = {}
        for image in catalog.images:
            aws = image.aws
            if aws is not None and aws.parent.ssm_parameter:
                expected.setdefault(aws.parent.ssm_parameter, set()).update(aws.regions)
        assert ssm_parents(stack_file) == {k: sorted(v) for k, v in expected.items()}, stack_file


def test_pin_resolves_moto_public_parameters_and_is_deterministic(tmp_path: Path) -> None:
    stack = write_project(tmp_path)
    day1 = dt.date(2026, 11, 1)
    result = pin_stack(ClientFactory(), stack, root=tmp_path, write=True, today=day1)
    assert result.errors == {} and result.changed
    pins = load_pins(pins_path(tmp_path, "dev"))
    for param in (AL_X86, AL_ARM):
        for region in ("us-east-1", "eu-west-1"):
            pin = pins.lookup(param, region)
            assert pin is not None and pin.ami == ssm_value(param, region) and pin.resolved_at == day1
    text = pins_path(tmp_path, "dev").read_text()
    # A later run with nothing new changes nothing, not even the dates.
    again = pin_stack(ClientFactory(), stack, root=tmp_path, write=True, today=dt.date(2026, 12, 1))
    assert not again.changed and {c.change for c in again.changes} == {Change.UNCHANGED}
    assert pins_path(tmp_path, "dev").read_text() == text


def test_check_reports_a_newer_base_and_writes_nothing(tmp_path: Path) -> None:
    stack = write_project(tmp_path)
    runner = CliRunner()
    assert runner.invoke(app(), ["pin", "--root", str(tmp_path)]).exit_code == 0
    path = pins_path(tmp_path, "dev")
    assert runner.invoke(app(), ["pin", "--check", "--root", str(tmp_path)]).exit_code == 0
    stale = path.read_text().replace(ssm_value(AL_X86, "us-east-1"), "ami-00000000000000000")
    path.write_text(stale)
    check = runner.invoke(app(), ["pin", "--check", "--json", "--root", str(tmp_path), "--stack", "dev"])
    assert check.exit_code == 1, check.output
    doc = json.loads(check.stdout)["stacks"][0]
    updated = [c for c in doc["changes"] if c["change"] == "updated"]
    assert updated == [
        {
            "parameter": AL_X86,
            "region": "us-east-1",
            "old": "ami-00000000000000000",
            "new": ssm_value(AL_X86, "us-east-1"),
            "change": "updated",
        }
    ]
    assert doc["written"] is False and path.read_text() == stale
    human = runner.invoke(app(), ["pin", "--check", "--root", str(tmp_path)])
    assert human.exit_code == 1 and "newer base image" in human.stdout
    assert stack.is_file()


def test_missing_parameter_fails_and_writes_nothing(tmp_path: Path) -> None:
    catalog = {**CATALOG, "images": [{"name": "x", "aws": {"parent": {"ssm_parameter": "/no/such/param"}}}]}
    write_project(tmp_path, catalog)
    result = CliRunner().invoke(app(), ["pin", "--root", str(tmp_path), "--json"])
    assert result.exit_code == 1
    assert json.loads(result.stdout)["stacks"][0]["errors"] == {
        "us-east-1 /no/such/param": "parameter not found"
    }
    assert not pins_path(tmp_path, "dev").exists()


@pytest.mark.parametrize(
    "setup",
    ["unknown-stack", "bad-yaml", "bad-region", "no-catalog"],
)
def test_bad_input_exits_2(tmp_path: Path, setup: str) -> None:
    stack = write_project(tmp_path)
    args = ["pin", "--root", str(tmp_path)]
    if setup == "unknown-stack":
        args += ["--stack", "qa"]
    elif setup == "bad-yaml":
        stack.write_text("config: [unclosed")
    elif setup == "bad-region":
        write_project(
            tmp_path,
            {**CATALOG, "defaults": {"aws": {"regions": ["moon-1"], "parent": {"ssm_parameter": AL_X86}}}},
        )
    else:
        stack.write_text("config: {}\n")
    assert CliRunner().invoke(app(), args).exit_code == 2
    if setup == "bad-yaml":
        with pytest.raises(StackError):
            ssm_parents(stack)


def seed_public_parameter(name: str, region: str, value: str) -> None:
    """Publish a public parameter the way AWS does (``/aws/...`` cannot be written through the API)."""
    ssm = get_backend("ssm")[ACCOUNT][region]
    ssm._parameters[name].append(
        Parameter(
            account_id=ACCOUNT,
            name=name,
            value=value,
            parameter_type="String",
            description=None,
            allowed_pattern=None,
            keyid=None,
            last_modified_date=1_700_000_000.0,
            version=1,
            data_type="aws:ec2:image",
        )
    )


def test_pin_on_the_repository_stacks_with_canonical_parameters(tmp_path: Path) -> None:
    shutil.copytree(ROOT / "stacks", tmp_path / "stacks", ignore=shutil.ignore_patterns("pins"))
    (tmp_path / "Pulumi.yaml").write_text("name: test\nruntime: python\n")
    expected: dict[tuple[str, str], str] = {}
    for n, stack_file in enumerate(sorted((tmp_path / "stacks").glob("Pulumi.*.yaml"))):
        for m, (param, regions) in enumerate(ssm_parents(stack_file).items()):
            for k, region in enumerate(regions):
                value = f"ami-{n:02d}{m:02d}{k:02d}00000000000"
                if (param, region) not in expected:
                    seed_public_parameter(param, region, value)
                    expected[(param, region)] = value
    result = CliRunner().invoke(app(), ["pin", "--root", str(tmp_path), "--json"])
    assert result.exit_code == 0, result.output
    for stack in json.loads(result.stdout)["stacks"]:
        pins = load_pins(Path(stack["path"]))
        for param, regions in pins.pins.items():
            for region, pin in regions.items():
                assert pin.ami == expected[(param, region)]
