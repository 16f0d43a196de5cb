"""Benchmark: ``golden-images audit`` vs the API floor vs Cloud Custodian, on one local moto server.

    python benchmarks/tools_audit.py [--amis N] [--runs K] [--json] [--custodian PATH | --no-custodian]

A moto server runs in a *separate* process (so its CPU does not share the benchmark's GIL) and is seeded
through its in-process backend with N AMIs in each of 3 regions (tags, ages, encryption, deprecation,
sharing, plus instances and launch templates that use some of them). Then, in one run:

- **audit** — :func:`golden_images.tools.audit.run_audit` plus the ``--json`` rendering, in this process;
- **floor** — the raw calls the audit needs, in this process, with the same parallelism: paginated
  ``DescribeImages``, ``DescribeInstances``, ``DescribeLaunchTemplates`` + ``DescribeLaunchTemplateVersions``
  and one ``DescribeImageAttribute(launchPermission)`` per image — and nothing else;
- **custodian** — ``custodian run`` of an equivalent ``ami`` policy (``--cache-period 0``) on the same server.

Times are medians of K alternating rounds (audit and floor in this process; the EC2 model is loaded once
before). Peak memory is the median ``VmHWM`` of ``--memory-runs`` fresh processes per contender
(``--child``; for custodian, its own process, polled). ``--runs 0`` measures memory only.
Targets: audit/floor ≤ 1.2, audit/custodian ≤ 0.5.

Safety: every process gets dummy credentials, no profile or config files, ``AWS_ENDPOINT_URL`` = the local
server and ``HTTP(S)_PROXY`` = a closed local port with ``NO_PROXY=127.0.0.1``: a request that would
bypass the endpoint override cannot leave the machine.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import math
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

REGIONS = ("us-east-1", "eu-west-1", "ap-southeast-2")
ACCOUNT = "123456789012"  # moto's default account
ALLOWED_ACCOUNT = "111111111111"
CONCURRENCY = 4
WORKERS = 8
HERE = Path(__file__).resolve()


def safe_env(endpoint: str | None = None) -> dict[str, str]:
    """The environment of every benchmark process (see the module docstring)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(
        AWS_ACCESS_KEY_ID="testing",
        AWS_SECRET_ACCESS_KEY="testing",
        AWS_REGION=REGIONS[0],
        AWS_DEFAULT_REGION=REGIONS[0],
        AWS_CONFIG_FILE="/nonexistent/aws-config",
        AWS_SHARED_CREDENTIALS_FILE="/nonexistent/aws-credentials",
        AWS_EC2_METADATA_DISABLED="true",
        HTTP_PROXY="http://127.0.0.1:9",
        HTTPS_PROXY="http://127.0.0.1:9",
        NO_PROXY="127.0.0.1,localhost",
        MOTO_EC2_LOAD_DEFAULT_AMIS="false",
    )
    if endpoint is not None:
        if not endpoint.startswith("http://127.0.0.1:"):
            raise SystemExit(f"refusing a non-local endpoint: {endpoint}")
        env["AWS_ENDPOINT_URL"] = endpoint
    return env


# --- server process ---------------------------------------------------------------------------------------


