"""Bad catalogs: every problem is reported together, each naming the stack file, the dotted field path and
what is allowed — and the program registers nothing."""

from __future__ import annotations

import copy
import hashlib
import os
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from golden_images.catalog.loader import CatalogError, load_catalog, load_catalog_file
from golden_images.core import repofiles
from golden_images.core.repofiles import MAX_FILE_BYTES
from tests.conftest import ROOT, RunStack, assert_refused, stack_catalog

P = "config.golden-images:catalog"
Raw = dict[str, Any]


def _img(raw: Raw, i: int = 0) -> dict[str, Any]:
    return raw["images"][i]  # type: ignore[no-any-return]


def _set(path: str, value: Any) -> Callable[[Raw], None]:
    def mutate(raw: Raw) -> None:
        target: Any = raw
        parts = path.split(".")
        for part in parts[:-1]:
            target = target[int(part)] if part.isdigit() else target[part]
        last = parts[-1]
        if last.isdigit():
            target[int(last)] = value
        else:
            target[last] = value

    return mutate


def _del(path: str) -> Callable[[Raw], None]:
    def mutate(raw: Raw) -> None:
        target: Any = raw
        parts = path.split(".")
        for part in parts[:-1]:
            target = target[int(part)] if part.isdigit() else target[part]
        del target[parts[-1]]

    return mutate


def _prod(mutate: Callable[[Raw], None]) -> Callable[[Raw], None]:
    return mutate


