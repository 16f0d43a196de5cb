"""Stack outputs in the preview: an unknown part of an export hides only that part, as under the engine.

A consumer program (written into tmp_path) exports a plain value, a resource output that a preview cannot know
(a new resource's computed ``arn``), a record mixing both, and secrets. The preview must show every known value,
each unknown one as unknown, and secrets masked — never one unknown turning the whole export unknown.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from pulumi.runtime import rpc

from golden_images.preview.present import SECRET_MASK, UNKNOWN_MASK, _mask
from golden_images.preview.runner import run_program

PROJECT_YAML = """\
name: outputs-consumer
runtime:
  name: python
"""

STACK_YAML = """\
config:
  outputs-consumer:team: web
"""

#: ``Thing`` declares ``arn`` as an output the provider computes: in a preview it is unknown.
MAIN = """
import pulumi


class Thing(pulumi.CustomResource):
    arn: pulumi.Output[str]

    def __init__(self, name: str, size: int) -> None:
        super().__init__("test:index:Thing", name, {"size": size, "arn": None})


thing = Thing("logs", 3)
pulumi.export("known", "hello")
pulumi.export("unknown", thing.arn)
pulumi.export(
    "record",
    {"name": "logs", "size": thing.size, "arn": thing.arn, "ports": [443, thing.arn], "plain": {"a": 1}},
)
pulumi.export("token", pulumi.Output.secret("s3cr3t-token-value"))
pulumi.export("unknown_secret", pulumi.Output.secret(thing.arn))
"""

SECRET_VALUE = "s3cr3t-token-value"


@pytest.fixture
def consumer(tmp_path: Path) -> Path:
    project = tmp_path / "consumer"
    project.mkdir()
    (project / "Pulumi.yaml").write_text(PROJECT_YAML)
    (project / "Pulumi.prod.yaml").write_text(STACK_YAML)
    (project / "__main__.py").write_text(MAIN)
    return project


def test_preview_json_keeps_every_known_output(consumer: Path, tmp_path: Path) -> None:
    cli = Path(sys.executable).with_name("golden-images")
    result = subprocess.run(
        [str(cli), "preview", "--root", str(consumer), "--stack", "prod", "--json", "--no-policy"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    outputs = json.loads(result.stdout)["outputs"]
    assert outputs == {
        "known": "hello",
        "unknown": UNKNOWN_MASK,
        # The record keeps its known fields; only the computed arn (in both places) is unknown.
        "record": {
            "name": "logs",
            "size": 3,
            "arn": UNKNOWN_MASK,
            "ports": [443, UNKNOWN_MASK],
            "plain": {"a": 1},
        },
        "token": SECRET_MASK,
        "unknown_secret": SECRET_MASK,
    }
    assert SECRET_VALUE not in result.stdout


def test_program_outputs_match_what_the_engine_receives(
    consumer: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(consumer)
    run = run_program(
        consumer,
        "prod",
        stack_file=consumer / "Pulumi.prod.yaml",
        project="outputs-consumer",
        engine_unknowns=True,
    )
    assert run.error is None, run.error
    record: dict[str, Any] = run.outputs["record"]
    assert record["name"] == "logs" and record["size"] == 3 and record["plain"] == {"a": 1}
    assert record["arn"] == rpc.UNKNOWN and record["ports"] == [443, rpc.UNKNOWN]
    assert run.outputs["unknown"] == rpc.UNKNOWN
    # Secrets stay in the engine's envelope (value inside), known or not.
    assert run.outputs["token"] == {rpc._special_sig_key: rpc._special_secret_sig, "value": SECRET_VALUE}
    assert run.outputs["unknown_secret"]["value"] == rpc.UNKNOWN
    # The stack resource the pack analyzes holds the SDK's own wire form of the same exports: the preview's
    # outputs agree with it leaf for leaf (known values, unknown and secret positions).
    (stack,) = [r for r in run.engine_resources if r.type == "pulumi:pulumi:Stack"]
    assert _mask(run.outputs) == _mask(stack.outputs)
