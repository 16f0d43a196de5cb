"""Public, plain-data API: build one :class:`~golden_images.golden_image.GoldenImage` from a mapping that mirrors
one catalog image, validated by the same model as the stack files.

Example (a consumer's ``__main__.py``)::

    from golden_images.golden_image import GoldenImage

    image = GoldenImage("web-base", {
        "environment": "dev",
        "root": ".",                                   # repo-relative scripts/files are read from here
        "version": "1.0.0",
        "description": "Web base image",
        "os": {"family": "ubuntu", "release": "24.04", "architecture": "x86_64", "lts": True},
        "provision": [{"name": "packages", "packages": ["nginx"]}],
        "tags": {"owner": "web-team", "cost-center": "cc-1"},
        "aws": {"regions": ["us-east-1"], "parent": {"ami": "ami-0123456789abcdef0"},
                "kms_keys": {"us-east-1": "alias/golden-images"}},
    })
    pulumi.export("record", image.record)

Invalid data raises :class:`ImageArgsError` (a :class:`~golden_images.catalog.loader.CatalogError` and a
``pulumi.RunError``, so Pulumi reports it without a traceback) listing every problem, each with the
field path in the caller's terms (``aws.kms_keys``, ``provision[0].script``), never the stack-file path.

Programs in TypeScript, Go, C#, Java or YAML reach the same components with the same plain data through the
source-based plugin in ``plugin/`` (``pulumi package add``; its input types are generated from
:func:`image_json_schema` and :class:`ImageArgs`). See docs/reuse.md.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, TypedDict

import pulumi

from golden_images.catalog.loader import CATALOG_KEY, CatalogError, Issue, load_catalog
from golden_images.catalog.spec import ImageSpec
from golden_images.core.build import ImageBuild
from golden_images.platforms.aws.pins import PinFile, load_pins, pins_path


class ImageArgs(TypedDict, total=False):
    """Plain data for one image: the keys of one entry of a catalog's ``images`` (see the README's catalog
    section for every field and its default) plus where and how it is built."""

    environment: str
    """``dev`` | ``staging`` | ``prod``. Required."""
    root: str | Path
    """Directory that repo-relative ``script``/``file`` paths are read from. Default: the current directory."""
    name: str
    """Image name (3-40 of ``[a-z0-9-]``). Default: the component's resource name."""
    version: str
    """Semver ``MAJOR.MINOR.PATCH``, a string. Required."""
    description: str
    """Required."""
    os: Mapping[str, Any]
    """``family``, ``release``, ``architecture``, ``lts``. Required."""
    provision: Sequence[Mapping[str, Any]]
    """Build steps in order (≥1): ``packages``, ``script``, ``shell`` or ``file`` steps. Required."""
    validate: Sequence[Mapping[str, Any]]
    """Steps on the build instance before capture. Default: none."""
    tests: Sequence[Mapping[str, Any]]
    """Steps on a fresh instance from the new image. Default: none."""
    tags: Mapping[str, str]
    """The image's tags (the derived ``environment``, ``managed-by``, ``golden-image``, ``image-version`` are
    added). Default: none — but ``required_tags`` must be present."""
    required_tags: Sequence[str]
    """Tag keys that must be present. Default: owner, cost-center, environment, managed-by, golden-image,
    image-version."""
    aws: Mapping[str, Any]
    """AWS section (EC2 Image Builder). Default: not built on AWS."""
    azure: Mapping[str, Any]
    """Azure section (VM Image Builder + Compute Gallery). Default: not built on Azure."""
    gcp: Mapping[str, Any]
    """GCP section (Cloud Build + Packer). Default: not built on GCP."""
    proxmox: Mapping[str, Any]
    """Proxmox VE section. Default: not built on Proxmox."""
    bake_on_up: bool
    """Bake every platform once during ``pulumi up``. Default: false."""


