"""Azure platform: catalog section, AIB customizers and the VM Image Builder + Compute Gallery component."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from golden_images.core.platform import Platform
from golden_images.core.tokens import AZURE_GOLDEN_IMAGE
from golden_images.platforms.azure.spec import AzureSpec

if TYPE_CHECKING:
    from golden_images.core.build import ImageBuild

#: Azure Compute Gallery version names are int.int.int with 32-bit signed parts.
GALLERY_VERSION_PART_MAX = 2**31 - 1


def launch_reference(artifacts: Mapping[str, Any], build: ImageBuild, spec: AzureSpec) -> dict[str, Any]:
    """The gallery image definition id (its newest version) and the version id (``None`` until published)."""
    return {"definition_id": artifacts["gallery_image_id"], "version_id": artifacts.get("version_id")}


PLATFORM = Platform(
    name="azure",
    section=AzureSpec,
    token=AZURE_GOLDEN_IMAGE,
    component="golden_images.platforms.azure.component:AzureGoldenImage",
    launch_reference=launch_reference,
    version_part_max=GALLERY_VERSION_PART_MAX,
)
