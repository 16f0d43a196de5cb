"""The registry stack output and the channel SSM parameters, under Pulumi's mocks: ``export_registry``
registers one ``aws:ssm/parameter:Parameter`` per channel, image and region of this environment (none for a
revoked channel, another environment's version or a region without an AMI), and ``golden_images.consume``
reads exactly the value it returns through a mocked StackReference."""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pulumi
import pytest
from pulumi.runtime import rpc

from golden_images import consume
from golden_images.catalog.loader import load_catalog_file
from golden_images.registry import ops, store
from golden_images.registry.export import OUTPUT_NAME, channel_parameter_name, export_registry
from golden_images.registry.model import VersionRef
from tests.registry.builders import layered_registry, ref

ROOT = Path(__file__).resolve().parents[2]
NOW = dt.datetime.now(dt.UTC).replace(microsecond=0) - dt.timedelta(hours=1)  # consumers use the clock
PROD = load_catalog_file(ROOT / "stacks" / "Pulumi.prod.yaml", root=ROOT, stack="prod")
STACK = "org/golden-images/prod"


def _ami(version: str, region: str) -> str:
    """A stable, distinct AMI id per version and region."""
    return "ami-" + hashlib.sha256(f"{version}/{region}".encode()).hexdigest()[:17]


def _registry_file(tmp_path: Path) -> Path:
    """base-ubuntu (prod): 1.3.0 revoked (channel ``old`` still on it), 1.4.0 scheduled for revocation
    (channel ``soon``), 1.4.2 on ``candidate`` and ``stable`` with AMIs in two of the three catalog regions
    and one outside them; a dev version on channel ``dev``."""
    regions = ("us-east-1", "eu-west-1")
    reg = layered_registry(
        {
            "1.3.0": {"aws": {r: _ami("1.3.0", r) for r in regions}},
            "1.4.0": {"aws": {r: _ami("1.4.0", r) for r in regions}},
            "1.4.2": {"aws": {r: _ami("1.4.2", r) for r in (*regions, "ap-south-1")}},
        },
        now=NOW,
    )
    reg, _ = ops.record(
        reg,
        image="base-ubuntu",
        environment="dev",
        version="1.5.0",
        fingerprint="5" * 64,
        artifacts={"aws": {"us-east-1": "ami-0000000000000d150"}},
        parent=None,
        now=NOW,
    )
    for version, channel in (
        ("1.3.0", "old"),
        ("1.4.0", "soon"),
        ("1.4.2", "candidate"),
        ("1.4.2", "stable"),
    ):
        reg, _ = ops.promote(reg, ref(version), channel, now=NOW)
    dev = VersionRef(image="base-ubuntu", environment="dev", version="1.5.0")
    reg, _ = ops.promote(reg, dev, "dev", now=NOW)
    reg, _ = ops.revoke(reg, ref("1.3.0"), reason="CVE-2026-0001", at=NOW, now=NOW)
    reg, _ = ops.revoke(reg, ref("1.4.0"), reason="EOL", at=NOW + dt.timedelta(days=7), now=NOW)
    path = tmp_path / "registry.yaml"
    store.save(reg, path)
    return path


def _plain(value: Any) -> Any:
    """An input as written: the SSM provider marks ``value`` secret, which mocks pass as a wrapped value."""
    if isinstance(value, dict) and value.get(rpc._special_sig_key) == rpc._special_secret_sig:
        return value["value"]
    return value


class _Mocks(pulumi.runtime.Mocks):
    """Records every registration; StackReference reads give ``outputs``."""

    def __init__(self, outputs: dict[str, Any] | None = None) -> None:
        self.resources: list[pulumi.runtime.MockResourceArgs] = []
        self.outputs = outputs or {}

    def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str | None, dict[Any, Any]]:
        self.resources.append(args)
        if args.typ == "pulumi:pulumi:StackReference":
            return args.name, {"name": args.name, "outputs": self.outputs}
        return f"{args.name}-id", dict(args.inputs)

    def call(self, args: pulumi.runtime.MockCallArgs) -> tuple[dict[Any, Any], list[tuple[str, str]] | None]:
        return {}, None


