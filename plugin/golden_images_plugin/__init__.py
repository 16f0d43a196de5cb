"""The golden-images multi-language plugin: the provider-facing component classes
(:mod:`golden_images_plugin.components`) and their generated input types
(:mod:`golden_images_plugin.catalog_types`). Run by ``plugin/__main__.py``; see docs/reuse.md."""
