"""Wait for a builder VM to finish provisioning, then convert it into a template (proxmoxer, no Pulumi).

pulumi-proxmoxve creates and starts the builder VM but cannot wait for what happens *inside* the guest.
:func:`bake_template` does, with only these documented PVE API calls (``/api2/json`` prefix omitted):

* ``GET  /nodes/{node}/qemu/{vmid}/config`` — is it already a template, and of which fingerprint;
* ``GET  /nodes/{node}/qemu/{vmid}/status/current`` — ``running`` or ``stopped``;
* ``GET  /nodes/{node}/qemu/{vmid}/agent/file-read?file=…`` — the bake status the guest writes
  (``ok <fp>`` / ``failed <step> <fp>``; HTTP 500 while the guest agent is not up yet);
* ``PUT  /nodes/{node}/qemu/{vmid}/config`` with ``delete=cicustom`` — clones must not inherit the bake
  user data (they would provision themselves again on first boot);
* ``POST /nodes/{node}/qemu/{vmid}/template`` — the conversion;
* ``POST /nodes/{node}/qemu/{vmid}/status/stop`` and ``DELETE /nodes/{node}/qemu/{vmid}`` — cleanup of a
  failed builder, and ``DELETE`` for retention;
* ``GET  /nodes/{node}/qemu`` — the node's templates, for retention (and each VM's ``config``, so templates
  whose base disks linked clones still use are kept);
* ``GET  /nodes/{node}/tasks/{upid}/status`` — completion of the asynchronous calls above.

The conversion happens only after the guest reported ``ok`` with the expected fingerprint *and* powered
itself off. A ``failed`` report, a power-off without success, or the timeout raise :class:`BakeError` after
the builder is stopped and (unless ``keep_failed_builder``) deleted, so no half-made template remains.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol
from urllib.parse import urlsplit

import requests
from proxmoxer import ProxmoxAPI, ResourceException

from golden_images.core.rules import is_semver
from golden_images.core.tags import proxmox_tag
from golden_images.platforms.proxmox.cloudinit import STATUS_FILE
from golden_images.platforms.proxmox.layout import description_fingerprint

#: Environment variables holding the API token when the stack config has none, in the order the Proxmox
#: provider (bpg/terraform-provider-proxmox, bridged by pulumi-proxmoxve) reads them.
PROXMOX_TOKEN_ENV_VARS: tuple[str, ...] = ("PROXMOX_VE_API_TOKEN", "PM_VE_API_TOKEN")
#: Seconds to wait for a PVE task (conversion, stop, delete) before giving up on it.
TASK_TIMEOUT_SECONDS = 300.0


class BakeError(RuntimeError):
    """The template was not made; the message says why and what happened to the builder VM."""


class Api(Protocol):
    """The part of :class:`proxmoxer.ProxmoxAPI` used here (a resource path that can be called and walked)."""

    def __call__(self, resource_id: Any = ...) -> Any: ...

    def __getattr__(self, name: str) -> Any: ...


@dataclass(frozen=True)
class Connection:
    """How to reach the PVE API. ``api_token`` is ``<user>@<realm>!<token id>=<secret>`` (the form
    pulumi-proxmoxve takes) and is never put in messages."""

    endpoint: str
    api_token: str = field(repr=False)
    verify_tls: bool = True
    timeout_seconds: int = 30

    def __post_init__(self) -> None:
        parts = urlsplit(self.endpoint)
        if parts.scheme != "https" or not parts.hostname:
            raise ValueError(
                f"the Proxmox endpoint must be an https URL such as https://pve1:8006/, got {self.endpoint!r}"
            )
        user, _, rest = self.api_token.partition("!")
        name, _, secret = rest.partition("=")
        if "@" not in user or not name or not secret:
            raise ValueError("the Proxmox API token must look like <user>@<realm>!<token id>=<secret>")

    def open(self) -> Api:
        """A proxmoxer client for this connection."""
        parts = urlsplit(self.endpoint)
        user, _, rest = self.api_token.partition("!")
        name, _, secret = rest.partition("=")
        api: Api = ProxmoxAPI(
            parts.hostname,
            port=parts.port or 8006,
            user=user,
            token_name=name,
            token_value=secret,
            verify_ssl=self.verify_tls,
            timeout=self.timeout_seconds,
        )
        return api


def token_from_environment(environ: Mapping[str, str]) -> str | None:
    """The API token from :data:`PROXMOX_TOKEN_ENV_VARS` (the first one set), or ``None``."""
    return next((environ[name] for name in PROXMOX_TOKEN_ENV_VARS if environ.get(name)), None)


@dataclass(frozen=True)
class BakeRequest:
    """One template to finish: the builder VM ``vm_id`` on ``node`` built from ``fingerprint``.

    ``timeout_seconds`` bounds the whole wait; ``poll_seconds`` is the polling period. ``retain`` templates of
    the same image and environment (identified by their tags, inside ``vm_id_min``..``vm_id_max``) are kept
    per node after a successful conversion, older ones are deleted."""

    node: str
    vm_id: int
    image: str
    environment: str
    fingerprint: str
    timeout_seconds: float
    poll_seconds: float
    retain: int
    vm_id_min: int
    vm_id_max: int
    keep_failed_builder: bool = False


@dataclass(frozen=True)
class BakeResult:
    """What :func:`bake_template` did: when the template was converted (ISO-8601 UTC), whether it already
    existed (same fingerprint, nothing to do) and which older templates retention deleted."""

    converted_at: str
    adopted: bool
    pruned: tuple[int, ...] = ()


def _vm(api: Api, node: str, vm_id: int) -> Any:
    return api.nodes(node).qemu(vm_id)


def _is_upid(value: object) -> bool:
    return isinstance(value, str) and value.startswith("UPID:")


def wait_task(
    api: Api,
    node: str,
    upid: object,
    *,
    timeout: float = TASK_TIMEOUT_SECONDS,
    poll: float = 1.0,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> None:
    """Wait for the PVE task ``upid`` (calls that return ``null`` finished synchronously) and raise
    :class:`BakeError` unless it ends with exit status ``OK``."""
    if not _is_upid(upid):
        return
    deadline = clock() + timeout
    while True:
        status = api.nodes(node).tasks(upid).status.get() or {}
        if status.get("status") == "stopped":
            exit_status = status.get("exitstatus")
            if exit_status != "OK":
                raise BakeError(f"PVE task {upid} on node {node} failed: {exit_status}")
            return
        if clock() >= deadline:
            raise BakeError(f"PVE task {upid} on node {node} did not finish within {timeout:.0f} s")
        sleep(poll)


def read_bake_status(api: Api, node: str, vm_id: int) -> str | None:
    """The guest's bake status line, or ``None`` while the guest agent cannot answer (not installed or
    started yet: PVE answers HTTP 500 "QEMU guest agent is not running")."""
    try:
        data = _vm(api, node, vm_id).agent("file-read").get(file=STATUS_FILE)
    except ResourceException as exc:
        if exc.status_code in (500, 596):
            return None
        raise
    content = data.get("content") if isinstance(data, Mapping) else None
    return content.strip() if isinstance(content, str) else None


def _cleanup(api: Api, request: BakeRequest, sleep: Callable[[float], None]) -> str:
    """Stop the builder and, unless it is to be kept, delete it. Returns what happened, for the message."""
    vm = _vm(api, request.node, request.vm_id)
    try:
        status = (vm.status.current.get() or {}).get("status")
        if status == "running":
            wait_task(api, request.node, vm.status.stop.post(), sleep=sleep)
        if request.keep_failed_builder:
            return (
                f"The builder VM {request.vm_id} was stopped and kept for inspection (keep_failed_builder); "
                "delete it before the next run, then run `pulumi up --refresh`."
            )
        wait_task(
            api,
            request.node,
            vm.delete(purge=1, **{"destroy-unreferenced-disks": 1}),
            sleep=sleep,
        )
    except (ResourceException, requests.RequestException, BakeError) as exc:
        return f"Cleanup of builder VM {request.vm_id} failed too ({exc}); remove it by hand."
    return (
        f"The builder VM {request.vm_id} was stopped and deleted, so no half-made template exists; fix the "
        "cause, then run `pulumi up --refresh` to build it again."
    )


def _fail(api: Api, request: BakeRequest, reason: str, sleep: Callable[[float], None]) -> BakeError:
    where = f"Golden template {request.image} (VM {request.vm_id} on node {request.node})"
    return BakeError(f"{where} was not converted: {reason}. {_cleanup(api, request, sleep)}")


def _is_missing(exc: ResourceException) -> bool:
    # PVE answers a missing VM with HTTP 500 "Configuration file '…/<vmid>.conf' does not exist".
    return exc.status_code == 404 or "does not exist" in str(exc.content)


def _missing_builder(request: BakeRequest) -> BakeError:
    return BakeError(
        f"Builder VM {request.vm_id} of {request.image} does not exist on node {request.node} (deleted after an "
        "earlier failure?); run `pulumi up --refresh` so it is created again"
    )


def _existing_template(api: Api, request: BakeRequest) -> bool:
    """True when the VM already is the template of this build; :class:`BakeError` when it is a template of
    another build (same version, different content: the version must be bumped)."""
    try:
        config = _vm(api, request.node, request.vm_id).config.get() or {}
    except ResourceException as exc:
        if _is_missing(exc):
            raise _missing_builder(request) from None
        raise
    if not config.get("template"):
        return False
    found = description_fingerprint(config.get("description"))
    if found == request.fingerprint:
        return True
    raise BakeError(
        f"VM {request.vm_id} on node {request.node} already is a template of {request.image} built from "
        f"fingerprint {found or 'unknown'}, but the catalog now hashes to {request.fingerprint}: the image "
        "content changed without a version change. Bump the image version (templates are immutable)."
    )


def _wait(
    api: Api,
    request: BakeRequest,
    clock: Callable[[], float],
    sleep: Callable[[float], None],
) -> None:
    deadline = clock() + request.timeout_seconds
    reported_ok = False
    last = "no report from the guest agent yet"
    while True:
        try:
            status = (_vm(api, request.node, request.vm_id).status.current.get() or {}).get("status")
        except ResourceException as exc:
            if _is_missing(exc):
                raise _missing_builder(request) from None
            raise
        except requests.RequestException:
            status = None  # the API was briefly unreachable: keep waiting until the deadline
        if status == "running":
            line = read_bake_status(api, request.node, request.vm_id)
            if line is not None:
                last = f"last report {line!r}"
                words = line.split()
                if words[:1] == ["failed"]:
                    step = words[1] if len(words) > 2 else "unknown"
                    raise _fail(api, request, f"provisioning failed in step {step!r}", sleep)
                if words == ["ok", request.fingerprint]:
                    reported_ok = True
        elif status == "stopped":
            if reported_ok:
                return
            raise _fail(
                api,
                request,
                f"the builder powered off without reporting success for fingerprint {request.fingerprint} "
                f"({last}); it was stopped from outside, or the guest agent never answered",
                sleep,
            )
        if clock() >= deadline:
            minutes = request.timeout_seconds / 60
            raise _fail(
                api,
                request,
                f"provisioning did not finish within {minutes:g} minutes ({last}); raise build_timeout_minutes if "
                "the build is just slow",
                sleep,
            )
        sleep(request.poll_seconds)


def _version_key(version: str) -> tuple[int, ...]:
    return tuple(int(p) for p in version.split("."))


def retention_victims(vms: Iterable[Mapping[str, Any]], request: BakeRequest) -> list[int]:
    """VM ids of the templates retention deletes: this image's templates in this environment (recognised by
    the ``golden-image``, ``environment`` and ``managed-by`` tags and the image's id range) beyond the newest
    ``retain`` versions. The template just made is always kept; unrecognisable VMs are never touched."""
    wanted = {
        proxmox_tag("golden-image", request.image),
        proxmox_tag("environment", request.environment),
        proxmox_tag("managed-by", "golden-images"),
    }
    version_prefix = proxmox_tag("image-version", "")
    found: list[tuple[tuple[int, ...], int]] = []
    for vm in vms:
        vm_id = vm.get("vmid")
        if not isinstance(vm_id, int) or not vm.get("template") or vm_id == request.vm_id:
            continue
        if not request.vm_id_min <= vm_id <= request.vm_id_max:
            continue
        tags = set(str(vm.get("tags") or "").replace(",", ";").replace(" ", ";").split(";"))
        if not wanted <= tags:
            continue
        versions = [t[len(version_prefix) :] for t in tags if t.startswith(version_prefix)]
        if len(versions) != 1 or not is_semver(versions[0]):
            continue
        found.append((_version_key(versions[0]), vm_id))
    found.sort(reverse=True)
    return [vm_id for _, vm_id in found[max(request.retain - 1, 0) :]]


def _linked_clone_bases(api: Api, node: str, vms: Iterable[Mapping[str, Any]]) -> set[int]:
    """VM ids whose base disks other VMs on ``node`` still use: a linked clone's disk is named after its
    template's base volume (``local-lvm:base-1000-disk-0/vm-2000-disk-0``, ``local:1000/base-1000-disk-0.qcow2/…``)."""
    used: set[int] = set()
    for vm in vms:
        vm_id = vm.get("vmid")
        if not isinstance(vm_id, int):
            continue
        config = _vm(api, node, vm_id).config.get() or {}
        for value in config.values():
            used.update(int(m) for m in _BASE_VOLUME.findall(str(value)) if int(m) != vm_id)
    return used


