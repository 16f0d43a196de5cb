"""The full list of policies in the golden-images pack (``policies/__main__.py`` builds the pack from it).

Importing a rules module registers its policies (:mod:`golden_images_policies.registry`); this module imports
every one and lists them in a stable order: platform modules first, then our components, then the launch and
stack rules; within a module, in the order they are declared.
"""

from __future__ import annotations

from types import ModuleType
from typing import Final

from pulumi_policy import Policy

from . import launch, stack
from .aws import dlm, ec2, imagebuilder
from .azure import compute as azure_compute
from .gcp import compute as gcp_compute
from .golden_image import components, lineage
from .proxmox import templates
from .registry import registered

PACK_NAME = "golden-images"

#: Every rules module, in pack order.
FAMILIES: Final[tuple[ModuleType, ...]] = (
    imagebuilder,
    ec2,
    dlm,
    azure_compute,
    gcp_compute,
    templates,
    components,
    lineage,
    launch,
    stack,
)


def all_policies() -> list[Policy]:
    """Every registered policy, module by module in :data:`FAMILIES` order (a module left out is an error)."""
    order = {module.__name__: index for index, module in enumerate(FAMILIES)}
    entries = registered()
    stray = sorted({e.module for e in entries} - set(order))
    if stray:
        raise RuntimeError(f"policies registered by modules missing from pack.FAMILIES: {', '.join(stray)}")
    return [e.policy for e in sorted(entries, key=lambda e: (order[e.module], e.seq))]
