"""``golden-images`` command line: offline preview (and, registered from :mod:`golden_images.tools`, the
day-2 AWS commands).

Exit codes of ``preview``: 0 — no mandatory policy violation; 1 — at least one; 2 — bad input (invalid
catalog, missing stack file, unreadable policy config).
"""

from __future__ import annotations

import difflib
import json
import os
import re
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Annotated, Any

import typer
import typer.core
import yaml
from rich.console import Console
from rich.text import Text

from golden_images.catalog import projectconfig
from golden_images.catalog.loader import (
    CATALOG_KEY,
    CONFIG_NAMESPACE,
    CatalogError,
    Issue,
    load_catalog_file,
    read_stack_file,
)
from golden_images.catalog.spec import Catalog
from golden_images.core import safeyaml
from golden_images.engine.model import Violation
from golden_images.lineage import command as lineage_command
from golden_images.policypack import installed_policy_pack, package_version
from golden_images.program import PlatformConfig, platform_config
from golden_images.registry.commands import register as register_registry
from golden_images.tools.commands import register as register_tools
from golden_images.tools.report import pack, print_indented


def _hide_flag_types() -> None:
    """Typer's rich help prints a type after every option, ``<bool>`` even after an on/off flag that takes no
    value (``--json <bool>`` reads as if it wanted one). Flags show no type; every other option keeps its."""
    option = typer.core.TyperOption
    shown = option.display_type_rich
    if getattr(shown, "_flags_hidden", False):
        return

    def display_type_rich(self: typer.core.TyperOption, ctx: Any) -> str | None:
        return None if self.is_flag else shown(self, ctx)

    display_type_rich._flags_hidden = True  # type: ignore[attr-defined]
    option.display_type_rich = display_type_rich  # type: ignore[method-assign]


_hide_flag_types()

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
    the same hostile-input rules as stack files (:mod:`golden_images.core.safeyaml`); a file that breaks
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


# -- bad input, explained -------------------------------------------------------------------------------------
#
# The loader names the file, the dotted field and what is allowed; here, where the stack file's text is at
# hand, each problem also gets the file's line and the image by name (the loader names the key and the fix:
# a misspelt key, an unquoted number).

_CATALOG_PREFIX = f"config.{CATALOG_KEY}"
_IMAGE_INDEX = re.compile(rf"^{re.escape(_CATALOG_PREFIX)}\.images\[(\d+)\]")
_FROM_DEFAULTS = re.compile(r"\(the (?:value|key) comes from (defaults\.[^)\s]+)\)")
_REPEATED = re.compile(r"appears more than once \(images\[\d+\] and images\[(\d+)\]\)")
_LAST_STEP = re.compile(r"(\[\d+\]|\.[^.\[\]]+)$")


def _join(path: str, key: str | int) -> str:
    if isinstance(key, int):
        return f"{path}[{key}]"
    return f"{path}.{key}" if path else key


def yaml_lines(text: str) -> dict[str, int]:
    """Dotted path (as the loader writes them: ``config.golden-images:catalog.images[0].version``) → 1-based
    line of that key or sequence item in ``text``. Only called on a document the bounded reader
    (:mod:`golden_images.core.safeyaml`) accepted, so no alias, depth or size surprises; ``{}`` if it does not
    parse."""
    lines: dict[str, int] = {}
    # Each open collection: [is_mapping, path of the collection, next key or index, expecting a key].
    stack: list[list[Any]] = []
    try:
        for event in yaml.parse(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader)):
            if isinstance(event, (yaml.MappingEndEvent, yaml.SequenceEndEvent)):
                stack.pop()
                if stack and stack[-1][0]:
                    stack[-1][3] = True
                elif stack:
                    stack[-1][2] += 1
                continue
            if not isinstance(event, (yaml.ScalarEvent, yaml.MappingStartEvent, yaml.SequenceStartEvent)):
                continue
            line = event.start_mark.line + 1 if event.start_mark is not None else 0
            here = ""
            if stack:
                top = stack[-1]
                if top[0] and top[3]:  # a key: remember where it is written
                    top[2] = str(getattr(event, "value", ""))
                    top[3] = False
                    lines.setdefault(_join(top[1], top[2]), line)
                    continue
                here = _join(top[1], top[2])
                if not top[0]:
                    lines.setdefault(here, line)
            if isinstance(event, yaml.MappingStartEvent):
                stack.append([True, here, "", True])
            elif isinstance(event, yaml.SequenceStartEvent):
                stack.append([False, here, 0, False])
            elif stack:  # a scalar value ends the entry
                if stack[-1][0]:
                    stack[-1][3] = True
                else:
                    stack[-1][2] += 1
    except yaml.YAMLError:
        return {}
    return lines


