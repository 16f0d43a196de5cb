"""The audit benchmark's measurements: ``golden-images audit`` vs its API floor vs Cloud Custodian, on one
local moto server. Samples out (:func:`measure`); the ratios are :func:`benchmarks.compare.audit_figures`.

A moto server runs in a *separate* process (so its CPU does not share the benchmark's GIL) and is seeded
through its in-process backend with N AMIs in each of 3 regions (tags with Image Builder provenance, ages,
encryption with customer- and AWS-managed keys, deprecation, launch and snapshot sharing, plus instances and
launch templates that use some of them). moto has no EC2 Image Builder, so the server answers its two read
calls itself, as an account whose AMIs Image Builder built would: ``ListImageRecipes`` (none) and
``GetImage`` (the AMI among the image's outputs). Then, in rounds:

- **audit** — :func:`golden_images.tools.audit.run_audit` plus the ``--json`` rendering, in this process;
- **floor** — every API call the audit must make and nothing else, in this process, each per-item lookup in
  the same bounded pool (:data:`WORKERS` per region, :data:`CONCURRENCY` regions): the clients of the five
  services; paginated ``DescribeImages``, ``DescribeInstances``, ``DescribeLaunchTemplates`` +
  ``DescribeLaunchTemplateVersions`` per template (``GetParameter`` per ``resolve:ssm:`` reference),
  ``DescribeAutoScalingGroups``, ``DescribeLaunchConfigurations``, ``GetParametersByPath(/)``,
  ``DescribeSpotFleetRequests``, ``DescribeFleets``, ``ListImageRecipes`` (+ ``GetImageRecipe`` each);
  ``GetImage`` per distinct ``Ec2ImageBuilderArn``, ``DescribeImageAttribute(launchPermission)`` per image,
  ``DescribeSnapshots``, ``DescribeKey`` per key and ``DescribeSnapshotAttribute(createVolumePermission)`` per
  snapshot. Both count their calls per operation (a botocore ``before-call`` hook on every client), so the
  result says whether the floor made exactly the audit's calls;
- **custodian** — ``custodian run`` of an equivalent ``ami`` policy (``--cache-period 0``) on the same server.

Times: every round runs audit and floor once each (alternating which goes first); the EC2 model is loaded
once before. Peak memory: ``VmHWM`` of fresh processes per contender (``--child``; custodian: its own
process, polled).

Safety: every process gets dummy credentials, no profile or config files, ``AWS_ENDPOINT_URL`` = the local
server and ``HTTP(S)_PROXY`` = a closed local port with ``NO_PROXY=127.0.0.1``: a request that would
bypass the endpoint override cannot leave the machine.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import math
import os
import random
import resource
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

REGIONS = ("us-east-1", "eu-west-1", "ap-southeast-2")
ACCOUNT = "123456789012"  # moto's default account
ALLOWED_ACCOUNT = "111111111111"
CONCURRENCY = 4
WORKERS = 8
#: The services the audit creates clients for, per region, up front.
SERVICES = ("ec2", "ssm", "autoscaling", "imagebuilder", "kms")
REPO = Path(__file__).resolve().parent.parent.parent
#: How the benchmark's own subprocesses (server, memory children) are started.
ENTRY = ("-m", "benchmarks.tools_audit")


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
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(REPO), env.get("PYTHONPATH", "")) if p)
    if endpoint is not None:
        if not endpoint.startswith("http://127.0.0.1:"):
            raise SystemExit(f"refusing a non-local endpoint: {endpoint}")
        env["AWS_ENDPOINT_URL"] = endpoint
    return env


# --- server process ---------------------------------------------------------------------------------------


def image_builder_arn(region: str, image: str, version: str, build: int) -> str:
    """The ``Ec2ImageBuilderArn`` Image Builder would tag an AMI of ``image`` (prod) with: our recipe name
    (``<image>-prod-<10 hex>``) at ``version``."""
    fingerprint = f"{build:010x}"[-10:]
    return f"arn:aws:imagebuilder:{region}:{ACCOUNT}:image/{image}-prod-{fingerprint}/{version}/{build}"


def _image_builder_app(outputs: dict[str, list[dict[str, str]]]) -> Callable[[dict[str, Any], Any], Any]:
    """A WSGI app for the two Image Builder reads the audit makes (moto has no Image Builder)."""

    def app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        path = environ.get("PATH_INFO", "")
        status, headers = "200 OK", [("Content-Type", "application/json")]
        body: dict[str, Any] = {"requestId": "bench"}
        if path.endswith("/ListImageRecipes"):
            body["imageRecipeSummaryList"] = []
        elif path.endswith("/GetImage"):
            arn = parse_qs(environ.get("QUERY_STRING", "")).get("imageBuildVersionArn", [""])[0]
            if arn in outputs:
                body["image"] = {"arn": arn, "outputResources": {"amis": outputs[arn]}}
            else:
                status = "404 Not Found"
                headers.append(("x-amzn-ErrorType", "ResourceNotFoundException"))
                body = {"message": f"no image {arn}"}
        else:
            status = "400 Bad Request"
            headers.append(("x-amzn-ErrorType", "ValidationException"))
            body = {"message": f"the benchmark server does not implement {path}"}
        start_response(status, headers)
        return [json.dumps(body).encode()]

    return app


def serve(amis: int, seed: int, latency_ms: float = 0.0) -> None:
    """Start moto on 127.0.0.1:0, seed it, print the URL, serve until stdin closes. ``latency_ms`` delays
    every request on the server side (a sleep, which releases the GIL), modelling AWS's network latency."""
    os.environ.update(safe_env())
    import logging

    import boto3  # type: ignore[import-untyped,unused-ignore]
    from moto.backends import get_backend
    from moto.ec2.models.amis import Ami
    from moto.ec2.models.core import TaggedEC2Resource
    from moto.ec2.utils import EC2_PREFIX_TO_RESOURCE, get_prefix
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication
    from moto.server import ThreadedMotoServer

    original = Ami.block_device_mappings

    def with_encryption(self: Any) -> list[dict[str, Any]]:
        # moto omits Ebs.Encrypted from DescribeImages; report the snapshot's flag as EC2 does.
        mappings = original.fget(self)
        for m in mappings:
            m["Ebs"]["Encrypted"] = bool(self.ebs_snapshot.encrypted)
        return mappings

    Ami.block_device_mappings = property(with_encryption)

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
    outputs: dict[str, list[dict[str, str]]] = {}
    image_builder = _image_builder_app(outputs)
    dispatch = DomainDispatcherApplication.__call__

    def dispatched(self: Any, environ: Any, start_response: Any) -> Any:
        if latency_ms > 0:
            time.sleep(latency_ms / 1000)
        if "/imagebuilder/aws4_request" in environ.get("HTTP_AUTHORIZATION", ""):
            return image_builder(environ, start_response)
        return dispatch(self, environ, start_response)

    DomainDispatcherApplication.__call__ = dispatched
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
        kms = boto3.client("kms", region_name=region)
        customer_key = kms.create_key(Description="golden images")["KeyMetadata"]["KeyId"]
        aws_key = kms.create_key(Description="aws/ebs")["KeyMetadata"]["KeyId"]
        get_backend("kms")[ACCOUNT][region].keys[aws_key].key_manager = "AWS"
        ids: list[str] = []
        for n in range(amis):
            name = rng.choice(names)
            ami = backend.register_image(name=f"{name}-{n}")
            ids.append(ami.id)
            roll = rng.random()
            version = f"1.{n // 50}.{n % 50}"
            arn = image_builder_arn(region, name, version, n + 1)
            tags = {
                "managed-by": "golden-images",
                "golden-image": name,
                "image-version": version,
                "environment": "prod",
                "owner": "platform-team",
                "cost-center": "cc-4711",
                "Ec2ImageBuilderArn": arn,
            }
            if roll < 0.05:
                tags = {"Name": name}  # unmanaged, untagged
            elif roll < 0.10:
                del tags["cost-center"]
            if "Ec2ImageBuilderArn" in tags and rng.random() > 0.02:  # 2 %: Image Builder does not know it
                outputs[arn] = [{"region": region, "image": ami.id}]
            backend.create_tags([ami.id], tags)
            ami.creation_date = now - dt.timedelta(days=rng.randint(0, 600))
            snapshot = ami.ebs_snapshot
            snapshot.encrypted = rng.random() > 0.05
            if snapshot.encrypted:
                snapshot.kms_key_id = aws_key if rng.random() < 0.02 else customer_key
            if rng.random() < 0.01:
                snapshot.create_volume_permission_userids.add("222222222222")
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


