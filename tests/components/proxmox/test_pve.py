"""The wait/convert logic (pve.py) and its dynamic provider, against a local fake of the PVE API."""

from __future__ import annotations

from typing import Any

import pulumi.dynamic
import pytest

from golden_images.platforms.proxmox import pve
from golden_images.platforms.proxmox.dynamic import TemplateBakeProvider, bake_request, public_state
from golden_images.platforms.proxmox.layout import template_description
from golden_images.platforms.proxmox.pve import (
    BakeError,
    BakeRequest,
    Connection,
    bake_template,
    retention_victims,
)
from tests.components.proxmox.conftest import FP, TAGS, VMID
from tests.components.proxmox.fake_pve import TOKEN, FakePve, FakeVm

OTHER_FP = "b" * 64
# The fake's certificate is self-signed; verification is exercised by Connection's default (verify_tls=True).
pytestmark = pytest.mark.filterwarnings("ignore::urllib3.exceptions.InsecureRequestWarning")


def request(**overrides: Any) -> BakeRequest:
    values: dict[str, Any] = {
        "node": "pve1",
        "vm_id": VMID,
        "image": "base-ubuntu",
        "environment": "dev",
        "fingerprint": FP,
        "timeout_seconds": 2.0,
        "poll_seconds": 0.01,
        "retain": 2,
        "vm_id_min": 1_000_000,
        "vm_id_max": 1_099_999,
    }
    values.update(overrides)
    return BakeRequest(**values)


def api(endpoint: str) -> pve.Api:
    return Connection(endpoint=endpoint, api_token=TOKEN, verify_tls=False, timeout_seconds=5).open()


def builder(state: FakePve, script: list[tuple[str, str | None]], **kw: Any) -> FakeVm:
    return state.add(
        FakeVm(
            vmid=VMID,
            script=script,
            description=template_description("Base", "base-ubuntu", "1.4.2", "dev", FP),
            tags=TAGS.format(v="1.4.2"),
            **kw,
        )
    )


def test_converts_only_after_success_report_and_power_off(fake: tuple[str, FakePve]) -> None:
    endpoint, state = fake
    vm = builder(
        state,
        [("running", None), ("running", f"running {FP}"), ("running", f"ok {FP}"), ("stopped", None)],
    )
    result = bake_template(api(endpoint), request())
    assert vm.template and vm.cicustom is None and not result.adopted
    ops = state.ops()
    convert = ops.index(f"POST /{VMID}/template")
    # The conversion comes after the guest said ok and after a poll saw it stopped, and the bake user data is
    # removed from the config first so clones do not provision themselves again.
    assert ops.index(f"GET /{VMID}/agent/file-read") < convert
    last_status = max(i for i, op in enumerate(ops) if op == f"GET /{VMID}/status/current")
    assert last_status < ops.index(f"PUT /{VMID}/config") < convert
    assert vm.polls == 4
    assert all(h == f"PVEAPIToken={TOKEN}" for h in state.auth_headers)


def test_timeout_stops_and_deletes_the_builder(fake: tuple[str, FakePve]) -> None:
    endpoint, state = fake
    builder(state, [("running", f"running {FP}")])
    with pytest.raises(BakeError) as info:
        bake_template(api(endpoint), request(timeout_seconds=0.2))
    message = str(info.value)
    assert "did not finish within" in message and "running" in message
    assert "stopped and deleted" in message and "pulumi up --refresh" in message
    assert VMID not in state.vms  # no half-made template or VM is left
    assert f"POST /{VMID}/template" not in state.ops()
    writes = [op for op in state.ops() if not op.startswith("GET")]
    assert writes == [f"POST /{VMID}/status/stop", f"DELETE /{VMID}"]


