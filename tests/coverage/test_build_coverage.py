"""``ImageBuild``'s helpers for a layered image, on the builds the program itself derives from the dev stack
(``app-runtime`` is layered on ``base-ubuntu`` there; a third image is layered on it): the ancestor chain,
the platform-neutral core and the typed platform section, including the refusal for a platform the image
does not use."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest
import yaml

from golden_images.catalog import layers
from golden_images.catalog.loader import CATALOG_KEY, load_catalog_file
from golden_images.core.build import ImageBuild
from golden_images.platforms.aws.pins import load_pins, pins_path
from golden_images.platforms.aws.spec import AwsSpec
from tests.conftest import ROOT, stack_catalog
from tests.layers.helpers import image


def _builds(tmp_path: Path) -> dict[str, ImageBuild]:
    """The dev catalog plus ``app-web``: a copy of ``app-runtime`` layered on it, on AWS only, so the chain
    is app-web → app-runtime → base-ubuntu."""
    raw = stack_catalog("dev")
    web = copy.deepcopy(image(raw, "app-runtime"))
    web["name"] = "app-web"
    for platform in ("azure", "gcp", "proxmox"):
        web.pop(platform, None)
    web["aws"]["parent"] = {"image": "app-runtime"}
    raw["images"].append(web)
    document = yaml.safe_load((ROOT / "stacks" / "Pulumi.dev.yaml").read_text())
    document["config"][CATALOG_KEY] = raw
    stack_file = tmp_path / "Pulumi.dev.yaml"
    stack_file.write_text(yaml.safe_dump(document, sort_keys=False))
    catalog = load_catalog_file(stack_file, root=ROOT, stack="dev")
    return layers.builds(catalog, ROOT, load_pins(pins_path(ROOT, "dev")))


def test_ancestors_run_from_the_parent_to_the_root(tmp_path: Path) -> None:
    builds = _builds(tmp_path)
    web, runtime, base = builds["app-web"], builds["app-runtime"], builds["base-ubuntu"]
    assert web.ancestors() == (runtime, base)
    assert runtime.ancestors() == (base,)
    assert base.ancestors() == ()
    assert web.golden_parent("aws") == "app-runtime"
    assert web.golden_parent("azure") is None  # no Azure section at all


def test_core_and_typed_section(tmp_path: Path) -> None:
    web = _builds(tmp_path)["app-web"]
    assert web.core is web.image
    assert web.core.name == "app-web"
    assert web.section("aws", AwsSpec) is getattr(web.image, "aws")  # noqa: B009 (ImageCore has no typed aws)
    with pytest.raises(ValueError, match=r"^image 'app-web' has no proxmox section$"):
        web.section("proxmox", AwsSpec)
