"""Renderers: JSON-ready dicts for machines, Markdown for the quarterly report, rich tables for people.

Pure functions of the report objects (time is taken from the report, never from the clock), so output is
stable and testable.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from typing import Any

from rich.console import Console
from rich.table import Table

from golden_images.tools.audit import SEVERITY, AuditReport, Check, Severity
from golden_images.tools.cleanup import Action, CleanupReport, Outcome
from golden_images.tools.facts import ImageFacts
from golden_images.tools.pin import Change, PinResult

#: Age buckets of the quarterly report: (upper bound in days inclusive or None, label).
AGE_BUCKETS: tuple[tuple[int | None, str], ...] = (
    (30, "0-30 days"),
    (90, "31-90 days"),
    (180, "91-180 days"),
    (365, "181-365 days"),
    (None, "over 365 days"),
)
_STYLE = {
    Severity.CRITICAL: "bold red",
    Severity.HIGH: "red",
    Severity.MEDIUM: "yellow",
    Severity.LOW: "cyan",
    Severity.INFO: "dim",
}


def _iso(value: dt.datetime | None) -> str | None:
    return value.astimezone(dt.UTC).isoformat().replace("+00:00", "Z") if value else None


def _image_json(image: ImageFacts, now: dt.datetime) -> dict[str, Any]:
    return {
        "region": image.region,
        "image_id": image.image_id,
        "name": image.name,
        "golden_image": image.golden_image,
        "version": image.version,
        "created": _iso(image.created),
        "age_days": image.age_days(now),
        "managed": image.managed,
        "in_use": image.in_use,
        "public": image.public,
        "encrypted": image.encrypted,
        "deprecation_time": _iso(image.deprecation_time),
        "environment": image.environment,
        "proven": image.proven,
        "provenance": {
            "source": image.provenance.source,
            "reason": image.provenance.reason,
            "image_builder_arn": image.provenance.arn,
        },
        "deregistration_protected": image.deregistration_protected,
        "shared_with": list(image.shared_with) if image.launch_permissions is not None else None,
        "usage": list(image.usage),
    }


def age_distribution(images: tuple[ImageFacts, ...], now: dt.datetime) -> dict[str, int]:
    """Count of images per :data:`AGE_BUCKETS` label (every label present, in order)."""
    counts = dict.fromkeys((label for _, label in AGE_BUCKETS), 0)
    for image in images:
        age = image.age_days(now)
        for bound, label in AGE_BUCKETS:
            if bound is None or age <= bound:
                counts[label] += 1
                break
    return counts


def audit_json(report: AuditReport) -> dict[str, Any]:
    """The ``audit --json`` document (schema in docs/tools.md)."""
    now = report.generated_at
    by_check = Counter(f.check.value for f in report.findings)
    by_severity = Counter(f.severity.label for f in report.findings)
    allow = report.config.allow
    return {
        "generated_at": _iso(now),
        "regions": list(report.regions),
        "partial": report.partial,
        "failed_regions": report.failed_regions,
        "config": {
            "max_age_days": report.config.max_age_days,
            "keep": report.config.keep,
            "required_tags": list(report.config.required_tags),
            "allowed_accounts": sorted(allow.accounts),
            "allowed_organizations": sorted(allow.organizations),
            "allowed_organizational_units": sorted(allow.organizational_units),
        },
        "summary": {
            "images": len(report.images),
            "findings": len(report.findings),
            "by_check": {c.value: by_check.get(c.value, 0) for c in Check},
            "by_severity": {s.label: by_severity.get(s.label, 0) for s in sorted(Severity, reverse=True)},
            "age_distribution": age_distribution(report.images, now),
        },
        "findings": [
            {
                "region": f.region,
                "image_id": f.image_id,
                "image_name": f.image_name,
                "golden_image": f.golden_image,
                "version": f.version,
                "check": f.check.value,
                "severity": f.severity.label,
                "message": f.message,
            }
            for f in report.findings
        ],
        "images": [_image_json(i, now) for i in report.images],
    }


def _md_cell(value: object) -> str:
    return str(value).replace("|", "\\|").replace("\n", " ")


def audit_markdown(report: AuditReport) -> str:
    """The quarterly Markdown report: counts per finding, per image, age distribution, details."""
    now = report.generated_at
    lines = [f"# Golden image audit — {now.date().isoformat()}", ""]
    if report.partial:
        lines += [
            "> **Partial report**: some regions could not be audited; their images are missing below.",
            "",
        ]
        lines += [f"> - `{r}`: {_md_cell(e)}" for r, e in report.failed_regions.items()] + [""]
    audited = [r for r in report.regions if r not in report.failed_regions]
    lines += [
        f"Regions audited: {', '.join(f'`{r}`' for r in audited) or 'none'}. "
        f"Images: {len(report.images)}. Findings: {len(report.findings)}. "
        f"Thresholds: stale after {report.config.max_age_days} days, "
        f"newest {report.config.keep} versions kept.",
        "",
        "## Findings by check",
        "",
        "| Check | Severity | Findings |",
        "|---|---|---:|",
    ]
    by_check = Counter(f.check for f in report.findings)
    for check in sorted(Check, key=lambda c: (-SEVERITY[c], c.value)):
        lines.append(f"| {check.value} | {SEVERITY[check].label} | {by_check.get(check, 0)} |")
    lines += ["", "## Findings by image", ""]
    per_image: dict[str, Counter[Check]] = defaultdict(Counter)
    amis: Counter[str] = Counter()
    for image in report.images:
        amis[image.golden_image or "(untagged)"] += 1
    for f in report.findings:
        per_image[f.golden_image or "(untagged)"][f.check] += 1
    checks = sorted(Check, key=lambda c: (-SEVERITY[c], c.value))
    lines.append("| Image | AMIs | " + " | ".join(c.value for c in checks) + " |")
    lines.append("|---|---:|" + "---:|" * len(checks))
    for name in sorted(amis):
        counts = per_image.get(name, Counter())
        lines.append(
            f"| {_md_cell(name)} | {amis[name]} | " + " | ".join(str(counts.get(c, 0)) for c in checks) + " |"
        )
    lines += ["", "## Age distribution", "", "| Age | AMIs |", "|---|---:|"]
    for label, count in age_distribution(report.images, now).items():
        lines.append(f"| {label} | {count} |")
    lines += ["", "## Findings", ""]
    if not report.findings:
        lines.append("No findings.")
    else:
        lines += ["| Severity | Check | Region | AMI | Image | Version |", "|---|---|---|---|---|---|"]
        ordered = sorted(report.findings, key=lambda f: (-f.severity, f.check.value, f.region, f.image_id))
        for f in ordered:
            lines.append(
                f"| {f.severity.label} | {f.check.value} | {f.region} | `{f.image_id}` | "
                f"{_md_cell(f.golden_image or f.image_name)} | {_md_cell(f.version or '')} |"
            )
    return "\n".join(lines) + "\n"


def audit_table(report: AuditReport, console: Console) -> None:
    """Rich output: summary, findings table, failed regions."""
    table = Table(title=f"Findings ({len(report.findings)} on {len(report.images)} images)", show_lines=False)
    for column in ("Severity", "Check", "Region", "AMI", "Image", "Version"):
        table.add_column(column)
    table.add_column("Detail", overflow="fold")
    ordered = sorted(report.findings, key=lambda f: (-f.severity, f.check.value, f.region, f.image_id))
    for f in ordered:
        table.add_row(
            f"[{_STYLE[f.severity]}]{f.severity.label}[/]",
            f.check.value,
            f.region,
            f.image_id,
            f.golden_image or f.image_name,
            f.version or "",
            f.message,
        )
    if report.findings:
        console.print(table)
    counts = Counter(f.severity for f in report.findings)
    summary = ", ".join(
        f"[{_STYLE[s]}]{counts[s]} {s.label}[/]" for s in sorted(Severity, reverse=True) if counts[s]
    )
    console.print(
        f"Audited {len(report.images)} images in {len(report.regions) - len(report.failed_regions)} "
        f"region(s): {summary or 'no findings'}."
    )
    for region, error in report.failed_regions.items():
        console.print(f"[bold red]Region {region} FAILED[/]: {error}")
    if report.partial:
        console.print("[bold red]Partial report: failed regions were not audited.[/]")


def _result_json(outcome: Outcome) -> dict[str, Any]:
    return {
        "ok": outcome.ok and not outcome.snapshot_errors,
        "error": outcome.error,
        "steps": outcome.steps,
        "deleted_snapshots": list(outcome.deleted_snapshots),
        "snapshot_errors": outcome.snapshot_errors,
    }


def cleanup_json(report: CleanupReport) -> dict[str, Any]:
    """The ``cleanup --json`` document (schema in docs/tools.md)."""
    now = report.generated_at
    outcomes = {(o.region, o.image_id): o for o in report.outcomes if "orphan" not in o.steps}
    orphan_outcomes = {
        (o.region, o.image_id, s): o
        for o in report.outcomes
        if "orphan" in o.steps
        for s in (*o.deleted_snapshots, *o.snapshot_errors)
    }
    candidates = []
    for c in report.plan.candidates:
        entry: dict[str, Any] = {
            **_image_json(c.image, now),
            "action": c.action.value,
            "reason": c.reason,
            "snapshots": list(c.snapshots),
            "deprecate_at": _iso(c.deprecate_at),
        }
        outcome = outcomes.get((c.image.region, c.image.image_id))
        if outcome is not None:
            entry["result"] = _result_json(outcome)
        candidates.append(entry)
    policy = report.policy
    return {
        "generated_at": _iso(now),
        "regions": list(report.regions),
        "applied": report.applied,
        "action": policy.action.value,
        "policy": {
            "keep": policy.keep,
            "retention_days": policy.retention_days,
            "deprecate_after": policy.deprecate_after,
            "images": sorted(policy.images),
            "include_shared": policy.include_shared,
            "shared_grace_days": policy.shared_grace_days,
        },
        "partial": report.partial,
        "failed_regions": report.failed_regions,
        "unreadable_sources": report.gaps,
        "declined": report.declined,
        "ok": report.ok,
        "candidates": candidates,
        "kept": [
            {**_image_json(k.image, now), "code": k.code.value, "reason": k.reason} for k in report.plan.kept
        ],
        "orphaned_snapshots": [
            {
                "region": o.region,
                "snapshot_id": o.snapshot_id,
                "image_id": o.image_id,
                **(
                    {"result": _result_json(orphan_outcomes[(o.region, o.image_id, o.snapshot_id)])}
                    if (o.region, o.image_id, o.snapshot_id) in orphan_outcomes
                    else {}
                ),
            }
            for o in report.plan.orphans
        ],
    }


def cleanup_table(report: CleanupReport, console: Console, *, hint: bool = True) -> None:
    """Rich output for cleanup (dry run or applied); ``hint`` (default on) adds the "re-run with --apply"
    line to a dry run (off when the plan is shown for confirmation)."""
    verb = "Deprecate" if report.policy.action is Action.DEPRECATE else "Deregister"
    title = f"{verb}: {len(report.plan.candidates)} image(s)" + ("" if report.applied else " (dry run)")
    table = Table(title=title)
    for column in ("Region", "AMI", "Image", "Version", "Age", "Snapshots / deprecate at", "Why"):
        table.add_column(column, overflow="fold")
    if report.applied:
        table.add_column("Result")
    outcomes = {(o.region, o.image_id): o for o in report.outcomes if "orphan" not in o.steps}
    for c in report.plan.candidates:
        detail = ", ".join(c.snapshots) if c.action is Action.DEREGISTER else (_iso(c.deprecate_at) or "")
        row = [
            c.image.region,
            c.image.image_id,
            c.image.golden_image or c.image.name,
            c.image.version or "",
            f"{c.image.age_days(report.generated_at)}d",
            detail,
            c.reason,
        ]
        if report.applied:
            o = outcomes.get((c.image.region, c.image.image_id))
            ok = o is not None and o.ok and not o.snapshot_errors
            row.append(
                "[green]done[/]" if ok else f"[red]{(o.error if o else None) or (o and o.snapshot_errors)}[/]"
            )
        table.add_row(*row)
    console.print(table)
    if report.plan.orphans:
        orphans = Table(title=f"Orphaned snapshots of earlier runs: {len(report.plan.orphans)} (delete)")
        for column in ("Region", "Snapshot", "Former AMI"):
            orphans.add_column(column)
        for orphan in report.plan.orphans:
            orphans.add_row(orphan.region, orphan.snapshot_id, orphan.image_id)
        console.print(orphans)
    kept = Table(title=f"Kept: {len(report.plan.kept)} image(s)")
    for column in ("Region", "AMI", "Image", "Env", "Version", "Age", "Why kept"):
        kept.add_column(column, overflow="fold")
    for k in report.plan.kept:
        kept.add_row(
            k.image.region,
            k.image.image_id,
            k.image.golden_image or k.image.name,
            k.image.environment or "",
            k.image.version or "",
            f"{k.image.age_days(report.generated_at)}d",
            f"{k.code.value}: {k.reason}",
        )
    console.print(kept)
    if hint and not report.applied and (report.plan.candidates or report.plan.orphans):
        console.print("Dry run: nothing changed. Re-run with --apply to act.")
    for region, sources in report.gaps.items():
        for source, error in sources.items():
            console.print(f"[yellow]Region {region}: {source} not readable[/] ({error})")
    for region, error in report.failed_regions.items():
        console.print(f"[bold red]Region {region} FAILED[/]: {error}")


def pin_json(results: list[PinResult], written: dict[str, bool]) -> dict[str, Any]:
    """The ``pin --json`` document."""
    return {
        "stacks": [
            {
                "environment": r.environment,
                "path": str(r.path),
                "changed": r.changed,
                "written": written.get(r.environment, False),
                "errors": r.errors,
                "changes": [
                    {
                        "parameter": c.parameter,
                        "region": c.region,
                        "old": c.old,
                        "new": c.new,
                        "change": c.change,
                    }
                    for c in r.changes
                ],
            }
            for r in results
        ]
    }


def pin_table(result: PinResult, console: Console, *, check: bool) -> None:
    """Rich output for one stack's pins."""
    table = Table(title=f"Pins for {result.environment} ({result.path})")
    for column in ("Parameter", "Region", "Pinned", "Current", "Change"):
        table.add_column(column, overflow="fold")
    style = {Change.UNCHANGED: "dim", Change.NEW: "green", Change.UPDATED: "yellow", Change.REMOVED: "red"}
    for c in result.changes:
        table.add_row(
            c.parameter, c.region, c.old or "", c.new or "", f"[{style[c.change]}]{c.change.value}[/]"
        )
    console.print(table)
    for key, error in result.errors.items():
        console.print(f"[bold red]Could not resolve[/] {key}: {error}")
    if check and result.changed:
        console.print("[yellow]A newer base image exists: run `golden-images pin` and review the diff.[/]")
