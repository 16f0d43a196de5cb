"""The moto server, its reset and the seeder of ``tests/tools`` (one server per session)."""

from tests.tools.conftest import _fresh_moto, moto_server, seed

__all__ = ["_fresh_moto", "moto_server", "seed"]
