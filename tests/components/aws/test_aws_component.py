"""AwsGoldenImage under Pulumi mocks: assertions on the registered inputs of every Image Builder resource."""

from __future__ import annotations

import json
import re

import pytest

from golden_images.preview.runner import ProgramRun
from tests.conftest import RunStack, by_type, one, stack_catalog

IB = "aws:imagebuilder"
RECIPE = f"{IB}/imageRecipe:ImageRecipe"
COMPONENT = f"{IB}/component:Component"
DISTRIBUTION = f"{IB}/distributionConfiguration:DistributionConfiguration"
INFRA = f"{IB}/infrastructureConfiguration:InfrastructureConfiguration"
PIPELINE = f"{IB}/imagePipeline:ImagePipeline"
LIFECYCLE = f"{IB}/lifecyclePolicy:LifecyclePolicy"
IMAGE = f"{IB}/image:Image"

# Written out from stacks/Pulumi.<stack>.yaml and the AWS docs, not taken from the code under test: the
# customer key each stack's recipes and components must use, the image versions, the managed policies the
# Image Builder instance and lifecycle roles need, and the tag keys every taggable resource carries.
CMK = {
    "dev": "arn:aws:kms:us-east-1:111111111111:alias/golden-images-dev",
    "staging": "arn:aws:kms:us-east-1:222222222222:alias/golden-images-staging",
    "prod": "arn:aws:kms:us-east-1:333333333333:alias/golden-images-prod",
}
VERSIONS = {"base-ubuntu-aws-recipe": "1.4.2", "app-runtime-aws-recipe": "2.1.0"}
MANAGED_POLICY_ARNS = [
    "arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore",
    "arn:aws:iam::aws:policy/EC2InstanceProfileForImageBuilder",
    "arn:aws:iam::aws:policy/service-role/EC2ImageBuilderLifecycleExecutionPolicy",
]
REQUIRED_TAG_KEYS = {
    "cost-center",
    "data-classification",
    "environment",
    "golden-image",
    "image-version",
    "managed-by",
    "owner",
}


@pytest.fixture(scope="module", params=["dev", "staging", "prod"])
def stack_run(request: pytest.FixtureRequest) -> ProgramRun:
    from golden_images.preview.runner import run_program
    from tests.conftest import ROOT

    run = run_program(ROOT, request.param)
    assert run.error is None
    return run


def test_tree_shape(stack_run: ProgramRun) -> None:
    resources = stack_run.resources
    for image in ("base-ubuntu", "app-runtime"):
        golden = one(resources, "golden-images:index:GoldenImage", image)
        aws_component = one(resources, "golden-images:index:AwsGoldenImage", f"{image}-aws")
        assert aws_component.parent == golden.urn
        expected = {
            COMPONENT: 1,
            RECIPE: 1,
            INFRA: 1,
            DISTRIBUTION: 1,
            PIPELINE: 1,
            LIFECYCLE: 1,
            "aws:iam/role:Role": 2,
            "aws:iam/instanceProfile:InstanceProfile": 1,
            "aws:iam/rolePolicyAttachment:RolePolicyAttachment": 3,
            "aws:iam/rolePolicy:RolePolicy": 1,
        }
        children = [r for r in resources if r.parent == aws_component.urn]
        counts = {t: sum(1 for r in children if r.type == t) for t in expected}
        assert counts == expected
        assert all(r.custom for r in children)


def test_recipes_encrypt_every_mapping_with_a_customer_key(stack_run: ProgramRun) -> None:
    for recipe in by_type(stack_run.resources, RECIPE):
        mappings = recipe.inputs["blockDeviceMappings"]
        assert mappings, recipe.name
        for mapping in mappings:
            ebs = mapping["ebs"]
            assert ebs["encrypted"] == "true"
            assert ebs["kmsKeyId"] == CMK[stack_run.stack]
            assert ebs["volumeType"] == "gp3"
        assert recipe.inputs["version"] == VERSIONS[recipe.name]


