"""Turn a mocked run (and its violations) into the ``--json`` document and the rich tree people read."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from google.protobuf import json_format
from pulumi.runtime import rpc
from rich.console import Console
from rich.table import Table
from rich.tree import Tree

from golden_images.preview.model import RegisteredResource, Violation

SECRET_MASK = "[secret]"
UNKNOWN_MASK = "[computed]"

# Inputs worth a glance in the tree, per type token suffix (full inputs are in --json).
_KEY_INPUTS = ("name", "version", "region", "parentImage", "imageName", "platform", "policyArn", "status")


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


def to_json(
    stack: str,
    resources: Sequence[RegisteredResource],
    violations: Iterable[Violation],
    outputs: Mapping[str, Any] | None = None,
    policy_pack: str | None = None,
) -> dict[str, Any]:
    """The DESIGN.md preview contract: ``{stack, resources[], violations[]}`` plus ``outputs`` and
    ``policyPack`` (the pack evaluated, or ``None`` when skipped)."""
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
        "violations": [v.to_json() for v in violations],
        "outputs": _mask(dict(outputs or {})),
        "policyPack": policy_pack,
    }


def _summary(resource: RegisteredResource) -> str:
    inputs = public_inputs(resource)
    parts = [f"{k}={inputs[k]}" for k in _KEY_INPUTS if isinstance(inputs.get(k), str | int)]
    return ", ".join(parts)[:140]


def render(
    console: Console,
    stack: str,
    resources: Sequence[RegisteredResource],
    violations: Sequence[Violation],
    outputs: Mapping[str, Any],
    policy_pack: str | None,
) -> None:
    """Print the resource tree, the version records and the violations grouped by resource."""
    by_urn = {r.urn: r for r in resources}
    root = Tree(f"[bold]stack {stack}[/] — {len(resources)} resources")
    nodes: dict[str, Tree] = {}
    flagged = {v.urn for v in violations}
    for r in ordered(resources):
        parent_node = nodes.get(r.parent, root)
        mark = " [red]✗[/]" if r.urn in flagged else ""
        summary = _summary(r)
        label = f"[cyan]{r.type}[/] [bold]{r.name}[/]{mark}" + (f" [dim]{summary}[/]" if summary else "")
        nodes[r.urn] = parent_node.add(label)
    console.print(root)

    images = outputs.get("images") if isinstance(outputs.get("images"), Mapping) else {}
    if images:
        table = Table(title="version records", show_lines=False)
        for column in ("image", "version", "fingerprint", "encryption", "artifacts"):
            table.add_column(column)
        for name, record in images.items():
            if not isinstance(record, Mapping):
                continue
            table.add_row(
                name,
                str(record.get("version")),
                str(record.get("fingerprint", ""))[:16],
                ", ".join(f"{k}:{v}" for k, v in (record.get("encryption") or {}).items()),
                "; ".join(
                    f"{k}: {', '.join(f'{a}={b}' for a, b in v.items()) if isinstance(v, Mapping) else v}"
                    for k, v in (record.get("artifacts") or {}).items()
                ),
            )
        console.print(table)

    if policy_pack is None:
        console.print("[yellow]policy pack not evaluated[/]")
        return
    if not violations:
        console.print(f"[green]policy pack {policy_pack}: no violations[/]")
        return
    grouped: dict[str, list[Violation]] = defaultdict(list)
    for v in violations:
        grouped[v.urn].append(v)
    console.print(f"[bold]policy violations ({len(violations)})[/]")
    for urn, items in grouped.items():
        resource = by_urn.get(urn)
        title = f"{resource.type} {resource.name}" if resource else (urn or "stack")
        console.print(f"  [bold]{title}[/]")
        for v in items:
            color = {"mandatory": "red", "advisory": "yellow"}.get(v.level, "magenta")
            console.print(f"    [{color}]{v.level}[/] {v.policy}: {v.message}")
