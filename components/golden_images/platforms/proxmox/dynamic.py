"""``ProxmoxTemplateBake``: a Pulumi dynamic resource that waits for a builder VM and converts it.

The engine runs :class:`TemplateBakeProvider` in its Python dynamic-provider host; ``create`` calls
:func:`golden_images.platforms.proxmox.pve.bake_template`. The resource depends on the builder VM, so the conversion
can only start after pulumi-proxmoxve created and started it, and it only converts after the guest
reported success and powered off.

The API token arrives as a secret input; it is never returned in outputs (so it is not in the state in
plaintext either) and never put in messages. ``delete`` is deliberately a no-op: templates outlive the
resource that made them (older versions keep serving clones) and retention prunes them on later bakes.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

import pulumi
import pulumi.dynamic

from golden_images.platforms.proxmox.pve import (
    PROXMOX_TOKEN_ENV_VARS,
    BakeError,
    BakeRequest,
    Connection,
    bake_template,
    token_from_environment,
)

#: Inputs whose change means a different template: the resource is replaced (a new bake).
REPLACE_KEYS: tuple[str, ...] = ("node", "vm_id", "fingerprint", "image", "environment")
#: Inputs that stay in the state (everything but the secret token and the serialized provider).
_SECRET_KEYS = frozenset({"api_token", "__provider"})


def bake_request(props: dict[str, Any]) -> BakeRequest:
    """The :class:`BakeRequest` described by the resource's properties (snake_case: the dynamic resource's
    property names are also its Python attribute names)."""
    return BakeRequest(
        node=str(props["node"]),
        vm_id=int(props["vm_id"]),
        image=str(props["image"]),
        environment=str(props["environment"]),
        fingerprint=str(props["fingerprint"]),
        timeout_seconds=float(props["timeout_seconds"]),
        poll_seconds=float(props["poll_seconds"]),
        retain=int(props["retain"]),
        vm_id_min=int(props["vm_id_min"]),
        vm_id_max=int(props["vm_id_max"]),
        keep_failed_builder=bool(props.get("keep_failed_builder", False)),
    )


def connection(props: dict[str, Any], environ: Mapping[str, str] | None = None) -> Connection:
    """The API connection described by the resource's properties. Without an ``api_token`` input (the stack
    has no ``proxmoxApiToken``), the token comes from the provider's environment variables
    (:data:`~golden_images.platforms.proxmox.pve.PROXMOX_TOKEN_ENV_VARS`) of the process running the bake, the same
    ones pulumi-proxmoxve reads; ``environ`` defaults to ``os.environ``."""
    token = props.get("api_token")
    if not token:
        token = token_from_environment(os.environ if environ is None else environ)
    if not token:
        raise BakeError(
            "no Proxmox API token: set it with 'pulumi config set --secret golden-images:proxmoxApiToken "
            f"<user>@<realm>!<id>=<secret>' or export {PROXMOX_TOKEN_ENV_VARS[0]} where `pulumi up` runs"
        )
    return Connection(
        endpoint=str(props["endpoint"]),
        api_token=str(token),
        verify_tls=not bool(props.get("insecure_tls", False)),
    )


def public_state(props: dict[str, Any]) -> dict[str, Any]:
    """``props`` without the token and the serialized provider."""
    return {k: v for k, v in props.items() if k not in _SECRET_KEYS}


class TemplateBakeProvider(pulumi.dynamic.ResourceProvider):
    """CRUD of one baked template (see the module docstring)."""

    def create(self, props: dict[str, Any]) -> pulumi.dynamic.CreateResult:
        """Wait, convert, prune; the id is ``<node>/<vmid>``. Raises :class:`BakeError` (the engine reports
        the message and records nothing) when the template was not made."""
        request = bake_request(props)
        result = bake_template(connection(props).open(), request)
        outs = {
            **public_state(props),
            "template": True,
            "converted_at": result.converted_at,
            "adopted": result.adopted,
            "pruned": list(result.pruned),
        }
        return pulumi.dynamic.CreateResult(id_=f"{request.node}/{request.vm_id}", outs=outs)

    def diff(self, _id: str, _olds: dict[str, Any], _news: dict[str, Any]) -> pulumi.dynamic.DiffResult:
        """Replace on a new node, VM id, image, environment or fingerprint; update in place otherwise."""
        replaces = [k for k in REPLACE_KEYS if _olds.get(k) != _news.get(k)]
        changed = sorted(k for k in set(public_state(_news)) | {"endpoint"} if _olds.get(k) != _news.get(k))
        return pulumi.dynamic.DiffResult(
            changes=bool(replaces or changed), replaces=replaces, delete_before_replace=True
        )

    def update(self, _id: str, _olds: dict[str, Any], _news: dict[str, Any]) -> pulumi.dynamic.UpdateResult:
        """Settings that do not change the template (timeouts, retention, endpoint) are just recorded."""
        kept: dict[str, Any] = {
            k: _olds[k] for k in ("template", "converted_at", "adopted", "pruned") if k in _olds
        }
        return pulumi.dynamic.UpdateResult(outs={**public_state(_news), **kept})

    def delete(self, _id: str, _props: dict[str, Any]) -> None:
        """Leave the template in place (retention removes old versions on later bakes; see docs)."""


class ProxmoxTemplateBake(pulumi.dynamic.Resource, module="golden-images", name="ProxmoxTemplateBake"):
    """Waits for a builder VM to finish provisioning, then converts it into a template."""

    node: pulumi.Output[str]
    """The node holding the template."""
    vm_id: pulumi.Output[int]
    """The template's VM id."""
    fingerprint: pulumi.Output[str]
    """The image fingerprint the template was baked from."""
    converted_at: pulumi.Output[str]
    """When the conversion happened (ISO-8601, UTC)."""

    def __init__(self, name: str, props: dict[str, Any], opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__(
            TemplateBakeProvider(),
            name,
            {**props, "template": None, "converted_at": None, "adopted": None, "pruned": None},
            opts,
        )


__all__ = ["BakeError", "ProxmoxTemplateBake", "TemplateBakeProvider", "bake_request", "connection"]
