"""The base every platform component shares: its type token and common inputs, the record attributes
``GoldenImage`` reads, and one way of registering outputs.

Platform packages import this module, never each other (import-linter's independence contract).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pulumi

from golden_images.core.build import ImageBuild


def golden_parent_prop(parent: PlatformComponent) -> dict[str, str]:
    """The ``goldenParent`` prop a layered child registers: plain strings the policy pack judges the chain by
    (policies/README.md, "Layered images"), never Outputs (an AWS child's ``parentImage`` is unknown during a
    preview, this is not).

    ``image``/``version``/``fingerprint`` name the parent's catalog image, ``encryption`` is the parent
    component's own level and ``parentImage`` the chain root's vendor reference as pinned (the parent's
    ``parentImage`` claim when the parent is layered itself, else its own pinned source).
    """
    claim = parent.golden_parent
    return {
        "image": parent.catalog_image,
        "version": parent.catalog_version,
        "fingerprint": parent.catalog_fingerprint,
        "encryption": parent.encryption_level,
        "parentImage": claim["parentImage"] if claim is not None else parent.parent_reference,
    }


class PlatformComponent(pulumi.ComponentResource):
    """A platform component of one image. Its registered inputs are ``imageName``, ``version`` and ``tags``
    (from ``build``) plus the platform's own ``inputs``, and ``goldenParent`` for a layered child (``parent``:
    the golden parent's component of the same platform, default none); ``child`` is the options its resources
    use. Its registered outputs carry ``lineage`` (its own identity, what a child's chain is checked against)
    and, layered, ``goldenParent`` again: stack policies see components' outputs, not their inputs."""

    artifacts: pulumi.Output[Any]
    """The platform's artifacts (region/node → id or lookup), the record's ``artifacts.<platform>``."""
    built_at: pulumi.Output[str] | None
    """When ``pulumi up`` baked the image itself (``None``: not baked by this stack)."""
    encryption_level: str
    """``enforced``, ``verified``, ``attested``, ``platform-default`` or ``none`` (docs/architecture.md)."""
    parent_reference: str
    """The parent image the build starts from, as pinned."""
    catalog_image: str
    """The catalog image's name (``imageName``)."""
    catalog_version: str
    """The catalog image's version."""
    catalog_fingerprint: str
    """The catalog image's fingerprint (the same as its record's)."""
    golden_parent: dict[str, str] | None
    """The registered ``goldenParent`` prop (:func:`golden_parent_prop`), ``None`` unless layered."""

    def __init__(
        self,
        token: str,
        name: str,
        build: ImageBuild,
        inputs: Mapping[str, Any],
        opts: pulumi.ResourceOptions | None = None,
        *,
        parent: PlatformComponent | None = None,
    ) -> None:
        image = build.image
        self.catalog_image = image.name
        self.catalog_version = image.version
        self.catalog_fingerprint = build.fingerprint
        self.golden_parent = golden_parent_prop(parent) if parent is not None else None
        layered = {"goldenParent": self.golden_parent} if self.golden_parent is not None else {}
        super().__init__(
            token,
            name,
            {"imageName": image.name, "version": image.version, **inputs, "tags": build.tags, **layered},
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
        """Set the record attributes and register ``artifacts``, ``encryption``, ``lineage`` (and ``goldenParent``
        when layered) and the platform's ``outputs``."""
        self.artifacts = pulumi.Output.from_input(artifacts)
        self.encryption_level = encryption_level
        self.parent_reference = parent_reference
        lineage = {
            "image": self.catalog_image,
            "version": self.catalog_version,
            "fingerprint": self.catalog_fingerprint,
            "parentImage": parent_reference,
        }
        layered = {"goldenParent": self.golden_parent} if self.golden_parent is not None else {}
        self.register_outputs(
            {
                "artifacts": self.artifacts,
                **outputs,
                "encryption": encryption_level,
                "lineage": lineage,
                **layered,
            }
        )
