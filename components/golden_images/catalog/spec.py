"""The typed image catalog: what a stack file's ``golden-images:catalog`` config becomes after validation.

Everything here is immutable and validated strictly (see :class:`~golden_images.core.base.CatalogModel`).
Platform sections live beside their components (``golden_images.<platform>.spec``) and are optional per
image; ``defaults.<platform>`` is deep-merged under each image's section by the loader before validation.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

from pydantic import (
    Discriminator,
    Field,
    Tag,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

from golden_images.platforms.aws.spec import AwsSpec
from golden_images.platforms.azure.spec import AzureSpec
from golden_images.core import rules
from golden_images.core.base import CatalogModel, ImageName, NonEmptyStr, RepoFile, SemVer, Sha256
from golden_images.platforms.gcp.spec import GcpSpec
from golden_images.platforms.proxmox.spec import ProxmoxSpec

Environment = Literal["dev", "staging", "prod"]
OsFamily = Literal["ubuntu", "debian", "rhel", "rocky", "almalinux", "amazon-linux"]
Architecture = Literal["x86_64", "arm64"]

#: EC2 Image Builder semantic versions allow each part up to 2^30-1.
IMAGE_BUILDER_VERSION_PART_MAX = 2**30 - 1
#: Azure Compute Gallery version names are int.int.int with 32-bit signed parts.
GALLERY_VERSION_PART_MAX = 2**31 - 1
#: Tag keys golden-images derives itself; a catalog may repeat them only with the same value.
DERIVED_TAG_KEYS: tuple[str, ...] = ("environment", "managed-by", "golden-image", "image-version")
# Canonical tag keys must render unchanged on AWS, Azure, GCP labels and Proxmox tags, hence the narrow set.
_TAG_KEY = re.compile(r"^[a-z][a-z0-9_-]{0,62}$")
_TAG_VALUE = re.compile(r"^[A-Za-z0-9 _.:/=+@-]{0,256}$")
_PACKAGE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9.+_:~=-]*$")
_STEP_KINDS = ("shell", "script", "file", "packages")


class OsSpec(CatalogModel):
    """The base operating system. ``lts`` declares whether ``release`` is a long-term-support release
    (prod requires it)."""

    family: OsFamily
    release: NonEmptyStr
    architecture: Architecture = "x86_64"
    lts: bool


class _StepBase(CatalogModel):
    name: Annotated[str, Field(pattern=r"^[A-Za-z][A-Za-z0-9 _-]{0,62}$")] | None = None


class ShellStep(_StepBase):
    """Inline shell (bash), run as root with ``set -euo pipefail``; only ``\\n`` may break its lines."""

    shell: NonEmptyStr

    @field_validator("shell")
    @classmethod
    def _one_kind_of_line_break(cls, value: str) -> str:
        # Imported here: the shell-step library depends on the resolved steps, which depend on this module.
        from golden_images.core.shellsteps import inline_shell_problem

        problem = inline_shell_problem(value)
        if problem is not None:
            raise ValueError(problem)
        return value


class ScriptStep(_StepBase):
    """A script file in the repository (path relative to the project root); its content is part of the
    image fingerprint, so editing it produces a new build."""

    script: RepoFile
    args: tuple[str, ...] = ()


class FileStep(_StepBase):
    """A UTF-8 text file in the repository copied to ``destination`` and verified against ``sha256`` both at
    load time and on the build instance. Default ``mode`` is ``0644``, ``owner`` ``root``."""

    file: RepoFile
    destination: Annotated[str, Field(pattern=r"^/[^\s]*$")]
    sha256: Sha256
    mode: Annotated[str, Field(pattern=r"^0?[0-7]{3}$")] = "0644"
    owner: Annotated[str, Field(pattern=r"^[a-z_][a-z0-9_-]*$")] = "root"


class PackagesStep(_StepBase):
    """Packages installed with the OS family's package manager (apt-get or dnf)."""

    packages: Annotated[tuple[Annotated[str, Field(pattern=_PACKAGE.pattern)], ...], Field(min_length=1)]


