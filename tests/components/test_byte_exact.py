"""Byte-exact transport: script and file bytes reach the build machine unchanged, on every platform.

Generated content (CRLF, lone CR, trailing whitespace, NEL / LS / PS, BOM, ``{{ }}``, quotes, the runners'
heredoc delimiters and, for files, NUL and non-UTF-8 bytes) goes through each renderer, is parsed back by
the parser its consumer uses (PyYAML for AWSTOE and cloud-init, JSON for AIB and Packer) and run the way the
platform runs it, with a ``bash`` shim that keeps the step file, its arguments and the staged file instead of
running the step. What the shim keeps must equal the original bytes.
"""

from __future__ import annotations

import base64
import getpass
import hashlib
import json
import re
import shlex
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from golden_images.catalog.loader import load_catalog
from golden_images.catalog.spec import ImageSpec
from golden_images.core import shellsteps
from golden_images.core.steps import ResolvedStep, ResolvedSteps
from golden_images.core.yamlout import dump
from golden_images.platforms.gcp import packer
from tests.components.step_platforms import CAPTURE_BASH, PLATFORMS, captured, gcp_provisioners, run_platform
from tests.conftest import ROOT, stack_catalog, write_stack

TOKENS = [
    "\r\n",
    "\r",
    "\n",
    "   \n",
    "\t\n",
    " ",
    "\t",
    "\x85",
    "\u2028",
    "\u2029",
    "\ufeff",
    "{{ .Vars }}",
    "{{",
    "}}",
    "'",
    '"',
    "\\",
    "$(touch pwned)",
    "`touch pwned`",
    "\n" + shellsteps.B64_DELIMITER + "\n",
    "\nGOLDEN_IMAGES_SCRIPT\n",
    "\nEOF\n",
    "#",
    "ü",
    "-",
]
texts = st.lists(st.sampled_from(TOKENS) | st.text(max_size=6), max_size=25).map("".join)
file_bytes = st.one_of(
    texts.map(str.encode),
    st.binary(max_size=300),
    st.tuples(texts, st.binary(max_size=20)).map(lambda t: t[0].encode() + b"\x00" + t[1]),
)
arguments = st.lists(
    st.text(alphabet=st.characters(codec="utf-8", exclude_characters="\x00"), max_size=12), max_size=4
)
SETTINGS = settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


@pytest.fixture(scope="module")
def image() -> ImageSpec:
    catalog = load_catalog(stack_catalog("dev"), source="stacks/Pulumi.dev.yaml", root=ROOT, stack="dev")
    return catalog.images[0]


def _scratch(tmp_path: Path) -> Path:
    return Path(tempfile.mkdtemp(dir=tmp_path))


@settings(max_examples=500)
@given(st.text() | texts)
def test_yaml_emitter_round_trips_every_string(value: str) -> None:
    text = dump({"single": value, "listed": [value, {"nested": value}]})
    assert yaml.safe_load(text) == {"single": value, "listed": [value, {"nested": value}]}


def test_yaml_emitter_keeps_plain_scripts_readable() -> None:
    assert dump({"s": "set -e\necho hi\n"}) == "s: |\n  set -e\n  echo hi\n"


@pytest.mark.parametrize("platform", PLATFORMS)
@SETTINGS
@given(content=texts, args=arguments)
def test_script_bytes_and_arguments_arrive_exactly(
    platform: str, image: ImageSpec, tmp_path: Path, content: str, args: list[str]
) -> None:
    scratch = _scratch(tmp_path)
    step = ResolvedStep(kind="script", name="s", content=content, source="images/x/s.sh", args=tuple(args))
    with pytest.MonkeyPatch.context() as monkeypatch:
        outcome = run_platform(
            platform, image, ResolvedSteps((step,), (), ()), scratch, monkeypatch, {"bash": CAPTURE_BASH}
        )
    assert outcome.returncode == 0, outcome.stderr
    ((script, words, _),) = captured(scratch)
    assert script == content.encode()
    assert words == [a.encode() for a in args]
    shutil.rmtree(scratch)


