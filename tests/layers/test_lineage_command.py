"""``golden-images lineage``: mounted here exactly as cli.py mounts it (``app.command("lineage")``)."""

from __future__ import annotations

import json

import typer
from typer.testing import CliRunner

from golden_images import lineage
from tests.conftest import ROOT

app = typer.Typer()
app.command("lineage")(lineage.command)
# A second command keeps typer from collapsing the app into the bare command.
app.command("noop")(lambda: None)


def _run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, ["lineage", *args, "--root", str(ROOT)])
    return result.exit_code, result.stdout, result.stderr


def test_json_names_the_chain_in_every_stack() -> None:
    code, out, _ = _run("app-runtime", "--json")
    assert code == 0
    document = json.loads(out)
    stacks = {entry["stack"]: entry for entry in document["stacks"]}
    assert set(stacks) == {"dev", "staging", "prod"}
    for entry in stacks.values():
        assert [a["ref"] for a in entry["ancestors"]] == ["base-ubuntu@1.4.2"]
        assert entry["descendants"] == []
    prod = stacks["prod"]
    # Prod's AWS root is pinned: the vendor source is an AMI id, not the floating SSM parameter.
    assert prod["vendor"]["aws"].startswith("ami-")
    assert stacks["dev"]["vendor"]["aws"].startswith("ssm:")
    assert stacks["dev"]["image"]["fingerprint"] != prod["image"]["fingerprint"]


def test_descendants_of_the_base() -> None:
    code, out, _ = _run("base-ubuntu", "--stack", "dev", "--json")
    assert code == 0
    (entry,) = json.loads(out)["stacks"]
    assert entry["ancestors"] == []
    assert [(d["ref"], d["parent"]) for d in entry["descendants"]] == [("app-runtime@2.1.0", "base-ubuntu")]
    code, text, _ = _run("base-ubuntu", "--stack", "dev")
    assert code == 0
    assert "app-runtime@2.1.0" in text and "(on base-ubuntu)" in text


def test_an_unknown_image_exits_2_naming_the_stack_file() -> None:
    code, _, err = _run("base-ubunt", "--stack", "dev")
    assert code == 2
    assert "stacks/Pulumi.dev.yaml: no image 'base-ubunt'" in err and "did you mean 'base-ubuntu'" in err