def _step_kind(value: Any) -> str | None:
    if isinstance(value, dict):
        kinds = [k for k in _STEP_KINDS if k in value]
        return kinds[0] if len(kinds) == 1 else None
    if isinstance(value, _StepBase):
        return {ShellStep: "shell", ScriptStep: "script", FileStep: "file", PackagesStep: "packages"}.get(
            type(value)
        )
    return None


Step = Annotated[
    Annotated[ShellStep, Tag("shell")]
    | Annotated[ScriptStep, Tag("script")]
    | Annotated[FileStep, Tag("file")]
    | Annotated[PackagesStep, Tag("packages")],
    Discriminator(
        _step_kind,
        custom_error_type="step_kind",
        custom_error_message="a step needs exactly one of the keys shell, script, file or packages",
    ),
]


class ImageSpec(CatalogModel):
    """One golden image. ``provision`` runs at build time; ``validate`` checks the build instance before the
    image is captured; ``tests`` run on a fresh instance launched from the new image. Default: no validate
    or test steps, no platform sections."""

    name: ImageName
    version: SemVer
    description: NonEmptyStr
    os: OsSpec
    provision: Annotated[tuple[Step, ...], Field(min_length=1)]
    validate_steps: tuple[Step, ...] = Field(default=(), alias="validate")
    tests: tuple[Step, ...] = ()
    tags: dict[str, str] = Field(default_factory=dict, validate_default=True)
    aws: AwsSpec | None = None
    azure: AzureSpec | None = None
    gcp: GcpSpec | None = None
    proxmox: ProxmoxSpec | None = None

    @field_validator("description")
    @classmethod
    def _no_template_syntax(cls, value: str) -> str:
        # The description reaches template strings (Packer's image_description, AWSTOE's document), and Packer
        # renders those as Go templates with no reliable escape: refuse rather than let text run as an action.
        if "{{" in value or "}}" in value:
            raise ValueError(
                "the description may not contain '{{' or '}}': Packer and AWSTOE expand them as template "
                "syntax. Reword it (for example with single braces)"
            )
        return value

    @field_validator("tags")
    @classmethod
    def _tags(cls, tags: dict[str, str], info: ValidationInfo) -> dict[str, str]:
        check_tag_map(tags)
        ctx: Any = info.context if isinstance(info.context, dict) else {}
        derived = {
            "environment": ctx.get("environment"),
            "managed-by": rules.MANAGED_BY,
            "golden-image": info.data.get("name"),
            "image-version": info.data.get("version"),
        }
        problems = [
            f"tag {key!r} is derived by golden-images as {derived[key]!r}; remove it or set that value"
            for key, value in tags.items()
            if key in derived and derived[key] is not None and value != derived[key]
        ]
        defaults_tags = ctx.get("default_tags") if isinstance(ctx.get("default_tags"), dict) else {}
        required = ctx.get("required_tags") or rules.REQUIRED_TAG_KEYS
        merged = {**defaults_tags, **tags}
        missing = [k for k in required if k not in DERIVED_TAG_KEYS and not str(merged.get(k, "")).strip()]
        if missing:
            problems.append(
                "required tag(s) "
                + ", ".join(repr(k) for k in missing)
                + " missing; set them here or in defaults.tags"
            )
        if problems:
            raise ValueError("; ".join(problems))
        return tags

    @field_validator("aws", "azure")
    @classmethod
    def _version_fits_platform(cls, section: Any, info: ValidationInfo) -> Any:
        # Each platform bounds version parts differently; the image version must fit every platform it uses.
        version = info.data.get("version")
        if section is None or not isinstance(version, str):
            return section
        parts = [int(p) for p in version.split(".")]
        limit = IMAGE_BUILDER_VERSION_PART_MAX if info.field_name == "aws" else GALLERY_VERSION_PART_MAX
        if any(p > limit for p in parts):
            raise PydanticCustomError(
                "version_too_large",
                "version {version} does not fit {platform}: each part must be at most {limit}",
                {"version": version, "platform": info.field_name, "limit": limit},
            )
        return section

    @field_validator("os")
    @classmethod
    def _prod_lts(cls, os: OsSpec, info: ValidationInfo) -> OsSpec:
        ctx: Any = info.context
        if isinstance(ctx, dict) and ctx.get("environment") == "prod" and not os.lts:
            raise PydanticCustomError(
                "prod_lts",
                "prod images must start from a long-term-support release; {release} is declared lts: false",
                {"release": f"{os.family} {os.release}"},
            )
        return os

    @model_validator(mode="after")
    def _platforms(self) -> ImageSpec:
        if not any((self.aws, self.azure, self.gcp, self.proxmox)):
            raise PydanticCustomError(
                "no_platform",
                "image {name!r} has no platform section; add at least one of aws, azure, gcp, proxmox",
                {"name": self.name},
            )
        return self

    def platforms(self) -> tuple[str, ...]:
        """The platform sections present, in a fixed order."""
        return tuple(p for p in ("aws", "azure", "gcp", "proxmox") if getattr(self, p) is not None)


