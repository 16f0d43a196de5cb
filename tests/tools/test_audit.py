"""Audit against a seeded moto account: every finding, exactly, plus the CLI contract (exit codes, JSON,
Markdown). Encryption, creation dates and deprecation times are seeded through moto's backend (moto has no
API for them and omits ``Ebs.Encrypted`` from ``DescribeImages``; see conftest)."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import boto3
import pytest
import typer
from moto.backends import get_backend
from typer.testing import CliRunner

from golden_images.tools.audit import AllowList, AuditConfig, Check, Severity, run_audit
from golden_images.tools.commands import register
from golden_images.tools.report import audit_json, audit_markdown
from tests.tools.conftest import ACCOUNT, GAPS, NOW, REGIONS, Seeder, golden_tags, image_arn, tool_factory

ORG = "arn:aws:organizations::111111111111:organization/o-abcdefghij"
OU_IN_ORG = "arn:aws:organizations::111111111111:ou/o-abcdefghij/ou-ab12-cdefghij"
OU_ELSEWHERE = "arn:aws:organizations::999999999999:ou/o-zzzzzzzzzz/ou-zz12-zzzzzzzz"
ALLOWED = "111111111111"
STRANGER = "222222222222"


def build_app() -> typer.Typer:
    app = typer.Typer()
    register(app)
    return app


def seed_account(seed: Seeder) -> dict[str, str]:
    """One image per situation; returns label → image id."""
    r = REGIONS[0]
    ids = {
        "v100-stale-unused": seed.image(
            r, name="base-ubuntu-1.0.0", tags=golden_tags("base-ubuntu", "1.0.0"), age_days=200
        ),
        "v110-lt-old-version": seed.image(
            r,
            name="base-ubuntu-1.1.0",
            tags=golden_tags("base-ubuntu", "1.1.0"),
            age_days=150,
            deprecation=NOW + dt.timedelta(days=10),
        ),
        "v120-deprecated": seed.image(
            r,
            name="base-ubuntu-1.2.0",
            tags=golden_tags("base-ubuntu", "1.2.0"),
            age_days=100,
            deprecation=NOW - dt.timedelta(days=1),
        ),
        "v130-running": seed.image(
            r, name="base-ubuntu-1.3.0", tags=golden_tags("base-ubuntu", "1.3.0"), age_days=20
        ),
        "v140-public": seed.image(
            r, name="base-ubuntu-1.4.0", tags=golden_tags("base-ubuntu", "1.4.0"), age_days=5, public=True
        ),
        "app-shared": seed.image(
            r,
            name="app-runtime-2.0.0",
            tags=golden_tags("app-runtime", "2.0.0"),
            age_days=10,
            share_accounts=[ALLOWED, STRANGER],
            share_orgs=[ORG],
            share_ous=[OU_IN_ORG, OU_ELSEWHERE],
        ),
        "app-unencrypted": seed.image(
            r, name="app-runtime-2.1.0", tags=golden_tags("app-runtime", "2.1.0"), age_days=3, encrypted=False
        ),
        "ci-missing-tags": seed.image(
            r,
            name="ci-runner-0.1.0",
            tags=golden_tags("ci-runner", "0.1.0", owner=None, **{"cost-center": None}),
            age_days=2,
        ),
        "hand-made": seed.image(r, name="hand-made", age_days=30),
        "other-tool": seed.image(
            r, name="other-tool", tags=golden_tags("other", "1.0.0", **{"managed-by": "packer"}), age_days=1
        ),
        "eu-clean": seed.image(
            REGIONS[1], name="base-ubuntu-1.4.0", tags=golden_tags("base-ubuntu", "1.4.0"), age_days=1
        ),
    }
    seed.run_instance(r, ids["v130-running"])
    seed.run_instance(REGIONS[1], ids["eu-clean"])
    # Version 1 of the template still references 1.1.0; $Latest moved on to 1.3.0.
    seed.launch_template(r, ids["v110-lt-old-version"], ids["v130-running"])
    return ids


EXPECTED = {
    ("v100-stale-unused", Check.STALE),
    ("v100-stale-unused", Check.UNUSED),
    ("v140-public", Check.PUBLIC),
    ("app-shared", Check.SHARED),
    ("app-unencrypted", Check.UNENCRYPTED),
    ("ci-missing-tags", Check.MISSING_TAGS),
    ("hand-made", Check.UNMANAGED),
    ("hand-made", Check.MISSING_TAGS),
    ("other-tool", Check.UNVERIFIED),  # golden tags but managed-by=packer: a claim, not proof
}
CONFIG = AuditConfig(
    max_age_days=90, keep=3, allow=AllowList(accounts=frozenset({ALLOWED}), organizations=frozenset({ORG}))
)


def test_audit_reports_exactly_the_seeded_findings(seed: Seeder) -> None:
    ids = seed_account(seed)
    label = {v: k for k, v in ids.items()}
    report = run_audit(tool_factory(), REGIONS, CONFIG, now=NOW)
    assert not report.partial
    assert {(label[f.image_id], f.check) for f in report.findings} == EXPECTED
    assert len(report.images) == len(ids)
    shared = next(f for f in report.findings if f.check is Check.SHARED)
    assert STRANGER in shared.message and OU_ELSEWHERE in shared.message
    assert ALLOWED not in shared.message and OU_IN_ORG not in shared.message
    missing = next(f for f in report.findings if f.image_id == ids["ci-missing-tags"])
    assert "owner, cost-center" in missing.message
    assert report.worst() is Severity.CRITICAL
    assert report.fails(Severity.CRITICAL) and not report.fails(None)


def test_without_allow_list_every_share_is_a_finding(seed: Seeder) -> None:
    image = seed.image(
        name="app-runtime-2.0.0",
        tags=golden_tags("app-runtime", "2.0.0"),
        share_accounts=[ALLOWED],
        share_orgs=[ORG],
    )
    seed.run_instance(REGIONS[0], image)
    report = run_audit(tool_factory(), [REGIONS[0]], AuditConfig(), now=NOW)
    assert [(f.check, f.severity) for f in report.findings] == [(Check.SHARED, Severity.HIGH)]
    assert report.fails(Severity.HIGH) and not report.fails(Severity.CRITICAL)


def test_clean_account_has_no_findings(seed: Seeder) -> None:
    image = seed.image(
        name="base-ubuntu-1.0.0", tags=golden_tags("base-ubuntu", "1.0.0"), age_days=400, deprecation=NOW
    )
    seed.run_instance(REGIONS[0], image)
    report = run_audit(tool_factory(), REGIONS, AuditConfig(), now=NOW)
    assert report.findings == () and not report.fails(Severity.INFO)


def test_renderers(seed: Seeder) -> None:
    seed_account(seed)
    report = run_audit(tool_factory(), REGIONS, CONFIG, now=NOW)
    doc = audit_json(report)
    assert doc["summary"]["images"] == 11
    assert doc["summary"]["by_check"] == {
        "public": 1,
        "shared-outside-allow-list": 1,
        "unencrypted-snapshot": 1,
        "missing-tags": 2,
        "stale-not-deprecated": 1,
        "unused-old-version": 1,
        "unmanaged": 1,
        "unverified-provenance": 1,
        "public-snapshot": 0,
        "snapshot-shared": 0,
        "aws-managed-key": 0,
        "deregistration-protected": 0,
        # The registry checks: this project has no stacks/registry.yaml, so nothing is revoked.
        "revoked-launchable": 0,
        "revoked-running": 0,
    }
    assert doc["summary"]["by_severity"]["critical"] == 1
    assert doc["summary"]["age_distribution"] == {
        "0-30 days": 8,
        "31-90 days": 0,
        "91-180 days": 2,
        "181-365 days": 1,
        "over 365 days": 0,
    }
    assert doc["partial"] is False and doc["failed_regions"] == {}
    json.dumps(doc)  # serialisable
    md = audit_markdown(report)
    for heading in ("## Findings by check", "## Findings by image", "## Age distribution", "## Findings"):
        assert heading in md
    assert "| public | critical | 1 |" in md
    assert "| base-ubuntu | 6 |" in md
    assert "Partial report" not in md


def test_cli_json_and_exit_codes(seed: Seeder, tmp_path: Path) -> None:
    seed_account(seed)
    runner = CliRunner()
    app = build_app()
    args = [
        "audit",
        "--regions",
        f"{REGIONS[0]},{REGIONS[1]}",
        "--allowed-account",
        ALLOWED,
        "--allowed-org",
        ORG,
    ]
    result = runner.invoke(app, [*args, "--json"])
    assert result.exit_code == 1, result.output
    doc = json.loads(result.stdout)
    assert doc["regions"] == [REGIONS[0], REGIONS[1]]
    assert len(doc["findings"]) == len(EXPECTED)
    assert runner.invoke(app, [*args, "--json", "--fail-on", "none"]).exit_code == 0
    md = runner.invoke(app, [*args, "--markdown", "--fail-on", "none"])
    assert md.exit_code == 0 and md.stdout.startswith("# Golden image audit")
    table = runner.invoke(app, [*args, "--fail-on", "none"])
    assert table.exit_code == 0 and "public" in table.stdout
    allow = tmp_path / "allow.json"
    allow.write_text(
        json.dumps(
            {"accounts": [ALLOWED, STRANGER], "organizations": [ORG], "organizational_units": [OU_ELSEWHERE]}
        )
    )
    only_allow = runner.invoke(
        app, ["audit", "-r", REGIONS[0], "--allow-list", str(allow), "--json", "--fail-on", "none"]
    )
    checks = {f["check"] for f in json.loads(only_allow.stdout)["findings"]}
    assert "shared-outside-allow-list" not in checks


def test_cli_default_region_comes_from_the_environment(seed: Seeder) -> None:
    seed.image(name="hand-made", age_days=1)
    result = CliRunner().invoke(build_app(), ["audit", "--json", "--fail-on", "low"])
    assert result.exit_code == 1
    assert json.loads(result.stdout)["regions"] == [REGIONS[0]]


def test_cli_honours_aws_region_which_botocore_ignores(seed: Seeder, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AWS_DEFAULT_REGION")
    monkeypatch.setenv("AWS_REGION", REGIONS[1])
    result = CliRunner().invoke(build_app(), ["audit", "--json"])
    assert result.exit_code == 0 and json.loads(result.stdout)["regions"] == [REGIONS[1]]


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (
            ["--fail-on", "bogus"],
            "error: --fail-on: unknown severity 'bogus'; use one of critical, high, medium,",
        ),
        (["--region", "nowhere"], "error: not an AWS region: nowhere"),
        (["--allowed-account", "12345"], "error: not a 12-digit account id: 12345"),
        (["--allowed-org", "o-notanarn"], "error: not an organization or OU ARN: o-notanarn"),
        (["--json", "--markdown"], "error: --json and --markdown are exclusive"),
        (["--allow-list", "/nonexistent/allow.json"], "error: allow-list file /nonexistent/allow.json:"),
        (["--profile", "no-such-profile"], "error: The config profile (no-such-profile) could not be found"),
    ],
)
def test_cli_bad_input_exits_2(args: list[str], says: str) -> None:
    # The sentence, not only the code: an unknown (misspelt) flag exits 2 too.
    result = CliRunner().invoke(build_app(), ["audit", *args])
    assert result.exit_code == 2, result.output
    assert says in " ".join(result.output.split()), result.output


def test_commands_are_registered_on_the_project_cli() -> None:
    from golden_images import cli

    names = {c.name or (c.callback.__name__ if c.callback else "") for c in cli.app.registered_commands}
    assert {"pin", "audit", "cleanup"} <= names


def test_audit_sees_snapshot_shares_aws_managed_keys_protection_and_unverified_provenance(
    seed: Seeder,
) -> None:
    r = REGIONS[0]
    ec2 = seed.ec2(r)
    ids = {
        "public-snap": seed.image(r, name="base-1.0.0", tags=golden_tags("base", "1.0.0")),
        "shared-snap": seed.image(r, name="base-1.1.0", tags=golden_tags("base", "1.1.0")),
        "aws-key": seed.image(r, name="base-1.2.0", tags=golden_tags("base", "1.2.0")),
        "protected": seed.image(r, name="base-1.3.0", tags=golden_tags("base", "1.3.0"), protected=True),
        # Canonical tags copied by a team, no Image Builder provenance at all.
        "copied-tags": seed.image(
            r, name="team-9.0.0", tags=golden_tags("base", "9.0.0", Ec2ImageBuilderArn=None)
        ),
        # Provenance tag naming a recipe of another image / of another account / unknown to Image Builder.
        "foreign-recipe": seed.image(
            r,
            name="x-1.0.0",
            tags=golden_tags(
                "base",
                "1.4.0",
                Ec2ImageBuilderArn=f"arn:aws:imagebuilder:{r}:{ACCOUNT}:image/web-dev-0123456789/1.4.0/1",
            ),
        ),
        "other-account": seed.image(
            r,
            name="y-1.0.0",
            tags=golden_tags(
                "base", "1.5.0", Ec2ImageBuilderArn=image_arn("base", "dev", "1.5.0", account=STRANGER)
            ),
        ),
        "not-an-output": seed.image(
            r, name="z-1.6.0", tags=golden_tags("base", "1.6.0"), in_image_builder=False
        ),
        "unknown-arn": seed.image(
            r, name="z-1.7.0", tags=golden_tags("base", "1.7.0"), in_image_builder=False
        ),
    }
    # Image Builder knows 1.6.0's image, but its outputs are another AMI.
    GAPS.images[image_arn("base", "dev", "1.6.0")] = [{"region": r, "image": ids["public-snap"]}]
    for image in ids.values():
        seed.run_instance(r, image)  # in use: no unused-old-version noise
    ec2.modify_snapshot_attribute(
        SnapshotId=seed.snapshot_of(r, ids["public-snap"]),
        Attribute="createVolumePermission",
        OperationType="add",
        GroupNames=["all"],
    )
    ec2.modify_snapshot_attribute(
        SnapshotId=seed.snapshot_of(r, ids["shared-snap"]),
        Attribute="createVolumePermission",
        OperationType="add",
        UserIds=[STRANGER, ALLOWED],
    )
    kms = boto3.client("kms", region_name=r)
    key = kms.create_key()["KeyMetadata"]["KeyId"]
    get_backend("kms")[ACCOUNT][r].keys[key].key_manager = "AWS"  # moto: every key is CUSTOMER
    seed.backend(r).snapshots[seed.snapshot_of(r, ids["aws-key"])].kms_key_id = key
    customer = kms.create_key()["KeyMetadata"]["KeyId"]
    seed.backend(r).snapshots[seed.snapshot_of(r, ids["public-snap"])].kms_key_id = customer
    config = AuditConfig(allow=AllowList(accounts=frozenset({ALLOWED})))
    report = run_audit(tool_factory(), [r], config, now=NOW)
    label = {v: k for k, v in ids.items()}
    found = {(label[f.image_id], f.check) for f in report.findings}
    assert found == {
        ("public-snap", Check.PUBLIC_SNAPSHOT),
        ("shared-snap", Check.SHARED_SNAPSHOT),
        ("aws-key", Check.AWS_MANAGED_KEY),
        ("protected", Check.PROTECTED),
        ("copied-tags", Check.UNVERIFIED),
        ("foreign-recipe", Check.UNVERIFIED),
        ("other-account", Check.UNVERIFIED),
        ("not-an-output", Check.UNVERIFIED),
        ("unknown-arn", Check.UNVERIFIED),
    }
    shared = next(f for f in report.findings if f.check is Check.SHARED_SNAPSHOT)
    assert STRANGER in shared.message and ALLOWED not in shared.message
    reasons = {label[f.image_id]: f.message for f in report.findings if f.check is Check.UNVERIFIED}
    assert "no Ec2ImageBuilderArn tag" in reasons["copied-tags"]
    assert "web-dev-0123456789" in reasons["foreign-recipe"]
    assert STRANGER in reasons["other-account"]
    assert "does not list" in reasons["not-an-output"]
    assert "Image Builder has no image" in reasons["unknown-arn"]
    doc = audit_json(report)
    by_id = {i["image_id"]: i for i in doc["images"]}
    assert by_id[ids["protected"]]["deregistration_protected"] is True
    assert by_id[ids["public-snap"]]["provenance"]["source"] == "image-builder"
    assert by_id[ids["copied-tags"]]["proven"] is False
    assert report.fails(Severity.CRITICAL)


def test_public_comes_from_describe_images_and_unanswered_image_builder_is_tag_only(seed: Seeder) -> None:
    r = REGIONS[0]
    image = seed.image(r, name="base-1.0.0", tags=golden_tags("base", "1.0.0"), public=True)
    seed.run_instance(r, image)
    GAPS.unavailable.add(r)  # as moto itself answers: 404 Not yet implemented
    report = run_audit(tool_factory(), [r], AuditConfig(), now=NOW)
    assert not report.partial
    assert [f.check for f in report.findings] == [Check.PUBLIC]
    (facts,) = report.images
    assert facts.public and facts.proven and facts.provenance.source == "tag-only"
    assert "GetImage unanswered" in facts.provenance.reason
