"""Read one region: owned AMIs, their provenance, their launch permissions, and everything that uses them.

This is the only module of audit/cleanup that talks to AWS for reading. Calls per region:

- ``DescribeImages(Owners=[self])`` — paginated; ``Public`` and ``DeregistrationProtection`` come with it;
- what uses an AMI (:func:`image_usage`), every source named in the usage entry it produces:

  - ``DescribeInstances``, instances in *any* state (a stopped instance needs its AMI to be rebuilt from;
    a terminated one is listed for about an hour and costs nothing to respect) — ``i-…``;
  - ``DescribeLaunchTemplates`` then ``DescribeLaunchTemplateVersions`` per template, *all* versions (an
    Auto Scaling group may pin any version number) — ``lt-…:v3``; an ``ImageId`` of the form
    ``resolve:ssm:<parameter>`` is resolved with ``GetParameter`` — ``lt-…:v3 (resolve:ssm:/p)``;
  - ``DescribeLaunchConfigurations`` and ``DescribeAutoScalingGroups`` — ``lc:<name> (asg <names>)``;
  - ``GetParametersByPath(/, recursive)`` — any SSM parameter whose value is the AMI id — ``ssm:/p``;
  - ``ListImageRecipes(owner=Self)`` + ``GetImageRecipe`` — a recipe whose parent is the AMI —
    ``recipe:<name>/<version>``;
  - ``DescribeSpotFleetRequests`` and ``DescribeFleets`` — *where readable*: an error there is recorded in
    :attr:`RegionInventory.gaps` instead of failing the region (fleets mostly reference launch templates,
    already covered);

  Every other error propagates: the caller fails the region rather than act on a partial view.
- ``GetImage`` once per distinct ``Ec2ImageBuilderArn`` an AMI claims (provenance, see
  :mod:`golden_images.tools.facts`); when Image Builder does not answer, the reason is in ``gaps``;
- ``DescribeImageAttribute(launchPermission)`` per image, in a bounded thread pool (there is no batch API);
- audit only: ``DescribeSnapshots(OwnerIds=[self])`` (KMS key per snapshot), ``DescribeKey`` once per key
  (``KeyManager``), ``DescribeSnapshotAttribute(createVolumePermission)`` per snapshot of an owned AMI.
"""

from __future__ import annotations

import threading
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from typing import Any, TypeVar

from golden_images.tools.aws import AWS_ERRORS, ClientFactory, error_code, error_text
from golden_images.tools.facts import (
    ImageFacts,
    Provenance,
    claimed_provenance,
    confirm_provenance,
    image_facts,
    tag_map,
)

#: ``progress(region, done, total)``: called from worker threads as launch permissions arrive.
Progress = Callable[[str, int, int], None]
#: AWS's page-size maximum for the launch-template calls. moto truncates at ``MaxResults`` *without* a
#: ``NextToken``, so an explicit page size also keeps the local test server honest up to 200 templates.
_LT_PAGE = 200
#: Usage sources whose read errors are tolerated (recorded in ``gaps``): "where readable".
OPTIONAL_SOURCES = ("spot-fleet-requests", "ec2-fleets")
#: The ``gaps`` key of an unanswered Image Builder (provenance falls back to the tag; cleanup refuses).
IMAGE_BUILDER_GAP = "image-builder"
_SSM_PREFIX = "resolve:ssm:"
_T = TypeVar("_T")
_R = TypeVar("_R")


@dataclass(frozen=True)
class RegionInventory:
    """Everything read from one region: the images, the raw usage map (image id → users) and the sources
    that could not be read (``gaps``: source → error)."""

    region: str
    images: tuple[ImageFacts, ...]
    usage: Mapping[str, tuple[str, ...]]
    gaps: Mapping[str, str] = field(default_factory=dict)


def owned_images(ec2: Any) -> list[dict[str, Any]]:
    """Every AMI the caller owns in the client's region (``DescribeImages``, paginated)."""
    images: list[dict[str, Any]] = []
    for page in ec2.get_paginator("describe_images").paginate(
        Owners=["self"], IncludeDeprecated=True, PaginationConfig={"PageSize": 1000}
    ):
        images.extend(page.get("Images", ()))
    return images


def _instances(ec2: Any, users: dict[str, list[str]]) -> None:
    for page in ec2.get_paginator("describe_instances").paginate(PaginationConfig={"PageSize": 1000}):
        for reservation in page.get("Reservations", ()):
            for instance in reservation.get("Instances", ()):
                image_id = instance.get("ImageId")
                if image_id:
                    state = (instance.get("State") or {}).get("Name", "?")
                    users[image_id].append(f"{instance.get('InstanceId')} ({state})")