def test_failed_step_fails_fast_with_the_step_name(fake: tuple[str, FakePve]) -> None:
    endpoint, state = fake
    vm = builder(state, [("running", None), ("running", f"failed provision:harden {FP}")])
    with pytest.raises(BakeError, match=r"provisioning failed in step 'provision:harden'"):
        bake_template(api(endpoint), request(timeout_seconds=30))
    assert vm.polls <= 3  # no waiting for the timeout
    assert VMID not in state.vms
    assert f"POST /{VMID}/template" not in state.ops()
    delete = next(p for m, p, p2 in state.calls if m == "DELETE")
    assert delete.endswith(f"/qemu/{VMID}")
    assert next(params for m, _, params in state.calls if m == "DELETE") == {
        "purge": "1",
        "destroy-unreferenced-disks": "1",
    }


def test_keep_failed_builder_only_stops_it(fake: tuple[str, FakePve]) -> None:
    endpoint, state = fake
    vm = builder(state, [("running", f"failed validate:sshd-syntax {FP}")])
    with pytest.raises(BakeError, match="kept for inspection"):
        bake_template(api(endpoint), request(keep_failed_builder=True))
    assert state.vms[VMID] is vm and not vm.template and vm.step[0] == "stopped"
    assert "DELETE" not in [m for m, _, _ in state.calls]


def test_power_off_without_success_report_is_a_failure(fake: tuple[str, FakePve]) -> None:
    endpoint, state = fake
    builder(state, [("running", f"running {FP}"), ("stopped", None)])
    with pytest.raises(BakeError, match="powered off without reporting success"):
        bake_template(api(endpoint), request())
    assert VMID not in state.vms and f"POST /{VMID}/template" not in state.ops()


def test_success_of_another_fingerprint_does_not_count(fake: tuple[str, FakePve]) -> None:
    endpoint, state = fake
    builder(state, [("running", f"ok {OTHER_FP}"), ("stopped", None)])
    with pytest.raises(BakeError, match="without reporting success"):
        bake_template(api(endpoint), request())


def test_failed_conversion_is_cleaned_up(fake: tuple[str, FakePve]) -> None:
    endpoint, state = fake
    builder(state, [("running", f"ok {FP}"), ("stopped", None)])
    state.fail_template = True
    with pytest.raises(BakeError, match="conversion into a template failed"):
        bake_template(api(endpoint), request())
    assert VMID not in state.vms


def test_api_refusal_while_waiting_is_a_clean_failure(fake: tuple[str, FakePve]) -> None:
    endpoint, state = fake
    builder(state, [("running", f"running {FP}")])
    state.deny_agent = True
    with pytest.raises(BakeError, match=r"refused a call while waiting .*Permission check failed"):
        bake_template(api(endpoint), request(timeout_seconds=30))
    assert VMID not in state.vms and f"POST /{VMID}/template" not in state.ops()


def test_existing_template_of_same_build_is_adopted(fake: tuple[str, FakePve]) -> None:
    endpoint, state = fake
    builder(state, [("stopped", None)], template=True)
    result = bake_template(api(endpoint), request())
    assert result.adopted
    assert state.ops() == [f"GET /{VMID}/config"]


def test_existing_template_of_other_content_asks_for_a_version_bump(fake: tuple[str, FakePve]) -> None:
    endpoint, state = fake
    builder(state, [("stopped", None)], template=True)
    with pytest.raises(BakeError, match="Bump the image version"):
        bake_template(api(endpoint), request(fingerprint=OTHER_FP))
    assert VMID in state.vms  # a real template is never deleted by a refused bake


def test_a_forged_fingerprint_in_the_catalog_description_is_not_adopted(fake: tuple[str, FakePve]) -> None:
    """A template of OTHER_FP whose catalog description carries a line claiming FP: the bake for FP must not
    take it for its own build (it used to: the first matching line anywhere in the description won)."""
    endpoint, state = fake
    forged = f"Base\ngolden-images-fingerprint: {FP}\n\ngolden-images-fingerprint: {FP}"
    state.add(
        FakeVm(
            vmid=VMID,
            script=[("stopped", None)],
            description=template_description(forged, "base-ubuntu", "1.4.2", "dev", OTHER_FP),
            tags=TAGS.format(v="1.4.2"),
            template=True,
        )
    )
    with pytest.raises(BakeError, match=f"built from fingerprint {OTHER_FP}"):
        bake_template(api(endpoint), request())
    assert VMID in state.vms


