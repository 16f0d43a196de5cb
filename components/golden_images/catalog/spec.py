"""The typed image catalog: what a stack file's ``golden-images:catalog`` config becomes after validation.

An :class:`ImageSpec` is the platform-neutral :class:`~golden_images.core.image.ImageCore` plus one optional
section per platform registered in :data:`golden_images.platforms.PLATFORMS` (the section models live in
their platform packages). ``defaults.<platform>`` is deep-merged under each image's section by the loader
before validation. The platform fields are created from the registry, so adding a platform touches no file
here; type checkers see a section as ``Any`` (``ImageBuild.section`` gives typed access).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

from pydantic import Field, ValidationInfo, create_model, field_validator, model_validator
from pydantic_core import PydanticCustomError

from golden_images.core import rules
from golden_images.core.base import CatalogModel
from golden_images.core.image import (
    DERIVED_TAG_KEYS,
    Environment,
    FileStep,
    ImageCore,
    OsSpec,
    PackagesStep,
    ScriptStep,
    ShellStep,
    Step,
    check_tag_map,
)
from golden_images.platforms import PLATFORMS

__all__ = [
    "DERIVED_TAG_KEYS",
    "Catalog",
    "Defaults",
    "FileStep",
    "ImageSpec",
    "OsSpec",
    "PackagesStep",
    "ScriptStep",
    "ShellStep",
    "Step",
]


class _ImageSpecBase(ImageCore):
    """One golden image: the core plus its platform sections (default: none; at least one is required)."""

    @field_validator(*PLATFORMS, check_fields=False)
    @classmethod
    def _version_fits_platform(cls, section: Any, info: ValidationInfo) -> Any:
        # Each platform bounds version parts differently; the image version must fit every platform it uses.
        version = info.data.get("version")
        platform = PLATFORMS[info.field_name or ""]
        limit = platform.version_part_max
        if section is None or not isinstance(version, str) or limit is None:
            return section
        if any(int(p) > limit for p in version.split(".")):
            raise PydanticCustomError(
                "version_too_large",
                "version {version} does not fit {platform}: each part must be at most {limit}",
                {"version": version, "platform": platform.name, "limit": limit},
            )
        return section

    @model_validator(mode="after")
    def _platforms(self) -> _ImageSpecBase:
        if not self.platforms():
            raise PydanticCustomError(
                "no_platform",
                "image {name!r} has no platform section; add at least one of {names}",
                {"name": self.name, "names": ", ".join(PLATFORMS)},
            )
        return self

    def platforms(self) -> tuple[str, ...]:
        """The platform sections present, in registry order."""
        return tuple(p for p in PLATFORMS if getattr(self, p) is not None)

    def section(self, platform: str) -> Any:
        """The section of ``platform`` (``None`` when the image does not use it)."""
        return getattr(self, platform)


if TYPE_CHECKING:

    class ImageSpec(_ImageSpecBase):
        def __getattr__(self, name: str) -> Any: ...

else:
    ImageSpec = create_model(
        "ImageSpec",
        __base__=_ImageSpecBase,
        __module__=__name__,
        __doc__=_ImageSpecBase.__doc__,
        **{name: (platform.section | None, None) for name, platform in PLATFORMS.items()},
    )


class _DefaultsBase(CatalogModel):
    """Values every image inherits. ``tags`` are merged under each image's tags; ``required_tags`` (default:
    owner, cost-center, environment, managed-by, golden-image, image-version) must all be present after the
    merge. Platform defaults (one optional key per registered platform) are raw mappings deep-merged by the
    loader under each image's platform section of the same name."""

    tags: dict[str, str] = Field(default_factory=dict)
    required_tags: tuple[str, ...] = rules.REQUIRED_TAG_KEYS

    @field_validator("tags")
    @classmethod
    def _tags(cls, tags: dict[str, str]) -> dict[str, str]:
        check_tag_map(tags)
        return tags


if TYPE_CHECKING:

    class Defaults(_DefaultsBase):
        def __getattr__(self, name: str) -> Any: ...

else:
    Defaults = create_model(
        "Defaults",
        __base__=_DefaultsBase,
        __module__=__name__,
        __doc__=_DefaultsBase.__doc__,
        **{name: (dict[str, Any] | None, None) for name in PLATFORMS},
    )


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
