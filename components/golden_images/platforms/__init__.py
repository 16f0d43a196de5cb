"""One package per platform (its catalog section, renderers, checks and component) and the single registry.

Adding a platform: a package here whose ``__init__`` defines ``PLATFORM`` (a
:class:`~golden_images.core.platform.Platform`), its component token in ``core/tokens.py`` (the policy pack
sees only the core), and one line below. Nothing else names platforms (docs/architecture.md).
"""

from __future__ import annotations

from golden_images.core.platform import Platform
from golden_images.platforms.aws import PLATFORM as AWS
from golden_images.platforms.azure import PLATFORM as AZURE
from golden_images.platforms.gcp import PLATFORM as GCP
from golden_images.platforms.proxmox import PLATFORM as PROXMOX

#: Platform name → descriptor, in the order sections are built and reported.
PLATFORMS: dict[str, Platform] = {p.name: p for p in (AWS, AZURE, GCP, PROXMOX)}
