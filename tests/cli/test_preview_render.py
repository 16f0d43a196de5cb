"""``golden-images preview`` as people read it: the three stacks at 80 and 120 columns (reviewed snapshots),
the closing summary, the legend, deferred checks apart and marked in ``--json``, a stable violation order,
and every bad-input message of issue 17 (the key named, the fix, the image by name, the stack file line)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner, Result

from golden_images.catalog.loader import CatalogError, load_catalog
from golden_images.cli import app, yaml_lines
from tests.cli.snap import WIDTHS, check
from tests.conftest import ROOT, stack_catalog

STACKS = ("dev", "staging", "prod")


def flat(text: str) -> str:
    """``text`` with every run of whitespace one space (wrapping undone)."""
    return " ".join(text.split())


def invoke(*args: str, width: int = 80) -> Result:
    return CliRunner(env={"COLUMNS": str(width)}).invoke(app, list(args))


def plain(text: str) -> str:
    return "\n".join(line.rstrip() for line in text.splitlines()) + "\n"


@pytest.fixture(scope="module")
def documents() -> dict[str, dict[str, Any]]:
    """``preview --json`` of each stack (with the shipped policy configs, which therefore name only policies
    the pack has: an unknown name would exit 2)."""
    out = {}
    for stack in STACKS:
        result = invoke("preview", "--root", str(ROOT), "--stack", stack, "--json")
        assert result.exit_code == 0, result.output
        out[stack] = json.loads(result.stdout)
    return out


@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize("stack", STACKS)
def test_preview_text_at_width(stack: str, width: int, documents: dict[str, dict[str, Any]]) -> None:
    result = invoke("preview", "--root", str(ROOT), "--stack", stack, width=width)
    assert result.exit_code == 0, result.output
    text = plain(result.stdout)
    document = documents[stack]
    for resource in document["resources"]:  # every resource, its name whole (never cut or folded)
        assert f" {resource['name']}" in text
    summary = document["summary"]
    closing = (
        f"{stack}: {summary['resources']} resources; {summary['mandatory']} mandatory and "
        f"{summary['advisory']} advisory violation(s); {summary['deferred']} deferred check"
        f"{'' if summary['deferred'] == 1 else 's'}; exit 0: no mandatory violation (advisory ones and "
        "deferred checks never fail)."
    )
    assert flat(text).endswith(closing)
    if summary["advisory"]:
        assert "legend:" in text and "! advisory violation (reported, does not fail)" in flat(text)
    if summary["deferred"]:
        assert "? check deferred: a value is unknown until `pulumi up`" in flat(text)
    assert "policy pack policies: " in text or "policy violations (" in text
    check(f"preview-{stack}-{width}", text, width)


def test_deferred_checks_are_marked_in_json_and_apart_in_text(documents: dict[str, dict[str, Any]]) -> None:
    prod = documents["prod"]
    deferred = [v for v in prod["violations"] if v["deferred"]]
    assert deferred and len(deferred) == prod["summary"]["deferred"]
    assert all(v["message"].startswith("can't run policy") and v["level"] == "advisory" for v in deferred)
    assert not any(v["deferred"] for v in documents["dev"]["violations"])
    assert prod["summary"]["advisory"] == 0 and prod["summary"]["mandatory"] == 0
    assert prod["summary"]["exitCode"] == 0
    text = invoke("preview", "--root", str(ROOT), "--stack", "prod").stdout
    names = {r["urn"]: r["name"] for r in prod["resources"]}
    for v in deferred:  # each listed apart, and its resource marked "?" in the tree, not with a red cross
        assert f"? {v['policy']} on {names[v['urn']]}" in text
        assert f"── {names[v['urn']]} ?" in text
    assert "✗" not in text and "policy violations" not in text


def test_violations_are_sorted_the_same_every_run(documents: dict[str, dict[str, Any]]) -> None:
    for document in documents.values():
        keys = [(v["urn"], v["policy"], v["level"], v["message"]) for v in document["violations"]]
        assert keys == sorted(keys)
    again = json.loads(invoke("preview", "--root", str(ROOT), "--stack", "dev", "--json").stdout)
    assert again["violations"] == documents["dev"]["violations"]


def test_mandatory_violation_summary_says_why_exit_1() -> None:
    fixture = ROOT / "tests" / "fixtures" / "other_team_project"
    result = invoke("preview", "--root", str(fixture), "--stack", "prod")
    assert result.exit_code == 1
    assert "✗" in result.stdout and "✗ mandatory violation (fails the preview)" in flat(result.stdout)
    assert flat(result.stdout).endswith("exit 1: 5 mandatory violations (advisory ones never fail)."), (
        result.stdout[-300:]
    )


# -- bad input ---------------------------------------------------------------------------------------------


def project(tmp_path: Path, old: str = "", new: str = "", stack: str = "dev") -> Path:
    """A copy of the project whose ``stacks/Pulumi.<stack>.yaml`` has ``old`` replaced by ``new``."""
    root = tmp_path / "project"
    root.mkdir()
    shutil.copy(ROOT / "Pulumi.yaml", root)
    shutil.copy(ROOT / "__main__.py", root)
    shutil.copytree(ROOT / "stacks", root / "stacks")
    shutil.copytree(ROOT / "images", root / "images")
    path = root / "stacks" / f"Pulumi.{stack}.yaml"
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new))
    return root


def line_of(root: Path, needle: str, stack: str = "dev") -> int:
    """The 1-based line where ``needle`` (possibly several lines) starts in the stack file."""
    text = (root / "stacks" / f"Pulumi.{stack}.yaml").read_text()
    return text[: text.index(needle)].count("\n") + 1


CASES = {
    # name: (old, new, line containing, the whole message people get)
    "unquoted-version": (
        'version: "1.4.2"',
        "version: 0.1",
        "version: 0.1",
        "images[base-ubuntu].version Input should be a valid string: YAML read the unquoted 0.1 as a number; "
        'quote it (version: "0.1")',
    ),
    "misspelt-step-key": (
        "      - name: harden\n            script: images/base-ubuntu/harden.sh\n          - name: sshd-config",
        "      - name: harden\n            scirpt: images/base-ubuntu/harden.sh\n          - name: sshd-config",
        "- name: harden",
        "images[base-ubuntu].provision[1] unknown key 'scirpt'; did you mean 'script'? (a step needs exactly "
        "one of the keys shell, script, file or packages)",
    ),
    "misspelt-catalog-key": (
        "golden-images:catalog:",
        "golden-images:catalogue:",
        "golden-images:catalogue:",
        "config.golden-images:catalog the catalog is missing, but config has 'golden-images:catalogue'; did you "
        "mean 'golden-images:catalog'?",
    ),
    "duplicate-name": (
        "- name: app-runtime",
        "- name: base-ubuntu",
        '- name: base-ubuntu\n        version: "2.1.0"',
        "images image name 'base-ubuntu' appears more than once (images[0] and images[1]); names must be unique",
    ),
    "misspelt-image-key": (
        # app-runtime's tags, right before its layered azure section (the only azure section with a parent).
        "        tags:\n          data-classification: internal\n"
        "        azure:\n          parent: {image: base-ubuntu}",
        "        tgas:\n          data-classification: internal\n"
        "        azure:\n          parent: {image: base-ubuntu}",
        "tgas:",
        "images[app-runtime].tgas unknown key 'tgas'; allowed keys here: aws, azure, description, gcp, name, os, "
        "provision, proxmox, tags, tests, validate, version; did you mean 'tags'?",
    ),
}


@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize("case", CASES)
def test_bad_input_names_the_key_the_image_the_line_and_the_fix(
    tmp_path: Path, case: str, width: int
) -> None:
    old, new, needle, message = CASES[case]
    root = project(tmp_path, old, new)
    result = invoke("preview", "--root", str(root), "--stack", "dev", width=width)
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    line = line_of(root, needle)
    text = plain(result.stderr)
    assert f"stacks/Pulumi.dev.yaml:{line}:" in text
    assert message in flat(text), text
    assert flat(text).endswith("dev: exit 2: invalid input, nothing was previewed; fix the 1 problem above.")
    check(f"error-{case}-{width}", text, width)
    document = json.loads(invoke("preview", "--root", str(root), "--stack", "dev", "--json").stdout)
    (error,) = document["errors"]
    assert error["line"] == line and error["file"] == "stacks/Pulumi.dev.yaml"
    assert error["path"].startswith("config.")  # the dotted path stays as the loader writes it


def test_unknown_policy_names_in_the_config_are_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)  # the config named relative, as people type it (and the same in the snapshot)
    Path("policy.json").write_text(
        json.dumps({"all": "advisory", "aws-imagebuilder-recipe-parent-pined": "mandatory"})
    )
    for width in WIDTHS:
        result = invoke(
            "preview", "--root", str(ROOT), "--stack", "prod", "--policy-config", "policy.json", width=width
        )
        assert result.exit_code == 2, result.output
        text = plain(result.stderr)
        assert text.startswith("invalid input for stack prod (1 problem):\n  policy.json:\n")
        assert (
            "names 1 policy the pack golden-images does not have: 'aws-imagebuilder-recipe-parent-pined' "
            "(did you mean 'aws-imagebuilder-recipe-parent-pinned'?)" in flat(text)
        )
        check(f"error-unknown-policy-{width}", text, width)


def test_consumer_program_with_an_invalid_catalog_exits_2_without_a_traceback(tmp_path: Path) -> None:
    """Another team's program that loads a catalog file itself: the loader's error is bad input (exit 2, the
    problems listed), not a traceback with the exit code of a mandatory violation."""
    root = tmp_path / "consumer"
    root.mkdir()
    (root / "Pulumi.yaml").write_text("name: web-team-images\nruntime:\n  name: python\n")
    (root / "Pulumi.prod.yaml").write_text("config:\n  aws:region: us-east-1\n")
    catalog = (ROOT / "stacks" / "Pulumi.prod.yaml").read_text().replace('version: "1.4.2"', "version: 1.4")
    (root / "images.yaml").write_text(catalog)
    (root / "__main__.py").write_text(
        "from pathlib import Path\n"
        "from golden_images.catalog.loader import load_catalog_file\n"
        "catalog = load_catalog_file(Path('images.yaml'), root=Path('.'), stack='prod')\n"
    )
    result = invoke("preview", "--root", str(root), "--stack", "prod")
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    assert "images[base-ubuntu].version" in result.stderr or "images[0].version" in result.stderr
    assert "quote it" in flat(result.stderr) or "Input should be a valid string" in flat(result.stderr)


def test_help_shows_no_type_after_flags_and_version_exists() -> None:
    for command in ([], ["preview"], ["pin"], ["audit"], ["cleanup"], ["lineage"]):
        result = invoke(*command, "--help", width=120)
        assert result.exit_code == 0 and "<bool>" not in result.stdout, command
    preview = invoke("preview", "--help", width=120).stdout
    assert "<path>" in preview  # options that take a value keep their type
    version = invoke("--version")
    assert version.exit_code == 0 and version.stdout.startswith("golden-images ")


def test_yaml_lines_maps_dotted_paths_to_lines() -> None:
    text = "config:\n  a:\n    - x: 1\n      y: [2, 3]\n    - {z: 4}\n  b: 5\n"
    assert yaml_lines(text) == {
        "config": 1,
        "config.a": 2,
        "config.a[0]": 3,
        "config.a[0].x": 3,
        "config.a[0].y": 4,
        "config.a[0].y[0]": 4,
        "config.a[0].y[1]": 4,
        "config.a[1]": 5,
        "config.a[1].z": 5,
        "config.b": 6,
    }


def test_the_loader_itself_names_the_key_and_the_fix() -> None:
    """What ``pulumi up`` shows too (the program reports the loader's messages): the misspelt step key with
    its likely meaning, the quotes an unquoted number needs, the misspelt image key."""
    raw = stack_catalog("dev")
    raw["images"][0]["version"] = 0.1
    step = raw["images"][0]["provision"][1]
    step["scirpt"] = step.pop("script")
    raw["images"][1]["descripton"] = raw["images"][1]["description"]
    with pytest.raises(CatalogError) as caught:
        load_catalog(raw, source="stacks/Pulumi.dev.yaml", root=ROOT, stack="dev")
    messages = {i.path.removeprefix("config.golden-images:catalog."): i.message for i in caught.value.issues}
    assert messages["images[0].version"] == (
        'Input should be a valid string: YAML read the unquoted 0.1 as a number; quote it (version: "0.1")'
    )
    assert messages["images[0].provision[1]"] == (
        "unknown key 'scirpt'; did you mean 'script'? (a step needs exactly one of the keys shell, script, file "
        "or packages)"
    )
    assert messages["images[1].descripton"].endswith("; did you mean 'description'?")
