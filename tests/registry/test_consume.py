"""The consumer API under Pulumi's mocks with a real StackReference resource: the registry view exported by
the golden-images stack resolves a channel to its AMI; a revoked channel fails with version and reason."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pulumi
import pytest

from golden_images import consume
from golden_images.registry import ops
from golden_images.registry.model import VersionRef
from tests.registry.builders import layered_registry

NOW = dt.datetime.now(dt.UTC).replace(microsecond=0)
STACK = "org/golden-images/prod"


def _view() -> dict[str, Any]:
    reg = layered_registry(
        {
            version: {"aws": {"us-east-1": ami, "eu-west-1": other}}
            for version, ami, other in (
                ("1.1.0", "ami-0000000000000a110", "ami-0000000000000e110"),
                ("1.2.0", "ami-0000000000000a120", "ami-0000000000000e120"),
            )
        },
        now=NOW,
    )
    ref = VersionRef(image="base-ubuntu", environment="prod", version="1.2.0")
    reg, _ = ops.promote(reg, ref, "stable", now=NOW)
    reg, _ = ops.promote(
        reg, VersionRef(image="base-ubuntu", environment="prod", version="1.1.0"), "old", now=NOW
    )
    reg, _ = ops.revoke(
        reg,
        VersionRef(image="base-ubuntu", environment="prod", version="1.1.0"),
        reason="CVE-2026-0001",
        at=NOW,
        now=NOW,
    )
    return consume.registry_output(reg)


class _Mocks(pulumi.runtime.Mocks):
    """StackReference reads give the golden-images stack's outputs; nothing else is created."""

    def __init__(self) -> None:
        self.references: list[str] = []

    def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str | None, dict[Any, Any]]:
        if args.typ == "pulumi:pulumi:StackReference":
            self.references.append(args.name)
            return args.name, {"name": args.name, "outputs": {consume.OUTPUT_NAME: _view()}}
        return f"{args.name}-id", dict(args.inputs)

    def call(self, args: pulumi.runtime.MockCallArgs) -> tuple[dict[Any, Any], list[tuple[str, str]] | None]:
        return {}, None


@pytest.fixture
def mocks() -> _Mocks:
    m = _Mocks()
    pulumi.runtime.set_mocks(m, project="team-c-web", stack="prod", preview=True)
    return m


def test_channel_resolves_to_the_ami(mocks: _Mocks) -> None:
    @pulumi.runtime.test
    def program() -> pulumi.Output[Any]:
        ami = consume.artifact(STACK, "base-ubuntu", "stable", location="eu-west-1")
        return ami.apply(lambda value: _check(value, "ami-0000000000000e120"))

    program()
    assert mocks.references == [STACK]


def _check(value: str, expected: str) -> None:
    assert value == expected


@pytest.mark.parametrize(
    ("channel", "location", "expected"),
    [
        ("old", "us-east-1", "revoked since"),
        ("stable", None, "pass location"),
        ("stable", "ap-south-1", "no aws artifact in ap-south-1"),
        ("nightly", None, "no channel 'nightly'"),
    ],
)
def test_unresolvable_reference_fails(
    mocks: _Mocks, channel: str, location: str | None, expected: str
) -> None:
    @pulumi.runtime.test
    def program() -> pulumi.Output[Any]:
        return consume.artifact(STACK, "base-ubuntu", channel, location=location)

    with pytest.raises(consume.ConsumeError, match=expected) as caught:
        program()
    if channel == "old":
        assert "base-ubuntu 1.1.0 (prod)" in str(caught.value) and "CVE-2026-0001" in str(caught.value)


def test_scheduled_revocation_resolves() -> None:
    view = _view()
    later = (NOW + dt.timedelta(days=1)).isoformat()
    view["images"]["base-ubuntu"]["channels"]["old"]["revocation"]["at"] = later
    for entry in view["revocations"]:  # the output's list of revoked artifacts says the same
        entry["at"] = later
    assert consume.resolve(view, "base-ubuntu", "old", location="us-east-1") == "ami-0000000000000a110"
