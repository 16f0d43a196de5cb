"""Helpers shared by the Proxmox tests."""

from __future__ import annotations

from typing import Any

from tests.conftest import stack_catalog

#: Platform sections other than proxmox; the Proxmox tests drop them so they exercise this platform alone
#: (and do not depend on other platforms' work in progress).
OTHER_PLATFORMS = ("aws", "azure", "gcp")


def proxmox_only(catalog: dict[str, Any]) -> dict[str, Any]:
    """``catalog`` (modified in place and returned) with only the proxmox platform sections."""
    for key in OTHER_PLATFORMS:
        catalog.get("defaults", {}).pop(key, None)
        for image in catalog["images"]:
            image.pop(key, None)
    return catalog


def catalog(stack: str) -> dict[str, Any]:
    """A deep copy of ``stack``'s raw catalog with only the proxmox sections."""
    return proxmox_only(stack_catalog(stack))
