"""Renderers: JSON-ready dicts for machines, Markdown for the quarterly report, rich tables for people.

Pure functions of the report objects (time is taken from the report, never from the clock), so output is
stable and testable.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from collections.abc import Sequence
from typing import Any

from rich.console import Console
from rich.padding import Padding
from rich.table import Table
from rich.text import Text

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
#: Where a too-long value may be broken by :func:`pack`: after these characters (paths, ARNs, lists).
_BREAK_AFTER = frozenset("/:,-_.@=&?")
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


def plural(count: int, noun: str) -> str:
    """``1 image``, ``2 images``."""
    return f"{count} {noun}{'' if count == 1 else 's'}"


def _pieces(token: str, width: int) -> list[str]:
    """``token`` cut into pieces of at most ``width`` characters, each ending after a break character when
    there is one in reach (``ssm:/aws/service/…`` breaks after a ``/``); a run without one is cut hard."""
    width = max(width, 1)
    pieces: list[str] = []
    rest = token
    while len(rest) > width:
        cut = max((i + 1 for i in range(width) if rest[i] in _BREAK_AFTER), default=0)
        if cut < width // 3:  # no separator in reach, or only near the start: cut at the width
            cut = width
        pieces.append(rest[:cut])
        rest = rest[cut:]
    pieces.append(rest)
    return pieces


def pack(tokens: Sequence[tuple[str, str] | Text], width: int, *, gap: int = 2, hang: int = 2) -> Text:
    """``tokens`` ``(text, style)`` laid out for people on lines of at most ``width`` cells: whole tokens
    ``gap`` spaces apart (fields fold between tokens, never inside an id); a token that does not fit the
    rest of a line starts the next one; only a token longer than a whole line is broken, after a separator
    (:func:`_pieces`), its continuation lines indented by ``hang``. Shared by the preview tree."""
    width = max(width, 16)
    out = Text(no_wrap=True, overflow="ignore")
    column = 0
    for token in tokens:
        if isinstance(token, Text):  # already styled (a name with its mark): kept whole
            text, style = token.plain, ""
        else:
            text, style = token
        if column and column + gap + len(text) > width:
            out.append("\n")
            column = 0
        elif column:
            out.append(" " * gap)
            column += gap
        if column + len(text) <= width or isinstance(token, Text):
            if isinstance(token, Text):
                out.append_text(token)
            else:
                out.append(text, style=style)
            column += len(text)
            continue
        first, *more = _pieces(text, width)
        out.append(first, style=style)
        column = len(first)
        for piece in _pieces("".join(more), width - hang) if more else ():
            out.append("\n" + " " * hang)
            out.append(piece, style=style)
            column = hang + len(piece)
    return out


def print_indented(console: Console, text: Text, indent: int) -> None:
    """``text`` wrapped within the console width less ``indent`` and printed ``indent`` columns in, every
    line (unlike :class:`rich.padding.Padding`, no trailing spaces out to the console width)."""
    for line in text.wrap(console, max(console.width - indent, 16)):
        line.rstrip()
        console.print(Text(" " * indent).append_text(line), soft_wrap=True)


def _print_item(
    console: Console,
    head: Sequence[tuple[str, str]],
    lines: Sequence[Text | tuple[Text, int]],
    indent: int = 2,
) -> None:
    """One listed thing: its identifying fields packed on the first line(s) at ``indent``, then ``lines``
    (details; prose wrapped by rich under the thing) two more in, or ``(line, more)`` ``more`` in."""
    print_indented(console, pack(head, console.width - indent), indent)
    for line in lines:
        text, extra = line if isinstance(line, tuple) else (line, 2)
        print_indented(console, text, indent + extra)


def _image_head(image: ImageFacts, now: dt.datetime, *extra: str) -> list[tuple[str, str]]:
    label = image.golden_image or image.name
    head = [(image.image_id, "bold"), (image.region, ""), (label, "cyan")]
    if image.version:
        head.append((image.version, ""))
    head += [(e, "") for e in extra if e]
    head.append((f"{image.age_days(now)}d old", "dim"))
    return head


def audit_table(report: AuditReport, console: Console) -> None:
    """Rich output for people: the findings grouped by AMI (worst first, ids whole, each message wrapped
    under its AMI), then the failed regions. The closing line is :func:`audit_summary`."""
    by_image: dict[tuple[str, str], list[Any]] = defaultdict(list)
    for f in report.findings:
        by_image[(f.region, f.image_id)].append(f)
    images = {(i.region, i.image_id): i for i in report.images}
    worst = {key: max(f.severity for f in items) for key, items in by_image.items()}
    if report.findings:
        console.print(
            Text(
                f"Findings: {len(report.findings)} on {plural(len(by_image), 'image')} "
                f"(of {len(report.images)} audited)",
                style="bold",
            )
        )

    def order(key: tuple[str, str]) -> tuple[Any, ...]:
        # Worst first; then as people look for an image: region, name, version (the id breaks ties).
        image = images.get(key)
        name = (image.golden_image or image.name, image.version or "") if image else ("", "")
        return (-worst[key], key[0], *name, key[1])

    for key in sorted(by_image, key=order):
        items = sorted(by_image[key], key=lambda f: (-f.severity, f.check.value, f.message))
        first = items[0]
        image = images.get(key)
        if image is not None:
            head = _image_head(image, report.generated_at)
        else:
            head = [
                (first.image_id, "bold"),
                (first.region, ""),
                (first.golden_image or first.image_name, "cyan"),
            ]
        lines: list[Text | tuple[Text, int]] = []
        for f in items:
            lines.append(
                Text.assemble((f"{f.severity.label:<8}", _STYLE[f.severity]), " ", (f.check.value, "bold"))
            )
            lines.append((Text(f.message), 4))
        _print_item(console, head, lines)
    for region, error in report.failed_regions.items():
        console.print(
            Text.assemble(
                ("Region ", "bold red"), (region, "bold red"), (" FAILED", "bold red"), f": {error}"
            )
        )
    if report.partial:
        console.print(Text("Partial report: failed regions were not audited.", style="bold red"))


def audit_summary(report: AuditReport, threshold: Severity | None) -> Text:
    """The closing line of ``audit``: what was read, what was found, the exit code and why."""
    audited = len(report.regions) - len(report.failed_regions)
    counts = Counter(f.severity for f in report.findings)
    found = ", ".join(f"{counts[s]} {s.label}" for s in sorted(Severity, reverse=True) if counts[s])
    parts = [
        f"audit: {plural(len(report.images), 'image')} in {audited} of {plural(len(report.regions), 'region')}",
        f"findings: {found or 'none'}",
    ]
    gate = f"--fail-on {threshold.label}" if threshold is not None else "--fail-on none"
    if report.partial:
        failed = ", ".join(report.failed_regions)
        parts.append(f"exit 1: partial report, {failed} could not be read")
    elif report.fails(threshold):
        assert threshold is not None  # fails() without a failed region needs a threshold
        parts.append(f"exit 1: a finding at or above {threshold.label} ({gate})")
    else:
        parts.append(f"exit 0: no finding at or above the threshold ({gate})")
    failed_exit = report.fails(threshold)
    return Text("; ".join(parts) + ".", style="bold red" if failed_exit else "bold green")


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
    """Rich output for cleanup (dry run or applied): the images acted on with why (and, applied, the
    result), orphaned snapshots, every kept image with why it is kept, unreadable sources and failed
    regions. ``hint`` (default on) adds the "re-run with --apply" line to a dry run (off when the plan is
    shown for confirmation). The closing line is :func:`cleanup_summary`."""
    now = report.generated_at
    verb = "Deprecate" if report.policy.action is Action.DEPRECATE else "Deregister"
    title = f"{verb}: {len(report.plan.candidates)} image(s)" + ("" if report.applied else " (dry run)")
    console.print(Text(title, style="bold"))
    outcomes = {(o.region, o.image_id): o for o in report.outcomes if "orphan" not in o.steps}
    for c in report.plan.candidates:
        lines: list[Text] = []
        if c.action is Action.DEREGISTER:
            snapshots = ", ".join(c.snapshots) or "none"
            lines.append(Text.assemble(("snapshots: ", "dim"), snapshots))
        else:
            lines.append(Text.assemble(("deprecate at: ", "dim"), _iso(c.deprecate_at) or ""))
        lines.append(Text.assemble(("why: ", "dim"), c.reason))
        if report.applied:
            o = outcomes.get((c.image.region, c.image.image_id))
            if o is not None and o.ok and not o.snapshot_errors:
                lines.append(Text.assemble(("result: ", "dim"), ("done", "green")))
            else:
                error = (o.error if o else None) or (o and o.snapshot_errors) or "not attempted"
                lines.append(Text.assemble(("result: ", "dim"), (f"FAILED: {error}", "red")))
        _print_item(console, _image_head(c.image, now), lines)
    if report.plan.orphans:
        console.print(
            Text(f"Orphaned snapshots of earlier runs: {len(report.plan.orphans)} (delete)", style="bold")
        )
        for orphan in report.plan.orphans:
            _print_item(
                console,
                [(orphan.snapshot_id, "bold"), (orphan.region, ""), (f"former {orphan.image_id}", "dim")],
                [],
            )
    console.print(Text(f"Kept: {len(report.plan.kept)} image(s)", style="bold"))
    for k in report.plan.kept:
        env = f"env={k.image.environment}" if k.image.environment else ""
        line = Text.assemble((f"{k.code.value}: ", "yellow"), k.reason)
        _print_item(console, _image_head(k.image, now, env), [line])
    if hint and not report.applied and (report.plan.candidates or report.plan.orphans):
        console.print("Dry run: nothing changed. Re-run with --apply to act.")
    for region, sources in report.gaps.items():
        for source, error in sources.items():
            console.print(Text.assemble((f"Region {region}: {source} not readable", "yellow"), f" ({error})"))
    for region, error in report.failed_regions.items():
        console.print(Text.assemble((f"Region {region} FAILED", "bold red"), f": {error}"))


def cleanup_summary(report: CleanupReport) -> Text:
    """The closing line of ``cleanup``: what was planned or done, what was kept, the exit code and why."""
    verb = "deprecate" if report.policy.action is Action.DEPRECATE else "deregister"
    audited = len(report.regions) - len(report.failed_regions)
    parts = [
        f"cleanup ({'applied' if report.applied else 'dry run'}): {audited} of "
        f"{plural(len(report.regions), 'region')} read",
        f"{len(report.plan.candidates)} to {verb}, {len(report.plan.orphans)} orphaned snapshot(s), "
        f"{len(report.plan.kept)} kept",
    ]
    failed_actions = sum(1 for o in report.outcomes if not (o.ok and not o.snapshot_errors))
    if report.partial:
        parts.append(f"exit 1: {', '.join(report.failed_regions)} could not be read (nothing done there)")
    elif failed_actions:
        parts.append(f"exit 1: {plural(failed_actions, 'action')} failed")
    elif report.applied:
        parts.append("exit 0: every action succeeded")
    else:
        parts.append("exit 0: dry run, nothing changed")
    return Text("; ".join(parts) + ".", style="bold green" if report.ok else "bold red")


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
    """Rich output for one stack's pins: per SSM parameter (broken after a ``/`` when it does not fit), a
    table of regions with the pinned and the current AMI (ids never cut) and the change."""
    console.print(Text.assemble(("Pins for ", "bold"), (result.environment, "bold"), f" ({result.path})"))
    style = {
        Change.UNCHANGED: "dim",
        Change.NEW: "green",
        Change.UPDATED: "yellow",
        Change.REMOVED: "red",
        Change.UNRESOLVED: "bold red",
    }
    by_parameter: dict[str, list[Any]] = defaultdict(list)
    for c in result.changes:
        by_parameter[c.parameter].append(c)
    if not by_parameter:
        print_indented(console, Text("no parent given as an SSM parameter", style="dim"), 2)
    for parameter, rows in by_parameter.items():
        print_indented(console, pack([(parameter, "bold")], console.width - 2), 2)
        table = Table(box=None, padding=(0, 1), pad_edge=False, show_edge=False)
        for column in ("Region", "Pinned", "Current", "Change"):
            table.add_column(column, no_wrap=True)
        for c in rows:
            current = c.new or ("(lookup failed)" if c.change is Change.UNRESOLVED else "")
            table.add_row(c.region, c.old or "", current, Text(c.change.value, style=style[c.change]))
        console.print(Padding(table, (0, 0, 0, 4), expand=False))
    for key, error in result.errors.items():
        console.print(Text.assemble(("Could not resolve ", "bold red"), f"{key}: {error}"))
    if check and result.changed:
        console.print(
            Text(
                f"A newer base image exists: run `golden-images pin --stack {result.environment}` and review "
                "the diff.",
                style="yellow",
            )
        )


def pin_summary(
    results: Sequence[PinResult], written: dict[str, bool], *, check: bool, skipped: Sequence[str] = ()
) -> Text:
    """The closing line of ``pin``: stacks, rows by change, what was written, the exit code and why."""
    counts = Counter(c.change for r in results for c in r.changes)
    rows = ", ".join(f"{counts[c]} {c.value}" for c in Change if counts[c]) or "no SSM parents"
    parts = [f"pin: {plural(len(results), 'stack')} ({', '.join(r.environment for r in results)})", rows]
    if skipped:
        parts.append(f"not pinned: {', '.join(skipped)} (follows the newest parents; pass --stack to pin it)")
    wrote = [env for env, done in written.items() if done]
    if not check:
        parts.append(f"written: {', '.join(wrote) or 'nothing'}")
    errors = sum(len(r.errors) for r in results)
    if errors:
        parts.append(f"exit 1: {plural(errors, 'lookup')} failed, so nothing was written for that stack")
    elif check and any(r.changed for r in results):
        parts.append("exit 1: --check found a newer base image (or a removed parameter)")
    else:
        parts.append("exit 0: " + ("pins are current" if check else "pins resolved"))
    failed = bool(errors) or (check and any(r.changed for r in results))
    return Text("; ".join(parts) + ".", style="bold red" if failed else "bold green")
