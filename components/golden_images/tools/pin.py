"""``golden-images pin``: resolve SSM-parameter parents to exact AMI ids and record them.

The pin file (``stacks/pins/<env>.yaml``, see :mod:`golden_images.platforms.aws.pins`) is what the catalog reads,
so a base-image update is a small reviewable diff. Determinism: parameters and regions are sorted by
:func:`~golden_images.platforms.aws.pins.dump_pins`, and an unchanged AMI keeps its original ``resolved_at`` date —
re-running ``pin`` without a new base image changes nothing.

:func:`ssm_parents` reads the stack YAML directly (the catalog's ``defaults.aws`` deep-merged under each
image's ``aws``). It is the single place to switch to ``golden_images.catalog.loader.load_catalog_file``.
"""

from __future__ import annotations

import datetime as dt
import enum
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError  # type: ignore[import-untyped,unused-ignore]

from golden_images.core import safeyaml
from golden_images.core.rules import is_ami_id, is_aws_region
from golden_images.platforms.aws.pins import Pin, PinFile, dump_pins, load_pins, pins_path
from golden_images.tools.aws import ClientFactory, error_text

CATALOG_KEY = "golden-images:catalog"
_SSM_BATCH = 10  # GetParameters accepts at most 10 names


class StackError(ValueError):
    """The stack file cannot be read as a catalog (bad input: exit code 2)."""


def _deep_merge(base: Mapping[str, Any], override: Mapping[str, Any]) -> dict[str, Any]:
    merged: dict[str, Any] = dict(base)
    for key, value in override.items():
        if isinstance(value, Mapping) and isinstance(merged.get(key), Mapping):
            merged[key] = _deep_merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def stack_environment(stack_file: Path) -> str:
    """``stacks/Pulumi.<env>.yaml`` → ``<env>``; the catalog's ``environment`` when the name does not say."""
    name = stack_file.name
    if name.startswith("Pulumi.") and name.endswith(".yaml"):
        return name[len("Pulumi.") : -len(".yaml")]
    catalog = _catalog(stack_file)
    env = catalog.get("environment")
    if not isinstance(env, str) or not env:
        raise StackError(f"{stack_file}: cannot tell the environment (name it Pulumi.<env>.yaml)")
    return env


def _catalog(stack_file: Path) -> Mapping[str, Any]:
    try:
        document = safeyaml.load(safeyaml.decode(stack_file.read_bytes()))
    except FileNotFoundError:
        raise StackError(f"{stack_file}: stack file does not exist") from None
    except safeyaml.YamlError as exc:  # the loader's bounded reader: no alias bombs from a pull request
        where = f"{exc.path}: " if exc.path else ""
        raise StackError(f"{stack_file}: {where}{exc}") from None
    config = document.get("config") if isinstance(document, Mapping) else None
    catalog = config.get(CATALOG_KEY) if isinstance(config, Mapping) else None
    if not isinstance(catalog, Mapping):
        raise StackError(f"{stack_file}: no config.{CATALOG_KEY} mapping")
    return catalog


def ssm_parents(stack_file: Path) -> dict[str, list[str]]:
    """SSM parameter → sorted regions, for every AWS image whose parent is an SSM parameter.

    Reads ``config: golden-images:catalog: {defaults: {aws: …}, images: [{name, aws: {regions, parent:
    {ssm_parameter}}}]}`` with ``defaults.aws`` deep-merged under each image's ``aws``. Raises
    :class:`StackError` on a file that is not such a catalog or names an invalid region.
    """
    catalog = _catalog(stack_file)
    defaults = catalog.get("defaults") or {}
    default_aws = defaults.get("aws") if isinstance(defaults, Mapping) else None
    images = catalog.get("images") or []
    if not isinstance(images, list):
        raise StackError(f"{stack_file}: {CATALOG_KEY}.images must be a list")
    parents: dict[str, set[str]] = defaultdict(set)
    for index, image in enumerate(images):
        if not isinstance(image, Mapping) or image.get("aws") is None:
            continue
        own = image.get("aws")
        if not isinstance(own, Mapping):
            raise StackError(f"{stack_file}: images[{index}].aws must be a mapping")
        aws = _deep_merge(default_aws, own) if isinstance(default_aws, Mapping) else dict(own)
        parent = aws.get("parent")
        parameter = parent.get("ssm_parameter") if isinstance(parent, Mapping) else None
        if not parameter:
            continue
        regions = aws.get("regions") or []
        if not isinstance(parameter, str) or not isinstance(regions, list) or not regions:
            raise StackError(f"{stack_file}: images[{index}].aws needs regions and a string ssm_parameter")
        for region in regions:
            if not is_aws_region(region):
                raise StackError(
                    f"{stack_file}: images[{index}].aws.regions: {region!r} is not an AWS region"
                )
            parents[parameter].add(region)
    return {param: sorted(regions) for param, regions in sorted(parents.items())}


class Change(enum.StrEnum):
    """How a pin differs from what is recorded."""

    UNCHANGED = "unchanged"
    NEW = "new"
    UPDATED = "updated"
    REMOVED = "removed"
    UNRESOLVED = "unresolved"
    """The lookup failed (see :attr:`PinResult.errors`): what is pinned stays, but nothing is known to be
    current."""


