"""The documented minimum of IAM the GCP bake needs, and the deterministic service-account names (pure).

Three service accounts, each with only what its job needs:

* **build** (runs the Cloud Build build): ``roles/compute.instanceAdmin.v1`` on the project (create and delete
  the build VM and its disk, create the image, read it back for verification — Packer's documented role),
  ``roles/logging.logWriter`` (build logs, ``CLOUD_LOGGING_ONLY``), ``roles/cloudbuild.workerPoolUser`` (run
  in the private pool), ``roles/storage.objectViewer`` on the build bucket only, and
  ``roles/iam.serviceAccountUser`` on the build-VM account only (to attach it to the VM).
* **vm** (attached to the build VM): ``roles/logging.logWriter`` and ``roles/monitoring.metricWriter``.
* **scheduler** (Cloud Scheduler's OAuth identity): ``roles/pubsub.publisher`` on the bake topic only.

With a Shared VPC (the subnetwork is in a host project, ``network_project``), the build account also gets
``roles/compute.networkUser`` on *that one subnetwork* of the host project — the role holding
``compute.subnetworks.use``, without which Packer's ``instances.insert`` of the build VM is refused. Granted on
the subnetwork, not the host project, so the account can use no other subnet.

Plus two service-agent grants: the Cloud Build service agent may act as the build account
(``roles/iam.serviceAccountUser`` on it), and the Compute Engine service agent may use the CMEK key
(``roles/cloudkms.cryptoKeyEncrypterDecrypter`` on that key only).
"""

from __future__ import annotations

from typing import Final

from golden_images.core.fingerprint import digest

BUILD_PROJECT_ROLES: Final[tuple[str, ...]] = (
    "roles/compute.instanceAdmin.v1",
    "roles/logging.logWriter",
    "roles/cloudbuild.workerPoolUser",
)
VM_PROJECT_ROLES: Final[tuple[str, ...]] = ("roles/logging.logWriter", "roles/monitoring.metricWriter")
BUCKET_READER_ROLE: Final = "roles/storage.objectViewer"
#: Holds ``compute.subnetworks.use`` (and ``useExternalIp``); granted on the Shared VPC subnetwork only.
NETWORK_USER_ROLE: Final = "roles/compute.networkUser"
ACT_AS_ROLE: Final = "roles/iam.serviceAccountUser"
PUBLISHER_ROLE: Final = "roles/pubsub.publisher"
KMS_ROLE: Final = "roles/cloudkms.cryptoKeyEncrypterDecrypter"


def account_id(role: str, image: str, environment: str) -> str:
    """Service-account id ``gi-<role>-<8 hex>`` (6-30 chars, GCP's limit), unique per image, environment
    and role; the readable details go in the display name."""
    return f"gi-{role}-{digest([image, environment, role])[:8]}"


def account_email(account: str, project: str) -> str:
    """The email GCP gives a user-managed service account."""
    return f"{account}@{project}.iam.gserviceaccount.com"


def compute_service_agent(project_number: str) -> str:
    """The Compute Engine service agent, which encrypts image data with the CMEK key."""
    return f"serviceAccount:service-{project_number}@compute-system.iam.gserviceaccount.com"


def cloud_build_service_agent(project_number: str) -> str:
    """The Cloud Build service agent, which starts trigger builds as the build service account."""
    return f"serviceAccount:service-{project_number}@gcp-sa-cloudbuild.iam.gserviceaccount.com"
