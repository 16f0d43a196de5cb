"""Typer commands of the image registry, registered on the ``golden-images`` app by :func:`register`:
``registry record|show|policy-config`` and the top-level ``promote`` and ``revoke``.

Exit codes: 0 success; 1 refused by a registry rule (revoked or descending from a revoked version, a
channel's ``promotes_from``, a recorded version whose build changed); 2 bad input (invalid registry, stack
file or catalog — each problem with its file and dotted field —, an unknown image or version, a bad
timestamp, an unreadable policy config). Human output is rich; ``--json`` prints exactly one document.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Annotated, Any

import typer
from botocore.exceptions import BotoCoreError, ClientError  # type: ignore[import-untyped,unused-ignore]
from rich.console import Console
from rich.table import Table

from golden_images.catalog import layers, stackfiles
from golden_images.catalog.loader import CatalogError, Issue, load_catalog_file
from golden_images.core.build import ImageBuild
from golden_images.core.rules import is_aws_region
from golden_images.platforms.aws.pins import load_pins, pins_path

from . import ops, store
from .aws import IMAGE_ARN, find_amis
from .derive import DERIVED_PLATFORMS, derive
from .model import PLATFORMS, Registry, VersionRef, find

_out = Console(soft_wrap=True)  # messages stay one line: greppable in CI logs
_err = Console(stderr=True, soft_wrap=True)

registry_app = typer.Typer(
    name="registry",
    help="The image registry (stacks/registry.yaml): record built versions, show them, write pack config.",
    no_args_is_help=True,
)

RootOpt = Annotated[Path | None, typer.Option("--root", help="Project root (default: nearest Pulumi.yaml).")]
RegistryOpt = Annotated[
    Path | None, typer.Option("--registry", help="Registry file (default: <root>/stacks/registry.yaml).")
]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print one JSON document for machines.")]
StackOpt = Annotated[
    str | None, typer.Option("--stack", "-s", help="Environment of the version (needed when ambiguous).")
]


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _root(root: Path | None) -> Path:
    start = (root or Path.cwd()).resolve()
    if root is not None:
        return start
    for candidate in (start, *start.parents):
        if (candidate / "Pulumi.yaml").is_file():
            return candidate
    raise _fail(
        [Issue(str(start), "", "no Pulumi.yaml here or above; run inside the project or pass --root")]
    )


def _fail(issues: Sequence[Issue]) -> typer.Exit:
    _err.print(f"[red]invalid input ({len(issues)} problem(s)):[/]")
    for i in issues:
        _err.print(
            f"  - {i.file}: {i.path}: {i.message}" if i.path else f"  - {i.file}: {i.message}",
            highlight=False,
        )
    return typer.Exit(2)


def _refused(message: str) -> typer.Exit:
    _err.print(f"[red]refused:[/] {message}", highlight=False)
    return typer.Exit(1)


def _bad(message: str) -> typer.Exit:
    _err.print(f"[red]error:[/] {message}", highlight=False)
    return typer.Exit(2)


def _paths(root: Path | None, registry: Path | None) -> tuple[Path, Path]:
    project = _root(root)
    return project, (registry or project / store.DEFAULT_PATH)


def _load(path: Path) -> Registry:
    try:
        return store.load(path)
    except store.RegistryError as exc:
        raise _fail(exc.issues) from None


def _timestamp(value: str | None, option: str) -> dt.datetime:
    if value is None:
        return _now()
    try:
        parsed = dt.datetime.fromisoformat(value)
    except ValueError:
        raise _bad(f"{option} {value!r} is not ISO-8601; write e.g. 2026-12-01T10:00:00Z") from None
    if parsed.tzinfo is None:
        raise _bad(f"{option} {value!r} has no time zone; add Z or an offset such as +01:00")
    return parsed.astimezone(dt.UTC)


def _iso(value: dt.datetime) -> str:
    return value.isoformat().replace("+00:00", "Z")


# ---------------------------------------------------------------------------------------------------- show
def _cause(found: tuple[Any, VersionRef] | None, ref: VersionRef) -> str | None:
    """The revoked ancestor a revocation comes from (``None``: revoked itself, or not revoked)."""
    if found is None:
        return None
    revocation, carrier = found
    cause = revocation.cause or (carrier if carrier != ref else None)
    return str(cause) if cause is not None else None


def _view(registry: Registry, image: str | None, now: dt.datetime) -> dict[str, Any]:
    images: dict[str, Any] = {}
    for name, entry in sorted(registry.images.items()):
        if image is not None and name != image:
            continue
        versions = []
        for v in entry.versions:
            ref = VersionRef(image=name, environment=v.environment, version=v.version)
            found = ops.revocation_of(registry, ref)
            state = "good"
            if found is not None:
                state = "revoked" if found[0].at <= now else "revocation scheduled"
            versions.append(
                {
                    "environment": v.environment,
                    "version": v.version,
                    "fingerprint": v.fingerprint,
                    "state": state,
                    "reason": found[0].reason if found else None,
                    "revoked_at": _iso(found[0].at) if found else None,
                    "cause": _cause(found, ref),
                    "ancestry": [str(a) for a in ops.ancestry(registry, ref)],
                    "artifacts": v.artifacts,
                    "recorded_at": _iso(v.recorded_at),
                    "age_days": round((now - v.recorded_at).total_seconds() / 86400, 1),
                }
            )
        channels = {
            c: {
                "current": str(ch.current) if ch.current else None,
                "promotes_from": ch.promotes_from,
                "history": [{"action": e.action, "to": str(e.to), "at": _iso(e.at)} for e in ch.history],
            }
            for c, ch in sorted(entry.channels.items())
        }
        images[name] = {"versions": versions, "channels": channels}
    return {"images": images}


def show(
    image: Annotated[str | None, typer.Option("--image", help="Only this image.")] = None,
    as_json: JsonOpt = False,
    root: RootOpt = None,
    registry: RegistryOpt = None,
) -> None:
    """Versions (state, ancestry, artifacts, age), channels and revocations of the registry."""
    _, path = _paths(root, registry)
    reg = _load(path)
    if image is not None and image not in reg.images:
        raise _bad(f"image {image!r} is not in {path} (recorded: {', '.join(sorted(reg.images)) or 'none'})")
    view = _view(reg, image, _now())
    if as_json:
        print(json.dumps(view, indent=2))
        return
    for name, entry in view["images"].items():
        table = Table(title=name, title_justify="left")
        for column in ("env", "version", "state", "built on", "artifacts", "age (days)", "reason"):
            table.add_column(column)
        for v in entry["versions"]:
            arts = ", ".join(
                f"{p}/{loc}: {a}" for p, places in v["artifacts"].items() for loc, a in places.items()
            )
            table.add_row(
                v["environment"],
                v["version"],
                v["state"],
                " ← ".join(v["ancestry"]) or "-",
                arts or "-",
                str(v["age_days"]),
                (v["reason"] or "") + (f" (cause: {v['cause']})" if v["cause"] else ""),
            )
        _out.print(table)
        for c, ch in entry["channels"].items():
            source = f" (from {ch['promotes_from']})" if ch["promotes_from"] else ""
            _out.print(f"  channel [bold]{c}[/]{source} → {ch['current'] or '(empty)'}", highlight=False)


# ------------------------------------------------------------------------------------------------- promote
def promote(
    image: Annotated[str, typer.Argument(help="Image name.")],
    version: Annotated[str, typer.Argument(help="Recorded version (MAJOR.MINOR.PATCH).")],
    channel: Annotated[str, typer.Option("--channel", help="Channel to point at the version.")],
    stack: StackOpt = None,
    as_json: JsonOpt = False,
    root: RootOpt = None,
    registry: RegistryOpt = None,
) -> None:
    """Point CHANNEL of IMAGE at VERSION. Refuses (exit 1) a revoked version, one built on a revoked version,
    and one never on the channel's ``promotes_from`` channel; an unrecorded version is bad input (exit 2)."""
    _, path = _paths(root, registry)
    reg = _load(path)
    try:
        ref = ops.resolve(reg, image, version, stack)
        after, moved = ops.promote(reg, ref, channel, now=_now())
    except ops.BadInputError as exc:
        raise _bad(str(exc)) from None
    except ops.RefusedError as exc:
        raise _refused(str(exc)) from None
    except ValueError as exc:  # the channel name breaks the schema
        raise _bad(f"channel {channel!r}: {exc}") from None
    store.save(after, path)
    if as_json:
        print(json.dumps({"image": image, "channel": channel, "current": str(ref), "moved": moved}))
    else:
        _out.print(f"{channel} of {image} → {ref}" + ("" if moved else " (already there)"), highlight=False)


