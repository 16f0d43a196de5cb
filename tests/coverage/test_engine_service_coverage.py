"""The fake engine's ``Engine`` gRPC service, called over a real channel as a plugin calls the engine: log
records are kept in order with severity and URN, and the root resource a plugin sets is the one it reads
back. (The policy pack never logs nor asks for the root resource, so the harness tests do not reach these.)"""

from __future__ import annotations

from collections.abc import Iterator
from concurrent import futures

import grpc
import pytest
from pulumi.runtime.proto import engine_pb2, engine_pb2_grpc

from golden_images.engine.service import EngineService

ROOT_URN = "urn:pulumi:dev::golden-images::pulumi:pulumi:Stack::golden-images-dev"


@pytest.fixture
def engine() -> Iterator[tuple[EngineService, engine_pb2_grpc.EngineStub]]:
    service = EngineService()
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=2))
    engine_pb2_grpc.add_EngineServicer_to_server(service, server)
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    channel = grpc.insecure_channel(f"127.0.0.1:{port}")
    try:
        yield service, engine_pb2_grpc.EngineStub(channel)
    finally:
        channel.close()
        server.stop(grace=None)


def test_log_calls_are_kept_in_order_with_severity_and_urn(
    engine: tuple[EngineService, engine_pb2_grpc.EngineStub],
) -> None:
    service, stub = engine
    stub.Log(engine_pb2.LogRequest(severity=engine_pb2.WARNING, message="first", urn=ROOT_URN), timeout=10)
    stub.Log(engine_pb2.LogRequest(severity=engine_pb2.ERROR, message="second", urn=""), timeout=10)
    assert service.logs == [(engine_pb2.WARNING, "first", ROOT_URN), (engine_pb2.ERROR, "second", "")]


def test_the_root_resource_is_empty_until_set_then_read_back(
    engine: tuple[EngineService, engine_pb2_grpc.EngineStub],
) -> None:
    _, stub = engine
    assert stub.GetRootResource(engine_pb2.GetRootResourceRequest(), timeout=10).urn == ""
    stub.SetRootResource(engine_pb2.SetRootResourceRequest(urn=ROOT_URN), timeout=10)
    assert stub.GetRootResource(engine_pb2.GetRootResourceRequest(), timeout=10).urn == ROOT_URN
