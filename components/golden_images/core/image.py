"""The platform-neutral image model: OS, steps and the core of one catalog image (no platform sections).

Everything here is immutable and validated strictly (see :class:`~golden_images.core.base.CatalogModel`). The
catalog (``golden_images.catalog.spec``) composes :class:`ImageCore` with the platform sections that
``golden_images.platforms`` registers.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Annotated, Any, Literal

from pydantic import Discriminator, Field, Tag, ValidationInfo, field_validator
from pydantic_core import PydanticCustomError

from golden_images.core import rules
from golden_images.core.base import CatalogModel, ImageName, NonEmptyStr, RepoFile, SemVer, Sha256

Environment = Literal["dev", "staging", "prod"]
OsFamily = Literal["ubuntu", "debian", "rhel", "rocky", "almalinux", "amazon-linux"]
Architecture = Literal["x86_64", "arm64"]

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


class GoldenParent(CatalogModel):
    """A parent that is another image of the same catalog (``parent: {image: base-ubuntu}`` in a platform
    section): the child is built from that image's output on this platform, inherits its OS facts and its
    vendor source, and its fingerprint covers the parent's."""

    image: ImageName


class LayeredSection:
    """What a platform section whose ``parent: GoldenParent | None`` stands in for its vendor source shares
    (Azure, GCP, Proxmox; AWS's ``parent`` has more shapes and spells these itself).

    A plain mixin, not a model, so the sections' fields and their order stay their own. The section gives
    :meth:`vendor_identity` (what its build starts from without a golden parent) and calls
    :meth:`check_source_or_parent` from a model validator.
    """

    if TYPE_CHECKING:
        parent: GoldenParent | None

    @property
    def golden_parent(self) -> str | None:
        """The catalog image this section is layered on, ``None`` for a vendor source."""
        return self.parent.image if self.parent is not None else None

    def source_identity(self, pins: Any) -> Any:
        """What the build starts from, for the fingerprint: the golden parent's name (its own fingerprint is
        chained in by the build) or :meth:`vendor_identity`."""
        if self.parent is not None:
            return {"image": self.parent.image}
        return self.vendor_identity(pins)

    def vendor_identity(self, pins: Any) -> Any:
        """The vendor source as the fingerprint covers it (each section defines it)."""
        raise NotImplementedError

    def check_source_or_parent(self, has_vendor: bool, code: str, vendor_field: str) -> None:
        """Refuse a section with both or neither of its vendor source (``vendor_field``) and ``parent``, as a
        ``code`` validation error."""
        if has_vendor == (self.parent is not None):
            raise PydanticCustomError(
                code,
                "set exactly one of {field} (a vendor image) or parent (a catalog image); got {given}",
                {"field": vendor_field, "given": "both" if has_vendor else "neither"},
            )


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


class ImageCore(CatalogModel):
    """The platform-neutral part of one golden image. ``provision`` runs at build time; ``validate`` checks the
    build instance before the image is captured; ``tests`` run on a fresh instance launched from the new image.
    Default: no validate or test steps."""

    name: ImageName
    version: SemVer
    description: NonEmptyStr
    os: OsSpec
    provision: Annotated[tuple[Step, ...], Field(min_length=1)]
    validate_steps: tuple[Step, ...] = Field(default=(), alias="validate")
    tests: tuple[Step, ...] = ()
    tags: dict[str, str] = Field(default_factory=dict, validate_default=True)

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
