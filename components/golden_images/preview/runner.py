"""Run the Pulumi program for one stack under Pulumi's mocks and capture every registration.

This is what ``pulumi preview`` would send to the engine, produced without the CLI, the engine or any cloud
account: the program runs unchanged (``__main__.py`` via :mod:`runpy`), the stack's config comes from its
stack file, and a capturing monitor records each ``RegisterResource`` call — type, name, parent, custom
flag, the exact wire ``Struct`` (secret and unknown sentinels intact) and the decoded inputs.

What mocks cannot show: provider-side validation and defaults, real ids/ARNs (mocks return deterministic
placeholders), and anything the engine computes from state (diffs, replacements).
"""

from __future__ import annotations

import asyncio
import contextvars
import inspect
import json
import os
import runpy
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pulumi
import yaml
from google.protobuf import json_format
from pulumi import _types
from pulumi.runtime import mocks as pulumi_mocks
from pulumi.runtime import rpc, settings
from pulumi.runtime.config import set_all_config
from pulumi.runtime.stack import run_pulumi_func
from pulumi.runtime.sync_await import _sync_await

from golden_images.catalog import stackfiles
from golden_images.catalog.loader import read_stack_file
from golden_images.engine.model import RegisteredResource

#: Account id used in the placeholder ARNs the mocks return.
MOCK_ACCOUNT = "123456789012"
_SECRET_SIG = rpc._special_secret_sig  # the engine's marker for secret values on the wire


def _arn(args: pulumi_mocks.MockResourceArgs) -> str:
    """A deterministic, realistically shaped ARN for AWS resources (others get a name-derived id)."""
    token = args.typ  # e.g. aws:imagebuilder/imageRecipe:ImageRecipe
    service = token.split(":")[1].split("/")[0]
    kind = token.rsplit(":", 1)[-1]
    region = args.inputs.get("region") or "us-east-1"
    name = args.inputs.get("name") or args.name
    version = args.inputs.get("version")
    kebab = "".join("-" + c.lower() if c.isupper() else c for c in kind).lstrip("-")
    if service == "iam":
        return f"arn:aws:iam::{MOCK_ACCOUNT}:{kebab}/{name}"
    suffix = f"/{version}" if version else ""
    return f"arn:aws:{service}:{region}:{MOCK_ACCOUNT}:{kebab}/{name}{suffix}"


class PreviewMocks(pulumi.runtime.Mocks):
    """Deterministic mocks: outputs echo the inputs, plus an id, ``name`` and (for AWS) an ``arn``.

    With ``engine_unknowns=True`` (default False) a new custom resource behaves as it does in a real
    ``pulumi preview``: the provider only echoes its inputs (Check), its id is unknown and every output the
    program did not set is unknown, so a rule reading an ARN or id is "can't run during preview" just as
    under the engine. Components keep echoing their inputs (the engine never calls a provider for them).
    """

    def __init__(self, *, engine_unknowns: bool = False) -> None:
        super().__init__()
        self.engine_unknowns = engine_unknowns

    def new_resource(self, args: pulumi_mocks.MockResourceArgs) -> tuple[str | None, dict[Any, Any]]:
        state = dict(args.inputs)
        identity = state.get("identity")
        if args.typ.startswith("azure-native:") and isinstance(identity, Mapping):
            # azure-native takes user-assigned identities as a list of ids but returns a map keyed by id;
            # echoing the list makes the SDK's output translation fail ("Expected 'list' got Mapping").
            ids = identity.get("userAssignedIdentities")
            if isinstance(ids, list):
                state["identity"] = {**identity, "userAssignedIdentities": {str(i): {} for i in ids}}
        if self.engine_unknowns and args.custom:
            # An empty id is the engine's "unknown id" during preview; outputs absent from the response are
            # resolved as unknown by the SDK when it runs as a dry run.
            return "", state
        if args.typ.startswith("aws:"):
            state.setdefault("arn", _arn(args))
            state.setdefault("name", args.inputs.get("name") or f"{args.name}-mock")
        else:
            state.setdefault("name", args.inputs.get("name") or args.name)
        if args.typ == "azure-native:managedidentity:UserAssignedIdentity":
            # Role assignments consume the principal id; a missing output would reach the policy harness as an
            # unknown it cannot encode. Deterministic placeholder GUIDs, like the AWS ARNs above.
            for key in ("principalId", "clientId"):
                state.setdefault(key, str(uuid.uuid5(uuid.NAMESPACE_URL, f"{key}/{args.name}")))
        return f"{args.name}-id", state

    def call(self, args: pulumi_mocks.MockCallArgs) -> tuple[dict[Any, Any], list[tuple[str, str]] | None]:
        if args.token == "aws:index/getCallerIdentity:getCallerIdentity":
            return {
                "accountId": MOCK_ACCOUNT,
                "arn": f"arn:aws:iam::{MOCK_ACCOUNT}:root",
                "userId": "mock",
            }, None
        return {}, None


