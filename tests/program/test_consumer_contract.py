"""The consumer contract: every stack's version records validate against the published JSON Schema, and
``launch`` has the same shape in every environment."""

from __future__ import annotations

import copy
import re
from typing import Any

import jsonschema
import pytest

from golden_images.catalog.loader import load_catalog_file
from golden_images.core.build import ImageBuild
from golden_images.golden_image import launch_reference
from golden_images.preview.runner import run_program
from golden_images.schemas import version_record_schema
from tests.conftest import ROOT

STACKS = ("dev", "staging", "prod")


@pytest.fixture(scope="module")
def records() -> dict[str, dict[str, dict[str, Any]]]:
    out = {}
    for stack in STACKS:
        run = run_program(ROOT, stack)
        assert run.error is None, run.error
        out[stack] = run.outputs["images"]
    return out


@pytest.fixture(scope="module")
def validator() -> jsonschema.Draft202012Validator:
    schema = version_record_schema()
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


@pytest.mark.parametrize("stack", STACKS)
def test_every_record_validates(
    stack: str, records: dict[str, Any], validator: jsonschema.Draft202012Validator
) -> None:
    assert records[stack]
    for name, record in records[stack].items():
        errors = [
            f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in validator.iter_errors(record)
        ]
        assert errors == [], (stack, name, errors)
        assert set(record["launch"]) == set(record["artifacts"])


def test_launch_shape_is_the_same_in_every_environment(records: dict[str, Any]) -> None:
    def keys(launch: dict[str, Any]) -> dict[str, Any]:
        per_location = {"aws", "proxmox"}
        return {
            p: sorted({k for loc in v.values() for k in loc}) if p in per_location else sorted(v)
            for p, v in launch.items()
        }

    shapes = {stack: keys(records[stack]["base-ubuntu"]["launch"]) for stack in STACKS}
    assert shapes["dev"] == shapes["staging"] == shapes["prod"], shapes
    for stack in STACKS:
        for record in records[stack].values():
            for region in record["launch"].get("aws", {}).values():
                assert region["resolve"] == f"resolve:ssm:{region['ssm_parameter']}"
                assert region["ssm_parameter"].endswith(f"/{stack}/{record['name']}/ami-id")
            # No commands or code snippets: every launch string is an id, a resolve: reference or a URL.
            for text in _strings(record["launch"]):
                assert " " not in text and "(" not in text, text


def _strings(value: Any) -> list[str]:
    if isinstance(value, dict):
        return [s for v in value.values() for s in _strings(v)]
    return [value] if isinstance(value, str) else []


def test_launch_references_match_what_was_registered(records: dict[str, Any]) -> None:
    prod = records["prod"]["base-ubuntu"]
    assert set(prod["launch"]["aws"]) == {"us-east-1", "eu-west-1", "eu-central-1"}
    assert prod["launch"]["azure"]["definition_id"] == prod["artifacts"]["azure"]["gallery_image_id"]
    assert prod["launch"]["azure"]["version_id"] == prod["artifacts"]["azure"]["version_id"]
    gcp = prod["launch"]["gcp"]
    assert gcp["family_self_link"].endswith(
        f"/projects/{prod['artifacts']['gcp']['project']}/global/images/family/{prod['artifacts']['gcp']['family']}"
    )
    assert gcp["image_self_link"].endswith(f"/images/{prod['artifacts']['gcp']['image']}")
    assert prod["launch"]["proxmox"] == {n: {"vm_id": v} for n, v in prod["artifacts"]["proxmox"].items()}
    assert records["dev"]["base-ubuntu"]["launch"]["azure"]["version_id"] is None


def test_schema_rejects_the_old_unlaunchable_forms(
    records: dict[str, Any], validator: jsonschema.Draft202012Validator
) -> None:
    good = records["dev"]["base-ubuntu"]
    cases = {
        "aws ssm: form": ("aws", lambda x: x["us-east-1"].update(resolve="ssm:/golden-images/x/ami-id")),
        "gcp snippet": ("gcp", lambda x: x.update(family_self_link="gcp.compute.get_image(family='x')")),
        "missing key": ("azure", lambda x: x.pop("version_id")),
        "extra key": ("azure", lambda x: x.update(resolve="az image builder show-runs")),
        "string vm id": ("proxmox", lambda x: x["pve-dev1"].update(vm_id="1010402")),
    }
    for label, (platform, mutate) in cases.items():
        bad = copy.deepcopy(good)
        mutate(bad["launch"][platform])
        assert not validator.is_valid(bad), label
    assert validator.is_valid(good)


def test_a_baked_ami_is_the_ami_id_of_its_region() -> None:
    stack_file = ROOT / "stacks" / "Pulumi.prod.yaml"
    catalog = load_catalog_file(stack_file, root=ROOT, stack="prod")
    image = next(i for i in catalog.images if i.aws is not None)
    build = ImageBuild.from_catalog(catalog, image, ROOT)
    parameter = f"/golden-images/prod/{image.name}/ami-id"
    launch = launch_reference(
        "aws", {"us-east-1": "ami-0123456789abcdef0", "eu-west-1": f"ssm:{parameter}"}, build
    )
    assert launch == {
        "us-east-1": {
            "resolve": f"resolve:ssm:{parameter}",
            "ssm_parameter": parameter,
            "ami_id": "ami-0123456789abcdef0",
        },
        "eu-west-1": {"resolve": f"resolve:ssm:{parameter}", "ssm_parameter": parameter, "ami_id": None},
    }


class _Resolved:
    """Stands in for an Output whose value is known: ``apply`` runs the consumer's lambda on it."""

    def __init__(self, value: Any) -> None:
        self.value = value

    def apply(self, func: Any) -> _Resolved:
        return _Resolved(func(self.value))


def _readme_examples() -> tuple[str, str]:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text[text.index("Consumers read the version records through a stack reference") :]
    python = section[
        section.index("```python\n") + 10 : section.index("```\n", section.index("```python\n") + 10)
    ]
    start = section.index("```typescript\n") + 14
    return python, section[start : section.index("```\n", start)]


def test_readme_python_consumer_example_runs_against_the_prod_record(records: dict[str, Any]) -> None:
    python, _ = _readme_examples()

    class StackReference:
        def __init__(self, name: str) -> None:
            assert name.endswith("/prod")

        def get_output(self, key: str) -> _Resolved:
            assert key == "images"
            return _Resolved(records["prod"])

    namespace: dict[str, Any] = {"pulumi": type("pulumi", (), {"StackReference": StackReference})}
    exec(compile(python, "README.md", "exec"), namespace)
    assert namespace["image_id"].value == "resolve:ssm:/golden-images/prod/base-ubuntu/ami-id"
    launch = records["prod"]["base-ubuntu"]["launch"]
    assert namespace["gallery_image"].value == launch["azure"]["definition_id"]
    assert namespace["gce_image"].value == launch["gcp"]["family_self_link"]


def test_readme_typescript_consumer_example_uses_documented_fields(records: dict[str, Any]) -> None:
    _, typescript = _readme_examples()
    launch = records["prod"]["base-ubuntu"]["launch"]
    paths = re.findall(r"l\.(\w+)\[\"([\w-]+)\"\]\.(\w+)", typescript)
    assert len(paths) == 2
    properties = version_record_schema()["properties"]["launch"]["properties"]
    for platform, location, field in paths:
        assert field in properties[platform]["additionalProperties"]["required"]
        assert launch[platform][location][field] is not None
