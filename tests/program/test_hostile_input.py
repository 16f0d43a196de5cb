"""Hostile stack files and config through ``golden-images preview``: each ends with exit 2, the stack file and
the dotted field named, no traceback — within 5 s and 500 MB for any stack file under 1 MiB — and config is
refused exactly where ``pulumi preview`` refuses it (Pulumi.yaml's declarations), with the fix."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner

from golden_images.catalog import projectconfig
from golden_images.catalog.loader import read_stack_file
from golden_images.cli import app
from golden_images.platforms.proxmox.pve import PROXMOX_TOKEN_ENV_VARS as PROXMOX_TOKEN_ENV
from tests.components.proxmox.helpers import proxmox_only
from tests.conftest import ROOT, stack_catalog, write_stack

DEV = (ROOT / "stacks" / "Pulumi.dev.yaml").read_text(encoding="utf-8")
CATALOG_LINE = "  golden-images:catalog:\n    environment: dev\n"
assert CATALOG_LINE in DEV
P = "config.golden-images:catalog"

#: The classic "billion laughs", 9 levels of 9 aliases: 637 bytes that expand to ~387 million strings.
BOMB = "    lol0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n" + "".join(
    f"    lol{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 9)}]\n" for i in range(1, 9)
)


def _in_catalog(lines: str) -> str:
    """The dev stack file with ``lines`` inserted at the top of the catalog mapping."""
    return DEV.replace(CATALOG_LINE, CATALOG_LINE + lines)


def _preview(stack_file: Path, *args: str) -> tuple[int, dict[str, Any], str]:
    result = CliRunner().invoke(
        app,
        ["preview", "--root", str(ROOT), "--stack", "dev", "--stack-file", str(stack_file), "--json", *args],
    )
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result.exit_code, json.loads(result.stdout), result.output


# (id, stack file bytes, dotted field, words of the message)
HOSTILE: list[tuple[str, bytes, str, str]] = [
    ("alias-bomb", _in_catalog(BOMB).encode(), f"{P}.lol1[0]", "alias *a0"),
    ("self-referencing-anchor", _in_catalog("    loop: &loop [*loop]\n").encode(), f"{P}.loop[0]", "alias"),
    (
        "nesting-5000-flow",
        _in_catalog("    deep: " + "[" * 5000 + "]" * 5000 + "\n").encode(),
        f"{P}.deep",
        "nesting",
    ),
    (
        "nesting-block",
        _in_catalog("    deep:\n      " + "- " * 200 + "x\n").encode(),
        f"{P}.deep",
        "nesting deeper than 64",
    ),
    (
        "duplicate-key",
        _in_catalog("    environment: prod\n").encode(),
        f"{P}.environment",
        "duplicate key 'environment'",
    ),
    (
        "integer-config-key",
        DEV.replace("config:\n", "config:\n  1: x\n", 1).encode(),
        "config",
        "not a string",
    ),
    ("boolean-key", _in_catalog("    yes: 1\n").encode(), P, "not a string"),
    ("null-key", _in_catalog("    ~: 1\n").encode(), P, "not a string"),
    ("python-tag", _in_catalog("    x: !!python/object/apply:os.system [id]\n").encode(), f"{P}.x", "tag"),
    (
        "latin1-stack-file",
        DEV.replace("Hardened Ubuntu", "Hardened caf\xe9 Ubuntu").encode("latin-1"),
        f"{P}.images[0].description",
        "not UTF-8",
    ),
]


@pytest.mark.parametrize(("data", "field", "words"), [c[1:] for c in HOSTILE], ids=[c[0] for c in HOSTILE])
def test_hostile_yaml_exits_2_with_file_and_field(
    tmp_path: Path, data: bytes, field: str, words: str
) -> None:
    stack_file = tmp_path / "Pulumi.dev.yaml"
    stack_file.write_bytes(data)
    started = time.process_time()  # CPU time: a loaded CI machine must not make this flaky
    code, document, output = _preview(stack_file)
    assert time.process_time() - started < 5
    assert code == 2, output
    assert "Traceback" not in output
    assert document["resources"] == [] and document["violations"] == []
    [error] = document["errors"]
    assert error["file"] == str(stack_file.resolve())
    # Nesting is reported where it exceeds the bound, inside the named field.
    assert error["path"] == field or error["path"].startswith(f"{field}["), error
    assert words in error["message"], error


def _near_one_mib(kind: str) -> str:
    size = 1024 * 1024 - 4096
    if kind == "aliases":
        unit = "x: &a [1]\n" + "y: [" + ", ".join(["*a"] * 20) + "]\n"
        return unit * (size // len(unit))
    if kind == "flow-nesting":
        return "[" * (size // 2) + "]" * (size // 2)
    if kind == "block-nesting":
        return "- " * (size // 2)
    if kind == "duplicates":
        return "k: v\n" * (size // 5)
    # A huge but well-formed document: it must load, not just be refused.
    lines = ["config:"]
    total = len(lines[0]) + 1
    while total < size - 64:
        lines.append(f"  key{len(lines)}: [a, b, {{c: d}}]")
        total += len(lines[-1]) + 1
    return "\n".join(lines) + "\n"


_MEASURE = """
import json, resource, sys, time
from pathlib import Path
from golden_images.catalog.loader import CatalogError, read_stack_file
started = time.process_time()
try:
    read_stack_file(Path(sys.argv[1]))
    refused = None
