"""``GcpGoldenImage``: bake a catalog image on Cloud Build with Packer's ``googlecompute`` builder into a
CMEK-encrypted image family.

GCP has no managed image builder, so ``pulumi up`` sets up the pipeline and the bake runs asynchronously,
whenever a message reaches the bake topic (Cloud Scheduler on the spec's schedule, or an operator). Resources
(children named ``<name>-<role>``):

* ``build-sa`` / ``vm-sa`` (and ``scheduler-sa`` with a schedule): one service account per job, with exactly
  the roles in :mod:`golden_images.platforms.gcp.iam`; ``cloudbuild-acts-as-build`` lets the Cloud Build service agent
  run builds as ``build-sa``; ``build-acts-as-vm`` lets ``build-sa`` attach ``vm-sa`` to the build VM;
  ``build-subnet-user`` (Shared VPC only): ``build-sa`` may use the host project's subnetwork;
* ``cmek-compute-agent``: the Compute Engine service agent may use the CMEK key (kept on delete: other images
  of the project may rely on the same non-authoritative binding);
* ``bucket``: private (uniform access, public access prevention enforced), versioned, noncurrent versions
  deleted after 30 days; ``bucket-reader`` for ``build-sa`` only;
* ``object-<sha256 prefix>``: the Packer template and every step file, named by content;
* ``topic``: the bake topic; ``trigger``: a regional Pub/Sub-triggered Cloud Build trigger in the private
  pool whose inline build fetches, bakes and verifies (:mod:`golden_images.platforms.gcp.cloudbuild`);
* ``scheduler-publisher`` / ``schedule`` (with a schedule): a Cloud Scheduler job that publishes to the
  topic with its own OAuth identity.

Service-account emails, topic and account paths are deterministic in GCP, so they are written as strings
(with explicit ``depends_on``) rather than read from outputs: the offline preview then shows real values.
"""

from __future__ import annotations

import base64
import dataclasses
import json
from typing import NotRequired, TypedDict

import pulumi
from pulumi_gcp import cloudbuild, cloudscheduler, compute, kms, projects, pubsub, serviceaccount, storage

from golden_images.core.build import ImageBuild
from golden_images.core.tags import gcp_labels
from golden_images.core.tokens import GCP_GOLDEN_IMAGE
from golden_images.platforms.base import PlatformComponent
from golden_images.platforms.gcp import iam
from golden_images.platforms.gcp.cloudbuild import bucket_name, build_steps
from golden_images.platforms.gcp.packer import RenderedBuild, render_build
from golden_images.platforms.gcp.spec import GcpSourceImage, GcpSpec

_PLATFORM_SCOPE = "https://www.googleapis.com/auth/cloud-platform"


class GcpGoldenImageArgs(TypedDict):
    """Inputs of :class:`GcpGoldenImage`."""

    build: ImageBuild
    """The derived image build (spec, environment, canonical tags, resolved steps, fingerprint).
    Its ``image.gcp`` section must be set."""
    parent: NotRequired[GcpGoldenImage]
    """The golden parent's GCP component (required when ``gcp.parent`` names one): the Packer source is the
    image its bake writes (``image_name`` in its ``project``)."""


def consumer_lookup(project: str, family: str) -> str:
    """How consumers resolve the newest image of the family (Pulumi Python)."""
    return f"gcp.compute.get_image(family={family!r}, project={project!r})"