def test_distribution_has_a_key_in_every_region_and_is_never_public(stack_run: ProgramRun) -> None:
    catalog = stack_catalog(stack_run.stack)
    regions = catalog["defaults"]["aws"]["regions"]
    for dist in by_type(stack_run.resources, DISTRIBUTION):
        entries = dist.inputs["distributions"]
        assert [e["region"] for e in entries] == regions
        for entry in entries:
            ami = entry["amiDistributionConfiguration"]
            assert ami["kmsKeyId"] == catalog["defaults"]["aws"]["kms_keys"][entry["region"]]
            assert ami["amiTags"]["managed-by"] == "golden-images"
            permission = ami.get("launchPermission") or {}
            assert "all" not in [g.lower() for g in permission.get("userGroups", [])]
            assert entry["ssmParameterConfigurations"][0]["dataType"] == "aws:ec2:image"
        sharing = catalog["defaults"]["aws"].get("sharing")
        first = entries[0]["amiDistributionConfiguration"]
        if sharing:
            assert first["launchPermission"]["organizationalUnitArns"] == sharing["organizational_units"]
        else:
            assert "launchPermission" not in first


def test_infrastructure_requires_imdsv2_and_terminates_on_failure(stack_run: ProgramRun) -> None:
    for infra in by_type(stack_run.resources, INFRA):
        assert infra.inputs["instanceMetadataOptions"]["httpTokens"] == "required"
        assert infra.inputs["terminateInstanceOnFailure"] is True
        assert infra.inputs["resourceTags"]["golden-image"] in ("base-ubuntu", "app-runtime")


def test_pipelines_test_and_scan(stack_run: ProgramRun) -> None:
    catalog = stack_catalog(stack_run.stack)
    schedule = catalog["defaults"]["aws"].get("schedule")
    for pipeline in by_type(stack_run.resources, PIPELINE):
        assert pipeline.inputs["imageTestsConfiguration"]["imageTestsEnabled"] is True
        assert pipeline.inputs["imageScanningConfiguration"]["imageScanningEnabled"] is True
        assert pipeline.inputs["enhancedImageMetadataEnabled"] is True
        if schedule:
            assert pipeline.inputs["schedule"]["scheduleExpression"] == schedule["cron"]
            # A pinned (or SSM) parent: dependency updates would never start it. The layered app-runtime
            # also runs when its parent base-ubuntu publishes a new version.
            expected = (
                "EXPRESSION_MATCH_AND_DEPENDENCY_UPDATES_AVAILABLE"
                if pipeline.name == "app-runtime-aws-pipeline"
                else "EXPRESSION_MATCH_ONLY"
            )
            assert pipeline.inputs["schedule"]["pipelineExecutionStartCondition"] == expected
        else:
            assert "schedule" not in pipeline.inputs


def test_components_use_customer_key_and_are_retained(stack_run: ProgramRun) -> None:
    for component in by_type(stack_run.resources, COMPONENT):
        assert component.inputs["kmsKeyId"] == CMK[stack_run.stack]
        assert component.inputs["skipDestroy"] is True
        assert component.inputs["platform"] == "Linux"
        assert "phases" in component.inputs["data"]


def test_iam_is_limited_to_documented_policies(stack_run: ProgramRun) -> None:
    attachments = by_type(stack_run.resources, "aws:iam/rolePolicyAttachment:RolePolicyAttachment")
    arns = sorted({a.inputs["policyArn"] for a in attachments})
    assert arns == MANAGED_POLICY_ARNS
    for inline in by_type(stack_run.resources, "aws:iam/rolePolicy:RolePolicy"):
        document = json.loads(inline.inputs["policy"])
        actions = [a for s in document["Statement"] for a in s["Action"]]
        assert actions == ["kms:Decrypt"]
    for role in by_type(stack_run.resources, "aws:iam/role:Role"):
        trust = json.loads(role.inputs["assumeRolePolicy"])
        services = {s["Principal"]["Service"] for s in trust["Statement"]}
        assert services <= {"ec2.amazonaws.com", "imagebuilder.amazonaws.com"}


