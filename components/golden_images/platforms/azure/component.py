"""``AzureGoldenImage``: bake a catalog image with Azure VM Image Builder and publish it in a Compute Gallery.

Resources (children named ``<name>-<role>``):

* ``resource-group`` (only with ``resource_group.create``; retained on delete, like the gallery and its
  definitions, which Azure refuses to delete while they hold versions);
* ``identity``: the one user-assigned identity AIB uses;
* ``gallery`` (private, RBAC-only sharing) and ``image-definition`` (publisher/offer/sku, Linux, generalized,
  Hyper-V generation, architecture, security type);
* ``gallery-role`` + ``gallery-role-assignment``: custom role with the reads of
  :data:`~golden_images.platforms.azure.roles.GALLERY_ACTIONS` on this
  image's gallery; ``definition-role`` (+ assignment)
  with the version write on the definition AIB distributes to only; ``network-role`` (+ assignment on
  the VNet) with a subnet; ``source-role`` (+ assignment on the source gallery) for a gallery source;
* ``template``: the AIB template named ``<image>-<env>-<fingerprint>`` — AIB cannot update a template, so any
  build-affecting change gives a new name (a replacement) and an unchanged spec keeps every input identical;
* with ``disk_encryption_sets`` (customer-managed keys): ``build-definition``, a second image definition the
  template distributes to (build region only, excluded from ``latest``), because the AIB distribute block has
  no disk-encryption-set field; the published ``version`` (``GalleryImageVersion`` named after the image
  version) is copied from that build output with a DES in *every* target region;
* with ``bake_on_up`` and ``wait_for_build``: ``runner-identity``, ``runner-role`` (+ assignment on the template)
  and ``build``, an Azure CLI deployment script that runs the template and waits, so the published version is
  created only after its source exists; with ``wait_for_build: false`` the template auto-runs asynchronously.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any, NotRequired, TypedDict

import pulumi
from pulumi_azure_native import authorization, compute, managedidentity, resources, virtualmachineimages

from golden_images.core.build import ImageBuild
from golden_images.core.fingerprint import digest, platform_fingerprint, short
from golden_images.core.naming import builder_name
from golden_images.core.tags import azure_tags
from golden_images.core.tokens import AZURE_GOLDEN_IMAGE
from golden_images.platforms.azure import aib, roles
from golden_images.platforms.azure.spec import (
    AzureSource,
    AzureSpec,
    is_gallery_version_int32,
    source_gallery,
    subnet_vnet,
)
from golden_images.platforms.base import PlatformComponent

#: Image definition architecture per catalog ``os.architecture``.
ARCHITECTURE = {"x86_64": "x64", "arm64": "Arm64"}
#: Azure CLI version of the build runner's container (a version the deployment-script service offers).
AZ_CLI_VERSION = "2.61.0"
#: How long the deployment-script service keeps the runner resource after it finished: the service's
#: maximum ("between 1 and 26 hours", Microsoft.Resources/deploymentScripts). It is deleted afterwards
#: whatever is set, so a later ``pulumi refresh`` drops it from the state and the next ``up`` creates it
#: again — which is why :data:`RUNNER_SCRIPT` is idempotent.
RUNNER_RETENTION = "PT26H"
#: The runner: when the template already has a successful run output (the runner ran before and the
#: service has since deleted the script resource), report that artifact and stop — no second build, the
#: same artifact id, so the published version (same name, same source) is unchanged. Otherwise run the
#: template and report its artifact (:data:`golden_images.platforms.azure.aib.RUNNER_SCRIPT`).
RUNNER_SCRIPT = (
    """set -euo pipefail
existing=$(az image builder show-runs --resource-group "$GI_RESOURCE_GROUP" --name "$GI_TEMPLATE" \\
  --output-name "$GI_RUN_OUTPUT" --query artifactId --output tsv 2>/dev/null || true)
if [ -n "$existing" ]; then
  echo "template $GI_TEMPLATE already produced $existing; not building again"
  printf '{"artifactId": "%s"}' "$existing" > "$AZ_SCRIPTS_OUTPUT_PATH"
  exit 0