def serve(amis: int, seed: int, latency_ms: float = 0.0) -> None:
    """Start moto on 127.0.0.1:0, seed it, print the URL, serve until stdin closes. ``latency_ms`` delays
    every request on the server side (a sleep, which releases the GIL), modelling AWS's network latency."""
    os.environ.update(safe_env())
    import logging

    import boto3  # type: ignore[import-untyped,unused-ignore]
    from moto.backends import get_backend
    from moto.ec2.models.amis import Ami
    from moto.server import ThreadedMotoServer

    original = Ami.block_device_mappings

    def with_encryption(self: Any) -> list[dict[str, Any]]:
        # moto omits Ebs.Encrypted from DescribeImages; report the snapshot's flag as EC2 does.
        mappings = original.fget(self)
        for m in mappings:
            m["Ebs"]["Encrypted"] = bool(self.ebs_snapshot.encrypted)
        return mappings

    Ami.block_device_mappings = property(with_encryption)

    from moto.ec2.models.core import TaggedEC2Resource
    from moto.ec2.utils import EC2_PREFIX_TO_RESOURCE, get_prefix

    def tags_by_id(self: Any) -> list[dict[str, str]]:
        # moto looks a resource's tags up by scanning every tag of the region with a regex per entry: with
        # 5,000 tagged AMIs one DescribeImages costs minutes (quadratic) and would dominate every contender
        # alike. Same result, by dictionary lookup.
        rid = getattr(self, "id", None)
        if not rid:
            return []
        rtype = EC2_PREFIX_TO_RESOURCE.get(get_prefix(rid), "")
        tags = self.ec2_backend.tags.get(rid, {})
        return [{"resource_id": rid, "key": k, "value": v, "resource_type": rtype} for k, v in tags.items()]

    TaggedEC2Resource.get_tags = tags_by_id
    if latency_ms > 0:
        from moto.moto_server.werkzeug_app import DomainDispatcherApplication

        dispatch = DomainDispatcherApplication.__call__

        def delayed(self: Any, environ: Any, start_response: Any) -> Any:
            time.sleep(latency_ms / 1000)
            return dispatch(self, environ, start_response)

        DomainDispatcherApplication.__call__ = delayed
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    url = f"http://{host}:{port}"
    os.environ["AWS_ENDPOINT_URL"] = url
    rng = random.Random(seed)
    now = dt.datetime.now(dt.UTC)
    names = [f"image-{n:02d}" for n in range(50)]
    for region in REGIONS:
        backend = get_backend("ec2")[ACCOUNT][region]
        ids: list[str] = []
        for n in range(amis):
            name = rng.choice(names)
            ami = backend.register_image(name=f"{name}-{n}")
            ids.append(ami.id)
            roll = rng.random()
            tags = {
                "managed-by": "golden-images",
                "golden-image": name,
                "image-version": f"1.{n // 50}.{n % 50}",
                "environment": "prod",
                "owner": "platform-team",
                "cost-center": "cc-4711",
            }
            if roll < 0.05:
                tags = {"Name": name}  # unmanaged, untagged
            elif roll < 0.10:
                del tags["cost-center"]
            backend.create_tags([ami.id], tags)
            ami.creation_date = now - dt.timedelta(days=rng.randint(0, 600))
            ami.ebs_snapshot.encrypted = rng.random() > 0.05
            if rng.random() < 0.3:
                ami.deprecation_time = (now + dt.timedelta(days=30)).strftime("%Y-%m-%dT%H:%M:%S.000Z")
            share = rng.random()
            if share < 0.01:
                ami.launch_permissions.append({"Group": "all"})
            elif share < 0.04:
                ami.launch_permissions.append({"UserId": ALLOWED_ACCOUNT})
            elif share < 0.06:
                ami.launch_permissions.append({"UserId": "222222222222"})
        ec2 = boto3.client("ec2", region_name=region)
        for image_id in rng.sample(ids, min(20, len(ids))):
            ec2.run_instances(ImageId=image_id, MinCount=1, MaxCount=5)
        for t in range(min(20, len(ids))):
            versions = rng.sample(ids, min(3, len(ids)))
            lt = ec2.create_launch_template(
                LaunchTemplateName=f"lt-{t}", LaunchTemplateData={"ImageId": versions[0]}
            )["LaunchTemplate"]["LaunchTemplateId"]
            for image_id in versions[1:]:
                ec2.create_launch_template_version(
                    LaunchTemplateId=lt, LaunchTemplateData={"ImageId": image_id}
                )
    print(url, flush=True)
    sys.stdin.read()  # until the parent closes our stdin
    server.stop()


# --- contenders -------------------------------------------------------------------------------------------


def run_ours() -> int:
    """The audit as ``golden-images audit --json`` does it (minus printing); returns the finding count."""
    from golden_images.tools.audit import AllowList, AuditConfig, run_audit
    from golden_images.tools.aws import ClientFactory
    from golden_images.tools.report import audit_json

    config = AuditConfig(allow=AllowList(accounts=frozenset({ALLOWED_ACCOUNT})))
    factory = ClientFactory(max_pool_connections=WORKERS + 4)
    report = run_audit(factory, REGIONS, config, concurrency=CONCURRENCY, workers=WORKERS)
    if report.partial:
        raise SystemExit(f"audit failed regions: {report.failed_regions}")
    json.dumps(audit_json(report))
    return len(report.findings)


