"""AzureGoldenImage under Pulumi mocks: assertions on the registered inputs of every Azure resource."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from golden_images.engine.model import RegisteredResource
from golden_images.preview.present import public_inputs
from golden_images.preview.runner import ProgramRun, run_program
from tests.components.limits import has_required_tags
from tests.conftest import ROOT, RunStack, by_type, one, stack_catalog

COMPONENT = "golden-images:index:AzureGoldenImage"
TEMPLATE = "azure-native:virtualmachineimages:VirtualMachineImageTemplate"
VERSION = "azure-native:compute:GalleryImageVersion"
GALLERY = "azure-native:compute:Gallery"
DEFINITION = "azure-native:compute:GalleryImage"
ROLE = "azure-native:authorization:RoleDefinition"
ASSIGNMENT = "azure-native:authorization:RoleAssignment"
IDENTITY = "azure-native:managedidentity:UserAssignedIdentity"
SCRIPT = "azure-native:resources:AzureCliScript"
RG = "azure-native:resources:ResourceGroup"
IMAGES = ("base-ubuntu", "app-runtime")
# RBAC objects (role definitions and assignments) have no tags in ARM.
UNTAGGABLE = {ROLE, ASSIGNMENT}

# Written out here, not imported: the test pins the documented least-privilege lists themselves.
DOCUMENTED_GALLERY_ACTIONS = [
    "Microsoft.Compute/galleries/read",
    "Microsoft.Compute/galleries/images/read",
    "Microsoft.Compute/galleries/images/versions/read",
]
# The write, only on the definition AIB distributes to.
DOCUMENTED_DEFINITION_ACTIONS = [
    "Microsoft.Compute/galleries/images/versions/read",
    "Microsoft.Compute/galleries/images/versions/write",
]
DOCUMENTED_NETWORK_ACTIONS = [
    "Microsoft.Network/virtualNetworks/read",
    "Microsoft.Network/virtualNetworks/subnets/join/action",
]
DOCUMENTED_RUNNER_ACTIONS = [
    "Microsoft.VirtualMachineImages/imageTemplates/read",
    "Microsoft.VirtualMachineImages/imageTemplates/run/action",
    "Microsoft.VirtualMachineImages/imageTemplates/runOutputs/read",
]


SUBSCRIPTIONS = {
    "dev": "11111111-1111-4111-8111-111111111111",
    "staging": "22222222-2222-4222-8222-222222222222",
    "prod": "33333333-3333-4333-8333-333333333333",
}
# What app-runtime (layered on base-ubuntu, #15) builds from: base-ubuntu's gallery image definition at the
# exact version the stack publishes (staging and prod publish 1.4.2 with customer keys and a waited bake),
# else at `latest` — dev publishes no exact version (AIB numbers it), so a dev child follows its parent.
CHILD_SOURCES = {
    "dev": "/subscriptions/11111111-1111-4111-8111-111111111111/resourceGroups/rg-golden-images-dev-base-ubuntu/"
    "providers/Microsoft.Compute/galleries/golden_images_dev_base_ubuntu/images/base-ubuntu/versions/latest",
    "staging": "/subscriptions/22222222-2222-4222-8222-222222222222/resourceGroups/rg-golden-images-staging/"
    "providers/Microsoft.Compute/galleries/golden_images_staging_base_ubuntu/images/base-ubuntu/versions/1.4.2",
    "prod": "/subscriptions/33333333-3333-4333-8333-333333333333/resourceGroups/rg-golden-images-prod/"
    "providers/Microsoft.Compute/galleries/golden_images_prod_base_ubuntu/images/base-ubuntu/versions/1.4.2",
}


def _rg(stack: str) -> str:
    """base-ubuntu's resource group: created per image in dev, the shared existing one elsewhere."""
    return "rg-golden-images-dev-base-ubuntu" if stack == "dev" else f"rg-golden-images-{stack}"


@pytest.fixture(scope="module")
def runs() -> dict[str, ProgramRun]:
    out = {stack: run_program(ROOT, stack) for stack in ("dev", "staging", "prod")}
    for run in out.values():
        assert run.error is None, run.error
    return out


def _azure(run: ProgramRun) -> list[RegisteredResource]:
    return [r for r in run.resources if r.type.startswith("azure-native:")]