class GcpGoldenImage(PlatformComponent):
    """A Cloud Build + Packer pipeline that bakes one catalog image into a GCP image family."""

    artifacts: pulumi.Output[dict[str, str]]
    """``{project, family, image, resolve}``: the project, the image family, the expected image name
    ``<family>-<version>-<fingerprint>`` (present once a bake has run) and the lookup consumers use."""
    trigger: cloudbuild.Trigger
    """The Cloud Build trigger (a layered child's trigger depends on it)."""
    trigger_id: pulumi.Output[str]
    """Id of the Cloud Build trigger that bakes the image."""
    bucket: pulumi.Output[str]
    """Name of the build bucket holding the template and step files."""
    topic: str
    """Pub/Sub topic path; publishing any message to it starts a bake."""
    image_name: str
    """The image name the next bake produces (and skips if it exists)."""
    project: str
    """The project the image is written to (a layered child's source project)."""
    built_at: pulumi.Output[str] | None
    """Always ``None``: bakes run asynchronously in Cloud Build, not during ``pulumi up``."""
    encryption_level: str
    """``enforced``: the template sets ``image_encryption_key`` to the CMEK key, so Compute Engine encrypts
    the image with it or fails the bake; the build's verify step also reads the key back."""
    parent_reference: str
    """The source image (``projects/<p>/global/images/<name>``, or ``…/family/<f>`` outside prod)."""

    def __init__(
        self, name: str, args: GcpGoldenImageArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        build = args["build"]
        spec = build.section("gcp", GcpSpec)
        golden = args.get("parent")
        if spec.parent is not None:
            if golden is None:
                raise ValueError(
                    f"image {build.image.name!r} builds on {spec.parent.image!r}: pass its GCP component"
                )
            # Layered: the Packer source is the exact image the parent's bake writes, in the parent's project
            # (the child's name and fingerprint then follow from it like from any pinned source).
            spec = spec.model_copy(
                update={"source": GcpSourceImage(project=golden.project, image=golden.image_name)}
            )
            build = dataclasses.replace(build, image=build.image.model_copy(update={"gcp": spec}))
        image = build.image
        env = build.environment
        project = spec.project
        ids = {role: iam.account_id(role, image.name, env) for role in ("build", "vm", "scheduler")}
        emails = {role: iam.account_email(account, project) for role, account in ids.items()}
        rendered = render_build(
            image,
            build.steps,
            environment=env,
            tags=build.tags,
            image_fingerprint=build.fingerprint,
            vm_service_account=emails["vm"],
        )
        super().__init__(
            GCP_GOLDEN_IMAGE,
            name,
            build,
            {
                "environment": env,
                "project": project,
                "family": rendered.family,
                "expectedImage": rendered.image_name,
                "sourceImage": spec.source_image.reference,
                "parentImage": spec.source_image.reference,
                "kmsKey": spec.kms_key,
                # The Packer template sets the CMEK key on the image and the build verifies it afterwards.
                "encryption": "enforced",
            },
            opts,
            parent=golden,
        )
        child = self.child
        labels = gcp_labels(build.tags)
        topic_name = f"golden-{image.name}-{env}-bake"
        topic_path = f"projects/{project}/topics/{topic_name}"
        bucket = bucket_name(project, image.name, env)

        # --- Identities ------------------------------------------------------------------------------------
        accounts = {
            role: serviceaccount.Account(
                f"{name}-{role}-sa",
                serviceaccount.AccountArgs(
                    account_id=ids[role],
                    project=project,
                    display_name=f"golden-images {role}: {image.name} ({env})"[:100],
                    description=description,
                ),
                child,
            )
            for role, description in (
                ("build", "Runs the Cloud Build bake (Packer googlecompute) of this golden image."),
                ("vm", "Attached to the temporary Packer build VM; writes logs and metrics only."),
            )
        }

        def after(*deps: pulumi.Resource) -> pulumi.ResourceOptions:
            return pulumi.ResourceOptions(parent=self, depends_on=list(deps))

        grants: list[pulumi.Resource] = []
        for role_name, roles in (("build", iam.BUILD_PROJECT_ROLES), ("vm", iam.VM_PROJECT_ROLES)):
            for index, role in enumerate(roles):
                grants.append(
                    projects.IAMMember(
                        f"{name}-{role_name}-role-{index}",
                        projects.IAMMemberArgs(
                            project=project, role=role, member=f"serviceAccount:{emails[role_name]}"
                        ),
                        after(accounts[role_name]),
                    )
                )
        grants.append(
            serviceaccount.IAMMember(
                f"{name}-build-acts-as-vm",
                serviceaccount.IAMMemberArgs(
                    service_account_id=f"projects/{project}/serviceAccounts/{emails['vm']}",
                    role=iam.ACT_AS_ROLE,
                    member=f"serviceAccount:{emails['build']}",
                ),
                after(accounts["vm"], accounts["build"]),
            )
        )
        grants.append(
            serviceaccount.IAMMember(
                f"{name}-cloudbuild-acts-as-build",
                serviceaccount.IAMMemberArgs(
                    service_account_id=f"projects/{project}/serviceAccounts/{emails['build']}",
                    role=iam.ACT_AS_ROLE,
                    member=iam.cloud_build_service_agent(spec.project_number),
                ),
                after(accounts["build"]),
            )
        )
        if spec.shared_vpc:
            # Packer creates the build VM in this project on the host project's subnetwork: the caller needs
            # compute.subnetworks.use there, on this subnetwork only.
            grants.append(
                compute.SubnetworkIAMMember(
                    f"{name}-build-subnet-user",
                    compute.SubnetworkIAMMemberArgs(
                        project=spec.subnetwork_project,
                        region=spec.region,
                        subnetwork=spec.subnetwork_name,
                        role=iam.NETWORK_USER_ROLE,
                        member=f"serviceAccount:{emails['build']}",
                    ),
                    after(accounts["build"]),
                )
            )
        grants.append(
            kms.CryptoKeyIAMMember(
                f"{name}-cmek-compute-agent",
                kms.CryptoKeyIAMMemberArgs(
                    crypto_key_id=spec.kms_key,
                    role=iam.KMS_ROLE,
                    member=iam.compute_service_agent(spec.project_number),
                ),
                # The binding is non-authoritative and identical for every image using the key: deleting one
                # image's copy would revoke it for the others, so it is left in place on delete.
                pulumi.ResourceOptions(parent=self, retain_on_delete=True),
            )
        )

        # --- Build inputs: a private, versioned bucket of content-addressed objects ------------------------
        bucket_res = storage.Bucket(
            f"{name}-bucket",
            storage.BucketArgs(
                name=bucket,
                project=project,
                location=spec.region.upper(),
                uniform_bucket_level_access=True,
                public_access_prevention="enforced",
                versioning=storage.BucketVersioningArgs(enabled=True),
                lifecycle_rules=[
                    storage.BucketLifecycleRuleArgs(
                        action=storage.BucketLifecycleRuleActionArgs(type="Delete"),
                        condition=storage.BucketLifecycleRuleConditionArgs(
                            days_since_noncurrent_time=30, with_state="ARCHIVED"
                        ),
                    )
                ],
                # Only derived build inputs live here (re-rendered from the repository on every up).
                force_destroy=True,
                labels=labels,
            ),
            child,
        )
        grants.append(
            storage.BucketIAMMember(
                f"{name}-bucket-reader",
                storage.BucketIAMMemberArgs(
                    bucket=bucket_res.name,
                    role=iam.BUCKET_READER_ROLE,
                    member=f"serviceAccount:{emails['build']}",
                ),
                after(accounts["build"]),
            )
        )
        objects = [
            storage.BucketObject(
                f"{name}-object-{obj.sha256[:12]}",
                storage.BucketObjectArgs(
                    bucket=bucket_res.name,
                    name=obj.path,
                    # ``content`` rather than a StringAsset: the offline preview's policy harness cannot marshal
                    # assets held in mock outputs yet. The provider marks ``content`` secret; the object name
                    # (its sha256) still shows in every diff which files changed.
                    content=obj.content,
                    content_type=obj.content_type,
                    metadata={"sha256": obj.sha256, "role": obj.description[:256]},
                ),
                child,
            )
            for obj in rendered.objects
        ]

        # --- The bake: topic → trigger → Cloud Build (fetch, packer, verify) -------------------------------
        topic = pubsub.Topic(
            f"{name}-topic",
            pubsub.TopicArgs(
                name=topic_name, project=project, labels=labels, message_retention_duration="86400s"
            ),
            child,
        )
        trigger = cloudbuild.Trigger(
            f"{name}-trigger",
            self._trigger_args(spec, rendered, build, topic_path, emails["build"], bucket),
            # A layered image's trigger comes after its parent's (the parent bakes the image it starts from).
            after(topic, *objects, *grants, *([golden.trigger] if golden is not None else [])),
        )

        # --- Schedule ------------------------------------------------------------------------------------
        if spec.schedule is not None:
            scheduler_sa = serviceaccount.Account(
                f"{name}-scheduler-sa",
                serviceaccount.AccountArgs(
                    account_id=ids["scheduler"],
                    project=project,
                    display_name=f"golden-images scheduler: {image.name} ({env})"[:100],
                    description="Cloud Scheduler identity that publishes to this golden image's bake topic.",
                ),
                child,
            )
            publisher = pubsub.TopicIAMMember(
                f"{name}-scheduler-publisher",
                pubsub.TopicIAMMemberArgs(
                    project=project,
                    topic=topic.name,
                    role=iam.PUBLISHER_ROLE,
                    member=f"serviceAccount:{emails['scheduler']}",
                ),
                after(scheduler_sa),
            )
            message = base64.b64encode(f"scheduled bake of {image.name} {image.version}".encode()).decode()
            body = json.dumps({"messages": [{"data": message, "attributes": {"source": "cloud-scheduler"}}]})
            cloudscheduler.Job(
                f"{name}-schedule",
                cloudscheduler.JobArgs(
                    name=f"golden-{image.name}-{env}",
                    project=project,
                    region=spec.region,
                    description=f"Bake golden image {image.name} {image.version} ({env})",
                    schedule=spec.schedule.cron,
                    time_zone=spec.schedule.time_zone,
                    attempt_deadline="60s",
                    retry_config=cloudscheduler.JobRetryConfigArgs(retry_count=3),
                    http_target=cloudscheduler.JobHttpTargetArgs(
                        uri=f"https://pubsub.googleapis.com/v1/{topic_path}:publish",
                        http_method="POST",
                        headers={"Content-Type": "application/json"},
                        # The provider expects the HTTP body base64-encoded.
                        body=base64.b64encode(body.encode()).decode(),
                        oauth_token=cloudscheduler.JobHttpTargetOauthTokenArgs(
                            service_account_email=emails["scheduler"], scope=_PLATFORM_SCOPE
                        ),
                    ),
                ),
                after(publisher, trigger),
            )

        self.trigger = trigger
        self.trigger_id = trigger.trigger_id
        self.bucket = bucket_res.name
        self.topic = topic_path
        self.image_name = rendered.image_name
        self.project = project
        self.finish(
            {
                "project": project,
                "family": rendered.family,
                "image": rendered.image_name,
                "resolve": consumer_lookup(project, rendered.family),
            },
            encryption_level="enforced",
            parent_reference=spec.source_image.reference,
            outputs={"triggerId": self.trigger_id, "bucket": self.bucket, "topic": self.topic},
        )

    @staticmethod
    def _trigger_args(
        spec: GcpSpec,
        rendered: RenderedBuild,
        build: ImageBuild,
        topic_path: str,
        build_email: str,
        bucket: str,
    ) -> cloudbuild.TriggerArgs:
        image = build.image
        return cloudbuild.TriggerArgs(
            name=f"golden-{image.name}-{build.environment}",
            project=spec.project,
            # Private pools need a regional trigger in the pool's region.
            location=spec.region,
            description=f"Bake golden image {image.name} {image.version} as {rendered.image_name}",
            pubsub_config=cloudbuild.TriggerPubsubConfigArgs(topic=topic_path),
            service_account=f"projects/{spec.project}/serviceAccounts/{build_email}",
            tags=["golden-images", image.name, build.environment],
            build=cloudbuild.TriggerBuildArgs(
                steps=[
                    cloudbuild.TriggerBuildStepArgs(
                        id=step.id, name=step.image, script=step.script, envs=list(step.env) or None
                    )
                    for step in build_steps(spec, rendered, bucket)
                ],
                timeout=f"{spec.builder.timeout_minutes * 60}s",
                options=cloudbuild.TriggerBuildOptionsArgs(
                    # A user-specified service account needs an explicit logging choice.
                    logging="CLOUD_LOGGING_ONLY",
                    worker_pool=spec.worker_pool,
                ),
                tags=["golden-images", image.name, build.environment],
            ),
        )