def run_floor() -> int:
    """Only the API calls the audit needs, same parallelism; returns the number of images seen."""
    import boto3  # type: ignore[import-untyped,unused-ignore]
    from botocore.config import Config  # type: ignore[import-untyped,unused-ignore]

    session = boto3.session.Session()
    config = Config(retries={"mode": "adaptive", "max_attempts": 10}, max_pool_connections=WORKERS + 4)

    # Clients are created up front, one after the other, as the audit's factory does (a boto3 session is
    # not thread-safe, and parallel creation would load the EC2 model three times).
    clients = {name: session.client("ec2", region_name=name, config=config) for name in REGIONS}

    def region(name: str) -> int:
        ec2 = clients[name]
        images = [
            i
            for page in ec2.get_paginator("describe_images").paginate(
                Owners=["self"], IncludeDeprecated=True, PaginationConfig={"PageSize": 1000}
            )
            for i in page["Images"]
        ]
        for _ in ec2.get_paginator("describe_instances").paginate(PaginationConfig={"PageSize": 1000}):
            pass
        for page in ec2.get_paginator("describe_launch_templates").paginate(
            PaginationConfig={"PageSize": 200}
        ):
            for t in page["LaunchTemplates"]:
                for _ in ec2.get_paginator("describe_launch_template_versions").paginate(
                    LaunchTemplateId=t["LaunchTemplateId"], PaginationConfig={"PageSize": 200}
                ):
                    pass
        with ThreadPoolExecutor(WORKERS) as pool:
            list(
                pool.map(
                    lambda i: ec2.describe_image_attribute(
                        ImageId=i["ImageId"], Attribute="launchPermission"
                    ),
                    images,
                )
            )
        return len(images)

    with ThreadPoolExecutor(CONCURRENCY) as pool:
        return sum(pool.map(region, REGIONS))


CUSTODIAN_POLICY = {
    "policies": [
        {
            "name": "golden-ami-audit",
            "resource": "ami",
            "filters": [
                {
                    "or": [
                        {"Public": True},
                        {"type": "cross-account", "whitelist": [ALLOWED_ACCOUNT]},
                        {
                            "type": "value",
                            "key": "BlockDeviceMappings[].Ebs.Encrypted",
                            "value": False,
                            "op": "contains",
                        },
                        *(
                            {f"tag:{k}": "absent"}
                            for k in ("owner", "cost-center", "environment", "golden-image")
                        ),
                        {"tag:image-version": "absent"},
                        {"and": [{"type": "image-age", "days": 90}, {"DeprecationTime": "absent"}]},
                        {"type": "unused", "value": True},
                        {"type": "value", "key": "tag:managed-by", "value": "golden-images", "op": "ne"},
                    ]
                }
            ],
        }
    ]
}


def find_custodian(explicit: str | None) -> str | None:
    """``--custodian``, else ``custodian`` on PATH, next to this interpreter, or in /tmp/c7n-venv."""
    candidates: list[str | None] = [explicit] if explicit else []
    candidates += [
        shutil.which("custodian"),
        str(Path(sys.executable).parent / "custodian"),
        "/tmp/c7n-venv/bin/custodian",
    ]
    return next((c for c in candidates if c and Path(c).is_file()), None)


def run_custodian(binary: str, endpoint: str, workdir: Path) -> tuple[float, float, int]:
    """One ``custodian run``; returns (seconds, max RSS MB, resources matched)."""
    policy = workdir / "policy.yml"
    policy.write_text(json.dumps(CUSTODIAN_POLICY))
    out = workdir / f"out-{time.monotonic_ns()}"
    cmd = [binary, "run", "-s", str(out), "--cache-period", "0", str(policy)]
    for region in REGIONS:
        cmd += ["--region", region]
    start = time.perf_counter()
    logfile = workdir / "custodian.log"
    peak = 0.0
    with logfile.open("wb") as sink:
        proc = subprocess.Popen(cmd, env=safe_env(endpoint), stdout=sink, stderr=subprocess.STDOUT)
        # ru_maxrss of a child inherits the parent's high-water mark on Linux (fork/exec), so poll the
        # child's own VmHWM instead; it is monotonic, the last reading before exit is the peak.
        while proc.poll() is None:
            hwm = _status_kb(proc.pid, "VmHWM")
            if not math.isnan(hwm):
                peak = max(peak, hwm)
            time.sleep(0.02)
    seconds = time.perf_counter() - start
    log = logfile.read_text(errors="replace")
    if proc.returncode != 0 or "Traceback" in log or "Error" in log:
        raise RuntimeError(f"custodian failed ({proc.returncode}):\n{log[-3000:]}")
    matched = 0
    for resources in out.rglob("resources.json"):
        matched += len(json.loads(resources.read_text()))
    return seconds, peak / 1024, matched


