"""Retention never deletes a template whose base disk a linked clone still uses (PVE refuses, and the bake
would fail after the new template was converted, so retention would never run again)."""

from __future__ import annotations

from typing import Any

import pytest

from golden_images.platforms.proxmox.pve import BakeRequest, Connection, bake_template
from tests.components.proxmox.conftest import FP, TAGS, VMID
from tests.components.proxmox.fake_pve import TOKEN, FakePve, FakeVm

pytestmark = pytest.mark.filterwarnings("ignore::urllib3.exceptions.InsecureRequestWarning")


def _request(**overrides: Any) -> BakeRequest:
    values: dict[str, Any] = {
        "node": "pve1",
        "vm_id": VMID,
        "image": "base-ubuntu",
        "environment": "dev",
        "fingerprint": FP,
        "timeout_seconds": 30.0,
        "poll_seconds": 0.0,
        "retain": 1,
        "vm_id_min": 1_010_000,
        "vm_id_max": 1_019_999,
        **overrides,
    }
    return BakeRequest(**values)


def _bake(endpoint: str, state: FakePve, templates: dict[int, str], clones: dict[int, str]) -> Any:
    state.add(
        FakeVm(vmid=VMID, script=[("running", f"ok {FP}"), ("stopped", None)], tags=TAGS.format(v="1.4.2"))
    )
    for vmid, version in templates.items():
        state.add(
            FakeVm(
                vmid=vmid,
                template=True,
                tags=TAGS.format(v=version),
                script=[("stopped", None)],
                disks={"scsi0": f"local-lvm:base-{vmid}-disk-0"},
            )
        )
    for clone, volume in clones.items():
        state.add(FakeVm(vmid=clone, name="app", tags="", disks={"scsi0": volume}))
    api = Connection(endpoint=endpoint, api_token=TOKEN, verify_tls=False).open()
    return bake_template(api, _request(), sleep=lambda _s: None)


@pytest.mark.parametrize(
    "volume",
    [
        "local-lvm:base-1010400-disk-0/vm-3000-disk-0",
        "local:1010400/base-1010400-disk-0.qcow2/3000/vm-3000-disk-0.qcow2",
    ],
    ids=["lvm-thin", "directory-qcow2"],
)
def test_a_template_with_a_linked_clone_is_kept(fake: tuple[str, FakePve], volume: str) -> None:
    endpoint, state = fake
    result = _bake(endpoint, state, {1_010_401: "1.4.1", 1_010_400: "1.4.0"}, {3000: volume})
    # retain 1 keeps only the new template; 1.4.1 goes, 1.4.0 backs VM 3000 and stays.
    assert result.pruned == (1_010_401,)
    assert set(state.vms) == {VMID, 1_010_400, 3000}
    assert state.vms[VMID].template is True
    assert not any(m == "DELETE" and p.endswith("/1010400") for m, p, _ in state.calls)


def test_a_refusal_only_the_storage_knows_keeps_the_template(
    fake: tuple[str, FakePve], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A clone on another node of shared storage is invisible to the node's listing: PVE's refusal is then
    taken as "still in use" and the bake still succeeds."""
    from golden_images.platforms.proxmox import pve

    endpoint, state = fake
    monkeypatch.setattr(pve, "_linked_clone_bases", lambda *_a: set())
    result = _bake(
        endpoint, state, {1_010_400: "1.4.0"}, {3000: "local-lvm:base-1010400-disk-0/vm-3000-disk-0"}
    )
    assert result.pruned == ()
    assert 1_010_400 in state.vms and state.vms[VMID].template is True


def test_templates_without_clones_are_still_pruned(fake: tuple[str, FakePve]) -> None:
    endpoint, state = fake
    result = _bake(
        endpoint, state, {1_010_401: "1.4.1", 1_010_400: "1.4.0"}, {3000: "local-lvm:vm-3000-disk-0"}
    )
    assert result.pruned == (1_010_401, 1_010_400)
    assert set(state.vms) == {VMID, 3000}
