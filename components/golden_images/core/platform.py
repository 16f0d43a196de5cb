"""What a platform package registers: the descriptor ``golden_images.platforms`` lists once per platform.

A descriptor carries everything the catalog, the program and ``GoldenImage`` need to know about a platform,
so none of them names a platform: its catalog section model, the bound on version parts, its component (by
import path: the provider SDKs are large and a catalog that does not use a platform should not import it),
load-time checks that need more than the section's own model, the stack config it needs, and how its
artifacts become a launchable reference in the version record. See docs/architecture.md, "Adding a platform".
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from golden_images.core.base import CatalogModel
from golden_images.core.image import ImageCore

if TYPE_CHECKING:
    from golden_images.core.build import ImageBuild

#: ``(field, message)`` pairs; ``field`` is relative to the image (``"version"``, ``"provision"``, …).
Problems = Iterable[tuple[str, str]]


@dataclass(frozen=True)
class StackConfigCheck:
    """What a stack's config lacks for a platform: ``problems`` (``(key, why and fix)``, refused before anything
    is declared) and ``notes`` (what ``pulumi up`` will still need; a preview can run without it)."""

    problems: tuple[tuple[str, str], ...] = ()
    notes: tuple[str, ...] = ()


def _no_problems(image: ImageCore, section: Any) -> Problems:
    return ()


def _no_render_problems(image: ImageCore, section: Any, root: Path) -> Problems:
    return ()


@dataclass(frozen=True)
class Platform:
    """One platform. ``name`` is the catalog key (``aws``); ``section`` the model of that key; ``token`` the
    component's Pulumi type token; ``component`` its ``"module:Class"``; ``version_part_max`` the largest
    version part the platform's builder accepts (default: no bound). ``checks(image, section)`` runs after the
    model validated; ``render_checks(image, section, root)`` once the repository files are known safe to read
    (default: none). ``stack_config`` checks the stack config the platform needs (default: none);
    ``launch_reference(artifacts, build, section)`` turns the component's resolved artifacts into the record's
    ``launch`` entry."""

    name: str
    section: type[CatalogModel]
    token: str
    component: str
    launch_reference: Callable[[Mapping[str, Any], ImageBuild, Any], dict[str, Any]]
    version_part_max: int | None = None
    checks: Callable[[ImageCore, Any], Problems] = _no_problems
    render_checks: Callable[[ImageCore, Any, Path], Problems] = _no_render_problems
    stack_config: (
        Callable[
            [Callable[[str], object | None], Callable[[str], bool], Mapping[str, str], bool], StackConfigCheck
        ]
        | None
    ) = None

    def component_class(self) -> Any:
        """The component class, imported on first use."""
        module_name, class_name = self.component.split(":")
        return getattr(importlib.import_module(module_name), class_name)
