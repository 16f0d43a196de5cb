"""``GoldenImage``: one catalog image, baked on every platform its spec names, summarised as a version record.

The version record (the component's main output, JSON-serialisable; values may be Outputs)::

    {
      "name": "base-ubuntu", "version": "1.4.2",
      "fingerprint": "<sha256 of everything that changes the image bytes>",
      "parent": {"aws": "ami-…", ...},              # the pinned base image per platform
      "built_at": "<date>" | None,                   # set when ``pulumi up`` baked the image itself
      "artifacts": {"aws": {"<region>": "ami-…" | "ssm:<parameter>"}, "azure": {...}, "gcp": {...},
                    "proxmox": {...}},
      "encryption": {"aws": "enforced" | "verified" | "attested" | "platform-default" | "none"},
      "tags": {<canonical tag map>}
    }

It is the contract for consumers (``StackReference``), channels, promotion and revocation: keys are only ever
added, never renamed.
"""

from __future__ import annotations

import importlib
from typing import Any, Protocol, TypedDict

import pulumi

from golden_images.common.build import ImageBuild

#: Platform → (module, component class). Imported lazily: the provider SDKs are large and a catalog that
#: does not use a platform should not pay for importing it.
PLATFORM_COMPONENTS: dict[str, tuple[str, str]] = {
    "aws": ("golden_images.aws.component", "AwsGoldenImage"),
    "azure": ("golden_images.azure.component", "AzureGoldenImage"),
    "proxmox": ("golden_images.proxmox.component", "ProxmoxGoldenTemplate"),
    "gcp": ("golden_images.gcp.component", "GcpGoldenImage"),
}


class PlatformImage(Protocol):
    """What :class:`GoldenImage` reads from each platform component."""

    artifacts: pulumi.Output[Any]
    built_at: pulumi.Output[str] | None
    encryption_level: str
    parent_reference: str


class GoldenImageArgs(TypedDict):
    """Inputs of :class:`GoldenImage`."""

    build: ImageBuild
    """The derived image build: spec, environment, canonical tags, resolved steps, fingerprint and pins."""


class GoldenImage(pulumi.ComponentResource):
    """A golden image across platforms. Children: one platform component per section in the spec
    (``<name>-aws`` …)."""

    record: pulumi.Output[dict[str, Any]]
    """The version record (see the module docstring)."""
    platforms: dict[str, PlatformImage]
    """Platform name → its component."""

    def __init__(self, name: str, args: GoldenImageArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        build = args["build"]
        image = build.image
        super().__init__(
            "golden-images:index:GoldenImage",
            name,
            {
                "imageName": image.name,
                "version": image.version,
                "environment": build.environment,
                "fingerprint": build.fingerprint,
                "os": image.os.model_dump(mode="json"),
                "tags": build.tags,
            },
            opts,
        )
        self.platforms = {}
        for platform in image.platforms():
            if platform not in PLATFORM_COMPONENTS:
                raise ValueError(f"platform {platform!r} of image {image.name!r} is not implemented yet")
            module_name, class_name = PLATFORM_COMPONENTS[platform]
            cls = getattr(importlib.import_module(module_name), class_name)
            self.platforms[platform] = cls(
                f"{name}-{platform}", {"build": build}, pulumi.ResourceOptions(parent=self)
            )
        built = [p.built_at for p in self.platforms.values() if p.built_at is not None]
        record: dict[str, Any] = {
            "name": image.name,
            "version": image.version,
            "fingerprint": build.fingerprint,
            "parent": {k: p.parent_reference for k, p in self.platforms.items()},
            "built_at": built[0] if built else None,
            "artifacts": {k: p.artifacts for k, p in self.platforms.items()},
            "encryption": {k: p.encryption_level for k, p in self.platforms.items()},
            "tags": build.tags,
        }
        self.record = pulumi.Output.from_input(record)
        self.register_outputs({"record": self.record})