def _children(run: ProgramRun, image: str) -> list[RegisteredResource]:
    component = one(run.resources, COMPONENT, f"{image}-azure")
    return [r for r in run.resources if r.parent == component.urn]


# staging and prod publish with customer-managed keys: a build runner (identity, script) and a published version.
CMK_TREE = {
    IDENTITY: 2,
    GALLERY: 1,
    DEFINITION: 2,
    ROLE: 4,
    ASSIGNMENT: 4,
    TEMPLATE: 1,
    SCRIPT: 1,
    VERSION: 1,
}
DEV_TREE = {RG: 1, IDENTITY: 1, GALLERY: 1, DEFINITION: 1, ROLE: 2, ASSIGNMENT: 2, TEMPLATE: 1}
# app-runtime is layered on base-ubuntu (#15): one more role (+ assignment) to read the parent's gallery.
LAYERED = {ROLE: 1, ASSIGNMENT: 1}


def _plus(tree: dict[str, int], extra: dict[str, int]) -> dict[str, int]:
    return {kind: count + extra.get(kind, 0) for kind, count in tree.items()}


@pytest.mark.parametrize(
    ("stack", "expected"),
    [
        ("dev", {"base-ubuntu": DEV_TREE, "app-runtime": _plus(DEV_TREE, LAYERED)}),
        ("staging", {"base-ubuntu": CMK_TREE, "app-runtime": _plus(CMK_TREE, LAYERED)}),
        ("prod", {"base-ubuntu": CMK_TREE, "app-runtime": _plus(CMK_TREE, LAYERED)}),
    ],
)
def test_tree_shape(runs: dict[str, ProgramRun], stack: str, expected: dict[str, dict[str, int]]) -> None:
    run = runs[stack]
    for image in IMAGES:
        component = one(run.resources, COMPONENT, f"{image}-azure")
        assert component.parent == one(run.resources, "golden-images:index:GoldenImage", image).urn
        children = _children(run, image)
        counts: dict[str, int] = {}
        for child in children:
            counts[child.type] = counts.get(child.type, 0) + 1
        assert counts == expected[image], image
        assert all(c.custom and c.name.startswith(f"{image}-azure-") for c in children)