# -------------------------------------------------------------------------------------------------- revoke
def revoke(
    image: Annotated[str, typer.Argument(help="Image name.")],
    version: Annotated[str, typer.Argument(help="Recorded version (MAJOR.MINOR.PATCH).")],
    reason: Annotated[str, typer.Option("--reason", help="Why (shown in every violation and refusal).")],
    at: Annotated[
        str | None, typer.Option("--at", help="When it takes effect, ISO-8601 with zone (default: now).")
    ] = None,
    rollback: Annotated[
        bool,
        typer.Option("--rollback", help="Move channels on revoked versions to their newest good version."),
    ] = False,
    stack: StackOpt = None,
    as_json: JsonOpt = False,
    root: RootOpt = None,
    registry: RegistryOpt = None,
) -> None:
    """Revoke VERSION of IMAGE (now, or scheduled with --at) and every version built on it; report the
    channels pointing at revoked versions and, with --rollback, move them back."""
    _, path = _paths(root, registry)
    reg = _load(path)
    when = _timestamp(at, "--at")
    if not reason.strip():
        raise _bad("--reason must say why")
    try:
        ref = ops.resolve(reg, image, version, stack)
        after, outcome = ops.revoke(reg, ref, reason=reason, at=when, now=_now(), rollback=rollback)
    except ops.BadInputError as exc:
        raise _bad(str(exc)) from None
    store.save(after, path)
    channels = [
        {
            "image": c.image,
            "channel": c.channel,
            "pointed_at": str(c.pointed_at),
            "moved_to": str(c.moved_to) if c.moved_to else None,
            "stranded": c.stranded,
        }
        for c in outcome.channels
    ]
    if as_json:
        print(
            json.dumps(
                {"revoked": [str(r) for r in outcome.revoked], "at": _iso(when), "channels": channels},
                indent=2,
            )
        )
        return
    for r in outcome.revoked:
        cause = "" if r == ref else f" (built on {ref})"
        _out.print(f"revoked {r}{cause} from {_iso(when)}: {reason}", highlight=False)
    if not outcome.revoked:
        _out.print(f"{ref} was already revoked; nothing changed", highlight=False)
    for c in channels:
        if c["moved_to"]:
            _out.print(
                f"channel {c['channel']} of {c['image']}: {c['pointed_at']} → {c['moved_to']}",
                highlight=False,
            )
        else:
            hint = (
                "no good version to roll back to"
                if c["stranded"]
                else "pass --rollback or promote a good version"
            )
            _out.print(
                f"[yellow]channel {c['channel']} of {c['image']} points at revoked {c['pointed_at']}[/] ({hint})",
                highlight=False,
            )


