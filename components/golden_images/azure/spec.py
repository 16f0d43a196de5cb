"""The ``azure``section of a catalog image.

Placeholder: the azure platform is not implemented yet, so the section accepts no keys and a catalog that sets
it fails validation with "unknown key". Its issue replaces this model.
"""

from __future__ import annotations

from golden_images.common.base import CatalogModel


class AzureSpec(CatalogModel):
    """No settings yet (the platform is not implemented)."""
