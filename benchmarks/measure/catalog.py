"""Generated catalogs for the benchmarks: N images cloned from the dev stack, in a scratch copy of the project.

Cloning the dev stack's own images (distinct names and versions, everything else unchanged) keeps the
generated catalog dev-shaped and picks up every platform section the dev stack has, without this module
knowing any platform.

P5 uses a *layered* variant (:func:`layered_catalog`): the clones form families (copy ``k`` of a layered image
is built on its parent's copy ``k``), one family is three deep (base, child, grandchild, on every platform the
child is layered on) and the base gets its own copy of one of its scripts, so a change that only the base
sees directly can be measured against the unrelated families.
"""

from __future__ import annotations

import copy
import os
import shutil
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from golden_images.catalog.loader import CATALOG_KEY, PLATFORMS

#: The checkout this package sits in (not resolved: a symlinked copy keeps its own stacks and images).
REPO = Path(os.path.abspath(__file__)).parent.parent.parent
STACK = "dev"

#: What a scratch project needs for the program to run: the program, the project file, the scripts and
#: files the catalog references, and the pins.
_PROJECT_FILES = ("Pulumi.yaml", "__main__.py")
_PROJECT_DIRS = ("images", "stacks/pins")


@dataclass(frozen=True)
class GeneratedProject:
    """A scratch project holding a generated ``stacks/Pulumi.dev.yaml``."""

    root: Path
    stack_file: Path
    images: int
    platforms: tuple[str, ...]
    """Platform sections present in the generated catalog (from the dev stack), in loader order."""
    lineage: Lineage | None = None
    """The measured chain of a layered catalog (:func:`layered_catalog`); ``None`` for a plain one."""


@dataclass(frozen=True)
class Lineage:
    """A base image, every image built on it (parents before children) and the script only the base uses."""

    base: str
    descendants: tuple[str, ...]
    script: str
    """Repository path of the base's own script (a copy of one of its scripts, used by no other image)."""
    copied_from: str
    """The script it is a copy of (same content)."""
    layered_on: tuple[str, ...] = ()
    """Platforms on which every descendant is built on its parent (loader order)."""


