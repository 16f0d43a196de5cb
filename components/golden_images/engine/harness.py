"""Run a CrossGuard policy pack exactly as the Pulumi engine does, without the Pulumi CLI.

The engine boots a Python policy pack through its ``pulumi-analyzer-policy-python`` shim, which amounts to
``python -u -m pulumi.policy <engineAddress> .`` with the pack directory as working directory and
``PULUMI_PROJECT``/``PULUMI_STACK``/``PULUMI_DRY_RUN``/``PULUMI_CONFIG`` (and ``PULUMI_ORGANIZATION``) in the
environment. The pack prints its gRPC port as the first stdout line; the engine then calls, in order:

1. ``Handshake`` (the Python SDK answers UNIMPLEMENTED; the engine falls back silently),
2. ``ConfigureStack`` (stack, project, organization, dry run, stack config),
3. ``GetAnalyzerInfo`` (policies, their levels and JSON-schema config),
4. ``Configure``: every policy with its enforcement level and its config, built like the engine's
   ``ReconcilePolicyPackConfig``: schema defaults, then ``initialConfig`` from the pack, then the
   ``--policy-pack-config`` file (the ``all`` key sets every policy's level), validated with JSON schema,
5. ``Analyze`` per resource, with the properties re-marshalled as the engine does (unknowns and secrets kept,
   output values flattened, resource references downgraded to their id/URN, internal ``__`` keys dropped),
6. ``AnalyzeStack`` with every resource and its outputs,

and finally stops the plugin. It serves a minimal ``Engine`` gRPC service (:mod:`.service`) at
``engineAddress`` too (the engine's address is the first argument); the Python policy SDK does not dial it
today, but a pack that logs through it works. Pack config lives in :mod:`.packconfig`, the property wire
format in :mod:`.wire`. Used by ``golden-images preview`` and as the fixture of every policy test.
"""

from __future__ import annotations

import json
import os
import queue
import signal
import subprocess
import sys
import threading
from collections.abc import Mapping, Sequence
from concurrent import futures
from pathlib import Path
from types import TracebackType
from typing import Any, Final

import grpc
import yaml
from google.protobuf import empty_pb2, json_format
from pulumi.runtime.proto import analyzer_pb2, analyzer_pb2_grpc, engine_pb2_grpc

from golden_images.engine.model import RegisteredResource, Violation
from golden_images.engine.packconfig import (
    ENFORCEMENT_LEVELS,
    POLICY_PROJECT_KEYS,
    PolicyConfigError,
    PolicyHarnessError,
    PolicyInfo,
    PolicyPackConfig,
    PolicyPackStartError,
    load_policy_config,
    reconcile_config,
)
from golden_images.engine.service import EngineService
from golden_images.engine.wire import (
    duration_seconds,
    engine_properties,
    engine_value,
    struct,
    urn_type_and_name,
)

__all__ = [
    "ENFORCEMENT_LEVELS",
    "PolicyConfigError",
    "PolicyHarness",
    "PolicyHarnessError",
    "PolicyInfo",
    "PolicyPackConfig",
    "PolicyPackStartError",
    "engine_properties",
    "is_preview_notice",
    "load_policy_config",
]

_LEVEL_TO_PROTO: Final = {
    "advisory": analyzer_pb2.ADVISORY,
    "mandatory": analyzer_pb2.MANDATORY,
    "remediate": analyzer_pb2.REMEDIATE,
    "disabled": analyzer_pb2.DISABLED,
}
_PROTO_TO_LEVEL: Final = {v: k for k, v in _LEVEL_TO_PROTO.items()}
_SEVERITY: Final = {
    analyzer_pb2.POLICY_SEVERITY_UNSPECIFIED: "",
    analyzer_pb2.POLICY_SEVERITY_LOW: "low",
    analyzer_pb2.POLICY_SEVERITY_MEDIUM: "medium",
    analyzer_pb2.POLICY_SEVERITY_HIGH: "high",
    analyzer_pb2.POLICY_SEVERITY_CRITICAL: "critical",
}
_POLICY_TYPE: Final = {
    analyzer_pb2.POLICY_TYPE_RESOURCE: "resource",
    analyzer_pb2.POLICY_TYPE_STACK: "stack",
}

