"""The platforms' documented limits and the catalog's required tag keys, written out for the tests.

Taken from the platforms' documentation, not from ``golden_images.core.rules`` (which the renderers use
too), so a wrong limit or a dropped key in the code cannot make a wrong rendering pass.
"""

from __future__ import annotations

import re

#: GCP labels: key starts with a lowercase letter, keys and values at most 63 of ``[a-z0-9_-]``.
GCP_LABEL_KEY = re.compile(r"[a-z][a-z0-9_-]{0,62}")
GCP_LABEL_VALUE = re.compile(r"[a-z0-9_-]{0,63}")
#: GCP resource names (RFC 1035): at most 63, lowercase letter first, no trailing hyphen.
GCP_NAME = re.compile(r"[a-z]([-a-z0-9]{0,61}[a-z0-9])?")
#: Proxmox VE tags: ``[a-z0-9_]`` first, then also ``+ . -``.
PROXMOX_TAG = re.compile(r"[a-z0-9_][a-z0-9_+.-]*")
#: EC2 Image Builder resource names: 1-128 of ``[A-Za-z0-9_-]``.
IMAGE_BUILDER_NAME = re.compile(r"[A-Za-z0-9_-]{1,128}")
#: The tag keys docs/architecture.md requires by default on every taggable resource (non-blank values).
REQUIRED_TAG_KEYS = frozenset(
    {"owner", "cost-center", "environment", "managed-by", "golden-image", "image-version"}
)


def is_gcp_label(key: str, value: str) -> bool:
    return bool(GCP_LABEL_KEY.fullmatch(key) and GCP_LABEL_VALUE.fullmatch(value))


def has_required_tags(tags: dict[str, object]) -> bool:
    """Every required key present with a non-blank value."""
    return all(str(tags.get(key, "")).strip() for key in REQUIRED_TAG_KEYS)
