"""The registry commands' human output and their bad-input paths (``show`` as a table, ``promote --json``,
``revoke`` with ``--at``, on an already revoked version and with channels left on it, ``policy-config``
with an unreadable base, ``record`` on a broken stack file), each asserted on the exit code, the words
printed and the registry file read back by the registry's own reader. No cloud: the registries are built by
``ops.record`` and nothing here reaches AWS."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from golden_images.cli import app
from golden_images.registry import commands, ops, store
from tests.registry.builders import layered_registry, ref

ROOT = Path(__file__).resolve().parents[2]
NOW = dt.datetime(2026, 11, 1, 12, 0, tzinfo=dt.UTC)
AMI_1 = "ami-0123456789abcdef0"
AMI_2 = "ami-0fedcba9876543210"
CHILD_AMI = "ami-0aaaabbbbccccdddd"
runner = CliRunner()


def _registry(tmp_path: Path, *, channel: bool = True) -> Path:
    """base-ubuntu 1.0.0 and 1.1.0 and app-runtime 2.0.0 on 1.1.0, prod; with ``channel`` the ``stable``
    channel of base-ubuntu points at 1.1.0."""
    reg = layered_registry(
        {"1.0.0": {"aws": {"us-east-1": AMI_1}}, "1.1.0": {"aws": {"us-east-1": AMI_2}}},
        now=NOW,
        child={"aws": {"us-east-1": CHILD_AMI}},
        child_of="1.1.0",
    )
    if channel:
        reg, _ = ops.promote(reg, ref("1.1.0"), "stable", now=NOW)
    path = tmp_path / "registry.yaml"
    store.save(reg, path)
    return path


def _run(*args: str) -> Any:
    return runner.invoke(app, list(args), catch_exceptions=False)


def _common(path: Path) -> list[str]:
    return ["--root", str(ROOT), "--registry", str(path)]


def _flat(text: str) -> str:
    """Rich wraps long lines at the terminal width; the words are what is asserted."""
    return " ".join(text.split())


def test_show_prints_a_table_per_image_with_state_ancestry_artifacts_and_channels(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Wide enough that no cell wraps (restored after the test: the console is the module's).
    monkeypatch.setattr(commands._out, "_width", 400)
    path = _registry(tmp_path)
    reg = store.load(path)
    reg, _ = ops.revoke(reg, ref("1.1.0"), reason="CVE-2026-1", at=NOW, now=NOW, rollback=False)
    store.save(reg, path)
    result = _run("registry", "show", *_common(path))
    assert result.exit_code == 0, result.output
    out = _flat(result.output)
    assert "base-ubuntu" in out and "app-runtime" in out
    assert f"us-east-1: {AMI_1}" in out and f"us-east-1: {CHILD_AMI}" in out
    # The descendant is revoked through its parent, and the table names the cause.
    assert "(cause: base-ubuntu 1.1.0 (prod))" in out
    assert "channel stable → base-ubuntu 1.1.0 (prod)" in out


def test_show_of_an_image_that_is_not_recorded_exits_2_naming_the_recorded_ones(tmp_path: Path) -> None:
    path = _registry(tmp_path)
    result = _run("registry", "show", "--image", "nope", *_common(path))
    assert result.exit_code == 2
    assert "image 'nope' is not in" in _flat(result.output)
    assert "app-runtime, base-ubuntu" in _flat(result.output)


def test_promote_json_reports_the_move_and_a_repeat_is_not_a_move(tmp_path: Path) -> None:
    path = _registry(tmp_path, channel=False)
    first = _run("promote", "base-ubuntu", "1.0.0", "--channel", "stable", "--json", *_common(path))
    assert first.exit_code == 0, first.output
    assert json.loads(first.output) == {
        "image": "base-ubuntu",
        "channel": "stable",
        "current": "base-ubuntu 1.0.0 (prod)",
        "moved": True,
    }
    again = _run("promote", "base-ubuntu", "1.0.0", "--channel", "stable", *_common(path))
    assert again.exit_code == 0, again.output
    assert "(already there)" in again.output
    channel = store.load(path).images["base-ubuntu"].channels["stable"]
    assert str(channel.current) == "base-ubuntu 1.0.0 (prod)"


def test_promote_to_a_channel_name_the_schema_refuses_exits_2_and_writes_nothing(tmp_path: Path) -> None:
    path = _registry(tmp_path, channel=False)
    before = path.read_bytes()
    result = _run("promote", "base-ubuntu", "1.0.0", "--channel", "Stable_Channel", *_common(path))
    assert result.exit_code == 2
    assert "channel 'Stable_Channel'" in _flat(result.output)
    assert path.read_bytes() == before


def test_revoke_with_a_blank_reason_exits_2_and_writes_nothing(tmp_path: Path) -> None:
    path = _registry(tmp_path)
    before = path.read_bytes()
    result = _run("revoke", "base-ubuntu", "1.0.0", "--reason", "   ", *_common(path))
    assert result.exit_code == 2
    assert "--reason must say why" in result.output
    assert path.read_bytes() == before


def test_revoke_of_a_version_that_is_not_recorded_exits_2(tmp_path: Path) -> None:
    path = _registry(tmp_path)
    result = _run("revoke", "base-ubuntu", "9.9.9", "--reason", "bad", *_common(path))
    assert result.exit_code == 2
    assert "9.9.9" in _flat(result.output)
    assert all(v.revocation is None for v in store.load(path).images["base-ubuntu"].versions)


def test_revoke_at_a_time_with_a_zone_is_stored_in_utc(tmp_path: Path) -> None:
    path = _registry(tmp_path)
    result = _run(
        "revoke", "base-ubuntu", "1.0.0", "--reason", "old kernel", "--at", "2030-01-01T10:00:00+02:00",
        "--json", *_common(path),
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    document = json.loads(result.output)
    assert document["revoked"] == ["base-ubuntu 1.0.0 (prod)"]
    assert document["at"] == "2030-01-01T08:00:00Z"
    revocation = store.load(path).images["base-ubuntu"].versions[0].revocation
    assert revocation is not None
    assert revocation.at == dt.datetime(2030, 1, 1, 8, 0, tzinfo=dt.UTC)
    assert revocation.reason == "old kernel"


def test_revoke_reports_the_descendant_and_the_channel_left_on_a_revoked_version(tmp_path: Path) -> None:
    path = _registry(tmp_path)
    result = _run("revoke", "base-ubuntu", "1.1.0", "--reason", "CVE-2026-2", *_common(path))
    assert result.exit_code == 0, result.output
    out = _flat(result.output)
    assert "revoked base-ubuntu 1.1.0 (prod) from" in out
    assert "revoked app-runtime 2.0.0 (prod) (built on base-ubuntu 1.1.0 (prod))" in out
    assert "channel stable of base-ubuntu points at revoked base-ubuntu 1.1.0 (prod)" in out
    assert "(pass --rollback or promote a good version)" in out
    # Nothing moved without --rollback.
    assert (
        str(store.load(path).images["base-ubuntu"].channels["stable"].current) == "base-ubuntu 1.1.0 (prod)"
    )


def test_revoke_with_rollback_moves_the_channel_and_says_so(tmp_path: Path) -> None:
    path = _registry(tmp_path, channel=False)
    reg = store.load(path)
    for version in ("1.0.0", "1.1.0"):  # the channel's history holds 1.0.0 to roll back to
        reg, _ = ops.promote(reg, ref(version), "stable", now=NOW)
    store.save(reg, path)
    result = _run("revoke", "base-ubuntu", "1.1.0", "--reason", "CVE-2026-3", "--rollback", *_common(path))
    assert result.exit_code == 0, result.output
    out = _flat(result.output)
    assert "channel stable of base-ubuntu: base-ubuntu 1.1.0 (prod) → base-ubuntu 1.0.0 (prod)" in out
    assert (
        str(store.load(path).images["base-ubuntu"].channels["stable"].current) == "base-ubuntu 1.0.0 (prod)"
    )


def test_revoke_with_rollback_and_no_good_version_says_the_channel_is_stranded(tmp_path: Path) -> None:
    reg = layered_registry({"1.0.0": {"aws": {"us-east-1": AMI_1}}}, now=NOW)
    reg, _ = ops.promote(reg, ref("1.0.0"), "stable", now=NOW)
    path = tmp_path / "registry.yaml"
    store.save(reg, path)
    result = _run("revoke", "base-ubuntu", "1.0.0", "--reason", "CVE-2026-4", "--rollback", *_common(path))
    assert result.exit_code == 0, result.output
    assert "(no good version to roll back to)" in _flat(result.output)


def test_revoking_a_revoked_version_again_changes_nothing_and_says_so(tmp_path: Path) -> None:
    path = _registry(tmp_path, channel=False)
    assert _run("revoke", "base-ubuntu", "1.0.0", "--reason", "first", *_common(path)).exit_code == 0
    after_first = path.read_bytes()
    result = _run("revoke", "base-ubuntu", "1.0.0", "--reason", "second", *_common(path))
    assert result.exit_code == 0, result.output
    assert "base-ubuntu 1.0.0 (prod) was already revoked; nothing changed" in _flat(result.output)
    assert path.read_bytes() == after_first


def test_policy_config_with_a_base_that_is_not_json_exits_2_naming_the_file(tmp_path: Path) -> None:
    path = _registry(tmp_path)
    base = tmp_path / "base.json"
    base.write_text("{not json")
    result = _run("registry", "policy-config", "--base", str(base), *_common(path))
    assert result.exit_code == 2
    assert f"- {base}:" in _flat(result.output)


def test_record_on_a_broken_stack_file_exits_2_naming_the_problem(tmp_path: Path) -> None:
    path = tmp_path / "registry.yaml"
    stack_file = tmp_path / "Pulumi.dev.yaml"
    stack_file.write_text("config: [1, 2]\n")
    result = _run("registry", "record", "--stack", "dev", "--stack-file", str(stack_file), *_common(path))
    assert result.exit_code == 2
    assert "invalid input" in result.output
    assert not path.exists()


def test_commands_outside_a_project_without_root_exit_2(tmp_path: Path, monkeypatch: Any) -> None:
    monkeypatch.chdir(tmp_path)  # no Pulumi.yaml here or above (the temp dir is outside the repository)
    result = _run("registry", "show")
    assert result.exit_code == 2
    assert "no Pulumi.yaml here or above" in _flat(result.output)
