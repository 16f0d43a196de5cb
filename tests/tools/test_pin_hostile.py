"""Hostile YAML reaches ``pin`` and the pin file too (both arrive through pull requests): the same bounded
reader as the catalog loader refuses aliases, duplicate keys and non-UTF-8 text with the field, and the
command exits 2 — never a traceback, never an expansion."""

from __future__ import annotations

from pathlib import Path

import pytest

from golden_images.catalog.loader import CatalogError, load_catalog_file
from golden_images.platforms.aws.pins import load_pins
from golden_images.tools.pin import StackError, ssm_parents

ALIAS_BOMB = "a: &a [x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]\n"
HOSTILE = {
    "alias": (ALIAS_BOMB.encode(), "alias"),
    "duplicate-key": (b"pins: {}\npins: {}\n", "pins"),
    "non-utf8": (b"pins:\n  /p: {us-east-1: {ami: \xff}}\n", "UTF-8"),
}
STACK = b"""config:
  golden-images:catalog:
    environment: dev
    images:
      - {name: base, aws: {regions: [us-east-1]}}
      - {name: base, aws: {regions: [us-east-1]}, aws: {}}
"""


@pytest.mark.parametrize("case", sorted(HOSTILE))
def test_pin_file_refused_with_reason(tmp_path: Path, case: str) -> None:
    data, words = HOSTILE[case]
    path = tmp_path / "dev.yaml"
    path.write_bytes(data)
    with pytest.raises(ValueError, match=words):
        load_pins(path)


def test_hostile_pin_file_is_a_catalog_issue_not_a_traceback(tmp_path: Path) -> None:
    (tmp_path / "stacks" / "pins").mkdir(parents=True)
    (tmp_path / "Pulumi.yaml").write_text("name: golden-images\nruntime: python\n")
    (tmp_path / "stacks" / "pins" / "dev.yaml").write_bytes(ALIAS_BOMB.encode())
    stack = tmp_path / "stacks" / "Pulumi.dev.yaml"
    stack.write_text("config:\n  golden-images:catalog:\n    environment: dev\n    images: []\n")
    with pytest.raises(CatalogError) as info:
        load_catalog_file(stack, root=tmp_path, stack="dev")
    pins = [i for i in info.value.issues if i.path == "pins"]
    assert pins and pins[0].file == "stacks/pins/dev.yaml" and "alias" in pins[0].message


@pytest.mark.parametrize(
    ("data", "words"),
    [(STACK, "aws"), (ALIAS_BOMB.encode(), "alias"), (b"config: {k: \xfe}\n", "UTF-8")],
    ids=["duplicate-key", "alias", "non-utf8"],
)
def test_pin_refuses_hostile_stack_files(tmp_path: Path, data: bytes, words: str) -> None:
    stack = tmp_path / "Pulumi.dev.yaml"
    stack.write_bytes(data)
    with pytest.raises(StackError, match=words) as info:
        ssm_parents(stack)
    assert str(stack) in str(info.value)
