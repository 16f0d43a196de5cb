"""The Pulumi program, as a function: config → catalog → one ``GoldenImage`` per image → exported records.

``__main__.py`` only calls :func:`run`; keeping the logic here makes it importable by the offline preview and
by other repos that want the same behaviour.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

import pulumi
from pulumi.runtime.config import is_config_secret

from golden_images.catalog import layers
from golden_images.catalog.loader import CATALOG_KEY, CONFIG_NAMESPACE, CatalogError, Issue, load_catalog
from golden_images.catalog.spec import Catalog
from golden_images.catalog.stackfiles import stack_file_name
from golden_images.golden_image import GoldenImage, GoldenImageArgs
from golden_images.platforms import PLATFORMS
from golden_images.platforms.aws.pins import load_pins, pins_path
from golden_images.registry.export import OUTPUT_NAME as REGISTRY_OUTPUT
from golden_images.registry.export import export_registry


@dataclass(frozen=True)
class PlatformConfig:
    """What the stack's platform config lacks: ``problems`` (``(key, why and fix)``, refused before anything is
    declared) and ``notes`` (what ``pulumi up`` will still need; a preview can run without it)."""

    problems: tuple[tuple[str, str], ...] = ()
    notes: tuple[str, ...] = ()


def platform_config(
    catalog: Catalog,
    *,
    value: Callable[[str], object | None],
    is_secret: Callable[[str], bool],
    environ: Mapping[str, str],
    dry_run: bool,
) -> PlatformConfig:
    """Check the stack config a catalog's platforms need, before anything is declared (a component reading it
    later would fail after other images' resources were registered): each platform some image uses checks
    its own keys (``Platform.stack_config``; Proxmox: ``proxmoxEndpoint`` and the API token).

    ``value(key)`` is the stack's value of ``golden-images:<key>`` (``None`` when unset), ``is_secret(key)``
    whether the stack holds it encrypted; ``dry_run`` is true during a preview (missing credentials become
    notes instead of problems)."""
    used = {name for image in catalog.images for name in image.platforms()}
    problems: list[tuple[str, str]] = []
    notes: list[str] = []
    for name, platform in PLATFORMS.items():
        if name in used and platform.stack_config is not None:
            found = platform.stack_config(value, is_secret, environ, dry_run)
            problems.extend(found.problems)
            notes.extend(found.notes)
    return PlatformConfig(tuple(problems), tuple(notes))


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

    def is_secret(key: str) -> bool:
        return is_config_secret(f"{CONFIG_NAMESPACE}:{key}")

    checked = platform_config(
        catalog,
        # A secret is only ever read as a secret (an Output), never as plaintext.
        value=lambda key: config.get_secret(key) if is_secret(key) else config.get(key),
        is_secret=is_secret,
        environ=os.environ,
        dry_run=pulumi.runtime.is_dry_run(),
    )
    missing = [
        Issue(stack_file_name(stack), f"config.{CONFIG_NAMESPACE}:{key}", why)
        for key, why in checked.problems
    ]
    if missing:
        raise pulumi.RunError(str(CatalogError(missing)))
    for note in checked.notes:
        pulumi.log.info(note)
    pins = load_pins(pins_path(root, catalog.environment))
    images: dict[str, GoldenImage] = {}
    # Parents first: a layered image is declared with its parent's component (and its build, whose
    # fingerprint its own covers).
    for name, build in layers.builds(catalog, root, pins, bake_on_up=bake_on_up).items():
        parent = build.parent
        args: GoldenImageArgs = {"build": build}
        if parent is not None:
            args["parent"] = images[parent.image.name]
        images[name] = GoldenImage(name, args)
    # Exported in catalog order, as before layering.
    images = {image.name: images[image.name] for image in catalog.images}
    pulumi.export("environment", catalog.environment)
    pulumi.export("images", {name: component.record for name, component in images.items()})
    # The registry view (channels → artifacts, revocations) for consumers (golden_images.consume), and on AWS
    # one SSM parameter per channel, image and region of this environment (docs/registry.md).
    pulumi.export(REGISTRY_OUTPUT, export_registry(root, catalog.environment, catalog=catalog))
    return images


__all__ = ["CATALOG_KEY", "PlatformConfig", "platform_config", "run", "stack_file_name"]
