"""Generated catalogs for the benchmarks: N images cloned from the dev stack, in a scratch copy of the project.

Cloning the dev stack's own images (distinct names and versions, everything else unchanged) keeps the
generated catalog dev-shaped and picks up every platform section the dev stack has, without this module
knowing any platform.
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


def generate_catalog(catalog: Mapping[str, Any], count: int) -> dict[str, Any]:
    """``catalog`` with its images cloned round-robin until there are ``count`` of them.

    Copy ``k`` of image ``name`` is named ``name-k`` (``k`` ≥ 1) and gets the version raised by ``k`` patch
    releases (carried into MINOR past .99); the original images keep their names, so a 2-image dev catalog at
    ``count=2`` is the dev catalog itself.
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
            image["name"] = f"{source['name']}-{copy_index}"
            image["version"] = _bump(str(source["version"]), copy_index)
        images.append(image)
    generated = copy.deepcopy(dict(catalog))
    generated["images"] = images
    return generated


def catalog_platforms(catalog: Mapping[str, Any]) -> tuple[str, ...]:
    """Platforms with a section in at least one image of ``catalog``."""
    present = {p for image in catalog["images"] for p in PLATFORMS if p in image}
    return tuple(p for p in PLATFORMS if p in present)


def make_project(directory: Path, count: int, repo: Path = REPO) -> GeneratedProject:
    """Copy the project's program, scripts and pins into ``directory`` and write a ``count``-image dev stack."""
    directory.mkdir(parents=True, exist_ok=True)
    for name in _PROJECT_FILES:
        shutil.copy2(repo / name, directory / name)
    for folder in _PROJECT_DIRS:
        if (repo / folder).is_dir():
            shutil.copytree(repo / folder, directory / folder, dirs_exist_ok=True)
    document = dev_document(repo)
    catalog = generate_catalog(document["config"][CATALOG_KEY], count)
    document["config"][CATALOG_KEY] = catalog
    stack_file = directory / "stacks" / f"Pulumi.{STACK}.yaml"
    stack_file.parent.mkdir(parents=True, exist_ok=True)
    stack_file.write_text(yaml.safe_dump(document, sort_keys=False), encoding="utf-8")
    return GeneratedProject(directory, stack_file, count, catalog_platforms(catalog))


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


def least_shared_script(catalog: Mapping[str, Any]) -> tuple[str, set[str]]:
    """The script used by the fewest images (ties: by path); it must not be used by all of them."""
    images = {image["name"] for image in catalog["images"]}
    candidates = sorted(
        ((path, names) for path, names in script_users(catalog).items() if names != images),
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