@pytest.mark.parametrize("stack", ["dev", "staging", "prod"])
def test_roles_grant_exactly_the_documented_actions(runs: dict[str, ProgramRun], stack: str) -> None:
    run = runs[stack]
    for image in IMAGES:
        gallery_role = one(run.resources, ROLE, f"{image}-azure-gallery-role").inputs
        assert gallery_role["permissions"] == [{"actions": DOCUMENTED_GALLERY_ACTIONS, "notActions": []}]
        assert gallery_role["roleType"] == "CustomRole"
        # Assigned on this image's gallery only, to the AIB identity.
        assignment = one(run.resources, ASSIGNMENT, f"{image}-azure-gallery-role-assignment").inputs
        assert assignment["scope"] == f"{image}-azure-gallery-id"
        assert assignment["principalType"] == "ServicePrincipal"
        identity = one(run.resources, IDENTITY, f"{image}-azure-identity")
        assert assignment["principalId"] == identity.outputs["principalId"]
        writer = one(run.resources, ROLE, f"{image}-azure-definition-role").inputs
        assert writer["permissions"] == [{"actions": DOCUMENTED_DEFINITION_ACTIONS, "notActions": []}]
        write_assignment = one(run.resources, ASSIGNMENT, f"{image}-azure-definition-role-assignment").inputs
        # With customer keys AIB writes only the build definition, never the published one consumers resolve.
        target = "build-definition" if stack != "dev" else "image-definition"
        assert write_assignment["scope"] == f"{image}-azure-{target}-id"
        assert write_assignment["principalId"] == identity.outputs["principalId"]
        roles = {r.name for r in by_type(_children(run, image), ROLE)}
        if image == "app-runtime":
            # Layered on base-ubuntu (#15): read-only on the parent's gallery, which is its AIB source.
            source = one(run.resources, ROLE, "app-runtime-azure-source-role").inputs
            assert source["permissions"] == [{"actions": DOCUMENTED_GALLERY_ACTIONS, "notActions": []}]
            assert source["assignableScopes"] == [
                f"/subscriptions/{SUBSCRIPTIONS[stack]}/resourceGroups/{_rg(stack)}"
            ]
            source_assignment = one(
                run.resources, ASSIGNMENT, "app-runtime-azure-source-role-assignment"
            ).inputs
            assert source_assignment["scope"] == (
                f"/subscriptions/{SUBSCRIPTIONS[stack]}/resourceGroups/{_rg(stack)}/providers/"
                f"Microsoft.Compute/galleries/golden_images_{stack}_base_ubuntu"
            )
            assert source_assignment["principalType"] == "ServicePrincipal"
            assert source_assignment["principalId"] == identity.outputs["principalId"]
        if stack == "dev":
            # no subnet, no runner; base-ubuntu's source is the marketplace (nothing to read outside its gallery)
            expected = {f"{image}-azure-gallery-role", f"{image}-azure-definition-role"}
            if image == "app-runtime":
                expected.add("app-runtime-azure-source-role")
            assert roles == expected
            continue
        expected = {f"{image}-azure-{p}-role" for p in ("gallery", "definition", "network", "runner")}
        if image == "app-runtime":
            expected.add("app-runtime-azure-source-role")
        assert roles == expected
        network = one(run.resources, ROLE, f"{image}-azure-network-role").inputs
        assert network["permissions"] == [{"actions": DOCUMENTED_NETWORK_ACTIONS, "notActions": []}]
        net_assignment = one(run.resources, ASSIGNMENT, f"{image}-azure-network-role-assignment").inputs
        assert net_assignment["scope"].endswith(f"/virtualNetworks/vnet-build-{stack}")
        assert network["assignableScopes"] == [net_assignment["scope"].split("/providers/")[0]]
        runner = one(run.resources, ROLE, f"{image}-azure-runner-role").inputs
        assert runner["permissions"] == [{"actions": DOCUMENTED_RUNNER_ACTIONS, "notActions": []}]
        runner_assignment = one(run.resources, ASSIGNMENT, f"{image}-azure-runner-role-assignment").inputs
        assert runner_assignment["scope"] == f"{image}-azure-template-id"
        assert (
            runner_assignment["principalId"]
            == one(run.resources, IDENTITY, f"{image}-azure-runner-identity").outputs["principalId"]
        )


@pytest.mark.parametrize("stack", ["dev", "staging", "prod"])
def test_template_source_is_pinned(runs: dict[str, ProgramRun], stack: str) -> None:
    run = runs[stack]
    assert len(by_type(run.resources, TEMPLATE)) == 2
    # The root image starts from the pinned marketplace image.
    base = one(run.resources, TEMPLATE, "base-ubuntu-azure-template")
    assert base.inputs["source"] == {
        "type": "PlatformImage",
        "publisher": "Canonical",
        "offer": "ubuntu-24_04-lts",
        "sku": "server",
        "version": "24.04.202609040",
    }
    # The layered child starts from the parent's output, and its record names exactly that source.
    child = one(run.resources, TEMPLATE, "app-runtime-azure-template")
    assert child.inputs["source"] == {"type": "SharedImageVersion", "imageVersionId": CHILD_SOURCES[stack]}
    assert run.outputs["images"]["app-runtime"]["parent"]["azure"] == CHILD_SOURCES[stack]
    if stack == "dev":
        # Nothing pins base-ubuntu's version in dev: no published version exists to wait for.
        assert by_type(run.resources, VERSION) == []
    else:
        # The exact version it reads is the one base-ubuntu publishes in this stack; the template waits for it.
        parent_version = one(run.resources, VERSION, "base-ubuntu-azure-version")
        assert parent_version.inputs["galleryImageVersionName"] == "1.4.2"
        assert parent_version.urn in child.dependencies