class CallCounter:
    """Counts API calls per ``service:Operation`` on every client it is hooked into (thread-safe)."""

    def __init__(self) -> None:
        self.counts: Counter[str] = Counter()
        self._lock = threading.Lock()

    def hook(self, client: Any, service: str, region: str) -> None:
        """A :data:`golden_images.tools.aws.ClientHook`: count this client's calls."""

        def count(model: Any, **_: Any) -> None:
            with self._lock:
                self.counts[f"{service}:{model.name}"] += 1

        client.meta.events.register("before-call", count)

    def take(self) -> dict[str, int]:
        """The counts so far, and start again from zero."""
        with self._lock:
            counts, self.counts = dict(self.counts), Counter()
        return counts


def run_ours(counter: CallCounter | None = None) -> int:
    """The audit as ``golden-images audit --json`` does it (minus printing); returns the finding count."""
    from golden_images.tools.audit import AllowList, AuditConfig, run_audit
    from golden_images.tools.aws import ClientFactory
    from golden_images.tools.report import audit_json

    config = AuditConfig(allow=AllowList(accounts=frozenset({ALLOWED_ACCOUNT})))
    factory = ClientFactory(max_pool_connections=WORKERS + 4, hooks=[counter.hook] if counter else [])
    report = run_audit(factory, REGIONS, config, concurrency=CONCURRENCY, workers=WORKERS)
    if report.partial:
        raise SystemExit(f"audit failed regions: {report.failed_regions}")
    json.dumps(audit_json(report))
    return len(report.findings)


