"""``registry record`` on Azure, GCP and Proxmox: the artifact ids it derives are exactly the ones the
program's components create (read back from the registrations of a real program run under mocks, with
``bakeOnUp`` so the published Azure versions are declared), recorded in the same shape in every
environment; AWS stays provenance-based and is left out here (``--platforms``)."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from golden_images.catalog import layers
from golden_images.catalog.loader import load_catalog_file
from golden_images.cli import app
from golden_images.core.build import ImageBuild
from golden_images.platforms.aws.pins import load_pins, pins_path
from golden_images.registry import ops, store
from golden_images.registry.derive import derive
from golden_images.registry.model import VersionRef
from tests.conftest import ROOT, RunStack, by_type, stack_catalog

runner = CliRunner()
DERIVED = ["--platforms", "azure,gcp,proxmox"]
NOW = dt.datetime(2026, 12, 2, tzinfo=dt.UTC)


def _registered(run_stack: RunStack, stack: str) -> dict[str, dict[str, dict[str, str]]]:
    """image → platform → location → id, as the program's registrations name the artifacts."""
    run = run_stack(stack, stack_catalog(stack), extra={"golden-images:bakeOnUp": True})
    assert run.error is None, run.error
    catalog = load_catalog_file(ROOT / "stacks" / f"Pulumi.{stack}.yaml", root=ROOT, stack=stack)
    out: dict[str, dict[str, dict[str, str]]] = {}
    for image in catalog.images:
        places: dict[str, dict[str, str]] = {}
        for r in by_type(run.resources, "golden-images:index:GcpGoldenImage"):
            if r.name == f"{image.name}-gcp":
                places["gcp"] = {
                    "global": f"projects/{r.inputs['project']}/global/images/{r.inputs['expectedImage']}"
                }
        for r in by_type(run.resources, "proxmoxve:index/vmLegacy:VmLegacy"):
            if r.name.startswith(f"{image.name}-proxmox-"):
                places.setdefault("proxmox", {})[r.inputs["nodeName"]] = str(int(r.inputs["vmId"]))
        for r in by_type(run.resources, "azure-native:compute:GalleryImageVersion"):
            if r.name == f"{image.name}-azure-version":
                assert image.azure is not None
                version_id = (
                    f"/subscriptions/{image.azure.subscription_id}/resourceGroups/{r.inputs['resourceGroupName']}"
                    f"/providers/Microsoft.Compute/galleries/{r.inputs['galleryName']}/images/"
                    f"{r.inputs['galleryImageName']}/versions/{r.inputs['galleryImageVersionName']}"
                )
                places["azure"] = {
                    t["name"]: version_id for t in r.inputs["publishingProfile"]["targetRegions"]
                }
        out[image.name] = places
    return out


@pytest.mark.parametrize("stack", ["dev", "staging", "prod"])
def test_derived_ids_are_what_the_components_create(run_stack: RunStack, stack: str) -> None:
    catalog = load_catalog_file(ROOT / "stacks" / f"Pulumi.{stack}.yaml", root=ROOT, stack=stack)
    registered = _registered(run_stack, stack)
    builds = _builds(stack)
    for image in catalog.images:
        derived = derive(builds[image.name])
        assert derived.artifacts == registered[image.name], image.name
        # The platforms the image declares all have ids, except Azure without customer keys (AIB numbers it).
        declared = {p for p in ("azure", "gcp", "proxmox") if getattr(image, p) is not None}
        assert set(derived.artifacts) | set(derived.skipped) == declared
        if "azure" in derived.skipped:
            assert image.azure is not None and not image.azure.disk_encryption_sets
            assert "numbers the gallery version itself" in derived.skipped["azure"]


