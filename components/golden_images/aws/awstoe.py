"""Render an image's steps as an AWSTOE component document (build / validate / test phases).

Pure: input is the validated spec and its resolved steps, output YAML text. Every shell step runs under
``set -euo pipefail``; copied files are written with ``CreateFile`` and then verified with ``sha256sum -c`` on
the instance, so a mismatch fails the build rather than shipping a different file.
"""

from __future__ import annotations

import functools
import re
import shlex
from typing import Any

from golden_images.common.spec import ImageSpec
from golden_images.common.steps import ResolvedStep, ResolvedSteps
from golden_images.common.yamlout import dump

#: Image Builder's limit on a component's inline ``data``.
MAX_COMPONENT_DATA = 16_000
_PHASE_NAMES = {"provision": "build", "validate": "validate", "test": "test"}
_APT = ("ubuntu", "debian")


def _step_name(prefix: str, index: int, name: str) -> str:
    # AWSTOE step names: alphanumeric, unique per phase.
    words = re.split(r"[^A-Za-z0-9]+", name)
    return f"{prefix}{index:02d}" + "".join(w[:1].upper() + w[1:] for w in words if w)[:100]


def _bash(*commands: str) -> dict[str, Any]:
    return {"action": "ExecuteBash", "inputs": {"commands": ["set -euo pipefail", *commands]}}


def _package_command(family: str, packages: tuple[str, ...]) -> str:
    quoted = " ".join(shlex.quote(p) for p in packages)
    if family in _APT:
        return (
            "export DEBIAN_FRONTEND=noninteractive\n"
            "apt-get update -y\n"
            f"apt-get install -y --no-install-recommends {quoted}"
        )
    return f"dnf install -y {quoted}"


def _steps(prefix: str, steps: tuple[ResolvedStep, ...], family: str) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for index, step in enumerate(steps, start=1):
        name = _step_name(prefix, index, step.name)
        if step.kind == "shell":
            out.append({"name": name, **_bash(step.content)})
        elif step.kind == "script":
            script = step.content
            if step.args:
                # Run the script with its arguments: pass it through bash -s so args reach "$@".
                args = " ".join(shlex.quote(a) for a in step.args)
                script = f"bash -s -- {args} <<'GOLDEN_IMAGES_SCRIPT'\n{step.content}\nGOLDEN_IMAGES_SCRIPT"
            out.append({"name": name, **_bash(script)})
        elif step.kind == "file":
            assert step.destination and step.sha256
            out.append(
                {
                    "name": name,
                    "action": "CreateFile",
                    "inputs": [
                        {
                            "path": step.destination,
                            "content": step.content,
                            "permissions": step.mode,
                            "owner": step.owner,
                            "group": step.owner,
                            "overwrite": True,
                        }
                    ],
                }
            )
            check = shlex.quote(f"{step.sha256}  {step.destination}")
            dest = shlex.quote(step.destination)
            verify = f"echo {check} | sha256sum --check --status - || {{ echo checksum mismatch: {dest} >&2; exit 1; }}"
            out.append({"name": f"{name}Verify", **_bash(verify)})
        else:
            out.append({"name": name, **_bash(_package_command(family, step.packages))})
    return out


def render_component_document(image: ImageSpec, steps: ResolvedSteps) -> str:
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