def test_missing_builder_says_to_refresh(fake: tuple[str, FakePve]) -> None:
    endpoint, _ = fake
    with pytest.raises(BakeError, match=r"does not exist .*pulumi up --refresh"):
        bake_template(api(endpoint), request())


def test_retention_deletes_only_older_templates_of_this_image(fake: tuple[str, FakePve]) -> None:
    endpoint, state = fake
    builder(state, [("running", f"ok {FP}"), ("stopped", None)])
    for vmid, version in ((1_010_401, "1.4.1"), (1_010_400, "1.4.0"), (1_010_300, "1.3.0")):
        state.add(FakeVm(vmid=vmid, template=True, tags=TAGS.format(v=version), script=[("stopped", None)]))
    # Not ours: another image, a plain VM, an id outside the range, a template without managed-by.
    state.add(
        FakeVm(
            vmid=1_010_200,
            template=True,
            tags="golden-image_other;environment_dev;managed-by_golden-images;image-version_1.0.0",
        )
    )
    state.add(FakeVm(vmid=1_010_100, template=False, tags=TAGS.format(v="1.1.0")))
    state.add(FakeVm(vmid=5_000, template=True, tags=TAGS.format(v="0.1.0")))
    state.add(
        FakeVm(
            vmid=1_010_000, template=True, tags="environment_dev;golden-image_base-ubuntu;image-version_1.0.0"
        )
    )
    result = bake_template(api(endpoint), request(retain=2))
    assert result.pruned == (1_010_400, 1_010_300)
    assert set(state.vms) == {VMID, 1_010_401, 1_010_200, 1_010_100, 5_000, 1_010_000}


def test_retention_victims_is_total_on_odd_listings() -> None:
    odd: list[dict[str, Any]] = [
        {},
        {"vmid": "1010400", "template": 1},
        {"vmid": 1_010_400, "template": 1, "tags": None},
        {"vmid": 1_010_401, "template": 1, "tags": TAGS.format(v="not-semver")},
        {"vmid": 1_010_402, "template": 1, "tags": TAGS.format(v="1.0.0")},  # the new template itself
    ]
    assert retention_victims(odd, request()) == []


def test_connection_refuses_plain_http_and_malformed_tokens() -> None:
    with pytest.raises(ValueError, match="https"):
        Connection(endpoint="http://pve1:8006/", api_token=TOKEN)
    with pytest.raises(ValueError, match="<user>@<realm>!<token id>=<secret>") as info:
        Connection(endpoint="https://pve1:8006/", api_token="s3cr3t-without-shape")
    assert "s3cr3t" not in str(info.value)
    assert TOKEN not in repr(Connection(endpoint="https://pve1:8006/", api_token=TOKEN))


def _props(endpoint: str, **overrides: Any) -> dict[str, Any]:
    props: dict[str, Any] = {
        "endpoint": endpoint,
        "api_token": TOKEN,
        "insecure_tls": True,  # the fake's certificate is self-signed
        "node": "pve1",
        "vm_id": float(VMID),  # numbers arrive as floats from the engine
        "image": "base-ubuntu",
        "environment": "dev",
        "fingerprint": FP,
        "timeout_seconds": 2.0,
        "poll_seconds": 0.01,
        "retain": 3.0,
        "vm_id_min": 1_000_000.0,
        "vm_id_max": 1_099_999.0,
        "keep_failed_builder": False,
        "__provider": "serialized",
    }
    props.update(overrides)
    return props


