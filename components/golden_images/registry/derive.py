"""Artifact ids of the Azure, GCP and Proxmox builds of one image version, derived from the names the
components give them (pure: no cloud call).

The components name every artifact deterministically from the catalog, so ``registry record`` can write the
same ``platform → location → id`` shape on every platform without credentials for Azure, GCP or Proxmox:

* **Azure**: the published gallery image version
  ``/subscriptions/<sub>/resourceGroups/<rg>/providers/Microsoft.Compute/galleries/<gallery>/images/<image>/versions/<version>``,
  one entry per replication region (the same id: a gallery version is one resource replicated to each).
  Only images with ``disk_encryption_sets`` publish a version named after the catalog version; without them
  Azure VM Image Builder numbers the version itself (``Latest`` under the major), which no name predicts, so
  nothing is derived and the reason is reported.
* **GCP**: ``projects/<project>/global/images/<family>-<version>-<short GCP fingerprint>`` under ``global``
  (the path the launch policies compare; self links reduce to it); a layered image starts from its parent's.
* **Proxmox**: per node, the template's VM id ``start + node index * share + version slot``.

AWS is not derived: AMI ids are assigned by EC2, so :mod:`.aws` finds them by Image Builder provenance.
Derived ids are what the build *produces*; recording them does not prove the build ran (record after it did).
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field
from typing import Final

from golden_images.core.build import ImageBuild

#: Platforms whose artifact ids are derived from names (AWS is found by provenance instead).
DERIVED_PLATFORMS: Final = ("azure", "gcp", "proxmox")
#: Location key of GCP images (global resources).
GCP_LOCATION: Final = "global"


@dataclass(frozen=True)
class Derived:
    """``artifacts`` (platform → location → id) and, per platform that has a section but got no id,
    ``skipped`` (why)."""

    artifacts: dict[str, dict[str, str]] = field(default_factory=dict)
    skipped: dict[str, str] = field(default_factory=dict)


def azure_version_id(build: ImageBuild) -> str | None:
    """The published gallery image version id of ``build`` (``None`` without ``disk_encryption_sets``)."""
    # Imported here: the component module pulls in the Azure provider SDK, which only this needs.
    from golden_images.platforms.azure.component import gallery_name, resource_group_name

    spec = build.image.azure
    if spec is None or not spec.uses_cmk:
        return None
    name, env = build.image.name, build.environment
    return (
        f"/subscriptions/{spec.subscription_id}/resourceGroups/{resource_group_name(spec, env, name)}"
        f"/providers/Microsoft.Compute/galleries/{gallery_name(spec, env, name)}/images/{name}"
        f"/versions/{build.image.version}"
    )


def gcp_image_path(build: ImageBuild) -> str | None:
    """``projects/<project>/global/images/<name>`` of ``build`` (``None`` without a gcp section). A layered
    section starts from its golden parent's image, as the component resolves it."""
    from golden_images.core.naming import gcp_image_name
    from golden_images.platforms.gcp.packer import gcp_fingerprint
    from golden_images.platforms.gcp.spec import GcpSourceImage

    spec = build.image.gcp
    if spec is None:
        return None
    if spec.parent is not None:
        parent = gcp_image_path(build.parent) if build.parent is not None else None
        if parent is None:
            return None
        project, image = parent.removeprefix("projects/").split("/global/images/")
        spec = spec.model_copy(update={"source": GcpSourceImage(project=project, image=image)})
    name = gcp_image_name(
        spec.image_family(build.image.name), build.image.version, gcp_fingerprint(build.fingerprint, spec)
    )
    return f"projects/{spec.project}/global/images/{name}"


def proxmox_vm_ids(build: ImageBuild) -> dict[str, str]:
    """Node → template VM id of ``build`` (empty without a proxmox section)."""
    from golden_images.platforms.proxmox.layout import template_vm_id

    spec = build.image.proxmox
    if spec is None:
        return {}
    return {node: str(template_vm_id(spec, build.image.version, node)) for node in spec.nodes}


def derive(build: ImageBuild, platforms: Collection[str] = DERIVED_PLATFORMS) -> Derived:
    """The derived artifacts of ``build`` on each of ``platforms`` (default: Azure, GCP, Proxmox) that the
    image has a section for."""
    artifacts: dict[str, dict[str, str]] = {}
    skipped: dict[str, str] = {}
    image = build.image
    if "azure" in platforms and image.azure is not None:
        version_id = azure_version_id(build)
        if version_id is None:
            skipped["azure"] = (
                "no disk_encryption_sets: Azure VM Image Builder numbers the gallery version itself "
                f"(Latest under major {image.version.split('.')[0]}), so its id cannot be derived"
            )
        else:
            artifacts["azure"] = {r.region: version_id for r in image.azure.replication}
    if "gcp" in platforms:
        path = gcp_image_path(build)
        if path is not None:
            artifacts["gcp"] = {GCP_LOCATION: path}
    if "proxmox" in platforms:
        vm_ids = proxmox_vm_ids(build)
        if vm_ids:
            artifacts["proxmox"] = vm_ids
    return Derived(artifacts, skipped)