@pytest.mark.parametrize("stack", ["staging", "prod"])
def test_every_target_region_of_every_published_version_has_a_des(
    runs: dict[str, ProgramRun], stack: str
) -> None:
    catalog = stack_catalog(stack)
    des = catalog["defaults"]["azure"]["disk_encryption_sets"]
    replication = [r["region"] for r in catalog["defaults"]["azure"]["replication"]]
    versions = by_type(runs[stack].resources, VERSION)
    assert len(versions) == 2
    for version in versions:
        regions = version.inputs["publishingProfile"]["targetRegions"]
        assert [r["name"] for r in regions] == replication
        for region in regions:
            assert region["encryption"]["osDiskImage"]["diskEncryptionSetId"] == des[region["name"]]
        image = version.name.removesuffix("-azure-version")
        assert version.inputs["galleryImageVersionName"] == next(
            i["version"] for i in catalog["images"] if i["name"] == image
        )
        # Gallery image versions: three dot-separated 32-bit integers (Azure's documented format).
        assert version.inputs["galleryImageVersionName"] in {"1.4.2", "2.1.0"}
        # Published into the public definition, copied from the build definition's output.
        assert version.inputs["galleryImageName"] == image
        assert version.custom_timeouts.get("create")


@pytest.mark.parametrize("stack", ["staging", "prod"])
def test_cmk_template_writes_only_the_build_definition(runs: dict[str, ProgramRun], stack: str) -> None:
    run = runs[stack]
    for image in IMAGES:
        template = one(run.resources, TEMPLATE, f"{image}-azure-template").inputs
        (distribute,) = template["distribute"]
        assert distribute["galleryImageId"] == f"{image}-azure-build-definition-id"
        assert distribute["excludeFromLatest"] is True
        assert distribute["targetRegions"] == [
            {"name": "westeurope", "replicaCount": 1, "storageAccountType": "Standard_LRS"}
        ]
        assert template["autoRun"] == {"state": "Disabled"}  # the runner runs it and waits
        assert template["vmProfile"]["vnetConfig"]["subnetId"].endswith("/subnets/snet-image-builder")
        build = one(run.resources, DEFINITION, f"{image}-azure-build-definition").inputs
        published = one(run.resources, DEFINITION, f"{image}-azure-image-definition").inputs
        assert build["identifier"]["sku"] == published["identifier"]["sku"] + "-build"
        script = one(run.resources, SCRIPT, f"{image}-azure-build").inputs
        env = {e["name"]: e["value"] for e in script["environmentVariables"]}
        assert env["GI_TEMPLATE"] == template["imageTemplateName"] == script["forceUpdateTag"]
        assert env["GI_RUN_OUTPUT"] == distribute["runOutputName"]
        assert "az image builder run" in script["scriptContent"]


def test_dev_publishes_directly_with_platform_keys(runs: dict[str, ProgramRun]) -> None:
    run = runs["dev"]
    assert by_type(run.resources, VERSION) == [] and by_type(run.resources, SCRIPT) == []
    for image in IMAGES:
        template = one(run.resources, TEMPLATE, f"{image}-azure-template").inputs
        (distribute,) = template["distribute"]
        assert distribute["galleryImageId"] == f"{image}-azure-image-definition-id"
        assert distribute["excludeFromLatest"] is False
        assert distribute["targetRegions"] == [
            {"name": "westeurope", "replicaCount": 1, "storageAccountType": "Standard_LRS"}
        ]
        assert distribute["versioning"] == {
            "scheme": "Latest",
            "major": int(template["tags"]["image-version"][0]),
        }
        assert template["autoRun"] == {"state": "Disabled"}  # bake_on_up: false
        assert "vnetConfig" not in template["vmProfile"]
        group = one(run.resources, RG, f"{image}-azure-resource-group").inputs
        assert group["resourceGroupName"] == f"rg-golden-images-dev-{image}"


@pytest.mark.parametrize("stack", ["dev", "staging", "prod"])
def test_template_identity_profile_and_error_handling(runs: dict[str, ProgramRun], stack: str) -> None:
    run = runs[stack]
    for image in IMAGES:
        template = one(run.resources, TEMPLATE, f"{image}-azure-template").inputs
        assert template["identity"] == {
            "type": "UserAssigned",
            "userAssignedIdentities": [f"{image}-azure-identity-id"],
        }
        assert template["errorHandling"] == {"onCustomizerError": "cleanup", "onValidationError": "cleanup"}
        assert template["buildTimeoutInMinutes"] == (300 if stack == "prod" else 240)
        assert template["vmProfile"]["osDiskSizeGB"] == (30 if image == "base-ubuntu" else 40)
        assert template["imageTemplateName"].startswith(f"{image}-{stack}-")
        assert template["distribute"][0]["artifactTags"]["golden-image"] == image
        gallery = one(run.resources, GALLERY, f"{image}-azure-gallery").inputs
        assert gallery["sharingProfile"] == {"permissions": "Private"}
        assert gallery["galleryName"] == f"golden_images_{stack}_{image.replace('-', '_')}"
        definition = one(run.resources, DEFINITION, f"{image}-azure-image-definition").inputs
        assert definition["features"] == [{"name": "SecurityType", "value": "TrustedLaunchSupported"}]
        assert (definition["hyperVGeneration"], definition["architecture"], definition["osType"]) == (
            "V2",
            "x64",
            "Linux",
        )


