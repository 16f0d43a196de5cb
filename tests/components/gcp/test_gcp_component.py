"""GcpGoldenImage under Pulumi mocks: the resources each stack registers and their inputs."""

from __future__ import annotations

import base64
import json
import re
import shutil
from pathlib import Path
from typing import Any

import pytest

from golden_images.engine.model import RegisteredResource
from golden_images.platforms.gcp import iam
from golden_images.platforms.gcp.spec import (
    BUILD_IMAGE_PINS,
    DEFAULT_GCLOUD_IMAGE,
    DEFAULT_PACKER_IMAGE,
    stale_build_images,
)
from golden_images.preview.runner import ProgramRun, run_program
from tests.components.gcp.gcp_helpers import STACKS, gcp_catalog
from tests.components.limits import GCP_NAME, has_required_tags, is_gcp_label
from tests.conftest import ROOT, by_type, one, write_stack

ACCOUNT = "gcp:serviceaccount/account:Account"
PROJECT_MEMBER = "gcp:projects/iAMMember:IAMMember"
SA_MEMBER = "gcp:serviceaccount/iAMMember:IAMMember"
KMS_MEMBER = "gcp:kms/cryptoKeyIAMMember:CryptoKeyIAMMember"
BUCKET = "gcp:storage/bucket:Bucket"
BUCKET_MEMBER = "gcp:storage/bucketIAMMember:BucketIAMMember"
OBJECT = "gcp:storage/bucketObject:BucketObject"
TOPIC = "gcp:pubsub/topic:Topic"
TOPIC_MEMBER = "gcp:pubsub/topicIAMMember:TopicIAMMember"
TRIGGER = "gcp:cloudbuild/trigger:Trigger"
JOB = "gcp:cloudscheduler/job:Job"
SUBNET_MEMBER = "gcp:compute/subnetworkIAMMember:SubnetworkIAMMember"
COMPONENT = "golden-images:index:GcpGoldenImage"


def _run(directory: Path, stack: str, raw: dict[str, Any] | None = None, root: Path = ROOT) -> ProgramRun:
    run = run_program(root, stack, stack_file=write_stack(directory, stack, raw or gcp_catalog(stack)))
    assert run.error is None, run.error
    return run


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, ProgramRun]:
    """One mocked run per stack, shared by the tests of this module (each run takes about a second)."""
    return {stack: _run(tmp_path_factory.mktemp(stack), stack) for stack in STACKS}


def _template(run: ProgramRun, image: str) -> dict[str, Any]:
    objects = [r for r in by_type(run.resources, OBJECT) if r.name.startswith(f"{image}-gcp-")]
    (template,) = [o for o in objects if o.inputs["name"].startswith("templates/")]
    assert "content" in template.secret_paths, "the provider marks object content secret"
    return json.loads(_secret_value(template.inputs["content"]))


def _secret_value(value: Any) -> Any:
    """The plain value inside a secret as the capturing monitor records it (``{<sig>: <secret sig>, value}``)."""
    return value["value"] if isinstance(value, dict) and "value" in value else value


def _gcp(run: ProgramRun) -> dict[str, RegisteredResource]:
    return {r.urn: r for r in run.resources if r.type.startswith("gcp:")}


@pytest.mark.parametrize("stack", STACKS)
def test_each_image_gets_the_pipeline(runs: dict[str, ProgramRun], stack: str) -> None:
    run = runs[stack]
    scheduled = stack != "dev"
    for image in ("base-ubuntu", "app-runtime"):
        component = one(run.resources, COMPONENT, f"{image}-gcp")
        assert component.parent.endswith(f"::{image}")
        children = [r for r in run.resources if r.parent == component.urn]
        kinds = sorted({r.type for r in children})
        expected = {
            ACCOUNT,
            PROJECT_MEMBER,
            SA_MEMBER,
            KMS_MEMBER,
            BUCKET,
            BUCKET_MEMBER,
            OBJECT,
            TOPIC,
            TRIGGER,
        }
        if scheduled:
            expected |= {TOPIC_MEMBER, JOB}
        if stack == "prod":  # Shared VPC: the build account may use the host project's subnetwork
            expected |= {SUBNET_MEMBER}
        assert set(kinds) == expected
        assert all(r.name.startswith(f"{image}-gcp-") for r in children)
        assert len([r for r in children if r.type == ACCOUNT]) == (3 if scheduled else 2)
        assert component.inputs["version"] in ("1.4.2", "2.1.0")
        assert component.inputs["tags"]["golden-image"] == image


