"""Load and validate a catalog from a stack's structured config.

Every problem is collected and reported at once, each naming the stack file, the dotted path of the field
inside that file (``config.golden-images:catalog.images[0].version``) and what is allowed. Nothing is
returned — so nothing can be registered — unless the whole catalog is valid.
"""

from __future__ import annotations

import copy
import difflib
import functools
import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError

from golden_images.catalog import layers
from golden_images.catalog.spec import Catalog, FileStep, ScriptStep
from golden_images.core import repofiles, safeyaml
from golden_images.core.image import PackagesStep, ShellStep
from golden_images.core.rules import ENVIRONMENTS
from golden_images.core.tokens import CONFIG_NAMESPACE
from golden_images.platforms import PLATFORMS
from golden_images.platforms.aws import pins as pins_mod

#: The key holding the catalog (``CONFIG_NAMESPACE`` is re-exported for callers of this module).
CATALOG_KEY = f"{CONFIG_NAMESPACE}:catalog"
__all__ = ["CATALOG_KEY", "CONFIG_NAMESPACE", "CatalogError", "Issue", "load_catalog", "load_catalog_file"]


@dataclass(frozen=True)
class Issue:
    """One validation problem: ``file`` (stack file), ``path`` (dotted path in it) and ``message``."""

    file: str
    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.file}: {self.path}: {self.message}"


class CatalogError(ValueError):
    """The catalog is invalid; ``issues`` lists every problem found."""

    def __init__(self, issues: Sequence[Issue]) -> None:
        self.issues = tuple(issues)
        count = len(self.issues)
        lines = "\n".join(f"  - {issue}" for issue in self.issues)
        super().__init__(f"invalid golden-images catalog ({count} problem{'s' * (count != 1)}):\n{lines}")


def deep_merge(base: Mapping[str, Any], override: Mapping[str, Any]) -> dict[str, Any]:
    """``override`` on top of ``base``, recursing into nested mappings (lists are replaced, not merged)."""
    merged: dict[str, Any] = copy.deepcopy(dict(base))
    for key, value in override.items():
        if isinstance(value, Mapping) and isinstance(merged.get(key), Mapping):
            merged[key] = deep_merge(merged[key], value)
        else:
            merged[key] = copy.deepcopy(value)
    return merged


def _apply_platform_defaults(raw: Mapping[str, Any]) -> dict[str, Any]:
    """Merge ``defaults.<platform>`` under every image that has that platform section (even ``{}``)."""
    data = dict(raw)
    defaults = data.get("defaults")
    images = data.get("images")
    if not isinstance(defaults, Mapping) or not isinstance(images, list):
        return data
    merged_images: list[Any] = []
    for original in images:
        image = dict(original) if isinstance(original, Mapping) else original
        if isinstance(image, dict):
            for platform in PLATFORMS:
                base = defaults.get(platform)
                if platform in image and isinstance(base, Mapping):
                    own = image[platform] if image[platform] is not None else {}
                    if _has_golden_parent(own):
                        # A layered section starts from its parent image: the defaults' vendor source
                        # (parent/source fields) does not apply to it.
                        fields = getattr(PLATFORMS[platform].section, "SOURCE_FIELDS", ())
                        base = {k: v for k, v in base.items() if k not in fields}
                    image[platform] = deep_merge(base, own) if isinstance(own, Mapping) else own
        merged_images.append(image)
    data["images"] = merged_images
    return data


def _has_golden_parent(section: Any) -> bool:
    """True when a raw platform section names a catalog image as its parent (``parent: {image: …}``)."""
    parent = section.get("parent") if isinstance(section, Mapping) else None
    return isinstance(parent, Mapping) and "image" in parent


def _dotted(prefix: str, loc: Sequence[int | str]) -> str:
    path = prefix
    for part in loc:
        if isinstance(part, int):
            path += f"[{part}]"
        else:
            path += f".{part}" if path else str(part)
    return path


def _model_at(loc: Sequence[int | str]) -> type[BaseModel] | None:
    """The catalog model that owns the field at ``loc`` (best effort, for listing allowed keys)."""
    model: Any = Catalog
    for part in loc:
        if isinstance(part, int) or model is None:
            continue
        field = model.model_fields.get(part) or next(
            (f for f in model.model_fields.values() if f.alias == part), None
        )
        if field is None:
            # A discriminated-union tag (``shell``) or a dict key: descend into the union member or stay.
            continue
        model = _first_model(field.annotation)
    return model if isinstance(model, type) and issubclass(model, BaseModel) else None