def _value_at(document: Any, path: str) -> tuple[bool, Any]:
    """``(found, value)`` of ``path`` (dotted, from the document root) in ``document``."""
    node = document
    for key, index in re.findall(r"(?:^|\.)([^.\[\]]+)|\[(\d+)\]", path):
        if index:
            if not isinstance(node, list) or int(index) >= len(node):
                return False, None
            node = node[int(index)]
        else:
            if not isinstance(node, Mapping) or key not in node:
                return False, None
            node = node[key]
    return True, node


def _suggest(word: str, choices: Iterable[str], form: str = "; did you mean {!r}?") -> str:
    """``form`` filled with the choice closest to ``word``, or ``""`` when none is close."""
    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return form.format(close[0]) if close else ""


def explain(issues: Sequence[Issue], stack_file: Path, root: Path) -> list[dict[str, Any]]:
    """``issues`` as the ``errors[]`` of ``--json``: ``file``, ``path``, ``message`` (with the fix where one
    is known), plus ``line`` (1-based, ``None`` when not in the stack file) and ``image`` (the catalog image
    the problem is in, by name, ``None`` outside one)."""
    names = {str(stack_file), _relative(stack_file, root)}
    text = ""
    document: Any = None
    if any(i.file in names for i in issues):
        try:
            text = safeyaml.decode(stack_file.read_bytes())
            document = safeyaml.load(text)
        except (OSError, safeyaml.YamlError, yaml.YAMLError):
            text = ""
    lines = yaml_lines(text) if document is not None else {}
    found, images = _value_at(document, _CATALOG_PREFIX + ".images")
    errors: list[dict[str, Any]] = []
    for issue in issues:
        mine = issue.file in names and document is not None
        image: str | None = None
        match = _IMAGE_INDEX.match(issue.path)
        if mine and match and found and isinstance(images, list) and int(match.group(1)) < len(images):
            entry = images[int(match.group(1))]
            name = entry.get("name") if isinstance(entry, Mapping) else None
            image = name if isinstance(name, str) and name else None
        line: int | None = None
        if mine:
            origin = _FROM_DEFAULTS.search(issue.message)
            target = f"{_CATALOG_PREFIX}.{origin.group(1)}" if origin else issue.path
            misspelt = re.search(r"config has '([^']+)'", issue.message)
            if issue.path == _CATALOG_PREFIX and misspelt:
                target = f"config.{misspelt.group(1)}"  # where the misspelt key is written
            repeated = _REPEATED.search(issue.message)
            if repeated:
                target = f"{_CATALOG_PREFIX}.images[{repeated.group(1)}].name"  # where the name repeats
            while target and target not in lines:  # the nearest enclosing field that is written down
                parent = _LAST_STEP.sub("", target)
                target = parent if parent != target else ""
            line = lines.get(target) if target else None
        errors.append(
            {"file": issue.file, "path": issue.path, "message": issue.message, "line": line, "image": image}
        )
    return errors


def _shown_path(error: Mapping[str, Any]) -> str:
    """The dotted path for people: the catalog prefix dropped, the image named (``images[base-ubuntu]``)."""
    path = str(error["path"])
    if error.get("image"):
        path = _IMAGE_INDEX.sub(f"images[{error['image']}]", path)
    return path.removeprefix(_CATALOG_PREFIX + ".") if path != _CATALOG_PREFIX else path


