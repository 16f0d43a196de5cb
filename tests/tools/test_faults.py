"""Fault injection through botocore event hooks (``before-send``: inside botocore's retry loop, so the
injected responses go through the real adaptive retry handler): throttling is retried and the audit
completes; a failing region is reported as failed while the other regions complete."""

from __future__ import annotations

import json
import threading
from collections import Counter
from typing import Any

import pytest
import typer
from botocore.awsrequest import AWSResponse
from botocore.exceptions import EndpointConnectionError
from typer.testing import CliRunner

from golden_images.tools import commands
from golden_images.tools.audit import AuditConfig, Check, run_audit
from golden_images.tools.cleanup import CleanupPolicy, run_cleanup
from tests.tools.conftest import NOW, REGIONS, Seeder, golden_tags, tool_factory


class _Raw:
    def __init__(self, body: bytes) -> None:
        self._body = body

    def stream(self, **_: Any) -> Any:
        yield self._body


def ec2_error(url: str, status: int, code: str, message: str) -> AWSResponse:
    """An EC2 (query protocol) error response as AWS sends it."""
    body = (
        f"<?xml version='1.0' encoding='UTF-8'?><Response><Errors><Error><Code>{code}</Code>"
        f"<Message>{message}</Message></Error></Errors><RequestID>injected</RequestID></Response>"
    ).encode()
    return AWSResponse(url, status, {"Content-Type": "text/xml"}, _Raw(body))


class Faults:
    """A client hook: throttles chosen attempts, fails whole regions, counts attempts per operation."""

    def __init__(
        self,
        *,
        throttle: dict[tuple[str, str], set[int]] | None = None,
        fail_region: str | None = None,
        unreachable_region: str | None = None,
        always_throttle: tuple[str, str] | None = None,
    ) -> None:
        self.throttle = throttle or {}
        self.fail_region = fail_region
        self.unreachable_region = unreachable_region
        self.always_throttle = always_throttle
        self.attempts: Counter[tuple[str, str]] = Counter()
        self.throttled: Counter[tuple[str, str]] = Counter()
        self._lock = threading.Lock()

    def __call__(self, client: Any, service: str, region: str) -> None:
        def handler(request: Any, event_name: str, **_: Any) -> AWSResponse | None:
            op = event_name.rsplit(".", 1)[-1]
            key = (region, op)
            with self._lock:
                self.attempts[key] += 1
                n = self.attempts[key]
            if region == self.unreachable_region:
                raise EndpointConnectionError(endpoint_url=request.url)
            if region == self.fail_region:
                return ec2_error(request.url, 403, "UnauthorizedOperation", "Explicit deny in an SCP.")
            if n in self.throttle.get(key, set()) or key == self.always_throttle:
                with self._lock:
                    self.throttled[key] += 1
                return ec2_error(request.url, 503, "RequestLimitExceeded", "Request limit exceeded.")
            return None

        client.meta.events.register(f"before-send.{service}", handler)


def seed_regions(seed: Seeder) -> dict[str, list[str]]:
    """Six images in each region: one public, the rest clean and in use."""
    out: dict[str, list[str]] = {}
    for region in REGIONS:
        ids = []
        for n in range(6):
            image = seed.image(region, name=f"base-{n}", tags=golden_tags("base", f"1.{n}.0"), public=n == 0)
            seed.run_instance(region, image)
            ids.append(image)
        out[region] = ids
    return out


def test_throttling_is_retried_and_one_failing_region_is_reported(seed: Seeder) -> None:
    ids = seed_regions(seed)
    faults = Faults(
        throttle={
            (REGIONS[0], "DescribeImageAttribute"): {2, 4},
            (REGIONS[0], "DescribeInstances"): {1},
            (REGIONS[1], "DescribeImages"): {1},
        },
        fail_region=REGIONS[2],
    )
    report = run_audit(tool_factory(faults), REGIONS, AuditConfig(), now=NOW)
    # Every injected throttle was answered by a retry: one extra attempt each.
    assert faults.throttled[(REGIONS[0], "DescribeImageAttribute")] == 2
    assert faults.attempts[(REGIONS[0], "DescribeImageAttribute")] == 6 + 2
    assert faults.attempts[(REGIONS[1], "DescribeImages")] == 2
    # The failing region is reported, the others are complete and correct.
    assert report.partial
    assert list(report.failed_regions) == [REGIONS[2]]
    assert "UnauthorizedOperation" in report.failed_regions[REGIONS[2]]
    assert {i.image_id for i in report.images} == set(ids[REGIONS[0]] + ids[REGIONS[1]])
    assert {(f.region, f.image_id, f.check) for f in report.findings} == {
        (REGIONS[0], ids[REGIONS[0]][0], Check.PUBLIC),
        (REGIONS[1], ids[REGIONS[1]][0], Check.PUBLIC),
    }
    assert report.fails(None)  # a failed region fails the run whatever the threshold