# (id, stack, mutation, expected dotted path, expected words in the message)
CASES: list[tuple[str, str, Callable[[Raw], None], str, str]] = [
    (
        "version-two-parts",
        "dev",
        _set("images.0.version", "1.0"),
        f"{P}.images[0].version",
        "MAJOR.MINOR.PATCH",
    ),
    ("version-float", "dev", _set("images.0.version", 1.0), f"{P}.images[0].version", "valid string"),
    ("version-prefix", "dev", _set("images.0.version", "v1.2.3"), f"{P}.images[0].version", "no 'v' prefix"),
    (
        "duplicate-names",
        "dev",
        _set("images.1.name", "base-ubuntu"),
        f"{P}.images",
        "image name 'base-ubuntu' appears more than once (images[0] and images[1])",
    ),
    ("unknown-key", "dev", _set("images.0.colour", "blue"), f"{P}.images[0].colour", "allowed keys here"),
    (
        "unknown-aws-key",
        "dev",
        _set("defaults.aws.region", "us-east-1"),
        f"{P}.images[0].aws.region",
        "allowed keys here",
    ),
    (
        "missing-script",
        "dev",
        _set("images.0.provision.1.script", "images/nope.sh"),
        f"{P}.images[0].provision[1].script",
        "does not exist",
    ),
    (
        "script-outside-repo",
        "dev",
        _set("images.0.provision.1.script", "../etc/passwd"),
        f"{P}.images[0].provision[1].script",
        "inside the repository",
    ),
    ("empty-regions", "dev", _set("defaults.aws.regions", []), f"{P}.images[0].aws.regions", "at least 1"),
    (
        "five-field-cron",
        "dev",
        _set("defaults.aws.schedule", {"cron": "cron(0 4 * * *)"}),
        f"{P}.images[0].aws.schedule.cron",
        "6 fields",
    ),
    (
        "cron-both-days",
        "dev",
        _set("defaults.aws.schedule", {"cron": "cron(0 4 * * MON *)"}),
        f"{P}.images[0].aws.schedule.cron",
        "exactly one of day-of-month",
    ),
    (
        "aws-tag-key",
        "dev",
        _set("images.0.tags", {"aws:owner": "x"}),
        f"{P}.images[0].tags",
        "reserved 'aws:'",
    ),
    (
        "kms-missing-region",
        "dev",
        _set("defaults.aws.regions", ["us-east-1", "eu-west-1"]),
        f"{P}.images[0].aws",
        "no key for region(s) eu-west-1",
    ),
    (
        "aws-managed-key",
        "dev",
        _set("defaults.aws.kms_keys", {"us-east-1": "alias/aws/ebs"}),
        f"{P}.images[0].aws.kms_keys.us-east-1",
        "customer-managed",
    ),
    (
        "prod-unpinned-ssm",
        "prod",
        _set(
            "images.0.aws.parent",
            {
                "ssm_parameter": "/aws/service/canonical/ubuntu/server/22.04/stable/current/amd64/hvm/ebs-gp3/ami-id"
            },
        ),
        f"{P}.images[0].aws",
        "prod needs a pinned parent",
    ),
    (
        "prod-floating-arn",
        "prod",
        _set(
            "images.0.aws.parent",
            {"image_builder_arn": "arn:aws:imagebuilder:us-east-1:aws:image/ubuntu-server-24-lts-x86/x.x.x"},
        ),
        f"{P}.images[0].aws.parent.image_builder_arn",
        "prod needs a pinned parent",
    ),
    (
        "prod-latest-version",
        "prod",
        _set("images.0.version", "latest"),
        f"{P}.images[0].version",
        "semantic version",
    ),
    (
        "invalid-image-name",
        "dev",
        _set("images.0.name", "Base_Ubuntu"),
        f"{P}.images[0].name",
        "lowercase letters",
    ),
    (
        "bad-environment",
        "dev",
        _set("environment", "production"),
        f"{P}.environment",
        "'dev', 'staging' or 'prod'",
    ),
    (
        "stack-environment-mismatch",
        "dev",
        _set("environment", "staging"),
        f"{P}.environment",
        "must have environment 'dev'",
    ),
    (
        "two-parents",
        "dev",
        _set("images.0.aws.parent", {"ami": "ami-0a1b2c3d4e5f60718", "ssm_parameter": "/aws/service/x"}),
        f"{P}.images[0].aws.parent",
        "exactly one of ami",
    ),
    (
        "bad-ami-id",
        "dev",
        _set("images.0.aws.parent", {"ami": "ami-xyz"}),
        f"{P}.images[0].aws.parent.ami",
        "should match pattern",
    ),
    (
        "sha-mismatch",
        "dev",
        _set("images.0.provision.2.sha256", "0" * 64),
        f"{P}.images[0].provision[2].sha256",
        "not the declared",
    ),
    (
        "step-without-kind",
        "dev",
        _set("images.0.provision.0", {"name": "x"}),
        f"{P}.images[0].provision[0]",
        "exactly one of the keys shell, script, file or packages",
    ),
    ("missing-owner-tag", "dev", _del("defaults.tags.owner"), f"{P}.images[0].tags", "'owner' missing"),
    (
        "conflicting-derived-tag",
        "dev",
        _set("images.0.tags", {"environment": "prod"}),
        f"{P}.images[0].tags",
        "derived by golden-images",
    ),
    (
        "prod-non-lts",
        "prod",
        _set("images.0.os", {"family": "ubuntu", "release": "24.10", "lts": False}),
        f"{P}.images[0].os",
        "long-term-support",
    ),
    (
        "no-platform",
        "dev",
        lambda raw: [raw["images"][0].pop(p, None) for p in ("aws", "azure", "gcp", "proxmox")],
        f"{P}.images[0]",
        "no platform section",
    ),
    (
        "bad-account",
        "dev",
        _set("defaults.aws.sharing", {"accounts": ["12345"]}),
        f"{P}.images[0].aws.sharing.accounts[0]",
        "12-digit",
    ),
    (
        "public-sharing-not-expressible",
        "dev",
        _set("defaults.aws.sharing", {"groups": ["all"]}),
        f"{P}.images[0].aws.sharing.groups",
        "unknown key",
    ),
    (
        "bad-region",
        "dev",
        _set("defaults.aws.regions", ["us-east-1", "mars-1"]),
        f"{P}.images[0].aws.regions[1]",
        "not an AWS region",
    ),
    (
        "tiny-volume",
        "dev",
        _set("defaults.aws.volume_size_gb", 4),
        f"{P}.images[0].aws.volume_size_gb",
        "greater than or equal to 8",
    ),
    (
        "retention-zero",
        "dev",
        _set("defaults.aws.retention", {"keep": 0}),
        f"{P}.images[0].aws.retention.keep",
        "greater than or equal to 1",
    ),
    (
        "bool-as-string",
        "dev",
        _set("defaults.aws.bake_on_up", "yes"),
        f"{P}.images[0].aws.bake_on_up",
        "valid boolean",
    ),
    (
        "version-too-large-for-image-builder",
        "dev",
        _set("images.0.version", "1.2.1073741824"),
        f"{P}.images[0].aws",
        "each part must be at most 1073741823",
    ),
    ("no-images", "dev", _set("images", []), f"{P}.images", "at least 1"),
    ("catalog-not-mapping", "dev", lambda raw: raw.clear(), f"{P}.environment", "required field is missing"),
]


