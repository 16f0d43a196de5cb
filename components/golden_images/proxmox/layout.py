"""Pure naming and numbering for Proxmox templates: VM ids, file names, descriptions, encryption level.

No Pulumi and no I/O here, so every rule is tested directly (and the wait/convert provider parses what
:func:`template_description` writes with :func:`description_fingerprint`).
"""

from __future__ import annotations

import re

from golden_images.common.fingerprint import platform_fingerprint, short
from golden_images.proxmox.spec import ProxmoxSpec

#: The description line the wait/convert step reads back to know which build a template holds.
_FINGERPRINT_LINE = re.compile(r"^golden-images-fingerprint: ([0-9a-f]{64})$", re.MULTILINE)


def version_slot(version: str) -> int:
    """``MAJOR*10000 + MINOR*100 + PATCH``: distinct for every version with MINOR and PATCH below 100, and
    readable inside a VM id (``1.4.2`` → ``10402``)."""
    major, minor, patch = (int(part) for part in version.split("."))
    return major * 10_000 + minor * 100 + patch


def node_share(spec: ProxmoxSpec) -> int:
    """How many ids of ``vm_id_range`` each node owns (the range split evenly, remainder unused)."""
    return spec.vm_id_range.size // len(spec.nodes)


def template_vm_id(spec: ProxmoxSpec, version: str, node: str) -> int:
    """The VM id of ``version``'s template on ``node``: ``start + node_index * share + slot % share``.

    One id per version and node, so the templates of several versions coexist (``retain`` decides how many).
    VM ids are cluster-wide in PVE, hence one share per node. Two versions whose slots are equal modulo the
    share would collide; PVE then refuses to create the second VM ("already exists") rather than overwrite
    the first, and a share of at least 10000 ids (or MINOR/PATCH kept below the share) avoids it entirely.
    """
    share = node_share(spec)
    return spec.vm_id_range.start + spec.nodes.index(node) * share + version_slot(version) % share


def template_fingerprint(image_fingerprint: str, spec: ProxmoxSpec) -> str:
    """The fingerprint of a template's *bytes*: the image fingerprint (OS and every step's content) plus
    what else ends up on the disk here: the cloud image digest, the disk size and the firmware (EFI vars).
    Hardware settings that a template can change in place (CPU, memory, network, tags) are left out."""
    return platform_fingerprint(
        image_fingerprint,
        "proxmox",
        {"cloud_image": spec.cloud_image.sha256, "disk_gb": spec.disk_gb, "uefi": spec.uefi},
    )


def cloud_image_file_name(image: str, sha256: str) -> str:
    """Datastore file name of the downloaded cloud image: ``<image>-<sha256[:12]>.img``. Content-addressed,
    so a new pin is a new file (never an overwrite), and ``.img`` because PVE before 8.4 refuses ``.qcow2``
    for the ``iso`` content type."""
    return f"{image}-{sha256[:12]}.img"


def snippet_file_name(image: str, version: str, fingerprint: str) -> str:
    """Snippet file name of the rendered user data: ``golden-<image>-<version>-<short fingerprint>.yaml``."""
    return f"golden-{image}-{version}-{short(fingerprint)}.yaml"


def builder_vm_name(image: str, version: str) -> str:
    """The VM (and template) name, a DNS name as PVE requires: ``<image>-<version with dashes>``."""
    return f"{image}-{version.replace('.', '-')}"


def template_description(
    description: str,
    image: str,
    version: str,
    environment: str,
    fingerprint: str,
    image_fingerprint: str | None = None,
) -> str:
    """The template's description: the catalog description, then machine-readable lines with the version,
    the image fingerprint of the version record (when given) and the template fingerprint (the wait/convert
    step matches the latter before converting)."""
    record = f"golden-images-image-fingerprint: {image_fingerprint}\n" if image_fingerprint else ""
    return (
        f"{description}\n\n"
        f"golden-images-image: {image}\n"
        f"golden-images-version: {version}\n"
        f"golden-images-environment: {environment}\n"
        f"{record}"
        f"golden-images-fingerprint: {fingerprint}\n"
    )


def description_fingerprint(description: object) -> str | None:
    """The fingerprint recorded by :func:`template_description`, or ``None`` (total: any input)."""
    if not isinstance(description, str):
        return None
    match = _FINGERPRINT_LINE.search(description)
    return match.group(1) if match else None


def encryption_level(spec: ProxmoxSpec) -> str:
    """``attested`` when every datastore holding template bytes is on the operator's encrypted allow-list,
    otherwise ``none``. Proxmox has no API that proves a datastore is encrypted, so nothing stronger is
    honest."""
    return "attested" if all(spec.attested(d) is not None for d in spec.template_datastores()) else "none"
