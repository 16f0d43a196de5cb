"""AWS platform: catalog section, AWSTOE renderer, pins and the EC2 Image Builder component."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from golden_images.core.image import ImageCore
from golden_images.core.naming import ssm_parameter_name
from golden_images.core.platform import Platform, Problems
from golden_images.core.tokens import AWS_GOLDEN_IMAGE
from golden_images.platforms.aws.spec import AwsSpec

if TYPE_CHECKING:
    from golden_images.core.build import ImageBuild

#: EC2 Image Builder semantic versions allow each part up to 2^30-1.
IMAGE_BUILDER_VERSION_PART_MAX = 2**30 - 1


def launch_reference(artifacts: Mapping[str, Any], build: ImageBuild, spec: AwsSpec) -> dict[str, Any]:
    """Region → ``resolve:ssm:<parameter>`` (what EC2 accepts as an image id), the parameter, and the AMI id
    when this stack's ``pulumi up`` baked it (``None`` otherwise)."""
    parameter = ssm_parameter_name(spec.ssm_parameter_prefix, build.environment, build.image.name)
    return {
        region: {
            "resolve": f"resolve:ssm:{parameter}",
            "ssm_parameter": parameter,
            # The component's artifact is the baked AMI when `up` built it, else "ssm:<parameter>".
            "ami_id": value if isinstance(value, str) and value.startswith("ami-") else None,
        }
        for region, value in artifacts.items()
    }


def render_checks(image: ImageCore, spec: AwsSpec, root: Path) -> Problems:
    """Limits only visible once the build document is rendered (Image Builder's 16,000-character data)."""
    from golden_images.core.steps import resolve_steps
    from golden_images.platforms.aws.awstoe import MAX_COMPONENT_DATA, render_component_document

    document = render_component_document(image, resolve_steps(image, root))
    if len(document) > MAX_COMPONENT_DATA:
        yield (
            "provision",
            f"the rendered AWSTOE document is {len(document)} characters; Image Builder accepts at most "
            f"{MAX_COMPONENT_DATA}. Move large scripts or files out of the image or split the image.",
        )


PLATFORM = Platform(
    name="aws",
    section=AwsSpec,
    token=AWS_GOLDEN_IMAGE,
    component="golden_images.platforms.aws.component:AwsGoldenImage",
    launch_reference=launch_reference,
    version_part_max=IMAGE_BUILDER_VERSION_PART_MAX,
    render_checks=render_checks,
)
