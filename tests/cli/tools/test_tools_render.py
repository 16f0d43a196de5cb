"""``audit``, ``cleanup`` and ``pin`` as people read them, at 80 and 120 columns, against moto.

Rendered from reports taken at a fixed time (ages and dates do not move); moto's random ids are numbered
(same length, so the layout is the one real ids get) before the text is compared with its reviewed snapshot.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import io
import json
import re
from pathlib import Path

import pytest
import typer
import yaml
from rich.console import Console
from typer.testing import CliRunner

from golden_images.tools import commands
from golden_images.tools import report as render
from golden_images.tools.audit import AllowList, AuditConfig, Severity, run_audit
from golden_images.tools.cleanup import CleanupPolicy, run_cleanup
from golden_images.tools.pin import Change, pin_stack
from tests.cli.snap import WIDTHS, check, rendered, stable_ids
from tests.tools.conftest import REGIONS, Seeder, golden_tags, tool_factory
from tests.tools.test_faults import Faults

NOW = dt.datetime(2026, 11, 30, 12, 0, tzinfo=dt.UTC)
R = REGIONS[0]
ALLOWED = "111111111111"
STRANGER = "222222222222"


def flat(text: str) -> str:
    """``text`` with every run of whitespace one space (wrapping undone)."""
    return " ".join(text.split())


def app() -> typer.Typer:
    a = typer.Typer()
    commands.register(a)
    return a


def seed_fleet(seed: Seeder) -> list[str]:
    """Images with one or several findings each, in two regions; returns their ids in creation order."""
    ids = [
        seed.image(R, name="base-ubuntu-1.0.0", tags=golden_tags("base-ubuntu", "1.0.0"), age_days=200),
        seed.image(
            R, name="base-ubuntu-1.4.0", tags=golden_tags("base-ubuntu", "1.4.0"), age_days=5, public=True
        ),
        seed.image(
            R,
            name="app-runtime-2.0.0",
            tags=golden_tags("app-runtime", "2.0.0"),
            age_days=10,
            share_accounts=[ALLOWED, STRANGER],
        ),
        seed.image(
            R, name="app-runtime-2.1.0", tags=golden_tags("app-runtime", "2.1.0"), age_days=3, encrypted=False
        ),
        seed.image(R, name="hand-made", age_days=30),
        seed.image(
            REGIONS[1], name="base-ubuntu-1.4.0", tags=golden_tags("base-ubuntu", "1.4.0"), age_days=1
        ),
    ]
    seed.run_instance(REGIONS[1], ids[-1])
    return ids


@pytest.mark.parametrize("width", WIDTHS)
def test_audit_findings_at_width(seed: Seeder, width: int) -> None:
    s = Seeder(NOW)
    ids = seed_fleet(s)
    config = AuditConfig(allow=AllowList(accounts=frozenset({ALLOWED})))
    report = run_audit(tool_factory(), [R, REGIONS[1]], config, now=NOW)
    assert report.findings and not report.partial

    def draw(console: object) -> None:
        render.audit_table(report, console)  # type: ignore[arg-type]
        console.print(render.audit_summary(report, Severity.HIGH))  # type: ignore[attr-defined]

    text = rendered(width, draw)
    for image_id in {f.image_id for f in report.findings}:
        assert image_id in text  # ids are never cut
    for f in report.findings:  # every message is there whole, wrapped under its AMI
        assert flat(f.message) in flat(text)
    assert flat(text).endswith(flat(render.audit_summary(report, Severity.HIGH).plain))
    assert flat(text).endswith("exit 1: a finding at or above high (--fail-on high).")
    check(f"audit-{width}", stable_ids(text, ids), width)


@pytest.mark.parametrize("width", WIDTHS)
def test_audit_with_an_unreachable_region_at_width(seed: Seeder, width: int) -> None:
    s = Seeder(NOW)
    ids = seed_fleet(s)
    faults = Faults(unreachable_region=REGIONS[1])
    report = run_audit(tool_factory(faults, max_attempts=1), [R, REGIONS[1]], AuditConfig(), now=NOW)
    assert list(report.failed_regions) == [REGIONS[1]]
    # The moto server's port is the OS's choice: a fixed one of the same length keeps the snapshot stable.
    error = re.sub(r"127\.0\.0\.1:\d+", "127.0.0.1:45823", report.failed_regions[REGIONS[1]])
    report = dataclasses.replace(report, failed_regions={REGIONS[1]: error})

    def draw(console: object) -> None:
        render.audit_table(report, console)  # type: ignore[arg-type]
        console.print(render.audit_summary(report, None))  # type: ignore[attr-defined]

    text = rendered(width, draw)
    lines = text.rstrip().splitlines()
    # The failed region comes before the closing line, which says why the exit code is 1.
    failed_at = next(i for i, line in enumerate(lines) if f"Region {REGIONS[1]} FAILED" in line)
    assert failed_at < len(lines) - 1 and "exit 1: partial report" in " ".join(lines[failed_at + 1 :])
    check(f"audit-partial-{width}", stable_ids(text, ids), width)


def test_audit_cli_shows_progress_per_region_and_no_early_all_clear(seed: Seeder) -> None:
    """Against an endpoint nothing answers: a line per region on stderr (not a terminal), and stdout never
    says "no findings" as if the audit had been complete."""
    faults = Faults(unreachable_region=REGIONS[1])
    commands.factory_hooks.append(faults)
    try:
        result = CliRunner().invoke(
            app(), ["audit", "-r", f"{R},{REGIONS[1]}", "--max-attempts", "1", "--fail-on", "none"]
        )
    finally:
        commands.factory_hooks.remove(faults)
    assert result.exit_code == 1
    assert f"audit: reading {R}, {REGIONS[1]}" in result.stderr
    assert re.search(rf"audit {REGIONS[1]}: FAILED: .*EndpointConnectionError", result.stderr), result.stderr
    assert re.search(rf"audit {R}: 0 images, 0 findings", result.stderr), result.stderr
    assert "Audited 0 images" not in result.stdout and "no findings" not in result.stdout
    assert flat(result.stdout).endswith(
        f"audit: 0 images in 1 of 2 regions; findings: none; exit 1: partial report, {REGIONS[1]} could not be read."
    )


def test_fail_on_lists_every_valid_value(seed: Seeder) -> None:
    result = CliRunner().invoke(app(), ["audit", "-r", R, "--fail-on", "bogus"])
    assert result.exit_code == 2
    assert "--fail-on: unknown severity 'bogus'; use one of critical, high, medium, low, info, none" in (
        " ".join(result.stderr.split())
    )


def seed_history(seed: Seeder) -> dict[str, str]:
    ids = {
        "1.0.0": seed.image(R, name="base-1.0.0", tags=golden_tags("base", "1.0.0"), age_days=300),
        "1.1.0": seed.image(R, name="base-1.1.0", tags=golden_tags("base", "1.1.0"), age_days=60),
        "1.2.0": seed.image(R, name="base-1.2.0", tags=golden_tags("base", "1.2.0"), age_days=200),
        "1.3.0": seed.image(R, name="base-1.3.0", tags=golden_tags("base", "1.3.0"), age_days=150),
        "1.4.0": seed.image(R, name="base-1.4.0", tags=golden_tags("base", "1.4.0"), age_days=120),
        "1.5.0": seed.image(R, name="base-1.5.0", tags=golden_tags("base", "1.5.0"), age_days=100),
        "hand": seed.image(R, name="hand-made", age_days=500),
    }
    seed.launch_template(R, ids["1.0.0"])
    return ids


@pytest.mark.parametrize("width", WIDTHS)
def test_cleanup_plan_shows_every_kept_reason_at_width(seed: Seeder, width: int) -> None:
    s = Seeder(NOW)
    ids = seed_history(s)
    report = run_cleanup(tool_factory(), [R], CleanupPolicy(keep=2, retention_days=90), apply=False, now=NOW)
    assert report.plan.kept and report.plan.candidates

    def draw(console: object) -> None:
        render.cleanup_table(report, console)  # type: ignore[arg-type]
        console.print(render.cleanup_summary(report))  # type: ignore[attr-defined]

    text = rendered(width, draw)
    for kept in report.plan.kept:  # each kept image with its code and its whole reason, in text too
        assert kept.image.image_id in text
        assert f"{kept.code.value}: {flat(kept.reason)}" in flat(text)
    for candidate in report.plan.candidates:
        assert candidate.image.image_id in text and all(snap in text for snap in candidate.snapshots)
    check(f"cleanup-{width}", stable_ids(text, list(ids.values())), width)


def test_cleanup_cli_closes_with_a_summary(seed: Seeder) -> None:
    seed_history(seed)
    result = CliRunner().invoke(app(), ["cleanup", "-r", R])
    assert result.exit_code == 0, result.output
    assert f"cleanup: reading {R}" in result.stderr and f"cleanup {R}: 7 images read" in result.stderr
    assert flat(result.stdout).endswith(
        "cleanup (dry run): 1 of 1 region read; 1 to deregister, 0 orphaned snapshot(s), 6 kept; "
        "exit 0: dry run, nothing changed."
    )


AL_X86 = "/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64"


def write_stack(root: Path, env: str, catalog: dict[str, object]) -> Path:
    (root / "stacks").mkdir(parents=True, exist_ok=True)
    (root / "Pulumi.yaml").write_text("name: test\nruntime: python\n")
    path = root / "stacks" / f"Pulumi.{env}.yaml"
    path.write_text(yaml.safe_dump({"config": {"golden-images:catalog": catalog}}))
    return path


def _catalog(env: str, parameter: str = AL_X86) -> dict[str, object]:
    return {
        "environment": env,
        "images": [
            {"name": "base", "aws": {"regions": [R, REGIONS[1]], "parent": {"ssm_parameter": parameter}}}
        ],
    }


def test_pin_without_stack_leaves_dev_alone_as_stacks_readme_says(seed: Seeder, tmp_path: Path) -> None:
    write_stack(tmp_path, "dev", _catalog("dev"))
    write_stack(tmp_path, "prod", _catalog("prod"))
    result = CliRunner().invoke(app(), ["pin", "--root", str(tmp_path), "--json"])
    assert result.exit_code == 0, result.output
    assert [s["environment"] for s in json.loads(result.stdout)["stacks"]] == ["prod"]
    assert (tmp_path / "stacks" / "pins" / "prod.yaml").is_file()
    assert not (tmp_path / "stacks" / "pins" / "dev.yaml").exists()
    named = CliRunner().invoke(app(), ["pin", "--root", str(tmp_path), "--stack", "dev", "--json"])
    assert named.exit_code == 0 and (tmp_path / "stacks" / "pins" / "dev.yaml").is_file()
    text = CliRunner().invoke(app(), ["pin", "--root", str(tmp_path)])
    assert "not pinned: dev (follows the newest parents" in " ".join(text.stdout.split())


def test_pin_with_only_dev_says_how_to_pin_it(seed: Seeder, tmp_path: Path) -> None:
    write_stack(tmp_path, "dev", _catalog("dev"))
    result = CliRunner().invoke(app(), ["pin", "--root", str(tmp_path)])
    assert result.exit_code == 2
    assert "pass --stack dev to pin it anyway" in " ".join(result.stderr.split())


@pytest.mark.parametrize("width", WIDTHS)
def test_pin_unresolvable_parameter_is_not_unchanged_at_width(
    seed: Seeder, tmp_path: Path, width: int
) -> None:
    """A recorded pin whose parameter no longer resolves: the row says ``unresolved``, not ``unchanged``."""
    write_stack(tmp_path, "prod", _catalog("prod", "/no/such/parameter"))
    pins = tmp_path / "stacks" / "pins"
    pins.mkdir(parents=True)
    (pins / "prod.yaml").write_text(
        f"pins:\n  /no/such/parameter:\n    {R}: {{ami: ami-0123456789abcdef0, resolved_at: '2026-10-01'}}\n"
    )
    before = (pins / "prod.yaml").read_text()
    result = CliRunner().invoke(app(), ["pin", "--root", str(tmp_path), "--stack", "prod"])
    assert result.exit_code == 1
    assert "unresolved" in result.stdout and "unchanged" not in result.stdout
    doc = CliRunner().invoke(app(), ["pin", "--root", str(tmp_path), "--stack", "prod", "--json"])
    stack = json.loads(doc.stdout)["stacks"][0]
    changes = {(c["region"], c["change"], c["old"], c["new"]) for c in stack["changes"]}
    assert changes == {
        (R, Change.UNRESOLVED.value, "ami-0123456789abcdef0", None),
        (REGIONS[1], Change.UNRESOLVED.value, None, None),
    }
    assert stack["written"] is False and (pins / "prod.yaml").read_text() == before
    pinned = pin_stack(tool_factory(), tmp_path / "stacks" / "Pulumi.prod.yaml", root=tmp_path, write=False)
    shown = dataclasses.replace(pinned, path=Path("stacks/pins/prod.yaml"))

    def draw(console: object) -> None:
        render.pin_table(shown, console, check=False)  # type: ignore[arg-type]
        console.print(render.pin_summary([shown], {"prod": False}, check=False))  # type: ignore[attr-defined]

    check(f"pin-unresolved-{width}", rendered(width, draw), width)


def test_audit_on_a_terminal_shows_a_status_and_a_line_per_finished_region(
    seed: Seeder, monkeypatch: pytest.MonkeyPatch
) -> None:
    seed_fleet(seed)
    screen = io.StringIO()
    monkeypatch.setattr(commands, "_err", Console(file=screen, force_terminal=True, width=80))
    result = CliRunner().invoke(app(), ["audit", "-r", f"{R},{REGIONS[1]}", "--fail-on", "none"])
    assert result.exit_code == 0, result.output
    shown = screen.getvalue()
    assert "audit: reading" in shown  # the live status names the regions still being read
    assert re.search(rf"audit {R}: 5 images, \d+ findings \(\d+\.\ds\)", shown), shown
    assert re.search(rf"audit {REGIONS[1]}: 1 image, 0 findings", shown), shown
    assert flat(result.stdout).endswith("exit 0: no finding at or above the threshold (--fail-on none).")