def test_lifecycle_keeps_and_deprecates(stack_run: ProgramRun) -> None:
    retention = stack_catalog(stack_run.stack)["defaults"]["aws"]["retention"]
    for policy in by_type(stack_run.resources, LIFECYCLE):
        details = {d["action"]["type"]: d["filter"] for d in policy.inputs["policyDetails"]}
        assert details["DEPRECATE"] == {
            "type": "AGE",
            "value": retention["deprecate_after_days"],
            "unit": "DAYS",
            "retainAtLeast": retention["keep"],
        }
        assert details["DELETE"] == {"type": "COUNT", "value": retention["keep"]}
        assert "tagMap" not in policy.inputs["resourceSelection"]


def test_tags_on_every_taggable_aws_resource(stack_run: ProgramRun) -> None:
    for resource in stack_run.resources:
        if resource.type.startswith("aws:") and "tags" in resource.inputs:
            assert set(resource.inputs["tags"]) >= REQUIRED_TAG_KEYS, resource.name
            assert all(str(resource.inputs["tags"][k]).strip() for k in REQUIRED_TAG_KEYS), resource.name
            assert resource.inputs["tags"]["environment"] == stack_run.stack
    taggable = [
        r for r in stack_run.resources if r.type.startswith(f"{IB}/") or r.type == "aws:iam/role:Role"
    ]
    assert all("tags" in r.inputs for r in taggable)


CANONICAL_UBUNTU = "/aws/service/canonical/ubuntu/server/24.04/stable/current/amd64/hvm/ebs-gp3/ami-id"


def test_parents_pinned_in_staging_and_prod_floating_in_dev(stack_run: ProgramRun) -> None:
    """staging/prod recipes name an exact AMI (the pin); dev follows Canonical's SSM parameter on purpose,
    written out as Image Builder's ``ssm:`` parent form."""
    recipes = by_type(stack_run.resources, RECIPE)
    assert len(recipes) == 2
    for recipe in recipes:
        parent = recipe.inputs["parentImage"]
        if recipe.name == "app-runtime-aws-recipe":
            # Layered: built from base-ubuntu's own Image Builder image of this stack (exact version).
            assert re.fullmatch(
                rf"arn:aws:imagebuilder:us-east-1:123456789012:image/base-ubuntu-{stack_run.stack}-[0-9a-f]{{10}}/1\.4\.2",
                parent,
            ), parent
        elif stack_run.stack == "dev":
            assert parent == f"ssm:{CANONICAL_UBUNTU}", recipe.name
        else:
            assert parent.startswith("ami-") and len(parent) == len("ami-0123456789abcdef0"), recipe.name


def test_no_build_without_bake_on_up(stack_run: ProgramRun) -> None:
    assert by_type(stack_run.resources, IMAGE) == []
    records = stack_run.outputs["images"]
    assert (
        records["base-ubuntu"]["artifacts"]["aws"]["us-east-1"]
        == f"ssm:/golden-images/{stack_run.stack}/base-ubuntu/ami-id"
    )
    assert records["base-ubuntu"]["encryption"]["aws"] == "enforced"


def test_bake_on_up_adds_a_build_with_a_long_timeout(run_stack: RunStack) -> None:
    raw = stack_catalog("dev")
    raw["images"][0]["aws"]["bake_on_up"] = True
    raw["images"][0]["aws"]["build_timeout_minutes"] = 240
    run = run_stack("dev", raw)
    images = by_type(run.resources, IMAGE)
    assert [i.name for i in images] == ["base-ubuntu-aws-image"]
    assert images[0].custom_timeouts == {"create": "300m"}
    assert images[0].inputs["imageTestsConfiguration"]["imageTestsEnabled"] is True
    assert images[0].inputs["imageScanningConfiguration"]["imageScanningEnabled"] is True


