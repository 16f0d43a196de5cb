"""CrossGuard rules for golden images: encryption, tagging, version, sharing and build hygiene.

Importable on its own (tests, the offline preview); ``policies/__main__.py`` only builds the ``PolicyPack``.
"""

from .pack import PACK_NAME, all_policies

__all__ = ["PACK_NAME", "all_policies"]