#: ``base-<vmid>-disk-<n>``: the base volume of a template, referenced by its linked clones' disks.
_BASE_VOLUME = re.compile(r"(?:^|[:/])base-(\d+)-disk-\d+")


def prune(api: Api, request: BakeRequest, sleep: Callable[[float], None] = time.sleep) -> tuple[int, ...]:
    """Delete the templates :func:`retention_victims` names on the request's node, except templates that
    still have linked clones: PVE refuses to free a base volume a clone uses ("base volume … is still in use
    by linked cloned"), and the clone would lose its disk if it did not. Such a template is kept (counted
    beyond ``retain``) and deleted by a later bake once its clones are gone; a refusal that only the storage
    sees (a clone on another node of shared storage) is treated the same way."""
    vms = api.nodes(request.node).qemu.get() or []
    victims = retention_victims(vms, request)
    if not victims:
        return ()
    in_use = _linked_clone_bases(api, request.node, vms)
    pruned: list[int] = []
    for vm_id in victims:
        if vm_id in in_use:
            continue
        try:
            wait_task(
                api,
                request.node,
                _vm(api, request.node, vm_id).delete(purge=1, **{"destroy-unreferenced-disks": 1}),
                sleep=sleep,
            )
        except (ResourceException, BakeError) as exc:
            if "linked clone" in str(exc):
                continue
            raise
        pruned.append(vm_id)
    return tuple(pruned)


