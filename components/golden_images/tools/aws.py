"""boto3 session and client factory shared by the day-2 tools.

The standard AWS environment is honoured as boto3 reads it: ``AWS_PROFILE`` (or ``--profile``),
``AWS_DEFAULT_REGION`` (plus ``AWS_REGION``, which botocore itself ignores; see :attr:`default_region`) and
``AWS_ENDPOINT_URL`` (botocore ≥1.31 reads it natively, also
the per-service ``AWS_ENDPOINT_URL_EC2``; nothing here overrides it, so tests and benchmarks point every
client at a local moto server just by setting it).

Every client uses botocore's *adaptive* retry mode: throttling errors (``RequestLimitExceeded``,
``Throttling``) are retried with backoff and the client-side rate limiter slows the whole process down when
the account's API budget is exhausted, which matters when a region fans out thousands of
``DescribeImageAttribute`` calls.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import boto3  # type: ignore[import-untyped,unused-ignore]
from botocore.config import Config  # type: ignore[import-untyped,unused-ignore]
from botocore.exceptions import BotoCoreError, ClientError  # type: ignore[import-untyped,unused-ignore]
from botocore.parsers import ResponseParserError  # type: ignore[import-untyped,unused-ignore]

#: Every failure a botocore call can end in. ``ResponseParserError`` is not a ``BotoCoreError``: an endpoint
#: answering a 5xx with a non-XML body (a proxy's HTML page, moto's plain-text 500) raises it, and it must
#: fail the region like any other error instead of escaping as a traceback.
AWS_ERRORS: tuple[type[Exception], ...] = (ClientError, BotoCoreError, ResponseParserError)

#: Default ``max_attempts`` for adaptive retries (the first call included).
DEFAULT_MAX_ATTEMPTS = 10
#: Hook applied to every new client: ``hook(client, service, region)``. Tests use it to register botocore
#: event handlers (fault injection); production code leaves it empty.
ClientHook = Callable[[Any, str, str], None]


def retry_config(max_attempts: int = DEFAULT_MAX_ATTEMPTS, *, max_pool_connections: int = 10) -> Config:
    """botocore ``Config`` with adaptive retries and a connection pool sized for the worker threads."""
    return Config(
        retries={"mode": "adaptive", "max_attempts": max_attempts},
        max_pool_connections=max_pool_connections,
        connect_timeout=10,
        read_timeout=120,
        user_agent_extra="golden-images-tools",
    )


@dataclass
class ClientFactory:
    """Creates (and caches) one boto3 client per ``(service, region)``.

    boto3 sessions are not thread-safe but clients are: clients are created under a lock and then shared by
    the worker threads of a region. ``profile`` defaults to ``AWS_PROFILE``; ``region`` is only the default
    region (``AWS_REGION``/``AWS_DEFAULT_REGION`` or the profile's) used when a command names none.
    """

    profile: str | None = None
    max_attempts: int = DEFAULT_MAX_ATTEMPTS
    max_pool_connections: int = 16
    hooks: list[ClientHook] = field(default_factory=list)
    _session: boto3.session.Session | None = field(default=None, init=False, repr=False)
    _clients: dict[tuple[str, str], Any] = field(default_factory=dict, init=False, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, init=False, repr=False)

    @property
    def session(self) -> boto3.session.Session:
        """The boto3 session (created lazily so a bad profile fails where it is used)."""
        with self._lock:
            if self._session is None:
                self._session = boto3.session.Session(profile_name=self.profile)
            return self._session

    @property
    def default_region(self) -> str | None:
        """The region to use when a command names none: ``AWS_REGION`` (which the other AWS SDKs and the AWS
        CLI read, but botocore 1.44 does not), else boto3's (``AWS_DEFAULT_REGION``, the profile's), else
        ``None``."""
        return os.environ.get("AWS_REGION") or self.session.region_name

    def client(self, service: str, region: str) -> Any:
        """A cached client for ``service`` in ``region`` with the adaptive retry configuration."""
        session = self.session
        key = (service, region)
        with self._lock:
            cached = self._clients.get(key)
            if cached is not None:
                return cached
            client = session.client(
                service,
                region_name=region,
                config=retry_config(self.max_attempts, max_pool_connections=self.max_pool_connections),
            )
            for hook in self.hooks:
                hook(client, service, region)
            self._clients[key] = client
            return client


def error_text(exc: BaseException) -> str:
    """A one-line description of a botocore failure for reports (code and message when available)."""
    if isinstance(exc, ClientError):
        err = exc.response.get("Error", {})
        op = exc.operation_name
        text = f"{err.get('Code', 'ClientError')} calling {op}: {err.get('Message', str(exc))}"
    else:
        text = f"{type(exc).__name__}: {exc}"
    return " ".join(text.split())  # parser errors quote the response body, newlines included


def error_code(exc: BaseException) -> str | None:
    """The AWS error code of a ``ClientError``, else ``None``."""
    if isinstance(exc, ClientError):
        code = exc.response.get("Error", {}).get("Code")
        return str(code) if code is not None else None
    return None