# --- harness ----------------------------------------------------------------------------------------------


def _status_kb(pid: int | str, field: str) -> float:
    """``VmHWM``/``VmRSS`` of a process in KB (Linux ``/proc``); NaN when unavailable."""
    try:
        text = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return float("nan")
    for line in text.splitlines():
        if line.startswith(field + ":"):
            return float(line.split()[1])
    return float("nan")


def reset_peak_rss() -> None:
    """Reset this process's peak RSS (``VmHWM``) so the next reading is the peak of the next run."""
    Path("/proc/self/clear_refs").write_text("5")


def child(kind: str) -> None:
    """``--child``: run one contender in this fresh process; print its time and peak RSS (``VmHWM`` belongs
    to the process's own address space, so unlike ``ru_maxrss`` it does not inherit the parent's peak)."""
    start = time.perf_counter()
    (run_ours if kind == "audit" else run_floor)()
    seconds = time.perf_counter() - start
    print(json.dumps({"seconds": seconds, "peak_rss_mb": _status_kb("self", "VmHWM") / 1024}))


def measure_child(kind: str, endpoint: str) -> float:
    """Peak RSS (MB) of a fresh process running ``kind`` once."""
    out = subprocess.run(
        [sys.executable, str(HERE), "--child", kind],
        env=safe_env(endpoint),
        capture_output=True,
        text=True,
        check=True,
    )
    return float(json.loads(out.stdout.strip().splitlines()[-1])["peak_rss_mb"])


def timed(fn: Callable[[], int]) -> tuple[float, float, int]:
    """(seconds, peak RSS MB of this process during the call, the call's result)."""
    reset_peak_rss()
    start = time.perf_counter()
    value = fn()
    seconds = time.perf_counter() - start
    return seconds, _status_kb("self", "VmHWM") / 1024, value


def median(values: Sequence[float]) -> float:
    return statistics.median(values) if values else float("nan")


def summary(runs: Sequence[tuple[float, float]]) -> dict[str, Any]:
    """Per-run seconds and peak RSS (in-process runs: the process's peak, inflated by what earlier runs
    left allocated; custodian: its own process), and their medians."""
    return {
        "seconds": [round(r[0], 3) for r in runs],
        "in_run_peak_rss_mb": [round(r[1], 1) for r in runs],
        "median_s": median([r[0] for r in runs]),
        "median_peak_rss_mb": median([r[1] for r in runs]),
    }