def test_record_writes_the_same_shape_in_every_environment(tmp_path: Path) -> None:
    registry = tmp_path / "registry.yaml"
    common = ["--root", str(ROOT), "--registry", str(registry)]
    outputs: dict[str, Any] = {}
    for stack in ("dev", "staging", "prod"):
        result = runner.invoke(app, ["registry", "record", "--stack", stack, *DERIVED, "--json", *common])
        assert result.exit_code == 0, result.output
        outputs[stack] = json.loads(result.output)
    reg = store.load(registry)
    for stack in ("dev", "staging", "prod"):
        catalog = load_catalog_file(ROOT / "stacks" / f"Pulumi.{stack}.yaml", root=ROOT, stack=stack)
        for image in catalog.images:
            [version] = [v for v in reg.images[image.name].versions if v.environment == stack]
            assert version.version == image.version
            # Locations are the image's own: Azure replication regions, GCP global, Proxmox nodes.
            assert image.gcp is not None and image.proxmox is not None and image.azure is not None
            assert set(version.artifacts["gcp"]) == {"global"}
            assert version.artifacts["gcp"]["global"].startswith(
                f"projects/{image.gcp.project}/global/images/"
            )
            assert set(version.artifacts["proxmox"]) == set(image.proxmox.nodes)
            assert all(vm.isdigit() for vm in version.artifacts["proxmox"].values())
            if image.azure.disk_encryption_sets:
                assert set(version.artifacts["azure"]) == {r.region for r in image.azure.replication}
                assert all(
                    a.endswith(f"/versions/{image.version}") for a in version.artifacts["azure"].values()
                )
            else:
                assert "azure" not in version.artifacts
                [row] = [r for r in outputs[stack]["images"] if r["image"] == image.name]
                assert "azure" in row["not_derived"]
            assert "aws" not in version.artifacts  # --platforms left AWS out: no AWS call was made
    # Idempotent: a second run over every stack writes nothing.
    text = registry.read_text()
    for stack in ("dev", "staging", "prod"):
        again = runner.invoke(app, ["registry", "record", "--stack", stack, *DERIVED, "--json", *common])
        assert json.loads(again.output)["written"] is False
    assert registry.read_text() == text


def test_layered_parent_is_recorded_and_revocation_reaches_the_child(tmp_path: Path) -> None:
    """app-runtime is layered on base-ubuntu: record names the parent's version, so revoking the parent
    revokes the child with it, naming the cause."""
    registry = tmp_path / "registry.yaml"
    common = ["--root", str(ROOT), "--registry", str(registry)]
    result = runner.invoke(app, ["registry", "record", "--stack", "prod", *DERIVED, "--json", *common])
    assert result.exit_code == 0, result.output
    reg = store.load(registry)
    base = _builds("prod")["base-ubuntu"].image
    base_ref = VersionRef(image="base-ubuntu", environment="prod", version=base.version)
    [app_version] = reg.images["app-runtime"].versions
    assert app_version.parent == base_ref
    revoked, outcome = ops.revoke(reg, base_ref, reason="bad kernel", at=NOW, now=NOW)
    assert [str(r) for r in outcome.revoked] == [str(base_ref), f"app-runtime {app_version.version} (prod)"]
    [app_after] = revoked.images["app-runtime"].versions
    assert app_after.revocation is not None and app_after.revocation.cause == base_ref


def _builds(stack: str) -> dict[str, ImageBuild]:
    """The program's builds of ``stack`` (parents first, with the stack's pins)."""
    catalog = load_catalog_file(ROOT / "stacks" / f"Pulumi.{stack}.yaml", root=ROOT, stack=stack)
    return layers.builds(catalog, ROOT, load_pins(pins_path(ROOT, stack)))


@pytest.mark.parametrize("value", ["vmware", "aws,ibm"])
def test_unknown_platform_is_bad_input(tmp_path: Path, value: str) -> None:
    result = runner.invoke(
        app,
        [
            "registry",
            "record",
            "--stack",
            "dev",
            "--platforms",
            value,
            "--root",
            str(ROOT),
            "--registry",
            str(tmp_path / "r.yaml"),
        ],
    )
    assert result.exit_code == 2 and "not a platform" in result.output
    assert not (tmp_path / "r.yaml").exists()
