"""Turn a mocked run (and its violations) into the ``--json`` document and the rich tree people read.

The text output is laid out for terminals of 80 columns and up: every resource is one tree node whose fields
(``key=value``) are packed whole onto lines that fit, a value too long for a line is broken after a path
separator (``/``, ``-``, ``,`` …) rather than mid-word, nothing is cut off, and policy messages wrap under their
resource. Symbols are explained by a legend; a closing summary says what was found and why the exit code is
what it is.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from google.protobuf import json_format
from pulumi.runtime import rpc
from rich.console import Console
from rich.text import Text
from rich.tree import Tree

from golden_images.engine.harness import is_preview_notice
from golden_images.engine.model import RegisteredResource, Violation
from golden_images.tools.report import pack, print_indented

SECRET_MASK = "[secret]"
UNKNOWN_MASK = "[computed]"

# Inputs worth a glance in the tree, per type token suffix (full inputs are in --json).
_KEY_INPUTS = ("name", "version", "region", "parentImage", "imageName", "platform", "policyArn", "status")

#: Marks after a resource name, by kind of finding: (symbol, style).
MARKS: dict[str, tuple[str, str]] = {
    "mandatory": ("✗", "bold red"),
    "advisory": ("!", "yellow"),
    "deferred": ("?", "magenta"),
}
_LEGEND = {
    "mandatory": "mandatory violation (fails the preview)",
    "advisory": "advisory violation (reported, does not fail)",
    "deferred": "check deferred: a value is unknown until `pulumi up`",
}
_LEVEL_RANK = {"mandatory": 0, "remediate": 1, "advisory": 2}
#: Width of one tree level's guide (``├── `` / ``│   ``), as rich draws it.
_GUIDE = 4


def _mask(value: Any) -> Any:
    if isinstance(value, Mapping):
        if value.get(rpc._special_sig_key) == rpc._special_secret_sig:
            return SECRET_MASK
        return {k: _mask(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_mask(v) for v in value]
    if value == rpc.UNKNOWN:
        return UNKNOWN_MASK
    return value


def public_inputs(resource: RegisteredResource) -> dict[str, Any]:
    """The resource's inputs as registered, with secret values masked and unknowns marked."""
    if resource.wire_inputs is None:
        return dict(_mask(resource.inputs))
    return dict(_mask(json_format.MessageToDict(resource.wire_inputs)))


def ordered(resources: Sequence[RegisteredResource]) -> list[RegisteredResource]:
    """Resources in tree order (parents before children, siblings by URN), stable across runs."""
    children: dict[str, list[RegisteredResource]] = defaultdict(list)
    urns = {r.urn for r in resources}
    for r in resources:
        children[r.parent if r.parent in urns else ""].append(r)
    out: list[RegisteredResource] = []

    def walk(parent: str) -> None:
        for child in sorted(children.get(parent, []), key=lambda r: r.urn):
            out.append(child)
            walk(child.urn)

    walk("")
    return out


def violation_key(violation: Violation) -> tuple[str, str, str, str]:
    """The order of ``violations[]`` in ``--json``: by resource URN, policy, level and message (the pack
    analyzes resources concurrently, so the arrival order differs from run to run)."""
    return (violation.urn, violation.policy, violation.level, violation.message)


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}{'' if count == 1 else 's'}"


@dataclass(frozen=True)
class Outcome:
    """What a preview found, for the closing summary and ``--json``'s ``summary``: counts and the exit
    code with its reason."""

    resources: int
    mandatory: int
    advisory: int
    deferred: int
    evaluated: bool
    exit_code: int
    reason: str

    def to_json(self) -> dict[str, Any]:
        """``summary`` of ``--json``."""
        return {
            "resources": self.resources,
            "mandatory": self.mandatory,
            "advisory": self.advisory,
            "deferred": self.deferred,
            "policyPackEvaluated": self.evaluated,
            "exitCode": self.exit_code,
            "reason": self.reason,
        }


