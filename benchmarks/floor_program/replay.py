"""The floor: a Pulumi program that registers a given list of resources and nothing else.

A *manifest* is what our program registered (type, name, parent, custom flag, provider, wire inputs, custom
timeouts) plus its stack outputs. :func:`prepare` turns it into construction steps — the provider SDK's own
resource class for every custom resource whose type token maps to one (``aws:imagebuilder/component:Component``
→ ``pulumi_aws.imagebuilder.Component`` with the inputs as its keyword arguments), ``pulumi.ComponentResource``
for component types, ``pulumi.CustomResource`` when no class is found — and :func:`replay` constructs them in
registration order with the same parents, under whatever mocks the runner installed.

No catalog, no validation, no rendering, no fingerprints: values are the finished wire values, so what is left
is the SDK's cost of declaring those resources. The floor has no inter-resource dependencies (ours passes
outputs between resources, e.g. the recipe ARN into the pipeline); it is therefore a lower bound.
"""

from __future__ import annotations

import importlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pulumi
from pulumi import _types

_SIG = "4dabf18193072939515e22adb298388d"
_SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270"


@dataclass(frozen=True)
class FloorStep:
    """One resource to declare."""

    urn: str
    type: str
    name: str
    parent: str
    kind: str  # "sdk" | "custom" | "component" | "provider"
    cls: Any = None
    props: dict[str, Any] = field(default_factory=dict)
    provider: str = ""
    custom_timeouts: dict[str, str] = field(default_factory=dict)
    has_secrets: bool = False


@dataclass
class FloorPlan:
    """Everything :func:`replay` needs, prepared outside the measured run."""

    steps: list[FloorStep]
    outputs: dict[str, Any]

    def kinds(self) -> dict[str, int]:
        """How many resources each construction kind declares."""
        counts: dict[str, int] = {}
        for step in self.steps:
            counts[step.kind] = counts.get(step.kind, 0) + 1
        return counts


#: The plan :func:`replay` runs; set by the benchmark worker before it starts the measured run.
PLAN: FloorPlan | None = None


def _package_module(package: str) -> str:
    return "pulumi_" + package.replace("-", "_")


def sdk_class(type_token: str) -> Any:
    """The provider SDK class for ``type_token``, or ``None`` (``pkg:module/sub:Class`` → ``pulumi_pkg.module.Class``;
    ``pulumi:providers:pkg`` → ``pulumi_pkg.Provider``)."""
    parts = type_token.split(":")
    if len(parts) != 3:
        return None
    package, module_path, class_name = parts
    if package == "pulumi" and module_path == "providers":
        candidates = [(_package_module(class_name), "Provider")]
    else:
        module = module_path.split("/")[0]
        base = _package_module(package)
        candidates = [(base, class_name)] if module == "index" else []
        candidates += [(f"{base}.{m}", class_name) for m in dict.fromkeys((module, module.lower()))]
    for module_name, attribute in candidates:
        try:
            found = getattr(importlib.import_module(module_name), attribute, None)
        except ImportError:
            continue
        if isinstance(found, type) and issubclass(found, pulumi.CustomResource):
            return found
    return None


def _args_names(cls: Any) -> dict[str, str] | None:
    """Wire (camelCase) name → keyword argument name, from the class's ``<Class>Args`` input type."""
    module = importlib.import_module(cls.__module__)
    args_type = getattr(module, f"{cls.__name__}Args", None)
    if args_type is None:
        return None
    return {wire: py for py, wire in _types.input_type_py_to_pulumi_names(args_type).items()}


def _contains_secret(value: Any) -> bool:
    if isinstance(value, Mapping):
        return value.get(_SIG) == _SECRET_SIG or any(_contains_secret(v) for v in value.values())
    if isinstance(value, list):
        return any(_contains_secret(v) for v in value)
    return False


def _realise(value: Any) -> Any:
    """Secret markers become secret Outputs (an SDK class that marks an input secret itself must not see a
    second wrapper); everything else — unknown sentinels, assets, resource references — travels as the wire
    value it already is."""
    if isinstance(value, Mapping):
        if value.get(_SIG) == _SECRET_SIG:
            return pulumi.Output.secret(_realise(value.get("value")))
        return {k: _realise(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_realise(v) for v in value]
    return value


def prepare(manifest: Mapping[str, Any]) -> FloorPlan:
    """Resolve classes and keyword arguments for every resource of ``manifest``."""
    steps: list[FloorStep] = []
    for entry in manifest["resources"]:
        wire: dict[str, Any] = dict(entry["wire"])
        token = entry["type"]
        cls = sdk_class(token) if entry["custom"] else None
        names = _args_names(cls) if cls is not None else None
        if not entry["custom"]:
            kind, props = "component", wire
        elif cls is not None and names is not None and set(wire) <= set(names):
            kind = "provider" if token.startswith("pulumi:providers:") else "sdk"
            props = {names[k]: v for k, v in wire.items()}
        else:
            kind, cls, props = "custom", None, wire
        steps.append(
            FloorStep(
                urn=entry["urn"],
                type=token,
                name=entry["name"],
                parent=entry["parent"],
                kind=kind,
                cls=cls,
                props=props,
                provider=entry.get("provider", ""),
                custom_timeouts=dict(entry.get("custom_timeouts") or {}),
                has_secrets=_contains_secret(props),
            )
        )
    return FloorPlan(steps, dict(manifest.get("outputs") or {}))


def load_plan(path: Path) -> FloorPlan:
    """:func:`prepare` the manifest stored at ``path`` (JSON)."""
    return prepare(json.loads(path.read_text(encoding="utf-8")))


def replay(plan: FloorPlan | None = None) -> dict[str, pulumi.Resource]:
    """Declare every resource of ``plan`` (default :data:`PLAN`) and export its outputs."""
    plan = plan or PLAN
    if plan is None:
        raise RuntimeError(
            "no floor plan: set benchmarks.floor_program.replay.PLAN before running the program"
        )
    declared: dict[str, pulumi.Resource] = {}
    for step in plan.steps:
        timeouts = pulumi.CustomTimeouts(**step.custom_timeouts) if step.custom_timeouts else None
        provider_urn = step.provider.rsplit("::", 1)[0] if step.provider else ""
        provider = declared.get(provider_urn)
        opts = pulumi.ResourceOptions(
            parent=declared.get(step.parent),
            provider=provider if isinstance(provider, pulumi.ProviderResource) else None,
            custom_timeouts=timeouts,
        )
        props = _realise(step.props) if step.has_secrets else step.props
        resource: pulumi.Resource
        if step.kind in ("sdk", "provider"):
            resource = step.cls(step.name, opts=opts, **props)
        elif step.kind == "component":
            resource = pulumi.ComponentResource(step.type, step.name, props, opts)
        else:
            resource = pulumi.CustomResource(step.type, step.name, props, opts)
        declared[step.urn] = resource
    for key, value in plan.outputs.items():
        pulumi.export(key, value)
    return declared
