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
from botocore.awsrequest import AWSResponse
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
    from golden_images.catalog import loader

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
    # dev follows the newest parents and is pinned only when named (stacks/README.md).
    assert runner.invoke(app(), ["pin", "--root", str(tmp_path), "--stack", "dev"]).exit_code == 0
    path = pins_path(tmp_path, "dev")
    assert runner.invoke(app(), ["pin", "--check", "--root", str(tmp_path), "--stack", "dev"]).exit_code == 0
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
    human = runner.invoke(app(), ["pin", "--check", "--root", str(tmp_path), "--stack", "dev"])
    assert human.exit_code == 1 and "newer base image" in human.stdout
    assert stack.is_file()


def test_missing_parameter_fails_and_writes_nothing(tmp_path: Path) -> None:
    catalog = {**CATALOG, "images": [{"name": "x", "aws": {"parent": {"ssm_parameter": "/no/such/param"}}}]}
    write_project(tmp_path, catalog)
    result = CliRunner().invoke(app(), ["pin", "--root", str(tmp_path), "--stack", "dev", "--json"])
    assert result.exit_code == 1
    assert json.loads(result.stdout)["stacks"][0]["errors"] == {
        "us-east-1 /no/such/param": "parameter not found"
    }
    assert not pins_path(tmp_path, "dev").exists()


@pytest.mark.parametrize(
    ("setup", "says"),
    [
        ("unknown-stack", "stacks/Pulumi.qa.yaml: stack file does not exist"),
        (
            "bad-yaml",
            "stacks/Pulumi.dev.yaml: config[1]: line 2: not valid YAML: did not find expected ',' or ']'",
        ),
        ("bad-region", "stacks/Pulumi.dev.yaml: images[0].aws.regions: 'moon-1' is not an AWS region"),
        ("no-catalog", "stacks/Pulumi.dev.yaml: no config.golden-images:catalog mapping"),
        ("not-a-mapping", "stacks/Pulumi.dev.yaml: no config.golden-images:catalog mapping"),
        ("corrupt-pins", "stacks/pins/dev.yaml: not a valid pin file:"),
    ],
)
def test_bad_input_exits_2(tmp_path: Path, setup: str, says: str) -> None:
    """Each refusal names the file and its own problem (exit 2 alone would also be a misspelt flag, or the
    "dev is not pinned by default" refusal that an invocation without ``--stack`` hits first)."""
    stack = write_project(tmp_path)
    args = ["pin", "--root", str(tmp_path), "--stack", "qa" if setup == "unknown-stack" else "dev"]
    if setup == "bad-yaml":
        stack.write_text("config: [unclosed")
    elif setup == "bad-region":
        write_project(
            tmp_path,
            {**CATALOG, "defaults": {"aws": {"regions": ["moon-1"], "parent": {"ssm_parameter": AL_X86}}}},
        )
    elif setup == "no-catalog":
        stack.write_text("config: {}\n")
    elif setup == "not-a-mapping":
        stack.write_text("- config\n- images\n")
    elif setup == "corrupt-pins":
        path = pins_path(tmp_path, "dev")
        path.parent.mkdir(parents=True)
        path.write_text("pins:\n  /p:\n    us-east-1: {ami: not-an-ami, resolved_at: 2026-11-01}\n")
    result = CliRunner().invoke(app(), args)
    assert result.exit_code == 2, result.output
    # Rich wraps long lines anywhere (even inside a path): compare with all whitespace removed.
    flat = "".join(result.output.split()).replace("".join(f"{tmp_path}/".split()), "")
    assert "".join(says.split()) in flat, result.output
    assert not (setup != "corrupt-pins" and pins_path(tmp_path, "dev").exists())
    if setup == "bad-yaml":
        with pytest.raises(StackError, match="not valid YAML"):
            ssm_parents(stack)


def test_corrupt_pin_file_is_refused_before_any_lookup_and_left_as_it_was(tmp_path: Path) -> None:
    stack = write_project(tmp_path)
    path = pins_path(tmp_path, "dev")
    path.parent.mkdir(parents=True)
    corrupt = "pins: [not, a, mapping]\n"
    path.write_text(corrupt)
    calls: list[str] = []

    def count(client: Any, service: str, region: str) -> None:
        client.meta.events.register("before-send", lambda **kw: calls.append(service))

    with pytest.raises(StackError, match=r"(?s)dev\.yaml: not a valid pin file: .*pins.*valid dictionary"):
        pin_stack(ClientFactory(hooks=[count]), stack, root=tmp_path, write=True)
    assert calls == [] and path.read_text() == corrupt


def _ssm_denied_in(region: str) -> Any:
    """A client hook: every SSM call in ``region`` answers AccessDenied (JSON protocol, as SSM sends it)."""

    def hook(client: Any, service: str, hook_region: str) -> None:
        if service != "ssm" or hook_region != region:
            return

        def deny(request: Any, **_: Any) -> AWSResponse:
            body = json.dumps({"__type": "AccessDeniedException", "message": "denied by an SCP"}).encode()
            return AWSResponse(request.url, 400, {"Content-Type": "application/x-amz-json-1.1"}, _Raw(body))

        client.meta.events.register("before-send.ssm", deny)

    return hook


class _Raw:
    def __init__(self, body: bytes) -> None:
        self._body = body

    def stream(self, **_: Any) -> Any:
        yield self._body


def test_ssm_failure_in_one_region_keeps_the_old_pin_and_writes_nothing(tmp_path: Path) -> None:
    stack = write_project(tmp_path)
    first = pin_stack(ClientFactory(), stack, root=tmp_path, write=True, today=dt.date(2026, 11, 1))
    assert first.errors == {}
    path = pins_path(tmp_path, "dev")
    # us-east-1's x86 pin is stale: that row resolves to an update, which must still not be written.
    before = path.read_text().replace(ssm_value(AL_X86, "us-east-1"), "ami-00000000000000000")
    path.write_text(before)
    eu_arm = load_pins(path).lookup(AL_ARM, "eu-west-1")
    assert eu_arm is not None
    result = pin_stack(ClientFactory(hooks=[_ssm_denied_in("eu-west-1")]), stack, root=tmp_path, write=True)
    # Both parameters asked in eu-west-1 failed, each named with the service's own error; us-east-1 resolved.
    assert sorted(result.errors) == [f"eu-west-1 {AL_ARM}", f"eu-west-1 {AL_X86}"]
    assert all("AccessDenied" in text and "denied by an SCP" in text for text in result.errors.values())
    rows = {(c.parameter, c.region): c for c in result.changes}
    assert rows[(AL_ARM, "eu-west-1")].change is Change.UNRESOLVED
    assert rows[(AL_ARM, "eu-west-1")].old == eu_arm.ami and rows[(AL_ARM, "eu-west-1")].new is None
    assert rows[(AL_X86, "us-east-1")].change is Change.UPDATED
    assert rows[(AL_X86, "us-east-1")].old == "ami-00000000000000000"
    # A failed lookup is not a removal: the old pin stays in the new file; with errors nothing is written,
    # not even the rows that did resolve.
    kept = result.pins.lookup(AL_ARM, "eu-west-1")
    assert kept is not None and kept.ami == eu_arm.ami
    assert path.read_text() == before
    cli = CliRunner().invoke(app(), ["pin", "--root", str(tmp_path), "--stack", "dev", "--json"])
    assert cli.exit_code == 0  # the CLI's own factory has no fault: the same stack pins cleanly


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