def _first_model(annotation: Any) -> Any:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in getattr(annotation, "__args__", ()) or ():
        found = _first_model(arg)
        if found is not None:
            return found
    for meta in getattr(annotation, "__metadata__", ()) or ():
        found = _first_model(meta)
        if found is not None:
            return found
    origin = getattr(annotation, "__origin__", None)
    return _first_model(origin) if origin not in (None, annotation) else None


#: The keys that say what a step is (exactly one per step).
_STEP_KINDS = ("shell", "script", "file", "packages")


def _did_you_mean(word: object, choices: Sequence[str]) -> str:
    """``"; did you mean 'x'?"`` for the choice closest to a misspelt ``word``, ``""`` when none is close."""
    close = difflib.get_close_matches(str(word), list(choices), n=1, cutoff=0.6)
    return f"; did you mean {close[0]!r}?" if close else ""


def _message(error: Mapping[str, Any]) -> str:
    kind = error.get("type", "")
    loc = error.get("loc", ())
    value = error.get("input")
    if kind == "extra_forbidden":
        owner = _model_at(loc[:-1])
        allowed = sorted((f.alias or n) for n, f in owner.model_fields.items()) if owner else []
        hint = f"; allowed keys here: {', '.join(allowed)}" if allowed else ""
        return f"unknown key {loc[-1]!r}{hint}{_did_you_mean(loc[-1], allowed)}"
    if kind == "missing":
        return "required field is missing"
    if kind == "step_kind" and isinstance(value, Mapping):
        # Name the key that was meant to be the step's kind (``scirpt``), not only the rule.
        steps = (ShellStep, ScriptStep, FileStep, PackagesStep)
        known = {(f.alias or n) for m in steps for n, f in m.model_fields.items()}
        unknown = [k for k in value if k not in known]
        named = "; ".join(f"unknown key {k!r}{_did_you_mean(k, _STEP_KINDS)}" for k in unknown)
        if named:
            return f"{named} (a step needs exactly one of the keys shell, script, file or packages)"
    msg = str(error.get("msg", "invalid value")).removeprefix("Value error, ")
    if kind == "string_type" and isinstance(value, int | float) and loc:
        # YAML reads `version: 0.1` as a number; the fix is quotes, which the pydantic sentence does not say.
        shown = str(value).lower() if isinstance(value, bool) else repr(value)
        what = "a boolean" if isinstance(value, bool) else "a number"
        return f'{msg}: YAML read the unquoted {shown} as {what}; quote it ({loc[-1]}: "{shown}")'
    return msg


def _inherited(raw: Mapping[str, Any], loc: Sequence[int | str]) -> str | None:
    """``defaults.<platform>.<key>`` when the value at ``loc`` came from the defaults, not the image."""
    if len(loc) < 4 or loc[0] != "images" or not isinstance(loc[1], int) or loc[2] not in PLATFORMS:
        return None
    images = raw.get("images")
    defaults = raw.get("defaults")
    if not isinstance(images, list) or not isinstance(defaults, Mapping) or loc[1] >= len(images):
        return None
    own = images[loc[1]].get(loc[2]) if isinstance(images[loc[1]], Mapping) else None
    base = defaults.get(loc[2])
    if not isinstance(base, Mapping):
        return None
    if len(loc) < 4:
        return None  # a section-level problem: not attributable to one inherited key
    key = loc[3]
    own_has = isinstance(own, Mapping) and key in own
    return f"defaults.{loc[2]}.{key}" if key in base and not own_has else None


def _issues(err: ValidationError, file: str, prefix: str, raw: Mapping[str, Any]) -> list[Issue]:
    issues: list[Issue] = []
    errors = err.errors(include_url=False)
    failing = [tuple(e["loc"]) for e in errors]
    for error in errors:
        here = tuple(error["loc"])
        # "at least 1 item after validation" is noise when the items themselves failed: drop it.
        if error["type"] == "too_short" and any(
            len(o) > len(here) and o[: len(here)] == here for o in failing
        ):
            continue
        # Discriminated unions add the tag to loc (``provision.0.shell.shell``); drop the duplicate tag.
        loc = list(error["loc"])
        cleaned: list[int | str] = []
        for i, part in enumerate(loc):
            if (
                isinstance(part, str)
                and part in ("shell", "script", "file", "packages")
                and i + 1 < len(loc)
                and i > 0
                and isinstance(loc[i - 1], int)
            ):
                continue
            cleaned.append(part)
        message = _message({**error, "loc": tuple(cleaned)})
        origin = _inherited(raw, cleaned)
        if origin is not None and error["type"] != "extra_forbidden":
            message += f" (the value comes from {origin})"
        elif origin is not None:
            message += f" (the key comes from {origin})"
        issues.append(Issue(file, _dotted(prefix, cleaned), message))
    return issues