except CatalogError as exc:
    refused = [exc.issues[0].file, exc.issues[0].path]
elapsed = time.process_time() - started
# VmHWM is the peak RSS of this process image alone: getrusage's ru_maxrss keeps the forking parent's
# high-water mark across exec (a pytest worker at 500+ MB would be counted as ours).
hwm = [l for l in Path("/proc/self/status").read_text().splitlines() if l.startswith("VmHWM:")]
peak_mb = int(hwm[0].split()[1]) / 1024 if hwm else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps({"elapsed": elapsed, "peak_mb": peak_mb, "refused": refused}))
"""


@pytest.mark.parametrize("kind", ["aliases", "flow-nesting", "block-nesting", "duplicates", "wide"])
def test_any_stack_file_under_1_mib_is_read_within_5_s_and_500_mb(tmp_path: Path, kind: str) -> None:
    """Measured in a fresh interpreter (its peak RSS includes the imports), so nothing else in the test
    process distorts time or memory; time is CPU time, so a busy CI machine does not either."""
    text = _near_one_mib(kind)
    assert 1000 * 1000 < len(text.encode()) < 1024 * 1024
    stack_file = tmp_path / "Pulumi.dev.yaml"
    stack_file.write_text(text)
    # Without coverage's subprocess hook (scripts/coverage.py): tracing the child would count against its limit.
    env = {k: v for k, v in os.environ.items() if k != "COVERAGE_PROCESS_START"}
    done = subprocess.run(
        [sys.executable, "-c", _MEASURE, str(stack_file)],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
        env=env,
    )
    result = json.loads(done.stdout)
    assert result["elapsed"] < 5, result
    assert result["peak_mb"] < 500, result
    if kind == "wide":
        assert result["refused"] is None
    else:
        assert result["refused"] is not None and result["refused"][0] == str(stack_file), result


# --- config as `pulumi preview` validates it ----------------------------------------------------------------


def _with_config(tmp_path: Path, **changes: Any) -> Path:
    document = yaml.safe_load(DEV)
    for key, value in changes.items():
        full = key.replace("__", ":")
        if value is None:
            document["config"].pop(full, None)
        else:
            document["config"][full] = value
    path = tmp_path / "Pulumi.dev.yaml"
    path.write_text(yaml.safe_dump(document, sort_keys=False))
    return path


CONFIG_CASES: list[tuple[str, dict[str, Any], str, str]] = [
    (
        "missing-declared-key",
        {"golden-images__proxmoxEndpoint": None},
        "config.golden-images:proxmoxEndpoint",
        "Stack 'dev' is missing configuration value 'proxmoxEndpoint'",
    ),
    (
        "wrong-type",
        {"golden-images__bakeOnUp": "sometimes"},
        "config.golden-images:bakeOnUp",
        "must be of type 'boolean'; set it with `pulumi config set golden-images:bakeOnUp",
    ),
    (
        "plaintext-proxmox-token",
        {"golden-images__proxmoxApiToken": "root@pam!ci=2b1e3c44-5d6f-4a7b-8c9d-0e1f2a3b4c5d"},
        "config.golden-images:proxmoxApiToken",
        "pulumi config set --secret golden-images:proxmoxApiToken",
    ),
]


@pytest.mark.parametrize(
    ("changes", "field", "words"), [c[1:] for c in CONFIG_CASES], ids=[c[0] for c in CONFIG_CASES]
)
def test_config_pulumi_refuses_exits_2_with_the_fix(
    tmp_path: Path, changes: dict[str, Any], field: str, words: str
) -> None:
    code, document, output = _preview(_with_config(tmp_path, **changes), "--no-policy")
    assert code == 2, output
    assert [e["path"] for e in document["errors"]] == [field], document["errors"]
    assert words in document["errors"][0]["message"]
    assert document["errors"][0]["file"] == str(tmp_path / "Pulumi.dev.yaml")
    assert "root@pam!ci=" not in output  # a refused plaintext token is never echoed


def test_plaintext_value_of_a_declared_secret_is_refused() -> None:
    project = {"name": "golden-images", "config": {"token": {"type": "string", "secret": True}}}
    [issue] = projectconfig.validate(
        project, {"golden-images:token": "plain"}, stack="org/dev", file="stacks/Pulumi.dev.yaml"
    )
    assert issue.path == "config.golden-images:token"
    assert "Stack 'dev' with configuration key 'token' must be encrypted as it's secret" in issue.message
    assert "pulumi config set --secret golden-images:token" in issue.message
    secure = {"golden-images:token": {"secure": "v1:abc"}}
    assert projectconfig.validate(project, secure, stack="dev", file="f") == []


@pytest.mark.parametrize(
    ("declared", "value", "ok"),
    [
        ({"type": "boolean"}, True, True),
        ({"type": "boolean"}, "False", True),
        ({"type": "boolean"}, "yes", False),
        ({"type": "integer"}, 3, True),
        ({"type": "integer"}, "-3", True),
        ({"type": "integer"}, "3.5", False),
        ({"type": "string"}, 3, True),  # Pulumi keeps primitives as their string form
        ({"type": "string"}, {"a": 1}, False),
        ({"type": "array", "items": {"type": "string"}}, ["a", "b"], True),
        ({"type": "array", "items": {"type": "string"}}, ["a", 1], False),
        ({"type": "array", "items": {"type": "string"}}, "a", False),
    ],
)
def test_declared_types_follow_pulumis_rules(declared: dict[str, Any], value: Any, ok: bool) -> None:
    project = {"name": "p", "config": {"k": declared}}
    issues = projectconfig.validate(project, {"p:k": value}, stack="dev", file="f")
    assert (issues == []) == ok, issues


def test_declared_keys_with_defaults_or_other_namespaces_are_not_required() -> None:
    project = {
        "name": "p",
        "config": {
            "a": {"type": "boolean", "default": False},
            "aws:region": "us-east-1",
            "b": {"type": "string"},
        },
    }
    [issue] = projectconfig.validate(project, {}, stack="dev", file="f")
    assert issue.path == "config.p:b" and "missing configuration value 'b'" in issue.message


def test_shipped_stacks_pass_pulumis_config_check() -> None:
    project = yaml.safe_load((ROOT / "Pulumi.yaml").read_text())
    assert "proxmoxApiToken" not in project["config"]  # not a required project key
    for stack in ("dev", "staging", "prod"):
        config = read_stack_file(ROOT / "stacks" / f"Pulumi.{stack}.yaml")
        assert projectconfig.validate(project, config, stack=stack, file=stack) == [], stack


def test_preview_notes_what_pulumi_up_still_needs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for name in PROXMOX_TOKEN_ENV:
        monkeypatch.delenv(name, raising=False)
    # Only the proxmox sections: this is about the Proxmox token, not the other platforms' resources.
    stack_file = write_stack(tmp_path, "dev", proxmox_only(stack_catalog("dev")))
    code, document, _ = _preview(stack_file, "--no-policy")
    assert code == 0
    [note] = document["notes"]
    assert "`pulumi up` will need the Proxmox API token" in note
    assert (
        "pulumi config set --secret golden-images:proxmoxApiToken" in note and "PROXMOX_VE_API_TOKEN" in note
    )
    human = CliRunner().invoke(
        app,
        ["preview", "--root", str(ROOT), "--stack", "dev", "--stack-file", str(stack_file), "--no-policy"],
    )
    assert human.exit_code == 0 and "pulumi up` will need the Proxmox API token" in " ".join(
        human.output.split()
    )
    monkeypatch.setenv("PROXMOX_VE_API_TOKEN", "root@pam!ci=x")
    code, document, _ = _preview(stack_file, "--no-policy")
    assert code == 0 and document["notes"] == []


def test_symlinked_script_cannot_leak_the_ci_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The reported finding end to end: `ln -s /proc/self/environ images/x/env.sh` plus `{script:
    images/x/env.sh}` used to put the CI's AWS_SECRET_ACCESS_KEY into `preview --json` with exit 0."""
    repo = tmp_path / "repo"
    repo.mkdir()
    for name in ("Pulumi.yaml", "__main__.py"):
        shutil.copy2(ROOT / name, repo / name)
    for folder in ("stacks", "images"):
        shutil.copytree(ROOT / folder, repo / folder)
    (repo / "images" / "x").mkdir()
    (repo / "images" / "x" / "env.sh").symlink_to("/proc/self/environ")
    raw = stack_catalog("dev")
    raw["images"][0]["provision"][1] = {"script": "images/x/env.sh"}
    write_stack(repo / "stacks", "dev", raw)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "wJalrXUtnFEMI-CI-SECRET")
    result = CliRunner().invoke(
        app, ["preview", "--root", str(repo), "--stack", "dev", "--json", "--no-policy"]
    )
    assert result.exit_code == 2, result.output
    [error] = json.loads(result.stdout)["errors"]
    assert error["file"] == "stacks/Pulumi.dev.yaml"
    assert error["path"] == f"{P}.images[0].provision[1].script"
    assert "outside the repository" in error["message"]
    assert "wJalrXUtnFEMI-CI-SECRET" not in result.output
