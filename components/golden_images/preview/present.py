"""Turn a mocked run (and its violations) into the ``--json`` document and the rich tree people read."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from google.protobuf import json_format
from pulumi.runtime import rpc
from rich.console import Console
from rich.tree import Tree

from golden_images.preview.harness import is_preview_notice
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
    """The preview contract (docs/architecture.md): ``{stack, resources[], violations[]}`` plus ``outputs`` and
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
        records = Tree("[bold]version records[/]")
        for name, record in images.items():
            if not isinstance(record, Mapping):
                continue
            node = records.add(
                f"[bold]{name}[/] {record.get('version')} [dim]fingerprint {str(record.get('fingerprint', ''))[:12]}[/]"
            )
            encryption = record.get("encryption") or {}
            for platform, artifacts in (record.get("artifacts") or {}).items():
                shown = (
                    ", ".join(f"{k}={v}" for k, v in artifacts.items())
                    if isinstance(artifacts, Mapping)
                    else str(artifacts)
                )
                node.add(f"{platform} [green]{encryption.get(platform, '?')}[/]: {shown}")
        console.print(records)

    if policy_pack is None:
        console.print("[yellow]policy pack not evaluated[/]")
        return
    # The SDK reports rules it could not evaluate (a value unknown until apply) as advisory diagnostics, as
    # the engine shows them; they are listed apart so they are not mistaken for findings.
    notices = [v for v in violations if is_preview_notice(v)]
    findings = [v for v in violations if not is_preview_notice(v)]
    if notices:
        console.print(f"[dim]{len(notices)} rule evaluation(s) deferred until the values are known:[/]")
        for v in notices:
            resource = by_urn.get(v.urn)
            console.print(f"[dim]  {v.policy} on {resource.name if resource else v.urn or 'the stack'}[/]")
    if not findings:
        console.print(f"[green]policy pack {policy_pack}: no violations[/]")
        return
    grouped: dict[str, list[Violation]] = defaultdict(list)
    for v in findings:
        grouped[v.urn].append(v)
    console.print(f"[bold]policy violations ({len(findings)})[/]")
    for urn, items in grouped.items():
        resource = by_urn.get(urn)
        title = f"{resource.type} {resource.name}" if resource else (urn or "stack")
        console.print(f"  [bold]{title}[/]")
        for v in items:
            color = {"mandatory": "red", "advisory": "yellow"}.get(v.level, "magenta")
            console.print(f"    [{color}]{v.level}[/] {v.policy}: {v.message}")
