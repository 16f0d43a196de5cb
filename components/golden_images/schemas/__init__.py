"""Published JSON Schemas (package data, read with :func:`version_record_schema`)."""

from __future__ import annotations

import json
from importlib import resources
from typing import Any

VERSION_RECORD_SCHEMA = "version-record.schema.json"


def version_record_schema() -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) of one version record, read from the installed package."""
    text = resources.files(__name__).joinpath(VERSION_RECORD_SCHEMA).read_text(encoding="utf-8")
    schema: dict[str, Any] = json.loads(text)
    return schema