def _pages(client: Any, operation: str, key: str, **params: Any) -> list[dict[str, Any]]:
    return [item for page in client.get_paginator(operation).paginate(**params) for item in page.get(key, ())]


def _pool(fn: Callable[[Any], Any], items: Iterable[Any]) -> list[Any]:
    with ThreadPoolExecutor(WORKERS) as pool:
        return list(pool.map(fn, items))


def run_floor(counter: CallCounter | None = None, *, serial_get_image: bool = False) -> int:
    """Only the API calls the audit must make (module docstring), same parallelism; nothing is evaluated.
    ``serial_get_image``: the ``GetImage`` lookups one after the other instead of in the pool (the
    ``floor-serial`` diagnostic). Returns the number of images seen."""
    import boto3  # type: ignore[import-untyped,unused-ignore]
    from botocore.config import Config  # type: ignore[import-untyped,unused-ignore]
    from botocore.exceptions import BotoCoreError, ClientError  # type: ignore[import-untyped,unused-ignore]

    session = boto3.session.Session()
    config = Config(retries={"mode": "adaptive", "max_attempts": 10}, max_pool_connections=WORKERS + 4)
    # Clients are created up front, one after the other, as the audit's factory does (a boto3 session is
    # not thread-safe, and parallel creation would load each model several times).
    clients: dict[tuple[str, str], Any] = {}
    for name in REGIONS:
        for service in SERVICES:
            client = session.client(service, region_name=name, config=config)
            if counter is not None:
                counter.hook(client, service, name)
            clients[service, name] = client

    def region(name: str) -> int:
        ec2, ssm, imagebuilder = clients["ec2", name], clients["ssm", name], clients["imagebuilder", name]
        autoscaling = clients["autoscaling", name]
        images = _pages(
            ec2,
            "describe_images",
            "Images",
            Owners=["self"],
            IncludeDeprecated=True,
            PaginationConfig={"PageSize": 1000},
        )
        _pages(ec2, "describe_instances", "Reservations", PaginationConfig={"PageSize": 1000})
        templates = _pages(
            ec2, "describe_launch_templates", "LaunchTemplates", PaginationConfig={"PageSize": 200}
        )
        references: set[str] = set()
        for template in templates:
            for version in _pages(
                ec2,
                "describe_launch_template_versions",
                "LaunchTemplateVersions",
                LaunchTemplateId=template["LaunchTemplateId"],
                PaginationConfig={"PageSize": 200},
            ):
                image_id = str((version.get("LaunchTemplateData") or {}).get("ImageId") or "")
                if image_id.startswith("resolve:ssm:"):
                    references.add(image_id.removeprefix("resolve:ssm:"))
        for reference in sorted(references):
            with contextlib.suppress(ClientError):
                ssm.get_parameter(Name=reference)
        _pages(autoscaling, "describe_auto_scaling_groups", "AutoScalingGroups")
        _pages(autoscaling, "describe_launch_configurations", "LaunchConfigurations")
        _pages(ssm, "get_parameters_by_path", "Parameters", Path="/", Recursive=True)
        for operation, key in (
            ("describe_spot_fleet_requests", "SpotFleetRequestConfigs"),
            ("describe_fleets", "Fleets"),
        ):
            with contextlib.suppress(ClientError, BotoCoreError):  # the audit tolerates these sources too
                _pages(ec2, operation, key)
        for recipe in _pages(imagebuilder, "list_image_recipes", "imageRecipeSummaryList", owner="Self"):
            imagebuilder.get_image_recipe(imageRecipeArn=recipe["arn"])
        arns = sorted(
            {t["Value"] for i in images for t in i.get("Tags") or () if t["Key"] == "Ec2ImageBuilderArn"}
        )

        def get_image(arn: str) -> None:
            with contextlib.suppress(ClientError):
                clients["imagebuilder", arn.split(":")[3]].get_image(imageBuildVersionArn=arn)

        if serial_get_image:
            for arn in arns:
                get_image(arn)
        else:
            _pool(get_image, arns)
        _pool(
            lambda i: ec2.describe_image_attribute(ImageId=i["ImageId"], Attribute="launchPermission"), images
        )
        owned = {
            m["Ebs"]["SnapshotId"]
            for i in images
            for m in i.get("BlockDeviceMappings") or ()
            if "SnapshotId" in m.get("Ebs", {})
        }
        snapshots = _pages(
            ec2, "describe_snapshots", "Snapshots", OwnerIds=["self"], PaginationConfig={"PageSize": 1000}
        )
        keys = {str(s["KmsKeyId"]) for s in snapshots if s["SnapshotId"] in owned and s.get("KmsKeyId")}
        for key in sorted(keys):
            clients["kms", name].describe_key(KeyId=key)
        _pool(
            lambda s: ec2.describe_snapshot_attribute(SnapshotId=s, Attribute="createVolumePermission"),
            sorted(owned),
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


def run_custodian(binary: str, endpoint: str, workdir: Path, server_pid: int) -> dict[str, Any]:
    """One ``custodian run``: ``{"seconds", "cpu_seconds" (custodian's and the server's), "peak_rss_mb",
    "matched"}``."""
    policy = workdir / "policy.yml"
    policy.write_text(json.dumps(CUSTODIAN_POLICY))
    out = workdir / f"out-{time.monotonic_ns()}"
    cmd = [binary, "run", "-s", str(out), "--cache-period", "0", str(policy)]
    for region in REGIONS:
        cmd += ["--region", region]
    server, children = cpu_of(server_pid), resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    logfile = workdir / "custodian.log"
    peak = 0.0
    with logfile.open("wb") as sink:
        proc = subprocess.Popen(cmd, env=safe_env(endpoint), stdout=sink, stderr=subprocess.STDOUT)
        # ru_maxrss of a child inherits the parent's high-water mark on Linux (fork/exec), so poll the
        # child's own VmHWM instead; it is monotonic, the last reading before exit is the peak.
        while proc.poll() is None:
            hwm = status_kb(proc.pid, "VmHWM")
            if not math.isnan(hwm):
                peak = max(peak, hwm)
            time.sleep(0.02)
    seconds = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)  # custodian was reaped by poll()
    cpu = (
        after.ru_utime + after.ru_stime - children.ru_utime - children.ru_stime + cpu_of(server_pid) - server
    )
    log = logfile.read_text(errors="replace")
    if proc.returncode != 0 or "Traceback" in log or "Error" in log:
        raise RuntimeError(f"custodian failed ({proc.returncode}):\n{log[-3000:]}")
    matched = sum(len(json.loads(r.read_text())) for r in out.rglob("resources.json"))
    return {"seconds": seconds, "cpu_seconds": cpu, "peak_rss_mb": peak / 1024, "matched": matched}


