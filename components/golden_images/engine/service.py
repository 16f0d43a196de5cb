"""The fake engine's own gRPC ``Engine`` service: just enough for a plugin (logging and the root resource)."""

from __future__ import annotations

import threading
from typing import Any

from google.protobuf import empty_pb2
from pulumi.runtime.proto import engine_pb2, engine_pb2_grpc


class EngineService(engine_pb2_grpc.EngineServicer):
    """Just enough of the engine for a plugin: logging and the root resource."""

    def __init__(self) -> None:
        self.logs: list[tuple[int, str, str]] = []
        self._root = ""
        self._lock = threading.Lock()

    def Log(self, request: Any, context: Any) -> empty_pb2.Empty:  # noqa: N802 (gRPC method name)
        with self._lock:
            self.logs.append((request.severity, request.message, request.urn))
        return empty_pb2.Empty()

    def GetRootResource(self, request: Any, context: Any) -> Any:  # noqa: N802
        return engine_pb2.GetRootResourceResponse(urn=self._root)

    def SetRootResource(self, request: Any, context: Any) -> Any:  # noqa: N802
        self._root = request.urn
        return engine_pb2.SetRootResourceResponse()
