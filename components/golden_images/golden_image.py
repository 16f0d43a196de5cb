"""``GoldenImage``: one catalog image, baked on every platform its spec names, summarised as a version record.

The version record (the component's main output, JSON-serialisable; values may be Outputs)::

    {
      "name": "base-ubuntu", "version": "1.4.2",
      "fingerprint": "<sha256 of everything that changes the image bytes>",
      "parent": {"aws": "ami-…", ...},              # the pinned base image per platform
                                                     # (``<image>@<version>`` for a golden parent)
      "built_at": "<date>" | None,                   # set when ``pulumi up`` baked the image itself
      "artifacts": {"aws": {"<region>": "ami-…" | "ssm:<parameter>"}, "azure": {...}, "gcp": {...},
                    "proxmox": {...}},
      "encryption": {"aws": "enforced" | "verified" | "attested" | "platform-default" | "none"},
      "tags": {<canonical tag map>},
      "launch": {                                    # what each platform's launch API accepts as is
        "aws": {"<region>": {"resolve": "resolve:ssm:<parameter>", "ssm_parameter": "<parameter>",
                             "ami_id": "ami-…" | None}},
        "azure": {"definition_id": "<gallery image definition id: newest version>",
                  "version_id": "<gallery image version id>" | None},
        "gcp": {"project": "…", "family": "…", "family_self_link": "https://…/images/family/<family>",
                "image_self_link": "https://…/images/<image>"},
        "proxmox": {"<node>": {"vm_id": 1010402}}
      },
      "ancestry": {                                  # the chain each platform's image is built on
        "aws": [{"image": "base-ubuntu", "version": "1.4.2", "ref": "base-ubuntu@1.4.2",
                 "fingerprint": "<parent's fingerprint>"}, ..., {"vendor": "ami-…"}]
      }
    }

``launch`` has the same keys in every environment (``schemas/version-record.schema.json``); only the
``ami_id`` and ``version_id`` values are ``None`` when this stack's ``pulumi up`` did not bake the image.

It is the contract for consumers (``StackReference``), channels, promotion and revocation: keys are only ever
added, never renamed.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any, NotRequired, Protocol, TypedDict, cast

import pulumi

from golden_images.api import ImageArgs, image_build
from golden_images.core.build import ImageBuild
from golden_images.core.tokens import GOLDEN_IMAGE
from golden_images.platforms import PLATFORMS

#: Platform → (module, component class), derived from the registry (for callers that import lazily).
PLATFORM_COMPONENTS: dict[str, tuple[str, str]] = {
    name: (p.component.split(":")[0], p.component.split(":")[1]) for name, p in PLATFORMS.items()
}


class PlatformImage(Protocol):
    """What :class:`GoldenImage` reads from each platform component."""

    artifacts: pulumi.Output[Any]
    built_at: pulumi.Output[str] | None
    encryption_level: str
    parent_reference: str


def launch_reference(platform: str, artifacts: Mapping[str, Any], build: ImageBuild) -> dict[str, Any]:
    """The record's ``launch`` entry of one platform, from that platform component's resolved ``artifacts``.

    Pure (tested without Pulumi). Every key is always present so a consumer's code is the same for every
    environment; an id that only exists after a bake (AMI, gallery version) is ``None`` until then.
    """
    if platform not in PLATFORMS:
        raise ValueError(f"platform {platform!r} has no launch reference")
    section = getattr(build.image, platform, None)
    if section is None:  # a platform component exists only for a section in the spec
        raise ValueError(f"image {build.image.name!r} has no {platform} section")
    return PLATFORMS[platform].launch_reference(artifacts, build, section)


def _launch(platform: str, artifacts: pulumi.Output[Any], build: ImageBuild) -> pulumi.Output[dict[str, Any]]:
    return artifacts.apply(lambda resolved: launch_reference(platform, resolved, build))


class GoldenImageArgs(TypedDict):
    """Inputs of :class:`GoldenImage` from a derived build (what the program passes). Other programs pass plain
    data instead: :class:`golden_images.api.ImageArgs`."""

    build: ImageBuild
    """The derived image build: spec, environment, canonical tags, resolved steps, fingerprint and pins."""
    parent: NotRequired[GoldenImage]
    """The golden parent's component (required when a platform section names ``parent: {image: …}``): each
    layered platform component is built from the parent's component of the same platform."""


def ancestry(build: ImageBuild, platform: str) -> list[dict[str, Any]]:
    """The record's ``ancestry.<platform>``: the chain the platform's image is built on, parent first, each as
    ``{"image", "version", "ref": "<image>@<version>", "fingerprint"}``, ending with the vendor source
    ``{"vendor": "<reference as pinned>"}`` of the root (the root's ``source_identity``). Empty for an image
    built on a vendor source directly except for that last entry."""
    chain: list[dict[str, Any]] = []
    current = build
    while current.golden_parent(platform) is not None and current.parent is not None:
        parent = current.parent
        chain.append(
            {
                "image": parent.image.name,
                "version": parent.image.version,
                "ref": f"{parent.image.name}@{parent.image.version}",
                "fingerprint": parent.fingerprint,
            }
        )
        current = parent
    identity = getattr(current.image.section(platform), "source_identity", None)
    vendor = identity(current.pins) if callable(identity) else None
    chain.append({"vendor": vendor if isinstance(vendor, str) else json.dumps(vendor, sort_keys=True)})
    return chain


class GoldenImage(pulumi.ComponentResource):
    """A golden image across platforms. Children: one platform component per section in the spec
    (``<name>-aws`` …). ``args`` is either ``{"build": ImageBuild}`` or plain data mirroring one catalog image
    (:class:`golden_images.api.ImageArgs`; invalid data raises :class:`golden_images.api.ImageArgsError`)."""

    record: pulumi.Output[dict[str, Any]]
    """The version record (see the module docstring)."""
    platforms: dict[str, PlatformImage]
    """Platform name → its component."""

    def __init__(
        self, name: str, args: GoldenImageArgs | ImageArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        # Plain data (another repo's program) is validated by the catalog model before anything registers.
        build = cast(GoldenImageArgs, args)["build"] if "build" in args else image_build(name, args)
        golden = cast(GoldenImageArgs, args).get("parent") if "build" in args else None
        image = build.image
        super().__init__(
            GOLDEN_IMAGE,
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
            cls = PLATFORMS[platform].component_class()
            inputs: dict[str, Any] = {"build": build}
            if build.golden_parent(platform) is not None:
                if golden is None or platform not in golden.platforms:
                    raise ValueError(
                        f"image {image.name!r} builds on {build.golden_parent(platform)!r} on {platform}: "
                        "pass that image's GoldenImage as 'parent'"
                    )
                inputs["parent"] = golden.platforms[platform]
            self.platforms[platform] = cls(f"{name}-{platform}", inputs, pulumi.ResourceOptions(parent=self))
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
            "launch": {k: _launch(k, p.artifacts, build) for k, p in self.platforms.items()},
            "ancestry": {k: ancestry(build, k) for k in self.platforms},
        }
        self.record = pulumi.Output.from_input(record)
        self.register_outputs({"record": self.record})