def _resolve_ssm(ssm: Any, reference: str, cache: dict[str, str | None]) -> str | None:
    """The value of ``resolve:ssm:<name[:version|:label]>`` (``None`` when the parameter does not exist:
    such a template cannot launch, so it pins nothing)."""
    name = reference[len(_SSM_PREFIX) :]
    if name not in cache:
        try:
            cache[name] = str(ssm.get_parameter(Name=name)["Parameter"]["Value"])
        except AWS_ERRORS as exc:
            if error_code(exc) not in ("ParameterNotFound", "ParameterVersionNotFound"):
                raise
            cache[name] = None
    return cache[name]


def _launch_templates(ec2: Any, ssm: Any, users: dict[str, list[str]]) -> None:
    template_ids: list[str] = []
    for page in ec2.get_paginator("describe_launch_templates").paginate(
        PaginationConfig={"PageSize": _LT_PAGE}
    ):
        template_ids.extend(t["LaunchTemplateId"] for t in page.get("LaunchTemplates", ()))
    versions = ec2.get_paginator("describe_launch_template_versions")
    resolved: dict[str, str | None] = {}
    for template_id in template_ids:
        for page in versions.paginate(LaunchTemplateId=template_id, PaginationConfig={"PageSize": _LT_PAGE}):
            for version in page.get("LaunchTemplateVersions", ()):
                image_id = (version.get("LaunchTemplateData") or {}).get("ImageId")
                if not isinstance(image_id, str):
                    continue
                label = f"{template_id}:v{version.get('VersionNumber')}"
                if image_id.startswith(_SSM_PREFIX):
                    # Resolved at every launch: the AMI the parameter holds *now* is in use.
                    value = _resolve_ssm(ssm, image_id, resolved)
                    if value:
                        users[value].append(f"{label} ({image_id})")
                elif image_id.startswith("ami-"):
                    users[image_id].append(label)


def _autoscaling(autoscaling: Any, users: dict[str, list[str]]) -> None:
    groups: dict[str, list[str]] = defaultdict(list)
    for page in autoscaling.get_paginator("describe_auto_scaling_groups").paginate():
        for group in page.get("AutoScalingGroups", ()):
            if group.get("LaunchConfigurationName"):
                groups[group["LaunchConfigurationName"]].append(group["AutoScalingGroupName"])
    for page in autoscaling.get_paginator("describe_launch_configurations").paginate():
        for config in page.get("LaunchConfigurations", ()):
            image_id = config.get("ImageId")
            if image_id:
                name = config["LaunchConfigurationName"]
                asgs = groups.get(name)
                users[image_id].append(f"lc:{name}" + (f" (asg {', '.join(sorted(asgs))})" if asgs else ""))


def _parameters(ssm: Any, image_ids: set[str], users: dict[str, list[str]]) -> None:
    for page in ssm.get_paginator("get_parameters_by_path").paginate(Path="/", Recursive=True):
        for parameter in page.get("Parameters", ()):
            value = parameter.get("Value")
            if value in image_ids:
                users[value].append(f"ssm:{parameter['Name']}")


def _recipes(imagebuilder: Any, users: dict[str, list[str]]) -> None:
    arns: list[str] = []
    for page in imagebuilder.get_paginator("list_image_recipes").paginate(owner="Self"):
        arns.extend(r["arn"] for r in page.get("imageRecipeSummaryList", ()))
    for arn in arns:
        recipe = imagebuilder.get_image_recipe(imageRecipeArn=arn).get("imageRecipe") or {}
        parent = recipe.get("parentImage")
        if isinstance(parent, str) and parent.startswith("ami-"):
            users[parent].append(f"recipe:{recipe.get('name')}/{recipe.get('version')}")