@pytest.mark.parametrize(("case", "stack", "mutate", "path", "words"), CASES, ids=[c[0] for c in CASES])
def test_bad_input_is_reported_and_nothing_registered(
    run_stack: RunStack, case: str, stack: str, mutate: Callable[[Raw], None], path: str, words: str
) -> None:
    raw = stack_catalog(stack)
    mutate(raw)
    assert_refused(run_stack(stack, raw), stack, path, words)


def test_at_least_25_distinct_cases() -> None:
    assert len({c[0] for c in CASES}) >= 25


def test_all_errors_reported_together() -> None:
    raw = stack_catalog("dev")
    raw["images"][0]["version"] = "1.0"
    raw["images"][1]["name"] = "Bad Name"
    raw["defaults"]["aws"]["schedule"] = {"cron": "cron(0 4 * * *)"}
    raw["images"][0]["provision"][1]["script"] = "images/missing.sh"
    with pytest.raises(CatalogError) as info:
        load_catalog(raw, source="stacks/Pulumi.dev.yaml", root=ROOT, stack="dev")
    paths = {issue.path for issue in info.value.issues}
    assert {
        f"{P}.images[0].version",
        f"{P}.images[1].name",
        f"{P}.images[0].aws.schedule.cron",
        f"{P}.images[1].aws.schedule.cron",
        f"{P}.images[0].provision[1].script",
    } <= paths
    assert all(issue.file == "stacks/Pulumi.dev.yaml" for issue in info.value.issues)


def test_valid_stacks_load() -> None:
    for stack in ("dev", "staging", "prod"):
        catalog = load_catalog(copy.deepcopy(stack_catalog(stack)), source=stack, root=ROOT, stack=stack)
        assert catalog.environment == stack
        assert [i.name for i in catalog.images] == ["base-ubuntu", "app-runtime"]


# --- Repository files: every script:/file: path stays a regular file inside the repository ---------------------

SECRET = "AKIA-CI-SECRET-0123456789"


def _repo_copy(tmp_path: Path) -> Path:
    """A copy of the project (program, stacks, images) to plant hostile files in; the real images/ is never
    touched."""
    repo = tmp_path / "repo"
    repo.mkdir()
    for name in ("Pulumi.yaml", "__main__.py"):
        shutil.copy2(ROOT / name, repo / name)
    for folder in ("stacks", "images"):
        shutil.copytree(ROOT / folder, repo / folder)
    return repo


def _plant_environ(repo: Path) -> str:
    (repo / "images" / "x").mkdir()
    (repo / "images" / "x" / "env.sh").symlink_to("/proc/self/environ")
    return "images/x/env.sh"


def _plant_dir_link(repo: Path) -> str:
    outside = repo.parent / "outside"
    outside.mkdir()
    (outside / "creds.sh").write_text(f"echo {SECRET}\n")
    (repo / "images" / "shared").symlink_to(outside, target_is_directory=True)
    return "images/shared/creds.sh"