fi
"""
    + aib.RUNNER_SCRIPT
)


class AzureGoldenImageArgs(TypedDict):
    """Inputs of :class:`AzureGoldenImage`."""

    build: ImageBuild
    """The derived image build (spec, environment, canonical tags, resolved steps, fingerprint).
    Its ``image.azure`` section must be set."""
    parent: NotRequired[AzureGoldenImage]
    """The golden parent's Azure component (required when ``azure.parent`` names one): the AIB source is its
    gallery image version (:attr:`AzureGoldenImage.child_source`)."""


def gallery_name(spec: AzureSpec, environment: str, image: str) -> str:
    """``<gallery_prefix>_<env>_<image>`` with hyphens as underscores (gallery names allow no hyphens)."""
    return f"{spec.gallery_prefix}_{environment}_{image}".replace("-", "_")


def resource_group_name(spec: AzureSpec, environment: str, image: str) -> str:
    """The existing group ``resource_group.name``, or ``rg-golden-images-<env>-<image>`` when created."""
    return spec.resource_group.name or f"rg-golden-images-{environment}-{image}"


def should_bake(build: ImageBuild, spec: AzureSpec) -> bool:
    """True when ``pulumi up`` runs the build now (section ``bake_on_up`` or the project-wide ``bakeOnUp``)."""
    return spec.bake_on_up or build.bake_on_up


def template_document(build: ImageBuild, spec: AzureSpec) -> dict[str, Any]:
    """Every build-affecting template input as plain JSON (ids that are only known after creation are
    represented by their deterministic names). Its digest names the template."""
    image = build.image
    family = image.os.family
    env = build.environment
    bake = should_bake(build, spec)
    return {
        "source": spec.source.model_dump(mode="json", exclude_none=True),
        "customize": [c.as_dict() for c in aib.render_customizers(build.steps, family)],
        "validate": [v.as_dict() for v in aib.render_validators(build.steps, family)],
        "vm": {"size": spec.vm_size, "osDiskSizeGB": spec.os_disk_size_gb, "subnet": spec.subnet_id},
        "distribute": {
            "gallery": gallery_name(spec, env, image.name),
            "definition": distribution_definition(build, spec),
            "targets": distribution_targets(spec),
            "artifactTags": azure_tags(build.tags),
            "major": int(image.version.split(".")[0]),
        },
        "buildTimeoutInMinutes": spec.build_timeout_minutes,
        "keepFailedBuildVm": spec.keep_failed_build_vm,
        "autoRun": bake and not spec.wait_for_build,
        "location": spec.location,
    }


def distribution_definition(build: ImageBuild, spec: AzureSpec) -> str:
    """The image definition AIB writes to: the published one, or ``<image>-build`` with customer keys."""
    return f"{build.image.name}-build" if spec.uses_cmk else build.image.name


def distribution_targets(spec: AzureSpec) -> list[dict[str, Any]]:
    """AIB target regions: every replication region; with customer keys only the build region, one replica
    on LRS (the intermediate copy the encrypted version is made from)."""
    if spec.uses_cmk:
        return [{"name": spec.location, "replicaCount": 1, "storageAccountType": "Standard_LRS"}]
    return [
        {"name": r.region, "replicaCount": r.replica_count, "storageAccountType": r.storage_account_type}
        for r in spec.replication
    ]


def template_fingerprint(build: ImageBuild, spec: AzureSpec) -> str:
    """The platform fingerprint of the template (image fingerprint + every template input)."""
    return platform_fingerprint(build.fingerprint, "azure-template", digest(template_document(build, spec)))


def user_assigned_identity(
    resource: str,
    rg_name: pulumi.Input[str],
    identity_name: str,
    location: str,
    tags: dict[str, str],
    parent: pulumi.Resource,
) -> managedidentity.UserAssignedIdentity:
    """A user-assigned identity. Keyword arguments on purpose: in pulumi-azure-native 3.x
    ``UserAssignedIdentityArgs(resource_name=...)`` collides with the resource's own ``resource_name``
    parameter (``TypeError: got multiple values for argument 'resource_name'``), so the Args class cannot carry
    the identity's name; ``resource_name_`` is the SDK's keyword for it."""
    return managedidentity.UserAssignedIdentity(
        resource,
        opts=pulumi.ResourceOptions(parent=parent),
        resource_group_name=rg_name,
        resource_name_=identity_name,
        location=location,
        tags=tags,
    )


class AzureGoldenImage(PlatformComponent):
    """An Azure VM Image Builder template publishing one catalog image into its own Compute Gallery."""

    artifacts: pulumi.Output[dict[str, Any]]
    """``{gallery, gallery_image_id, version_id, version_name, template, run_output, resolve, regions}``.
    ``version_id`` is the published version (customer keys + bake) or the build's run output artifact (bake
    without customer keys), else ``None``; ``resolve`` is the ``az`` command that finds the artifact of the
    template's run when ``version_id`` is not known to Pulumi."""
    gallery_image_id: pulumi.Output[str]
    """ARM id of the published gallery image definition."""
    template_name: str
    """Name of the AIB template (``<image>-<env>-<fingerprint>``)."""
    built_at: pulumi.Output[str] | None
    """When the bake published the version (``publishedDate``) or the runner finished; ``None`` without a
    waiting bake."""
    encryption_level: str
    """``enforced`` when the published version carries a disk encryption set in every target region, else
    ``platform-default`` (platform-managed keys; also while a customer-key image is not yet published)."""
    parent_reference: str
    """The pinned source: ``publisher:offer:sku:version`` or the gallery image version id."""
    child_source: str
    """The gallery image version a layered child builds from: ``…/images/<image>/versions/<version>`` when
    this stack publishes it, else ``…/versions/latest``."""
    published: compute.GalleryImageVersion | None
    """The version this stack publishes (customer keys and a waited bake), ``None`` otherwise."""

    def __init__(
        self, name: str, args: AzureGoldenImageArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        build = args["build"]
        spec = build.section("azure", AzureSpec)
        golden = args.get("parent")
        if spec.parent is not None:
            if golden is None:
                raise ValueError(
                    f"image {build.image.name!r} builds on {spec.parent.image!r}: pass its Azure component"
                )
            # Layered: the source is the parent's gallery image version (an id built from its names, so the
            # template document and the source-gallery grant are plain strings like for a vendor source).
            # Not validated again: a parent that does not publish exact versions is read at 'latest'.
            source = AzureSource.model_construct(
                marketplace=None, gallery_image_version_id=golden.child_source
            )
            spec = spec.model_copy(update={"vendor_source": source})
            build = dataclasses.replace(build, image=build.image.model_copy(update={"azure": spec}))
        image = build.image
        if not is_gallery_version_int32(image.version):
            # Checked before anything is registered here; gallery versions refuse parts above 2^31-1.
            raise ValueError(
                f"image version {image.version!r} is not a gallery version name (int.int.int, 32-bit)"
            )
        env = build.environment
        parent_ref = spec.source.reference()
        bake = should_bake(build, spec)
        wait = bake and spec.wait_for_build
        # Enforced only on the path that publishes the version with a disk encryption set per region.
        encryption = "enforced" if spec.uses_cmk and wait else "platform-default"
        super().__init__(
            AZURE_GOLDEN_IMAGE,
            name,
            build,
            {
                "location": spec.location,
                "regions": [r.region for r in spec.replication],
                "source": parent_ref,
                "parentImage": parent_ref,
                "customerManagedKeys": spec.uses_cmk,
                "encryption": encryption,
            },
            opts,
            parent=golden,
        )
        tags = azure_tags(build.tags)
        sub = spec.subscription_id
        rg_name_plain = resource_group_name(spec, env, image.name)
        rg_id = roles.resource_group_id(sub, rg_name_plain)
        template_fp = template_fingerprint(build, spec)
        template_name = builder_name(f"{image.name}-{env}", template_fp)
        run_output = f"{image.name}-{short(template_fp)}"

        # --- Resource group, identity, gallery, definitions -----------------------------------------------
        rg_name: pulumi.Input[str] = rg_name_plain
        # Role definitions name the group as their assignable scope by id (a string): without an explicit
        # dependency they could be created before the group exists.
        self._scope_deps: list[pulumi.Resource] = []
        if spec.resource_group.create:
            group = resources.ResourceGroup(
                f"{name}-resource-group",
                resources.ResourceGroupArgs(
                    resource_group_name=rg_name_plain, location=spec.location, tags=tags
                ),
                # Retained: deleting the group would delete the retained gallery and its versions with it.
                pulumi.ResourceOptions(parent=self, retain_on_delete=True),
            )
            rg_name = group.name
            self._scope_deps.append(group)
        identity = user_assigned_identity(
            f"{name}-identity", rg_name, f"id-golden-images-{env}-{image.name}", spec.location, tags, self
        )
        gallery = compute.Gallery(
            f"{name}-gallery",
            compute.GalleryArgs(
                resource_group_name=rg_name,
                gallery_name=gallery_name(spec, env, image.name),
                location=spec.location,
                description=spec.gallery_description
                or f"Golden image {image.name} ({env}), managed by golden-images",
                # Private: access only through RBAC on the gallery, never Groups or Community sharing.
                sharing_profile=compute.SharingProfileArgs(permissions="Private"),
                tags=tags,
            ),
            # A gallery that still holds image definitions cannot be deleted (CannotDeleteResource), and its
            # definitions keep the retained published version and AIB's versions: leave it on delete.
            pulumi.ResourceOptions(parent=self, retain_on_delete=True),
        )
        definition = self._definition(
            f"{name}-image-definition", build, spec, rg_name, gallery, image.name, tags
        )
        # A layered child's grants and template name this gallery and definition: they must exist first.
        self.gallery_resource: pulumi.Resource = gallery
        self.definition_resource: pulumi.Resource = definition
        target_definition = definition
        if spec.uses_cmk:
            target_definition = self._definition(
                f"{name}-build-definition", build, spec, rg_name, gallery, f"{image.name}-build", tags
            )

        # --- Least-privilege roles for the AIB identity -----------------------------------------------------
        grants: list[pulumi.Resource] = [
            self._grant(
                name,
                "gallery",
                roles.GALLERY_READ_ACTIONS,
                rg_id,
                gallery.id,
                identity.principal_id,
                build,
                spec,
                f"Azure VM Image Builder reads the gallery of golden image {image.name} ({env})",
            ),
            # The write only where AIB distributes: with customer keys the build definition, so the
            # identity can never put a version into the published definition.
            self._grant(
                name,
                "definition",
                roles.DEFINITION_WRITE_ACTIONS,
                rg_id,
                target_definition.id,
                identity.principal_id,
                build,
                spec,
                f"Azure VM Image Builder writes versions of golden image {image.name} ({env}) to "
                f"{distribution_definition(build, spec)}",
            ),
        ]
        if spec.subnet_id is not None:
            vnet_id, _ = subnet_vnet(spec.subnet_id)
            grants.append(
                self._grant(
                    name,
                    "network",
                    roles.NETWORK_ACTIONS,
                    roles.scope_resource_group(vnet_id),
                    vnet_id,
                    identity.principal_id,
                    build,
                    spec,
                    f"Azure VM Image Builder joins build VMs of golden image {image.name} ({env}) to its subnet",
                )
            )
        # A golden parent's group, gallery and definition are created by another component: the source grant
        # and the template must wait for them (a role or assignment on a scope that does not exist fails).
        parent_scope: list[pulumi.Resource] = (
            [*golden._scope_deps, golden.gallery_resource, golden.definition_resource]
            if golden is not None
            else []
        )
        grants.extend(parent_scope)
        if golden is not None and golden.published is not None:
            # The parent's published version must exist before AIB validates this template's source.
            grants.append(golden.published)
        if spec.source.gallery_image_version_id is not None:
            source_id = source_gallery(spec.source.gallery_image_version_id)
            grants.append(
                self._grant(
                    name,
                    "source",
                    roles.SOURCE_GALLERY_ACTIONS,
                    roles.scope_resource_group(source_id),
                    source_id,
                    identity.principal_id,
                    build,
                    spec,
                    f"Azure VM Image Builder reads the source image of golden image {image.name} ({env})",
                    after=parent_scope,
                )
            )

        # --- The template ---------------------------------------------------------------------------------
        template = self._template(
            name, build, spec, rg_name, identity, target_definition, template_name, run_output, tags, grants
        )

        # --- Optional bake: run, wait, then publish the encrypted version -----------------------------------
        artifact_id: pulumi.Output[Any] | None = None
        if wait:
            script = self._runner(
                name, build, spec, rg_name, rg_id, template, template_name, run_output, tags
            )
            artifact_id = script.outputs.apply(lambda o: o.get("artifactId") if isinstance(o, dict) else None)
            self.built_at = script.status.apply(lambda s: s.end_time if s is not None else None)

        version_id: pulumi.Input[str] | None = None
        version_name: str | None = None
        self.published = None
        if spec.uses_cmk and artifact_id is not None:
            version = self._published_version(
                name, env, image.name, spec, rg_name, definition, image.version, artifact_id, tags
            )
            version_id = version.id
            version_name = image.version
            self.published = version
            self.built_at = version.publishing_profile.apply(
                lambda p: p.published_date if p is not None else None
            )
        else:
            version_id = None if spec.uses_cmk else artifact_id

        # What a layered child starts from: the exact version this stack publishes, else the definition's
        # newest (AIB numbers the versions it distributes itself, so no exact id is known before the build).
        definition_path = (
            f"/subscriptions/{sub}/resourceGroups/{rg_name_plain}/providers/Microsoft.Compute/galleries/"
            f"{gallery_name(spec, env, image.name)}/images/{image.name}"
        )
        self.child_source = f"{definition_path}/versions/{version_name or 'latest'}"
        self.gallery_image_id = definition.id
        self.template_name = template_name
        self.finish(
            {
                "gallery": gallery_name(spec, env, image.name),
                "gallery_image_id": definition.id,
                "version_id": version_id,
                "version_name": version_name,
                "template": template_name,
                "run_output": run_output,
                "resolve": None
                if version_name
                else aib.resolve_hint(rg_name_plain, template_name, run_output),
                "regions": [r.region for r in spec.replication],
            },
            encryption_level=encryption,
            parent_reference=parent_ref,
            outputs={"galleryImageId": self.gallery_image_id, "templateName": self.template_name},
        )

    # ------------------------------------------------------------------------------------------------------
    def _definition(
        self,
        resource: str,
        build: ImageBuild,
        spec: AzureSpec,
        rg_name: pulumi.Input[str],
        gallery: compute.Gallery,
        definition_name: str,
        tags: dict[str, str],
    ) -> compute.GalleryImage:
        identity = spec.image_definition
        sku = identity.sku or build.image.name
        staging = definition_name != build.image.name
        features = (
            [compute.GalleryImageFeatureArgs(name="SecurityType", value=identity.security_type)]
            if identity.security_type != "Standard"
            else None
        )
        description = build.image.description
        if staging:
            description = (
                f"Build output of {build.image.name}; published versions are copies with customer keys"
            )
        return compute.GalleryImage(
            resource,
            compute.GalleryImageArgs(
                resource_group_name=rg_name,
                gallery_name=gallery_name(spec, build.environment, build.image.name),
                gallery_image_name=definition_name,
                location=spec.location,
                identifier=compute.GalleryImageIdentifierArgs(
                    publisher=identity.publisher,
                    offer=identity.offer,
                    # Identifiers are unique per gallery, so the build definition gets its own SKU.
                    sku=f"{sku}-build" if staging else sku,
                ),
                os_type=identity.os_type,
                os_state="Generalized",
                hyper_v_generation=identity.hyper_v_generation,
                architecture=ARCHITECTURE[build.image.os.architecture],
                features=features,
                description=description[:1000],
                tags=tags,
            ),
            # Names are deterministic; the dependency keeps the order the API needs. Retained on delete: a
            # definition holding versions (the published one, AIB's, which Pulumi does not track) cannot be
            # deleted, so removing an image or `pulumi destroy` would fail with CannotDeleteResource.
            pulumi.ResourceOptions(parent=self, depends_on=[gallery], retain_on_delete=True),
        )

    def _grant(
        self,
        name: str,
        purpose: str,
        actions: tuple[str, ...],
        assignable_scope: str,
        scope: pulumi.Input[str],
        principal_id: pulumi.Input[str],
        build: ImageBuild,
        spec: AzureSpec,
        description: str,
        after: Sequence[pulumi.Resource] = (),
    ) -> authorization.RoleAssignment:
        """A custom role with ``actions`` on ``assignable_scope`` and its assignment on ``scope``; both wait for
        the scope's resources (this component's created group, plus ``after``: another component's resources
        the scope names, default none)."""
        image, env, sub = build.image.name, build.environment, spec.subscription_id
        rg = resource_group_name(spec, env, image)
        role = authorization.RoleDefinition(
            f"{name}-{purpose}-role",
            authorization.RoleDefinitionArgs(
                scope=f"/subscriptions/{sub}",
                role_definition_id=roles.stable_guid(sub, rg, env, image, purpose, "role"),
                role_name=roles.role_name(f"aib-{purpose}", env, image, sub, rg),
                role_type="CustomRole",
                description=description,
                permissions=[authorization.PermissionArgs(actions=list(actions), not_actions=[])],
                assignable_scopes=[assignable_scope],
            ),
            pulumi.ResourceOptions(parent=self, depends_on=[*self._scope_deps, *after]),
        )
        return authorization.RoleAssignment(
            f"{name}-{purpose}-role-assignment",
            authorization.RoleAssignmentArgs(
                scope=scope,
                role_definition_id=role.id,
                principal_id=principal_id,
                # A fresh identity may not have replicated yet; the principal type skips that lookup.
                principal_type="ServicePrincipal",
                role_assignment_name=roles.stable_guid(sub, rg, env, image, purpose, "assignment"),
                description=description,
            ),
            pulumi.ResourceOptions(parent=self, depends_on=list(after)),
        )

    def _template(
        self,
        name: str,
        build: ImageBuild,
        spec: AzureSpec,
        rg_name: pulumi.Input[str],
        identity: managedidentity.UserAssignedIdentity,
        target: compute.GalleryImage,
        template_name: str,
        run_output: str,
        tags: dict[str, str],
        grants: list[pulumi.Resource],
    ) -> virtualmachineimages.VirtualMachineImageTemplate:
        vmi = virtualmachineimages
        image = build.image
        family = image.os.family
        source: (
            virtualmachineimages.ImageTemplatePlatformImageSourceArgs
            | virtualmachineimages.ImageTemplateSharedImageVersionSourceArgs
        )
        if spec.source.marketplace is not None:
            m = spec.source.marketplace
            source = vmi.ImageTemplatePlatformImageSourceArgs(
                type="PlatformImage", publisher=m.publisher, offer=m.offer, sku=m.sku, version=m.version
            )
        else:
            assert spec.source.gallery_image_version_id is not None
            source = vmi.ImageTemplateSharedImageVersionSourceArgs(
                type="SharedImageVersion", image_version_id=spec.source.gallery_image_version_id
            )
        customize = [
            vmi.ImageTemplateShellCustomizerArgs(type="Shell", name=c.name, inline=list(c.inline))
            for c in aib.render_customizers(build.steps, family)
        ]
        validators = [
            vmi.ImageTemplateShellValidatorArgs(type="Shell", name=v.name, inline=list(v.inline))
            for v in aib.render_validators(build.steps, family)
        ]
        on_error = "abort" if spec.keep_failed_build_vm else "cleanup"
        bake = should_bake(build, spec)
        artifact_tags = {**tags, "fingerprint": build.fingerprint[:32], "template": template_name}
        return vmi.VirtualMachineImageTemplate(
            f"{name}-template",
            vmi.VirtualMachineImageTemplateArgs(
                image_template_name=template_name,
                resource_group_name=rg_name,
                location=spec.location,
                identity=vmi.ImageTemplateIdentityArgs(
                    type="UserAssigned", user_assigned_identities=[identity.id]
                ),
                source=source,
                customize=customize,
                validate=vmi.ImageTemplatePropertiesValidateArgs(
                    in_vm_validations=validators,
                    continue_distribute_on_failure=False,
                    source_validation_only=False,
                )
                if validators
                else None,
                distribute=[
                    vmi.ImageTemplateSharedImageDistributorArgs(
                        type="SharedImage",
                        gallery_image_id=target.id,
                        run_output_name=run_output,
                        artifact_tags=artifact_tags,
                        target_regions=[
                            vmi.TargetRegionArgs(
                                name=t["name"],
                                replica_count=t["replicaCount"],
                                storage_account_type=t["storageAccountType"],
                            )
                            for t in distribution_targets(spec)
                        ],
                        # The intermediate build version must never be what "latest" resolves to.
                        exclude_from_latest=spec.uses_cmk,
                        versioning=vmi.DistributeVersionerLatestArgs(
                            scheme="Latest", major=int(image.version.split(".")[0])
                        ),
                    )
                ],
                vm_profile=vmi.ImageTemplateVmProfileArgs(
                    vm_size=spec.vm_size,
                    os_disk_size_gb=spec.os_disk_size_gb,
                    vnet_config=vmi.VirtualNetworkConfigArgs(subnet_id=spec.subnet_id)
                    if spec.subnet_id
                    else None,
                ),
                build_timeout_in_minutes=spec.build_timeout_minutes,
                error_handling=vmi.ImageTemplatePropertiesErrorHandlingArgs(
                    on_customizer_error=on_error, on_validation_error=on_error
                ),
                auto_run=vmi.ImageTemplateAutoRunArgs(
                    state="Enabled" if bake and not spec.wait_for_build else "Disabled"
                ),
                managed_resource_tags=tags,
                tags=tags,
            ),
            # The identity must hold its roles before AIB validates the template (and before an auto-run).
            pulumi.ResourceOptions(parent=self, depends_on=grants),
        )

    def _runner(
        self,
        name: str,
        build: ImageBuild,
        spec: AzureSpec,
        rg_name: pulumi.Input[str],
        rg_id: str,
        template: virtualmachineimages.VirtualMachineImageTemplate,
        template_name: str,
        run_output: str,
        tags: dict[str, str],
    ) -> resources.AzureCliScript:
        image, env = build.image.name, build.environment
        runner = user_assigned_identity(
            f"{name}-runner-identity",
            rg_name,
            f"id-golden-images-runner-{env}-{image}",
            spec.location,
            tags,
            self,
        )
        grant = self._grant(
            name,
            "runner",
            roles.RUNNER_ACTIONS,
            rg_id,
            template.id,
            runner.principal_id,
            build,
            spec,
            f"Runs the Azure VM Image Builder template of golden image {image} ({env}) and reads its output",
        )
        env_vars = {"GI_RESOURCE_GROUP": rg_name, "GI_TEMPLATE": template_name, "GI_RUN_OUTPUT": run_output}
        return resources.AzureCliScript(
            f"{name}-build",
            resources.AzureCliScriptArgs(
                kind="AzureCLI",
                az_cli_version=AZ_CLI_VERSION,
                resource_group_name=rg_name,
                location=spec.location,
                identity=resources.ManagedServiceIdentityArgs(
                    type="UserAssigned", user_assigned_identities=[runner.id]
                ),
                script_content=RUNNER_SCRIPT,
                environment_variables=[
                    resources.EnvironmentVariableArgs(name=k, value=v) for k, v in env_vars.items()
                ],
                # A new template (new fingerprint) re-runs the script; an unchanged one never does.
                force_update_tag=template_name,
                timeout=f"PT{spec.build_timeout_minutes + 30}M",
                retention_interval=RUNNER_RETENTION,
                # The container and storage account go once the script succeeded; on failure they stay
                # (until the retention ends) so the logs can be read.
                cleanup_preference="OnSuccess",
                tags=tags,
            ),
            pulumi.ResourceOptions(
                parent=self,
                depends_on=[template, grant],
                custom_timeouts=pulumi.CustomTimeouts(create=f"{spec.build_timeout_minutes + 60}m"),
            ),
        )

    def _published_version(
        self,
        name: str,
        env: str,
        image: str,
        spec: AzureSpec,
        rg_name: pulumi.Input[str],
        definition: compute.GalleryImage,
        version: str,
        artifact_id: pulumi.Output[Any],
        tags: dict[str, str],
    ) -> compute.GalleryImageVersion:
        return compute.GalleryImageVersion(
            f"{name}-version",
            compute.GalleryImageVersionArgs(
                resource_group_name=rg_name,
                gallery_name=gallery_name(spec, env, image),
                gallery_image_name=image,
                gallery_image_version_name=version,
                location=spec.location,
                # The runner's output: the build version exists before this is created.
                storage_profile=compute.GalleryImageVersionStorageProfileArgs(
                    source=compute.GalleryArtifactVersionFullSourceArgs(id=artifact_id)
                ),
                publishing_profile=compute.GalleryImageVersionPublishingProfileArgs(
                    exclude_from_latest=False,
                    replication_mode="Full",
                    target_regions=[
                        compute.TargetRegionArgs(
                            name=r.region,
                            regional_replica_count=r.replica_count,
                            storage_account_type=r.storage_account_type,
                            encryption=compute.EncryptionImagesArgs(
                                os_disk_image=compute.OSDiskImageEncryptionArgs(
                                    disk_encryption_set_id=spec.disk_encryption_sets[r.region]
                                )
                            ),
                        )
                        for r in spec.replication
                    ],
                ),
                safety_profile=compute.GalleryImageVersionSafetyProfileArgs(
                    allow_deletion_of_replicated_locations=False
                ),
                tags=tags,
            ),
            pulumi.ResourceOptions(
                parent=self,
                # A published version outlives this stack's next image version: consumers may still pin it.
                retain_on_delete=True,
                # The public definition must exist; the source (runner output) orders the rest.
                depends_on=[definition],
                custom_timeouts=pulumi.CustomTimeouts(create=f"{60 + 30 * len(spec.replication)}m"),
            ),
        )
