"""Drive the plugin as the engine would: launch ``plugin/`` the way the Python language host runs it (``python
<plugin dir> <engine address>``, the provider prints its gRPC port on stdout), talk the provider protocol to it,
and serve the engine and resource monitor it calls back into during ``Construct``.

The monitor answers like the Python path's mocks (``golden_images.preview.runner.PreviewMocks``: outputs echo
the inputs plus an id and, for AWS, an ARN) and announces the same monitor features, so a component built
through ``Construct`` and the same component built by a Python program under mocks should register the same
resources with the same inputs. Only 127.0.0.1 is used.
"""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from collections.abc import Iterator, Mapping
from concurrent import futures
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import grpc
from google.protobuf import empty_pb2, json_format, struct_pb2
from pulumi.runtime import mocks as pulumi_mocks
from pulumi.runtime import rpc
from pulumi.runtime.proto import (
    engine_pb2,
    engine_pb2_grpc,
    errors_pb2,
    provider_pb2,
    provider_pb2_grpc,
    resource_pb2,
    resource_pb2_grpc,
    status_pb2,
)

from golden_images.preview.runner import PreviewMocks
from tests.conftest import ROOT

PLUGIN_DIR = ROOT / "plugin"
PROJECT = "consumer"
STACK = "dev"
STACK_URN = f"urn:pulumi:{STACK}::{PROJECT}::pulumi:pulumi:Stack::{PROJECT}-{STACK}"
_SECRET = rpc._special_secret_sig
_SIG = rpc._special_sig_key


def make_urn(parent: str, type_: str, name: str) -> str:
    """The Python mock monitor's URN rule (``pulumi.runtime.mocks.MockMonitor.make_urn``), so both paths
    name resources alike: the parent's own type, ``$``, this type. (The real engine writes the parent's whole
    type chain and leaves the stack's type out.)"""
    if parent:
        type_ = parent.split("::")[2].rsplit("$", maxsplit=1)[-1] + "$" + type_
    return f"urn:pulumi:{STACK}::{PROJECT}::{type_}::{name}"


@dataclass(frozen=True)
class Registration:
    """One ``RegisterResource`` call the monitor received, in wire form."""

    urn: str
    type: str
    name: str
    parent: str
    custom: bool
    inputs: dict[str, Any]
    """``MessageToDict`` of the request's ``object`` (secret markers kept)."""
    provider: str
    dependencies: tuple[str, ...]
    property_dependencies: dict[str, tuple[str, ...]]
    version: str


@dataclass
class Monitor(resource_pb2_grpc.ResourceMonitorServicer, engine_pb2_grpc.EngineServicer):
    """The engine and resource monitor a provider calls back into during ``Construct``."""

    registrations: list[Registration] = field(default_factory=list)
    outputs: dict[str, dict[str, Any]] = field(default_factory=dict)
    """URN → what a component registered with ``register_outputs`` (wire form)."""
    logs: list[str] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    # --- ResourceMonitor ------------------------------------------------------------------------------------
    def GetDeploymentInfo(self, request: Any, context: Any) -> Any:
        # The features the Python path's mock monitor announces, so the SDK serialises the same way.
        return pulumi_mocks.MockMonitor(PreviewMocks()).GetDeploymentInfo(request)

    def SupportsFeature(self, request: Any, context: Any) -> Any:
        return resource_pb2.SupportsFeatureResponse(hasSupport=request.id != "outputValues")

    def RegisterResource(self, request: Any, context: Any) -> Any:
        urn = make_urn(request.parent, request.type, request.name)
        inputs = json_format.MessageToDict(request.object)
        registration = Registration(
            urn=urn,
            type=request.type,
            name=request.name,
            parent=request.parent,
            custom=bool(request.custom),
            inputs=inputs,
            provider=request.provider,
            dependencies=tuple(sorted(request.dependencies)),
            property_dependencies={
                k: tuple(sorted(v.urns)) for k, v in request.propertyDependencies.items() if v.urns
            },
            version=request.version,
        )
        with self._lock:
            self.registrations.append(registration)
        if not request.custom:
            return resource_pb2.RegisterResourceResponse(urn=urn, object=request.object)
        # The Python path's mock outputs, computed from the same (wire-form) inputs.
        resource_id, state = PreviewMocks().new_resource(
            pulumi_mocks.MockResourceArgs(
                typ=request.type,
                name=request.name,
                inputs=inputs,
                provider=request.provider,
                resource_id=request.importId,
                custom=True,
            )
        )
        return resource_pb2.RegisterResourceResponse(
            urn=urn, id=resource_id or "", object=json_format.ParseDict(state, struct_pb2.Struct())
        )

    def RegisterResourceOutputs(self, request: Any, context: Any) -> Any:
        with self._lock:
            self.outputs[request.urn] = json_format.MessageToDict(request.outputs)
        return empty_pb2.Empty()

    def Invoke(self, request: Any, context: Any) -> Any:
        ret, _ = PreviewMocks().call(
            pulumi_mocks.MockCallArgs(
                token=request.tok, args=json_format.MessageToDict(request.args), provider=request.provider
            )
        )
        response = resource_pb2.ResourceInvokeResponse()
        getattr(response, "return").CopyFrom(json_format.ParseDict(ret, struct_pb2.Struct()))
        return response

    def RegisterPackage(self, request: Any, context: Any) -> Any:
        return resource_pb2.RegisterPackageResponse(ref=f"package-{request.name}")

    # --- Engine ---------------------------------------------------------------------------------------------
    def Log(self, request: Any, context: Any) -> Any:
        with self._lock:
            self.logs.append(f"{engine_pb2.LogSeverity.Name(request.severity)}: {request.message}")
        return empty_pb2.Empty()

    def GetRootResource(self, request: Any, context: Any) -> Any:
        return engine_pb2.GetRootResourceResponse(urn=STACK_URN)

    def SetRootResource(self, request: Any, context: Any) -> Any:
        return engine_pb2.SetRootResourceResponse()