class _Logs(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.warnings: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        if record.levelno == logging.WARNING:
            self.warnings.append(record.getMessage())


@pytest.fixture
def mocked() -> Iterator[tuple[_Mocks, _Logs]]:
    """Mocks for one test, reset afterwards (no runtime settings or root resource leak into later tests)."""
    mocks, logs = _Mocks(), _Logs()
    logger = logging.getLogger(f"golden-images-test-{id(mocks)}")
    logger.addHandler(logs)
    logger.propagate = False
    pulumi.runtime.set_mocks(mocks, project="golden-images", stack="prod", preview=True, logger=logger)
    try:
        yield mocks, logs
    finally:
        pulumi.runtime.settings.reset_options()
        logger.removeHandler(logs)


def _export(path: Path, environment: str = "prod") -> dict[str, Any]:
    captured: dict[str, Any] = {}

    @pulumi.runtime.test
    def program() -> None:
        captured.update(export_registry(ROOT, environment, catalog=PROD, registry_file=path, now=NOW))

    program()
    return captured


def test_one_parameter_per_channel_image_and_region(tmp_path: Path, mocked: tuple[_Mocks, _Logs]) -> None:
    mocks, logs = mocked
    value = _export(_registry_file(tmp_path))
    params = {r.name: r.inputs for r in mocks.resources if r.typ == "aws:ssm/parameter:Parameter"}
    prefix = "/golden-images/prod/base-ubuntu/channels"
    expected = {
        f"registry-base-ubuntu-{channel}-{region}": (
            f"{prefix}/{channel}/ami-id",
            _ami(version, region),
            region,
        )
        for channel, version in (("candidate", "1.4.2"), ("stable", "1.4.2"), ("soon", "1.4.0"))
        for region in (
            "us-east-1",
            "eu-west-1",
        )  # eu-central-1 has no AMI; ap-south-1 is not a catalog region
    }
    assert {n: (i["name"], _plain(i["value"]), i["region"]) for n, i in params.items()} == expected
    assert all(i["type"] == "String" and i["dataType"] == "aws:ec2:image" for i in params.values())
    tags = params["registry-base-ubuntu-stable-us-east-1"]["tags"]
    assert tags["channel"] == "stable" and tags["image-version"] == "1.4.2"
    assert {"owner", "cost-center", "environment", "managed-by", "golden-image"} <= set(tags)
    assert tags["environment"] == "prod" and tags["managed-by"] == "golden-images"
    # The revoked channel keeps none and says so; the scheduled one warns; dev's channel is dev's business.
    assert any("channel old" in w and "revoked" in w and "CVE-2026-0001" in w for w in logs.warnings)
    assert any("channel soon" in w and "scheduled" in w for w in logs.warnings)
    channels = value["images"]["base-ubuntu"]["channels"]
    assert channels["stable"]["parameters"] == {
        "us-east-1": f"{prefix}/stable/ami-id",
        "eu-west-1": f"{prefix}/stable/ami-id",
    }
    assert channels["old"]["parameters"] == {} and channels["dev"]["parameters"] == {}
    assert channels["old"]["revocation"]["reason"] == "CVE-2026-0001"
    assert channels["dev"]["environment"] == "dev"
    assert value["environment"] == "prod" and value["schema_version"] == 1
    assert {(r["id"], r["version"]) for r in value["revocations"]} == {
        (_ami(v, r), v) for v in ("1.3.0", "1.4.0") for r in ("us-east-1", "eu-west-1")
    }


def test_dev_stack_keeps_only_dev_parameters(tmp_path: Path, mocked: tuple[_Mocks, _Logs]) -> None:
    mocks, _ = mocked
    dev = load_catalog_file(ROOT / "stacks" / "Pulumi.dev.yaml", root=ROOT, stack="dev")
    path = _registry_file(tmp_path)

    @pulumi.runtime.test
    def program() -> None:
        export_registry(ROOT, "dev", catalog=dev, registry_file=path, now=NOW)

    program()
    params = [r for r in mocks.resources if r.typ == "aws:ssm/parameter:Parameter"]
    assert [(p.name, p.inputs["name"], _plain(p.inputs["value"])) for p in params] == [
        (
            "registry-base-ubuntu-dev-us-east-1",
            channel_parameter_name("/golden-images", "dev", "base-ubuntu", "dev"),
            "ami-0000000000000d150",
        )
    ]


def test_empty_registry_exports_an_empty_view(tmp_path: Path, mocked: tuple[_Mocks, _Logs]) -> None:
    mocks, _ = mocked
    value = _export(tmp_path / "missing.yaml")
    assert value == {"schema_version": 1, "environment": "prod", "images": {}, "revocations": []}
    assert [r for r in mocks.resources if r.typ == "aws:ssm/parameter:Parameter"] == []


def test_invalid_registry_is_refused_before_anything_is_registered(
    tmp_path: Path, mocked: tuple[_Mocks, _Logs]
) -> None:
    mocks, _ = mocked
    path = tmp_path / "registry.yaml"
    path.write_text("schema_version: 1\nimages:\n  base-ubuntu:\n    versions: [{environment: qa}]\n")
    with pytest.raises(pulumi.RunError) as caught:
        export_registry(ROOT, "prod", catalog=PROD, registry_file=path, now=NOW)
    assert f"{path}: images.base-ubuntu.versions[0].environment" in str(caught.value)
    assert mocks.resources == []


# ------------------------------------------------------------------------------------------- consumers
def _consume(path: Path, mocked: tuple[_Mocks, _Logs], body: Any) -> Any:
    """Export with the golden-images stack's mocks, then run ``body`` as a consumer program whose
    StackReference returns that exact value."""
    mocks, _ = mocked
    value = _export(path)
    mocks.outputs = {OUTPUT_NAME: value}
    result: dict[str, Any] = {}

    @pulumi.runtime.test
    def program() -> pulumi.Output[Any]:
        return body().apply(lambda v: result.setdefault("value", v))

    program()
    assert [r.name for r in mocks.resources if r.typ == "pulumi:pulumi:StackReference"][-1] == STACK
    return result["value"]


def test_consumer_reads_the_exported_shape(tmp_path: Path, mocked: tuple[_Mocks, _Logs]) -> None:
    path = _registry_file(tmp_path)
    ami = _consume(
        path, mocked, lambda: consume.artifact(STACK, "base-ubuntu", "stable", location="eu-west-1")
    )
    assert ami == _ami("1.4.2", "eu-west-1")


def test_consumer_gets_the_channel_parameter(tmp_path: Path, mocked: tuple[_Mocks, _Logs]) -> None:
    path = _registry_file(tmp_path)
    got = _consume(
        path, mocked, lambda: consume.parameter(STACK, "base-ubuntu", "candidate", region="us-east-1")
    )
    assert got == "resolve:ssm:/golden-images/prod/base-ubuntu/channels/candidate/ami-id"


@pytest.mark.parametrize(
    ("body", "words"),
    [
        (lambda: consume.artifact(STACK, "base-ubuntu", "old", location="us-east-1"), "revoked since"),
        (
            lambda: consume.launchable(STACK, _ami("1.3.0", "eu-west-1")),
            r"base-ubuntu 1\.3\.0 \(prod\), revoked",
        ),
        (
            lambda: consume.parameter(STACK, "base-ubuntu", "dev", region="us-east-1"),
            "keeps no SSM parameter",
        ),
        (
            lambda: consume.artifact(STACK, "base-ubuntu", "stable", location="eu-central-1"),
            "no aws artifact in",
        ),
    ],
)
def test_consumer_refusals(tmp_path: Path, mocked: tuple[_Mocks, _Logs], body: Any, words: str) -> None:
    path = _registry_file(tmp_path)
    with pytest.raises(consume.ConsumeError, match=words) as caught:
        _consume(path, mocked, body)
    if "revoked" in words:
        assert "CVE-2026-0001" in str(caught.value)


def test_good_pinned_id_passes_and_another_schema_is_refused() -> None:
    view = consume.registry_output(
        layered_registry({"1.4.2": {"aws": {"us-east-1": "ami-0aaaaaaaaaaaaaaaa"}}}, now=NOW)
    )
    assert consume.check(view, "ami-0aaaaaaaaaaaaaaaa") == "ami-0aaaaaaaaaaaaaaaa"
    with pytest.raises(consume.ConsumeError, match="schema_version 2"):
        consume.resolve({**view, "schema_version": 2}, "base-ubuntu", "stable")