@pytest.mark.parametrize("platform", PLATFORMS)
@SETTINGS
@given(data=file_bytes)
def test_file_bytes_arrive_exactly(platform: str, image: ImageSpec, tmp_path: Path, data: bytes) -> None:
    scratch = _scratch(tmp_path)
    step = ResolvedStep(
        kind="file",
        name="f",
        data=data,
        source="images/x/f.bin",
        destination=str(scratch / "etc" / "f.bin"),
        sha256=hashlib.sha256(data).hexdigest(),
        mode="0644",
        owner=getpass.getuser(),
    )
    with pytest.MonkeyPatch.context() as monkeypatch:
        outcome = run_platform(
            platform, image, ResolvedSteps((step,), (), ()), scratch, monkeypatch, {"bash": CAPTURE_BASH}
        )
    assert outcome.returncode == 0, outcome.stderr
    *_, (_, _, staged) = captured(scratch)  # GCP runs its staging-directory step first
    assert staged is not None
    # GCP stages the base64 object Cloud Build downloaded; the installer decodes it before the sha256 check.
    assert (base64.b64decode(staged) if platform == "gcp" else staged) == data
    shutil.rmtree(scratch)


@SETTINGS
@given(data=file_bytes)
def test_a_file_is_installed_exactly_on_every_platform(image: ImageSpec, tmp_path: Path, data: bytes) -> None:
    # The whole path, installer included, with the real bash: the destination holds the original bytes.
    for platform in PLATFORMS:
        scratch = _scratch(tmp_path)
        destination = scratch / "etc" / "f.bin"
        step = ResolvedStep(
            kind="file",
            name="f",
            data=data,
            source="images/x/f.bin",
            destination=str(destination),
            sha256=hashlib.sha256(data).hexdigest(),
            mode="0644",
            owner=getpass.getuser(),
        )
        with pytest.MonkeyPatch.context() as monkeypatch:
            outcome = run_platform(platform, image, ResolvedSteps((step,), (), ()), scratch, monkeypatch)
        assert outcome.returncode == 0, f"{platform}: {outcome.stderr}"
        assert destination.read_bytes() == data, platform
        shutil.rmtree(scratch)


# --- template syntax -----------------------------------------------------------------------------------


@given(content=texts, args=arguments)
def test_awstoe_and_aib_documents_never_carry_catalog_template_syntax(content: str, args: list[str]) -> None:
    from golden_images.platforms.aws import awstoe
    from golden_images.platforms.azure import aib

    steps = ResolvedSteps((ResolvedStep(kind="script", name="s", content=content, args=tuple(args)),), (), ())
    text = awstoe._render("img", "1.0.0", "d", "ubuntu", steps)
    assert "{{" not in text and "}}" not in text  # AWSTOE would expand {{ … }}; it has no escape
    # AIB hands customizers to Packer, which renders {{ … }} (and no escape survives it).
    customizers = json.loads(json.dumps([c.as_dict() for c in aib.render_customizers(steps, "ubuntu")]))
    assert "{{" not in json.dumps(customizers, ensure_ascii=False)


def _packer() -> str:
    found = shutil.which("packer")
    if found is None:
        pytest.skip("packer is not installed (apt-get install -y packer)")
    return found


def test_real_packer_expands_template_syntax_even_when_escaped(tmp_path: Path) -> None:
    # Why no catalog text may reach a Packer template string: Go's own escape ({{"{{"}}) does not survive
    # Packer, which renders the result again. A null builder and a shell-local provisioner, Debian's packer.
    out = tmp_path / "out"
    command = f"printf %s 'A{{{{\"{{{{\"}}}} .Vars }}}}B' > {shlex.quote(str(out))}"
    template = {
        "builders": [{"type": "null", "communicator": "none"}],
        "provisioners": [
            {"type": "shell-local", "inline": ["true"], "execute_command": ["/bin/sh", "-c", command]}
        ],
    }
    path = tmp_path / "t.json"
    path.write_text(json.dumps(template))
    result = subprocess.run(
        [_packer(), "build", "-color=false", str(path)],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "CHECKPOINT_DISABLE": "1"},
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert out.read_text().startswith("APACKER_BUILDER_TYPE=null")  # expanded, not the literal text


