"""``golden-images`` command line: offline preview (and, registered from :mod:`golden_images.tools`, the
day-2 AWS commands).

Exit codes of ``preview``: 0 — no mandatory policy violation; 1 — at least one; 2 — bad input (invalid
catalog, missing stack file, unreadable policy config).
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Annotated, Any

import typer
import yaml
from rich.console import Console

from golden_images.common import projectconfig, safeyaml
from golden_images.common.loader import (
    CATALOG_KEY,
    CONFIG_NAMESPACE,
    CatalogError,
    Issue,
    load_catalog_file,
    read_stack_file,
)
from golden_images.common.spec import Catalog
from golden_images.policypack import installed_policy_pack, package_version
from golden_images.preview.model import Violation
from golden_images.program import PlatformConfig, platform_config
from golden_images.registry.commands import register as register_registry
from golden_images.tools.commands import register as register_tools

app = typer.Typer(
    name="golden-images",
    help="Golden machine images with Pulumi: offline preview with policies, and day-2 AWS tools.",
    no_args_is_help=True,
    add_completion=False,
)
_err = Console(stderr=True)


def _print_version(value: bool) -> None:
    if value:
        typer.echo(f"golden-images {package_version()}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_print_version, is_eager=True, help="Print the installed version and exit."
        ),
    ] = False,
) -> None:
    """Golden machine images with Pulumi: offline preview with policies, and day-2 AWS tools."""


def find_root(start: Path) -> Path:
    """The nearest directory at or above ``start`` holding ``Pulumi.yaml`` (the project root)."""
    for candidate in (start, *start.parents):
        if (candidate / "Pulumi.yaml").is_file():
            return candidate
    raise typer.BadParameter(
        f"no Pulumi.yaml in {start} or any parent; run inside the project or pass --root"
    )


def _project_file(root: Path) -> dict[str, Any]:
    """The parsed ``Pulumi.yaml`` of ``root`` (empty when unreadable: the program run reports that). Read with
    the same hostile-input rules as stack files (:mod:`golden_images.common.safeyaml`); a file that breaks
    them raises :class:`CatalogError`."""
    path = root / "Pulumi.yaml"
    try:
        data = path.read_bytes()
    except OSError:
        return {}
    try:
        document = safeyaml.load(safeyaml.decode(data))
    except safeyaml.YamlError as problem:
        raise CatalogError([Issue(str(path), problem.path, str(problem))]) from None
    except yaml.YAMLError:
        return {}
    return document if isinstance(document, dict) else {}


def _relative(file: Path, root: Path) -> str:
    try:
        return str(file.relative_to(root))
    except ValueError:
        return str(file)


def default_policy_pack(root: Path) -> Path:
    """``<root>/policies`` when it is a policy pack; otherwise golden-images' own pack (so ``--root`` can judge
    another team's project with our rules): the checkout's ``policies/`` beside this package, or — installed
    from a wheel, which has no ``policies/`` — a pack generated for the installed rules."""
    local = root / "policies"
    if (local / "PulumiPolicy.yaml").is_file():
        return local
    checkout = Path(__file__).resolve().parents[2] / "policies"
    if (checkout / "PulumiPolicy.yaml").is_file():
        return checkout
    return installed_policy_pack()


def default_policy_config(pack_dir: Path, stack: str) -> Path | None:
    """``<pack>/config/<stack>.json`` when it exists (dev and staging relax levels); ``None`` otherwise,
    which means prod-grade strictness, as with ``pulumi preview`` without ``--policy-pack-config``."""
    path = pack_dir / "config" / f"{stack.rsplit('/', maxsplit=1)[-1]}.json"
    return path if path.is_file() else None


def _platform_config(catalog: Catalog, stack_config: dict[str, Any]) -> PlatformConfig:
    """:func:`golden_images.program.platform_config` on the stack file as written (what the program will see),
    in preview mode: missing `pulumi up` needs become notes."""

    def value(key: str) -> object | None:
        return stack_config.get(f"{CONFIG_NAMESPACE}:{key}")

    def is_secret(key: str) -> bool:
        found = value(key)
        return isinstance(found, dict) and set(found) == {"secure"}

    return platform_config(catalog, value=value, is_secret=is_secret, environ=os.environ, dry_run=True)


def _bad_input(as_json: bool, stack: str, errors: list[dict[str, str]]) -> None:
    if as_json:
        print(json.dumps({"stack": stack, "errors": errors, "resources": [], "violations": []}, indent=2))
    else:
        _err.print(f"[red]invalid input for stack {stack} ({len(errors)} problem(s)):[/]")
        for e in errors:
            _err.print(
                f"  - {e['file']}: {e['path']}: {e['message']}"
                if e["path"]
                else f"  - {e['file']}: {e['message']}"
            )
    raise typer.Exit(2)


@app.command()
def preview(
    stack: Annotated[
        str, typer.Option("--stack", "-s", help="Stack (environment) to preview: dev, staging, prod.")
    ],
    as_json: Annotated[bool, typer.Option("--json", help="Print the machine-readable result.")] = False,
    policy_pack: Annotated[
        Path | None, typer.Option("--policy-pack", help="Policy pack directory (default: <root>/policies).")
    ] = None,
    policy_config: Annotated[
        Path | None,
        typer.Option(
            "--policy-config",
            help="Policy pack config JSON, as for --policy-pack-config (default: policies/config/<stack>.json "
            "if present, else none = prod-grade).",
        ),
    ] = None,
    no_policy: Annotated[bool, typer.Option("--no-policy", help="Skip policy evaluation.")] = False,
    stack_file: Annotated[
        Path | None,
        typer.Option("--stack-file", help="Stack file (default: <root>/stacks/Pulumi.<stack>.yaml)."),
    ] = None,
    root: Annotated[
        Path | None, typer.Option("--root", help="Project root (default: nearest Pulumi.yaml).")
    ] = None,
) -> None:
    """Run the program for STACK under Pulumi mocks, evaluate the policy pack through the engine's analyzer
    protocol, and print the resources, version records and violations."""
    from golden_images.preview.present import render, to_json
    from golden_images.preview.runner import run_program

    project_root = (root or find_root(Path.cwd())).resolve()
    notes: list[str] = []
    try:
        project = _project_file(project_root)
        project_name = str(project.get("name") or "golden-images")
        config_dir = project_root / str(project.get("stackConfigDir") or ".")
        file = (stack_file or config_dir / f"Pulumi.{stack}.yaml").resolve()
        if not file.is_file():
            raise CatalogError([Issue(str(file), "", "stack file does not exist")])
        stack_config = read_stack_file(file)
        # What `pulumi preview` itself refuses (Pulumi.yaml's declarations), then our own catalog, so every
        # problem is listed together; another project's program validates its own config (it may not have a
        # catalog at all).
        issues = projectconfig.validate(
            project, stack_config, stack=stack, file=_relative(file, project_root)
        )
        if CATALOG_KEY in stack_config or project_name == "golden-images":
            try:
                catalog = load_catalog_file(file, root=project_root, stack=stack)
            except CatalogError as exc:
                issues.extend(exc.issues)
            else:
                checked = _platform_config(catalog, stack_config)
                reported = {issue.path for issue in issues}  # a missing declared key is reported once
                issues.extend(
                    Issue(_relative(file, project_root), f"config.{CONFIG_NAMESPACE}:{key}", why)
                    for key, why in checked.problems
                    if f"config.{CONFIG_NAMESPACE}:{key}" not in reported
                )
                notes.extend(checked.notes)
        if issues:
            raise CatalogError(issues)
    except CatalogError as exc:
        _bad_input(
            as_json, stack, [{"file": i.file, "path": i.path, "message": i.message} for i in exc.issues]
        )

    run = run_program(project_root, stack, stack_file=file, project=project_name, engine_unknowns=True)
    if run.error is not None:  # the program refused its config after our pre-check (should not happen)
        _bad_input(as_json, stack, [{"file": str(file), "path": "", "message": str(run.error)}])
    violations: list[Violation] = []
    pack_dir: Path | None = None
    if not no_policy:
        from golden_images.preview.harness import PolicyHarness, PolicyHarnessError, load_policy_config

        pack_dir = (policy_pack or default_policy_pack(project_root)).resolve()
        config_file = policy_config or default_policy_config(pack_dir, stack)
        config: dict[str, Any] | None = None
        try:
            if config_file is not None:
                config = load_policy_config(config_file)
            # As the engine: stack config, secret keys and project tags in ConfigureStack; the stack resource
            # and default providers analyzed with the program's resources.
            tags = {"pulumi:project": project_name, "pulumi:runtime": "python"}
            if project.get("description"):
                tags["pulumi:description"] = str(project["description"])
            with PolicyHarness(
                pack_dir,
                project=project_name,
                stack=stack,
                config=config,
                stack_config=run.config,
                config_secret_keys=run.secret_keys,
                tags=tags,
            ) as harness:
                violations = harness.analyze(run.engine_resources)
        except PolicyHarnessError as exc:
            _bad_input(
                as_json, stack, [{"file": str(config_file or pack_dir), "path": "", "message": str(exc)}]
            )

    pack_label = str(pack_dir) if pack_dir is not None else None
    if as_json:
        document = to_json(stack, run.resources, violations, run.outputs, pack_label)
        document["notes"] = notes
        print(json.dumps(document, indent=2, default=str))
    else:
        render(Console(), stack, run.resources, violations, run.outputs, pack_label)
        for note in notes:
            _err.print(f"[yellow]note:[/] {note}", highlight=False)
    if any(v.level == "mandatory" for v in violations):
        raise typer.Exit(1)


# Day-2 AWS commands (pin, audit, cleanup) are defined beside their code in golden_images.tools.
register_tools(app)
# Image registry: registry record/show/policy-config, promote, revoke (golden_images.registry).
register_registry(app)


def main() -> None:
    """Console-script entry point."""
    app()


if __name__ == "__main__":
    main()