# ------------------------------------------------------------------------------------------- policy-config
def policy_config(
    stack: Annotated[
        str | None, typer.Option("--stack", "-s", help="Environment: base config policies/config/<env>.json.")
    ] = None,
    base: Annotated[
        Path | None, typer.Option("--base", help="Base pack config JSON (wins over --stack's).")
    ] = None,
    root: RootOpt = None,
    registry: RegistryOpt = None,
) -> None:
    """Print a pack config for ``--policy-pack-config``: the base config plus the registry's revoked
    artifacts (mandatory; scheduled ones advisory until their time) and approved artifacts (enforced only
    when the base sets ``requireApproved``)."""
    from golden_images.engine.harness import PolicyHarnessError, load_policy_config

    project, path = _paths(root, registry)
    reg = _load(path)
    base_file = base
    if base_file is None and stack is not None:
        candidate = project / "policies" / "config" / f"{stack}.json"
        base_file = candidate if candidate.is_file() else None
    config: dict[str, Any] = {}
    if base_file is not None:
        try:
            config = dict(load_policy_config(base_file))
        except PolicyHarnessError as exc:
            raise _fail([Issue(str(base_file), "", str(exc))]) from None
    print(json.dumps(ops.policy_config(reg, config, stack), indent=2))


# -------------------------------------------------------------------------------------------------- record
def _parent(reg: Registry, build: ImageBuild) -> VersionRef | None:
    """The recorded version the image is built on: the golden parent's version in this environment (a
    layered image), else from any platform's source: an AWS parent AMI that is a recorded artifact, or a
    parent Image Builder ARN of one of our recipes at a recorded version; an Azure source gallery image
    version or a GCP source image that is a recorded artifact (Proxmox templates start from a cloud image,
    never from a recorded version)."""
    if build.parent is not None:
        golden = VersionRef(
            image=build.parent.image.name,
            environment=build.environment,  # type: ignore[arg-type]
            version=build.parent.image.version,
        )
        if find(reg, golden) is not None:
            return golden
    image = build.image
    aws_parent = image.aws.parent if image.aws is not None else None
    ami = getattr(aws_parent, "ami", None)
    match = IMAGE_ARN.fullmatch(getattr(aws_parent, "image_builder_arn", None) or "")
    # Layered sections have no vendor source (their parent was handled above).
    azure_vendor = getattr(image.azure, "vendor_source", None)
    azure_source = getattr(azure_vendor, "gallery_image_version_id", None)
    gcp_vendor = getattr(image.gcp, "source", None)
    gcp_source = gcp_vendor.reference if gcp_vendor is not None and gcp_vendor.image is not None else None
    for name, entry in reg.images.items():
        for v in entry.versions:
            ref = VersionRef(image=name, environment=v.environment, version=v.version)
            if ami is not None and ami in v.artifacts.get("aws", {}).values():
                return ref
            if (
                match
                and match["version"] == v.version
                and match["recipe"].startswith(f"{name}-{v.environment}-")
            ):
                return ref
            if azure_source is not None and azure_source.lower() in {
                a.lower() for a in v.artifacts.get("azure", {}).values()
            }:
                return ref
            if gcp_source is not None and gcp_source in v.artifacts.get("gcp", {}).values():
                return ref
    return None