def _plant_fifo(repo: Path) -> str:
    os.mkfifo(repo / "images" / "pipe.sh")  # reading it would block the preview forever
    return "images/pipe.sh"


def _plant_loop(repo: Path) -> str:
    (repo / "images" / "a.sh").symlink_to("b.sh")
    (repo / "images" / "b.sh").symlink_to("a.sh")
    return "images/a.sh"


def _plant_big(repo: Path) -> str:
    (repo / "images" / "big.sh").write_text("#" * (MAX_FILE_BYTES + 1))
    return "images/big.sh"


def _plant_latin1(repo: Path) -> str:
    (repo / "images" / "latin1.sh").write_bytes(b"echo caf\xe9\n")
    return "images/latin1.sh"


def _plant_absolute_link(repo: Path) -> str:
    (repo / "images" / "hosts.sh").symlink_to("/etc/hosts")
    return "images/hosts.sh"


# (id, plant the file and return its repo path, which step key, words of the message)
REPO_FILE_CASES: list[tuple[str, Callable[[Path], str], str, str]] = [
    ("symlink-to-proc-environ", _plant_environ, "script", "outside the repository"),
    ("directory-symlink-out-of-repo", _plant_dir_link, "script", "outside the repository"),
    ("absolute-symlink", _plant_absolute_link, "file", "outside the repository"),
    ("fifo", _plant_fifo, "script", "not a regular file"),
    ("symlink-loop", _plant_loop, "script", "cannot be resolved"),
    ("over-size-cap", _plant_big, "script", f"at most {MAX_FILE_BYTES} bytes"),
    ("script-not-utf8", _plant_latin1, "script", "not UTF-8"),
]


@pytest.mark.parametrize(
    ("plant", "key", "words"), [c[1:] for c in REPO_FILE_CASES], ids=[c[0] for c in REPO_FILE_CASES]
)
def test_repo_files_must_be_regular_files_inside_the_repo(
    run_stack: RunStack, tmp_path: Path, plant: Callable[[Path], str], key: str, words: str
) -> None:
    repo = _repo_copy(tmp_path)
    path = plant(repo)
    raw = stack_catalog("dev")
    step: dict[str, Any] = {"script": path}
    if key == "file":
        step = {"file": path, "destination": "/etc/x", "sha256": "0" * 64}
    raw["images"][0]["provision"][1] = step
    os.environ["AWS_SECRET_ACCESS_KEY_PROBE"] = SECRET  # what /proc/self/environ would leak
    try:
        run = run_stack("dev", raw, root=repo)
    finally:
        del os.environ["AWS_SECRET_ACCESS_KEY_PROBE"]
    assert_refused(run, "dev", f"{P}.images[0].provision[1].{key}", words)
    assert path in str(run.error)
    assert SECRET not in str(run.error)


def test_tests_and_validate_phases_are_checked_too(run_stack: RunStack, tmp_path: Path) -> None:
    repo = _repo_copy(tmp_path)
    raw = stack_catalog("dev")
    raw["images"][1]["tests"] = [{"script": _plant_environ(repo)}]
    raw["images"][0]["validate"] = [{"script": _plant_fifo(repo)}]
    run = run_stack("dev", raw, root=repo)
    assert_refused(run, "dev", f"{P}.images[1].tests[0].script", "outside the repository")
    assert f"{P}.images[0].validate[0].script: images/pipe.sh is not a regular file" in str(run.error)


def test_symlinks_inside_the_repo_and_binary_files_are_accepted(tmp_path: Path) -> None:
    repo = _repo_copy(tmp_path)
    (repo / "images" / "alias.sh").symlink_to("base-ubuntu/harden.sh")
    blob = bytes(range(256)) + b"\r\n  \x00"
    (repo / "images" / "blob.bin").write_bytes(blob)
    raw = stack_catalog("dev")
    raw["images"][0]["provision"][1] = {"script": "images/alias.sh"}
    raw["images"][0]["provision"].append(
        {
            "file": "images/blob.bin",
            "destination": "/opt/blob.bin",
            "sha256": hashlib.sha256(blob).hexdigest(),
        }
    )
    catalog = load_catalog(raw, source="stacks/Pulumi.dev.yaml", root=repo, stack="dev")
    assert catalog.images[0].provision[-1].file == "images/blob.bin"  # type: ignore[union-attr]
    assert repofiles.read_bytes(repo, "images/blob.bin") == blob
    assert (
        repofiles.read_script(repo, "images/alias.sh") == (ROOT / "images/base-ubuntu/harden.sh").read_text()
    )


