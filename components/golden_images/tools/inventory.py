"""Read one region: owned AMIs, their launch permissions, and what uses them (boto3, paginated).

This is the only module of audit/cleanup that talks to EC2 for reading. Calls per region:

- ``DescribeImages(Owners=[self])`` — paginated;
- ``DescribeInstances`` (every state but ``terminated``) — paginated; an instance's ``ImageId`` is a use;
- ``DescribeLaunchTemplates`` then ``DescribeLaunchTemplateVersions`` per template, *all* versions — a
  version number pinned by an Auto Scaling group keeps its AMI alive, so ``$Latest``/``$Default`` alone
  would be unsafe for cleanup;
- ``DescribeImageAttribute(launchPermission)`` per image, in a bounded thread pool (there is no batch API;
  only the audit needs it).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from golden_images.tools.facts import ImageFacts, image_facts

#: ``progress(region, done, total)``: called from worker threads as launch permissions arrive.
Progress = Callable[[str, int, int], None]
LIVE_INSTANCE_STATES = ("pending", "running", "shutting-down", "stopping", "stopped")
#: AWS's page-size maximum for the launch-template calls. moto truncates at ``MaxResults`` *without* a
#: ``NextToken``, so an explicit page size also keeps the local test server honest up to 200 templates.
_LT_PAGE = 200


@dataclass(frozen=True)
class RegionInventory:
    """Everything read from one region: the images and the raw usage map (image id → users)."""

    region: str
    images: tuple[ImageFacts, ...]
    usage: Mapping[str, tuple[str, ...]]


def owned_images(ec2: Any) -> list[dict[str, Any]]:
    """Every AMI the caller owns in the client's region (``DescribeImages``, paginated)."""
    images: list[dict[str, Any]] = []
    for page in ec2.get_paginator("describe_images").paginate(
        Owners=["self"], IncludeDeprecated=True, PaginationConfig={"PageSize": 1000}
    ):
        images.extend(page.get("Images", ()))
    return images


def image_usage(ec2: Any) -> dict[str, tuple[str, ...]]:
    """AMI id → what references it: live instance ids and ``<launch-template-id>:v<version>``."""
    users: dict[str, list[str]] = defaultdict(list)
    for page in ec2.get_paginator("describe_instances").paginate(
        Filters=[{"Name": "instance-state-name", "Values": list(LIVE_INSTANCE_STATES)}],
        PaginationConfig={"PageSize": 1000},
    ):
        for reservation in page.get("Reservations", ()):
            for instance in reservation.get("Instances", ()):
                image_id = instance.get("ImageId")
                if image_id:
                    users[image_id].append(str(instance.get("InstanceId")))
    template_ids: list[str] = []
    for page in ec2.get_paginator("describe_launch_templates").paginate(
        PaginationConfig={"PageSize": _LT_PAGE}
    ):
        template_ids.extend(t["LaunchTemplateId"] for t in page.get("LaunchTemplates", ()))
    versions = ec2.get_paginator("describe_launch_template_versions")
    for template_id in template_ids:
        for page in versions.paginate(LaunchTemplateId=template_id, PaginationConfig={"PageSize": _LT_PAGE}):
            for version in page.get("LaunchTemplateVersions", ()):
                image_id = (version.get("LaunchTemplateData") or {}).get("ImageId")
                # `resolve:ssm:` references are resolved at launch; they never pin one of our AMI ids.
                if isinstance(image_id, str) and image_id.startswith("ami-"):
                    users[image_id].append(f"{template_id}:v{version.get('VersionNumber')}")
    return {k: tuple(v) for k, v in users.items()}


def launch_permissions(ec2: Any, image_id: str) -> list[dict[str, Any]]:
    """The launch permissions of one image (``DescribeImageAttribute``)."""
    response = ec2.describe_image_attribute(ImageId=image_id, Attribute="launchPermission")
    return list(response.get("LaunchPermissions", ()))


def read_region(
    ec2: Any,
    region: str,
    *,
    with_launch_permissions: bool,
    workers: int = 8,
    progress: Progress | None = None,
) -> RegionInventory:
    """Read ``region`` with the client ``ec2``. Raises botocore errors; the caller decides what a failed
    region means (the drivers report it and let the other regions finish)."""
    raw = owned_images(ec2)
    usage = image_usage(ec2)
    perms: dict[str, list[dict[str, Any]]] = {}
    total = len(raw)
    if progress is not None:
        progress(region, 0, total)
    if with_launch_permissions and raw:
        ids = [str(image["ImageId"]) for image in raw]
        done = 0
        pool = ThreadPoolExecutor(max_workers=max(1, workers), thread_name_prefix=f"lp-{region}")
        try:
            # map() re-raises the first failure: a region whose permissions cannot be read is failed as a
            # whole rather than reported with silently missing sharing findings; the lookups not yet
            # started are cancelled (no point spending the throttled API budget on a failed region).
            for image_id, value in zip(ids, pool.map(lambda i: launch_permissions(ec2, i), ids), strict=True):
                perms[image_id] = value
                done += 1
                if progress is not None and (done % 50 == 0 or done == total):
                    progress(region, done, total)
        finally:
            pool.shutdown(wait=True, cancel_futures=True)
    elif progress is not None:
        progress(region, total, total)
    images = tuple(
        image_facts(
            image,
            region,
            usage=usage.get(str(image["ImageId"]), ()),
            launch_permissions=perms.get(str(image["ImageId"])) if with_launch_permissions else None,
        )
        for image in raw
    )
    return RegionInventory(region=region, images=images, usage=usage)