_PHASES = (("provision", "provision"), ("validate", "validate_steps"), ("tests", "tests"))


def _file_checks(catalog: Catalog, root: Path, file: str, prefix: str) -> list[Issue]:
    """Checks that need the repository content, for every ``script:`` and ``file:`` step of every phase: the
    path stays a regular file inside the repository after resolving symlinks, within the size cap; scripts
    are UTF-8; copied files match their declared sha256 (any bytes)."""
    issues: list[Issue] = []
    for i, image in enumerate(catalog.images):
        for phase, attribute in _PHASES:
            for j, step in enumerate(getattr(image, attribute)):
                where = f"{prefix}.images[{i}].{phase}[{j}]"
                try:
                    if isinstance(step, ScriptStep):
                        repofiles.read_script(root, step.script)
                    elif isinstance(step, FileStep):
                        data = repofiles.read_bytes(root, step.file)
                        digest = hashlib.sha256(data).hexdigest()
                        if digest != step.sha256:
                            issues.append(
                                Issue(
                                    file,
                                    f"{where}.sha256",
                                    f"{step.file} has sha256 {digest}, not the declared {step.sha256}",
                                )
                            )
                except repofiles.RepoFileError as exc:
                    field = "script" if isinstance(step, ScriptStep) else "file"
                    issues.append(Issue(file, f"{where}.{field}", str(exc)))
    return issues


def _platform_checks(catalog: Catalog, file: str, prefix: str, *, root: Path | None = None) -> list[Issue]:
    """Each registered platform's load-time checks of every image using it; with ``root``, the checks that
    read repository content (run only once the files are known safe to read)."""
    issues: list[Issue] = []
    for i, image in enumerate(catalog.images):
        for name in image.platforms():
            platform, section = PLATFORMS[name], image.section(name)
            found = (
                platform.checks(image, section)
                if root is None
                else platform.render_checks(image, section, root)
            )
            issues.extend(Issue(file, f"{prefix}.images[{i}].{field}", message) for field, message in found)
    return issues


def load_catalog(
    raw: Any,
    *,
    source: str,
    root: Path,
    stack: str | None = None,
    pin_file: pins_mod.PinFile | None = None,
) -> Catalog:
    """Validate ``raw`` (the ``golden-images:catalog`` config object) into a :class:`Catalog`.

    ``source`` is the stack file named in errors, ``root`` the project root (script paths are relative to
    it), ``stack`` the Pulumi stack name (when it is dev/staging/prod it must equal ``environment``).
    ``pin_file`` defaults to ``stacks/pins/<environment>.yaml`` under ``root``. Raises :class:`CatalogError`
    with every problem.
    """
    prefix = f"config.{CATALOG_KEY}"
    if not isinstance(raw, Mapping):
        kind = "missing" if raw is None else f"a {type(raw).__name__}"
        raise CatalogError(
            [
                Issue(
                    source, prefix, f"the catalog is {kind}; it must be a mapping with environment and images"
                )
            ]
        )
    environment = raw.get("environment")
    env = environment if environment in ENVIRONMENTS else None
    issues: list[Issue] = []
    if env is not None and pin_file is None:
        pin_path = pins_mod.pins_path(root, env)
        try:
            pin_file = pins_mod.load_pins(pin_path)
        except ValueError as exc:  # pydantic's ValidationError or the bounded reader's refusal
            issues.append(Issue(str(pin_path.relative_to(root)), "pins", f"invalid pin file: {exc}"))
    raw_defaults = raw.get("defaults")
    defaults: Mapping[str, Any] = raw_defaults if isinstance(raw_defaults, Mapping) else {}
    context: dict[str, Any] = {
        "root": root,
        "environment": env,
        "pins": pin_file,
        "default_tags": defaults.get("tags") if isinstance(defaults.get("tags"), Mapping) else {},
        "required_tags": defaults.get("required_tags")
        if isinstance(defaults.get("required_tags"), list)
        else None,
    }
    data = _apply_platform_defaults(raw)
    catalog: Catalog | None = None
    try:
        # Validate in JSON mode: config is JSON-shaped (Pulumi hands it over as JSON), and strict JSON-mode
        # validation accepts arrays for tuples while still refusing coercions such as 1.0 → "1.0".
        catalog = Catalog.model_validate_json(json.dumps(data, default=str), context=context)
    except ValidationError as exc:
        issues.extend(_issues(exc, source, prefix, raw))
    if stack is not None and stack.split("/")[-1] in ENVIRONMENTS and env is not None:
        short = stack.split("/")[-1]
        if short != env:
            issues.append(
                Issue(
                    source,
                    f"{prefix}.environment",
                    f"stack {stack!r} must have environment {short!r}, not {env!r}",
                )
            )
    if catalog is not None:
        file_issues = _file_checks(catalog, root, source, prefix)
        issues.extend(file_issues)
        issues.extend(_platform_checks(catalog, source, prefix))
        issues.extend(
            Issue(source, f"{prefix}.images[{i}].{field}", message)
            for i, field, message in layers.problems(catalog)
        )
        if not file_issues:  # rendering reads the files: only once they are known to be safe to read
            issues.extend(_platform_checks(catalog, source, prefix, root=root))
    if issues:
        raise CatalogError(issues)
    assert catalog is not None  # no issues means validation succeeded
    return catalog


