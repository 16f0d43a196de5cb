"""Render an image's steps as an AWSTOE component document (build / validate / test phases).

Pure: input is the validated spec and its resolved steps, output YAML text. Every step is one ``ExecuteBash``
action whose runner (:func:`golden_images.core.shellsteps.inline_runner`) writes the step to its own file
and runs it with ``bash -euo pipefail … </dev/null``. AWSTOE expands ``{{ … }}`` anywhere in a document's
inputs and has no escape for it, so step text, arguments and copied files travel base64-encoded: the bytes
that run on the instance are the bytes of the repository, whatever they contain. Copied files are checked
against their sha256 on the instance before and after installing, so a mismatch fails the build.
"""

from __future__ import annotations

import functools
import re
from typing import Any

from golden_images.core import shellsteps
from golden_images.core.image import ImageCore
from golden_images.core.steps import ResolvedStep, ResolvedSteps
from golden_images.core.yamlout import dump

#: Image Builder's limit on a component's inline ``data``.
MAX_COMPONENT_DATA = 16_000
_PHASE_NAMES = {"provision": "build", "validate": "validate", "test": "test"}


def _step_name(prefix: str, index: int, name: str) -> str:
    # AWSTOE step names: alphanumeric, unique per phase.
    words = re.split(r"[^A-Za-z0-9]+", name)
    return f"{prefix}{index:02d}" + "".join(w[:1].upper() + w[1:] for w in words if w)[:100]


def step_runner(step: ResolvedStep, family: str) -> str:
    """The bash runner of one step (the second command of its ``ExecuteBash`` action)."""
    file = shellsteps.step_file(step, family)
    return shellsteps.inline_runner(file.script, args=file.args, data=file.data)


def _steps(prefix: str, steps: tuple[ResolvedStep, ...], family: str) -> list[dict[str, Any]]:
    return [
        {
            "name": _step_name(prefix, index, step.name),
            "action": "ExecuteBash",
            "inputs": {"commands": ["set -euo pipefail", step_runner(step, family)]},
        }
        for index, step in enumerate(steps, start=1)
    ]


def render_component_document(image: ImageCore, steps: ResolvedSteps) -> str:
    """The AWSTOE YAML for ``image``: a ``build`` phase from ``provision``, ``validate`` and ``test`` phases
    from the matching steps (phases without steps are omitted)."""
    return _render(image.name, image.version, image.description, image.os.family, steps)


# Memoised: the catalog loader renders every document to check its size, then the component renders it again
# (and ``golden-images preview`` validates the catalog before running the program). The arguments are everything
# the document depends on, and are immutable, so a hit returns exactly what a fresh render would.
@functools.lru_cache(maxsize=512)
def _render(name: str, version: str, description: str, family: str, steps: ResolvedSteps) -> str:
    phases = []
    for phase, items in steps.phases():
        if items:
            prefix = {"provision": "Build", "validate": "Validate", "test": "Test"}[phase]
            phases.append({"name": _PHASE_NAMES[phase], "steps": _steps(prefix, items, family)})
    document = {
        "name": name,
        "description": f"golden-images {name} {version}: {description}"[:1024],
        "schemaVersion": 1.0,
        "phases": phases,
    }
    return dump(document)
