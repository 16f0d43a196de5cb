"""Data shared by the mock runner (producer) and the policy harness (consumer)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class RegisteredResource:
    """One resource registration as the engine saw it.

    ``inputs`` is the plain (deserialised) property map with the engine's camelCase keys; secrets are unwrapped
    there but listed in ``secret_paths``. ``outputs`` is the provider's (here: the mock's) state in wire form
    (assets as their signature objects, secrets marked). ``wire_inputs`` is the exact ``google.protobuf.Struct``
    the SDK sent (secret and unknown sentinels intact) — what the engine forwards to analyzers.
    """

    urn: str
    type: str
    name: str
    parent: str
    custom: bool
    inputs: dict[str, Any]
    wire_inputs: Any = None
    provider: str = ""
    outputs: dict[str, Any] = field(default_factory=dict)
    secret_paths: tuple[str, ...] = ()
    custom_timeouts: dict[str, str] = field(default_factory=dict)
    """``create``/``update``/``delete``/``read`` timeouts from the resource options, when set."""
    protect: bool = False
    """The ``protect`` resource option (default: not protected)."""
    ignore_changes: tuple[str, ...] = ()
    """The ``ignore_changes`` resource option (default: none)."""
    delete_before_replace: bool | None = None
    """The ``delete_before_replace`` resource option; ``None`` when the program did not set it (the default)."""
    additional_secret_outputs: tuple[str, ...] = ()
    """The ``additional_secret_outputs`` resource option (default: none)."""
    aliases: tuple[str, ...] = ()
    """Alias URNs from the ``aliases`` resource option (default: none)."""
    dependencies: tuple[str, ...] = ()
    """URNs this resource depends on (``depends_on`` plus every resource whose output feeds an input)."""
    property_dependencies: dict[str, tuple[str, ...]] = field(default_factory=dict)
    """Input key -> URNs of the resources whose outputs that input consumed (keys without any are left out)."""


@dataclass(frozen=True)
class Violation:
    """One policy violation reported by the analyzer protocol."""

    policy: str
    level: str  # "advisory" | "mandatory" | "remediate"
    urn: str
    message: str
    tags: tuple[str, ...] = ()
    description: str = ""

    def to_json(self) -> dict[str, Any]:
        """The preview's ``violations[]`` shape (docs/architecture.md, "CLI")."""
        return {
            "policy": self.policy,
            "level": self.level,
            "urn": self.urn,
            "message": self.message,
            "tags": list(self.tags),
        }
