"""``AwsGoldenImage``: bake a catalog image with EC2 Image Builder and distribute it, encrypted, per region.

Resources (children named ``<name>-<role>``):

* ``instance-role`` / ``instance-profile`` with exactly the policies in :mod:`golden_images.platforms.aws.policies`;
* ``component``: the AWSTOE document (build/validate/test) encrypted with the build region's CMK, named
  ``<image>-<env>-<fingerprint>`` so a content change creates a new component instead of failing with
  "already exists"; ``skip_destroy`` keeps old versions for recipes and images that still reference them
  (the lifecycle policy and ``golden-images cleanup`` retire them);
* ``recipe``: pinned parent, explicit gp3 root volume ``encrypted: "true"`` with the CMK, same naming rule;
* ``infrastructure``: IMDSv2 required, terminate on failure, instance types, optional subnet/SGs/SNS;
* ``distribution``: every region with its own CMK, AMI tags, launch permissions only to configured targets,
  and the new AMI id written to an SSM parameter in each region;
* ``pipeline``: schedule (start condition :attr:`AwsSpec.start_condition`: on every cron match for pinned
  parents), image tests and Inspector scanning on;
* ``lifecycle-role`` / ``lifecycle``: selects this image's recipe; deprecates its AMIs after N days and
  deletes AMIs and snapshots beyond the newest N;
* ``image`` (only with ``bake_on_up``): one build now, with a create timeout sized for long builds.
"""

from __future__ import annotations

from typing import Any, NotRequired, TypedDict

import pulumi
import pulumi_aws as aws

from golden_images.core.build import ImageBuild
from golden_images.core.fingerprint import digest, platform_fingerprint
from golden_images.core.naming import ami_name, builder_name, ssm_parameter_name
from golden_images.core.tags import aws_tags
from golden_images.core.tokens import AWS_GOLDEN_IMAGE
from golden_images.platforms.aws import policies
from golden_images.platforms.aws.awstoe import render_component_document
from golden_images.platforms.aws.spec import AwsSpec
from golden_images.platforms.base import PlatformComponent

_ROOT_DEVICE = {"ubuntu": "/dev/sda1", "debian": "/dev/xvda", "amazon-linux": "/dev/xvda"}


class AwsGoldenImageArgs(TypedDict):
    """Inputs of :class:`AwsGoldenImage`."""

    build: ImageBuild
    """The derived image build (spec, environment, canonical tags, resolved steps, fingerprint, pins).
    Its ``image.aws`` section must be set."""
    parent: NotRequired[AwsGoldenImage]
    """The golden parent's AWS component (required when ``aws.parent.image`` names one): the recipe's parent
    is its Image Builder image and this pipeline depends on its pipeline."""


def image_arn(recipe_arn: str) -> str:
    """The Image Builder image ARN a recipe's builds produce, at the recipe's version
    (``…:image-recipe/<name>/<version>`` → ``…:image/<name>/<version>``): as a recipe's parent it selects the
    newest build of that version, and a new build is a dependency update for the child's pipeline."""
    return recipe_arn.replace(":image-recipe/", ":image/", 1)


def resolve_parent(build: ImageBuild, spec: AwsSpec) -> str:
    """The recipe's ``parentImage``: the AMI id or Image Builder ARN as given, the pinned AMI of an SSM
    parameter in the build region, or ``ssm:<parameter>`` when it is not pinned (allowed outside prod only;
    the catalog refuses it in prod). A golden parent is named ``<image>@<version>`` (the component wires
    its Image Builder image ARN)."""
    parent = spec.parent
    if parent.image is not None:
        golden = build.parent
        return f"{golden.image.name}@{golden.image.version}" if golden is not None else parent.image
    if parent.ami is not None:
        return parent.ami
    if parent.image_builder_arn is not None:
        return parent.image_builder_arn
    assert parent.ssm_parameter is not None
    pin = build.pins.lookup(parent.ssm_parameter, spec.build_region)
    return pin.ami if pin is not None else f"ssm:{parent.ssm_parameter}"


def root_device_name(build: ImageBuild, spec: AwsSpec) -> str:
    """Root device of the parent: ``root_device_name`` if set, else by OS family (Ubuntu ``/dev/sda1``,
    others ``/dev/xvda``)."""
    return spec.root_device_name or _ROOT_DEVICE.get(build.image.os.family, "/dev/xvda")


