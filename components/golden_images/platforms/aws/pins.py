"""Pinned parent images: the reviewed record that turns a floating SSM parameter into an exact AMI id.

``golden-images pin`` resolves every AWS parent given as an SSM parameter and writes
``stacks/pins/<env>.yaml``; the catalog loader reads it so the recipe gets the exact AMI id. The file is
deterministic (sorted keys, no timestamps finer than a date) so a pin change is a small, reviewable diff::

    pins:
      /aws/service/canonical/ubuntu/server/24.04/stable/current/amd64/hvm/ebs-gp3/ami-id:
        us-east-1: {ami: ami-0123456789abcdef0, resolved_at: '2026-11-28'}
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Annotated

import yaml
from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from golden_images.core import rules, safeyaml

AmiId = Annotated[str, StringConstraints(pattern=rules.AMI_ID_PATTERN)]


class Pin(BaseModel):
    """One resolved parameter in one region."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    ami: AmiId
    resolved_at: dt.date


class PinFile(BaseModel):
    """``pins``: SSM parameter path → region → :class:`Pin`. An absent file means no pins."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    pins: dict[str, dict[str, Pin]] = Field(default_factory=dict)

    def lookup(self, parameter: str, region: str) -> Pin | None:
        """The pin for ``parameter`` in ``region``, or ``None``."""
        return self.pins.get(parameter, {}).get(region)


def pins_path(root: Path, environment: str) -> Path:
    """Where the pins of ``environment`` live: ``<root>/stacks/pins/<environment>.yaml``."""
    return root / "stacks" / "pins" / f"{environment}.yaml"


def load_pins(path: Path) -> PinFile:
    """Read a pin file; a missing file is an empty :class:`PinFile`. Invalid content raises ``ValueError``
    (pydantic's ``ValidationError``, or a YAML refusal) naming the field."""
    if not path.is_file():
        return PinFile()
    # Pin files arrive through pull requests like stack files: the same bounded reader (no alias expansion,
    # bounded nesting, duplicate keys refused), its refusal reported as a ValueError naming field and line.
    try:
        raw = safeyaml.load(safeyaml.decode(path.read_bytes())) or {}
    except safeyaml.YamlError as exc:
        where = f"{exc.path}: " if exc.path else ""
        raise ValueError(f"{where}{exc}") from None
    return PinFile.model_validate(raw)


def dump_pins(pin_file: PinFile) -> str:
    """Deterministic YAML for a pin file (sorted parameters and regions)."""
    data = {
        "pins": {
            param: {
                region: {"ami": pin.ami, "resolved_at": pin.resolved_at.isoformat()}
                for region, pin in sorted(regions.items())
            }
            for param, regions in sorted(pin_file.pins.items())
        }
    }
    header = "# Written by `golden-images pin`. Review like code: each line pins a parent AMI.\n"
    return header + yaml.safe_dump(data, sort_keys=True, default_flow_style=False)
