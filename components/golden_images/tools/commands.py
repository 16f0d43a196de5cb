"""Typer commands ``pin``, ``audit`` and ``cleanup``, registered on the ``golden-images`` app.

Exit codes (all three): 0 clean; 1 findings at/above ``--fail-on`` (audit), a newer base image
(``pin --check``), a failed region or a failed action; 2 bad input (unknown region, bad option value,
unreadable stack or allow-list file, unknown AWS profile).

Human output goes to stdout as rich tables, progress bars to stderr (only on a terminal); ``--json`` and
``--markdown`` print exactly one document on stdout.
"""

from __future__ import annotations

import datetime as dt
import json
import sys
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

import typer
from botocore.exceptions import BotoCoreError  # type: ignore[import-untyped,unused-ignore]
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from golden_images.catalog import stackfiles
from golden_images.core.rules import is_aws_account_id, is_aws_org_arn, is_aws_ou_arn, is_aws_region
from golden_images.tools import report as render
from golden_images.tools.audit import AllowList, AuditConfig, AuditReport, Severity, run_audit
from golden_images.tools.aws import DEFAULT_MAX_ATTEMPTS, ClientFactory
from golden_images.tools.cleanup import CleanupPolicy, CleanupReport, run_cleanup
from golden_images.tools.pin import PinResult, StackError, pin_stack

#: Stacks that follow the newest parents (stacks/README.md): ``pin`` leaves them out unless named.
FOLLOWS_NEWEST = frozenset({"dev"})

#: Tests replace this to inject botocore event hooks into every client the commands create.
factory_hooks: list[Any] = []

_out = Console()
_err = Console(stderr=True)

RegionOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--region",
        "--regions",
        "-r",
        help="Region to act on; repeat or comma-separate. Default: AWS_REGION / the profile's region.",
    ),
]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print one JSON document for machines.")]
ProfileOpt = Annotated[str | None, typer.Option("--profile", help="AWS profile (default: AWS_PROFILE).")]
AttemptsOpt = Annotated[
    int, typer.Option("--max-attempts", min=1, help="Attempts per AWS call (adaptive retries).")
]
ConcurrencyOpt = Annotated[int, typer.Option("--concurrency", min=1, help="Regions processed at once.")]


def _interactive() -> bool:
    """True when a person can answer a prompt (stdin and stderr are terminals)."""
    return sys.stdin.isatty() and _err.is_terminal


def _fail_input(message: str) -> typer.Exit:
    _err.print(f"[red]error:[/] {message}")
    return typer.Exit(2)


def _factory(profile: str | None, max_attempts: int, pool: int = 16) -> ClientFactory:
    factory = ClientFactory(
        profile=profile, max_attempts=max_attempts, max_pool_connections=pool, hooks=list(factory_hooks)
    )
    try:
        _ = factory.session
    except BotoCoreError as exc:  # ProfileNotFound and friends: bad input
        raise _fail_input(str(exc)) from None
    return factory


def _regions(values: Sequence[str] | None, factory: ClientFactory) -> list[str]:
    regions = [r.strip() for v in values or () for r in v.split(",") if r.strip()]
    if not regions:
        default = factory.default_region
        if not default:
            raise _fail_input("no region: pass --region or set AWS_REGION")
        regions = [default]
    bad = [r for r in regions if not is_aws_region(r)]
    if bad:
        raise _fail_input(f"not an AWS region: {', '.join(bad)}")
    return list(dict.fromkeys(regions))


@contextmanager
def _progress(enabled: bool, label: str) -> Iterator[Callable[[str, int, int], None] | None]:
    """A rich progress bar on stderr (one task per region) when stderr is a terminal."""
    if not enabled or not _err.is_terminal:
        yield None
        return
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=_err,
        transient=True,
    ) as progress:
        tasks: dict[str, Any] = {}

        def update(region: str, done: int, total: int) -> None:
            if region not in tasks:
                tasks[region] = progress.add_task(f"{label} {region}", total=total or 1)
            progress.update(tasks[region], completed=done if total else 1, total=total or 1)

        yield update