def test_customizers_and_validators_come_from_the_steps(runs: dict[str, ProgramRun]) -> None:
    template = one(runs["dev"].resources, TEMPLATE, "base-ubuntu-azure-template").inputs
    names = [c["name"] for c in template["customize"]]
    assert names == [
        "provision-01-base-packages",
        "provision-02-harden",
        "provision-03-sshd-config",
        "provision-04-cleanup",
        "validate-01-sshd-syntax",
    ]
    assert all(
        c["type"] == "Shell" and c["inline"][0].startswith("sudo -n bash -euo pipefail")
        for c in template["customize"]
    )
    sshd = template["customize"][2]["inline"][0]
    assert (
        "sha256sum --check" in sshd
        and "197a4349874d1617167e92081bd6657c3819c3bf22cc208d548258c7a430fe4e" in sshd
    )
    harden = (ROOT / "images/base-ubuntu/harden.sh").read_text()
    assert harden.strip().splitlines()[-1] in template["customize"][1]["inline"][0]
    validations = template["validate"]["inVMValidations"]
    assert [v["name"] for v in validations] == ["test-01-services-up", "test-02-no-root-password"]
    assert template["validate"]["continueDistributeOnFailure"] is False


@pytest.mark.parametrize("stack", ["dev", "staging", "prod"])
def test_every_taggable_resource_carries_the_canonical_tags(runs: dict[str, ProgramRun], stack: str) -> None:
    run = runs[stack]
    records = run.outputs["images"]
    for resource in _azure(run):
        if resource.type in UNTAGGABLE:
            continue
        image = next(i for i in IMAGES if resource.name.startswith(f"{i}-"))
        assert resource.inputs["tags"] == records[image]["tags"], resource.name
        assert has_required_tags(resource.inputs["tags"]), resource.name
    for template in by_type(run.resources, TEMPLATE):
        assert template.inputs["managedResourceTags"] == template.inputs["tags"]


@pytest.mark.parametrize("stack", ["dev", "staging", "prod"])
def test_version_record(runs: dict[str, ProgramRun], stack: str) -> None:
    record = runs[stack].outputs["images"]["base-ubuntu"]
    artifacts: dict[str, Any] = record["artifacts"]["azure"]
    assert artifacts["gallery_image_id"] == "base-ubuntu-azure-image-definition-id"
    assert artifacts["gallery"] == f"golden_images_{stack}_base_ubuntu"
    assert artifacts["template"].startswith(f"base-ubuntu-{stack}-")
    assert record["parent"]["azure"] == "Canonical:ubuntu-24_04-lts:server:24.04.202609040"
    if stack == "dev":
        assert record["encryption"]["azure"] == "platform-default"
        assert artifacts["version_id"] is None and artifacts["version_name"] is None
        assert artifacts["resolve"].startswith(
            "az image builder show-runs --resource-group rg-golden-images-dev-"
        )
        assert artifacts["run_output"] in artifacts["resolve"]
    else:
        assert record["encryption"]["azure"] == "enforced"
        assert artifacts["version_id"] == "base-ubuntu-azure-version-id"
        assert artifacts["version_name"] == "1.4.2" and artifacts["resolve"] is None


def _azure_inputs(run: ProgramRun) -> dict[str, dict[str, object]]:
    assert run.error is None, run.error
    return {r.name: public_inputs(r) for r in run.resources if "azure" in r.name}


def test_unchanged_spec_gives_identical_inputs(runs: dict[str, ProgramRun]) -> None:
    first = _azure_inputs(runs["staging"])
    second = _azure_inputs(run_program(ROOT, "staging"))
    assert first == second and len(first) >= 30


