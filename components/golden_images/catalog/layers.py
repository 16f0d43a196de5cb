"""Layered images: a platform section's ``parent: {image: <name>}`` names another image of the same catalog.

The rules the catalog enforces across images (each problem names the child's field):

* the parent exists, is not the image itself, and the chain has no cycle (the chain is named:
  ``app -> mid -> app``);
* the parent has the same platform section (a child is built from the parent's output on that platform);
* the child repeats the parent's OS facts (``os.family``, ``release``, ``architecture``, ``lts``) exactly:
  ``os`` stays required on every image so each entry reads on its own, and a contradiction is refused
  rather than silently overridden (the bytes the child starts from are the parent's).

:func:`ordered` lists images parents-first, and :func:`builds` derives every image's
:class:`~golden_images.core.build.ImageBuild` in that order, so a child's fingerprint covers its parent's.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from golden_images.catalog.spec import Catalog, ImageSpec
from golden_images.core.build import ImageBuild, PinLookup

#: The OS facts a child inherits from its parent and may not contradict.
OS_FACTS: tuple[str, ...] = ("family", "release", "architecture", "lts")


def golden_parents(image: ImageSpec) -> dict[str, str]:
    """Platform → the catalog image that section is layered on (only sections with a golden parent)."""
    found: dict[str, str] = {}
    for platform in image.platforms():
        name = getattr(image.section(platform), "golden_parent", None)
        if isinstance(name, str):
            found[platform] = name
    return found


def parent_field(image: ImageSpec, platform: str) -> str:
    """The dotted field (relative to the image) holding the golden parent of ``platform``."""
    fields = getattr(type(image.section(platform)), "SOURCE_FIELDS", ("parent",))
    return f"{platform}.{fields[0] if fields else 'parent'}.image"


def parent_of(image: ImageSpec) -> str | None:
    """The single golden parent of ``image`` (every layered section must name the same one), or ``None``."""
    names = set(golden_parents(image).values())
    return next(iter(names)) if len(names) == 1 else None


def problems(catalog: Catalog) -> Iterator[tuple[int, str, str]]:
    """``(image index, field, message)`` for every layering rule the catalog breaks (see the module doc)."""
    index = {image.name: i for i, image in enumerate(catalog.images)}
    for i, image in enumerate(catalog.images):
        parents = golden_parents(image)
        if len(set(parents.values())) > 1:
            named = ", ".join(f"{p}: {n}" for p, n in parents.items())
            yield (
                i,
                parent_field(image, next(iter(parents))),
                f"the platform sections name different golden parents ({named}); an image has one parent",
            )
            continue
        for platform, name in parents.items():
            field = parent_field(image, platform)
            if name == image.name:
                yield i, field, f"image {name!r} names itself as its parent; name another catalog image"
                continue
            if name not in index:
                known = ", ".join(sorted(n for n in index if n != image.name)) or "none"
                yield i, field, f"parent image {name!r} is not in this catalog (images: {known})"
                continue
            parent = catalog.images[index[name]]
            if parent.section(platform) is None:
                yield (
                    i,
                    field,
                    f"parent image {name!r} has no {platform} section, so there is nothing to build "
                    f"{image.name!r} from on {platform}; add a {platform} section to {name!r} or give this "
                    "section a vendor source",
                )
                continue
            # A platform's own rule for building on the parent's section (Proxmox: the same nodes).
            check = getattr(image.section(platform), "layer_problems", None)
            for message in check(parent.section(platform)) if callable(check) else ():
                yield i, field, message
        chain = _cycle(catalog, image.name)
        if chain is not None:
            yield (
                i,
                parent_field(image, next(iter(parents))),
                "the golden parents form a cycle: "
                + " -> ".join(chain)
                + "; an image cannot descend from itself",
            )
            continue
        parent_name = parent_of(image)
        if parent_name is not None and parent_name in index and parent_name != image.name:
            parent = catalog.images[index[parent_name]]
            for fact in OS_FACTS:
                mine, theirs = getattr(image.os, fact), getattr(parent.os, fact)
                if mine != theirs:
                    yield (
                        i,
                        f"os.{fact}",
                        f"{image.name!r} builds on {parent_name!r}, whose os.{fact} is {theirs!r}, not {mine!r}; "
                        "a child inherits its parent's OS: set the same value",
                    )


def _cycle(catalog: Catalog, start: str) -> list[str] | None:
    """The chain ``start -> … -> start`` when following parents returns to ``start``; ``None`` otherwise."""
    names = {image.name: image for image in catalog.images}
    chain = [start]
    current = names[start]
    while True:
        parent = parent_of(current)
        if parent is None or parent not in names or parent == current.name:
            return None
        chain.append(parent)
        if parent == start:
            return chain
        if parent in chain[:-1]:
            return None  # a cycle further up: reported on the images that are in it
        current = names[parent]


def ordered(catalog: Catalog) -> tuple[ImageSpec, ...]:
    """The images parents-first (catalog order otherwise); the catalog must be free of layering problems."""
    names = {image.name: image for image in catalog.images}
    done: dict[str, ImageSpec] = {}

    def visit(image: ImageSpec) -> None:
        if image.name in done:
            return
        parent = parent_of(image)
        if parent is not None and parent in names:
            visit(names[parent])
        done[image.name] = image

    for image in catalog.images:
        visit(image)
    return tuple(done.values())


def builds(
    catalog: Catalog, root: Path, pins: PinLookup | None = None, *, bake_on_up: bool = False
) -> dict[str, ImageBuild]:
    """Name → derived build of every image, parents first (each child's build carries its parent's)."""
    result: dict[str, ImageBuild] = {}
    for image in ordered(catalog):
        parent = parent_of(image)
        result[image.name] = ImageBuild.from_catalog(
            catalog,
            image,
            root,
            pins,
            bake_on_up=bake_on_up,
            parent=result[parent] if parent is not None else None,
        )
    return result


def descendants(catalog: Catalog, name: str) -> list[str]:
    """Every image built (directly or not) on ``name``, parents before children."""
    below = {name}
    found: list[str] = []
    for image in ordered(catalog):
        parent = parent_of(image)
        if parent in below and image.name not in below:
            below.add(image.name)
            found.append(image.name)
    return found


def ancestors(catalog: Catalog, name: str) -> list[str]:
    """The parent of ``name``, its parent, … up to the root."""
    names = {image.name: image for image in catalog.images}
    chain: list[str] = []
    parent = parent_of(names[name])
    while parent is not None and parent in names and parent not in chain and parent != name:
        chain.append(parent)
        parent = parent_of(names[parent])
    return chain