_START_TIMEOUT: Final = 60.0
_RPC_TIMEOUT: Final = 120.0
_IN_FLIGHT: Final = 8
_PREVIEW_NOTICE: Final = "can't run policy '"
_MAX_MESSAGE: Final = 1024 * 1024 * 400
_CHANNEL_OPTIONS: Final = [
    ("grpc.max_receive_message_length", _MAX_MESSAGE),
    ("grpc.max_send_message_length", _MAX_MESSAGE),
]


def is_preview_notice(violation: Violation) -> bool:
    """True for the SDK's advisory "can't run policy ... during preview" note (a value was unknown).

    The engine shows these as advisory policy violations; they say a rule could not be evaluated yet, not that
    it failed.
    """
    return violation.level == "advisory" and violation.message.startswith(_PREVIEW_NOTICE)


def _read_policy_project(pack_dir: Path) -> dict[str, Any]:
    path = pack_dir / "PulumiPolicy.yaml"
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise PolicyPackStartError(
            f"failed to load Pulumi policy project located at {str(pack_dir)!r}: {error.strerror or error}"
        ) from error
    except yaml.YAMLError as error:
        raise PolicyPackStartError(f"failed to load Pulumi policy project {path}: {error}") from error
    if not isinstance(data, dict):
        raise PolicyPackStartError(f"{path} must be a YAML mapping")
    unknown = sorted(set(data) - POLICY_PROJECT_KEYS)
    if unknown:
        raise PolicyPackStartError(f"{path} has keys Pulumi does not accept: {', '.join(map(str, unknown))}")
    runtime = data.get("runtime")
    name = runtime.get("name") if isinstance(runtime, dict) else runtime
    if name != "python":
        raise PolicyPackStartError(f"{path}: runtime is {name!r}; this harness runs python policy packs only")
    return data