def test_script_change_replaces_only_the_affected_template(tmp_path: Path) -> None:
    for name in ("Pulumi.yaml", "__main__.py"):
        shutil.copy2(ROOT / name, tmp_path / name)
    for folder in ("stacks", "images"):
        shutil.copytree(ROOT / folder, tmp_path / folder)
    before = _azure_inputs(run_program(tmp_path, "staging"))
    script = tmp_path / "images/app-runtime/install-runtime.sh"  # used by app-runtime only
    script.write_text(script.read_text() + "echo 'runtime tuned' >/etc/motd\n")
    after = _azure_inputs(run_program(tmp_path, "staging"))
    assert before.keys() == after.keys()
    changed = {name for name in before if before[name] != after[name]}
    # The template (new fingerprinted name: a replacement) and the runner that builds it; nothing of base-ubuntu.
    assert changed == {"app-runtime-azure-template", "app-runtime-azure-build"}
    name_before = before["app-runtime-azure-template"]["imageTemplateName"]
    name_after = after["app-runtime-azure-template"]["imageTemplateName"]
    assert name_before != name_after
    assert isinstance(name_after, str) and name_after.startswith("app-runtime-staging-")


# --- Service rules no schema shows ---------------------------------------------------------------------------


@pytest.mark.parametrize("stack", ["staging", "prod"])
def test_runner_is_kept_as_long_as_the_service_allows(runs: dict[str, ProgramRun], stack: str) -> None:
    from golden_images.platforms.azure.component import RUNNER_SCRIPT

    for image in IMAGES:
        script = one(runs[stack].resources, SCRIPT, f"{image}-azure-build").inputs
        assert script["retentionInterval"] == "PT26H"  # deploymentScripts: 1 to 26 hours
        assert script["cleanupPreference"] == "OnSuccess"
        assert script["scriptContent"] == RUNNER_SCRIPT


def _run_runner(tmp_path: Path, existing: str) -> tuple[subprocess.CompletedProcess[str], list[str], str]:
    """Run the runner with a stand-in ``az`` that records its calls: ``show-runs`` answers ``existing``
    until ``run`` happened, then the new artifact."""
    from golden_images.platforms.azure.component import RUNNER_SCRIPT

    log, out, state = tmp_path / "calls", tmp_path / "out.json", tmp_path / "ran"
    fake = tmp_path / "az"
    fake.write_text(
        "#!/bin/bash\n"
        f'echo "$*" >> {log}\n'
        f'if [ "$3" = "run" ]; then touch {state}; exit 0; fi\n'
        f'if [ "$3" = "show-runs" ]; then\n'
        f"  if [ -e {state} ]; then echo /subscriptions/s/versions/new; "
        'elif [ -n "$EXISTING" ]; then echo "$EXISTING"; else echo "ResourceNotFound" >&2; exit 3; fi\n'
        "fi\n"
    )
    fake.chmod(0o755)
    env = {
        "PATH": f"{tmp_path}:/usr/bin:/bin",
        "GI_RESOURCE_GROUP": "rg",
        "GI_TEMPLATE": "t",
        "GI_RUN_OUTPUT": "o",
        "AZ_SCRIPTS_OUTPUT_PATH": str(out),
        "EXISTING": existing,
    }
    done = subprocess.run(["bash", "-c", RUNNER_SCRIPT], env=env, capture_output=True, text=True, check=False)
    calls = log.read_text().splitlines() if log.exists() else []
    return done, calls, out.read_text() if out.exists() else ""


def test_recreated_runner_reports_the_existing_artifact_without_building(tmp_path: Path) -> None:
    """After the service deleted the script resource and a refresh dropped it, the next up recreates it: it
    must not build again (hours, and a new artifact the published version would be refused for)."""
    done, calls, out = _run_runner(tmp_path, "/subscriptions/s/versions/old")
    assert done.returncode == 0, done.stderr
    assert not any(c.split()[:3] == ["image", "builder", "run"] for c in calls), calls
    assert json.loads(out) == {"artifactId": "/subscriptions/s/versions/old"}