@SETTINGS
@given(content=texts, args=arguments)
def test_packer_template_strings_never_carry_catalog_text(content: str, args: list[str]) -> None:
    steps = ResolvedSteps((ResolvedStep(kind="script", name="s", content=content, args=tuple(args)),), (), ())
    provisioners, _ = gcp_provisioners(steps, "ubuntu")
    for provisioner in provisioners:
        if provisioner["type"] == "shell":
            assert provisioner["execute_command"] == packer.EXECUTE_COMMAND
        assert re.fullmatch(r"[0-9a-z/._-]+", provisioner.get("script") or provisioner["source"])


def test_a_description_with_template_syntax_exits_2_naming_file_and_field(tmp_path: Path) -> None:
    raw = stack_catalog("dev")
    raw["images"][0]["description"] = "Base image built {{ timestamp }}"
    code, document = _preview(write_stack(tmp_path, "dev", raw))
    assert code == 2
    (error,) = document["errors"]
    assert error["path"] == "config.golden-images:catalog.images[0].description"
    assert "'{{'" in error["message"] and "Reword" in error["message"]


def _preview(stack_file: Path) -> tuple[int, dict[str, Any]]:
    from typer.testing import CliRunner

    from golden_images.cli import app

    result = CliRunner().invoke(
        app, ["preview", "--root", str(ROOT), "--json", "--stack", "dev", "--stack-file", str(stack_file)]
    )
    document: dict[str, Any] = json.loads(result.stdout)
    return result.exit_code, document


# --- inline shell: one kind of line break --------------------------------------------------------------


@pytest.mark.parametrize(
    ("char", "named"),
    [
        ("\x85", "NEL"),
        ("\u2028", "U+2028"),
        ("\u2029", "U+2029"),
        ("\r", "carriage return"),
        ("\r\n", "carriage"),
    ],
)
def test_inline_shell_with_a_foreign_line_break_exits_2_naming_file_and_field(
    char: str, named: str, tmp_path: Path
) -> None:
    raw = stack_catalog("dev")
    raw["images"][0]["validate"][0]["shell"] = f"echo keep{char}touch marker"
    code, document = _preview(write_stack(tmp_path, "dev", raw))
    assert code == 2
    (error,) = document["errors"]
    assert error["path"] == "config.golden-images:catalog.images[0].validate[0].shell"
    assert named in error["message"] and "script: file" in error["message"]
    assert document["resources"] == []


def test_inline_shell_problem_names_the_line() -> None:
    assert shellsteps.inline_shell_problem("a\nb\nc\u2028d") is not None
    assert "line 3" in (shellsteps.inline_shell_problem("a\nb\nc\u2028d") or "")
    assert shellsteps.inline_shell_problem("plain\n\ttabs and 'quotes' {{ }}\n") is None


@pytest.mark.parametrize("stack", ["dev", "staging", "prod"])
def test_shipped_packer_templates_hold_template_syntax_only_in_the_fixed_execute_command(stack: str) -> None:
    from tests.components.gcp.gcp_helpers import rendered_builds

    def strings(value: object) -> list[str]:
        if isinstance(value, str):
            return [value]
        if isinstance(value, dict):
            return [s for v in value.values() for s in strings(v)]
        if isinstance(value, list):
            return [s for v in value for s in strings(v)]
        return []

    for rendered in rendered_builds(stack).values():
        found = [s for s in strings(json.loads(rendered.template_object.content)) if "{{" in s or "}}" in s]
        assert found and set(found) == {packer.EXECUTE_COMMAND}