def _fleets(ec2: Any, users: dict[str, list[str]], gaps: dict[str, str]) -> None:
    try:
        for page in ec2.get_paginator("describe_spot_fleet_requests").paginate():
            for request in page.get("SpotFleetRequestConfigs", ()):
                if str(request.get("SpotFleetRequestState", "")).startswith("cancelled"):
                    continue
                config = request.get("SpotFleetRequestConfig") or {}
                for spec in config.get("LaunchSpecifications") or ():
                    if spec.get("ImageId"):
                        users[spec["ImageId"]].append(f"spot-fleet:{request.get('SpotFleetRequestId')}")
    except AWS_ERRORS as exc:
        gaps["spot-fleet-requests"] = error_text(exc)
    try:
        for page in ec2.get_paginator("describe_fleets").paginate():
            for fleet in page.get("Fleets", ()):
                if str(fleet.get("FleetState", "")).startswith("deleted"):
                    continue
                for config in fleet.get("LaunchTemplateConfigs") or ():
                    for override in config.get("Overrides") or ():
                        if override.get("ImageId"):
                            users[override["ImageId"]].append(f"fleet:{fleet.get('FleetId')}")
    except AWS_ERRORS as exc:
        gaps["ec2-fleets"] = error_text(exc)


def image_usage(
    ec2: Any,
    *,
    ssm: Any = None,
    autoscaling: Any = None,
    imagebuilder: Any = None,
    image_ids: Iterable[str] = (),
    gaps: dict[str, str] | None = None,
) -> dict[str, tuple[str, ...]]:
    """AMI id → what references it (see the module docstring for the sources and labels). Sources whose
    client is ``None`` are skipped; errors of the optional sources go into ``gaps``, others propagate."""
    users: dict[str, list[str]] = defaultdict(list)
    gaps = gaps if gaps is not None else {}
    _instances(ec2, users)
    _launch_templates(ec2, ssm, users)
    if autoscaling is not None:
        _autoscaling(autoscaling, users)
    if ssm is not None:
        _parameters(ssm, set(image_ids), users)
    if imagebuilder is not None:
        _recipes(imagebuilder, users)
    _fleets(ec2, users, gaps)
    return {k: tuple(dict.fromkeys(v)) for k, v in users.items()}


def launch_permissions(ec2: Any, image_id: str) -> list[dict[str, Any]]:
    """The launch permissions of one image (``DescribeImageAttribute``)."""
    response = ec2.describe_image_attribute(ImageId=image_id, Attribute="launchPermission")
    return list(response.get("LaunchPermissions", ()))


def provenance_of(
    imagebuilder: Callable[[str], Any], raw: Iterable[Mapping[str, Any]], region: str, gaps: dict[str, str]
) -> dict[str, Provenance]:
    """Image id → proven provenance: the tag claim, confirmed by ``GetImage`` (once per ARN).
    ``imagebuilder(region)`` gives the client of the ARN's own region: an AMI distributed to another region
    carries the build region's image ARN, and Image Builder resources are regional."""
    answers: dict[str, tuple[list[Mapping[str, Any]] | None, str | None, bool]] = {}
    out: dict[str, Provenance] = {}
    for image in raw:
        image_id = str(image["ImageId"])
        claimed = claimed_provenance(tag_map(image.get("Tags")), str(image.get("OwnerId") or ""))
        if not claimed.proven or claimed.arn is None:
            out[image_id] = claimed
            continue
        if claimed.arn not in answers:
            try:
                arn_region = claimed.arn.split(":")[3]
                response = imagebuilder(arn_region).get_image(imageBuildVersionArn=claimed.arn)
                amis = ((response.get("image") or {}).get("outputResources") or {}).get("amis") or []
                answers[claimed.arn] = (list(amis), None, False)
            except AWS_ERRORS as exc:
                not_found = error_code(exc) == "ResourceNotFoundException"
                answers[claimed.arn] = (None, error_text(exc), not_found)
                if not not_found:
                    gaps.setdefault(IMAGE_BUILDER_GAP, error_text(exc))
        outputs, error, not_found = answers[claimed.arn]
        out[image_id] = confirm_provenance(
            claimed, image_id, region, outputs=outputs, error=error, not_found=not_found
        )
    return out


def _pool_map(fn: Callable[[_T], _R], items: list[_T], workers: int, name: str) -> list[_R]:
    pool = ThreadPoolExecutor(max_workers=max(1, workers), thread_name_prefix=name)
    try:
        # A failure re-raises here and the lookups not yet started are cancelled (no point spending the
        # throttled API budget on a region that is failed anyway).
        return list(pool.map(fn, items))
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