def test_project_bake_on_up_config(run_stack: RunStack) -> None:
    run = run_stack("dev", extra={"golden-images:bakeOnUp": True})
    assert len(by_type(run.resources, IMAGE)) == 2


# --- explicit parents and a dnf family ---------------------------------------------------------------------

ROCKY_ARN = "arn:aws:imagebuilder:us-east-1:aws:image/rocky-linux-9-x86/2024.11.1"


def _rocky_dev() -> dict[str, object]:
    """dev with base-ubuntu rebuilt on Rocky 9 from an exact AMI, app-runtime from an exact Image Builder
    image ARN (the two parent forms the shipped stacks never use)."""
    raw = stack_catalog("dev")
    base, app = raw["images"]
    base["os"] = {"family": "rocky", "release": "9", "architecture": "x86_64", "lts": True}
    base["provision"] = [
        {"name": "base-packages", "packages": ["audit", "chrony"]},
        {"name": "cleanup", "script": "images/base-ubuntu/cleanup.sh"},
    ]
    base.pop("validate", None)
    base["aws"] = {"parent": {"ssm_parameter": None, "ami": "ami-0123456789abcdef0"}}
    app["aws"] = {"parent": {"ssm_parameter": None, "image_builder_arn": ROCKY_ARN}}
    for platform in ("gcp", "azure", "proxmox"):  # not layered on the (now Rocky) base anywhere
        if isinstance(app.get(platform), dict):
            app[platform].pop("parent", None)
    return raw


def test_explicit_ami_and_image_builder_arn_parents_reach_the_recipe_and_the_record(
    run_stack: RunStack,
) -> None:
    run = run_stack("dev", _rocky_dev())
    assert run.error is None, run.error
    parents = {r.name: r.inputs["parentImage"] for r in by_type(run.resources, RECIPE)}
    assert parents == {"base-ubuntu-aws-recipe": "ami-0123456789abcdef0", "app-runtime-aws-recipe": ROCKY_ARN}
    records = run.outputs["images"]
    assert records["base-ubuntu"]["parent"]["aws"] == "ami-0123456789abcdef0"
    assert records["app-runtime"]["parent"]["aws"] == ROCKY_ARN


def _build_scripts(document: str) -> list[str]:
    """The script each build step of an AWSTOE document runs, decoded from its base64 heredoc."""
    import base64

    import yaml

    build = next(p for p in yaml.safe_load(document)["phases"] if p["name"] == "build")
    scripts = []
    for step in build["steps"]:
        body = step["inputs"]["commands"][-1]
        encoded = body.split("<<'GOLDEN_IMAGES_B64'\n", 1)[1].split("GOLDEN_IMAGES_B64", 1)[0]
        scripts.append(base64.b64decode("".join(encoded.split())).decode())
    return scripts


def test_dnf_family_installs_packages_with_dnf_not_apt(run_stack: RunStack) -> None:
    run = run_stack("dev", _rocky_dev())
    assert run.error is None, run.error
    rocky = _build_scripts(one(run.resources, COMPONENT, "base-ubuntu-aws-component").inputs["data"])
    assert rocky[0] == "dnf install -y audit chrony\n"
    # The Ubuntu image next to it still uses apt: the family decides, per image.
    ubuntu = _build_scripts(one(run.resources, COMPONENT, "app-runtime-aws-component").inputs["data"])
    assert ubuntu[0] == (
        "if command -v cloud-init >/dev/null 2>&1; then cloud-init status --wait >/dev/null || true; fi\n"
        "export DEBIAN_FRONTEND=noninteractive\n"
        "apt-get -o DPkg::Lock::Timeout=600 update -y\n"
        "apt-get -o DPkg::Lock::Timeout=600 install -y --no-install-recommends containerd runc\n"
    )