def dev_document(repo: Path = REPO) -> dict[str, Any]:
    """The parsed dev stack file of ``repo``."""
    data = yaml.safe_load((repo / "stacks" / f"Pulumi.{STACK}.yaml").read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


def _bump(version: str, copy_index: int) -> str:
    # Carry into MINOR (and MAJOR) so every part stays below 100: Proxmox refuses versions whose MINOR or
    # PATCH would not fit two digits of the template's VM id.
    major, minor, patch = (int(part) for part in version.split("."))
    slot = (major * 100 + minor) * 100 + patch + copy_index
    return f"{slot // 10_000}.{slot // 100 % 100}.{slot % 100}"


def _clone_name(name: str, copy_index: int) -> str:
    return f"{name}-{copy_index}" if copy_index else name


def generate_catalog(catalog: Mapping[str, Any], count: int) -> dict[str, Any]:
    """``catalog`` with its images cloned round-robin until there are ``count`` of them.

    Copy ``k`` of image ``name`` is named ``name-k`` (``k`` ≥ 1) and gets the version raised by ``k`` patch
    releases (carried into MINOR past .99); the original images keep their names, so a 2-image dev catalog at
    ``count=2`` is the dev catalog itself. Everything else is copied as is, golden parents included (every
    copy of a layered image is built on the original parent).
    """
    originals = list(catalog["images"])
    if not originals:
        raise ValueError("the dev catalog has no images to clone")
    images: list[dict[str, Any]] = []
    for index in range(count):
        source = originals[index % len(originals)]
        copy_index = index // len(originals)
        image = copy.deepcopy(dict(source))
        if copy_index:
            image["name"] = _clone_name(source["name"], copy_index)
            image["version"] = _bump(str(source["version"]), copy_index)
        images.append(image)
    generated = copy.deepcopy(dict(catalog))
    generated["images"] = images
    return generated


def _parent_sections(image: Mapping[str, Any]) -> Iterator[dict[str, Any]]:
    """The ``parent`` mappings of ``image``'s platform sections that name a catalog image
    (``parent: {image: …}``, as the loader reads a layered section)."""
    for platform in PLATFORMS:
        section = image.get(platform)
        parent = section.get("parent") if isinstance(section, Mapping) else None
        if isinstance(parent, dict) and isinstance(parent.get("image"), str):
            yield parent


def layered_platforms(image: Mapping[str, Any]) -> tuple[str, ...]:
    """The platforms whose section of ``image`` (raw) names a catalog image as its parent."""
    return tuple(
        p
        for p in PLATFORMS
        if isinstance(image.get(p), Mapping)
        and isinstance(image[p].get("parent"), Mapping)
        and isinstance(image[p]["parent"].get("image"), str)
    )


def golden_parent(image: Mapping[str, Any]) -> str | None:
    """The catalog image ``image`` (raw) is layered on, ``None`` for an image built from vendor sources."""
    return next((parent["image"] for parent in _parent_sections(image)), None)


def _set_parent(image: dict[str, Any], name: str) -> None:
    for parent in _parent_sections(image):
        parent["image"] = name


def descendants_of(catalog: Mapping[str, Any], names: set[str]) -> list[str]:
    """Every image built, directly or not, on one of ``names`` (not ``names`` themselves), in catalog order."""
    parents = {image["name"]: golden_parent(image) for image in catalog["images"]}

    def below(name: str) -> bool:
        seen: set[str] = set()
        parent = parents.get(name)
        while parent is not None and parent not in seen:
            if parent in names:
                return True
            seen.add(parent)
            parent = parents.get(parent)
        return False

    return [
        image["name"] for image in catalog["images"] if image["name"] not in names and below(image["name"])
    ]


def _layered_plan(catalog: Mapping[str, Any], depth: int) -> tuple[int, int, str, str]:
    """``(minimum count, originals, layered image, its root)`` for :func:`layered_catalog`."""
    originals = list(catalog["images"])
    names = {image["name"]: image for image in originals}
    layered = [i for i, image in enumerate(originals) if golden_parent(image) in names]
    if not layered:
        raise ValueError(
            "the dev catalog has no layered image (a platform section with parent: {image: …}); "
            "P5's chain needs one"
        )
    index = layered[0]
    name = str(originals[index]["name"])
    root, seen = name, {name}
    while (parent := golden_parent(names[root])) in names and parent not in seen:
        root = str(parent)
        seen.add(root)
    # Copy ``depth - 2`` of the layered image is the chain's last member; it must be in the catalog.
    minimum = index + len(originals) * (depth - 2) + 1
    return minimum, len(originals), name, root


def layered_minimum(catalog: Mapping[str, Any], depth: int = 3) -> int:
    """The smallest ``count`` :func:`layered_catalog` accepts for ``catalog`` (the dev catalog: 4)."""
    return _layered_plan(catalog, depth)[0]


def layered_catalog(
    catalog: Mapping[str, Any], count: int, depth: int = 3
) -> tuple[dict[str, Any], Lineage, dict[str, str]]:
    """``count`` clones of ``catalog`` (as :func:`generate_catalog`) arranged in layered families, with one
    chain ``depth`` images deep (default 3: base, child, grandchild) and a script only its base uses.

    - Copy ``k`` of a layered image is built on its parent's copy ``k`` (when there is one), so every family
      is unrelated to the others.
    - Copies ``1`` … ``depth - 2`` of the first layered image are built on the previous copy (copy 0 is the
      original) instead: the originals' chain grows to ``depth`` images, on every platform section that names
      the parent. Their parents' copies keep their own families, or stand alone.
    - The chain's root gets its own copy of one of its scripts that none of its descendants uses directly
      (same content, path ``<dir>/<stem>-<root>-only<suffix>``).

    Returns the catalog, the chain (:class:`Lineage`) and ``{new script path: copied script path}``, which
    the caller writes into the project. Raises ``ValueError`` when ``catalog`` has no layered image, when
    ``count`` is below :func:`layered_minimum` or when the root has no script of its own.
    """
    if depth < 2:
        raise ValueError("a chain needs at least a base and a child (depth >= 2)")
    minimum, originals, layered, root = _layered_plan(catalog, depth)
    if count < minimum:
        raise ValueError(f"a {depth}-deep chain plus an unrelated image needs at least {minimum} images")
    generated = generate_catalog(catalog, count)
    images = generated["images"]
    names = {image["name"] for image in images}
    for index, image in enumerate(images):
        copy_index = index // originals
        parent = golden_parent(image)
        if copy_index and parent is not None and _clone_name(parent, copy_index) in names:
            _set_parent(image, _clone_name(parent, copy_index))
    by_name = {image["name"]: image for image in images}
    for copy_index in range(1, depth - 1):
        _set_parent(by_name[_clone_name(layered, copy_index)], _clone_name(layered, copy_index - 1))
    below = descendants_of(generated, {root})
    if len(below) + 1 == len(images):
        raise ValueError(f"every image of {count} is built on {root!r}; no unrelated image to compare with")
    used_below = {path for path, users in script_users(generated).items() if users & set(below)}
    own = sorted(set(_scripts(by_name[root])) - used_below)
    if not own:
        raise ValueError(f"image {root!r} has no script its descendants do not use; nothing only it sees")
    original = Path(own[0])
    private = str(original.with_name(f"{original.stem}-{root}-only{original.suffix}"))
    _replace_script(by_name[root], own[0], private)
    on = set(PLATFORMS)
    for name in below:
        on &= set(layered_platforms(by_name[name]))
    lineage = Lineage(root, tuple(below), private, own[0], tuple(p for p in PLATFORMS if p in on))
    return generated, lineage, {private: own[0]}


def _replace_script(value: Any, old: str, new: str) -> None:
    if isinstance(value, dict):
        for key, item in value.items():
            if key == "script" and item == old:
                value[key] = new
            else:
                _replace_script(item, old, new)
    elif isinstance(value, list):
        for item in value:
            _replace_script(item, old, new)


def catalog_platforms(catalog: Mapping[str, Any]) -> tuple[str, ...]:
    """Platforms with a section in at least one image of ``catalog``."""
    present = {p for image in catalog["images"] for p in PLATFORMS if p in image}
    return tuple(p for p in PLATFORMS if p in present)


def make_project(
    directory: Path, count: int, repo: Path = REPO, *, layered: bool = False
) -> GeneratedProject:
    """Copy the project's program, scripts and pins into ``directory`` and write a ``count``-image dev stack:
    :func:`generate_catalog`'s clones, or with ``layered`` (default off) :func:`layered_catalog`'s families
    (the base's own script copied beside the original)."""
    directory.mkdir(parents=True, exist_ok=True)
    for name in _PROJECT_FILES:
        shutil.copy2(repo / name, directory / name)
    for folder in _PROJECT_DIRS:
        if (repo / folder).is_dir():
            shutil.copytree(repo / folder, directory / folder, dirs_exist_ok=True)
    document = dev_document(repo)
    lineage: Lineage | None = None
    if layered:
        catalog, lineage, copies = layered_catalog(document["config"][CATALOG_KEY], count)
        for new, old in copies.items():
            shutil.copy2(directory / old, directory / new)
    else:
        catalog = generate_catalog(document["config"][CATALOG_KEY], count)
    document["config"][CATALOG_KEY] = catalog
    stack_file = directory / "stacks" / f"Pulumi.{STACK}.yaml"
    stack_file.parent.mkdir(parents=True, exist_ok=True)
    stack_file.write_text(yaml.safe_dump(document, sort_keys=False), encoding="utf-8")
    return GeneratedProject(directory, stack_file, count, catalog_platforms(catalog), lineage)


def _scripts(value: Any) -> Iterator[str]:
    if isinstance(value, Mapping):
        for key, item in value.items():
            if key == "script" and isinstance(item, str):
                yield item
            else:
                yield from _scripts(item)
    elif isinstance(value, list):
        for item in value:
            yield from _scripts(item)


def script_users(catalog: Mapping[str, Any]) -> dict[str, set[str]]:
    """Repository script path → names of the images referencing it anywhere (steps or platform sections)."""
    users: dict[str, set[str]] = {}
    defaults = catalog.get("defaults") or {}
    for image in catalog["images"]:
        sections = [image] + [
            defaults[p] for p in PLATFORMS if p in image and isinstance(defaults.get(p), Mapping)
        ]
        for section in sections:
            for script in _scripts(section):
                users.setdefault(script, set()).add(image["name"])
    return users


def least_shared_script(
    catalog: Mapping[str, Any], exclude: frozenset[str] = frozenset()
) -> tuple[str, set[str]]:
    """The script used by the fewest images (ties: by path), other than ``exclude`` (default none); it must not
    be used by all of them."""
    images = {image["name"] for image in catalog["images"]}
    candidates = sorted(
        (
            (path, names)
            for path, names in script_users(catalog).items()
            if names != images and path not in exclude
        ),
        key=lambda item: (len(item[1]), item[0]),
    )
    if not candidates:
        raise ValueError("every script is used by every image; no partial change to measure")
    return candidates[0]


def generated_catalog(stack_file: Path) -> dict[str, Any]:
    """The raw catalog of a generated stack file."""
    document = yaml.safe_load(stack_file.read_text(encoding="utf-8"))
    catalog = document["config"][CATALOG_KEY]
    assert isinstance(catalog, dict)
    return catalog