class ImageArgsError(CatalogError, pulumi.RunError):
    """Invalid :class:`ImageArgs`; ``issues`` lists every problem with its field path in the caller's terms."""


#: Keys of :class:`ImageArgs` that are not part of the catalog's image entry.
_BUILD_KEYS = ("environment", "root", "required_tags", "bake_on_up")
_CATALOG_PREFIX = f"config.{CATALOG_KEY}"
_IMAGE_PATH = re.compile(rf"^{re.escape(_CATALOG_PREFIX)}\.images\[0\]\.?")


def _caller_path(path: str) -> str:
    """``config.golden-images:catalog.images[0].aws.kms_keys`` → ``aws.kms_keys`` (the caller's terms)."""
    if _IMAGE_PATH.match(path):
        return _IMAGE_PATH.sub("", path) or "(image)"
    if path.startswith(f"{_CATALOG_PREFIX}.defaults.required_tags"):
        return "required_tags" + path[len(f"{_CATALOG_PREFIX}.defaults.required_tags") :]
    if path.startswith(f"{_CATALOG_PREFIX}."):
        return path[len(_CATALOG_PREFIX) + 1 :]
    return path or "(image)"


def _caller_message(path: str, message: str) -> str:
    """A catalog message in plain-data terms: there are no ``defaults.tags``, and there is only one image, so
    a golden parent (``<platform>.parent.image``) cannot be found here whatever its name."""
    message = message.replace("set them here or in defaults.tags", "set them in tags")
    if re.fullmatch(r"[a-z]+\.parent\.image", path):
        message += (
            "; plain data holds one image, so a golden parent cannot be named here: build layered images"
            " from a stack-file catalog, or use the parent's baked image (ami / image_builder_arn) instead"
        )
    return message


def image_build(
    name: str, args: Mapping[str, Any], *, source: str | None = None, pins: PinFile | None = None
) -> ImageBuild:
    """Validate ``args`` (:class:`ImageArgs`) and derive its :class:`ImageBuild`.

    ``source`` names the caller in errors (default ``GoldenImage(<name>)``); ``pins`` defaults to
    ``<root>/stacks/pins/<environment>.yaml`` when it exists, else none. Raises :class:`ImageArgsError`.
    """
    where = source or f"GoldenImage({name})"
    if not isinstance(args, Mapping):
        raise ImageArgsError([Issue(where, "(args)", f"args must be a mapping, not a {type(args).__name__}")])
    root = Path(args.get("root", "."))
    image = {k: v for k, v in args.items() if k not in _BUILD_KEYS}
    image.setdefault("name", name)
    defaults: dict[str, Any] = {}
    if "required_tags" in args:
        defaults["required_tags"] = args["required_tags"]
    raw = {"environment": args.get("environment"), "defaults": defaults, "images": [image]}
    environment = args.get("environment")
    if pins is None and isinstance(environment, str) and re.fullmatch(r"dev|staging|prod", environment):
        pins = load_pins(pins_path(root, environment))
    try:
        catalog = load_catalog(raw, source=where, root=root, pin_file=pins)
    except CatalogError as exc:
        raise ImageArgsError(
            [
                Issue(
                    issue.file,
                    _caller_path(issue.path),
                    _caller_message(_caller_path(issue.path), issue.message),
                )
                for issue in exc.issues
            ]
        ) from None
    return ImageBuild.from_catalog(
        catalog, catalog.images[0], root, pins, bake_on_up=bool(args.get("bake_on_up", False))
    )


def image_json_schema() -> dict[str, Any]:
    """The JSON schema of one catalog image entry (keys as written in a catalog, e.g. ``validate``), from the
    model :func:`image_build` validates with. The source of the multi-language plugin's input types
    (``plugin/generate.py``); it says nothing about the build keys (``environment``, ``root``,
    ``required_tags``, ``bake_on_up``), which :class:`ImageArgs` documents."""
    return ImageSpec.model_json_schema(by_alias=True, mode="validation")