class PolicyHarness:
    """A running policy pack, driven through the analyzer protocol like the Pulumi engine drives it.

    ``config`` is the policy pack config (what ``--policy-pack-config FILE`` holds, see
    :func:`load_policy_config`); ``stack_config`` is the stack's own config (``PULUMI_CONFIG`` and
    ``ConfigureStack``, default none), ``config_secret_keys`` its secret keys and ``tags`` the stack's tags
    (both sent in ``ConfigureStack`` as the engine does; default none).
    Use as a context manager; :meth:`analyze` may be called any number of times on one running pack.
    """

    def __init__(
        self,
        pack_dir: Path,
        *,
        project: str,
        stack: str,
        config: Mapping[str, Any] | None = None,
        dry_run: bool = True,
        python: str = sys.executable,
        stack_config: Mapping[str, Any] | None = None,
        organization: str = "organization",
        config_secret_keys: Sequence[str] = (),
        tags: Mapping[str, str] | None = None,
    ) -> None:
        self.pack_dir = Path(pack_dir).resolve()
        self.project = project
        self.stack = stack
        self.config: Mapping[str, Any] = config or {}
        self.dry_run = dry_run
        self.python = python
        self.stack_config: Mapping[str, Any] = stack_config or {}
        self.organization = organization
        self.config_secret_keys = list(config_secret_keys)
        self.tags: Mapping[str, str] = dict(tags or {})
        self.pack_name = ""
        self.pack_version = ""
        self.effective_config: dict[str, tuple[str, dict[str, Any] | None]] = {}
        self._policies: list[PolicyInfo] = []
        self._by_name: dict[str, PolicyInfo] = {}
        self._process: subprocess.Popen[bytes] | None = None
        self._engine: grpc.Server | None = None
        self._engine_service = EngineService()
        self._channel: grpc.Channel | None = None
        self._stub: analyzer_pb2_grpc.AnalyzerStub | None = None
        self._stderr: list[bytes] = []
        self._stdout: list[bytes] = []
        self._threads: list[threading.Thread] = []

    # -- lifecycle -------------------------------------------------------------------------------------------
    def __enter__(self) -> PolicyHarness:
        try:
            self._start()
        except BaseException:
            self.close()
            raise
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    @property
    def pid(self) -> int | None:
        """The pack process id while it runs."""
        return self._process.pid if self._process is not None else None

    @property
    def stderr(self) -> str:
        """Everything the pack wrote to stderr so far."""
        return b"".join(self._stderr).decode("utf-8", "replace")

    @property
    def logs(self) -> list[tuple[int, str, str]]:
        """``(severity, message, urn)`` of every ``Engine.Log`` call the pack made."""
        return list(self._engine_service.logs)

    def _env(self, engine_address: str) -> dict[str, str]:
        env = dict(os.environ)
        env["PULUMI_PROJECT"] = self.project
        env["PULUMI_STACK"] = self.stack
        env["PULUMI_DRY_RUN"] = "true" if self.dry_run else "false"
        env["PULUMI_ORGANIZATION"] = self.organization
        env.pop("PULUMI_CONFIG", None)
        if self.stack_config:
            env["PULUMI_CONFIG"] = json.dumps(
                {k: v if isinstance(v, str) else json.dumps(v) for k, v in self.stack_config.items()}
            )
        env["PYTHONUNBUFFERED"] = "1"
        return env

    def _drain(self, stream: Any, sink: list[bytes], first_line: queue.Queue[bytes | None] | None) -> None:
        if first_line is not None:
            line = stream.readline()
            first_line.put(line if line else None)
        for chunk in iter(lambda: stream.read1(65536), b""):
            sink.append(chunk)

    def _start(self) -> None:
        _read_policy_project(self.pack_dir)

        self._engine = grpc.server(futures.ThreadPoolExecutor(max_workers=2), options=_CHANNEL_OPTIONS)
        engine_pb2_grpc.add_EngineServicer_to_server(self._engine_service, self._engine)
        engine_port = self._engine.add_insecure_port("127.0.0.1:0")
        self._engine.start()
        engine_address = f"127.0.0.1:{engine_port}"

        # The engine's shim runs the pack's `__main__` from the pack directory, passed as ".".
        self._process = subprocess.Popen(
            [self.python, "-u", "-m", "pulumi.policy", engine_address, "."],
            cwd=self.pack_dir,
            env=self._env(engine_address),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        first: queue.Queue[bytes | None] = queue.Queue()
        for stream, sink, line_queue in (
            (self._process.stdout, self._stdout, first),
            (self._process.stderr, self._stderr, None),
        ):
            thread = threading.Thread(target=self._drain, args=(stream, sink, line_queue), daemon=True)
            thread.start()
            self._threads.append(thread)
        try:
            line = first.get(timeout=_START_TIMEOUT)
        except queue.Empty:
            line = None
            self._fail_start(f"did not report a port within {_START_TIMEOUT:.0f}s")
        if line is None or not line.strip().isdigit():
            shown = (
                "" if line is None else f" (its first output line was {line.decode('utf-8', 'replace')!r})"
            )
            self._fail_start(f"exited before reporting its port{shown}")
        port = int(line.strip())  # type: ignore[union-attr]

        self._channel = grpc.insecure_channel(f"127.0.0.1:{port}", options=_CHANNEL_OPTIONS)
        grpc.channel_ready_future(self._channel).result(timeout=_START_TIMEOUT)
        self._stub = analyzer_pb2_grpc.AnalyzerStub(self._channel)
        self._configure()

    def _fail_start(self, what: str) -> None:
        process = self._process
        code: int | None = None
        if process is not None:
            try:
                code = process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                code = process.wait()
        for thread in self._threads:
            thread.join(timeout=5)
        stderr = self.stderr
        raise PolicyPackStartError(
            f"policy pack {self.pack_dir} failed to start: it {what} (exit code {code}). Its stderr follows:\n"
            f"{stderr}",
            stderr,
        )

    def _call(self, method: str, request: Any) -> Any:
        assert self._stub is not None, "the harness is not running; use it as a context manager"
        try:
            return getattr(self._stub, method)(request, timeout=_RPC_TIMEOUT)
        except grpc.RpcError as error:
            raise PolicyHarnessError(
                f"policy pack {self.pack_dir} failed in {method}: {error.code().name}: {error.details()}\n"
                f"{self.stderr}"
            ) from error

    def _configure(self) -> None:
        assert self._stub is not None
        # Handshake is optional for analyzers; the Python SDK does not implement it and the engine carries on.
        try:
            self._stub.Handshake(
                analyzer_pb2.AnalyzerHandshakeRequest(
                    engine_address="",
                    root_directory=str(self.pack_dir),
                    program_directory=str(self.pack_dir),
                ),
                timeout=_RPC_TIMEOUT,
            )
        except grpc.RpcError as error:
            if error.code() != grpc.StatusCode.UNIMPLEMENTED:
                raise PolicyHarnessError(f"policy pack Handshake failed: {error.details()}") from error

        stack_request = analyzer_pb2.AnalyzerStackConfigureRequest(
            stack=self.stack, project=self.project, organization=self.organization, dry_run=self.dry_run
        )
        for key, value in self.stack_config.items():
            stack_request.config[key] = value if isinstance(value, str) else json.dumps(value)
        stack_request.config_secret_keys.extend(self.config_secret_keys)
        for key, value in self.tags.items():
            stack_request.tags[key] = value
        self._call("ConfigureStack", stack_request)

        info = self._call("GetAnalyzerInfo", empty_pb2.Empty())
        self.pack_name, self.pack_version = info.name, info.version
        policies = []
        for p in info.policies:
            schema = (
                json_format.MessageToDict(p.configSchema.properties) if p.HasField("configSchema") else None
            )
            policies.append(
                PolicyInfo(
                    name=p.name,
                    description=p.description,
                    enforcement_level=_PROTO_TO_LEVEL.get(p.enforcementLevel, "advisory"),
                    tags=tuple(p.tags),
                    severity=_SEVERITY.get(p.severity, ""),
                    config_schema=schema if info.supportsConfig else None,
                    remediation=p.remediation_steps,
                    display_name=p.displayName,
                    policy_type=_POLICY_TYPE.get(p.policy_type, ""),
                    required_config=tuple(p.configSchema.required) if p.HasField("configSchema") else (),
                    url=p.url,
                )
            )
        self._policies = sorted(policies, key=lambda p: p.name)
        self._by_name = {p.name: p for p in self._policies}

        initial = {
            key: (
                _PROTO_TO_LEVEL.get(value.enforcementLevel, ""),
                json_format.MessageToDict(value.properties) or None,
            )
            for key, value in info.initialConfig.items()
        }
        source = getattr(self.config, "source", "")
        self.effective_config = reconcile_config(self._policies, initial, self.config, source)
        if not self.effective_config:
            return  # the engine skips Configure when there is nothing to configure
        request = analyzer_pb2.ConfigureAnalyzerRequest()
        for name, (level, props) in self.effective_config.items():
            if level not in _LEVEL_TO_PROTO:
                # The engine refuses the whole config (analyzer.Configure: invalid enforcement level), e.g. an
                # entry with only properties for a policy the pack does not have.
                where = f"policy pack config {source}" if source else "policy pack config"
                raise PolicyConfigError(
                    f"{where}: {name}: invalid enforcement level {level!r}: the entry needs an "
                    f"enforcementLevel (one of {', '.join(ENFORCEMENT_LEVELS)}) or must name a policy of the pack"
                )
            entry = request.policyConfig[name]
            entry.enforcementLevel = _LEVEL_TO_PROTO[level]
            entry.properties.CopyFrom(struct(props or {}))
        self._call("Configure", request)

    def close(self) -> None:
        """Stop the pack (SIGINT, which it handles by stopping its server), then the engine service."""
        if self._channel is not None:
            self._channel.close()
            self._channel = None
            self._stub = None
        process, self._process = self._process, None
        if process is not None and process.poll() is None:
            process.send_signal(signal.SIGINT)
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        for thread in self._threads:
            thread.join(timeout=5)
        self._threads = []
        if process is not None:
            for pipe in (process.stdout, process.stderr):
                if pipe is not None:
                    pipe.close()
        if self._engine is not None:
            self._engine.stop(grace=None)
            self._engine = None

    # -- queries ---------------------------------------------------------------------------------------------
    def policies(self) -> list[PolicyInfo]:
        """Every policy of the pack (sorted by name, as the engine lists them)."""
        return list(self._policies)

    def _violation(self, diagnostic: Any, urn: str) -> Violation:
        description = diagnostic.description
        message = diagnostic.message
        # The SDK prefixes the policy description; the description travels separately, keep the sentence.
        if description and message.startswith(description + "\n"):
            message = message[len(description) + 1 :]
        elif message == description:
            message = ""
        info = self._by_name.get(diagnostic.policyName)
        return Violation(
            policy=diagnostic.policyName,
            level=_PROTO_TO_LEVEL.get(diagnostic.enforcementLevel, "advisory"),
            urn=urn,
            message=message or description,
            tags=info.tags if info is not None else (),
            description=description,
        )

    def _provider(self, resource: RegisteredResource, by_urn: Mapping[str, RegisteredResource]) -> Any:
        if not resource.provider:
            return None
        # A provider reference is "<provider URN>::<provider id>".
        urn = (
            resource.provider.rsplit("::", 1)[0] if resource.provider.count("::") >= 4 else resource.provider
        )
        provider = by_urn.get(urn)
        if provider is not None:
            return analyzer_pb2.AnalyzerProviderResource(
                type=provider.type,
                urn=provider.urn,
                name=provider.name,
                properties=engine_properties(provider),
            )
        type_, name = urn_type_and_name(urn)
        return analyzer_pb2.AnalyzerProviderResource(type=type_, urn=urn, name=name, properties=struct({}))

    @staticmethod
    def _options(resource: RegisteredResource) -> Any:
        """The engine's marshalResourceOptions: every option it forwards, timeouts in seconds."""
        timeouts = {k: duration_seconds(v) for k, v in resource.custom_timeouts.items()}
        dbr = resource.delete_before_replace
        return analyzer_pb2.AnalyzerResourceOptions(
            protect=resource.protect,
            ignoreChanges=list(resource.ignore_changes),
            deleteBeforeReplace=bool(dbr),
            deleteBeforeReplaceDefined=dbr is not None,
            additionalSecretOutputs=list(resource.additional_secret_outputs),
            aliases=list(resource.aliases),
            parent=resource.parent,
            customTimeouts=analyzer_pb2.AnalyzerResourceOptions.CustomTimeouts(**timeouts),
        )

    def analyze(self, resources: Sequence[RegisteredResource]) -> list[Violation]:
        """``Analyze`` every resource (in order), then ``AnalyzeStack`` over all of them; all violations."""
        assert self._stub is not None, "the harness is not running; use it as a context manager"
        by_urn = {r.urn: r for r in resources}
        violations: list[Violation] = []
        pending: list[tuple[RegisteredResource, Any]] = []

        def collect(resource: RegisteredResource, future: Any) -> None:
            try:
                response = future.result()
            except grpc.RpcError as error:
                raise PolicyHarnessError(
                    f"policy pack failed to analyze {resource.urn}: {error.code().name}: {error.details()}\n"
                    f"{self.stderr}"
                ) from error
            # The engine reports every Analyze diagnostic against the analyzed resource.
            violations.extend(self._violation(d, resource.urn) for d in response.diagnostics)

        for resource in resources:
            request = analyzer_pb2.AnalyzeRequest(
                type=resource.type,
                urn=resource.urn,
                name=resource.name,
                properties=engine_properties(resource),
                options=self._options(resource),
            )
            provider = self._provider(resource, by_urn)
            if provider is not None:
                request.provider.CopyFrom(provider)
            pending.append((resource, self._stub.Analyze.future(request, timeout=_RPC_TIMEOUT)))
            if len(pending) >= _IN_FLIGHT:
                collect(*pending.pop(0))
        for item in pending:
            collect(*item)

        stack_request = analyzer_pb2.AnalyzeStackRequest()
        for resource in resources:
            entry = stack_request.resources.add(
                type=resource.type,
                urn=resource.urn,
                name=resource.name,
                parent=resource.parent,
                options=self._options(resource),
                dependencies=list(resource.dependencies),
            )
            for key, urns in resource.property_dependencies.items():
                if urns:  # the engine leaves out properties without dependencies
                    entry.propertyDependencies[key].urns.extend(urns)
            if resource.outputs:
                entry.properties.CopyFrom(struct(engine_value(dict(resource.outputs))))
            else:
                entry.properties.CopyFrom(engine_properties(resource))
            provider = self._provider(resource, by_urn)
            if provider is not None:
                entry.provider.CopyFrom(provider)
        response = self._call("AnalyzeStack", stack_request)
        violations.extend(self._violation(d, d.urn) for d in response.diagnostics)
        return violations
