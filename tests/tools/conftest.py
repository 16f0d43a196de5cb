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
- ``EnableImageDeprecation`` is not implemented (HTTP 500): the cleanup tests stub that one call.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import boto3
import botocore.httpsession
import pytest
import requests

os.environ["MOTO_EC2_LOAD_DEFAULT_AMIS"] = "false"  # before moto builds a backend: keep seeding fast

from moto.backends import get_backend
from moto.core import DEFAULT_ACCOUNT_ID
from moto.ec2.models.amis import Ami
from moto.server import ThreadedMotoServer

from golden_images.common.rules import MANAGED_BY

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


@pytest.fixture(scope="session")
def moto_server() -> Iterator[MotoServer]:
    """Start moto on 127.0.0.1:0 once per session (per xdist worker)."""
    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # one access-log line per request otherwise
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    try:
        yield MotoServer(f"http://{host}:{port}")
    finally:
        server.stop()


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
    monkeypatch.setattr(Ami, "block_device_mappings", property(_bdm_with_encryption))
    original_send = botocore.httpsession.URLLib3Session.send

    def guarded_send(self: Any, request: Any) -> Any:
        if not str(request.url).startswith(url):
            raise AssertionError(f"test tried to reach {request.url}, not the local moto server")
        return original_send(self, request)

    monkeypatch.setattr(botocore.httpsession.URLLib3Session, "send", guarded_send)
    moto_server.reset()
    commands.factory_hooks.clear()
    yield
    commands.factory_hooks.clear()


def golden_tags(image: str, version: str, **overrides: str | None) -> dict[str, str]:
    """The canonical golden-images tag map; ``key=None`` drops a key."""
    tags: dict[str, str | None] = {
        "managed-by": MANAGED_BY,
        "golden-image": image,
        "image-version": version,
        "environment": "dev",
        "owner": "platform-team",
        "cost-center": "cc-4711",
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
    ) -> str:
        """Register an AMI and seed its state; returns the image id."""
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
