"""Policy pack config as the engine reads and reconciles it (``parsePolicyPackConfig``,
``ReconcilePolicyPackConfig``): levels, per-policy config, schema defaults and JSON-schema validation."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import jsonschema

#: Keys Pulumi's ``PolicyPackProject`` accepts in PulumiPolicy.yaml.
POLICY_PROJECT_KEYS: Final = frozenset(
    {"runtime", "version", "main", "description", "author", "website", "license"}
)
ENFORCEMENT_LEVELS: Final[tuple[str, ...]] = ("advisory", "mandatory", "remediate", "disabled")


class PolicyHarnessError(RuntimeError):
    """The policy pack could not be run."""


class PolicyPackStartError(PolicyHarnessError):
    """The pack process did not start; ``stderr`` holds its output verbatim."""

    def __init__(self, message: str, stderr: str = "") -> None:
        super().__init__(message)
        self.stderr = stderr


class PolicyConfigError(PolicyHarnessError, ValueError):
    """A ``--policy-pack-config`` file is unreadable, malformed or does not match a policy's schema."""


class PolicyPackConfig(dict[str, Any]):
    """A parsed policy pack config; remembers the file it came from for error messages."""

    source: str = ""


@dataclass(frozen=True)
class PolicyInfo:
    """One policy as ``GetAnalyzerInfo`` reports it."""

    name: str
    description: str
    enforcement_level: str
    tags: tuple[str, ...] = ()
    severity: str = ""
    config_schema: Mapping[str, Any] | None = None
    remediation: str = ""
    display_name: str = ""
    policy_type: str = ""
    required_config: tuple[str, ...] = ()
    url: str = ""


def _normalise_entry(source: str, key: str, value: Any) -> tuple[str, dict[str, Any]] | None:
    where = f"policy pack config {source}" if source else "policy pack config"
    if isinstance(value, str):
        if value not in ENFORCEMENT_LEVELS:
            raise PolicyConfigError(
                f"{where}: {key}: {value!r} is not a valid enforcement level (use one of "
                f"{', '.join(ENFORCEMENT_LEVELS)})"
            )
        return value, {}
    if isinstance(value, Mapping):
        props = dict(value)
        level = props.pop("enforcementLevel", "")
        if not isinstance(level, str) or (level and level not in ENFORCEMENT_LEVELS):
            raise PolicyConfigError(
                f"{where}: {key}: enforcementLevel {level!r} is not a valid enforcement level (use one of "
                f"{', '.join(ENFORCEMENT_LEVELS)})"
            )
        if not level and not props:
            return None  # the engine drops empty entries
        return level, props
    raise PolicyConfigError(
        f"{where}: {key}: {value!r} is not a valid value; it must be a string or an object"
    )


def load_policy_config(path: Path) -> dict[str, Any]:
    """Read a ``--policy-pack-config`` JSON file; raise :class:`PolicyConfigError` naming the file on any problem.

    Shape (as Pulumi): ``{"all": "<level>", "<policy>": "<level>" | {"enforcementLevel": "<level>", ...config}}``.
    Schema validation against each policy happens when the harness configures the pack.
    """
    path = Path(path)
    try:
        raw = path.read_text(encoding="utf-8")
    except OSError as error:
        raise PolicyConfigError(
            f"policy pack config {path} cannot be read: {error.strerror or error}"
        ) from error
    result = PolicyPackConfig()
    result.source = str(path)
    if not raw.strip():
        return result  # the engine accepts an empty file
    try:
        data = json.loads(raw)
    except json.JSONDecodeError as error:
        raise PolicyConfigError(
            f"policy pack config {path} is not valid JSON: {error.msg} (line {error.lineno}, column {error.colno})"
        ) from error
    if not isinstance(data, dict):
        raise PolicyConfigError(
            f"policy pack config {path} must be a JSON object mapping policy names to config"
        )
    for key, value in data.items():
        _normalise_entry(str(path), key, value)  # fail early, naming the file and the policy
        result[key] = value
    return result


def _schema_defaults(info: PolicyInfo) -> dict[str, Any] | None:
    props: dict[str, Any] | None = None
    for key, prop in (info.config_schema or {}).items():
        if isinstance(prop, Mapping) and "default" in prop:
            props = props or {}
            props[key] = prop["default"]
    return props


def reconcile_config(
    policies: Sequence[PolicyInfo],
    initial: Mapping[str, tuple[str, dict[str, Any] | None]],
    given: Mapping[str, Any] | None,
    source: str = "",
) -> dict[str, tuple[str, dict[str, Any] | None]]:
    """The config the engine sends to ``Configure``: defaults, then initial config, then the given file."""
    result: dict[str, tuple[str, dict[str, Any] | None]] = {
        p.name: (p.enforcement_level, _schema_defaults(p)) for p in policies
    }

    def apply(config: Mapping[str, tuple[str, dict[str, Any] | None]]) -> None:
        all_level = config.get("all", ("", None))[0]
        if all_level in ENFORCEMENT_LEVELS:
            for name, (_, props) in list(result.items()):
                result[name] = (all_level, props)
        for name, (level, given_props) in config.items():
            current_level, props = result.get(name, ("", None))
            if level in ENFORCEMENT_LEVELS:
                current_level = level
            if given_props:
                props = dict(props or {})
                props.update(given_props)
            result[name] = (current_level, props)

    apply(initial)
    normalised: dict[str, tuple[str, dict[str, Any] | None]] = {}
    for key, value in (given or {}).items():
        entry = _normalise_entry(source, key, value)
        if entry is not None:
            normalised[key] = entry
    apply(normalised)

    errors: list[str] = []
    for policy in policies:
        if policy.config_schema is None:
            continue
        schema: dict[str, Any] = {"type": "object", "properties": dict(policy.config_schema)}
        schema["properties"]["enforcementLevel"] = {"type": "string", "enum": list(ENFORCEMENT_LEVELS)}
        if policy.required_config:
            schema["required"] = list(policy.required_config)
        document = result.get(policy.name, ("", None))[1] or {}
        validator = jsonschema.Draft7Validator(schema)
        for error in sorted(validator.iter_errors(document), key=lambda e: list(e.absolute_path)):
            field = ".".join(str(p) for p in error.absolute_path) or "(root)"
            errors.append(f"{policy.name}: {field}: {error.message}")
    if errors:
        where = f"policy pack config {source}" if source else "policy pack config"
        raise PolicyConfigError(f"{where} is invalid:\n  " + "\n  ".join(errors))
    return result