def _platforms(values: list[str] | None) -> tuple[str, ...]:
    wanted = tuple(dict.fromkeys(p.strip() for v in values or () for p in v.split(",") if p.strip()))
    bad = [p for p in wanted if p not in PLATFORMS]
    if bad:
        raise _bad(f"--platforms {', '.join(bad)}: not a platform; use {', '.join(PLATFORMS)}")
    return wanted or PLATFORMS


def record(
    stack: Annotated[
        str, typer.Option("--stack", "-s", help="Stack (environment) whose versions to record.")
    ],
    regions: Annotated[
        list[str] | None,
        typer.Option(
            "--regions", "--region", "-r", help="Only these AWS regions (repeat or comma-separate)."
        ),
    ] = None,
    platforms: Annotated[
        list[str] | None,
        typer.Option(
            "--platforms",
            "--platform",
            "-p",
            help="Only these platforms: aws, azure, gcp, proxmox (repeat or comma-separate; default all).",
        ),
    ] = None,
    stack_file: Annotated[
        Path | None,
        typer.Option("--stack-file", help="Stack file (default: <root>/stacks/Pulumi.<stack>.yaml)."),
    ] = None,
    profile: Annotated[
        str | None, typer.Option("--profile", help="AWS profile (default: AWS_PROFILE).")
    ] = None,
    as_json: JsonOpt = False,
    root: RootOpt = None,
    registry: RegistryOpt = None,
) -> None:
    """Record STACK's current image versions with their artifacts: on AWS the AMIs EC2 Image Builder built
    (found by ``Ec2ImageBuilderArn`` provenance of our recipe and our tags); on Azure, GCP and Proxmox the
    ids derived from the components' deterministic names (gallery image version, image path, node → VM id).
    Idempotent: re-running changes nothing. Record after the builds ran: derived ids are not checked."""
    from golden_images.tools.aws import ClientFactory

    project, path = _paths(root, registry)
    chosen = _platforms(platforms)
    file = stack_file or stackfiles.stack_file(project, stack)
    try:
        catalog = load_catalog_file(file, root=project, stack=stack)
    except CatalogError as exc:
        raise _fail(exc.issues) from None
    wanted = [r.strip() for v in regions or () for r in v.split(",") if r.strip()]
    bad = [r for r in wanted if not is_aws_region(r)]
    if bad:
        raise _bad(f"--regions {', '.join(bad)}: not AWS region names (e.g. us-east-1)")
    reg = _load(path)
    factory = ClientFactory(profile=profile)
    now = _now()
    rows: list[dict[str, Any]] = []
    refused: list[str] = []
    # Parents first, with the stack's pins: the same builds (and fingerprints) the program declares.
    builds = layers.builds(catalog, project, load_pins(pins_path(project, catalog.environment)))
    for build in builds.values():
        image = build.image
        fingerprint = build.fingerprint
        artifacts: dict[str, dict[str, str]] = {}
        missing: list[str] = []
        recorded = find(
            reg, VersionRef(image=image.name, environment=catalog.environment, version=image.version)
        )
        if image.aws is not None and "aws" in chosen:
            for region in [r for r in image.aws.regions if not wanted or r in wanted]:
                try:
                    ec2 = factory.client("ec2", region)
                    found = find_amis(
                        ec2,
                        region=region,
                        image=image.name,
                        environment=catalog.environment,
                        version=image.version,
                        fingerprint=fingerprint,
                    )
                except (BotoCoreError, ClientError) as exc:
                    raise _bad(f"{region}: {exc}") from None
                if not found:
                    missing.append(region)
                    continue
                have = recorded.artifacts.get("aws", {}).get(region) if recorded else None
                # A version rebuilt by its schedule has several AMIs: keep the recorded one while it exists.
                ids = [a.image_id for a in found]
                artifacts.setdefault("aws", {})[region] = have if have in ids else ids[0]
        derived = derive(build, [p for p in chosen if p in DERIVED_PLATFORMS])
        artifacts.update(derived.artifacts)
        row: dict[str, Any] = {
            "image": image.name,
            "version": image.version,
            "environment": catalog.environment,
            "fingerprint": fingerprint,
            "artifacts": artifacts,
            "not_built_in": missing,
            "not_derived": derived.skipped,
        }
        if not artifacts:
            row["status"] = "not built"
            rows.append(row)
            continue
        parent = _parent(reg, build)
        try:
            reg, outcome = ops.record(
                reg,
                image=image.name,
                environment=catalog.environment,
                version=image.version,
                fingerprint=fingerprint,
                artifacts=artifacts,
                parent=parent,
                now=now,
            )
        except ops.RefusedError as exc:
            refused.append(str(exc))
            row["status"] = "refused"
        else:
            row["status"] = "recorded" if outcome.created else ("added" if outcome.added else "unchanged")
            row["parent"] = str(parent) if parent else None
        rows.append(row)
    written = store.save(reg, path)
    if as_json:
        print(
            json.dumps(
                {"registry": str(path), "written": written, "images": rows, "refused": refused}, indent=2
            )
        )
    else:
        table = Table(title=f"{path} ({'written' if written else 'unchanged'})", title_justify="left")
        for column in ("image", "version", "status", "artifacts", "not built in", "not derived"):
            table.add_column(column)
        for r in rows:
            arts = ", ".join(
                f"{platform}/{loc}: {a}"
                for platform, places in r["artifacts"].items()
                for loc, a in places.items()
            )
            table.add_row(
                r["image"],
                r["version"],
                r["status"],
                arts or "-",
                ", ".join(r["not_built_in"]) or "-",
                "; ".join(f"{p}: {why}" for p, why in r["not_derived"].items()) or "-",
            )
        _out.print(table)
    if refused:
        for message in refused:
            _err.print(f"[red]refused:[/] {message}", highlight=False)
        raise typer.Exit(1)


registry_app.command("record")(record)
registry_app.command("show")(show)
registry_app.command("policy-config")(policy_config)


def register(app: typer.Typer) -> None:
    """Add ``registry …``, ``promote`` and ``revoke`` to ``app``."""
    app.add_typer(registry_app, name="registry")
    app.command("promote")(promote)
    app.command("revoke")(revoke)
