"""Stack config checked against the project's declarations in ``Pulumi.yaml``, the way ``pulumi preview`` does.

The Pulumi CLI refuses to run a program when its stack config breaks the project file's ``config:`` block
(``ValidateStackConfigAndApplyProjectConfig`` in ``sdk/go/common/workspace``), so the offline preview must
refuse the same stacks, with the same reasons and the command that fixes each:

* a key of the project's own namespace, declared without ``default`` (or ``value``), missing from the stack:
  ``Stack 'dev' is missing configuration value 'proxmoxEndpoint'``;
* a key declared ``secret: true`` whose stack value is plaintext: ``Stack 'dev' with configuration key 'x'
  must be encrypted as it's secret``;
* a value that does not fit its declared ``type`` (``string``, ``integer``, ``boolean``, ``array`` with
  ``items``): ``Stack 'dev' with configuration key 'x' must be of type 'boolean'``.

Encrypted (``secure:``) values cannot be decrypted offline, so their type is not checked (the CLI checks it
after decryption). Keys only declared by value (``aws:region: us-east-1``) are defaults, never required.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from golden_images.catalog.loader import Issue

_BOOLEAN_WORDS = frozenset({"1", "t", "T", "TRUE", "true", "True", "0", "f", "F", "FALSE", "false", "False"})
_INTEGER = re.compile(r"^[+-]?[0-9]+$")


def _is_secure(value: Any) -> bool:
    return isinstance(value, Mapping) and set(value) == {"secure"}


def _primitive_text(value: Any) -> str:
    """How Pulumi keeps a primitive YAML value: as its string form (``true`` → ``"true"``)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return "" if value is None else str(value)


def _fits(kind: str, items: Any, value: Any) -> bool:
    """``ValidateConfigValue``: strings are strings; integers and booleans may be their string forms (Go's
    ``strconv.Atoi`` / ``ParseBool``); arrays are lists whose items fit ``items``."""
    if kind == "string":
        return isinstance(value, str)
    if kind == "integer":
        if isinstance(value, int) and not isinstance(value, bool):
            return True
        return isinstance(value, str) and bool(_INTEGER.fullmatch(value))
    if kind == "boolean":
        return isinstance(value, bool) or (isinstance(value, str) and value in _BOOLEAN_WORDS)
    if kind == "array":
        if not isinstance(value, list) or not isinstance(items, Mapping):
            return False
        sub = str(items.get("type", ""))
        return all(_fits(sub, items.get("items"), item) for item in value)
    return False


def _type_name(kind: str, items: Any) -> str:
    if kind == "array" and isinstance(items, Mapping):
        return f"array<{_type_name(str(items.get('type', '')), items.get('items'))}>"
    return kind


def _fix(full_key: str, *, secret: bool) -> str:
    flag = "--secret " if secret else ""
    return f"set it with `pulumi config set {flag}{full_key} <value> --stack <stack>`"


def validate(project: Mapping[str, Any], config: Mapping[str, Any], *, stack: str, file: str) -> list[Issue]:
    """Every way the stack ``config`` (the stack file's ``config:`` mapping) breaks the ``project``'s
    declarations (parsed ``Pulumi.yaml``); empty when ``pulumi preview`` would accept it. Issues name ``file``
    and the field ``config.<namespace>:<key>`` and end with the ``pulumi config set`` command that fixes them."""
    name = str(project.get("name") or "")
    declared = project.get("config")
    if not isinstance(declared, Mapping):
        return []
    short_stack = stack.rsplit("/", maxsplit=1)[-1]
    issues: list[Issue] = []
    for key in sorted(declared):
        spec = declared[key]
        full = key if ":" in key else f"{name}:{key}"
        namespace = full.split(":", 1)[0]
        present = full in config or (namespace == name and key in config)
        value = config.get(full, config.get(key))
        explicit = isinstance(spec, Mapping) and "type" in spec
        has_default = isinstance(spec, Mapping) and ("default" in spec or "value" in spec)
        if not isinstance(spec, Mapping):
            has_default = True  # `aws:region: us-east-1` declares a value, not a requirement
        secret = explicit and bool(spec.get("secret"))
        path = f"config.{full}"
        if not present:
            if not has_default and namespace == name:
                issues.append(
                    Issue(
                        file,
                        path,
                        f"Stack '{short_stack}' is missing configuration value '{key}' (Pulumi.yaml declares it "
                        f"without a default); {_fix(full, secret=secret)}",
                    )
                )
            elif secret and has_default:
                # The CLI applies the default as plaintext and then refuses it for not being encrypted.
                issues.append(
                    Issue(
                        file,
                        path,
                        f"Stack '{short_stack}' with configuration key '{key}' must be encrypted as it's "
                        f"secret (Pulumi.yaml gives a secret a plaintext default); {_fix(full, secret=True)}",
                    )
                )
            continue
        if not explicit:
            continue
        if secret and not _is_secure(value):
            issues.append(
                Issue(
                    file,
                    path,
                    f"Stack '{short_stack}' with configuration key '{key}' must be encrypted as it's secret; "
                    f"{_fix(full, secret=True)} (and remove the plaintext value from {file})",
                )
            )
            continue
        if _is_secure(value):
            continue  # cannot be decrypted offline; the CLI checks its type after decryption
        kind = str(spec.get("type"))
        content = value if isinstance(value, (list, dict)) else _primitive_text(value)
        if not _fits(kind, spec.get("items"), content):
            issues.append(
                Issue(
                    file,
                    path,
                    f"Stack '{short_stack}' with configuration key '{key}' must be of type "
                    f"'{_type_name(kind, spec.get('items'))}'; {_fix(full, secret=secret)}",
                )
            )
    return issues