def check_tag_map(tags: dict[str, str]) -> None:
    """Raise ``ValueError`` listing every bad key/value of a canonical tag map."""
    problems: list[str] = []
    for key, value in tags.items():
        if rules.is_reserved_tag_key(key):
            problems.append(f"tag key {key!r} uses the reserved 'aws:' prefix")
        elif not _TAG_KEY.fullmatch(key):
            problems.append(
                f"tag key {key!r} must be 1-63 lowercase letters, digits, '_' or '-', starting with a "
                "letter (so it renders unchanged as an AWS/Azure tag, a GCP label and a Proxmox tag)"
            )
        if not _TAG_VALUE.fullmatch(value):
            problems.append(
                f"tag value {value!r} of {key!r} must be at most 256 of letters, digits, spaces and _ . : / = + @ -"
            )
    if problems:
        raise ValueError("; ".join(problems))


class Defaults(CatalogModel):
    """Values every image inherits. ``tags`` are merged under each image's tags; ``required_tags`` (default:
    owner, cost-center, environment, managed-by, golden-image, image-version) must all be present after the
    merge. Platform defaults (``aws``, ``azure``, ``gcp``, ``proxmox``) are raw mappings deep-merged by the
    loader under each image's platform section of the same name."""

    tags: dict[str, str] = Field(default_factory=dict)
    required_tags: tuple[str, ...] = rules.REQUIRED_TAG_KEYS
    aws: dict[str, Any] | None = None
    azure: dict[str, Any] | None = None
    gcp: dict[str, Any] | None = None
    proxmox: dict[str, Any] | None = None

    @field_validator("tags")
    @classmethod
    def _tags(cls, tags: dict[str, str]) -> dict[str, str]:
        check_tag_map(tags)
        return tags


class Catalog(CatalogModel):
    """The catalog of one environment: ``environment`` (dev|staging|prod), ``defaults`` and ``images``."""

    environment: Environment
    defaults: Defaults = Field(default_factory=Defaults)
    images: Annotated[tuple[ImageSpec, ...], Field(min_length=1)]

    @field_validator("images")
    @classmethod
    def _unique(cls, images: tuple[ImageSpec, ...]) -> tuple[ImageSpec, ...]:
        seen: dict[str, int] = {}
        for index, image in enumerate(images):
            if image.name in seen:
                raise PydanticCustomError(
                    "duplicate_image",
                    "image name '{name}' appears more than once (images[{first}] and images[{again}]); "
                    "names must be unique",
                    {"name": image.name, "first": seen[image.name], "again": index},
                )
            seen[image.name] = index
        return images

    def image(self, name: str) -> ImageSpec:
        """The image called ``name``; ``KeyError`` if there is none."""
        for image in self.images:
            if image.name == name:
                return image
        raise KeyError(name)

    def tags_for(self, image: ImageSpec) -> dict[str, str]:
        """The canonical tag map of ``image``: defaults, then the image's own tags, then the derived keys
        (environment, managed-by, golden-image, image-version), sorted by key."""
        merged = {**self.defaults.tags, **image.tags}
        merged.update(
            {
                "environment": self.environment,
                "managed-by": rules.MANAGED_BY,
                "golden-image": image.name,
                "image-version": image.version,
            }
        )
        return dict(sorted(merged.items()))