class _RegionStatus:
    """Progress of a command over regions, on stderr: a line per region as it starts and ends when stderr is
    not a terminal (CI logs), a rich status line naming the regions still being read when it is."""

    def __init__(self, label: str, regions: Sequence[str]) -> None:
        self.label = label
        self.pending = list(regions)
        self.started = time.monotonic()
        self._lock = threading.Lock()
        self._status: Any = None

    def __enter__(self) -> _RegionStatus:
        if _err.is_terminal:
            self._status = _err.status(self._text())
            self._status.__enter__()
        else:
            _err.print(f"{self.label}: reading {', '.join(self.pending)}", highlight=False)
        return self

    def __exit__(self, *exc: object) -> None:
        if self._status is not None:
            self._status.__exit__(None, None, None)

    def _text(self) -> str:
        return f"{self.label}: reading {', '.join(self.pending)} ({time.monotonic() - self.started:.0f}s)"

    def done(self, region: str, outcome: str) -> None:
        """``region`` finished with ``outcome`` (a few words: image count or the failure)."""
        with self._lock:
            if region in self.pending:
                self.pending.remove(region)
            took = time.monotonic() - self.started
            if self._status is not None:
                _err.print(f"{self.label} {region}: {outcome} ({took:.1f}s)", highlight=False)
                if self.pending:
                    self._status.update(self._text())
            else:
                _err.print(f"{self.label} {region}: {outcome} ({took:.1f}s)", highlight=False)


def _audit_regions(
    factory: ClientFactory, regions: Sequence[str], config: AuditConfig, *, concurrency: int, workers: int
) -> AuditReport:
    """:func:`run_audit` region by region (``concurrency`` at once) so that each region's end — or failure,
    after botocore's retries — is shown as it happens; the reports are merged in the driver's order."""
    now = dt.datetime.now(dt.UTC)
    reports: dict[str, AuditReport] = {}
    with _RegionStatus("audit", regions) as status:

        def one(region: str) -> AuditReport:
            report = run_audit(factory, [region], config, now=now, concurrency=1, workers=workers)
            error = report.failed_regions.get(region)
            status.done(
                region,
                f"FAILED: {error}"
                if error is not None
                else f"{render.plural(len(report.images), 'image')}, "
                f"{render.plural(len(report.findings), 'finding')}",
            )
            return report

        with ThreadPoolExecutor(max_workers=max(1, min(concurrency, len(regions)))) as pool:
            for region, report in zip(regions, pool.map(one, regions), strict=True):
                reports[region] = report
    findings = [f for r in reports.values() for f in r.findings]
    findings.sort(key=lambda f: (f.region, f.image_id, -f.severity, f.check.value))
    images = sorted(
        (i for r in reports.values() for i in r.images),
        key=lambda i: (i.region, i.group, i.created, i.image_id),
    )
    failed = {region: e for r in reports.values() for region, e in r.failed_regions.items()}
    return AuditReport(
        generated_at=now,
        regions=tuple(regions),
        config=config,
        images=tuple(images),
        findings=tuple(findings),
        failed_regions=dict(sorted(failed.items())),
    )


def _region_lines(label: str) -> Callable[[str, int, int], None]:
    """A ``progress(region, done, total)`` callback printing one line when a region's images are listed
    and one when its permissions are read (for stderr that is not a terminal)."""
    seen: set[tuple[str, bool]] = set()
    lock = threading.Lock()

    def update(region: str, done: int, total: int) -> None:
        finished = done >= total
        with lock:
            if (region, finished) in seen:
                return
            seen.add((region, finished))
        images = render.plural(total, "image")
        what = f"{images} read" if finished else f"{images}, reading launch permissions"
        _err.print(f"{label} {region}: {what}", highlight=False)

    return update


def _allow_list(accounts: Sequence[str], orgs: Sequence[str], file: Path | None) -> AllowList:
    account_set = set(accounts)
    org_set: set[str] = set()
    ou_set: set[str] = set()
    targets = list(orgs)
    if file is not None:
        try:
            data = json.loads(file.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError) as exc:
            raise _fail_input(f"allow-list file {file}: {exc}") from None
        if not isinstance(data, dict) or not set(data) <= {
            "accounts",
            "organizations",
            "organizational_units",
        }:
            raise _fail_input(
                f"allow-list file {file}: expected an object with "
                "accounts, organizations, organizational_units"
            )
        for key in ("accounts", "organizations", "organizational_units"):
            if not isinstance(data.get(key, []), list):
                raise _fail_input(f"allow-list file {file}: {key} must be a list")
        account_set.update(str(a) for a in data.get("accounts", []))
        targets += [str(o) for o in data.get("organizations", []) + data.get("organizational_units", [])]
    bad_accounts = sorted(a for a in account_set if not is_aws_account_id(a))
    if bad_accounts:
        raise _fail_input(f"not a 12-digit account id: {', '.join(bad_accounts)}")
    for target in targets:
        if is_aws_org_arn(target):
            org_set.add(target)
        elif is_aws_ou_arn(target):
            ou_set.add(target)
        else:
            raise _fail_input(f"not an organization or OU ARN: {target}")
    return AllowList(frozenset(account_set), frozenset(org_set), frozenset(ou_set))


