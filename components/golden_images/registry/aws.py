"""Find the AMIs EC2 Image Builder built for one image version of one environment.

Provenance, not labels: an AMI counts only when its ``Ec2ImageBuilderArn`` tag (which Image Builder itself
sets on every AMI it distributes) names an image of this project's recipe for that image and environment —
``<image>-<env>-<fingerprint prefix>`` (:func:`golden_images.core.naming.builder_name` on the stem
``<image>-<env>``) at exactly that version — *and* our tags agree (``managed-by``, ``golden-image``,
``environment``, ``image-version``, and ``fingerprint``, the image fingerprint the distribution stamps).
Anyone can tag an AMI; only Image Builder output from our recipe carries both.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Final

from golden_images.core.fingerprint import SHORT
from golden_images.core.rules import MANAGED_BY

#: ``arn:<partition>:imagebuilder:<region>:<account>:image/<recipe>/<version>/<build>``.
IMAGE_ARN: Final = re.compile(
    r"^arn:aws[a-z-]*:imagebuilder:(?P<region>[a-z0-9-]+):(?P<account>\d{12}):image/"
    r"(?P<recipe>[a-z0-9-]+)/(?P<version>\d+\.\d+\.\d+)/(?P<build>\d+)$"
)
#: Length of the fingerprint the distribution writes into the ``fingerprint`` AMI tag.
TAG_FINGERPRINT_CHARS: Final = 32


@dataclass(frozen=True)
class FoundAmi:
    """One AMI with Image Builder provenance for our recipe."""

    image_id: str
    region: str
    creation_date: str
    arn: str


def recipe_matches(arn: str, *, image: str, environment: str, version: str, region: str) -> bool:
    """True when ``arn`` is an Image Builder image of recipe ``<image>-<environment>-<hex prefix>`` at
    ``version`` (built in any region: distribution copies keep the build region's ARN)."""
    match = IMAGE_ARN.fullmatch(arn)
    if match is None or match["version"] != version:
        return False
    recipe = re.fullmatch(
        rf"{re.escape(image)}-{re.escape(environment)}-(?P<fp>[0-9a-f]{{{SHORT}}})", match["recipe"]
    )
    return recipe is not None


def _tags(image: dict[str, Any]) -> dict[str, str]:
    return {t["Key"]: t["Value"] for t in image.get("Tags") or ()}


def find_amis(
    ec2: Any, *, region: str, image: str, environment: str, version: str, fingerprint: str
) -> list[FoundAmi]:
    """AMIs owned by this account in ``region`` built by our recipe for ``image`` ``version`` in
    ``environment`` with content ``fingerprint``, newest first."""
    filters = [
        {"Name": "tag:golden-image", "Values": [image]},
        {"Name": "tag:environment", "Values": [environment]},
        {"Name": "tag:image-version", "Values": [version]},
        {"Name": "tag:managed-by", "Values": [MANAGED_BY]},
        {"Name": "tag-key", "Values": ["Ec2ImageBuilderArn"]},
    ]
    found: list[FoundAmi] = []
    for page in ec2.get_paginator("describe_images").paginate(Owners=["self"], Filters=filters):
        for candidate in page.get("Images", ()):
            found.extend(_judge(candidate, region, image, environment, version, fingerprint))
    return sorted(found, key=lambda a: (a.creation_date, a.image_id), reverse=True)


def _judge(
    candidate: dict[str, Any], region: str, image: str, environment: str, version: str, fingerprint: str
) -> Iterable[FoundAmi]:
    tags = _tags(candidate)
    # The server-side filters are a shortcut; every condition is checked again here.
    expected = {
        "golden-image": image,
        "environment": environment,
        "image-version": version,
        "managed-by": MANAGED_BY,
        "fingerprint": fingerprint[:TAG_FINGERPRINT_CHARS],
    }
    if any(tags.get(k) != v for k, v in expected.items()):
        return
    arn = tags.get("Ec2ImageBuilderArn", "")
    if not recipe_matches(arn, image=image, environment=environment, version=version, region=region):
        return
    yield FoundAmi(str(candidate["ImageId"]), region, str(candidate.get("CreationDate", "")), arn)
