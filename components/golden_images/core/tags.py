"""Render the canonical tag map per platform (pure; property-tested for every platform's limits).

* AWS tags and AMI tags: unchanged (keys ≤128, values ≤256; the catalog already enforces both).
* Azure tags: unchanged (Azure forbids ``< > % & \\ ? /`` in keys, which canonical keys never contain).
* GCP labels: lowercase ``[a-z0-9_-]``, ≤63 characters; other characters become ``-`` (``1.4.2`` → ``1-4-2``).
* Proxmox tags: flat ``<key>_<value>`` strings in ``[a-z0-9_][a-z0-9_+.-]*``, sorted (PVE sorts them).
"""

from __future__ import annotations

import re
from collections.abc import Mapping

_GCP_BAD = re.compile(r"[^a-z0-9_-]")
_PVE_BAD = re.compile(r"[^a-z0-9_+.-]")
GCP_MAX = 63


def aws_tags(tags: Mapping[str, str]) -> dict[str, str]:
    """AWS resource tags (and Image Builder ``amiTags``): the canonical map, sorted."""
    return dict(sorted(tags.items()))


def azure_tags(tags: Mapping[str, str]) -> dict[str, str]:
    """Azure resource tags: the canonical map, sorted."""
    return dict(sorted(tags.items()))


def gcp_label_value(value: str) -> str:
    """A GCP label value: lowercased, invalid characters → ``-``, cut to 63."""
    return _GCP_BAD.sub("-", value.lower())[:GCP_MAX]


def gcp_label_key(key: str) -> str:
    """A GCP label key: like a value, and starting with a letter (``k`` is prefixed otherwise)."""
    cleaned = _GCP_BAD.sub("-", key.lower())
    if not cleaned or not cleaned[0].isalpha() or not cleaned[0].isascii():
        cleaned = "k" + cleaned
    return cleaned[:GCP_MAX]


def gcp_labels(tags: Mapping[str, str]) -> dict[str, str]:
    """GCP labels from the canonical map (sorted by key; later duplicates after folding win)."""
    return dict(sorted((gcp_label_key(k), gcp_label_value(v)) for k, v in tags.items()))


def proxmox_tag(key: str, value: str) -> str:
    """One Proxmox tag ``<key>_<value>`` in PVE's alphabet (lowercase; other characters → ``-``)."""
    text = _PVE_BAD.sub("-", f"{key}_{value}".lower())
    return text if text[0] not in "+.-" else "_" + text


def proxmox_tags(tags: Mapping[str, str]) -> list[str]:
    """Proxmox tags from the canonical map, de-duplicated and sorted as PVE stores them."""
    return sorted({proxmox_tag(k, v) for k, v in tags.items()})