def _bad_input(as_json: bool, stack: str, errors: list[dict[str, Any]]) -> None:
    if as_json:
        print(json.dumps({"stack": stack, "errors": errors, "resources": [], "violations": []}, indent=2))
        raise typer.Exit(2)
    err = Console(stderr=True, highlight=False)
    count = f"{len(errors)} problem{'s' * (len(errors) != 1)}"
    err.print(Text(f"invalid input for stack {stack} ({count}):", style="bold red"))
    for e in errors:
        where = f"{e['file']}:{e['line']}" if e.get("line") else str(e["file"])
        tokens = [(f"{where}:", "bold")]
        if e.get("path"):
            tokens.append((_shown_path(e), "cyan"))
        print_indented(err, pack(tokens, err.width - 2), 2)
        print_indented(err, Text(str(e["message"])), 4)
    err.print(
        Text(
            f"{stack}: exit 2: invalid input, nothing was previewed; fix the {count} above.", style="bold red"
        )
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
    from golden_images.preview.present import outcome, print_summary, render, to_json
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
        _bad_input(as_json, stack, explain(exc.issues, file, project_root))

    try:
        run = run_program(project_root, stack, stack_file=file, project=project_name, engine_unknowns=True)
    except CatalogError as exc:
        # Another project's program loading a catalog itself (not through pulumi.RunError): bad input, exit 2
        # with the problems, not a traceback and the exit code of a mandatory violation.
        _bad_input(as_json, stack, explain(exc.issues, file, project_root))
    if run.error is not None:  # the program refused its config (another project's program, plain data)
        error = run.error
        _bad_input(
            as_json,
            stack,
            [{"file": str(file), "path": "", "message": str(error), "line": None, "image": None}],
        )
    violations: list[Violation] = []
    pack_dir: Path | None = None
    if not no_policy:
        from golden_images.engine.harness import (
            PolicyConfigError,
            PolicyHarness,
            PolicyHarnessError,
            load_policy_config,
        )

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
                # The engine refuses a config naming a policy the pack does not have; a misspelt name must
                # not silently leave the policy at its default level.
                known = {p.name for p in harness.policies()}
                unknown = sorted(name for name in config or {} if name != "all" and name not in known)
                if unknown:
                    named = ", ".join(f"{n!r}{_suggest(n, known, ' (did you mean {!r}?)')}" for n in unknown)
                    raise PolicyConfigError(
                        f"the policy pack config names {len(unknown)} polic"
                        f"{'y' if len(unknown) == 1 else 'ies'} the pack {harness.pack_name or pack_dir} does "
                        f"not have: {named}"
                    )
                violations = harness.analyze(run.engine_resources)
        except PolicyHarnessError as exc:
            _bad_input(
                as_json,
                stack,
                [
                    {
                        "file": str(config_file or pack_dir),
                        "path": "",
                        "message": str(exc),
                        "line": None,
                        "image": None,
                    }
                ],
            )

    pack_label = str(pack_dir) if pack_dir is not None else None
    result = outcome(run.resources, violations, pack_label)
    if as_json:
        document = to_json(stack, run.resources, violations, run.outputs, pack_label)
        document["notes"] = notes
        print(json.dumps(document, indent=2, default=str))
    else:
        console = Console(highlight=False)
        # People read the pack relative to the project (the same text wherever the checkout is).
        shown = _relative(pack_dir, project_root) if pack_dir is not None else None
        render(console, stack, run.resources, violations, run.outputs, shown)
        for note in notes:  # on stdout: in a CI log they stay before the closing line
            console.print(Text.assemble(("note: ", "yellow"), note))
        print_summary(console, stack, result)
    raise typer.Exit(result.exit_code)


# Day-2 AWS commands (pin, audit, cleanup) are defined beside their code in golden_images.tools.
register_tools(app)
# Image registry: registry record/show/policy-config, promote, revoke (golden_images.registry).
register_registry(app)
# Layered images: what an image is built on, per stack (golden_images.lineage).
app.command("lineage")(lineage_command)


def main() -> None:
    """Console-script entry point."""
    app()


if __name__ == "__main__":
    main()
