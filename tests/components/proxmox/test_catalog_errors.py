"""Bad ``proxmox`` sections: each names the stack file and the dotted field, says what is allowed, and the
program registers nothing."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from golden_images.catalog.loader import CatalogError, load_catalog
from golden_images.platforms.proxmox.spec import ProxmoxSpec
from tests.components.proxmox.helpers import catalog
from tests.conftest import ROOT, RunStack, assert_refused

PREFIX = "config.golden-images:catalog."
Edit = Callable[[dict[str, Any]], None]


def _defaults(c: dict[str, Any]) -> dict[str, Any]:
    section: dict[str, Any] = c["defaults"]["proxmox"]
    return section


def _set(path: str, value: Any) -> Edit:
    """An edit that sets ``defaults.proxmox.<path>`` (dotted) to ``value``."""

    def edit(c: dict[str, Any]) -> None:
        target = _defaults(c)
        *parents, last = path.split(".")
        for part in parents:
            target = target[part]
        target[last] = value

    return edit


def _image_range(start: int, end: int) -> Edit:
    def edit(c: dict[str, Any]) -> None:
        c["images"][1]["proxmox"]["vm_id_range"] = {"start": start, "end": end}

    return edit


def _version(version: str) -> Edit:
    def edit(c: dict[str, Any]) -> None:
        c["images"][0]["version"] = version

    return edit


def _drop_cloud_image(c: dict[str, Any]) -> None:
    del _defaults(c)["cloud_image"]


CASES: list[tuple[str, str, Edit, str, str]] = [
    # (id, stack, edit, dotted field, what the message must say)
    (
        "sha256-not-hex",
        "dev",
        _set("cloud_image.sha256", "NOT-A-DIGEST"),
        "images[0].proxmox.cloud_image.sha256",
        "64 lowercase hex digits",
    ),
    # base-ubuntu has no golden parent, so without the default cloud image it has no source at all (the
    # layered app-runtime builds from base-ubuntu and never reads cloud_image).
    (
        "cloud-image-missing",
        "dev",
        _drop_cloud_image,
        "images[0].proxmox",
        "set exactly one of cloud_image (a vendor image) or parent (a catalog image); got neither",
    ),
    (
        "http-url",
        "dev",
        _set("cloud_image.url", "http://cloud-images.ubuntu.com/noble.img"),
        "images[0].proxmox.cloud_image.url",
        "https URL",
    ),
    (
        "prod-floating-url",
        "prod",
        _set(
            "cloud_image.url", "https://cloud-images.ubuntu.com/noble/current/noble-server-cloudimg-amd64.img"
        ),
        "images[0].proxmox.cloud_image.url",
        "dated cloud-image build",
    ),
    (
        "duplicate-node",
        "staging",
        _set("nodes", ["pve-stg1", "pve-stg1"]),
        "images[0].proxmox.nodes",
        "listed more than once",
    ),
    ("bad-node-name", "dev", _set("nodes", ["pve_dev 1"]), "images[0].proxmox.nodes[0]", "PVE node name"),
    ("no-nodes", "dev", _set("nodes", []), "images[0].proxmox.nodes", "at least 1"),
    (
        "range-reversed",
        "dev",
        _image_range(2_099_999, 2_000_000),
        "images[1].proxmox.vm_id_range",
        "must not be below start",
    ),
    ("range-too-small", "prod", _image_range(2_000_000, 2_000_199), "images[1].proxmox", "at least 100 ids"),
    (
        "vm-id-below-100",
        "dev",
        _image_range(99, 20_000),
        "images[1].proxmox.vm_id_range.start",
        "greater than or equal to 100",
    ),
    (
        "prod-insecure-tls",
        "prod",
        _set("insecure_tls", True),
        "images[0].proxmox.insecure_tls",
        "must verify the Proxmox API's TLS certificate",
    ),
    (
        "unknown-mechanism",
        "staging",
        _set("encrypted_datastores", [{"datastore": "zfs-crypt", "mechanism": "hope", "evidence": "none"}]),
        "images[0].proxmox.encrypted_datastores[0].mechanism",
        "'luks'",
    ),
    (
        "attestation-without-evidence",
        "staging",
        _set("encrypted_datastores", [{"datastore": "zfs-crypt", "mechanism": "luks"}]),
        "images[0].proxmox.encrypted_datastores[0].evidence",
        "required",
    ),
    ("unknown-key", "dev", _set("template", True), "images[0].proxmox.template", "allowed keys here"),
    ("retain-zero", "dev", _set("retain", 0), "images[0].proxmox.retain", "greater than or equal to 1"),
    ("memory-as-string", "dev", _set("memory_mb", "2048"), "images[0].proxmox.memory_mb", "integer"),
    (
        "bad-datastore",
        "dev",
        _set("vm_datastore", "local lvm"),
        "images[0].proxmox.vm_datastore",
        "PVE storage id",
    ),
    # 0.0.100 would take 0.1.0's VM id (both slot 100): such versions are refused, not collided.
    ("patch-beyond-two-digits", "dev", _version("0.0.100"), "images[0].version", "at most 99"),
    ("minor-beyond-two-digits", "dev", _version("1.100.0"), "images[0].version", "at most 99"),
    # dev gives each node 100,000 ids: 10.0.0 needs slot 100000, which would wrap onto 0.0.0's id.
    ("version-beyond-the-share", "dev", _version("10.0.0"), "images[0].version", "widen vm_id_range"),
]


@pytest.mark.parametrize(
    ("stack", "edit", "field", "says"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_bad_proxmox_section_is_refused_before_anything_registers(
    run_stack: RunStack, stack: str, edit: Edit, field: str, says: str
) -> None:
    raw = catalog(stack)
    edit(raw)
    assert_refused(run_stack(stack, raw), stack, PREFIX + field, says)


def test_all_problems_are_reported_together() -> None:
    raw = catalog("prod")
    _set("insecure_tls", True)(raw)
    _set("cloud_image.sha256", "x")(raw)
    _image_range(5, 6)(raw)
    with pytest.raises(CatalogError) as info:
        load_catalog(raw, source="stacks/Pulumi.prod.yaml", root=ROOT, stack="prod")
    fields = {issue.path for issue in info.value.issues}
    assert {
        PREFIX + "images[0].proxmox.insecure_tls",
        PREFIX + "images[0].proxmox.cloud_image.sha256",
        PREFIX + "images[1].proxmox.insecure_tls",
        PREFIX + "images[1].proxmox.vm_id_range.start",
    } <= fields
    # The bad digest is the vendor source's: only base-ubuntu reads it; app-runtime is layered on base-ubuntu
    # (#15) and does not inherit cloud_image from the defaults, so it is not blamed for it.
    assert PREFIX + "images[1].proxmox.cloud_image.sha256" not in fields
    assert not [f for f in fields if f.startswith(PREFIX + "images[1].proxmox.cloud_image")]


def test_insecure_tls_and_floating_urls_are_allowed_outside_prod() -> None:
    raw = catalog("dev")
    _set("insecure_tls", True)(raw)
    _set("cloud_image.url", "https://cloud-images.ubuntu.com/noble/current/noble-server-cloudimg-amd64.img")(
        raw
    )
    cat = load_catalog(raw, source="stacks/Pulumi.dev.yaml", root=ROOT, stack="dev")
    spec = cat.images[0].proxmox
    assert isinstance(spec, ProxmoxSpec) and spec.insecure_tls


def test_defaults_are_documented_values() -> None:
    spec = ProxmoxSpec.model_validate(
        {
            "nodes": ("pve1",),
            "vm_id_range": {"start": 9000, "end": 9099},
            "cloud_image": {"url": "https://example.org/images/base.img", "sha256": "0" * 64},
        }
    )
    assert (spec.vm_datastore, spec.image_datastore, spec.snippets_datastore) == (
        "local-lvm",
        "local",
        "local",
    )
    assert (spec.cpu_cores, spec.memory_mb, spec.disk_gb, spec.bridge) == (2, 2048, 20, "vmbr0")
    assert spec.uefi and spec.retain == 3 and spec.encrypted_datastores == ()
    assert (spec.build_timeout_minutes, spec.poll_interval_seconds) == (60, 10)
    assert not spec.keep_failed_builder and not spec.insecure_tls and spec.ssh_username == "root"