def audit(
    region: RegionOpt = None,
    as_json: JsonOpt = False,
    markdown: Annotated[
        bool, typer.Option("--markdown", help="Print the quarterly Markdown report.")
    ] = False,
    fail_on: Annotated[
        str,
        typer.Option(
            "--fail-on", help="Exit 1 on findings at/above: critical, high, medium, low, info, none."
        ),
    ] = "high",
    max_age_days: Annotated[
        int, typer.Option("--max-age-days", min=0, help="Older images need a deprecation time.")
    ] = 90,
    keep: Annotated[int, typer.Option("--keep", min=0, help="Newest versions per image never 'unused'.")] = 3,
    allowed_account: Annotated[
        list[str] | None,
        typer.Option("--allowed-account", help="Account the AMIs may be shared with (repeat)."),
    ] = None,
    allowed_org: Annotated[
        list[str] | None,
        typer.Option("--allowed-org", help="Organization or OU ARN the AMIs may be shared with (repeat)."),
    ] = None,
    allow_list: Annotated[
        Path | None,
        typer.Option("--allow-list", help="JSON file: {accounts, organizations, organizational_units}."),
    ] = None,
    concurrency: ConcurrencyOpt = 4,
    workers: Annotated[
        int, typer.Option("--workers", min=1, help="Permission lookups in flight per region.")
    ] = 8,
    max_attempts: AttemptsOpt = DEFAULT_MAX_ATTEMPTS,
    profile: ProfileOpt = None,
) -> None:
    """Audit the AMIs this account owns: encryption, tags, public/shared, age, usage, management."""
    if as_json and markdown:
        raise _fail_input("--json and --markdown are exclusive")
    threshold: Severity | None
    try:
        threshold = None if fail_on.strip().lower() == "none" else Severity.parse(fail_on)
    except ValueError:
        valid = ", ".join([*(s.label for s in sorted(Severity, reverse=True)), "none"])
        raise _fail_input(f"--fail-on: unknown severity {fail_on!r}; use one of {valid}") from None
    allow = _allow_list(allowed_account or [], allowed_org or [], allow_list)
    factory = _factory(profile, max_attempts, pool=workers + 4)
    regions = _regions(region, factory)
    config = AuditConfig(max_age_days=max_age_days, keep=keep, allow=allow)
    result = _audit_regions(factory, regions, config, concurrency=concurrency, workers=workers)
    if as_json:
        print(json.dumps(render.audit_json(result), indent=2))
    elif markdown:
        sys.stdout.write(render.audit_markdown(result))
    else:
        render.audit_table(result, _out)
        _out.print(render.audit_summary(result, threshold))
    raise typer.Exit(1 if result.fails(threshold) else 0)


