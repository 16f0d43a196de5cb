"""Deterministic YAML output (PyYAML) that round-trips every string exactly.

Multi-line strings are written as literal ``|`` blocks when that is exact and readable; anything a literal
block (or a plain / single-quoted scalar) would change — trailing whitespace, ``\\r``, NEL / LS / PS (line
breaks to a YAML parser), BOM, tabs, control characters — is written as a double-quoted scalar with escapes
instead. Nothing is ever stripped or normalised.
"""

from __future__ import annotations

import re
from typing import Any

import yaml


class _Dumper(yaml.SafeDumper):
    """SafeDumper that keeps insertion order and writes multi-line strings as ``|`` blocks where exact."""


# Characters a YAML parser would not read back as written in a literal block or a plain/single-quoted
# scalar: CR, NEL, LS, PS (line breaks), BOM, and every control character except "\n".
_NEEDS_ESCAPES = re.compile("[\x00-\x09\x0b-\x1f\x7f-\x9f\u2028\u2029\ufeff]")
# A literal block cannot carry whitespace at the end of a line (PyYAML refuses it rather than risk it).
_TRAILING_SPACE = re.compile(r"[ \t]\n|[ \t]$")


def _str(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    if _NEEDS_ESCAPES.search(value) or ("\n" in value and _TRAILING_SPACE.search(value)):
        return dumper.represent_scalar("tag:yaml.org,2002:str", value, style='"')
    if "\n" in value:
        return dumper.represent_scalar("tag:yaml.org,2002:str", value, style="|")
    return dumper.represent_scalar("tag:yaml.org,2002:str", value)


_Dumper.add_representer(str, _str)


def dump(document: Any) -> str:
    """YAML text of ``document``: keys in insertion order, block style, strings exact (literal blocks where
    readable, escaped double-quoted scalars otherwise)."""
    return yaml.dump(
        document, Dumper=_Dumper, sort_keys=False, default_flow_style=False, width=4096, allow_unicode=True
    )
