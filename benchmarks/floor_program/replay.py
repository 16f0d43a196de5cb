"""The floor: a Pulumi program that registers a given list of resources and nothing else.

A *manifest* is what our program registered (type, name, parent, custom flag, provider, wire inputs, custom
timeouts) plus its stack outputs. :func:`prepare` turns it into construction steps — the provider SDK's own
resource class for every custom resource whose type token maps to one (``aws:imagebuilder/component:Component``
→ ``pulumi_aws.imagebuilder.Component`` with the inputs as its keyword arguments), ``pulumi.ComponentResource``
for component types, ``pulumi.CustomResource`` when no class is found — and :func:`replay` constructs them in
registration order with the same parents, under whatever mocks the runner installed.

No catalog, no validation, no rendering, no fingerprints: values are the finished wire values, so what is left
is the SDK's cost of declaring those resources. The dependency structure is kept: an input that ours computed
from other resources' outputs (the recipe ARN in the pipeline) is the same value delivered through an Output of
those resources, so the floor registers the same ``dependencies`` and ``propertyDependencies``; explicit
``depends_on`` and components' registered outputs are replayed too.
"""

from __future__ import annotations

import contextlib
import importlib
import inspect
import json
from collections.abc import Iterator, Mapping
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
    property_dependencies: dict[str, list[str]] = field(default_factory=dict)
    """Keyword (or property) name → URNs its value came from; replayed as Outputs of those resources."""
    depends_on: list[str] = field(default_factory=list)
    outputs: dict[str, Any] | None = None
    """A component's registered outputs."""


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


#: The plan :func:`replay` runs while :func:`planned` is active (the runner executes the floor program's
#: ``__main__`` in this process, so the plan cannot be passed as an argument). ``None`` outside.
PLAN: FloorPlan | None = None


@contextlib.contextmanager
def planned(plan: FloorPlan) -> Iterator[FloorPlan]:
    """Make ``plan`` the one the floor program replays for the duration; the previous value is restored
    afterwards, also on error, so no plan outlives the run it was prepared for."""
    global PLAN  # noqa: PLW0603 - the program's entry point reads it; restored below
    previous, PLAN = PLAN, plan
    try:
        yield plan
    finally:
        PLAN = previous


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
    """Wire (camelCase) name → keyword argument name, from the class's ``<Class>Args`` input type and its
    constructor (an input named like a constructor parameter gets a trailing ``_``: ``resource_name_``)."""
    module = importlib.import_module(cls.__module__)
    args_type = getattr(module, f"{cls.__name__}Args", None)
    if args_type is None:
        return None
    constructor = getattr(cls, "_internal_init", cls.__init__)
    parameters = set(inspect.signature(constructor).parameters) - {
        "__self__",
        "resource_name",
        "opts",
        "__props__",
    }
    names: dict[str, str] = {}
    for py, wire in _types.input_type_py_to_pulumi_names(args_type).items():
        keyword = py if py in parameters else f"{py}_" if f"{py}_" in parameters else None
        if keyword is None:
            return None
        names[wire] = keyword
    return names


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


def _provider_value(value: Any) -> Any:
    """Provider inputs travel JSON-encoded when they are not strings (``"false"``, ``"{...}"``); the SDK's
    ``Provider`` class encodes them itself, so hand it the decoded value."""
    if isinstance(value, str):
        try:
            decoded = json.loads(value)
        except ValueError:
            return value
        return value if isinstance(decoded, str) else decoded
    return value


def prepare(manifest: Mapping[str, Any]) -> FloorPlan:
    """Resolve classes and keyword arguments for every resource of ``manifest``."""
    steps: list[FloorStep] = []
    known: set[str] = set()
    for entry in manifest["resources"]:
        wire: dict[str, Any] = dict(entry["wire"])
        token = entry["type"]
        cls = sdk_class(token) if entry["custom"] else None
        names = _args_names(cls) if cls is not None else None
        rename: Mapping[str, str] = {}
        if not entry["custom"]:
            kind = "component"
        elif cls is not None and names is not None and set(wire) <= set(names):
            kind = "provider" if token.startswith("pulumi:providers:") else "sdk"
            rename = names
        else:
            kind, cls = "custom", None
        if kind == "provider":
            wire = {k: _provider_value(v) for k, v in wire.items()}
        props = {rename.get(k, k): v for k, v in wire.items()}
        property_dependencies = {
            rename.get(k, k): [u for u in urns if u in known]
            for k, urns in (entry.get("property_dependencies") or {}).items()
            if k in wire and any(u in known for u in urns)
        }
        via_properties = {u for urns in property_dependencies.values() for u in urns}
        depends_on = [u for u in entry.get("dependencies") or [] if u in known and u not in via_properties]
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
                property_dependencies=property_dependencies,
                depends_on=depends_on,
                outputs=entry.get("outputs"),
            )
        )
        known.add(entry["urn"])
    return FloorPlan(steps, dict(manifest.get("outputs") or {}))


def load_plan(path: Path) -> FloorPlan:
    """:func:`prepare` the manifest stored at ``path`` (JSON)."""
    return prepare(json.loads(path.read_text(encoding="utf-8")))


def _after(value: Any, resources: list[pulumi.Resource]) -> pulumi.Output[Any]:
    """``value``, delivered as an Output that depends on ``resources`` (as if computed from their outputs)."""
    return pulumi.Output.all(*(r.urn for r in resources)).apply(lambda _: value)


def replay(plan: FloorPlan | None = None) -> dict[str, pulumi.Resource]:
    """Declare every resource of ``plan`` (default :data:`PLAN`) and export its outputs."""
    plan = plan or PLAN
    if plan is None:
        raise RuntimeError(
            "no floor plan: run the floor program inside benchmarks.floor_program.replay.planned(plan)"
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
            depends_on=[declared[u] for u in step.depends_on] or None,
        )
        props = _realise(step.props) if step.has_secrets else dict(step.props)
        for key, urns in step.property_dependencies.items():
            props[key] = _after(props[key], [declared[u] for u in urns])
        resource: pulumi.Resource
        if step.kind in ("sdk", "provider"):
            resource = step.cls(step.name, opts=opts, **props)
        elif step.kind == "component":
            component = pulumi.ComponentResource(step.type, step.name, props, opts)
            if step.outputs is not None:
                component.register_outputs(_realise(step.outputs))
            resource = component
        else:
            resource = pulumi.CustomResource(step.type, step.name, props, opts)
        declared[step.urn] = resource
    for key, value in plan.outputs.items():
        pulumi.export(key, value)
    return declared
