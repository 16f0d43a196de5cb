"""The wire format between the engine and an analyzer: property values re-marshalled as the engine sends them,
custom timeouts, URNs."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, Final

from google.protobuf import json_format, struct_pb2

from golden_images.core.wire import OUTPUT_SIG as _OUTPUT_SIG
from golden_images.core.wire import RESOURCE_SIG as _RESOURCE_SIG
from golden_images.core.wire import SECRET_SIG as _SECRET_SIG
from golden_images.core.wire import SIG as _SIG
from golden_images.core.wire import UNKNOWN as _UNKNOWN
from golden_images.engine.model import RegisteredResource


def engine_value(value: Any, top: bool = True) -> Any:
    """Re-marshal one property value as the engine sends it to analyzers.

    MarshalOptions{KeepUnknowns, KeepSecrets, SkipInternalKeys}: unknowns and secrets stay, output values become
    their plain (or unknown, or secret) value, resource references are downgraded to their id (custom) or URN
    (component), keys starting with ``__`` are dropped from the top-level map only (the engine's
    MarshalProperties clears SkipInternalKeys for nested objects). ``top`` (default True) is that level.
    """
    if isinstance(value, list):
        return [engine_value(v, False) for v in value]
    if not isinstance(value, dict):
        return value
    sig = value.get(_SIG)
    if sig == _OUTPUT_SIG:
        inner = engine_value(value["value"], False) if "value" in value else _UNKNOWN
        return {_SIG: _SECRET_SIG, "value": inner} if value.get("secret") is True else inner
    if sig == _RESOURCE_SIG:
        if "id" in value:
            ident = value["id"]
            return ident if ident != "" else _UNKNOWN
        return value.get("urn", "")
    if sig == _SECRET_SIG:
        return {_SIG: _SECRET_SIG, "value": engine_value(value.get("value"), False)}
    if sig is not None:
        return value  # assets and archives travel as they are
    return {
        k: engine_value(v, False)
        for k, v in value.items()
        if not (top and isinstance(k, str) and k.startswith("__"))
    }


_DURATION_UNITS: Final = {"ns": 1e-9, "us": 1e-6, "µs": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0, "h": 3600.0}
_DURATION_PART: Final = re.compile(r"(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|ms|s|m|h)")


def duration_seconds(text: str) -> float:
    """A Go duration string (``"240m"``, ``"1h30m"``) in seconds, as the engine parses custom timeouts;
    an unparsable value counts as 0 (no timeout), which is what the engine sends when none is set."""
    text = text.strip()
    if not text or _DURATION_PART.sub("", text) not in ("", "+"):
        return 0.0
    return sum(float(n) * _DURATION_UNITS[u] for n, u in _DURATION_PART.findall(text))


def struct(props: Mapping[str, Any]) -> struct_pb2.Struct:
    value = struct_pb2.Struct()
    value.update(dict(props))
    return value


def engine_properties(resource: RegisteredResource) -> struct_pb2.Struct:
    """The ``properties`` Struct the engine would send to ``Analyze`` for ``resource``'s inputs."""
    wire = resource.wire_inputs
    if isinstance(wire, struct_pb2.Struct):
        raw: Any = json_format.MessageToDict(wire)
    elif isinstance(wire, Mapping):
        raw = dict(wire)
    else:
        raw = dict(resource.inputs)
    converted = engine_value(raw)
    return struct(converted if isinstance(converted, dict) else {})


def urn_type_and_name(urn: str) -> tuple[str, str]:
    parts = urn.split("::")
    if len(parts) < 4:
        return "", urn
    return parts[2].rsplit("$", 1)[-1], "::".join(parts[3:])