@pytest.mark.parametrize("stack", STACKS)
def test_cmek_on_image_settings_and_service_agent_binding(runs: dict[str, ProgramRun], stack: str) -> None:
    run = runs[stack]
    gcp = gcp_catalog(stack)["defaults"]["gcp"]
    for image in ("base-ubuntu", "app-runtime"):
        builder = _template(run, image)["builders"][0]
        assert builder["image_encryption_key"] == {"kmsKeyName": gcp["kms_key"]}
        binding = one(run.resources, KMS_MEMBER, f"{image}-gcp-cmek-compute-agent")
        assert binding.inputs == {
            "cryptoKeyId": gcp["kms_key"],
            "role": "roles/cloudkms.cryptoKeyEncrypterDecrypter",
            "member": f"serviceAccount:service-{gcp['project_number']}@compute-system.iam.gserviceaccount.com",
        }
        trigger = one(run.resources, TRIGGER, f"{image}-gcp-trigger")
        verify = trigger.inputs["build"]["steps"][2]
        assert verify["id"] == "verify" and gcp["kms_key"] in verify["script"]
    record = run.outputs["images"]["base-ubuntu"]
    assert record["encryption"]["gcp"] == "enforced"


@pytest.mark.parametrize("stack", STACKS)
def test_build_vm_has_no_external_ip_and_runs_in_the_private_pool(
    runs: dict[str, ProgramRun], stack: str
) -> None:
    run = runs[stack]
    gcp = gcp_catalog(stack)["defaults"]["gcp"]
    for image in ("base-ubuntu", "app-runtime"):
        builder = _template(run, image)["builders"][0]
        assert builder["omit_external_ip"] is True and builder["use_internal_ip"] is True
        assert builder["subnetwork"] == gcp["subnetwork"]
        assert "access_config" not in json.dumps(builder)
        options = one(run.resources, TRIGGER, f"{image}-gcp-trigger").inputs["build"]["options"]
        assert options == {"logging": "CLOUD_LOGGING_ONLY", "workerPool": gcp["worker_pool"]}