def snapshot_exposure(
    ec2: Any, kms: Any, snapshot_ids: Iterable[str], owner_id: str, workers: int
) -> tuple[dict[str, tuple[str, ...]], set[str]]:
    """Audit only: snapshot → ``createVolumePermission`` targets other than the owner (``all`` = public),
    and the snapshots encrypted with an AWS-managed KMS key (``DescribeKey`` ``KeyManager == AWS``)."""
    wanted = set(snapshot_ids)
    keys: dict[str, list[str]] = defaultdict(list)
    for page in ec2.get_paginator("describe_snapshots").paginate(
        OwnerIds=["self"], PaginationConfig={"PageSize": 1000}
    ):
        for snapshot in page.get("Snapshots", ()):
            if snapshot["SnapshotId"] in wanted and snapshot.get("KmsKeyId"):
                keys[str(snapshot["KmsKeyId"])].append(snapshot["SnapshotId"])
    aws_managed: set[str] = set()
    for key, snaps in keys.items():
        if kms.describe_key(KeyId=key)["KeyMetadata"].get("KeyManager") == "AWS":
            aws_managed.update(snaps)

    def shares(snapshot_id: str) -> tuple[str, tuple[str, ...]]:
        response = ec2.describe_snapshot_attribute(SnapshotId=snapshot_id, Attribute="createVolumePermission")
        targets = {
            p.get("UserId") or p.get("Group") or "?"
            for p in response.get("CreateVolumePermissions", ())
            if p.get("UserId") != owner_id
        }
        return snapshot_id, tuple(sorted(targets))

    exposed = {s: t for s, t in _pool_map(shares, sorted(wanted), workers, "cvp") if t}
    return exposed, aws_managed


def read_region(
    factory: ClientFactory,
    region: str,
    *,
    with_launch_permissions: bool = True,
    with_snapshots: bool = False,
    workers: int = 8,
    progress: Progress | None = None,
) -> RegionInventory:
    """Read ``region``. Raises botocore errors (:data:`~golden_images.tools.aws.AWS_ERRORS`); the caller
    decides what a failed region means (the drivers report it and let the other regions finish). An
    unanswered Image Builder is not raised: it is recorded under :data:`IMAGE_BUILDER_GAP` (the recipe
    check is then skipped, so cleanup must refuse the region)."""
    ec2 = factory.client("ec2", region)
    imagebuilder = factory.client("imagebuilder", region)
    gaps: dict[str, str] = {}
    raw = owned_images(ec2)
    ids = [str(image["ImageId"]) for image in raw]
    usage = image_usage(
        ec2,
        ssm=factory.client("ssm", region),
        autoscaling=factory.client("autoscaling", region),
        image_ids=ids,
        gaps=gaps,
    )
    recipe_users: dict[str, list[str]] = defaultdict(list)
    try:
        _recipes(imagebuilder, recipe_users)
    except AWS_ERRORS as exc:
        gaps[IMAGE_BUILDER_GAP] = error_text(exc)
    merged = {k: list(v) for k, v in usage.items()}
    for image_id, users in recipe_users.items():
        merged.setdefault(image_id, []).extend(users)
    usage = {k: tuple(v) for k, v in merged.items()}
    provenance = provenance_of(lambda r: factory.client("imagebuilder", r), raw, region, gaps)
    perms: dict[str, list[dict[str, Any]]] = {}
    total = len(raw)
    if progress is not None:
        progress(region, 0, total)
    if with_launch_permissions and raw:
        done = [0]
        lock = threading.Lock()

        def one(image_id: str) -> list[dict[str, Any]]:
            value = launch_permissions(ec2, image_id)
            with lock:
                done[0] += 1
                count = done[0]
            if progress is not None and (count % 50 == 0 or count == total):
                progress(region, count, total)
            return value

        perms = dict(zip(ids, _pool_map(one, ids, workers, f"lp-{region}"), strict=True))
    elif progress is not None:
        progress(region, total, total)
    images = [
        image_facts(
            image,
            region,
            usage=usage.get(str(image["ImageId"]), ()),
            launch_permissions=perms.get(str(image["ImageId"])) if with_launch_permissions else None,
            provenance=provenance[str(image["ImageId"])],
        )
        for image in raw
    ]
    if with_snapshots and images:
        owner = images[0].owner_id
        snaps = {s for i in images for s in i.snapshot_ids}
        exposed, aws_managed = snapshot_exposure(ec2, factory.client("kms", region), snaps, owner, workers)
        images = [
            replace(
                i,
                snapshot_shares={s: exposed[s] for s in i.snapshot_ids if s in exposed},
                aws_managed_key_snapshots=tuple(s for s in i.snapshot_ids if s in aws_managed),
            )
            for i in images
        ]
    return RegionInventory(region=region, images=tuple(images), usage=usage, gaps=gaps)
