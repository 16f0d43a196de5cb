"""The image registry in the day-2 tools, on the moto server of tests/tools (127.0.0.1 only): ``cleanup``
never removes an AMI a channel points at, nor the newest good version before a revoked one; ``audit``
reports AMIs of revoked versions that can still be launched and instances still running them. Each case
asserts moto's state or the report read back, and a control run without the registry shows the registry is
what made the difference."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import boto3
import pytest
from typer.testing import CliRunner

from golden_images.cli import app
from golden_images.registry import ops, store
from golden_images.registry.model import SCHEMA_VERSION, Registry, VersionRef
from golden_images.tools.audit import AuditConfig, Check, Severity, run_audit
from golden_images.tools.cleanup import CleanupPolicy, KeepCode, run_cleanup
from tests.tools.conftest import NOW, REGIONS, Seeder, golden_tags, tool_factory

R = REGIONS[0]
EMPTY = Registry(schema_version=SCHEMA_VERSION)
runner = CliRunner()


def _ref(version: str, image: str = "base") -> VersionRef:
    return VersionRef(image=image, environment="dev", version=version)


def _record(reg: Registry, image: str, version: str, ami: str, parent: VersionRef | None = None) -> Registry:
    reg, _ = ops.record(
        reg,
        image=image,
        environment="dev",
        version=version,
        fingerprint=version.replace(".", "") * 20,
        artifacts={"aws": {R: ami}},
        parent=parent,
        now=NOW - dt.timedelta(days=200),
    )
    return reg


def _history(seed: Seeder) -> tuple[dict[str, str], Registry]:
    """Six old, unused versions of ``base``; the registry has ``stable`` on 1.1.0 and 1.4.0 revoked, so
    1.3.0 is its rollback target; 1.5.0 is the newest (``keep=1``)."""
    ids = {
        v: seed.image(R, name=f"base-{v}", tags=golden_tags("base", v), age_days=200)
        for v in ("1.0.0", "1.1.0", "1.2.0", "1.3.0", "1.4.0", "1.5.0")
    }
    reg = EMPTY
    for version, ami in ids.items():
        reg = _record(reg, "base", version, ami)
    reg, _ = ops.promote(reg, _ref("1.1.0"), "stable", now=NOW)
    reg, _ = ops.revoke(reg, _ref("1.4.0"), reason="CVE-2026-0001", at=NOW - dt.timedelta(days=1), now=NOW)
    return ids, reg


POLICY = CleanupPolicy(keep=1, retention_days=90)


def test_cleanup_keeps_what_channels_and_rollbacks_need(seed: Seeder) -> None:
    ids, reg = _history(seed)
    control = run_cleanup(tool_factory(), [R], POLICY, apply=False, now=NOW, registry=EMPTY)
    assert {c.image.image_id for c in control.plan.candidates} == {
        ids[v] for v in ("1.0.0", "1.1.0", "1.2.0", "1.3.0", "1.4.0")
    }

    report = run_cleanup(tool_factory(), [R], POLICY, apply=True, now=NOW, registry=reg)
    assert report.ok, report
    kept = {k.image.image_id: k for k in report.plan.kept}
    assert kept[ids["1.1.0"]].code is KeepCode.REGISTRY
    assert "channel stable of base points at it (base 1.1.0 (dev))" in kept[ids["1.1.0"]].reason
    assert kept[ids["1.3.0"]].code is KeepCode.REGISTRY
    assert "newest good version before the revoked base 1.4.0 (dev)" in kept[ids["1.3.0"]].reason
    assert kept[ids["1.5.0"]].code is KeepCode.NEWEST
    # The revoked version itself is not protected: it goes with the others.
    assert {o.image_id for o in report.outcomes if o.ok} == {ids[v] for v in ("1.0.0", "1.2.0", "1.4.0")}
    assert seed.image_ids(R) == {ids[v] for v in ("1.1.0", "1.3.0", "1.5.0")}


def test_cleanup_reads_the_project_registry_and_refuses_an_invalid_one(
    seed: Seeder, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ids, reg = _history(seed)
    (tmp_path / "Pulumi.yaml").write_text("name: team\nruntime: python\n")
    store.save(reg, tmp_path / "stacks" / "registry.yaml")
    monkeypatch.chdir(tmp_path / "stacks")  # found from below the project root, like the registry commands
    dry = run_cleanup(tool_factory(), [R], POLICY, apply=False, now=NOW)
    assert {k.image.image_id for k in dry.plan.kept if k.code is KeepCode.REGISTRY} == {
        ids["1.1.0"],
        ids["1.3.0"],
    }

    (tmp_path / "stacks" / "registry.yaml").write_text("schema_version: 9\n")
    refused = run_cleanup(tool_factory(), [R], POLICY, apply=True, now=NOW)
    assert not refused.ok and refused.outcomes == () and refused.plan.candidates == ()
    assert (
        "image registry is invalid" in refused.failed_regions[R]
        and "schema_version" in refused.failed_regions[R]
    )
    assert seed.image_ids(R) == set(ids.values())  # nothing was touched


def _revoked_account(seed: Seeder) -> tuple[dict[str, str], Registry, dict[str, str]]:
    """base 1.3.0 revoked (a running and a terminated instance on it), app 2.0.0 built on it (a launch
    template uses it), base 1.4.0 good, base 1.5.0 scheduled for revocation tomorrow."""
    ids = {
        v: seed.image(R, name=f"base-{v}", tags=golden_tags("base", v)) for v in ("1.3.0", "1.4.0", "1.5.0")
    }
    ids["app"] = seed.image(R, name="app-2.0.0", tags=golden_tags("app", "2.0.0"))
    reg = EMPTY
    for version in ("1.3.0", "1.4.0", "1.5.0"):
        reg = _record(reg, "base", version, ids[version])
    reg = _record(reg, "app", "2.0.0", ids["app"], parent=_ref("1.3.0"))
    reg, _ = ops.revoke(
        reg, _ref("1.3.0"), reason="CVE-2026-0001 in openssh", at=NOW - dt.timedelta(hours=1), now=NOW
    )
    reg, _ = ops.revoke(reg, _ref("1.5.0"), reason="EOL", at=NOW + dt.timedelta(days=1), now=NOW)
    ec2 = boto3.client("ec2", region_name=R)
    running = seed.run_instance(R, ids["1.3.0"])
    gone = seed.run_instance(R, ids["1.3.0"])
    ec2.terminate_instances(InstanceIds=[gone])
    on_good = seed.run_instance(R, ids["1.4.0"])
    template = seed.launch_template(R, ids["app"])
    return ids, reg, {"running": running, "gone": gone, "good": on_good, "template": template}


def test_audit_reports_revoked_amis_still_launchable_and_running(seed: Seeder) -> None:
    ids, reg, users = _revoked_account(seed)
    control = run_audit(tool_factory(), [R], AuditConfig(), now=NOW, registry=EMPTY)
    assert not [f for f in control.findings if f.check in (Check.REVOKED_LAUNCHABLE, Check.REVOKED_RUNNING)]

    report = run_audit(tool_factory(), [R], AuditConfig(), now=NOW, registry=reg)
    revoked = {(f.image_id, f.check): f for f in report.findings if f.check.value.startswith("revoked-")}
    assert set(revoked) == {
        (ids["1.3.0"], Check.REVOKED_LAUNCHABLE),
        (ids["1.3.0"], Check.REVOKED_RUNNING),
        (ids["app"], Check.REVOKED_LAUNCHABLE),
    }
    running = revoked[(ids["1.3.0"], Check.REVOKED_RUNNING)]
    assert running.severity is Severity.CRITICAL and report.fails(Severity.HIGH)
    assert f"{users['running']} (running)" in running.message and users["gone"] not in running.message
    assert "CVE-2026-0001 in openssh" in running.message and "base 1.3.0 (dev)" in running.message
    app = revoked[(ids["app"], Check.REVOKED_LAUNCHABLE)]
    assert app.severity is Severity.HIGH
    assert "app 2.0.0 (dev)" in app.message and "built on the revoked base 1.3.0 (dev)" in app.message
    assert users["template"] in app.message  # the launch template still referencing it is named


def test_audit_command_applies_the_project_registry(
    seed: Seeder, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ids, reg, _ = _revoked_account(seed)
    (tmp_path / "Pulumi.yaml").write_text("name: team\nruntime: python\n")
    store.save(reg, tmp_path / "stacks" / "registry.yaml")
    monkeypatch.chdir(tmp_path)
    result = runner.invoke(app, ["audit", "--region", R, "--json"])
    assert result.exit_code == 1, result.output  # a critical finding
    doc = json.loads(result.stdout)
    codes = {(f["image_id"], f["check"]) for f in doc["findings"]}
    assert (ids["1.3.0"], "revoked-running") in codes and (ids["app"], "revoked-launchable") in codes
    assert not any(i in (ids["1.4.0"], ids["1.5.0"]) for i, c in codes if c.startswith("revoked-"))