def test_roles_are_the_documented_minimum(runs: dict[str, ProgramRun]) -> None:
    run = runs["prod"]
    project = "acme-golden-prod"
    # Written out (docs/gcp.md's role table), not taken from golden_images.platforms.gcp.iam: a role added
    # to or dropped from the module's lists must fail here. The account ids are pinned too (a hash of role,
    # image and stack: renaming an account replaces it and every binding).
    emails = {
        "build": "gi-build-4e9ac5eb@acme-golden-prod.iam.gserviceaccount.com",
        "vm": "gi-vm-d90a47e4@acme-golden-prod.iam.gserviceaccount.com",
        "scheduler": "gi-scheduler-e8cfb907@acme-golden-prod.iam.gserviceaccount.com",
    }
    assert emails["build"] == iam.account_email(iam.account_id("build", "base-ubuntu", "prod"), project)
    mine = [r for r in run.resources if r.name.startswith("base-ubuntu-gcp-")]
    project_roles = sorted((r.inputs["member"], r.inputs["role"]) for r in mine if r.type == PROJECT_MEMBER)
    assert project_roles == [
        (f"serviceAccount:{emails['build']}", "roles/cloudbuild.workerPoolUser"),
        (f"serviceAccount:{emails['build']}", "roles/compute.instanceAdmin.v1"),
        (f"serviceAccount:{emails['build']}", "roles/logging.logWriter"),
        (f"serviceAccount:{emails['vm']}", "roles/logging.logWriter"),
        (f"serviceAccount:{emails['vm']}", "roles/monitoring.metricWriter"),
    ]
    assert all(r.inputs["project"] == project for r in mine if r.type == PROJECT_MEMBER)
    assert not {"roles/owner", "roles/editor", "roles/compute.admin"} & {role for _, role in project_roles}
    acts = {r.name: r.inputs for r in mine if r.type == SA_MEMBER}
    assert acts["base-ubuntu-gcp-build-acts-as-vm"] == {
        "serviceAccountId": f"projects/{project}/serviceAccounts/{emails['vm']}",
        "role": "roles/iam.serviceAccountUser",
        "member": f"serviceAccount:{emails['build']}",
    }
    assert acts["base-ubuntu-gcp-cloudbuild-acts-as-build"] == {
        "serviceAccountId": f"projects/{project}/serviceAccounts/{emails['build']}",
        "role": "roles/iam.serviceAccountUser",
        "member": "serviceAccount:service-100000000003@gcp-sa-cloudbuild.iam.gserviceaccount.com",
    }
    reader = one(run.resources, BUCKET_MEMBER, "base-ubuntu-gcp-bucket-reader").inputs
    assert (reader["role"], reader["member"]) == (
        "roles/storage.objectViewer",
        f"serviceAccount:{emails['build']}",
    )
    publisher = one(run.resources, TOPIC_MEMBER, "base-ubuntu-gcp-scheduler-publisher").inputs
    assert (publisher["role"], publisher["member"]) == (
        "roles/pubsub.publisher",
        f"serviceAccount:{emails['scheduler']}",
    )
    trigger = one(run.resources, TRIGGER, "base-ubuntu-gcp-trigger").inputs
    assert trigger["serviceAccount"] == f"projects/{project}/serviceAccounts/{emails['build']}"
    job = one(run.resources, JOB, "base-ubuntu-gcp-schedule").inputs
    assert job["httpTarget"]["oauthToken"]["serviceAccountEmail"] == emails["scheduler"]
    assert _template(run, "base-ubuntu")["builders"][0]["service_account_email"] == emails["vm"]


@pytest.mark.parametrize("stack", STACKS)
def test_labels_are_valid_everywhere(runs: dict[str, ProgramRun], stack: str) -> None:
    run = runs[stack]
    label_maps = [r.inputs["labels"] for r in run.resources if r.type in (BUCKET, TOPIC)]
    for image in ("base-ubuntu", "app-runtime"):
        builder = _template(run, image)["builders"][0]
        label_maps += [builder["image_labels"], builder["labels"]]
    assert len(label_maps) == 8
    for labels in label_maps:
        assert all(is_gcp_label(k, v) for k, v in labels.items()), labels
        assert has_required_tags(labels), labels
        assert labels["environment"] == stack


def test_bucket_is_private_versioned_and_objects_content_addressed(runs: dict[str, ProgramRun]) -> None:
    run = runs["dev"]
    bucket = one(run.resources, BUCKET, "base-ubuntu-gcp-bucket").inputs
    assert bucket["uniformBucketLevelAccess"] is True
    assert bucket["publicAccessPrevention"] == "enforced"
    assert bucket["versioning"] == {"enabled": True}
    assert bucket["name"].startswith("gi-base-ubuntu-dev-") and GCP_NAME.fullmatch(bucket["name"])
    objects = [r for r in by_type(run.resources, OBJECT) if r.name.startswith("base-ubuntu-gcp-")]
    assert len(objects) >= 6
    for obj in objects:
        sha = obj.inputs["metadata"]["sha256"]
        assert sha in obj.inputs["name"] and obj.name.endswith(sha[:12])
        assert obj.inputs["bucket"] == bucket["name"]
    trigger = one(run.resources, TRIGGER, "base-ubuntu-gcp-trigger").inputs
    fetch = trigger["build"]["steps"][0]["script"]
    assert all(f"gs://{bucket['name']}/{o.inputs['name']}" in fetch for o in objects)


