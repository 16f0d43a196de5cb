"""The policy pack of an installed golden-images: a pack directory for the installed rules package.

A wheel carries the rules (``golden_images_policies``) but not the repository's ``policies/`` directory, whose
``PulumiPolicy.yaml`` and ``__main__.py`` the engine (and the offline preview's harness) need. This module
writes those two files, exactly as in ``policies/``, into a private temporary directory for the life of the
process, so ``golden-images preview --root`` judges any project from any install.
"""

from __future__ import annotations

import atexit
import shutil
import tempfile
from importlib import metadata
from pathlib import Path

#: ``policies/__main__.py``: the pack's entry only builds the PolicyPack from the importable rules.
PACK_MAIN = '''"""The golden-images policy pack (generated from the installed golden_images_policies)."""

from pulumi_policy import EnforcementLevel, PolicyPack

from golden_images_policies import PACK_NAME, all_policies

PolicyPack(name=PACK_NAME, policies=all_policies(), enforcement_level=EnforcementLevel.MANDATORY)
'''

_generated: Path | None = None


def package_version() -> str:
    """The installed distribution's version (``0+unknown`` when run from a tree that was never installed)."""
    try:
        return metadata.version("golden-images")
    except metadata.PackageNotFoundError:
        return "0+unknown"


def pack_project(version: str) -> str:
    """``PulumiPolicy.yaml`` of the generated pack. No ``virtualenv`` option: the pack runs with the Python
    that runs golden-images, which is where its rules are installed."""
    return (
        "runtime: python\n"
        f"version: {version}\n"
        "description: Golden image guardrails - encryption, tagging, version, sharing and build hygiene "
        "on AWS, Azure, GCP and Proxmox VE.\n"
    )


def installed_policy_pack() -> Path:
    """A pack directory (``PulumiPolicy.yaml`` + ``__main__.py``) running the installed rules; created once per
    process in a private temporary directory that is removed at exit."""
    global _generated  # noqa: PLW0603 - one directory per process, however often the CLI asks
    if _generated is None:
        directory = Path(tempfile.mkdtemp(prefix="golden-images-pack-"))
        atexit.register(shutil.rmtree, directory, True)
        (directory / "PulumiPolicy.yaml").write_text(pack_project(package_version()), encoding="utf-8")
        (directory / "__main__.py").write_text(PACK_MAIN, encoding="utf-8")
        _generated = directory
    return _generated