def cleanup(
    region: RegionOpt = None,
    apply: Annotated[bool, typer.Option("--apply", help="Act; without it, only list (dry run).")] = False,
    keep: Annotated[int, typer.Option("--keep", min=1, help="Newest versions per image always kept.")] = 3,
    retention_days: Annotated[
        int, typer.Option("--retention-days", min=0, help="Only images older than this are eligible.")
    ] = 90,
    deprecate_after: Annotated[
        int | None,
        typer.Option(
            "--deprecate-after", min=0, help="Set a deprecation time DAYS ahead instead of deregistering."
        ),
    ] = None,
    image: Annotated[
        list[str] | None, typer.Option("--image", help="Only these golden-image names (repeat).")
    ] = None,
    include_shared: Annotated[
        bool,
        typer.Option(
            "--include-shared",
            help="Also retire shared AMIs once deprecated for longer than --shared-grace-days.",
        ),
    ] = False,
    shared_grace_days: Annotated[
        int, typer.Option("--shared-grace-days", min=0, help="Deprecated this long before a shared AMI goes.")
    ] = 30,
    yes: Annotated[
        bool, typer.Option("--yes", "-y", help="With --apply: do not ask for confirmation.")
    ] = False,
    as_json: JsonOpt = False,
    concurrency: ConcurrencyOpt = 4,
    max_attempts: AttemptsOpt = DEFAULT_MAX_ATTEMPTS,
    profile: ProfileOpt = None,
) -> None:
    """Deregister (and delete the snapshots of) old, unused golden AMIs proven ours — a dry run unless
    --apply; --apply asks on a terminal and needs --yes without one."""
    if apply and not yes and not _interactive():
        raise _fail_input("--apply without a terminal needs --yes (review the plan with a dry run first)")
    factory = _factory(profile, max_attempts)
    regions = _regions(region, factory)
    policy = CleanupPolicy(
        keep=keep,
        retention_days=retention_days,
        deprecate_after=deprecate_after,
        images=frozenset(image or ()),
        include_shared=include_shared,
        shared_grace_days=shared_grace_days,
    )

    def confirm(plan: CleanupReport) -> bool:
        render.cleanup_table(plan, _err, hint=False)
        return bool(typer.confirm("Apply this plan?", default=False, err=True))

    with _progress(True, "cleanup") as bar:
        progress = bar
        if progress is None:
            # No terminal (CI): a line per region as its inventory is read, so a slow region is visible.
            _err.print(f"cleanup: reading {', '.join(regions)}", highlight=False)
            progress = _region_lines("cleanup")
        result = run_cleanup(
            factory,
            regions,
            policy,
            apply=apply,
            concurrency=concurrency,
            progress=progress,
            confirm=None if yes else confirm,
        )
    if result.declined:
        _err.print("Declined: nothing changed.")
        raise typer.Exit(1)
    if as_json:
        print(json.dumps(render.cleanup_json(result), indent=2))
    else:
        render.cleanup_table(result, _out)
        _out.print(render.cleanup_summary(result))
    raise typer.Exit(0 if result.ok else 1)


def _project_root(start: Path) -> Path:
    for candidate in (start, *start.parents):
        if (candidate / "Pulumi.yaml").is_file():
            return candidate
    return start


def pin(
    stack: Annotated[
        list[str] | None,
        typer.Option(
            "--stack",
            "-s",
            help="Stack (environment); repeat. Default: every stack but dev, which follows the newest "
            "parents (stacks/README.md).",
        ),
    ] = None,
    check: Annotated[
        bool, typer.Option("--check", help="Write nothing; exit 1 when a newer base image exists.")
    ] = False,
    as_json: JsonOpt = False,
    root: Annotated[
        Path | None, typer.Option("--root", help="Project root (default: nearest dir with Pulumi.yaml).")
    ] = None,
    max_attempts: AttemptsOpt = DEFAULT_MAX_ATTEMPTS,
    profile: ProfileOpt = None,
) -> None:
    """Resolve SSM-parameter parents to exact AMI ids per region and record them in stacks/pins/<env>.yaml."""
    project = (root or _project_root(Path.cwd())).resolve()
    stacks_dir = project / stackfiles.STACKS_DIR
    skipped: list[str] = []
    if stack:
        files = [stackfiles.stack_file(project, name) for name in dict.fromkeys(stack)]
    else:
        every = stackfiles.stack_files(project)
        files = [f for f in every if stackfiles.stack_of(f) not in FOLLOWS_NEWEST]
        skipped = [stackfiles.stack_of(f) for f in every if f not in files]
        if every and not files:
            raise _fail_input(
                f"only {', '.join(skipped)} in {stacks_dir}, which follows the newest parents and is not "
                f"pinned by default (stacks/README.md); pass --stack {skipped[0]} to pin it anyway"
            )
    if not files:
        raise _fail_input(f"no stack files in {stacks_dir}")
    factory = _factory(profile, max_attempts)
    results: list[PinResult] = []
    written: dict[str, bool] = {}
    for file in files:
        try:
            result = pin_stack(factory, file, root=project, write=not check)
        except StackError as exc:
            raise _fail_input(str(exc)) from None
        results.append(result)
        written[result.environment] = not check and not result.errors and result.changed
    if as_json:
        print(json.dumps(render.pin_json(results, written), indent=2))
    else:
        for result in results:
            render.pin_table(result, _out, check=check)
        _out.print(render.pin_summary(results, written, check=check, skipped=skipped))
    failed = any(r.errors for r in results) or (check and any(r.changed for r in results))
    raise typer.Exit(1 if failed else 0)


def register(app: typer.Typer) -> None:
    """Add ``pin``, ``audit`` and ``cleanup`` to the ``golden-images`` app."""
    app.command("pin")(pin)
    app.command("audit")(audit)
    app.command("cleanup")(cleanup)
