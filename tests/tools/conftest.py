"""One moto server per test session (in this process, on 127.0.0.1, port chosen by the OS), reset before
every test, and seeding helpers.

Safety: dummy credentials, no profile, no shared config files, ``AWS_ENDPOINT_URL`` pointing at the local
server, and a guard on botocore's HTTP layer that fails any request to another address — nothing here can
reach real AWS.

moto gaps handled here (verified against moto 5.2.5, see ``test_moto_gaps.py``):

- ``DescribeImages`` omits ``BlockDeviceMappings[].Ebs.Encrypted``. The session teaches moto's ``Ami`` to
  report its snapshot's ``encrypted`` flag (the documented field, as EC2 returns it); tests seed encryption
  by setting the snapshot's flag through moto's backend.
- ``CreationDate`` and ``DeprecationTime`` cannot be set through the API: seeded on the backend object
  (moto serialises ``deprecation_time`` when present).
- ``EnableImageDeprecation`` is not implemented (a non-XML HTTP 500): :class:`MotoGaps` answers that one
  call with the documented response and records the deprecation time on moto's backend object;
- EC2 Image Builder is not modelled at all (``404 Not yet implemented``): :class:`MotoGaps` is an in-memory
  Image Builder for ``ListImageRecipes``/``GetImageRecipe``/``GetImage`` (the shapes of the botocore
  model), seeded by the tests;
- deregistration protection (``EnableImageDeregistrationProtection``) is not implemented: seeded on the
  backend object, which moto then serialises as ``DeregistrationProtection``;
- a KMS key's ``KeyManager`` is always ``CUSTOMER`` (even ``alias/aws/ebs``): seeded on the backend key.

Every client the tools create in a test gets :data:`GAPS` as a client hook (:func:`tool_factory`, and the
CLI's ``commands.factory_hooks``); botocore's retry backoff is patched to zero so throttling tests do not
sleep.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import boto3
import botocore.httpsession
import botocore.retries.adaptive
import botocore.retries.standard
import pytest
import requests
from botocore.awsrequest import AWSResponse
from moto.backends import get_backend
from moto.core import DEFAULT_ACCOUNT_ID
from moto.ec2.models.amis import Ami
from moto.server import ThreadedMotoServer

from golden_images.core.rules import MANAGED_BY
from golden_images.tools.aws import ClientFactory

ACCOUNT = DEFAULT_ACCOUNT_ID
REGIONS = ("us-east-1", "eu-west-1", "ap-southeast-2")
_ORIGINAL_BDM = Ami.block_device_mappings


def _bdm_with_encryption(self: Any) -> list[dict[str, Any]]:
    mappings = _ORIGINAL_BDM.fget(self)
    for mapping in mappings:
        mapping["Ebs"]["Encrypted"] = bool(self.ebs_snapshot.encrypted)
    return mappings


@dataclass(frozen=True)
class MotoServer:
    """The running server."""

    url: str

    def reset(self) -> None:
        """Forget every resource (moto's reset endpoint)."""
        requests.post(f"{self.url}/moto-api/reset", timeout=10).raise_for_status()


def _answer(status: int, parsed: dict[str, Any]) -> tuple[AWSResponse, dict[str, Any]]:
    parsed = {**parsed, "ResponseMetadata": {"HTTPStatusCode": status}}
    return AWSResponse("https://stubbed.invalid/", status, {}, None), parsed


class MotoGaps:
    """A client hook filling moto's gaps (module docstring): an in-memory Image Builder and
    ``EnableImageDeprecation``. State is per test (:meth:`reset`)."""

    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        """Forget everything (called before every test)."""
        #: region → recipes ``{"arn", "name", "version", "parentImage"}``
        self.recipes: dict[str, list[dict[str, str]]] = {}
        #: image build version ARN → ``outputResources.amis`` items ``{"region", "image"}``
        self.images: dict[str, list[dict[str, str]]] = {}
        #: regions whose Image Builder answers like the moto server does (an HTML 500 → ClientError "500")
        self.unavailable: set[str] = set()
        #: EnableImageDeprecation requests (the caller's parameters)
        self.deprecations: list[dict[str, Any]] = []
        #: let moto answer EnableImageDeprecation itself (its non-XML HTTP 500)
        self.moto_deprecation = False

    def recipe(self, region: str, name: str, version: str, parent: str) -> str:
        """Add a recipe whose parent is ``parent``; returns its ARN."""
        arn = f"arn:aws:imagebuilder:{region}:{ACCOUNT}:image-recipe/{name}/{version}"
        self.recipes.setdefault(region, []).append(
            {"arn": arn, "name": name, "version": version, "parentImage": parent}
        )
        return arn

    def __call__(self, client: Any, service: str, region: str) -> None:
        events = client.meta.events

        def keep_params(params: dict[str, Any], context: dict[str, Any], **_: Any) -> None:
            context["api_params"] = dict(params)  # the caller's parameters, before serialisation

        if service in ("ec2", "imagebuilder"):
            events.register(f"before-parameter-build.{service}", keep_params)
        if service == "ec2":

            def deprecate(context: dict[str, Any], **_: Any) -> tuple[AWSResponse, dict[str, Any]] | None:
                if self.moto_deprecation:
                    return None
                params = context["api_params"]
                self.deprecations.append(dict(params))
                at = params["DeprecateAt"]
                text = at.strftime("%Y-%m-%dT%H:%M:%S.000Z") if isinstance(at, dt.datetime) else str(at)
                ami = get_backend("ec2")[ACCOUNT][region].amis.get(params["ImageId"])
                if ami is None:
                    return _answer(
                        400, {"Error": {"Code": "InvalidAMIID.NotFound", "Message": "no such AMI"}}
                    )
                ami.deprecation_time = text
                return _answer(200, {"Return": True})

            events.register("before-call.ec2.EnableImageDeprecation", deprecate)
        if service != "imagebuilder":
            return

        def gate(**_: Any) -> tuple[AWSResponse, dict[str, Any]] | None:
            if region in self.unavailable:
                return _answer(500, {"Error": {"Code": "500", "Message": "Internal Server Error"}})
            return None

        def list_recipes(**kw: Any) -> tuple[AWSResponse, dict[str, Any]]:
            summaries = [{"arn": r["arn"], "name": r["name"]} for r in self.recipes.get(region, [])]
            return gate(**kw) or _answer(200, {"imageRecipeSummaryList": summaries})

        def get_recipe(context: dict[str, Any], **kw: Any) -> tuple[AWSResponse, dict[str, Any]]:
            params = context["api_params"]
            found = [r for r in self.recipes.get(region, []) if r["arn"] == params["imageRecipeArn"]]
            if not found:
                return gate(**kw) or _answer(
                    404, {"Error": {"Code": "ResourceNotFoundException", "Message": "?"}}
                )
            return gate(**kw) or _answer(200, {"imageRecipe": dict(found[0])})

        def get_image(context: dict[str, Any], **kw: Any) -> tuple[AWSResponse, dict[str, Any]]:
            params = context["api_params"]
            arn = params["imageBuildVersionArn"]
            # Image Builder is regional: another region's client does not know the image.
            if arn not in self.images or arn.split(":")[3] != region:
                missing = {"Error": {"Code": "ResourceNotFoundException", "Message": f"{arn} not found"}}
                return gate(**kw) or _answer(404, missing)
            image = {"arn": arn, "outputResources": {"amis": list(self.images[arn])}}
            return gate(**kw) or _answer(200, {"image": image})

        events.register("before-call.imagebuilder.ListImageRecipes", list_recipes)
        events.register("before-call.imagebuilder.GetImageRecipe", get_recipe)
        events.register("before-call.imagebuilder.GetImage", get_image)


#: The one hook instance (reset before every test), so factories created at import time can use it.
GAPS = MotoGaps()


def tool_factory(*hooks: Any, **kwargs: Any) -> ClientFactory:
    """A :class:`ClientFactory` with :data:`GAPS` and ``hooks`` (fault injection) on every client."""
    return ClientFactory(hooks=[GAPS, *hooks], **kwargs)


@pytest.fixture(scope="session")
def moto_server() -> Iterator[MotoServer]:
    """Start moto on 127.0.0.1:0 once per session (per xdist worker). No environment variable is set here:
    ``MOTO_EC2_LOAD_DEFAULT_AMIS`` is set per test by :func:`_fresh_moto` (moto reads it when a reset
    backend is rebuilt, i.e. during the test's requests)."""
    werkzeug = logging.getLogger("werkzeug")
    level = werkzeug.level
    werkzeug.setLevel(logging.ERROR)  # one access-log line per request otherwise
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    try:
        yield MotoServer(f"http://{host}:{port}")
    finally:
        server.stop()
        werkzeug.setLevel(level)


@pytest.fixture(autouse=True)
def _fresh_moto(moto_server: MotoServer, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Per test (so nothing leaks into other test packages): a safe AWS environment pointing at the server,
    the network guard, the ``Encrypted`` patch, an empty account, and no injected hooks."""
    from golden_images.tools import commands

    url = moto_server.url
    for var in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_REGION", REGIONS[0])
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGIONS[0])
    monkeypatch.setenv("AWS_CONFIG_FILE", "/nonexistent/aws-config")
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent/aws-credentials")
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    monkeypatch.setenv("AWS_ENDPOINT_URL", url)
    # Default AMIs are not loaded (seeding stays fast); restored when the test ends, like the rest.
    monkeypatch.setenv("MOTO_EC2_LOAD_DEFAULT_AMIS", "false")
    monkeypatch.setattr(Ami, "block_device_mappings", property(_bdm_with_encryption))
    original_send = botocore.httpsession.URLLib3Session.send

    def guarded_send(self: Any, request: Any) -> Any:
        if not str(request.url).startswith(url):
            raise AssertionError(f"test tried to reach {request.url}, not the local moto server")
        return original_send(self, request)

    monkeypatch.setattr(botocore.httpsession.URLLib3Session, "send", guarded_send)
    # Retries are what the tests assert, not the time botocore would wait between them.
    # Adaptive mode also blocks each request on its client-side token bucket after a throttle.
    monkeypatch.setattr(botocore.retries.standard.ExponentialBackoff, "delay_amount", lambda self, ctx: 0.0)
    monkeypatch.setattr(
        botocore.retries.adaptive.ClientRateLimiter, "on_sending_request", lambda self, **kw: None
    )
    moto_server.reset()
    GAPS.reset()
    commands.factory_hooks.clear()
    commands.factory_hooks.append(GAPS)
    yield
    commands.factory_hooks.clear()


#: The fingerprint prefix the seeded recipe names carry (any 10 hex characters are one of "ours").
FINGERPRINT = "0123456789"


def image_arn(image: str, env: str, version: str, region: str = REGIONS[0], account: str = ACCOUNT) -> str:
    """The Image Builder image ARN our recipe ``<image>-<env>-<fingerprint>`` gives build 1 of ``version``."""
    return f"arn:aws:imagebuilder:{region}:{account}:image/{image}-{env}-{FINGERPRINT}/{version}/1"


def golden_tags(image: str, version: str, env: str = "dev", **overrides: str | None) -> dict[str, str]:
    """The tags Image Builder leaves on one of our AMIs: the canonical golden-images map plus
    ``Ec2ImageBuilderArn``; ``key=None`` drops a key."""
    tags: dict[str, str | None] = {
        "managed-by": MANAGED_BY,
        "golden-image": image,
        "image-version": version,
        "environment": env,
        "owner": "platform-team",
        "cost-center": "cc-4711",
        "Ec2ImageBuilderArn": image_arn(image, env, version),
    }
    tags.update(overrides)
    return {k: v for k, v in tags.items() if v is not None}


class Seeder:
    """Creates AMIs (through the API where moto models it, the backend where it does not)."""

    def __init__(self, now: dt.datetime) -> None:
        self.now = now
        self._clients: dict[str, Any] = {}

    def ec2(self, region: str) -> Any:
        """A plain client (no retries needed against moto)."""
        if region not in self._clients:
            self._clients[region] = boto3.client("ec2", region_name=region)
        return self._clients[region]

    def backend(self, region: str) -> Any:
        """moto's in-process EC2 backend for ``region``."""
        return get_backend("ec2")[ACCOUNT][region]

    def image(
        self,
        region: str = REGIONS[0],
        *,
        name: str,
        tags: dict[str, str] | None = None,
        age_days: float = 1,
        encrypted: bool = True,
        public: bool = False,
        share_accounts: Sequence[str] = (),
        share_orgs: Sequence[str] = (),
        share_ous: Sequence[str] = (),
        deprecation: dt.datetime | None = None,
        in_image_builder: bool = True,
        protected: bool = False,
    ) -> str:
        """Register an AMI and seed its state; returns the image id. With ``in_image_builder`` (default) an
        AMI tagged ``Ec2ImageBuilderArn`` is listed among that Image Builder image's outputs."""
        ec2 = self.ec2(region)
        image_id = str(ec2.register_image(Name=name)["ImageId"])
        if tags:
            ec2.create_tags(Resources=[image_id], Tags=[{"Key": k, "Value": v} for k, v in tags.items()])
        add: list[dict[str, str]] = []
        if public:
            add.append({"Group": "all"})
        add += [{"UserId": a} for a in share_accounts]
        add += [{"OrganizationArn": o} for o in share_orgs]
        add += [{"OrganizationalUnitArn": o} for o in share_ous]
        if add:
            ec2.modify_image_attribute(ImageId=image_id, LaunchPermission={"Add": add})
        ami = self.backend(region).amis[image_id]
        ami.creation_date = self.now - dt.timedelta(days=age_days)
        ami.ebs_snapshot.encrypted = encrypted
        if deprecation is not None:
            ami.deprecation_time = deprecation.strftime("%Y-%m-%dT%H:%M:%S.000Z")
        if protected:
            ami.deregistration_protection = "enabled"
        arn = (tags or {}).get("Ec2ImageBuilderArn")
        if arn and in_image_builder:
            GAPS.images.setdefault(arn, []).append({"region": region, "image": image_id})
        return image_id

    def snapshot_of(self, region: str, image_id: str) -> str:
        """The snapshot moto created for ``image_id``."""
        return str(self.backend(region).amis[image_id].ebs_snapshot.id)

    def run_instance(self, region: str, image_id: str) -> str:
        """Launch an instance from ``image_id`` (a use)."""
        r = self.ec2(region).run_instances(ImageId=image_id, MinCount=1, MaxCount=1)
        return str(r["Instances"][0]["InstanceId"])

    def launch_template(self, region: str, *image_ids: str) -> str:
        """A launch template whose versions 1..n reference ``image_ids`` in order (all uses)."""
        ec2 = self.ec2(region)
        lt = ec2.create_launch_template(
            LaunchTemplateName=f"lt-{len(ec2.describe_launch_templates()['LaunchTemplates'])}",
            LaunchTemplateData={"ImageId": image_ids[0]},
        )["LaunchTemplate"]
        for image_id in image_ids[1:]:
            ec2.create_launch_template_version(
                LaunchTemplateId=lt["LaunchTemplateId"], LaunchTemplateData={"ImageId": image_id}
            )
        return str(lt["LaunchTemplateId"])

    def image_ids(self, region: str) -> set[str]:
        """Ids of the AMIs the account owns in ``region``."""
        return {i["ImageId"] for i in self.ec2(region).describe_images(Owners=["self"])["Images"]}

    def snapshot_ids(self, region: str) -> set[str]:
        """Ids of the account's snapshots in ``region``."""
        snaps = self.ec2(region).describe_snapshots(OwnerIds=["self"])["Snapshots"]
        return {s["SnapshotId"] for s in snaps}


NOW = dt.datetime.now(dt.UTC).replace(microsecond=0)


@pytest.fixture
def seed() -> Seeder:
    """A :class:`Seeder` whose ages are relative to :data:`NOW`."""
    return Seeder(NOW)
