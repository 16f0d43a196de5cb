"""What a platform component needs to build one image: the spec plus everything derived from it once."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol, TypeVar

from golden_images.core.base import CatalogModel
from golden_images.core.fingerprint import chain_fingerprint, image_fingerprint
from golden_images.core.image import ImageCore
from golden_images.core.steps import ResolvedSteps, resolve_steps

S = TypeVar("S", bound=CatalogModel)


class PinLookup(Protocol):
    """Pinned parents of an environment (``platforms.aws.pins.PinFile``): the pin of an SSM parameter in a
    region, or ``None``."""

    def lookup(self, parameter: str, region: str) -> Any: ...


class _NoPins:
    def lookup(self, parameter: str, region: str) -> Any:
        return None


#: No pinned parents (the default): every SSM parent stays floating.
NO_PINS: PinLookup = _NoPins()


class CatalogView(Protocol):
    """What :meth:`ImageBuild.from_catalog` reads of a catalog (``catalog.spec.Catalog``)."""

    @property
    def environment(self) -> str: ...

    def tags_for(self, image: Any) -> dict[str, str]: ...


@dataclass(frozen=True)
class ImageBuild:
    """One image of one environment, fully derived: canonical ``tags``, resolved ``steps`` and the content
    ``fingerprint``. ``image`` is the catalog's ``ImageSpec`` (the core plus its platform sections; read a
    section with :meth:`section`). ``pins`` are the environment's pinned parents (default: none)."""

    image: Any
    environment: str
    tags: dict[str, str]
    steps: ResolvedSteps
    fingerprint: str
    root: Path
    pins: PinLookup = NO_PINS
    bake_on_up: bool = False
    """Project-wide ``bakeOnUp``: bake every image now, whatever its platform section says."""
    parent: ImageBuild | None = None
    """The build of the golden parent (another catalog image) this image is layered on (default: none)."""
    content_fingerprint: str = ""
    """The platform-neutral content hash alone (:func:`~golden_images.core.fingerprint.image_fingerprint`);
    ``fingerprint`` is the chain fingerprint that also covers the parent and the resolved vendor sources."""

    def ancestors(self) -> tuple[ImageBuild, ...]:
        """The parent, its parent, … up to the root (default: empty)."""
        chain: list[ImageBuild] = []
        current = self.parent
        while current is not None:
            chain.append(current)
            current = current.parent
        return tuple(chain)

    def golden_parent(self, platform: str) -> str | None:
        """The name of the catalog image the ``platform`` section is layered on, ``None`` for a vendor source."""
        section = getattr(self.image, platform, None)
        name = getattr(section, "golden_parent", None)
        return name if isinstance(name, str) else None

    @property
    def core(self) -> ImageCore:
        """The platform-neutral part of the image."""
        image: ImageCore = self.image
        return image

    def section(self, platform: str, model: type[S]) -> S:
        """The image's ``platform`` section, typed; ``ValueError`` when the image has none."""
        section = getattr(self.image, platform, None)
        if not isinstance(section, model):
            raise ValueError(f"image {self.image.name!r} has no {platform} section")
        return section

    @classmethod
    def from_catalog(
        cls,
        catalog: CatalogView,
        image: Any,
        root: Path,
        pins: PinLookup | None = None,
        *,
        bake_on_up: bool = False,
        parent: ImageBuild | None = None,
    ) -> ImageBuild:
        """Derive the build of ``image`` (tags, resolved steps, fingerprint); ``parent`` is the build of its
        golden parent (default: none; required when a platform section names one)."""
        steps = resolve_steps(image, root)
        lookup = pins or NO_PINS
        content = image_fingerprint(image, steps)
        sources: dict[str, Any] = {}
        for platform in image.platforms():
            # Each section names what its bytes start from (duck-typed: core does not know the platforms).
            identity = getattr(image.section(platform), "source_identity", None)
            sources[platform] = identity(lookup) if callable(identity) else None
        return cls(
            image=image,
            environment=catalog.environment,
            tags=catalog.tags_for(image),
            steps=steps,
            fingerprint=chain_fingerprint(
                content, parent=parent.fingerprint if parent is not None else None, sources=sources
            ),
            root=root,
            pins=lookup,
            bake_on_up=bake_on_up,
            parent=parent,
            content_fingerprint=content,
        )