def test_trigger_runs_packer_plugin_install_then_build_and_scheduler_publishes(
    runs: dict[str, ProgramRun],
) -> None:
    run = runs["prod"]
    trigger = one(run.resources, TRIGGER, "base-ubuntu-gcp-trigger").inputs
    assert trigger["location"] == "us-central1"
    assert trigger["pubsubConfig"] == {
        "topic": "projects/acme-golden-prod/topics/golden-base-ubuntu-prod-bake"
    }
    steps = trigger["build"]["steps"]
    assert [s["id"] for s in steps] == ["fetch", "bake", "verify"]
    assert steps[1]["name"] == DEFAULT_PACKER_IMAGE
    assert steps[0]["name"] == steps[2]["name"] == DEFAULT_GCLOUD_IMAGE
    assert (
        "packer plugins install github.com/hashicorp/googlecompute v1.1.6\npacker build" in steps[1]["script"]
    )
    assert trigger["build"]["timeout"] == "7200s"
    topic = one(run.resources, TOPIC, "base-ubuntu-gcp-topic").inputs
    job = one(run.resources, JOB, "base-ubuntu-gcp-schedule").inputs
    assert job["schedule"] == "0 3 * * 2" and job["timeZone"] == "Etc/UTC"
    assert (
        job["httpTarget"]["uri"]
        == f"https://pubsub.googleapis.com/v1/projects/acme-golden-prod/topics/{topic['name']}:publish"
    )
    body = json.loads(base64.b64decode(job["httpTarget"]["body"]))
    assert base64.b64decode(body["messages"][0]["data"]).decode().startswith("scheduled bake of base-ubuntu")
    assert not by_type(runs["dev"].resources, JOB), "dev has no schedule"


def test_version_record_says_how_consumers_resolve_the_image(runs: dict[str, ProgramRun]) -> None:
    record = runs["prod"].outputs["images"]["app-runtime"]
    artifacts = record["artifacts"]["gcp"]
    assert artifacts["project"] == "acme-golden-prod"
    assert artifacts["family"] == "app-runtime"
    assert artifacts["image"].startswith("app-runtime-2-1-0-") and GCP_NAME.fullmatch(artifacts["image"])
    assert artifacts["resolve"] == "gcp.compute.get_image(family='app-runtime', project='acme-golden-prod')"
    # Layered (#15): app-runtime's parent is base-ubuntu's exact image in the same project.
    assert re.fullmatch(
        r"projects/acme-golden-prod/global/images/base-ubuntu-1-4-2-[0-9a-f]{10}", record["parent"]["gcp"]
    ), record["parent"]["gcp"]
    assert record["built_at"] is None


def test_unchanged_spec_gives_identical_inputs(runs: dict[str, ProgramRun], tmp_path: Path) -> None:
    again = _run(tmp_path, "dev")
    first, second = _gcp(runs["dev"]), _gcp(again)
    assert first.keys() == second.keys()
    assert all(first[urn].inputs == second[urn].inputs for urn in first)


def test_script_change_touches_only_that_images_objects_and_trigger(
    runs: dict[str, ProgramRun], tmp_path: Path
) -> None:
    root = tmp_path / "repo"
    root.mkdir()
    for name in ("__main__.py", "Pulumi.yaml"):
        shutil.copy(ROOT / name, root / name)
    for folder in ("images", "stacks"):
        shutil.copytree(ROOT / folder, root / folder)
    script = root / "images/app-runtime/install-runtime.sh"
    script.write_text(script.read_text() + "\necho tuned\n")
    changed = _run(tmp_path, "dev", root=root)
    before, after = _gcp(runs["dev"]), _gcp(changed)

    base = [urn for urn in before if before[urn].name.startswith("base-ubuntu-gcp-")]
    assert base
    for urn in base:
        assert after[urn].inputs == before[urn].inputs, f"{urn} changed although base-ubuntu did not"
    differing = {
        before[urn].name for urn in before.keys() & after.keys() if before[urn].inputs != after[urn].inputs
    }
    removed = {before[urn].name for urn in before.keys() - after.keys()}
    added = {after[urn].name for urn in after.keys() - before.keys()}
    assert differing == {"app-runtime-gcp-trigger"}, differing
    # The script's object and the template are replaced by new content-addressed objects, nothing else.
    assert len(removed) == len(added) == 2
    assert all(n.startswith("app-runtime-gcp-object-") for n in removed | added)