def _secret_paths(value: Any, path: str = "") -> list[str]:
    if isinstance(value, Mapping):
        if value.get(rpc._special_sig_key) == _SECRET_SIG:
            return [path or "."]
        return [p for k, v in value.items() for p in _secret_paths(v, f"{path}.{k}" if path else str(k))]
    if isinstance(value, list):
        return [p for i, v in enumerate(value) for p in _secret_paths(v, f"{path}[{i}]")]
    return []


def _wire_unknowns(value: Any) -> Any:
    """Mock state holds the SDK's ``Unknown`` objects where an input was not known (a consumed output the mocks
    did not set); record them as the engine's unknown sentinel so outputs stay wire-encodable."""
    if isinstance(value, pulumi.output.Unknown):
        return rpc.UNKNOWN
    if isinstance(value, Mapping):
        return {k: _wire_unknowns(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_wire_unknowns(v) for v in value]
    return value


async def _preview_value(value: Any) -> Any:
    """An export as a preview shows it: every known part as its value and only the parts not known yet as the
    engine's unknown sentinel (``rpc.UNKNOWN``), however deep they sit — one unknown id in a record leaves the
    rest of the record (and every other export) readable, as in ``pulumi preview``. A secret part is kept in the
    engine's secret envelope (``{sig: secret, value}``), so it is shown masked, never in clear."""
    if isinstance(value, pulumi.Output):
        if not await value.is_known():
            inner: Any = rpc.UNKNOWN
        else:
            inner = await _preview_value(await value.future())
        if await value.is_secret():
            return {rpc._special_sig_key: _SECRET_SIG, "value": inner}
        return inner
    if isinstance(value, pulumi.output.Unknown):
        return rpc.UNKNOWN
    if inspect.isawaitable(value):
        return await _preview_value(await value)
    if _types.is_output_type(type(value)):
        # SDK output classes (typed nested outputs) are exported by their wire names, as the engine holds them.
        value = _types.output_type_to_dict(value)
    if isinstance(value, Mapping):
        return {key: await _preview_value(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [await _preview_value(item) for item in value]
    return value


class CapturingMonitor(pulumi_mocks.MockMonitor):
    """A :class:`MockMonitor` that also records each registration in engine terms."""

    def __init__(self, mocks: pulumi.runtime.Mocks) -> None:
        super().__init__(mocks)
        self.registrations: list[RegisteredResource] = []
        self.registered_outputs: dict[str, dict[str, Any]] = {}
        self.versions: dict[str, str] = {}
        """URN -> the provider SDK version a custom resource asked for (names its default provider)."""
        """URN -> the outputs a component (or the stack) registered with ``register_outputs``, wire form."""

    def RegisterResourceOutputs(self, request: Any) -> Any:  # noqa: N802 - gRPC method name
        from google.protobuf import json_format

        # The engine stores these as the component's (or the stack's) outputs; AnalyzeStack receives them.
        self.registered_outputs[request.urn] = json_format.MessageToDict(request.outputs)
        return super().RegisterResourceOutputs(request)

    def RegisterResource(self, request: Any) -> Any:  # noqa: N802 - gRPC method name
        response = super().RegisterResource(request)
        from google.protobuf import json_format

        if request.type == "pulumi:pulumi:Stack":
            # The engine analyzes the stack resource too (a component with no inputs; its outputs are the
            # stack's exports).
            self.registrations.append(
                RegisteredResource(
                    urn=response.urn,
                    type=request.type,
                    name=request.name,
                    parent="",
                    custom=False,
                    inputs={},
                    wire_inputs=request.object,
                    **_options(request),
                )
            )
            return response

        wire = json_format.MessageToDict(request.object)
        inputs = rpc.deserialize_properties(request.object)
        state = self.resources[response.urn].state if response.urn in self.resources else {}
        # Outputs in wire form, as the engine holds them: assets and archives become their signature objects
        # (a StringAsset in a mock's state is not JSON), secrets keep their marker.
        wire_outputs = json_format.MessageToDict(
            _sync_await(rpc.serialize_properties(_wire_unknowns(dict(state)), {}))
        )
        self.versions[response.urn] = request.version
        self.registrations.append(
            RegisteredResource(
                urn=response.urn,
                type=request.type,
                name=request.name,
                parent=request.parent,
                custom=bool(request.custom),
                inputs=dict(inputs),
                wire_inputs=request.object,
                provider=request.provider,
                outputs=wire_outputs,
                secret_paths=tuple(_secret_paths(wire)),
                **_options(request),
            )
        )
        return response


def _options(request: Any) -> dict[str, Any]:
    """The resource options of a ``RegisterResourceRequest`` that the engine forwards to analyzers, plus its
    dependencies (AnalyzeStack sends them)."""
    aliases = [str(u) for u in request.aliasURNs]
    aliases.extend(a.urn for a in request.aliases if a.WhichOneof("alias") == "urn")
    return {
        "custom_timeouts": {
            k: v for k in ("create", "update", "delete") if (v := getattr(request.customTimeouts, k, ""))
        },
        "protect": bool(request.protect),
        "ignore_changes": tuple(request.ignoreChanges),
        "delete_before_replace": (
            bool(request.deleteBeforeReplace)
            if request.deleteBeforeReplaceDefined or request.deleteBeforeReplace
            else None
        ),
        "additional_secret_outputs": tuple(request.additionalSecretOutputs),
        "aliases": tuple(aliases),
        "dependencies": tuple(request.dependencies),
        "property_dependencies": {
            key: tuple(deps.urns) for key, deps in request.propertyDependencies.items() if deps.urns
        },
    }


@dataclass
class ProgramRun:
    """The outcome of one mocked program run."""

    stack: str
    resources: list[RegisteredResource]
    """The program's own registrations (no stack resource, no default providers), in order."""
    outputs: dict[str, Any] = field(default_factory=dict)
    """The stack's exports: known parts as values, parts unknown in a preview as ``rpc.UNKNOWN`` (each part on
    its own, not the whole export), secret parts in the engine's secret envelope."""
    error: pulumi.RunError | None = None
    """The program's own refusal (an invalid catalog), with nothing registered before it."""
    config: dict[str, str] = field(default_factory=dict)
    """The stack config the program ran with (what the engine also sends to ``ConfigureStack``)."""
    secret_keys: list[str] = field(default_factory=list)
    """Config keys that are secret (``secure:`` in the stack file, or declared ``secret: true``)."""
    engine_resources: list[RegisteredResource] = field(default_factory=list)
    """Every resource the engine would hold, in registration order: the ``pulumi:pulumi:Stack`` resource, the
    default providers (each before its first user) and the program's registrations, with components' outputs
    as they registered them. This is what the policy pack is analyzed against."""


#: The value a secret takes offline: the real one needs the stack's secrets provider (or is not set at all).
PLACEHOLDER_SECRET = "offline-preview-placeholder-secret"


def _declared_secrets(project_file: Path | None) -> list[str]:
    """Full keys of the project's config declared ``secret: true`` in Pulumi.yaml (none if it is absent)."""
    if project_file is None or not project_file.is_file():
        return []
    document = yaml.safe_load(project_file.read_text(encoding="utf-8")) or {}
    project = str(document.get("name") or "golden-images")
    declared = document.get("config") or {}
    return [
        key if ":" in key else f"{project}:{key}"
        for key, spec in declared.items()
        if isinstance(spec, Mapping) and spec.get("secret") is True
    ]


def stack_config(stack_file: Path, *, project_file: Path | None = None) -> tuple[dict[str, str], list[str]]:
    """The stack file's config as the engine passes it to a program: every value JSON-encoded unless it is a
    plain string; ``secure:`` values (which need the stack's secrets provider to decrypt) become a placeholder
    marked secret so the program still sees a secret where one belongs.

    Secret config declared in ``project_file`` (Pulumi.yaml, ``secret: true``) but absent from the stack file
    also gets the placeholder: a real deployment sets it with ``pulumi config set --secret``, which an
    offline preview cannot see, and the program should still run (with the value marked secret)."""
    config: dict[str, str] = {}
    secret_keys: list[str] = []
    for key, value in read_stack_file(stack_file).items():
        full = key if ":" in key else f"golden-images:{key}"
        if isinstance(value, Mapping) and set(value) == {"secure"}:
            config[full] = PLACEHOLDER_SECRET
            secret_keys.append(full)
        elif isinstance(value, str):
            config[full] = value
        else:
            config[full] = json.dumps(value)
    for full in _declared_secrets(project_file):
        if full not in config:
            config[full] = PLACEHOLDER_SECRET
            secret_keys.append(full)
    for full, value in _project_values(project_file).items():
        config.setdefault(full, value)  # the stack file wins, as when the CLI merges project config
    return config, secret_keys


def _project_values(project_file: Path | None) -> dict[str, str]:
    """Config the CLI merges from Pulumi.yaml into every stack: plain project-level values (``aws:region:
    us-east-1``) and the ``default`` of declared keys; encoded like stack config (strings as is, else JSON)."""
    if project_file is None or not project_file.is_file():
        return {}
    document = yaml.safe_load(project_file.read_text(encoding="utf-8")) or {}
    project = str(document.get("name") or "golden-images")
    values: dict[str, str] = {}
    for key, spec in (document.get("config") or {}).items():
        full = key if ":" in key else f"{project}:{key}"
        if isinstance(spec, Mapping):
            if "default" not in spec:
                continue
            value = spec["default"]
        else:
            value = spec
        values[full] = value if isinstance(value, str) else json.dumps(value)
    return values


def _provider_version_name(version: str) -> str:
    """The engine's default provider name: ``default`` or ``default_<version, . and - as _>``."""
    return "default_" + version.replace(".", "_").replace("-", "_") if version else "default"


def _with_engine_state(
    monitor: CapturingMonitor, stack: str, project: str, config: Mapping[str, str], preview: bool
) -> list[RegisteredResource]:
    """Registrations as the engine holds them: components' (and the stack's) outputs are what they registered
    with ``register_outputs`` (nothing otherwise), and every custom resource without an explicit provider gets
    the default provider the engine registers for its package and version (inputs: the package's config plus
    ``version``; id unknown during preview)."""
    import dataclasses

    out: list[RegisteredResource] = []
    providers: dict[str, RegisteredResource] = {}
    unknown_id = rpc.UNKNOWN if preview else "00000000-0000-0000-0000-000000000000"
    for registered in monitor.registrations:
        resource = registered
        if not resource.custom:
            resource = dataclasses.replace(resource, outputs=monitor.registered_outputs.get(resource.urn, {}))
        elif not resource.provider and not resource.type.startswith("pulumi:providers:"):
            package = resource.type.split(":", 1)[0]
            version = monitor.versions.get(resource.urn, "")
            name = _provider_version_name(version)
            urn = f"urn:pulumi:{stack}::{project}::pulumi:providers:{package}::{name}"
            if urn not in providers:
                inputs: dict[str, Any] = {
                    key.split(":", 1)[1]: value
                    for key, value in config.items()
                    if key.split(":", 1)[0] == package
                }
                if version:
                    inputs["version"] = version
                providers[urn] = RegisteredResource(
                    urn=urn,
                    type=f"pulumi:providers:{package}",
                    name=name,
                    parent="",
                    custom=True,
                    inputs=inputs,
                    wire_inputs=dict(inputs),
                    outputs=dict(inputs),
                )
                out.append(providers[urn])
            resource = dataclasses.replace(resource, provider=f"{urn}::{unknown_id}")
        out.append(resource)
    return out


def run_program(
    root: Path,
    stack: str,
    *,
    stack_file: Path | None = None,
    project: str = "golden-images",
    preview: bool = True,
    engine_unknowns: bool = False,
) -> ProgramRun:
    """Run ``<root>/__main__.py`` for ``stack`` under mocks and return every registration and the stack's
    exported outputs. ``stack_file`` defaults to ``<root>/stacks/Pulumi.<stack>.yaml``.

    A :class:`pulumi.RunError` raised by the program (an invalid catalog) is returned in
    :attr:`ProgramRun.error`; any other exception propagates after the runtime has been drained.

    ``engine_unknowns`` (default False) makes new resources' ids and computed outputs unknown during a
    preview, as under the real engine (see :class:`PreviewMocks`); ``golden-images preview`` sets it.

    The run happens in a copy of the caller's context: the SDK keeps its config, mocks, project, stack and
    root Stack in context variables, so nothing of one run is left set for the rest of the process.
    """
    return contextvars.copy_context().run(
        _run_program,
        root,
        stack,
        stack_file=stack_file,
        project=project,
        preview=preview,
        engine_unknowns=engine_unknowns,
    )


def _run_program(
    root: Path,
    stack: str,
    *,
    stack_file: Path | None,
    project: str,
    preview: bool,
    engine_unknowns: bool,
) -> ProgramRun:
    stack_file = stack_file or stackfiles.stack_file(root, stack)
    config, secret_keys = stack_config(stack_file, project_file=root / "Pulumi.yaml")

    # One fresh event loop and runtime per run: the SDK keeps per-loop state and a root Stack resource.
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    settings.ROOT.set(None)
    set_all_config(config, secret_keys)
    mocks = PreviewMocks(engine_unknowns=engine_unknowns and preview)
    monitor = CapturingMonitor(mocks)
    pulumi.runtime.set_mocks(mocks, project=project, stack=stack, preview=preview, monitor=monitor)
    outputs: dict[str, Any] = {}
    stack_wire: dict[str, Any] = {}
    error: pulumi.RunError | None = None

    def program() -> None:
        cwd = os.getcwd()
        os.chdir(root)  # Pulumi runs programs from the project directory
        try:
            runpy.run_path(str(root / "__main__.py"), run_name="__main__")
        finally:
            os.chdir(cwd)

    try:
        settings.SETTINGS.rpc_manager.clear()
        settings.SETTINGS.outputs.clear()
        try:
            _sync_await(run_pulumi_func(program))
        except pulumi.RunError as exc:
            error = exc
        stack_resource = settings.get_root_resource()
        if stack_resource is not None:
            stack_outputs = getattr(stack_resource, "outputs", {}) or {}
            # The exports in wire form, unknowns kept where a preview cannot know them (the engine's view).
            stack_wire = json_format.MessageToDict(
                _sync_await(rpc.serialize_properties(dict(stack_outputs), {}, keep_output_values=False))
            )
            for key, value in stack_outputs.items():
                outputs[key] = _sync_await(_preview_value(value))
    finally:
        loop.close()
        asyncio.set_event_loop(None)
    for resource in monitor.registrations:
        if resource.type == "pulumi:pulumi:Stack" and not monitor.registered_outputs.get(resource.urn):
            # The engine holds the stack's exports as its outputs (the SDK registers them as the program ends;
            # under mocks that call can arrive before the exports resolve, so they are taken from the run).
            monitor.registered_outputs[resource.urn] = stack_wire
    engine_resources = _with_engine_state(monitor, stack, project, config, preview)
    return ProgramRun(
        stack=stack,
        resources=[r for r in monitor.registrations if r.type != "pulumi:pulumi:Stack"],
        engine_resources=engine_resources,
        outputs=outputs,
        error=error,
        config=dict(config),
        secret_keys=list(secret_keys),
    )