class AwsGoldenImage(PlatformComponent):
    """An EC2 Image Builder pipeline (and optionally one build) for one catalog image."""

    artifacts: pulumi.Output[dict[str, str]]
    """Region → ``ami-…`` (when baked by ``pulumi up``) or ``ssm:<parameter>`` holding the newest AMI id."""
    pipeline_arn: pulumi.Output[str]
    """ARN of the Image Builder pipeline."""
    recipe_arn: pulumi.Output[str]
    """ARN of the image recipe."""
    built_at: pulumi.Output[str] | None
    """Creation date of the one-shot build, ``None`` without ``bake_on_up``."""
    encryption_level: str
    """``enforced``: every region's AMI is encrypted by Image Builder with the customer key we set."""
    parent_reference: str
    """The pinned parent image reference used by the recipe (``<image>@<version>`` for a golden parent)."""
    pipeline: aws.imagebuilder.ImagePipeline
    """The Image Builder pipeline (a layered child's pipeline depends on it)."""
    baked: aws.imagebuilder.Image | None
    """The one-shot build of ``bake_on_up`` (``None`` without it); a layered child's build waits for it."""

    def __init__(
        self, name: str, args: AwsGoldenImageArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        build = args["build"]
        image = build.image
        spec = build.section("aws", AwsSpec)
        golden = args.get("parent")
        if spec.parent.image is not None and golden is None:
            raise ValueError(f"image {image.name!r} builds on {spec.parent.image!r}: pass its AWS component")
        parent_ref = resolve_parent(build, spec)
        # A golden parent is the parent component's Image Builder image, known once its recipe is registered.
        parent_image: pulumi.Input[str] = (
            golden.recipe_arn.apply(image_arn) if golden is not None else parent_ref
        )
        super().__init__(
            AWS_GOLDEN_IMAGE,
            name,
            build,
            {
                "regions": list(spec.regions),
                "parentImage": parent_image,
                # Fixed for AWS: the distribution sets a customer key in every region (the catalog requires it).
                "encryption": "enforced",
            },
            opts,
            parent=golden,
        )
        child = self.child
        env = build.environment
        region = spec.build_region
        tags = aws_tags(build.tags)
        build_key = spec.kms_keys[region]
        document = render_component_document(image, build.steps)
        component_fp = platform_fingerprint(
            build.fingerprint, "aws-component", {"document": digest(document), "key": build_key}
        )
        recipe_fp = platform_fingerprint(
            component_fp,
            "aws-recipe",
            {
                "parent": parent_ref,
                "device": root_device_name(build, spec),
                "size": spec.volume_size_gb,
                "key": build_key,
            },
        )
        stem = f"{image.name}-{env}"
        recipe_name = builder_name(stem, recipe_fp)

        # --- IAM: the build instance's role and profile, nothing broader than documented -------------------
        role = aws.iam.Role(
            f"{name}-instance-role",
            aws.iam.RoleArgs(
                assume_role_policy=policies.assume_role_policy("ec2.amazonaws.com"),
                description=f"Image Builder build instances of golden image {image.name} ({env})",
                tags=tags,
            ),
            child,
        )
        for index, arn in enumerate(policies.MANAGED_INSTANCE_POLICIES):
            aws.iam.RolePolicyAttachment(
                f"{name}-instance-policy-{index}",
                aws.iam.RolePolicyAttachmentArgs(role=role.name, policy_arn=arn),
                child,
            )
        aws.iam.RolePolicy(
            f"{name}-instance-kms",
            aws.iam.RolePolicyArgs(role=role.id, policy=policies.component_key_policy(build_key)),
            child,
        )
        profile = aws.iam.InstanceProfile(
            f"{name}-instance-profile", aws.iam.InstanceProfileArgs(role=role.name, tags=tags), child
        )

        # --- Immutable build definitions, named by content ----------------------------------------------
        component = aws.imagebuilder.Component(
            f"{name}-component",
            aws.imagebuilder.ComponentArgs(
                name=builder_name(stem, component_fp),
                version=image.version,
                platform="Linux",
                data=document,
                kms_key_id=build_key,
                description=f"{image.description} (golden-images {image.version})",
                change_description=f"fingerprint {build.fingerprint}",
                skip_destroy=True,
                region=region,
                tags=tags,
            ),
            child,
        )
        recipe = aws.imagebuilder.ImageRecipe(
            f"{name}-recipe",
            aws.imagebuilder.ImageRecipeArgs(
                name=recipe_name,
                version=image.version,
                parent_image=parent_image,
                components=[aws.imagebuilder.ImageRecipeComponentArgs(component_arn=component.arn)],
                block_device_mappings=[
                    aws.imagebuilder.ImageRecipeBlockDeviceMappingArgs(
                        device_name=root_device_name(build, spec),
                        ebs=aws.imagebuilder.ImageRecipeBlockDeviceMappingEbsArgs(
                            # A string on purpose: the API field is a string, and leaving it out
                            # inherits the parent snapshot's setting (often unencrypted).
                            encrypted="true",
                            kms_key_id=build_key,
                            volume_type="gp3",
                            volume_size=spec.volume_size_gb,
                            delete_on_termination="true",
                        ),
                    )
                ],
                description=image.description,
                region=region,
                tags=tags,
            ),
            child,
        )

        # --- Where and how builds run ----------------------------------------------------------------------
        infrastructure = aws.imagebuilder.InfrastructureConfiguration(
            f"{name}-infrastructure",
            aws.imagebuilder.InfrastructureConfigurationArgs(
                name=f"golden-{stem}",
                instance_profile_name=profile.name,
                instance_types=list(spec.instance_types),
                instance_metadata_options=aws.imagebuilder.InfrastructureConfigurationInstanceMetadataOptionsArgs(
                    http_tokens="required", http_put_response_hop_limit=2
                ),
                terminate_instance_on_failure=True,
                subnet_id=spec.subnet_id,
                security_group_ids=list(spec.security_group_ids) or None,
                sns_topic_arn=spec.sns_topic_arn,
                resource_tags=tags,
                description=f"Build instances of golden image {image.name} ({env})",
                region=region,
                tags=tags,
            ),
            child,
        )
        ssm_name = ssm_parameter_name(spec.ssm_parameter_prefix, env, image.name)
        distribution = aws.imagebuilder.DistributionConfiguration(
            f"{name}-distribution",
            aws.imagebuilder.DistributionConfigurationArgs(
                name=f"golden-{stem}",
                description=f"Encrypted distribution of golden image {image.name} ({env})",
                distributions=[self._distribution(build, spec, r, ssm_name, tags) for r in spec.regions],
                region=region,
                tags=tags,
            ),
            child,
        )
        schedule = spec.schedule
        pipeline = aws.imagebuilder.ImagePipeline(
            f"{name}-pipeline",
            aws.imagebuilder.ImagePipelineArgs(
                name=f"golden-{stem}",
                description=f"Golden image {image.name} {image.version} ({env})",
                image_recipe_arn=recipe.arn,
                infrastructure_configuration_arn=infrastructure.arn,
                distribution_configuration_arn=distribution.arn,
                schedule=aws.imagebuilder.ImagePipelineScheduleArgs(
                    schedule_expression=schedule.cron,
                    timezone=schedule.timezone,
                    pipeline_execution_start_condition=spec.start_condition,
                )
                if schedule is not None
                else None,
                image_tests_configuration=aws.imagebuilder.ImagePipelineImageTestsConfigurationArgs(
                    image_tests_enabled=True, timeout_minutes=min(spec.build_timeout_minutes, 1440)
                ),
                image_scanning_configuration=aws.imagebuilder.ImagePipelineImageScanningConfigurationArgs(
                    image_scanning_enabled=True
                ),
                enhanced_image_metadata_enabled=True,
                status="ENABLED",
                region=region,
                tags=tags,
            ),
            # A layered image's pipeline runs after its parent's exists (its builds start on the parent's).
            pulumi.ResourceOptions(parent=self, depends_on=[golden.pipeline])
            if golden is not None
            else child,
        )

        # --- Retention ---------------------------------------------------------------------------------------
        lifecycle_role = aws.iam.Role(
            f"{name}-lifecycle-role",
            aws.iam.RoleArgs(
                assume_role_policy=policies.assume_role_policy("imagebuilder.amazonaws.com"),
                description=f"Image Builder lifecycle of golden image {image.name} ({env})",
                tags=tags,
            ),
            child,
        )
        attachments = [
            aws.iam.RolePolicyAttachment(
                f"{name}-lifecycle-policy-{index}",
                aws.iam.RolePolicyAttachmentArgs(role=lifecycle_role.name, policy_arn=arn),
                child,
            )
            for index, arn in enumerate(policies.MANAGED_LIFECYCLE_POLICIES)
        ]
        retention = spec.retention
        aws.imagebuilder.LifecyclePolicy(
            f"{name}-lifecycle",
            aws.imagebuilder.LifecyclePolicyArgs(
                name=f"golden-{stem}",
                description=(
                    f"Deprecate {image.name} AMIs after {retention.deprecate_after_days} days; "
                    f"keep the newest {retention.keep}"
                ),
                execution_role=lifecycle_role.arn,
                resource_type="AMI_IMAGE",
                policy_details=[
                    aws.imagebuilder.LifecyclePolicyPolicyDetailArgs(
                        # Without include_resources the rule deprecates only the Image Builder image
                        # resource, never the distributed AMIs consumers launch.
                        action=aws.imagebuilder.LifecyclePolicyPolicyDetailActionArgs(
                            type="DEPRECATE",
                            include_resources=aws.imagebuilder.LifecyclePolicyPolicyDetailActionIncludeResourcesArgs(
                                amis=True
                            ),
                        ),
                        filter=aws.imagebuilder.LifecyclePolicyPolicyDetailFilterArgs(
                            type="AGE",
                            value=retention.deprecate_after_days,
                            unit="DAYS",
                            retain_at_least=retention.keep,
                        ),
                    ),
                    aws.imagebuilder.LifecyclePolicyPolicyDetailArgs(
                        action=aws.imagebuilder.LifecyclePolicyPolicyDetailActionArgs(
                            type="DELETE",
                            include_resources=aws.imagebuilder.LifecyclePolicyPolicyDetailActionIncludeResourcesArgs(
                                amis=True, snapshots=True
                            ),
                        ),
                        filter=aws.imagebuilder.LifecyclePolicyPolicyDetailFilterArgs(
                            type="COUNT", value=retention.keep
                        ),
                    ),
                ],
                # By recipe, not by tags: pipeline-built images carry no tags the provider can set, and a
                # tag selection matches images with *any* of the tags (other images and teams). The recipe
                # (content-named, so exactly this image's build definition) selects only its own output.
                resource_selection=aws.imagebuilder.LifecyclePolicyResourceSelectionArgs(
                    recipes=[
                        aws.imagebuilder.LifecyclePolicyResourceSelectionRecipeArgs(
                            name=recipe_name, semantic_version=image.version
                        )
                    ]
                ),
                status="ENABLED",
                region=region,
                tags=tags,
            ),
            pulumi.ResourceOptions(parent=self, depends_on=[*attachments, recipe]),
        )

        # --- Optional: build once now -----------------------------------------------------------------------
        artifacts: dict[str, Any] = {r: f"ssm:{ssm_name}" for r in spec.regions}
        self.baked = None
        if spec.bake_on_up or build.bake_on_up:
            baked = aws.imagebuilder.Image(
                f"{name}-image",
                aws.imagebuilder.ImageArgs(
                    image_recipe_arn=recipe.arn,
                    infrastructure_configuration_arn=infrastructure.arn,
                    distribution_configuration_arn=distribution.arn,
                    image_tests_configuration=aws.imagebuilder.ImageImageTestsConfigurationArgs(
                        image_tests_enabled=True, timeout_minutes=min(spec.build_timeout_minutes, 1440)
                    ),
                    image_scanning_configuration=aws.imagebuilder.ImageImageScanningConfigurationArgs(
                        image_scanning_enabled=True
                    ),
                    enhanced_image_metadata_enabled=True,
                    region=region,
                    tags=tags,
                ),
                # Builds, tests and multi-region copies routinely exceed the provider's 60-minute default.
                pulumi.ResourceOptions(
                    parent=self,
                    custom_timeouts=pulumi.CustomTimeouts(create=f"{spec.build_timeout_minutes + 60}m"),
                    # A child baked now starts from the parent's image baked now.
                    depends_on=[golden.baked] if golden is not None and golden.baked is not None else None,
                ),
            )
            amis = baked.output_resources.apply(
                lambda resources: {
                    a.region: a.image for r in resources or [] for a in (r.amis or []) if a.region
                }
            )
            artifacts = {r: amis.apply(lambda m, r=r: m.get(r, f"ssm:{ssm_name}")) for r in spec.regions}
            self.built_at = baked.date_created
            self.baked = baked

        self.pipeline = pipeline
        self.pipeline_arn = pipeline.arn
        self.recipe_arn = recipe.arn
        self.finish(
            artifacts,
            encryption_level="enforced",
            parent_reference=parent_ref,
            outputs={"pipelineArn": self.pipeline_arn, "recipeArn": self.recipe_arn},
        )

    @staticmethod
    def _distribution(
        build: ImageBuild, spec: AwsSpec, region: str, ssm_name: str, tags: dict[str, str]
    ) -> aws.imagebuilder.DistributionConfigurationDistributionArgs:
        sharing = spec.sharing
        permission = (
            None
            if sharing.is_empty()
            else aws.imagebuilder.DistributionConfigurationDistributionAmiDistributionConfigurationLaunchPermissionArgs(
                user_ids=list(sharing.accounts) or None,
                organization_arns=list(sharing.organizations) or None,
                organizational_unit_arns=list(sharing.organizational_units) or None,
            )
        )
        return aws.imagebuilder.DistributionConfigurationDistributionArgs(
            region=region,
            ami_distribution_configuration=aws.imagebuilder.DistributionConfigurationDistributionAmiDistributionConfigurationArgs(
                name=ami_name(build.image.name, build.image.version),
                description=f"{build.image.description} ({build.image.version}, {build.fingerprint[:12]})",
                kms_key_id=spec.kms_keys[region],
                ami_tags={**tags, "fingerprint": build.fingerprint[:32]},
                launch_permission=permission,
            ),
            ssm_parameter_configurations=[
                aws.imagebuilder.DistributionConfigurationDistributionSsmParameterConfigurationArgs(
                    parameter_name=ssm_name, data_type="aws:ec2:image"
                )
            ],
        )
