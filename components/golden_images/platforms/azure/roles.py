"""Custom role actions for the Image Builder identity and the build runner (pure, documented least privilege).

From Microsoft's "Configure Azure VM Image Builder permissions" page:

* distribute to an Azure Compute Gallery — :data:`GALLERY_ACTIONS`, split in two: the reads
  (:data:`GALLERY_READ_ACTIONS`) on *the image's own gallery*, the version write
  (:data:`DEFINITION_WRITE_ACTIONS`) on *the one definition AIB distributes to* — with customer keys that is
  the build definition, never the published one. The managed-image actions (``Microsoft.Compute/images/*``)
  that page also lists are for distributing to managed images, which golden-images never does, so they are
  left out;
* build from an existing gallery image version — :data:`SOURCE_GALLERY_ACTIONS`, assigned on the source
  gallery (only when the source is a gallery image version);
* build on an existing virtual network — :data:`NETWORK_ACTIONS`, assigned on the virtual network of
  ``subnet_id`` (only when a subnet is set).

The build runner (a deployment script that runs the template and waits, only with ``bake_on_up`` and
``wait_for_build``) has its own identity with :data:`RUNNER_ACTIONS` on the one template.

Role names are unique per tenant, so they embed the environment, image, subscription and resource group;
role definition and assignment ids are name-based UUIDs so re-running never creates duplicates.
"""

from __future__ import annotations

import uuid
from typing import Final

GALLERY_ACTIONS: Final[tuple[str, ...]] = (
    "Microsoft.Compute/galleries/read",
    "Microsoft.Compute/galleries/images/read",
    "Microsoft.Compute/galleries/images/versions/read",
    "Microsoft.Compute/galleries/images/versions/write",
)
#: The read part of :data:`GALLERY_ACTIONS`, assigned on the image's gallery.
GALLERY_READ_ACTIONS: Final[tuple[str, ...]] = tuple(a for a in GALLERY_ACTIONS if a.endswith("/read"))
#: The write part, assigned on the one image definition AIB distributes to (the build definition with
#: customer keys), so AIB can never write a version into the published definition consumers resolve.
DEFINITION_WRITE_ACTIONS: Final[tuple[str, ...]] = (
    "Microsoft.Compute/galleries/images/versions/read",
    "Microsoft.Compute/galleries/images/versions/write",
)
SOURCE_GALLERY_ACTIONS: Final[tuple[str, ...]] = (
    "Microsoft.Compute/galleries/read",
    "Microsoft.Compute/galleries/images/read",
    "Microsoft.Compute/galleries/images/versions/read",
)
NETWORK_ACTIONS: Final[tuple[str, ...]] = (
    "Microsoft.Network/virtualNetworks/read",
    "Microsoft.Network/virtualNetworks/subnets/join/action",
)
RUNNER_ACTIONS: Final[tuple[str, ...]] = (
    "Microsoft.VirtualMachineImages/imageTemplates/read",
    "Microsoft.VirtualMachineImages/imageTemplates/run/action",
    "Microsoft.VirtualMachineImages/imageTemplates/runOutputs/read",
)

#: Namespace of the name-based UUIDs of role definitions and assignments.
_NAMESPACE: Final = uuid.UUID("6f0c9f7e-5a8e-4f5e-9a51-9d7c1c0b6a11")


def stable_guid(*parts: str) -> str:
    """A UUID derived from ``parts`` (the same inputs always give the same id)."""
    return str(uuid.uuid5(_NAMESPACE, "/".join(parts)))


def resource_group_id(subscription_id: str, resource_group: str) -> str:
    """ARM id of a resource group."""
    return f"/subscriptions/{subscription_id}/resourceGroups/{resource_group}"


def scope_resource_group(resource_id: str) -> str:
    """The resource group id a resource id lives in (``/subscriptions/<s>/resourceGroups/<rg>``)."""
    parts = resource_id.split("/")
    return "/".join(parts[:5])


def role_name(purpose: str, environment: str, image: str, subscription_id: str, resource_group: str) -> str:
    """Tenant-unique custom role name, e.g. ``golden-images aib-gallery base-ubuntu dev (1a2b3c4d/rg-x)``."""
    return f"golden-images {purpose} {image} {environment} ({subscription_id[:8]}/{resource_group})"