def warm_up() -> None:
    """Load boto3's EC2 model and our modules once, outside the timed runs (both contenders profit)."""
    import boto3  # type: ignore[import-untyped,unused-ignore]

    import golden_images.tools.report  # noqa: F401

    for region in REGIONS:
        boto3.client("ec2", region_name=region).describe_launch_templates(MaxResults=5)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--amis", type=int, default=300, help="AMIs per region (issue target: 5000)")
    parser.add_argument("--runs", type=int, default=3, help="timed runs per contender (median)")
    parser.add_argument("--json", action="store_true", help="print one JSON document")
    parser.add_argument("--custodian", help="path to the custodian executable")
    parser.add_argument("--no-custodian", action="store_true", help="skip the Cloud Custodian comparison")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument(
        "--memory-runs", type=int, default=3, help="fresh processes per contender for peak memory (median)"
    )
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--child", choices=("audit", "floor"), help=argparse.SUPPRESS)
    parser.add_argument(
        "--latency-ms", type=float, default=0.0, help="server-side delay per request (models AWS API latency)"
    )
    args = parser.parse_args(argv)
    if args.serve:
        serve(args.amis, args.seed, args.latency_ms)
        return 0
    if args.child:
        child(args.child)
        return 0

    def log(msg: str) -> None:
        print(msg, file=sys.stderr, flush=True)

    log(f"seeding {args.amis} AMIs x {len(REGIONS)} regions on a local moto server ...")
    t0 = time.perf_counter()
    server = subprocess.Popen(
        [
            *(sys.executable, str(HERE), "--serve", "--amis", str(args.amis)),
            *("--seed", str(args.seed), "--latency-ms", str(args.latency_ms)),
        ],
        env=safe_env(),
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert server.stdout is not None
        endpoint = server.stdout.readline().strip()
        if not endpoint:
            raise SystemExit("moto server did not start")
        log(f"  {endpoint} ready in {time.perf_counter() - t0:.1f}s")
        os.environ.clear()
        os.environ.update(safe_env(endpoint))
        result: dict[str, Any] = {
            "amis_per_region": args.amis,
            "regions": list(REGIONS),
            "runs": args.runs,
            "latency_ms": args.latency_ms,
            "cpus": os.cpu_count(),
            "load_average_at_start": os.getloadavg(),
        }

        ours: list[tuple[float, float]] = []
        floor: list[tuple[float, float]] = []
        cust: list[tuple[float, float, int]] = []
        binary = None if args.no_custodian else find_custodian(args.custodian)
        skipped = "disabled" if args.no_custodian else "custodian not found (pip install c7n)"
        warm_up()
        findings = images = 0
        with tempfile.TemporaryDirectory() as tmp:
            # One round = every contender once, so an interrupted long run still has comparable rounds.
            for n in range(args.runs):
                order = [("audit", run_ours), ("floor", run_floor)]
                for kind, fn in order if n % 2 == 0 else reversed(order):
                    seconds, peak, value = timed(fn)
                    (ours if kind == "audit" else floor).append((seconds, peak))
                    if kind == "audit":
                        findings = value
                    else:
                        images = value
                    log(f"  run {n + 1}: {kind} {seconds:.2f}s, peak RSS {peak:.0f} MB")
                if binary is not None:
                    try:
                        cust.append(run_custodian(binary, endpoint, Path(tmp)))
                    except RuntimeError as exc:
                        binary, skipped = None, str(exc)
                    else:
                        c = cust[-1]
                        log(f"  run {n + 1}: custodian {c[0]:.2f}s, peak RSS {c[1]:.0f} MB, {c[2]} matched")
        # Peak memory from fresh processes (the benchmark process keeps what earlier runs allocated).
        peaks = {k: [measure_child(k, endpoint) for _ in range(args.memory_runs)] for k in ("audit", "floor")}
        for kind, values in peaks.items():
            log(f"  memory: {kind} peak RSS {values} MB")
        result["audit"] = summary(ours) | {"findings": findings}
        result["floor"] = summary(floor) | {"images": images}
        for kind in ("audit", "floor"):
            result[kind] |= {
                "fresh_process_peak_rss_mb": peaks[kind],
                "median_peak_rss_mb": median(peaks[kind]),
            }
        result["ratios"] = {}
        if ours and floor:
            result["ratios"]["audit_vs_floor"] = result["audit"]["median_s"] / result["floor"]["median_s"]
        if cust and binary is not None:
            result["custodian"] = summary([(c[0], c[1]) for c in cust]) | {"matched": cust[-1][2]}
            if ours:
                result["ratios"]["audit_vs_custodian"] = (
                    result["audit"]["median_s"] / result["custodian"]["median_s"]
                )
        else:
            result["custodian"] = {"skipped": skipped}
        result["targets"] = {"audit_vs_floor": 1.2, "audit_vs_custodian": 0.5}
    finally:
        if server.stdin:
            server.stdin.close()
        server.wait(timeout=30)
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        print(f"{args.amis} AMIs x {len(REGIONS)} regions, median of {args.runs} runs")
        for kind in ("audit", "floor", "custodian"):
            r = result.get(kind, {})
            if "skipped" in r:
                print(f"  {kind:<9} skipped: {r['skipped'][:200]}")
            else:
                print(
                    f"  {kind:<9} {r.get('median_s', math.nan):8.2f}s   peak RSS {r['median_peak_rss_mb']:7.1f} MB"
                )
        for name, value in result["ratios"].items():
            print(f"  {name}: {value:.2f}x (target <= {result['targets'][name]}x)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
