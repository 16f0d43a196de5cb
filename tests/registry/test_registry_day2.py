"""What the day-2 tools take from the registry (pure): the AMIs cleanup must keep and the AMIs of due
revocations, on registries built through the registry's own operations."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from golden_images.registry import ops
from golden_images.registry.day2 import project_registry, protected_amis, revoked_amis
from golden_images.registry.model import VersionRef
from tests.registry.builders import layered_registry, ref

NOW = dt.datetime(2026, 12, 2, 12, 0, tzinfo=dt.UTC)


def _ami(version: str, image: str = "b") -> str:
    return f"ami-{image}{version.replace('.', '')}".ljust(21, "0")


def _base(*versions: str) -> dict[str, dict[str, dict[str, str]]]:
    return {v: {"aws": {"us-east-1": _ami(v)}} for v in versions}


def test_channels_and_rollback_targets_are_kept() -> None:
    reg = layered_registry(_base("1.0.0", "1.1.0", "1.2.0", "1.3.0"), now=NOW)
    reg, _ = ops.promote(reg, ref("1.3.0"), "stable", now=NOW)
    reg, _ = ops.revoke(reg, ref("1.3.0"), reason="broken", at=NOW, now=NOW)
    keep = protected_amis(reg)
    # stable still names the revoked 1.3.0 (not rolled back), and 1.2.0 is where it would roll back to.
    assert set(keep) == {_ami("1.3.0"), _ami("1.2.0")}
    assert "channel stable of base-ubuntu" in keep[_ami("1.3.0")]
    assert "newest good version before the revoked base-ubuntu 1.3.0 (prod)" in keep[_ami("1.2.0")]


def test_rollback_target_skips_revoked_versions_and_other_environments() -> None:
    reg = layered_registry(_base("1.0.0", "1.1.0", "1.2.0"), now=NOW)
    reg, _ = ops.record(
        reg,
        image="base-ubuntu",
        environment="dev",
        version="1.1.5",
        fingerprint="d" * 64,
        artifacts={"aws": {"us-east-1": "ami-0dddddddddddddddd"}},
        parent=None,
        now=NOW,
    )
    for version in ("1.1.0", "1.2.0"):
        reg, _ = ops.revoke(reg, ref(version), reason="bad", at=NOW, now=NOW)
    # 1.2.0's nearest good predecessor in prod is 1.0.0 (1.1.0 is revoked; the dev 1.1.5 is another build).
    assert set(protected_amis(reg)) == {_ami("1.0.0")}


def test_lowest_revoked_version_has_no_target_and_scheduled_still_protects() -> None:
    reg = layered_registry(_base("1.0.0", "1.1.0"), now=NOW)
    reg, _ = ops.revoke(reg, ref("1.0.0"), reason="bad", at=NOW, now=NOW)
    assert protected_amis(reg) == {}
    reg, _ = ops.revoke(reg, ref("1.1.0"), reason="soon", at=NOW + dt.timedelta(days=3), now=NOW)
    assert protected_amis(reg) == {}  # 1.0.0 is revoked: 1.1.0 has no good predecessor either
    reg = layered_registry(_base("1.0.0", "1.1.0"), now=NOW)
    reg, _ = ops.revoke(reg, ref("1.1.0"), reason="soon", at=NOW + dt.timedelta(days=3), now=NOW)
    assert set(protected_amis(reg)) == {_ami("1.0.0")}  # kept before the revocation is even due


def test_revoked_amis_are_due_ones_with_their_cause() -> None:
    reg = layered_registry(
        _base("1.0.0", "1.1.0"), now=NOW, child={"aws": {"us-east-1": _ami("2.0.0", "a")}}, child_of="1.0.0"
    )
    reg, _ = ops.revoke(reg, ref("1.0.0"), reason="CVE", at=NOW - dt.timedelta(hours=1), now=NOW)
    reg, _ = ops.revoke(reg, ref("1.1.0"), reason="later", at=NOW + dt.timedelta(hours=1), now=NOW)
    revoked = revoked_amis(reg, NOW)
    assert set(revoked) == {_ami("1.0.0"), _ami("2.0.0", "a")}
    child = revoked[_ami("2.0.0", "a")]
    assert child.ref == VersionRef(image="app-runtime", environment="prod", version="2.0.0")
    assert child.cause == ref("1.0.0") and child.reason == "CVE" and child.region == "us-east-1"
    assert revoked[_ami("1.0.0")].cause is None
    assert set(revoked_amis(reg, NOW + dt.timedelta(hours=2))) == {
        _ami("1.0.0"),
        _ami("2.0.0", "a"),
        _ami("1.1.0"),
    }


def test_outside_a_project_the_registry_is_empty(tmp_path: Path) -> None:
    assert project_registry(tmp_path).images == {}