def test_unreachable_region_is_a_botocore_error_reported_as_failed(seed: Seeder) -> None:
    seed_regions(seed)
    faults = Faults(unreachable_region=REGIONS[1])
    report = run_audit(tool_factory(faults, max_attempts=2), REGIONS, AuditConfig(), now=NOW)
    assert list(report.failed_regions) == [REGIONS[1]]
    assert "EndpointConnectionError" in report.failed_regions[REGIONS[1]]
    assert faults.attempts[(REGIONS[1], "DescribeImages")] >= 2  # retried, then given up
    assert {i.region for i in report.images} == {REGIONS[0], REGIONS[2]}


def test_persistent_throttling_of_permissions_fails_the_region_not_the_findings(seed: Seeder) -> None:
    """If launch permissions cannot be read, the region is failed rather than reported without its sharing
    findings."""
    seed.image(REGIONS[0], name="base-0", tags=golden_tags("base", "1.0.0"), share_accounts=["222222222222"])
    seed.image(REGIONS[1], name="base-0", tags=golden_tags("base", "1.0.0"))
    faults = Faults(always_throttle=(REGIONS[0], "DescribeImageAttribute"))
    report = run_audit(tool_factory(faults, max_attempts=2), REGIONS[:2], AuditConfig(), now=NOW)
    assert list(report.failed_regions) == [REGIONS[0]]
    assert "RequestLimitExceeded" in report.failed_regions[REGIONS[0]]
    assert {i.region for i in report.images} == {REGIONS[1]}


def test_cli_marks_the_partial_report_and_exits_1(seed: Seeder) -> None:
    seed_regions(seed)
    commands.factory_hooks.append(Faults(fail_region=REGIONS[1]))
    app = typer.Typer()
    commands.register(app)
    runner = CliRunner()
    args = ["audit", "-r", ",".join(REGIONS), "--fail-on", "none"]
    result = runner.invoke(app, [*args, "--json"])
    assert result.exit_code == 1
    doc = json.loads(result.stdout)
    assert doc["partial"] is True and list(doc["failed_regions"]) == [REGIONS[1]]
    assert doc["summary"]["images"] == 12
    md = runner.invoke(app, [*args, "--markdown"])
    assert md.exit_code == 1 and "**Partial report**" in md.stdout and REGIONS[1] in md.stdout
    table = runner.invoke(app, args)
    assert table.exit_code == 1 and "FAILED" in table.stdout


def test_cleanup_skips_a_failing_region_and_completes_the_others(seed: Seeder) -> None:
    old = {
        region: seed.image(region, name="base-old", tags=golden_tags("base", "0.1.0"), age_days=400)
        for region in REGIONS
    }
    for region in REGIONS:
        for n in range(3):
            seed.image(region, name=f"base-{n}", tags=golden_tags("base", f"1.{n}.0"))
    faults = Faults(fail_region=REGIONS[0])
    report = run_cleanup(tool_factory(faults), REGIONS, CleanupPolicy(), apply=True, now=NOW)
    assert list(report.failed_regions) == [REGIONS[0]] and not report.ok
    assert {o.image_id for o in report.outcomes if o.ok} == {old[REGIONS[1]], old[REGIONS[2]]}
    assert old[REGIONS[0]] in seed.image_ids(REGIONS[0])
    assert old[REGIONS[1]] not in seed.image_ids(REGIONS[1])


@pytest.fixture(autouse=True)
def _no_hooks_leak() -> Any:
    yield
    commands.factory_hooks.clear()
