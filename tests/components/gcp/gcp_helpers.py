"""Helpers for the GCP tests: catalogs reduced to the gcp platform, builds rendered from them, and Packer.

Reducing the stacks' catalogs to their ``gcp`` sections keeps these tests about GCP only (and fast): the
other platforms' sections are removed before the catalog is loaded or the program is run.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from golden_images.catalog.loader import load_catalog
from golden_images.core.build import ImageBuild
from golden_images.platforms.gcp import iam
from golden_images.platforms.gcp.packer import RenderedBuild, render_build
from golden_images.platforms.gcp.spec import GcpSourceImage
from tests.conftest import ROOT, stack_catalog

STACKS = ("dev", "staging", "prod")
OTHER_PLATFORMS = ("aws", "azure", "proxmox")


def gcp_catalog(stack: str) -> dict[str, Any]:
    """The raw catalog of ``stack`` with every platform section but ``gcp`` removed."""
    raw = stack_catalog(stack)
    for platform in OTHER_PLATFORMS:
        raw.get("defaults", {}).pop(platform, None)
        for image in raw["images"]:
            image.pop(platform, None)
    return raw


def rendered_builds(
    stack: str, raw: dict[str, Any] | None = None, root: Path = ROOT
) -> dict[str, RenderedBuild]:
    """Image name → rendered Packer build for every image of ``stack`` (or of ``raw``); a layered image's
    source is its parent's rendered image, as the GCP component resolves it."""
    catalog = load_catalog(
        raw if raw is not None else gcp_catalog(stack), source=stack, root=root, stack=stack
    )
    out: dict[str, RenderedBuild] = {}
    projects: dict[str, str] = {}
    for catalog_image in catalog.images:
        image = catalog_image
        assert image.gcp is not None
        build = ImageBuild.from_catalog(catalog, image, root)
        if image.gcp.parent is not None:
            # Layered: resolved as GcpGoldenImage does, to the exact image the parent's bake writes in the
            # parent's project; name and fingerprint stay those of the catalog build. Parents come first.
            parent = image.gcp.parent.image
            assert parent in out, f"{image.name}: parent {parent!r} is not rendered before it"
            source = GcpSourceImage(project=projects[parent], image=out[parent].image_name)
            image = image.model_copy(update={"gcp": image.gcp.model_copy(update={"source": source})})
        assert image.gcp is not None
        projects[image.name] = image.gcp.project
        vm = iam.account_email(iam.account_id("vm", image.name, stack), image.gcp.project)
        out[image.name] = render_build(
            image,
            build.steps,
            environment=stack,
            tags=build.tags,
            image_fingerprint=build.fingerprint,
            vm_service_account=vm,
        )
    return out


def packer_binary() -> str:
    """Path of ``packer``. Missing packer fails under CI (``CI=true``) and skips elsewhere."""
    found = shutil.which("packer")
    if found is None:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(
                "packer is not installed; CI must validate the GCP Packer templates (apt-get install packer)"
            )
        pytest.skip("packer is not installed (apt-get install -y packer); template validation needs it")
    return found


def _offline_prefix() -> list[str]:
    # Run packer without a network namespace when we may (root): proves validation never reaches Google.
    unshare = shutil.which("unshare")
    if unshare is None:
        return []
    probe = subprocess.run([unshare, "-n", "true"], capture_output=True, check=False)
    return [unshare, "-n"] if probe.returncode == 0 else []


def materialise(rendered: RenderedBuild, directory: Path) -> Path:
    """Write every object of ``rendered`` under ``directory`` as Cloud Build's fetch step does; return the
    template path."""
    for obj in rendered.objects:
        path = directory / obj.path
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(obj.content, encoding="utf-8")
    return directory / rendered.template_object.path


def packer_validate(template: Path, cwd: Path) -> subprocess.CompletedProcess[str]:
    """``packer validate`` (full: syntax plus the googlecompute builder's and provisioners' Prepare) run
    offline from ``cwd``, the workspace the template's relative paths refer to."""
    env = {**os.environ, "CHECKPOINT_DISABLE": "1", "PACKER_LOG": "0"}
    return subprocess.run(
        [*_offline_prefix(), packer_binary(), "validate", str(template.relative_to(cwd))],
        cwd=cwd,
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )
