"""The whole program per stack: determinism, change isolation, and the version record contract."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml

from golden_images.preview.present import public_inputs
from golden_images.preview.runner import ProgramRun, run_program
from tests.conftest import ROOT


def _inputs(run: ProgramRun) -> dict[str, dict[str, object]]:
    assert run.error is None, run.error
    return {r.urn: public_inputs(r) for r in run.resources}


def _copy_project(dst: Path) -> Path:
    for name in ("Pulumi.yaml", "__main__.py"):
        shutil.copy2(ROOT / name, dst / name)
    for folder in ("stacks", "images"):
        shutil.copytree(ROOT / folder, dst / folder)
    return dst


@pytest.mark.parametrize("stack", ["dev", "staging", "prod"])
def test_same_config_gives_identical_inputs(stack: str) -> None:
    first = _inputs(run_program(ROOT, stack))
    second = _inputs(run_program(ROOT, stack))
    assert first == second
    assert len(first) >= 30


def _changed(before: dict[str, dict[str, object]], after: dict[str, dict[str, object]]) -> set[str]:
    """URNs added, removed (content-addressed resources such as GCP bucket objects) or with new inputs."""
    return (before.keys() ^ after.keys()) | {u for u in before.keys() & after.keys() if before[u] != after[u]}


def test_script_change_touches_only_images_that_use_it(tmp_path: Path) -> None:
    root = _copy_project(tmp_path)
    before = _inputs(run_program(root, "staging"))

    # install-runtime.sh is used by app-runtime only.
    script = root / "images/app-runtime/install-runtime.sh"
    script.write_text(script.read_text() + "echo 'runtime tuned' >/etc/motd\n")
    after = _inputs(run_program(root, "staging"))
    changed = _changed(before, after)
    names = {urn.rsplit("::", 1)[-1] for urn in changed}
    # Only app-runtime's resources change, on every platform; base-ubuntu is untouched.
    assert changed and all("app-runtime" in urn for urn in changed), names
    aws_names = {n for n in names if n.startswith("app-runtime-aws")}
    assert aws_names == {
        "app-runtime-aws-component",
        "app-runtime-aws-recipe",
        "app-runtime-aws-pipeline",
        "app-runtime-aws-distribution",
        # The lifecycle policy selects the (content-named) recipe, so it follows the new recipe in place.
        "app-runtime-aws-lifecycle",
    }, aws_names
    # The component and recipe get new content-derived names (replacement, never "already exists").
    component = next(u for u in changed if u.endswith("app-runtime-aws-component"))
    assert before[component]["name"] != after[component]["name"]
    assert before[component]["version"] == after[component]["version"]

    # harden.sh is shared: both images' builder resources change, IAM and infrastructure do not.
    before = after
    shared = root / "images/base-ubuntu/harden.sh"
    shared.write_text(shared.read_text() + "echo hardened >/etc/issue.net\n")
    changed = _changed(before, _inputs(run_program(root, "staging")))
    names = {urn.rsplit("::", 1)[-1] for urn in changed}
    assert {
        "base-ubuntu-aws-component",
        "app-runtime-aws-component",
        "base-ubuntu-aws-recipe",
        "app-runtime-aws-recipe",
    } <= names
    assert not any("infrastructure" in n or "role" in n for n in names)
    # Lifecycle policies follow their image's new recipe (selection by recipe name), nothing else of them.
    assert {n for n in names if n.endswith("-lifecycle")} == {
        "base-ubuntu-aws-lifecycle",
        "app-runtime-aws-lifecycle",
    }


def test_version_record_contract() -> None:
    run = run_program(ROOT, "prod")
    assert run.error is None
    assert run.outputs["environment"] == "prod"
    record = run.outputs["images"]["base-ubuntu"]
    assert set(record) == {
        "name",
        "version",
        "fingerprint",
        "parent",
        "built_at",
        "artifacts",
        "encryption",
        "tags",
        "launch",
        "ancestry",
    }
    assert record["version"] == "1.4.2" and len(record["fingerprint"]) == 64
    # The root's chain is just its vendor source, as pinned.
    assert record["ancestry"]["aws"] == [{"vendor": "ami-0a1b2c3d4e5f60718"}]
    assert record["parent"]["aws"] == "ami-0a1b2c3d4e5f60718"
    assert set(record["artifacts"]["aws"]) == {"us-east-1", "eu-west-1", "eu-central-1"}
    assert set(record["encryption"]) == set(record["artifacts"]) == set(record["parent"])
    assert set(record["encryption"].values()) <= {
        "enforced",
        "verified",
        "attested",
        "platform-default",
        "none",
    }
    assert record["tags"]["environment"] == "prod" and record["tags"]["image-version"] == "1.4.2"
    golden = next(
        r for r in run.resources if r.type == "golden-images:index:GoldenImage" and r.name == "base-ubuntu"
    )
    assert golden.inputs["version"] == "1.4.2" and golden.inputs["os"]["lts"] is True
    # app-runtime is layered on base-ubuntu (#15): every platform's chain is that exact parent build (its
    # fingerprint is the parent record's), ending at the root's vendor source.
    runtime = run.outputs["images"]["app-runtime"]
    assert set(runtime["ancestry"]) == set(runtime["artifacts"]) == {"aws", "azure", "gcp", "proxmox"}
    parent = {
        "image": "base-ubuntu",
        "version": "1.4.2",
        "ref": "base-ubuntu@1.4.2",
        "fingerprint": record["fingerprint"],
    }
    assert runtime["ancestry"]["aws"] == [parent, {"vendor": "ami-0a1b2c3d4e5f60718"}]
    assert runtime["ancestry"]["azure"] == [
        parent,
        {"vendor": "Canonical:ubuntu-24_04-lts:server:24.04.202609040"},
    ]
    assert runtime["ancestry"]["gcp"] == [
        parent,
        {"vendor": "projects/ubuntu-os-cloud/global/images/ubuntu-2404-noble-amd64-v20260918"},
    ]
    assert runtime["ancestry"]["proxmox"][0] == parent
    assert runtime["ancestry"]["proxmox"][1]["vendor"].startswith(
        "https://cloud-images.ubuntu.com/releases/noble/release-20250610/"
    )
    assert runtime["parent"]["aws"] == "base-ubuntu@1.4.2"


def test_missing_platform_config_refused_before_anything_registers(tmp_path: Path) -> None:
    document = yaml.safe_load((ROOT / "stacks" / "Pulumi.dev.yaml").read_text())
    del document["config"]["golden-images:proxmoxEndpoint"]
    stack_file = tmp_path / "Pulumi.dev.yaml"
    stack_file.write_text(yaml.safe_dump(document))
    run = run_program(ROOT, "dev", stack_file=stack_file)
    assert run.error is not None
    assert (
        "stacks/Pulumi.dev.yaml: config.golden-images:proxmoxEndpoint: required by the proxmox sections"
        in str(run.error)
    )
    assert run.resources == []


def _runtime_state() -> tuple[object, ...]:
    import pulumi.runtime.config as pulumi_config
    import pulumi.runtime.settings as pulumi_settings

    s = pulumi_settings.SETTINGS
    return (
        dict(pulumi_config.CONFIG.get()),
        s.monitor,
        s.engine,
        s.project,
        s.stack,
        s.dry_run,
        pulumi_settings.ROOT.get(),
    )


def test_run_program_leaves_no_pulumi_runtime_state_behind() -> None:
    """Each run installs mocks, config and a root Stack in the SDK's process-wide settings; a later run or
    test must not see them. Run in a copy of the current context, so this test itself leaks nothing."""
    import contextvars

    def check() -> None:
        before = _runtime_state()
        run = run_program(ROOT, "dev")
        assert run.error is None and run.resources
        after = _runtime_state()
        config = after[0]
        assert isinstance(config, dict)
        assert after == before, f"run_program left Pulumi runtime state set ({len(config)} config keys)"

    contextvars.copy_context().run(check)
