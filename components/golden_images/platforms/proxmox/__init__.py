"""Proxmox VE platform: catalog section, cloud-init renderer, PVE client and the template component."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from golden_images.core.image import ImageCore
from golden_images.core.platform import Platform, Problems, StackConfigCheck
from golden_images.core.tokens import PROXMOX_GOLDEN_TEMPLATE
from golden_images.platforms.proxmox.spec import ProxmoxSpec

if TYPE_CHECKING:
    from golden_images.core.build import ImageBuild

TOKEN_SET_COMMAND = "pulumi config set --secret golden-images:proxmoxApiToken <user>@<realm>!<id>=<secret>"


def launch_reference(artifacts: Mapping[str, Any], build: ImageBuild, spec: ProxmoxSpec) -> dict[str, Any]:
    """Node → the template's VM id (what a clone names as its source)."""
    return {node: {"vm_id": int(vm_id)} for node, vm_id in artifacts.items()}


def checks(image: ImageCore, spec: ProxmoxSpec) -> Problems:
    """Versions the section cannot give a VM id of its own (see :func:`layout.version_slot_problem`)."""
    from golden_images.platforms.proxmox import layout

    problem = layout.version_slot_problem(spec, image.version)
    if problem is not None:
        yield ("version", problem)


def stack_config(
    value: Callable[[str], object | None],
    is_secret: Callable[[str], bool],
    environ: Mapping[str, str],
    dry_run: bool,
) -> StackConfigCheck:
    """``proxmoxEndpoint`` and an API token: the stack's *secret* ``proxmoxApiToken`` when set (a plaintext one
    is refused), otherwise the provider's own environment variable (``PROXMOX_VE_API_TOKEN``, then
    ``PM_VE_API_TOKEN``). Without either, a preview (``dry_run``) gets a note and ``pulumi up`` is refused."""
    from golden_images.platforms.proxmox.pve import PROXMOX_TOKEN_ENV_VARS

    problems: list[tuple[str, str]] = []
    notes: list[str] = []
    if not value("proxmoxEndpoint"):
        problems.append(
            (
                "proxmoxEndpoint",
                "required by the proxmox sections; set it with "
                "'pulumi config set golden-images:proxmoxEndpoint https://<host>:8006/'",
            )
        )
    token = value("proxmoxApiToken")
    if token is not None and not is_secret("proxmoxApiToken"):
        problems.append(
            (
                "proxmoxApiToken",
                "the Proxmox API token is in plaintext; store it encrypted with "
                f"'{TOKEN_SET_COMMAND}' (and remove the plaintext value from the stack file)",
            )
        )
    elif token is None and not any(environ.get(name) for name in PROXMOX_TOKEN_ENV_VARS):
        need = (
            f"the Proxmox API token: set it with '{TOKEN_SET_COMMAND}' or export {PROXMOX_TOKEN_ENV_VARS[0]} "
            "where `pulumi up` runs"
        )
        if dry_run:
            notes.append(f"`pulumi up` will need {need}")
        else:
            problems.append(("proxmoxApiToken", f"required by the proxmox sections: {need}"))
    return StackConfigCheck(tuple(problems), tuple(notes))


PLATFORM = Platform(
    name="proxmox",
    section=ProxmoxSpec,
    token=PROXMOX_GOLDEN_TEMPLATE,
    component="golden_images.platforms.proxmox.component:ProxmoxGoldenTemplate",
    launch_reference=launch_reference,
    checks=checks,
    stack_config=stack_config,
)
