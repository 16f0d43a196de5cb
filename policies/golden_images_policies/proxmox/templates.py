"""Proxmox VE templates: disks on attested-encrypted datastores, flat tags carrying the required keys.

Only templates are golden images; ordinary VMs on the same provider are left alone. Every VM kind of
pulumi-proxmoxve is judged (``index`` VmLegacy, Vm, Vm2Legacy; ``cloned`` Vm, VmLegacy; ContainerLegacy
templates). A template is a VM with
``template: true``, or a builder VM tagged ``managed-by`` ``golden-images``: golden-images creates the VM first
and converts it after provisioning (templating directly breaks linked clones on ZFS), so the engine only ever
sees ``template: false`` for what becomes the template.
Proxmox tags are a flat list. The tag renderer encodes each ``key: value`` pair as ``<key>.<value>`` (``_`` is also
accepted as the separator), lower-case, in ``[a-z0-9_][a-z0-9_+.-]*``, sorted because PVE sorts them (an unsorted
list shows a diff on every preview).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Final

from golden_images.core.rules import is_proxmox_tag

from .. import tagging
from ..base import Ctx, config_strings
from ..props import UNKNOWN, is_mapping
from ..props import shown as props_shown  # the local name "shown" is the message part
from ..registry import resource_policy

VM_LEGACY: Final = "proxmoxve:index/vmLegacy:VmLegacy"
VM: Final = "proxmoxve:index/vm:Vm"
VM2_LEGACY: Final = "proxmoxve:index/vm2Legacy:Vm2Legacy"
CLONED_VM: Final = "proxmoxve:cloned/vm:Vm"
CLONED_VM_LEGACY: Final = "proxmoxve:cloned/vmLegacy:VmLegacy"
CONTAINER_LEGACY: Final = "proxmoxve:index/containerLegacy:ContainerLegacy"
#: Every VM (and container) kind of pulumi-proxmoxve that can be, or become, a template.
ALL_VMS: Final = (VM_LEGACY, VM, VM2_LEGACY, CLONED_VM, CLONED_VM_LEGACY, CONTAINER_LEGACY)
#: Cloned kinds have no ``template`` input: only the builder tag marks them as golden templates.
_CLONED: Final = (CLONED_VM, CLONED_VM_LEGACY)
_SEPARATORS: Final = (".", "_")

DATASTORE_CONFIG: Final[dict[str, Any]] = {
    "encryptedDatastores": {
        "type": "array",
        "items": {"type": "string", "minLength": 1},
        "default": [],
        "description": (
            "Datastores the operator attests are encrypted at rest (LUKS, ZFS native encryption, encrypted "
            "Ceph OSDs). Empty: no datastore is trusted, every template fails."
        ),
    },
}


_BUILDER_TAGS: Final = frozenset(f"managed-by{sep}golden-images" for sep in _SEPARATORS)


def _is_template(ctx: Ctx) -> bool:
    template = ctx.props("template")
    explicit_false = template is False or (isinstance(template, str) and template.strip().lower() == "false")
    # Anything but absent, unknown or an explicit false could make a template: an unreadable flag is judged as
    # one (fail closed).
    if ctx.type not in _CLONED and template is not None and template is not UNKNOWN and not explicit_false:
        return True
    tags = ctx.props("tags")
    return any(isinstance(t, str) and t in _BUILDER_TAGS for t in ctx.props.items(tags))


def _datastores(ctx: Ctx) -> Iterable[tuple[str, Any]]:
    """``(label, datastore)`` for every place the VM keeps data, per kind's schema.

    ``disks`` (VmLegacy: a list), ``disk`` (cloned kinds: a map keyed by slot; ContainerLegacy: one object), EFI
    disk, TPM state, cloud-init drive, and the clone target. A cloned disk without its own datastore lands on
    ``clone.targetDatastore``, and without that on the source's datastore, which the resource does not show.
    """
    props = ctx.props
    for index, disk in enumerate(props.items(props("disks"))):
        interface = props.get(disk, "interface")
        label = f"disk {interface!r}" if isinstance(interface, str) else f"disk #{index + 1}"
        yield label, props.get(disk, "datastoreId")
    disk_map = props("disk")
    clone = props("clone")
    target = props.get(clone, "targetDatastore") if ctx.type in _CLONED else None
    if ctx.type == CONTAINER_LEGACY and disk_map is not None and disk_map is not UNKNOWN:
        yield "root disk", props.get(disk_map, "datastoreId")
    elif is_mapping(disk_map):
        for slot, disk in props.entries(disk_map):
            if disk is UNKNOWN:
                continue
            own = props.get(disk, "datastoreId")
            yield f"disk {slot!r}", target if own is None else own
    elif disk_map is not None and disk_map is not UNKNOWN:
        yield "disk map (could not be read: not an object)", disk_map
    if ctx.type in _CLONED and clone is not UNKNOWN:
        yield "cloned disks (clone.targetDatastore)", target
    for block, label in (
        ("efiDisk", "EFI disk"),
        ("tpmState", "TPM state"),
        ("initialization", "cloud-init drive"),
    ):
        value = props(block)
        if value is not None and value is not UNKNOWN:
            yield label, props.get(value, "datastoreId")


@resource_policy(
    name="proxmox-ve-template-encrypted-datastore",
    description="Proxmox templates keep every disk on a datastore attested as encrypted.",
    concern="encryption",
    severity="high",
    types=ALL_VMS,
    remediation=(
        "Place disks, EFI disk, TPM state and the cloud-init drive on a datastore listed in "
        "encryptedDatastores (record the mechanism and evidence with the operator)."
    ),
    config=DATASTORE_CONFIG,
    extra_tags=("proxmox",),
)
def _encrypted_datastores(ctx: Ctx) -> Iterable[str]:
    if not _is_template(ctx):
        return
    allowed = config_strings(ctx.config, "encryptedDatastores")
    for label, datastore in _datastores(ctx):
        if datastore is UNKNOWN:
            continue
        if isinstance(datastore, str) and datastore in allowed:
            continue
        if datastore is None:
            shown = "the source VM's datastore" if ctx.type in _CLONED else "the provider default (local-lvm)"
        else:
            shown = props_shown(datastore)
        yield (
            f"{ctx.label} keeps its {label} on datastore {shown}, which is not on the encrypted-datastore "
            f"allow-list (encryption there is attested, not enforced); move it to an encrypted datastore or "
            f"attest the datastore in encryptedDatastores."
        )


def _split(tag: str, required: list[str]) -> tuple[str, str] | None:
    for key in sorted(required, key=len, reverse=True):
        for sep in _SEPARATORS:
            if tag.startswith(key + sep) and len(tag) > len(key) + 1:
                return key, tag[len(key) + 1 :]
    return None


@resource_policy(
    name="proxmox-ve-template-required-tags",
    description="Proxmox templates carry the required golden-image tags in the flat, sorted encoding.",
    concern="tagging",
    severity="medium",
    types=ALL_VMS,
    remediation="Render tags as sorted '<key>.<value>' strings with the golden-images Proxmox tag renderer.",
    config=tagging.TAG_CONFIG,
    extra_tags=("proxmox",),
)
def _tags(ctx: Ctx) -> Iterable[str]:
    if not _is_template(ctx):
        return
    props = ctx.props
    tags = props("tags")
    if tags is UNKNOWN:
        return
    values = props.strings(tags)
    known = [t for t in values if isinstance(t, str)]
    bad = [t for t in known if not is_proxmox_tag(t)]
    if bad:
        yield (
            f"{ctx.label} has tags {', '.join(repr(b) for b in bad)} outside the flat encoding "
            f"[a-z0-9_][a-z0-9_+.-]*; render tags with the golden-images Proxmox tag renderer."
        )
    if known == values and known != sorted(known):
        yield f"{ctx.label} lists its tags unsorted; PVE sorts tags, so sort them to avoid a diff on every preview."
    required = config_strings(ctx.config, "requiredTagKeys")
    pairs: list[tuple[Any, Any]] = []
    for tag in values:
        if tag is UNKNOWN:
            continue
        split = _split(tag, required) if isinstance(tag, str) else None
        if split is not None:
            pairs.append(split)
    # An unknown tag could carry any key: only report what is certain.
    if any(t is UNKNOWN for t in values):
        found = {k for k, _ in pairs}
        pairs.extend((k, UNKNOWN) for k in required if k not in found)
    yield from tagging.pair_problems(ctx, pairs, "tags")
