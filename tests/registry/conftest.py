"""A moto server for the registry tests (in this process, on 127.0.0.1, port chosen by the OS), reset before
every test that asks for ``aws``. Kept here rather than imported from tests/tools so the two suites can evolve
apart. Safety as there: dummy credentials, no profile or shared config, ``AWS_ENDPOINT_URL`` at the local
server, and a guard on botocore's HTTP layer that fails any request to another address."""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from typing import Any

import botocore.httpsession
import pytest
import requests

os.environ.setdefault("MOTO_EC2_LOAD_DEFAULT_AMIS", "false")  # before moto builds a backend: fast seeding

from moto.server import ThreadedMotoServer


@pytest.fixture(scope="session")
def moto_url() -> Iterator[str]:
    """Start moto on 127.0.0.1:0 once per session (per xdist worker)."""
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    try:
        yield f"http://{host}:{port}"
    finally:
        server.stop()


@pytest.fixture
def aws(moto_url: str, monkeypatch: pytest.MonkeyPatch) -> str:
    """A safe AWS environment pointing at the (reset) local server; returns its URL."""
    for var in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_REGION", "us-east-1")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("AWS_CONFIG_FILE", "/nonexistent/aws-config")
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent/aws-credentials")
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    monkeypatch.setenv("AWS_ENDPOINT_URL", moto_url)
    original_send = botocore.httpsession.URLLib3Session.send

    def guarded_send(self: Any, request: Any) -> Any:
        if not str(request.url).startswith(moto_url):
            raise AssertionError(f"test tried to reach {request.url}, not the local moto server")
        return original_send(self, request)

    monkeypatch.setattr(botocore.httpsession.URLLib3Session, "send", guarded_send)
    requests.post(f"{moto_url}/moto-api/reset", timeout=10).raise_for_status()
    return moto_url
