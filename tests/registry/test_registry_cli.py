"""The registry commands end to end on a moto server (127.0.0.1 only): AMIs as EC2 Image Builder leaves them
are recorded by provenance, then promote, revoke with a descendant, rollback and the refusals, each asserted
on the registry file (read back by the registry's own reader) and on moto."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import boto3
import pytest
from typer.testing import CliRunner

from golden_images.catalog import layers
from golden_images.catalog.loader import load_catalog_file
from golden_images.cli import app
from golden_images.core.rules import MANAGED_BY
from golden_images.platforms.aws.pins import load_pins, pins_path
from golden_images.registry import ops, store
from golden_images.registry.model import VersionRef

ROOT = Path(__file__).resolve().parents[2]
DEV = ROOT / "stacks" / "Pulumi.dev.yaml"
ACCOUNT = "123456789012"
REGION = "us-east-1"
runner = CliRunner()
pytestmark = pytest.mark.usefixtures("aws")  # every test here talks to moto on 127.0.0.1


def _fingerprints(stack_file: Path) -> dict[str, tuple[str, str]]:
    """Version and chain fingerprint of every image, as the program builds them (parents first, pins)."""
    catalog = load_catalog_file(stack_file, root=ROOT, stack="dev")
    builds = layers.builds(catalog, ROOT, load_pins(pins_path(ROOT, "dev")))
    return {name: (b.image.version, b.fingerprint) for name, b in builds.items()}


def _ami(image: str, version: str, fp: str, *, recipe: str | None = None, **drop: Any) -> str:
    """Register an AMI tagged the way Image Builder's distribution leaves ours (``recipe`` overrides the
    recipe name in ``Ec2ImageBuilderArn``; ``key=None`` drops a tag)."""
    ec2 = boto3.client("ec2", region_name=REGION)
    image_id = str(ec2.register_image(Name=f"{image}-{version}-x")["ImageId"])
    recipe = recipe or f"{image}-dev-{fp[:10]}"
    tags: dict[str, Any] = {
        "managed-by": MANAGED_BY,
        "golden-image": image,
        "image-version": version,
        "environment": "dev",
        "fingerprint": fp[:32],
        "Ec2ImageBuilderArn": f"arn:aws:imagebuilder:{REGION}:{ACCOUNT}:image/{recipe}/{version}/1",
    }
    tags.update(drop)
    ec2.create_tags(
        Resources=[image_id], Tags=[{"Key": k, "Value": v} for k, v in tags.items() if v is not None]
    )
    return image_id


def _run(*args: str) -> Any:
    return runner.invoke(app, [*args], catch_exceptions=False)


def test_record_promote_revoke_rollback(tmp_path: Path) -> None:
    registry = tmp_path / "registry.yaml"
    base_version, base_fp = _fingerprints(DEV)["base-ubuntu"]
    good = _ami("base-ubuntu", base_version, base_fp)
    # Decoys: our tags without Image Builder provenance, another recipe's ARN, another build's fingerprint.
    _ami("base-ubuntu", base_version, base_fp, Ec2ImageBuilderArn=None)
    _ami("base-ubuntu", base_version, base_fp, recipe="base-ubuntu-prod-0123456789")
    _ami("base-ubuntu", base_version, base_fp, fingerprint="f" * 32)
    stack = DEV  # app-runtime is layered on base-ubuntu: its parent is the golden parent's version
    app_version, app_fp = _fingerprints(stack)["app-runtime"]
    child = _ami("app-runtime", app_version, app_fp)

    common = ["--root", str(ROOT), "--registry", str(registry)]
    result = _run("registry", "record", "--stack", "dev", "--stack-file", str(stack), "--json", *common)
    assert result.exit_code == 0, result.output
    reg = store.load(registry)
    base = reg.images["base-ubuntu"].versions[0]
    # AWS by provenance (the decoys are not taken); the other platforms derived from the names (dev has
    # no Azure customer keys, so Azure is reported as not derivable and left out).
    assert base.artifacts["aws"] == {REGION: good} and base.fingerprint == base_fp
    assert set(base.artifacts) == {"aws", "gcp", "proxmox"}
    app_v = reg.images["app-runtime"].versions[0]
    assert app_v.artifacts["aws"] == {REGION: child}
    rows = {r["image"]: r for r in json.loads(result.output)["images"]}
    assert "azure" in rows["base-ubuntu"]["not_derived"] and rows["base-ubuntu"]["not_built_in"] == []
    base_ref = VersionRef(image="base-ubuntu", environment="dev", version=base_version)
    assert app_v.parent == base_ref
    # Every recorded id is a real AMI on the server.
    described = boto3.client("ec2", region_name=REGION).describe_images(ImageIds=[good, child])["Images"]
    assert {i["ImageId"] for i in described} == {good, child}

    text = registry.read_text()  # idempotent: a second run rewrites nothing
    again = _run("registry", "record", "--stack", "dev", "--stack-file", str(stack), "--json", *common)
    assert again.exit_code == 0 and json.loads(again.output)["written"] is False
    assert registry.read_text() == text

    # Promote: unrecorded is bad input; candidate, then stable only from candidate (declared by hand).
    assert _run("promote", "base-ubuntu", "9.9.9", "--channel", "candidate", *common).exit_code == 2
    assert _run("promote", "base-ubuntu", base_version, "--channel", "candidate", *common).exit_code == 0
    doc = store.load(registry).model_dump()
    doc["images"]["app-runtime"]["channels"]["candidate"] = {
        "current": None,
        "promotes_from": None,
        "history": [],
    }
    doc["images"]["app-runtime"]["channels"]["stable"] = {
        "current": None,
        "promotes_from": "candidate",
        "history": [],
    }
    store.save(store.parse(store.dump(type(reg).model_validate(doc)), "x"), registry)
    refused = _run("promote", "app-runtime", app_version, "--channel", "stable", *common)
    assert refused.exit_code == 1 and "promote it to candidate first" in refused.output
    assert _run("promote", "app-runtime", app_version, "--channel", "candidate", *common).exit_code == 0
    assert _run("promote", "app-runtime", app_version, "--channel", "stable", *common).exit_code == 0
    assert store.load(registry).images["app-runtime"].channels["stable"].current is not None

    # Revoke base: the app version built on it goes with it, naming the cause; stable is stranded.
    result = _run(
        "revoke",
        "base-ubuntu",
        base_version,
        "--reason",
        "CVE-2026-0001 in openssh",
        "--rollback",
        "--json",
        *common,
    )
    assert result.exit_code == 0, result.output
    out = json.loads(result.output)
    assert out["revoked"] == [str(base_ref), f"app-runtime {app_version} (dev)"]
    assert {(c["image"], c["channel"], c["stranded"]) for c in out["channels"]} == {
        ("base-ubuntu", "candidate", True),
        ("app-runtime", "candidate", True),
        ("app-runtime", "stable", True),
    }
    reg = store.load(registry)
    revocation = reg.images["app-runtime"].versions[0].revocation
    assert revocation is not None and revocation.cause == base_ref and "openssh" in revocation.reason
    refused = _run("promote", "app-runtime", app_version, "--channel", "candidate", *common)
    assert refused.exit_code == 1 and "revoked" in refused.output
    # The AMIs stay on the server: revocation stops launches through policy, it does not delete.
    assert len(boto3.client("ec2", region_name=REGION).describe_images(ImageIds=[good])["Images"]) == 1

    config = _run("registry", "policy-config", *common)
    assert config.exit_code == 0
    revoked = {a["id"]: a for a in json.loads(config.output)[ops.REVOKED_POLICY]["revokedArtifacts"]}
    assert {i for i, a in revoked.items() if a["platform"] == "aws"} == {good, child}
    assert revoked[child]["cause"] == str(base_ref)
    # The derived artifacts are revoked too: every platform of both versions.
    assert {i for i, a in revoked.items() if a["platform"] != "aws"} == {
        i for v in (base, app_v) for p, places in v.artifacts.items() if p != "aws" for i in places.values()
    }

    shown = json.loads(_run("registry", "show", "--image", "app-runtime", "--json", *common).output)
    [version] = shown["images"]["app-runtime"]["versions"]
    assert version["state"] == "revoked" and version["ancestry"] == [str(base_ref)]


def test_rollback_moves_to_the_newest_good_version(tmp_path: Path) -> None:
    registry = tmp_path / "registry.yaml"
    common = ["--root", str(ROOT), "--registry", str(registry)]
    base_version, base_fp = _fingerprints(DEV)["base-ubuntu"]
    first = _ami("base-ubuntu", base_version, base_fp)
    assert _run("registry", "record", "--stack", "dev", *common).exit_code == 0
    # A second version of the image, recorded directly (the catalog holds one version at a time).
    reg, _ = ops.record(
        store.load(registry),
        image="base-ubuntu",
        environment="dev",
        version="9.0.0",
        fingerprint="c" * 64,
        artifacts={"aws": {REGION: "ami-0000000000000c900"}},
        parent=None,
        now=store.load(registry).images["base-ubuntu"].versions[0].recorded_at,
    )
    store.save(reg, registry)
    for version in (base_version, "9.0.0"):
        assert _run("promote", "base-ubuntu", version, "--channel", "stable", *common).exit_code == 0
    result = _run(
        "revoke", "base-ubuntu", "9.0.0", "--reason", "broken boot", "--rollback", "--json", *common
    )
    assert result.exit_code == 0
    [moved] = json.loads(result.output)["channels"]
    assert moved["moved_to"] == f"base-ubuntu {base_version} (dev)"
    stable = store.load(registry).images["base-ubuntu"].channels["stable"]
    assert stable.current is not None and stable.current.version == base_version
    assert stable.history[-1].action == "rollback"
    assert store.load(registry).images["base-ubuntu"].versions[0].artifacts["aws"][REGION] == first


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["revoke", "base-ubuntu", "1.0.0", "--reason", "x", "--at", "tomorrow"], "not ISO-8601"),
        (["revoke", "base-ubuntu", "1.0.0", "--reason", "x", "--at", "2026-12-01T10:00:00"], "no time zone"),
        (["registry", "record", "--stack", "dev", "--regions", "mars-1"], "not AWS region"),
        (["registry", "show", "--image", "nope"], "not in"),
    ],
)
def test_bad_input_exits_2(tmp_path: Path, args: list[str], expected: str) -> None:
    result = _run(*args, "--root", str(ROOT), "--registry", str(tmp_path / "registry.yaml"))
    assert result.exit_code == 2 and expected in result.output, result.output


def test_invalid_registry_names_file_and_field(tmp_path: Path) -> None:
    registry = tmp_path / "registry.yaml"
    registry.write_text("schema_version: 1\nimages:\n  base-ubuntu:\n    versions: [{environment: qa}]\n")
    result = _run("registry", "show", "--root", str(ROOT), "--registry", str(registry))
    assert result.exit_code == 2
    assert f"{registry}: images.base-ubuntu.versions[0].environment" in result.output


def test_record_keeps_the_recorded_ami_and_refuses_a_silent_swap(tmp_path: Path) -> None:
    registry = tmp_path / "registry.yaml"
    common = ["--root", str(ROOT), "--registry", str(registry)]
    version, fp = _fingerprints(DEV)["base-ubuntu"]
    first = _ami("base-ubuntu", version, fp)
    assert _run("registry", "record", "--stack", "dev", *common).exit_code == 0
    _ami("base-ubuntu", version, fp)  # a scheduled rebuild of the same version: the recorded AMI stays
    assert _run("registry", "record", "--stack", "dev", *common).exit_code == 0
    assert store.load(registry).images["base-ubuntu"].versions[0].artifacts["aws"][REGION] == first
    boto3.client("ec2", region_name=REGION).deregister_image(ImageId=first)
    refused = _run("registry", "record", "--stack", "dev", *common)
    assert refused.exit_code == 1 and "needs a new version" in refused.output
    assert store.load(registry).images["base-ubuntu"].versions[0].artifacts["aws"][REGION] == first
