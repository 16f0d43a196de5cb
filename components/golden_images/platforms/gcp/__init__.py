"""GCP platform: catalog section, Packer template, Cloud Build and the image-family component."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from golden_images.core.platform import Platform
from golden_images.core.tokens import GCP_GOLDEN_IMAGE
from golden_images.platforms.gcp.spec import GcpSpec

if TYPE_CHECKING:
    from golden_images.core.build import ImageBuild

#: Compute Engine API base: instance templates and ``instances.insert`` accept these self links as is.
GCP_COMPUTE_API = "https://www.googleapis.com/compute/v1"


def launch_reference(artifacts: Mapping[str, Any], build: ImageBuild, spec: GcpSpec) -> dict[str, Any]:
    """The image project and family, the family's self link (its newest image) and this build's image."""
    project, family = artifacts["project"], artifacts["family"]
    return {
        "project": project,
        "family": family,
        "family_self_link": f"{GCP_COMPUTE_API}/projects/{project}/global/images/family/{family}",
        # Content-named: the image this fingerprint's Cloud Build run writes into the family.
        "image_self_link": f"{GCP_COMPUTE_API}/projects/{project}/global/images/{artifacts['image']}",
    }


PLATFORM = Platform(
    name="gcp",
    section=GcpSpec,
    token=GCP_GOLDEN_IMAGE,
    component="golden_images.platforms.gcp.component:GcpGoldenImage",
    launch_reference=launch_reference,
)