def test_binary_file_with_wrong_sha256_names_the_digest(tmp_path: Path) -> None:
    repo = _repo_copy(tmp_path)
    (repo / "images" / "blob.bin").write_bytes(b"\xff\xfe\x00")
    raw = stack_catalog("dev")
    raw["images"][0]["provision"].append(
        {"file": "images/blob.bin", "destination": "/opt/b", "sha256": "0" * 64}
    )
    with pytest.raises(CatalogError) as info:
        load_catalog(raw, source="stacks/Pulumi.dev.yaml", root=repo, stack="dev")
    [issue] = info.value.issues
    assert issue.path == f"{P}.images[0].provision[{len(raw['images'][0]['provision']) - 1}].sha256"
    assert hashlib.sha256(b"\xff\xfe\x00").hexdigest() in issue.message


# --- the stack file itself: unreadable, not YAML, not a mapping --------------------------------------------

STACK_FILE_CASES = {
    # name: (file content, or None for no file / "<dir>" for a directory; issue path; message)
    "missing": (None, "", "stack file does not exist"),
    "directory": ("<dir>", "", "stack file cannot be read (Is a directory)"),
    "unclosed-flow": (
        "config: [unclosed\n",
        "config[1]",
        "line 2: not valid YAML: did not find expected ',' or ']'",
    ),
    "tab-indent": (
        "config:\n\t- x\n",
        "config",
        "line 2: not valid YAML: found character that cannot start any token",
    ),
    "top-level-list": ("- config\n- images\n", "", "a stack file must be a mapping with a config key"),
    "top-level-scalar": ("just text\n", "", "a stack file must be a mapping with a config key"),
    "empty": ("", "", "a stack file must be a mapping with a config key"),
    "config-list": ("config: [a, b]\n", "config", "config must be a mapping"),
    "catalog-list": (
        "config:\n  golden-images:catalog: [a]\n",
        "config.golden-images:catalog",
        "the catalog is a list; it must be a mapping with environment and images",
    ),
    "catalog-scalar": (
        "config:\n  golden-images:catalog: hello\n",
        "config.golden-images:catalog",
        "the catalog is a str; it must be a mapping with environment and images",
    ),
    "catalog-missing": (
        "config: {}\n",
        "config.golden-images:catalog",
        "the catalog is missing; it must be a mapping with environment and images",
    ),
    "catalog-misspelt": (
        "config:\n  golden-images:catalogue: {}\n",
        "config.golden-images:catalog",
        "the catalog is missing, but config has 'golden-images:catalogue'; did you mean 'golden-images:catalog'?",
    ),
}


@pytest.mark.parametrize("case", sorted(STACK_FILE_CASES))
def test_stack_file_problems_name_file_field_and_reason(tmp_path: Path, case: str) -> None:
    content, path, message = STACK_FILE_CASES[case]
    stack_file = tmp_path / "stacks" / "Pulumi.dev.yaml"
    stack_file.parent.mkdir()
    if content == "<dir>":
        stack_file.mkdir()
    elif content is not None:
        stack_file.write_text(content)
    with pytest.raises(CatalogError) as info:
        load_catalog_file(stack_file, root=tmp_path, stack="dev")
    (issue,) = info.value.issues
    # Reading problems name the file as given; catalog problems name it relative to the project root.
    assert issue.file in (str(stack_file), "stacks/Pulumi.dev.yaml")
    assert (issue.path, issue.message) == (path, message)