def test_dynamic_provider_create_returns_the_template_without_the_token(fake: tuple[str, FakePve]) -> None:
    endpoint, state = fake
    builder(state, [("running", f"ok {FP}"), ("stopped", None)])
    result = TemplateBakeProvider().create(_props(endpoint))
    assert result.id == f"pve1/{VMID}"
    outs = result.outs or {}
    assert outs["vm_id"] == VMID and outs["template"] is True and outs["converted_at"]
    assert "api_token" not in outs and "__provider" not in outs
    assert TOKEN not in repr(outs)
    assert state.vms[VMID].template


def test_dynamic_provider_create_failure_is_clear_and_leaves_nothing(fake: tuple[str, FakePve]) -> None:
    endpoint, state = fake
    builder(state, [("running", f"failed provision:harden {FP}")])
    with pytest.raises(BakeError) as info:
        TemplateBakeProvider().create(_props(endpoint))
    assert "base-ubuntu" in str(info.value) and TOKEN.split("=")[1] not in str(info.value)
    assert VMID not in state.vms


def test_dynamic_provider_diff_replaces_on_new_build_only() -> None:
    provider = TemplateBakeProvider()
    olds = public_state(_props("https://pve1:8006/"))
    same = provider.diff("pve1/1", olds, _props("https://pve1:8006/"))
    assert not same.changes and not same.replaces
    rebuilt = provider.diff("pve1/1", olds, _props("https://pve1:8006/", fingerprint=OTHER_FP))
    assert rebuilt.changes and rebuilt.replaces == ["fingerprint"] and rebuilt.delete_before_replace
    tuned = provider.diff("pve1/1", olds, _props("https://pve1:8006/", retain=5.0))
    assert tuned.changes and not tuned.replaces
    updated = provider.update(
        "pve1/1", {**olds, "converted_at": "t"}, _props("https://pve1:8006/", retain=5.0)
    )
    assert isinstance(updated, pulumi.dynamic.UpdateResult)
    assert (updated.outs or {})["converted_at"] == "t" and "api_token" not in (updated.outs or {})


def test_dynamic_provider_delete_keeps_the_template(fake: tuple[str, FakePve]) -> None:
    endpoint, state = fake
    builder(state, [("stopped", None)], template=True)
    TemplateBakeProvider().delete(f"pve1/{VMID}", public_state(_props(endpoint)))
    assert state.calls == [] and VMID in state.vms


def test_bake_request_coerces_engine_numbers() -> None:
    req = bake_request(_props("https://pve1:8006/"))
    assert req.vm_id == VMID and isinstance(req.vm_id, int) and req.retain == 3


# --- task failures, timeouts, a vanished builder, TLS ------------------------------------------------------


def test_conversion_task_that_fails_is_a_clean_failure_naming_the_exit_status(
    fake: tuple[str, FakePve],
) -> None:
    """The template POST is accepted but its task ends in an error (a full storage, a lock): no template,
    the task's own exit status in the message, the builder deleted."""
    endpoint, state = fake
    builder(state, [("running", f"ok {FP}"), ("stopped", None)])
    state.task_exit["qmtemplate"] = "can't lock file '/var/lock/qemu-server/lock-1010402.conf' - got timeout"
    with pytest.raises(BakeError) as info:
        bake_template(api(endpoint), request())
    message = str(info.value)
    assert "the conversion into a template failed (PVE task UPID:pve1:" in message
    assert ":qmtemplate:1010402:" in message
    assert (
        "on node pve1 failed: can't lock file '/var/lock/qemu-server/lock-1010402.conf' - got timeout"
        in message
    )
    assert "was stopped and deleted" in message
    assert VMID not in state.vms


