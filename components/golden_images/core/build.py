"""What a platform component needs to build one image: the spec plus everything derived from it once."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from golden_images.core.fingerprint import image_fingerprint
from golden_images.platforms.aws.pins import PinFile
from golden_images.catalog.spec import Catalog, ImageSpec
from golden_images.core.steps import ResolvedSteps, resolve_steps


@dataclass(frozen=True)
class ImageBuild:
    """One image of one environment, fully derived: canonical ``tags``, resolved ``steps`` and the content
    ``fingerprint``. ``pins`` are the environment's pinned parents (empty by default)."""

    image: ImageSpec
    environment: str
    tags: dict[str, str]
    steps: ResolvedSteps
    fingerprint: str
    root: Path
    pins: PinFile = field(default_factory=PinFile)
    bake_on_up: bool = False
    """Project-wide ``bakeOnUp``: bake every image now, whatever its platform section says."""

    @classmethod
    def from_catalog(
        cls,
        catalog: Catalog,
        image: ImageSpec,
        root: Path,
        pins: PinFile | None = None,
        *,
        bake_on_up: bool = False,
    ) -> ImageBuild:
        """Derive the build of ``image`` (tags, resolved steps, fingerprint)."""
        steps = resolve_steps(image, root)
        return cls(
            image=image,
            environment=catalog.environment,
            tags=catalog.tags_for(image),
            steps=steps,
            fingerprint=image_fingerprint(image, steps),
            root=root,
            pins=pins or PinFile(),
            bake_on_up=bake_on_up,
        )
