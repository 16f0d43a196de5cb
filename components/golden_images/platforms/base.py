"""The base every platform component shares: its type token and common inputs, the record attributes
``GoldenImage`` reads, and one way of registering outputs.

Platform packages import this module, never each other (import-linter's independence contract).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pulumi

from golden_images.core.build import ImageBuild


class PlatformComponent(pulumi.ComponentResource):
    """A platform component of one image. Its registered inputs are ``imageName``, ``version`` and ``tags``
    (from ``build``) plus the platform's own ``inputs``; ``child`` is the options its resources use."""

    artifacts: pulumi.Output[Any]
    """The platform's artifacts (region/node → id or lookup), the record's ``artifacts.<platform>``."""
    built_at: pulumi.Output[str] | None
    """When ``pulumi up`` baked the image itself (``None``: not baked by this stack)."""
    encryption_level: str
    """``enforced``, ``verified``, ``attested``, ``platform-default`` or ``none`` (docs/architecture.md)."""
    parent_reference: str
    """The parent image the build starts from, as pinned."""

    def __init__(
        self,
        token: str,
        name: str,
        build: ImageBuild,
        inputs: Mapping[str, Any],
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        image = build.image
        super().__init__(
            token,
            name,
            {"imageName": image.name, "version": image.version, **inputs, "tags": build.tags},
            opts,
        )
        self.built_at = None
        self.child = pulumi.ResourceOptions(parent=self)

    def finish(
        self,
        artifacts: Any,
        *,
        encryption_level: str,
        parent_reference: str,
        outputs: Mapping[str, Any],
    ) -> None:
        """Set the record attributes and register ``artifacts``, ``encryption`` and the platform's ``outputs``."""
        self.artifacts = pulumi.Output.from_input(artifacts)
        self.encryption_level = encryption_level
        self.parent_reference = parent_reference
        self.register_outputs({"artifacts": self.artifacts, **outputs, "encryption": encryption_level})
