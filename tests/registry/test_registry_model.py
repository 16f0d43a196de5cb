"""The registry file: strict schema, errors with file and dotted field, deterministic round-trip, and the pure
operations (record, promote, revoke with ancestry, rollback, policy config)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from golden_images.registry import ops, store
from golden_images.registry.model import SCHEMA_VERSION, Registry, VersionRef

NOW = dt.datetime(2026, 12, 1, 12, 0, tzinfo=dt.UTC)
FP = "a" * 64
FP2 = "b" * 64


def _ref(image: str, version: str, env: str = "prod") -> VersionRef:
    return VersionRef.model_validate({"image": image, "environment": env, "version": version})


def _seed() -> Registry:
    """base 1.0.0 and 1.1.0 (prod), app 2.0.0 built on base 1.1.0, app 2.1.0 built on base 1.0.0."""
    reg = Registry(schema_version=SCHEMA_VERSION)
    for version, ami in (("1.0.0", "ami-0000000000000a100"), ("1.1.0", "ami-0000000000000a110")):
        reg, _ = ops.record(
            reg,
            image="base-ubuntu",
            environment="prod",
            version=version,
            fingerprint=FP if version == "1.0.0" else FP2,
            artifacts={"aws": {"us-east-1": ami}},
            parent=None,
            now=NOW,
        )
    for version, parent, ami in (
        ("2.0.0", "1.1.0", "ami-0000000000000b200"),
        ("2.1.0", "1.0.0", "ami-0000000000000b210"),
    ):
        reg, _ = ops.record(
            reg,
            image="app-runtime",
            environment="prod",
            version=version,
            fingerprint=FP,
            artifacts={"aws": {"us-east-1": ami}},
            parent=_ref("base-ubuntu", parent),
            now=NOW,
        )
    return reg


def test_round_trip_is_deterministic(tmp_path: Path) -> None:
    reg = _seed()
    path = tmp_path / "registry.yaml"
    assert store.save(reg, path) is True
    text = path.read_text()
    assert store.load(path) == reg
    assert store.save(store.load(path), path) is False  # byte-identical: nothing rewritten
    assert path.read_text() == text
    assert text.index("app-runtime:") < text.index("base-ubuntu:")  # sorted
    assert "'2026-12-01T12:00:00Z'" in text


def test_missing_file_is_empty(tmp_path: Path) -> None:
    assert store.load(tmp_path / "none.yaml") == Registry(schema_version=SCHEMA_VERSION)


@pytest.mark.parametrize(
    ("text", "path", "expected"),
    [
        ("schema_version: 2\nimages: {}\n", "schema_version", "not supported"),
        ("schema_version: '1'\n", "schema_version", "integer"),
        ("schema_version: 1\nextra: 1\n", "extra", "Extra inputs"),
        (
            "schema_version: 1\nimages:\n  base-ubuntu:\n    versions:\n      - {environment: qa, version: '1.0.0',"
            " fingerprint: " + FP + ", recorded_at: '2026-12-01T00:00:00Z'}\n",
            "images.base-ubuntu.versions[0].environment",
            "'dev'",
        ),
        (
            "schema_version: 1\nimages:\n  base-ubuntu:\n    versions:\n      - {environment: dev, version: 1.0,"
            " fingerprint: " + FP + ", recorded_at: '2026-12-01T00:00:00'}\n",
            "images.base-ubuntu.versions[0].version",
            "string",
        ),
        (
            "schema_version: 1\nimages:\n  base-ubuntu:\n    versions:\n      - {environment: dev, version: '1.0.0',"
            " fingerprint: " + FP + ", recorded_at: '2026-12-01T00:00:00'}\n",
            "images.base-ubuntu.versions[0].recorded_at",
            "time zone",
        ),
        (
            "schema_version: 1\nimages:\n  base-ubuntu:\n    channels:\n      stable: {promotes_from: candidate}\n",
            "images.base-ubuntu",
            "not declared",
        ),
        ("schema_version: 1\nimages: *x\n", "images", "alias"),
    ],
)
def test_invalid_files_name_file_and_field(tmp_path: Path, text: str, path: str, expected: str) -> None:
    file = tmp_path / "registry.yaml"
    file.write_text(text)
    with pytest.raises(store.RegistryError) as caught:
        store.load(file)
    issues = caught.value.issues
    assert any(i.path == path and expected in i.message for i in issues), issues
    assert all(i.file == str(file) for i in issues)


def test_record_is_idempotent_and_refuses_a_changed_build() -> None:
    reg = _seed()
    again, outcome = ops.record(
        reg,
        image="base-ubuntu",
        environment="prod",
        version="1.0.0",
        fingerprint=FP,
        artifacts={"aws": {"us-east-1": "ami-0000000000000a100"}},
        parent=None,
        now=NOW + dt.timedelta(days=1),
    )
    assert again == reg and not outcome.created and outcome.added == {}
    with pytest.raises(ops.RefusedError, match="bump the image's version"):
        ops.record(
            reg,
            image="base-ubuntu",
            environment="prod",
            version="1.0.0",
            fingerprint=FP2,
            artifacts={},
            parent=None,
            now=NOW,
        )


def test_promote_rules() -> None:
    reg = _seed()
    doc = reg.model_dump()
    doc["images"]["base-ubuntu"]["channels"] = {
        "candidate": {"current": None, "promotes_from": None, "history": []},
        "stable": {"current": None, "promotes_from": "candidate", "history": []},
    }
    reg = Registry.model_validate(doc)
    v100 = _ref("base-ubuntu", "1.0.0")
    with pytest.raises(ops.RefusedError, match="never been on candidate"):
        ops.promote(reg, v100, "stable", now=NOW)
    reg, moved = ops.promote(reg, v100, "candidate", now=NOW)
    assert moved
    reg, moved = ops.promote(reg, v100, "stable", now=NOW)
    assert moved and reg.images["base-ubuntu"].channels["stable"].current == v100
    assert ops.promote(reg, v100, "stable", now=NOW) == (reg, False)
    with pytest.raises(ops.BadInputError, match="not recorded"):
        ops.resolve(reg, "base-ubuntu", "9.9.9")


def test_revoke_follows_ancestry_and_rolls_back() -> None:
    reg = _seed()
    v100, v110 = _ref("base-ubuntu", "1.0.0"), _ref("base-ubuntu", "1.1.0")
    reg, _ = ops.promote(reg, v100, "stable", now=NOW)
    reg, _ = ops.promote(reg, v110, "stable", now=NOW)
    app21 = _ref("app-runtime", "2.1.0")
    reg, _ = ops.promote(reg, app21, "stable", now=NOW)

    after, outcome = ops.revoke(reg, v110, reason="CVE-2026-1", at=NOW, now=NOW, rollback=True)
    assert outcome.revoked == [v110, _ref("app-runtime", "2.0.0")]  # the descendant goes with it
    revocation = after.images["app-runtime"].versions[0].revocation
    assert revocation is not None and revocation.cause == v110 and revocation.reason == "CVE-2026-1"
    assert after.images["app-runtime"].versions[1].revocation is None  # built on 1.0.0: untouched
    [report] = outcome.channels
    assert (report.image, report.channel, report.moved_to) == ("base-ubuntu", "stable", v100)
    stable = after.images["base-ubuntu"].channels["stable"]
    assert stable.current == v100 and stable.history[-1].action == "rollback"
    with pytest.raises(ops.RefusedError, match="is revoked"):
        ops.promote(after, v110, "stable", now=NOW)
    with pytest.raises(
        ops.RefusedError, match=r"revoked with base-ubuntu 1\.1\.0 \(prod\), which it is built on"
    ):
        ops.promote(after, _ref("app-runtime", "2.0.0"), "stable", now=NOW)

    # Revoking 1.0.0 strands base stable (no good version left) and revokes app 2.1.0 on the channel.
    last, outcome = ops.revoke(after, v100, reason="bad", at=NOW, now=NOW, rollback=True)
    assert {(r.image, r.stranded) for r in outcome.channels} == {("base-ubuntu", True), ("app-runtime", True)}
    assert last.images["base-ubuntu"].channels["stable"].current == v100


def test_policy_config_lists_revoked_and_approved() -> None:
    reg, _ = ops.revoke(_seed(), _ref("base-ubuntu", "1.1.0"), reason="CVE-2026-1", at=NOW, now=NOW)
    config = ops.policy_config(reg, {"all": "mandatory", ops.APPROVED_POLICY: {"requireApproved": True}})
    revoked = {a["id"]: a for a in config[ops.REVOKED_POLICY]["revokedArtifacts"]}
    assert set(revoked) == {"ami-0000000000000a110", "ami-0000000000000b200"}
    assert revoked["ami-0000000000000b200"]["cause"] == "base-ubuntu 1.1.0 (prod)"
    assert config[ops.SCHEDULED_POLICY]["enforcementLevel"] == "advisory"
    assert config[ops.APPROVED_POLICY] == {
        "requireApproved": True,
        "approvedArtifacts": ["ami-0000000000000a100", "ami-0000000000000b210"],
    }
    assert config["all"] == "mandatory"