# --- harness ----------------------------------------------------------------------------------------------


def status_kb(pid: int | str, field: str) -> float:
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
    print(json.dumps({"seconds": seconds, "peak_rss_mb": status_kb("self", "VmHWM") / 1024}))


def measure_child(kind: str, endpoint: str) -> float:
    """Peak RSS (MB) of a fresh process running ``kind`` once."""
    out = subprocess.run(
        [sys.executable, *ENTRY, "--child", kind],
        env=safe_env(endpoint),
        cwd=REPO,
        capture_output=True,
        text=True,
        check=True,
    )
    return float(json.loads(out.stdout.strip().splitlines()[-1])["peak_rss_mb"])


def cpu_of(pid: int) -> float:
    """CPU seconds (user + system) used so far by process ``pid``, from /proc (NaN where unavailable)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text(encoding="ascii").rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return float("nan")
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime, stime


def timed(fn: Callable[[], int], server_pid: int) -> dict[str, Any]:
    """``{"seconds", "cpu_seconds", "server_cpu_seconds", "peak_rss_mb" (this process, during the call),
    "value" (the call's result)}``. ``cpu_seconds`` is this process's CPU (every thread) plus the server's
    during the call: on a loaded machine wall time is mostly waiting for a CPU, CPU time is the work done."""
    reset_peak_rss()
    server, cpu = cpu_of(server_pid), time.process_time()
    start = time.perf_counter()
    value = fn()
    seconds = time.perf_counter() - start
    cpu, server = time.process_time() - cpu, cpu_of(server_pid) - server
    return {
        "seconds": seconds,
        "cpu_seconds": cpu + server,
        "server_cpu_seconds": server,
        "peak_rss_mb": status_kb("self", "VmHWM") / 1024,
        "value": value,
    }


def warm_up() -> None:
    """Load boto3's models and our modules once, outside the timed runs (both contenders profit)."""
    import boto3  # type: ignore[import-untyped,unused-ignore]

    import golden_images.tools.report  # noqa: F401

    session = boto3.session.Session()
    for service in SERVICES:
        session.client(service, region_name=REGIONS[0])
    for region in REGIONS:
        boto3.client("ec2", region_name=region).describe_launch_templates(MaxResults=5)


def _load() -> list[float]:
    try:
        return [round(x, 2) for x in os.getloadavg()]
    except OSError:
        return []


def measure(
    amis: int = 300,
    runs: int = 3,
    *,
    seed: int = 7,
    latency_ms: float = 0.0,
    memory_runs: int = 3,
    custodian: str | None = None,
    no_custodian: bool = False,
    diagnose: bool = False,
    log: Callable[[str], None] = lambda _message: None,
) -> dict[str, Any]:
    """Seed a server with ``amis`` AMIs per region (default 300), run ``runs`` rounds (default 3) and
    ``memory_runs`` fresh processes per contender (default 3); returns the samples with ``meta`` and the
    call counts of the first round. ``os.environ`` is this run's safe environment while it lasts and is
    restored afterwards."""
    log(f"seeding {amis} AMIs x {len(REGIONS)} regions on a local moto server ...")
    t0 = time.perf_counter()
    server = subprocess.Popen(
        [
            sys.executable,
            *ENTRY,
            "--serve",
            "--amis",
            str(amis),
            "--seed",
            str(seed),
            "--latency-ms",
            str(latency_ms),
        ],
        env=safe_env(),
        cwd=REPO,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    saved = dict(os.environ)
    try:
        assert server.stdout is not None
        endpoint = server.stdout.readline().strip()
        if not endpoint:
            raise SystemExit("moto server did not start")
        log(f"  {endpoint} ready in {time.perf_counter() - t0:.1f}s")
        os.environ.clear()
        os.environ.update(safe_env(endpoint))
        raw: dict[str, Any] = {
            "meta": {
                "amis_per_region": amis,
                "regions": list(REGIONS),
                "runs": runs,
                "latency_ms": latency_ms,
                "cpus": list(range(os.cpu_count() or 0)),
                "started": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
                "load_average_at_start": _load(),
            }
        }
        binary = None if no_custodian else find_custodian(custodian)
        skipped = "disabled" if no_custodian else "custodian not found (pip install c7n)"
        counter = CallCounter()
        samples: dict[str, list[dict[str, Any]]] = {"audit": [], "floor": [], "custodian": []}
        calls: dict[str, dict[str, int]] = {}
        warm_up()
        contenders: dict[str, Callable[[CallCounter | None], int]] = {"audit": run_ours, "floor": run_floor}
        if diagnose:
            contenders["floor-serial"] = lambda c: run_floor(c, serial_get_image=True)
            samples["floor-serial"] = []
        with tempfile.TemporaryDirectory() as tmp:
            # One round = every contender once, so an interrupted long run still has comparable rounds.
            for n in range(runs):
                order = list(contenders) if n % 2 == 0 else list(reversed(contenders))
                for kind in order:
                    contender = contenders[kind]

                    def counted(contender: Callable[[CallCounter | None], int] = contender) -> int:
                        return contender(counter)

                    sample = timed(counted, server.pid)
                    taken = counter.take()
                    calls.setdefault(kind, taken)
                    samples[kind].append(sample)
                    log(
                        f"  run {n + 1}: {kind} {sample['seconds']:.2f}s, CPU {sample['cpu_seconds']:.2f}s "
                        f"(server {sample['server_cpu_seconds']:.2f}s), peak RSS {sample['peak_rss_mb']:.0f} MB"
                    )
                if binary is not None:
                    try:
                        samples["custodian"].append(run_custodian(binary, endpoint, Path(tmp), server.pid))
                    except RuntimeError as exc:
                        binary, skipped = None, str(exc)
                    else:
                        c = samples["custodian"][-1]
                        log(f"  run {n + 1}: custodian {c['seconds']:.2f}s, {c['matched']} matched")
        peaks = {k: [measure_child(k, endpoint) for _ in range(memory_runs)] for k in ("audit", "floor")}
        for kind, values in peaks.items():
            log(f"  memory: {kind} peak RSS {values} MB")
        last = {kind: samples[kind][-1]["value"] if samples[kind] else None for kind in ("audit", "floor")}
        raw["audit"] = {
            "runs": samples["audit"],
            "fresh_process_peak_rss_mb": peaks["audit"],
            "findings": last["audit"],
        }
        raw["floor"] = {
            "runs": samples["floor"],
            "fresh_process_peak_rss_mb": peaks["floor"],
            "images": last["floor"],
        }
        if diagnose:
            raw["floor-serial"] = {
                "runs": samples["floor-serial"],
                "images": samples["floor-serial"][-1]["value"] if samples["floor-serial"] else None,
            }
        if samples["custodian"] and binary is not None:
            raw["custodian"] = {"runs": samples["custodian"], "matched": samples["custodian"][-1]["matched"]}
        else:
            raw["custodian"] = {"skipped": skipped}
        raw["calls"] = calls
        raw["meta"]["load_average_at_end"] = _load()
    finally:
        os.environ.clear()
        os.environ.update(saved)
        if server.stdin:
            server.stdin.close()
        server.wait(timeout=30)
    return raw