def test_first_runner_builds_once_and_reports_the_new_artifact(tmp_path: Path) -> None:
    done, calls, out = _run_runner(tmp_path, "")
    assert done.returncode == 0, done.stderr
    assert [c for c in calls if c.split()[:3] == ["image", "builder", "run"]] == [
        "image builder run --resource-group rg --name t"
    ]
    assert json.loads(out) == {"artifactId": "/subscriptions/s/versions/new"}


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_version_holders_are_retained_on_delete(
    run_stack: Any, requests_seen: dict[str, Any], stack: str
) -> None:
    """Galleries and definitions that hold versions cannot be deleted (CannotDeleteResource): removing an
    image or destroying the stack leaves them (and a created resource group) instead of failing."""
    run = run_stack(stack)
    assert run.error is None
    for image in IMAGES:
        held = [f"{image}-azure-gallery", f"{image}-azure-image-definition"]
        if stack == "dev":
            held.append(f"{image}-azure-resource-group")
        else:
            held += [f"{image}-azure-build-definition", f"{image}-azure-version"]
        for name in held:
            assert requests_seen[name].retainOnDelete is True, name
        # Everything else is deleted normally (the template, identities, roles).
        assert requests_seen[f"{image}-azure-template"].retainOnDelete is False


def test_role_definitions_wait_for_the_resource_group_they_are_scoped_to(
    run_stack: Any, requests_seen: dict[str, Any]
) -> None:
    run = run_stack("dev")
    # dev creates one group per image; a role may be scoped to another image's group (app-runtime's
    # source-role reads base-ubuntu's gallery, #15): it must wait for the group its scope names.
    created = [one(run.resources, RG, f"{image}-azure-resource-group") for image in IMAGES]
    groups = {group.inputs["resourceGroupName"]: group for group in created}
    for image in IMAGES:
        for role in by_type(_children(run, image), ROLE):
            (scope,) = role.inputs["assignableScopes"]
            named = scope.rsplit("/resourceGroups/", 1)[1]
            assert named in groups, (role.name, scope)
            expected = (
                "rg-golden-images-dev-base-ubuntu"
                if role.name == "app-runtime-azure-source-role"
                else f"rg-golden-images-dev-{image}"
            )
            assert named == expected, role.name
            assert groups[named].urn in requests_seen[role.name].dependencies, role.name


GALLERY_SOURCE = (
    "/subscriptions/22222222-2222-4222-8222-222222222222/resourceGroups/rg-images/providers/"
    "Microsoft.Compute/galleries/gal_base/images/rocky9/versions/1.2.3"
)


def test_build_from_a_gallery_image_version(run_stack: RunStack) -> None:
    """A gallery source: the template reads that exact version, the build identity gets a read-only role on
    the source gallery (not its subscription or resource group), and the record names the version."""
    raw = stack_catalog("dev")
    raw["defaults"]["azure"]["source"] = {"gallery_image_version_id": GALLERY_SOURCE}
    run = run_stack("dev", raw)
    assert run.error is None, run.error
    # base-ubuntu takes the default source; app-runtime is layered on base-ubuntu (#15), not on this one.
    for image in ("base-ubuntu",):
        template = one(run.resources, TEMPLATE, f"{image}-azure-template").inputs
        assert template["source"] == {"type": "SharedImageVersion", "imageVersionId": GALLERY_SOURCE}
        role = one(run.resources, ROLE, f"{image}-azure-source-role").inputs
        assert role["permissions"] == [
            {
                "actions": [
                    "Microsoft.Compute/galleries/read",
                    "Microsoft.Compute/galleries/images/read",
                    "Microsoft.Compute/galleries/images/versions/read",
                ],
                "notActions": [],
            }
        ]
        assignment = one(run.resources, ASSIGNMENT, f"{image}-azure-source-role-assignment").inputs
        assert assignment["scope"] == (
            "/subscriptions/22222222-2222-4222-8222-222222222222/resourceGroups/rg-images/providers/"
            "Microsoft.Compute/galleries/gal_base"
        )
        assert assignment["principalType"] == "ServicePrincipal"
        assert run.outputs["images"][image]["parent"]["azure"] == GALLERY_SOURCE
    # From the marketplace, base-ubuntu has no source role (nothing to read outside its own gallery).
    marketplace = run_stack("dev")
    assert not [r for r in marketplace.resources if r.name == "base-ubuntu-azure-source-role"]
