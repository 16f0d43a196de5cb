"""The Pulumi program, as a function: config → catalog → one ``GoldenImage`` per image → exported records.

``__main__.py`` only calls :func:`run`; keeping the logic here makes it importable by the offline preview and
by other repos that want the same behaviour.
"""

from __future__ import annotations

from pathlib import Path

import pulumi

from golden_images.common.build import ImageBuild
from golden_images.common.loader import CATALOG_KEY, CONFIG_NAMESPACE, CatalogError, Issue, load_catalog
from golden_images.common.pins import load_pins, pins_path
from golden_images.common.spec import Catalog
from golden_images.golden_image import GoldenImage


def stack_file_name(stack: str) -> str:
    """The stack file Pulumi reads for ``stack`` (``stackConfigDir: stacks``), as named in errors."""
    return f"stacks/Pulumi.{stack.rsplit('/', maxsplit=1)[-1]}.yaml"


def _missing_platform_config(catalog: Catalog, config: pulumi.Config) -> list[tuple[str, str]]:
    """Stack config a platform needs, checked before anything is declared (a component reading it later would
    fail after other images' resources were registered)."""
    if not any(image.proxmox is not None for image in catalog.images):
        return []
    missing: list[tuple[str, str]] = []
    if not config.get("proxmoxEndpoint"):
        missing.append(
            (
                "proxmoxEndpoint",
                "required by the proxmox sections; set it with "
                "'pulumi config set golden-images:proxmoxEndpoint https://<host>:8006/'",
            )
        )
    if config.get_secret("proxmoxApiToken") is None:
        missing.append(
            (
                "proxmoxApiToken",
                "required by the proxmox sections; set it with "
                "'pulumi config set --secret golden-images:proxmoxApiToken <user>@<realm>!<id>=<secret>'",
            )
        )
    return missing


def run(root: Path) -> dict[str, GoldenImage]:
    """Load and validate this stack's catalog, then declare one :class:`GoldenImage` per image and export
    ``images`` (name → version record) and ``environment``.

    On an invalid catalog, raises :class:`pulumi.RunError` listing every problem *before* any resource is
    declared, so nothing is registered.
    """
    stack = pulumi.get_stack()
    config = pulumi.Config(CONFIG_NAMESPACE)
    raw = config.get_object("catalog")
    bake_on_up = config.get_bool("bakeOnUp") or False
    try:
        catalog = load_catalog(raw, source=stack_file_name(stack), root=root, stack=stack)
    except CatalogError as exc:
        raise pulumi.RunError(str(exc)) from None
    missing = [
        Issue(stack_file_name(stack), f"config.{CONFIG_NAMESPACE}:{key}", why)
        for key, why in _missing_platform_config(catalog, config)
    ]
    if missing:
        raise pulumi.RunError(str(CatalogError(missing)))
    pins = load_pins(pins_path(root, catalog.environment))
    images = {
        image.name: GoldenImage(
            image.name, {"build": ImageBuild.from_catalog(catalog, image, root, pins, bake_on_up=bake_on_up)}
        )
        for image in catalog.images
    }
    pulumi.export("environment", catalog.environment)
    pulumi.export("images", {name: component.record for name, component in images.items()})
    return images


__all__ = ["CATALOG_KEY", "run", "stack_file_name"]