def test_shared_vpc_build_account_may_use_the_host_subnetwork(runs: dict[str, ProgramRun]) -> None:
    """Prod's subnetwork is in the Shared VPC host project: without compute.subnetworks.use there, Packer's
    instances.insert of the build VM is refused."""
    run = runs["prod"]
    for image in ("base-ubuntu", "app-runtime"):
        build = iam.account_email(iam.account_id("build", image, "prod"), "acme-golden-prod")
        member = one(run.resources, SUBNET_MEMBER, f"{image}-gcp-build-subnet-user").inputs
        assert member == {
            "project": "acme-net-host",
            "region": "us-central1",
            "subnetwork": "golden-build-us-central1",
            "role": "roles/compute.networkUser",
            "member": f"serviceAccount:{build}",
        }
        assert _template(run, image)["builders"][0]["network_project_id"] == "acme-net-host"
    assert len(by_type(run.resources, SUBNET_MEMBER)) == 2
    # Not a Shared VPC (the subnetwork is in the build project): nothing to grant.
    assert not by_type(runs["dev"].resources, SUBNET_MEMBER)


def test_the_trigger_waits_for_the_subnetwork_grant(tmp_path: Path, requests_seen: dict[str, Any]) -> None:
    seen = requests_seen
    run = _run(tmp_path, "prod")
    grant = one(run.resources, SUBNET_MEMBER, "base-ubuntu-gcp-build-subnet-user")
    assert grant.urn in seen["base-ubuntu-gcp-trigger"].dependencies


def test_build_images_are_dated_and_younger_than_a_year() -> None:
    """cloud-sdk deletes tags older than a year: a pin past that age is a bake that fails at its first pull.
    This test starts failing a year after a pin's date — re-pin (tag, date, digest) in platforms/gcp/spec.py then."""
    import datetime as dt

    assert stale_build_images(dt.date.today()) == []
    assert {DEFAULT_PACKER_IMAGE, DEFAULT_GCLOUD_IMAGE} == {pin.reference for pin in BUILD_IMAGE_PINS}
    for pin in BUILD_IMAGE_PINS:
        assert pin.published <= dt.date.today(), pin
        assert pin.digest is None or (pin.digest.startswith("sha256:") and len(pin.digest) == 71), pin
        # The date is checkable: the check fires exactly one year and one day after it.
        assert stale_build_images(pin.published + dt.timedelta(days=365), (pin,)) == []
        assert stale_build_images(pin.published + dt.timedelta(days=366), (pin,))


@pytest.mark.parametrize("stack", ["staging", "prod"])
def test_pinned_source_images_are_younger_than_a_year(stack: str) -> None:
    """Ubuntu's GCE image names carry their build date (``…-vYYYYMMDD``); a pin over a year old misses a year
    of security updates and nears obsoletion. Re-pin from
    ``gcloud compute images describe-from-family ubuntu-2404-lts-amd64 --project ubuntu-os-cloud``."""
    import datetime as dt
    import re

    source = gcp_catalog(stack)["defaults"]["gcp"]["source_image"]["image"]
    match = re.search(r"-v(\d{8})$", source)
    assert match, source
    built = dt.datetime.strptime(match.group(1), "%Y%m%d").date()
    assert dt.date.today() - built <= dt.timedelta(days=365), f"{stack}: {source} is from {built}"
