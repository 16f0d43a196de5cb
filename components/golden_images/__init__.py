"""golden-images: Pulumi components, rules and tools for hardened, versioned golden machine images.

Import the library as ``golden_images`` (a distinctive name so it never collides with another repo's
``components`` package). The public entry points are:

* :class:`golden_images.golden_image.GoldenImage` — one component per catalog image;
* :func:`golden_images.catalog.loader.load_catalog` — typed, validated catalog from a stack's config;
* :mod:`golden_images.core.rules` — rule functions shared with the policy pack.
"""

__all__ = ["__version__"]
__version__ = "0.1.0"