@functools.lru_cache(maxsize=8)
def _parse_yaml(text: str) -> Any:
    """:func:`safeyaml.load` of ``text``, memoised on the text: ``golden-images preview`` reads the same stack
    file for its own checks and again for the program's config, and parsing dominates at hundreds of images.
    Callers get a deep copy, so a cached document is never shared or mutated."""
    return safeyaml.load(text)


def read_stack_file(stack_file: Path) -> dict[str, Any]:
    """The ``config`` mapping of a stack file. :class:`CatalogError` naming the file, the dotted field and the
    line when the file is missing, not UTF-8, not YAML, or breaks a rule of :mod:`golden_images.core.safeyaml`
    (aliases, deep nesting, duplicate or non-string keys, foreign tags, over the size cap)."""
    name = str(stack_file)
    try:
        with stack_file.open("rb") as handle:
            data = handle.read(safeyaml.MAX_BYTES + 1)
    except FileNotFoundError:
        raise CatalogError([Issue(name, "", "stack file does not exist")]) from None
    except OSError as exc:
        raise CatalogError([Issue(name, "", f"stack file cannot be read ({exc.strerror})")]) from None
    try:
        document = copy.deepcopy(_parse_yaml(safeyaml.decode(data)))
    except safeyaml.YamlError as problem:
        raise CatalogError([Issue(name, problem.path, str(problem))]) from None
    except yaml.YAMLError as exc:
        raise CatalogError([Issue(name, "", f"not valid YAML: {exc}")]) from None
    if not isinstance(document, Mapping):
        raise CatalogError([Issue(name, "", "a stack file must be a mapping with a config key")])
    config = document.get("config", {})
    if not isinstance(config, Mapping):
        raise CatalogError([Issue(name, "config", "config must be a mapping")])
    return dict(config)


def load_catalog_file(stack_file: Path, *, root: Path, stack: str | None = None) -> Catalog:
    """Read ``stack_file`` (``stacks/Pulumi.<env>.yaml``) and validate its catalog (see :func:`load_catalog`)."""
    config = read_stack_file(stack_file)
    try:
        source = str(stack_file.resolve().relative_to(root.resolve()))
    except ValueError:
        source = str(stack_file)
    if stack is None:
        name = stack_file.name
        stack = name[len("Pulumi.") : -len(".yaml")] if name.startswith("Pulumi.") else None
    if config.get(CATALOG_KEY) is None:
        # A misspelt key (`golden-images:catalogue`) reads as "no catalog": name the key that was written.
        near = difflib.get_close_matches(CATALOG_KEY, [str(k) for k in config], n=1, cutoff=0.75)
        if near:
            raise CatalogError(
                [
                    Issue(
                        source,
                        f"config.{CATALOG_KEY}",
                        f"the catalog is missing, but config has {near[0]!r}; did you mean {CATALOG_KEY!r}?",
                    )
                ]
            )
    return load_catalog(config.get(CATALOG_KEY), source=source, root=root, stack=stack)