def bake_template(
    api: Api,
    request: BakeRequest,
    *,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
    now: Callable[[], datetime] = lambda: datetime.now(UTC),
) -> BakeResult:
    """Wait for the builder VM to finish provisioning and power off, then convert it into a template and
    apply retention. Idempotent: a VM that already is the template of this fingerprint is adopted."""
    if _existing_template(api, request):
        return BakeResult(converted_at=now().isoformat(timespec="seconds"), adopted=True)
    try:
        _wait(api, request, clock, sleep)
    except ResourceException as exc:
        # Anything else the API refuses (a missing VM.Monitor/VM.GuestAgent privilege, a node going away)
        # ends the bake the same way: no conversion, builder cleaned up, the API's own words in the message.
        raise _fail(api, request, f"the PVE API refused a call while waiting ({exc})", sleep) from None
    vm = _vm(api, request.node, request.vm_id)
    try:
        vm.config.put(delete="cicustom")
        wait_task(api, request.node, vm.template.post(), sleep=sleep)
    except (ResourceException, BakeError) as exc:
        raise _fail(api, request, f"the conversion into a template failed ({exc})", sleep) from None
    converted_at = now().isoformat(timespec="seconds")
    return BakeResult(converted_at=converted_at, adopted=False, pruned=prune(api, request, sleep))