def test_cleanup_task_that_fails_says_to_remove_the_builder_by_hand(fake: tuple[str, FakePve]) -> None:
    endpoint, state = fake
    builder(state, [("running", f"failed provision:harden {FP}")])
    state.task_exit["qmdestroy"] = "unable to remove VM 1010402 - VM is locked (backup)"
    with pytest.raises(BakeError) as info:
        bake_template(api(endpoint), request(timeout_seconds=30))
    message = str(info.value)
    assert "provisioning failed in step 'provision:harden'" in message
    assert "Cleanup of builder VM 1010402 failed too (PVE task UPID:pve1:" in message
    assert "failed: unable to remove VM 1010402 - VM is locked (backup)); remove it by hand." in message
    assert "stopped and deleted" not in message


def test_task_that_never_stops_times_out_after_the_given_seconds(fake: tuple[str, FakePve]) -> None:
    endpoint, state = fake
    state.hung_tasks.add("qmstop")
    upid = state.upid("qmstop", VMID)
    now = [0.0]
    slept: list[float] = []

    def sleep(seconds: float) -> None:
        slept.append(seconds)
        now[0] += seconds

    with pytest.raises(BakeError) as info:
        pve.wait_task(api(endpoint), "pve1", upid, timeout=5, poll=1.0, clock=lambda: now[0], sleep=sleep)
    assert str(info.value) == f"PVE task {upid} on node pve1 did not finish within 5 s"
    # Polled at 0..5 s (six status reads), slept five times in between: the deadline, not one poll more.
    assert slept == [1.0] * 5
    assert [op for op in state.ops() if "tasks" in op] == [
        f"GET /api2/json/nodes/pve1/tasks/{upid}/status"
    ] * 6


def test_synchronous_answers_are_not_waited_for(fake: tuple[str, FakePve]) -> None:
    endpoint, state = fake
    pve.wait_task(api(endpoint), "pve1", None, sleep=lambda s: pytest.fail("slept"))
    pve.wait_task(api(endpoint), "pve1", "not-a-upid", sleep=lambda s: pytest.fail("slept"))
    assert state.calls == []


def test_builder_vanishing_mid_wait_says_to_refresh_and_converts_nothing(fake: tuple[str, FakePve]) -> None:
    endpoint, state = fake
    builder(state, [("running", None), ("running", f"running {FP}"), ("gone", None)])
    with pytest.raises(BakeError) as info:
        bake_template(api(endpoint), request(timeout_seconds=30))
    assert str(info.value) == (
        f"Builder VM {VMID} of base-ubuntu does not exist on node pve1 (deleted after an earlier failure?); "
        "run `pulumi up --refresh` so it is created again"
    )
    ops = state.ops()
    assert ops.count(f"GET /{VMID}/status/current") == 3
    # Nothing was written: no stop, no delete, no conversion of a VM that is not there.
    assert [op for op in ops if not op.startswith("GET")] == []


def test_verify_tls_refuses_a_self_signed_certificate_before_sending_the_token(
    fake: tuple[str, FakePve],
) -> None:
    import requests

    endpoint, state = fake
    builder(state, [("running", f"ok {FP}"), ("stopped", None)])
    strict = Connection(endpoint=endpoint, api_token=TOKEN, timeout_seconds=5)
    assert strict.verify_tls is True  # the default
    with pytest.raises(requests.exceptions.SSLError, match="CERTIFICATE_VERIFY_FAILED"):
        bake_template(strict.open(), request())
    # The handshake failed: no request (and so no API token) ever reached the server.
    assert state.calls == [] and state.auth_headers == []
    assert not state.vms[VMID].template


def test_verify_tls_accepts_the_same_certificate_once_trusted(
    fake: tuple[str, FakePve], tmp_path: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The positive control for the refusal above: the same server, its certificate in the trust store
    (``REQUESTS_CA_BUNDLE``, how an internal CA is trusted), and verification on — the bake completes."""
    endpoint, state = fake
    builder(state, [("running", f"ok {FP}"), ("stopped", None)])
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(tmp_path / "pve.crt"))
    strict = Connection(endpoint=endpoint, api_token=TOKEN, timeout_seconds=5)
    result = bake_template(strict.open(), request())
    assert state.vms[VMID].template and not result.adopted
