"""``golden-images lineage IMAGE [--stack ENV] [--json]``: the ancestors and descendants of one catalog image.

Read offline from the stack files (``stacks/Pulumi.<env>.yaml``): every image is shown as
``name@version`` with its chain fingerprint; the root's vendor source is shown per platform (as pinned by
``stacks/pins/<env>.yaml``). Default: every environment that has a stack file. A bad catalog or an unknown
image exits 2 naming the stack file.
"""

from __future__ import annotations

import difflib
import json
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console

from golden_images.catalog import layers, stackfiles
from golden_images.catalog.loader import CatalogError, load_catalog_file
from golden_images.core.build import ImageBuild
from golden_images.core.rules import ENVIRONMENTS
from golden_images.platforms.aws.pins import load_pins, pins_path

_out = Console(soft_wrap=True)


def _entry(build: ImageBuild) -> dict[str, Any]:
    image = build.image
    return {
        "image": image.name,
        "version": image.version,
        "ref": f"{image.name}@{image.version}",
        "fingerprint": build.fingerprint,
        "platforms": list(image.platforms()),
    }


def _vendor_sources(build: ImageBuild) -> dict[str, Any]:
    """Platform → the vendor source at the root of ``build``'s chain on that platform."""
    sources: dict[str, Any] = {}
    for platform in build.image.platforms():
        current = build
        while current.golden_parent(platform) is not None and current.parent is not None:
            current = current.parent
        identity = getattr(current.image.section(platform), "source_identity", None)
        sources[platform] = identity(current.pins) if callable(identity) else None
    return sources


def lineage(stack_file: Path, root: Path, image: str, stack: str) -> dict[str, Any]:
    """The lineage of ``image`` in one stack: ``image``, ``ancestors`` (parent first), ``descendants``
    (parents before children) and ``vendor`` (the root's source per platform). ``KeyError`` when the catalog
    has no such image; :class:`CatalogError` when it is invalid."""
    catalog = load_catalog_file(stack_file, root=root, stack=stack)
    if image not in {i.name for i in catalog.images}:
        raise KeyError(image)
    builds = layers.builds(catalog, root, load_pins(pins_path(root, catalog.environment)))
    return {
        "stack": stack,
        "image": _entry(builds[image]),
        "ancestors": [_entry(builds[name]) for name in layers.ancestors(catalog, image)],
        "descendants": [
            {**_entry(builds[name]), "parent": layers.parent_of(catalog.image(name))}
            for name in layers.descendants(catalog, image)
        ],
        "vendor": _vendor_sources(builds[image]),
    }


def _project_root(start: Path) -> Path:
    for candidate in (start, *start.parents):
        if (candidate / "Pulumi.yaml").is_file():
            return candidate
    raise typer.BadParameter(
        f"no Pulumi.yaml in {start} or any parent; run inside the project or pass --root"
    )


def _show(result: dict[str, Any]) -> None:
    me = result["image"]
    _out.print(f"[bold]{result['stack']}[/bold]: {me['ref']}  {me['fingerprint'][:12]}")
    for depth, ancestor in enumerate(result["ancestors"], start=1):
        _out.print(f"  {'  ' * depth}^ {ancestor['ref']}  {ancestor['fingerprint'][:12]}")
    for platform, source in result["vendor"].items():
        _out.print(f"  vendor source ({platform}): {source}")
    if not result["descendants"]:
        _out.print("  no descendants")
    for child in result["descendants"]:
        _out.print(f"  v {child['ref']}  {child['fingerprint'][:12]}  (on {child['parent']})")


def command(
    image: Annotated[str, typer.Argument(help="The catalog image, e.g. base-ubuntu.")],
    stack: Annotated[
        str | None,
        typer.Option("--stack", "-s", help="Environment (dev, staging, prod). Default: every stack file."),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the machine-readable result.")] = False,
    root: Annotated[
        Path | None, typer.Option("--root", help="Project root. Default: the nearest Pulumi.yaml above here.")
    ] = None,
) -> None:
    """Print the ancestors and descendants of IMAGE (offline, from the stack files)."""
    project = root or _project_root(Path.cwd())
    stacks = [stack] if stack else [e for e in ENVIRONMENTS if stackfiles.stack_file(project, e).is_file()]
    results: list[dict[str, Any]] = []
    for name in stacks:
        stack_file = stackfiles.stack_file(project, name)
        try:
            results.append(lineage(stack_file, project, image, name))
        except CatalogError as exc:
            typer.echo(str(exc), err=True)
            raise typer.Exit(2) from None
        except KeyError:
            typer.echo(_unknown(stack_file, project, image, name), err=True)
            raise typer.Exit(2) from None
    if as_json:
        typer.echo(json.dumps({"image": image, "stacks": results}, indent=2, sort_keys=True))
        return
    for result in results:
        _show(result)


def _unknown(stack_file: Path, root: Path, image: str, stack: str) -> str:
    names = [i.name for i in load_catalog_file(stack_file, root=root, stack=stack).images]
    close = difflib.get_close_matches(image, names, n=1, cutoff=0.6)
    hint = f"; did you mean {close[0]!r}?" if close else f" (images: {', '.join(names)})"
    return f"{stackfiles.stack_file_name(stack)}: no image {image!r} in the catalog{hint}"
