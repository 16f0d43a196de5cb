"""Pure naming and numbering for Proxmox templates: VM ids, file names, descriptions, encryption level.

No Pulumi and no I/O here, so every rule is tested directly (and the wait/convert provider parses what
:func:`template_description` writes with :func:`description_fingerprint`).
"""

from __future__ import annotations

import re

from golden_images.core.fingerprint import platform_fingerprint, short
from golden_images.platforms.proxmox.spec import ProxmoxSpec

#: A line of the machine-readable block :func:`template_description` appends.
_BLOCK_LINE = re.compile(r"^golden-images-[a-z-]+: \S+$")
_FINGERPRINT_LINE = re.compile(r"^golden-images-fingerprint: ([0-9a-f]{64})$")
#: MINOR and PATCH each take two decimal digits of a VM id (``1.4.2`` → ``10402``).
PART_LIMIT = 100


def version_slot(version: str) -> int:
    """``MAJOR*10000 + MINOR*100 + PATCH``: readable inside a VM id (``1.4.2`` → ``10402``) and distinct for
    every version :func:`version_slot_problem` accepts (MINOR and PATCH below 100)."""
    major, minor, patch = (int(part) for part in version.split("."))
    return major * PART_LIMIT * PART_LIMIT + minor * PART_LIMIT + patch


def version_slot_problem(spec: ProxmoxSpec, version: str) -> str | None:
    """Why ``version`` cannot have a VM id of its own under ``spec`` (``None`` when it can).

    Refused: MINOR or PATCH of 100 or more (``0.0.100`` would share ``0.1.0``'s id), and a slot at or beyond
    the node's share of ``vm_id_range`` (it would wrap onto a smaller version's id). Every accepted version
    therefore maps to a different VM id on every node."""
    _major, minor, patch = (int(part) for part in version.split("."))
    if minor >= PART_LIMIT or patch >= PART_LIMIT:
        return (
            f"version {version} does not fit Proxmox: MINOR and PATCH must each be at most {PART_LIMIT - 1} "
            "(they are two digits of the template's VM id, so larger values would reuse another version's id)"
        )
    slot = version_slot(version)
    share = node_share(spec)
    if slot >= share:
        needed = spec.vm_id_range.start + (slot + 1) * len(spec.nodes) - 1
        return (
            f"version {version} needs VM id slot {slot}, but proxmox.vm_id_range gives each of the "
            f"{len(spec.nodes)} node(s) only {share} ids (slots 0-{share - 1}); widen vm_id_range to end at "
            f"{needed} or more"
        )
    return None


def node_share(spec: ProxmoxSpec) -> int:
    """How many ids of ``vm_id_range`` each node owns (the range split evenly, remainder unused)."""
    return spec.vm_id_range.size // len(spec.nodes)


def template_vm_id(spec: ProxmoxSpec, version: str, node: str) -> int:
    """The VM id of ``version``'s template on ``node``: ``start + node_index * share + slot``.

    One id per version and node, so the templates of several versions coexist (``retain`` decides how many).
    VM ids are cluster-wide in PVE, hence one share per node. Injective: distinct accepted versions get
    distinct ids on each node and nodes never share an id; a version :func:`version_slot_problem` refuses
    (the catalog loader reports it) raises ``ValueError`` here rather than reuse an id.
    """
    problem = version_slot_problem(spec, version)
    if problem is not None:
        raise ValueError(problem)
    return spec.vm_id_range.start + spec.nodes.index(node) * node_share(spec) + version_slot(version)


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
    """The template's description: the catalog description, a blank line, then the machine-readable block
    (``golden-images-<key>: <value>`` lines: image, version, environment, the image fingerprint of the version
    record when given, and last the template fingerprint the wait/convert step matches before converting).
    Every value in the block is validated text without spaces or line breaks, so the block is always the
    description's last paragraph whatever the catalog description holds."""
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
    """The fingerprint recorded by :func:`template_description`, or ``None`` (total: any input).

    Only the description's last paragraph is read, and only when every line of it is a block line: the
    catalog description comes before the block, so a ``golden-images-fingerprint:`` line written in the
    catalog can never be taken for the template's fingerprint."""
    if not isinstance(description, str):
        return None
    # PVE keeps descriptions as config comments and may drop the trailing newline or use CRLF.
    text = description.replace("\r\n", "\n").rstrip("\n")
    block = text.rsplit("\n\n", 1)[-1].split("\n")
    if len(block) < 2 or not all(_BLOCK_LINE.fullmatch(line) for line in block):
        return None
    match = _FINGERPRINT_LINE.fullmatch(block[-1])
    return match.group(1) if match else None


def encryption_level(spec: ProxmoxSpec) -> str:
    """``attested`` when every datastore holding template bytes is on the operator's encrypted allow-list,
    otherwise ``none``. Proxmox has no API that proves a datastore is encrypted, so nothing stronger is
    honest."""
    return "attested" if all(spec.attested(d) is not None for d in spec.template_datastores()) else "none"