@dataclass(frozen=True)
class PinChange:
    """One ``(parameter, region)`` row of the comparison."""

    parameter: str
    region: str
    old: str | None
    new: str | None
    change: Change


@dataclass(frozen=True)
class PinResult:
    """Outcome of resolving one stack. ``errors`` maps ``"<region> <parameter>"`` to the failure."""

    environment: str
    path: Path
    pins: PinFile
    changes: tuple[PinChange, ...]
    errors: dict[str, str]

    @property
    def changed(self) -> bool:
        """True when any row is ``new``, ``updated`` or ``removed`` (an ``unresolved`` row is an error, not a
        change)."""
        return any(c.change not in (Change.UNCHANGED, Change.UNRESOLVED) for c in self.changes)


def resolve_parameters(
    factory: ClientFactory, parents: Mapping[str, Sequence[str]]
) -> tuple[dict[str, dict[str, str]], dict[str, str]]:
    """``GetParameters`` per region (batches of 10). Returns ``({param: {region: ami}}, errors)``; a region
    whose calls fail or a parameter that is missing or not an AMI id is an error, the rest resolves."""
    by_region: dict[str, list[str]] = defaultdict(list)
    for parameter, regions in parents.items():
        for region in regions:
            by_region[region].append(parameter)
    resolved: dict[str, dict[str, str]] = defaultdict(dict)
    errors: dict[str, str] = {}
    for region, names in sorted(by_region.items()):
        ssm = factory.client("ssm", region)
        for start in range(0, len(names), _SSM_BATCH):
            batch = names[start : start + _SSM_BATCH]
            try:
                response = ssm.get_parameters(Names=batch)
            except (ClientError, BotoCoreError) as exc:
                for name in batch:
                    errors[f"{region} {name}"] = error_text(exc)
                continue
            for name in response.get("InvalidParameters", ()):
                errors[f"{region} {name}"] = "parameter not found"
            for param in response.get("Parameters", ()):
                value = param.get("Value")
                if is_ami_id(value):
                    resolved[param["Name"]][region] = str(value)
                else:
                    errors[f"{region} {param['Name']}"] = f"value {value!r} is not an AMI id"
    return dict(resolved), errors


def compare(
    old: PinFile, resolved: Mapping[str, Mapping[str, str]], today: dt.date
) -> tuple[PinFile, tuple[PinChange, ...]]:
    """The new pin file (exactly the resolved parameters and regions; unchanged AMIs keep their date) and
    the change rows, sorted by parameter and region."""
    pins: dict[str, dict[str, Pin]] = {}
    changes: list[PinChange] = []
    for parameter, regions in resolved.items():
        for region, ami in regions.items():
            before = old.lookup(parameter, region)
            if before is not None and before.ami == ami:
                pins.setdefault(parameter, {})[region] = before
                changes.append(PinChange(parameter, region, ami, ami, Change.UNCHANGED))
            else:
                pins.setdefault(parameter, {})[region] = Pin(ami=ami, resolved_at=today)
                kind = Change.NEW if before is None else Change.UPDATED
                changes.append(PinChange(parameter, region, before.ami if before else None, ami, kind))
    for parameter, recorded in old.pins.items():
        for region, pin in recorded.items():
            if region not in resolved.get(parameter, {}):
                changes.append(PinChange(parameter, region, pin.ami, None, Change.REMOVED))
    changes.sort(key=lambda c: (c.parameter, c.region))
    return PinFile(pins=pins), tuple(changes)


def pin_stack(
    factory: ClientFactory,
    stack_file: Path,
    *,
    root: Path,
    write: bool,
    today: dt.date | None = None,
) -> PinResult:
    """Resolve ``stack_file``'s SSM parents and compare with its pin file; with ``write`` (and no errors)
    write the new pin file. Raises :class:`StackError` for bad input, ``ValueError`` for a broken pin file."""
    environment = stack_environment(stack_file)
    parents = ssm_parents(stack_file)
    path = pins_path(root, environment)
    try:
        old = load_pins(path)
    except ValueError as exc:
        raise StackError(f"{path}: not a valid pin file: {exc}") from None
    resolved, errors = resolve_parameters(factory, parents)
    if errors:
        # Keep whatever was pinned for what failed: a failed lookup is not a removal.
        for parameter, regions in parents.items():
            for region in regions:
                before = old.lookup(parameter, region)
                if f"{region} {parameter}" in errors and before is not None:
                    resolved.setdefault(parameter, {})[region] = before.ami
    new, compared = compare(old, resolved, today or dt.datetime.now(dt.UTC).date())
    # A failed lookup is neither "unchanged" (nobody knows what is current) nor a removal: its own row.
    failed = {
        (parameter, region)
        for parameter, regions in parents.items()
        for region in regions
        if f"{region} {parameter}" in errors
    }
    changes = tuple(
        sorted(
            [c for c in compared if (c.parameter, c.region) not in failed]
            + [
                PinChange(p, r, pin.ami if (pin := old.lookup(p, r)) else None, None, Change.UNRESOLVED)
                for p, r in failed
            ],
            key=lambda c: (c.parameter, c.region),
        )
    )
    if write and not errors and (new.pins or path.is_file()):
        text = dump_pins(new)
        if not path.is_file() or path.read_text(encoding="utf-8") != text:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
    return PinResult(environment, path, new, changes, dict(sorted(errors.items())))