def outcome(
    resources: Sequence[RegisteredResource], violations: Iterable[Violation], policy_pack: str | None
) -> Outcome:
    """Counts of ``violations`` (deferred checks apart) and the preview's exit code: 1 with any mandatory
    violation, else 0."""
    items = list(violations)
    deferred = sum(1 for v in items if is_preview_notice(v))
    mandatory = sum(1 for v in items if v.level == "mandatory")
    advisory = len(items) - deferred - mandatory
    if policy_pack is None:
        code, reason = 0, "policy pack not evaluated (--no-policy)"
    elif mandatory:
        code, reason = 1, f"{_plural(mandatory, 'mandatory violation')} (advisory ones never fail)"
    else:
        code, reason = 0, "no mandatory violation (advisory ones and deferred checks never fail)"
    return Outcome(len(resources), mandatory, advisory, deferred, policy_pack is not None, code, reason)


def to_json(
    stack: str,
    resources: Sequence[RegisteredResource],
    violations: Iterable[Violation],
    outputs: Mapping[str, Any] | None = None,
    policy_pack: str | None = None,
) -> dict[str, Any]:
    """The preview contract (docs/architecture.md): ``{stack, resources[], violations[]}`` plus ``outputs``,
    ``policyPack`` (the pack evaluated, or ``None`` when skipped) and ``summary`` (:class:`Outcome`).
    ``violations[]`` is sorted by :func:`violation_key`; each has ``deferred``, true for a rule the pack could
    not evaluate because a value is unknown until ``pulumi up`` (an advisory note, not a finding)."""
    items = sorted(violations, key=violation_key)
    return {
        "stack": stack,
        "resources": [
            {
                "urn": r.urn,
                "type": r.type,
                "name": r.name,
                "parent": r.parent or None,
                "inputs": public_inputs(r),
            }
            for r in ordered(resources)
        ],
        "violations": [{**v.to_json(), "deferred": is_preview_notice(v)} for v in items],
        "outputs": _mask(dict(outputs or {})),
        "policyPack": policy_pack,
        "summary": outcome(resources, items, policy_pack).to_json(),
    }


# -- layout ----------------------------------------------------------------------------------------------------


def _fields(resource: RegisteredResource) -> list[str]:
    inputs = public_inputs(resource)
    return [f"{k}={inputs[k]}" for k in _KEY_INPUTS if isinstance(inputs.get(k), str | int)]


def _kind(violation: Violation) -> str:
    if is_preview_notice(violation):
        return "deferred"
    return "mandatory" if violation.level == "mandatory" else "advisory"


def _title(resource: RegisteredResource | None, urn: str, width: int) -> Text:
    if resource is None:
        return pack([(urn or "the stack", "bold")], width)
    return pack([(resource.name, "bold"), (resource.type, "cyan")], width)


