"""Catalogs with layered images, built from the shipped stack files (so every other field stays valid)."""

from __future__ import annotations

import copy
from typing import Any

from tests.conftest import stack_catalog

#: The vendor-source field of each platform section (what a golden parent replaces).
SOURCE_FIELDS = {"aws": "parent", "azure": "source", "gcp": "source_image", "proxmox": "cloud_image"}


def image(raw: dict[str, Any], name: str) -> dict[str, Any]:
    """The raw entry of ``name`` in ``raw['images']``."""
    found: dict[str, Any] = next(i for i in raw["images"] if i["name"] == name)
    return found


def reparent(
    entry: dict[str, Any], parent: str, platforms: tuple[str, ...] = ("aws", "azure", "gcp", "proxmox")
) -> None:
    """Layer the raw image ``entry`` on ``parent`` on ``platforms`` (dropping their vendor sources)."""
    for platform in platforms:
        section = entry.setdefault(platform, {})
        section.pop(SOURCE_FIELDS[platform], None)
        section["parent"] = {"image": parent}


def layered(stack: str, platforms: tuple[str, ...] = ("aws",), child: str = "app-runtime") -> dict[str, Any]:
    """The stack's raw catalog with ``child`` built on ``base-ubuntu`` on ``platforms``."""
    raw = stack_catalog(stack)
    entry = image(raw, child)
    for platform in platforms:
        section = copy.deepcopy(entry.get(platform) or {})
        section.pop(SOURCE_FIELDS[platform], None)
        section["parent"] = {"image": "base-ubuntu"}
        entry[platform] = section
    return raw