@dataclass
class Plugin:
    """A running plugin: its provider stub and the monitor it was pointed at."""

    provider: provider_pb2_grpc.ResourceProviderStub
    monitor: Monitor
    monitor_address: str
    stderr: Path

    def schema(self) -> dict[str, Any]:
        response = self.provider.GetSchema(provider_pb2.GetSchemaRequest(version=0), timeout=60)
        return dict(json.loads(response.schema))

    def construct(
        self,
        type_: str,
        name: str,
        inputs: Mapping[str, Any],
        *,
        config: Mapping[str, str] | None = None,
        secret_keys: tuple[str, ...] = (),
        dependencies: Mapping[str, list[str]] | None = None,
    ) -> Any:
        """``Construct`` as the engine sends it for a remote component at the top of a preview (parent: the
        stack). ``inputs`` are in wire form (camelCase keys, secret markers where wanted); ``dependencies``
        maps an input to the URNs it was computed from (the engine sends that for an Output)."""
        request = provider_pb2.ConstructRequest(
            project=PROJECT,
            stack=STACK,
            organization="organization",
            config=dict(config or {}),
            configSecretKeys=list(secret_keys),
            dryRun=True,
            parallel=4,
            monitorEndpoint=self.monitor_address,
            type=type_,
            name=name,
            parent=STACK_URN,
            inputs=json_format.ParseDict(dict(inputs), struct_pb2.Struct()),
            inputDependencies={
                key: provider_pb2.ConstructRequest.PropertyDependencies(urns=urns)
                for key, urns in (dependencies or {}).items()
            },
        )
        return self.provider.Construct(request, timeout=120)


@contextmanager
def running_plugin(tmp_path: Path) -> Iterator[Plugin]:
    """Start the monitor/engine server and the plugin process (cwd ``tmp_path``, as the language host runs a
    plugin in the program's directory); stop both afterwards."""
    monitor = Monitor()
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=8))
    resource_pb2_grpc.add_ResourceMonitorServicer_to_server(monitor, server)
    engine_pb2_grpc.add_EngineServicer_to_server(monitor, server)
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    address = f"127.0.0.1:{port}"
    stderr_path = tmp_path / "plugin.stderr"
    with stderr_path.open("wb") as stderr:
        process = subprocess.Popen(
            [sys.executable, str(PLUGIN_DIR), address],
            cwd=tmp_path,
            stdout=subprocess.PIPE,
            stderr=stderr,
        )
        try:
            assert process.stdout is not None
            line = process.stdout.readline().decode().strip()
            assert line.isdigit(), f"no port on stdout ({line!r}): {stderr_path.read_text(errors='replace')}"
            channel = grpc.insecure_channel(f"127.0.0.1:{line}")
            try:
                yield Plugin(provider_pb2_grpc.ResourceProviderStub(channel), monitor, address, stderr_path)
            finally:
                channel.close()
        finally:
            process.terminate()
            process.wait(timeout=30)
            assert process.stdout is not None
            process.stdout.close()
            server.stop(grace=None)


def secret(value: Any) -> dict[str, Any]:
    """A secret value in wire form."""
    return {_SIG: _SECRET, "value": value}


def to_wire(value: Any, prop: Mapping[str, Any], types: Mapping[str, Any], path: str = "") -> Any:
    """Plain catalog data (snake_case keys) → what an SDK generated from ``schema`` sends: object properties
    renamed to the schema's names, map keys unchanged. Raises ``KeyError`` for a key the schema lacks, so
    the conversion also proves the schema covers the data."""
    ref = prop.get("$ref")
    if ref:
        definition = types[ref.rsplit("/", 1)[-1]]
        return object_to_wire(value, definition["properties"], types, path)
    if prop.get("type") == "array":
        return [to_wire(v, prop["items"], types, f"{path}[{i}]") for i, v in enumerate(value)]
    if prop.get("type") == "object" and "additionalProperties" in prop:
        return {k: to_wire(v, prop["additionalProperties"], types, f"{path}.{k}") for k, v in value.items()}
    return value


def object_to_wire(
    value: Mapping[str, Any], properties: Mapping[str, Any], types: Mapping[str, Any], path: str = ""
) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, item in value.items():
        schema_name = camel(key)
        if schema_name not in properties:
            raise KeyError(f"{path}.{key}: not in the schema (properties: {sorted(properties)})")
        out[schema_name] = to_wire(item, properties[schema_name], types, f"{path}.{key}")
    return out


def camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part[:1].upper() + part[1:] for part in rest)


def property_errors(error: grpc.RpcError) -> list[tuple[str, str]]:
    """(property path, reason) of an ``InputPropertiesError`` a provider attached to a refused call (the
    ``grpc-status-details-bin`` trailer; the status message itself is empty)."""
    trailers = [(str(m.key), m.value) for m in error.trailing_metadata() or ()]
    raw = next(value for key, value in trailers if key == "grpc-status-details-bin")
    status = status_pb2.Status.FromString(raw)
    found: list[tuple[str, str]] = []
    for detail in status.details:
        errors = errors_pb2.InputPropertiesError()
        detail.Unpack(errors)
        found += [(e.property_path, e.reason) for e in errors.errors]
    return found