def render(
    console: Console,
    stack: str,
    resources: Sequence[RegisteredResource],
    violations: Sequence[Violation],
    outputs: Mapping[str, Any],
    policy_pack: str | None,
) -> None:
    """Print the resource tree, the version records, the violations grouped by resource (in tree order,
    mandatory first), the checks deferred until apply, and a legend of the marks used. The closing summary
    is :func:`print_summary` (the CLI prints its notes before it)."""
    width = console.width
    by_urn = {r.urn: r for r in resources}
    kinds: dict[str, set[str]] = defaultdict(set)
    for v in violations:
        kinds[v.urn].add(_kind(v))
    used: set[str] = set()
    tree = Tree(Text.assemble((f"stack {stack}", "bold"), f" — {_plural(len(resources), 'resource')}"))
    nodes: dict[str, tuple[Tree, int]] = {}
    for r in ordered(resources):
        parent_node, depth = nodes.get(r.parent, (tree, 0))
        # One mark per resource, right after its name: the worst kind (a mandatory violation hides an
        # advisory one).
        name = Text(r.name, style="bold")
        kind = next((k for k in MARKS if k in kinds.get(r.urn, ())), None)
        if kind is not None:
            name.append(" ").append(*MARKS[kind])
            used.add(kind)
        tokens: list[tuple[str, str] | Text] = [name, (r.type, "cyan")]
        tokens.extend((field, "dim") for field in _fields(r))
        nodes[r.urn] = (parent_node.add(pack(tokens, width - _GUIDE * (depth + 1) - 1)), depth + 1)
    console.print(tree)

    found = outputs.get("images")
    images: Mapping[str, Any] = found if isinstance(found, Mapping) else {}
    if not any(isinstance(record, Mapping) for record in images.values()):
        images = {}  # unknown until the builds ran: nothing to show (--json says "[computed]")
    if images:
        records = Tree(Text("version records", style="bold"))
        for image_name, record in images.items():
            if not isinstance(record, Mapping):
                continue
            head = [
                (str(image_name), "bold"),
                (str(record.get("version")), ""),
                (f"fingerprint={record.get('fingerprint', '')}", "dim"),
            ]
            node = records.add(pack(head, width - _GUIDE - 1))
            encryption = record.get("encryption") or {}
            for platform, artifacts in (record.get("artifacts") or {}).items():
                shown = (
                    [f"{k}={v}" for k, v in artifacts.items()]
                    if isinstance(artifacts, Mapping)
                    else [str(artifacts)]
                )
                tokens = [(f"{platform}:", "bold"), (str(encryption.get(platform, "?")), "green")]
                node.add(pack(tokens + [(s, "") for s in shown], width - 2 * _GUIDE - 1))
        console.print(records)

    if policy_pack is None:
        console.print("[yellow]policy pack not evaluated[/]")
        return
    # The SDK reports rules it could not evaluate (a value unknown until apply) as advisory diagnostics, as
    # the engine shows them; they are listed apart so they are not mistaken for findings.
    findings = [v for v in violations if not is_preview_notice(v)]
    notices = sorted(
        (v for v in violations if is_preview_notice(v)),
        key=lambda v: (v.policy, by_urn[v.urn].name if v.urn in by_urn else v.urn),
    )
    if findings:
        position = {r.urn: i for i, r in enumerate(ordered(resources))}
        grouped: dict[str, list[Violation]] = defaultdict(list)
        for v in findings:
            grouped[v.urn].append(v)
        console.print(Text(f"policy violations ({len(findings)})", style="bold"))
        for urn in sorted(grouped, key=lambda u: (position.get(u, -1), u)):
            print_indented(console, _title(by_urn.get(urn), urn, width - 2), 2)
            for v in sorted(grouped[urn], key=lambda v: (_LEVEL_RANK.get(v.level, 3), v.policy, v.message)):
                kind = _kind(v)
                symbol, style = MARKS[kind]
                used.add(kind)
                heading = pack([(symbol, style), (v.level, style), (v.policy, "bold")], width - 4, gap=1)
                print_indented(console, heading, 4)
                print_indented(console, Text(v.message), 6)
    if notices:
        used.add("deferred")
        symbol, style = MARKS["deferred"]
        console.print(
            Text(
                f"{len(notices)} rule evaluation(s) deferred until the values are known "
                "(`pulumi up` checks them; not findings):",
                style=style,
            )
        )
        for v in notices:
            resource = by_urn.get(v.urn)
            where = resource.name if resource else v.urn or "the stack"
            print_indented(console, Text.assemble((symbol, style), f" {v.policy} on {where}"), 2)
            _, _, why = v.message.partition(" during preview: ")
            if why:
                print_indented(console, Text(why, style="dim"), 4)
    if not findings:
        console.print(Text(f"policy pack {policy_pack}: no violations", style="green"))
    if used:
        tokens = [("legend:", "dim")]
        tokens += [(f"{MARKS[k][0]} {_LEGEND[k]}", MARKS[k][1]) for k in MARKS if k in used]
        console.print(pack(tokens, width, hang=8))


def print_summary(console: Console, stack: str, result: Outcome) -> None:
    """The closing line: resources, violations by level, deferred checks, the exit code and why."""
    parts = [f"{stack}: {_plural(result.resources, 'resource')}"]
    if result.evaluated:
        parts.append(f"{result.mandatory} mandatory and {result.advisory} advisory violation(s)")
        parts.append(_plural(result.deferred, "deferred check"))
    parts.append(f"exit {result.exit_code}: {result.reason}")
    console.print(Text("; ".join(parts) + ".", style="bold red" if result.exit_code else "bold green"))
