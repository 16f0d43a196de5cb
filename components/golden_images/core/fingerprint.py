"""Content fingerprints: a hash of everything that changes an image's bytes, and nothing else.

The image fingerprint covers the OS, and every step of every phase including the *content* of referenced
scripts and files. It ignores description, tags, version, other images and key order, so an unrelated edit
never produces a new build. The record's fingerprint (:func:`chain_fingerprint`) adds where the bytes start
from: the parent image's fingerprint for a layered image, and the resolved vendor source of every platform
(the pinned AMI, not the floating parameter) — so a change in an ancestor changes exactly its descendants,
and dev (newest vendor image) and prod (pinned) never share a fingerprint for different bytes. Platform
fingerprints add the platform's build inputs (parent image, disk size…) and name the immutable builder
resources, so a change replaces exactly what it affects.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from typing import Any

from golden_images.core.image import ImageCore
from golden_images.core.shellsteps import CONTRACT_VERSION
from golden_images.core.steps import ResolvedSteps

#: Length of the fingerprint prefix embedded in resource names (hex chars; 40 bits is ample per image).
SHORT = 10


def digest(payload: Any) -> str:
    """sha256 of the canonical JSON of ``payload`` (sorted keys, no whitespace), hex."""
    text = json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def image_fingerprint(image: ImageCore, steps: ResolvedSteps) -> str:
    """The platform-neutral content hash of ``image`` (hex sha256), including the step contract's version
    (how every platform runs a step), so a contract change rebuilds images baked under the old one."""
    return digest(
        {
            "contract": CONTRACT_VERSION,
            "os": image.os.model_dump(mode="json"),
            "phases": {phase: [s.identity() for s in items] for phase, items in steps.phases()},
        }
    )


def chain_fingerprint(content: str, *, parent: str | None, sources: Mapping[str, Any]) -> str:
    """The fingerprint of an image in its chain (hex sha256): its ``content`` fingerprint
    (:func:`image_fingerprint`), the ``parent``'s chain fingerprint (``None`` for an image built from vendor
    sources only) and ``sources``, platform → the resolved source identity (a vendor image as pinned, or
    ``{"image": <parent name>}`` for a golden parent)."""
    return digest({"content": content, "parent": parent, "sources": dict(sources)})


def platform_fingerprint(image_fp: str, platform: str, inputs: Any) -> str:
    """Hash of the image fingerprint plus a platform's build-affecting ``inputs`` (hex sha256)."""
    return digest({"image": image_fp, "platform": platform, "inputs": inputs})


def short(fingerprint: str) -> str:
    """The first :data:`SHORT` hex characters, for names."""
    return fingerprint[:SHORT]
