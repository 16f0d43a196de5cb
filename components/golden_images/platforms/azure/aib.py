"""Render an image's steps as Azure VM Image Builder customizers and in-VM validators (pure).

AIB runs Shell customizers as the unprivileged ``packer`` user with ``/bin/sh -e``; every step is therefore
one inline command that hands a runner to ``sudo -n bash -euo pipefail`` through a quoted heredoc. The runner
(:func:`golden_images.core.shellsteps.inline_runner`) writes the step to its own file — as text, so the
template stays reviewable, unless it holds NUL or ``{{`` (AIB hands customizers to Packer, which renders
template syntax), then base64 — and runs it with ``bash -euo pipefail <file> <args> </dev/null``: the step never
reads the runner's stdin, and both heredoc delimiters carry a content hash, so no line of a step can end them
early. JSON carries every character exactly.

Copied files (``FileStep``) travel base64-encoded (they may be binary), are checked against their sha256,
installed with mode and owner and checked again at the destination, so a mismatch fails the build. AIB's own
``File`` customizer needs a ``sourceUri`` (a public or SAS URL) and its ``sha256Checksum`` only covers that
download; rendering inline keeps the template self-contained (no storage account, no blob access for the
identity) while the checksum is still enforced in the VM.

Phases: ``provision`` then ``validate`` steps become customizers (both run on the build VM before capture);
``tests`` become ``validate.inVMValidations``, which AIB runs on a validation VM created from the captured
image before distribution.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

from golden_images.core import shellsteps
from golden_images.core.steps import ResolvedStep, ResolvedSteps


@dataclass(frozen=True)
class ShellCommand:
    """One AIB Shell customizer or validator: ``name`` and its ``inline`` commands."""

    name: str
    inline: tuple[str, ...]

    def as_dict(self) -> dict[str, object]:
        """The JSON shape AIB stores (``type: Shell``)."""
        return {"type": "Shell", "name": self.name, "inline": list(self.inline)}


def _step_name(prefix: str, index: int, name: str) -> str:
    words = [w for w in re.split(r"[^A-Za-z0-9]+", name) if w]
    return f"{prefix}-{index:02d}-" + "-".join(words)[:60] if words else f"{prefix}-{index:02d}"


def as_root(runner: str) -> str:
    """The inline command that runs ``runner`` (bash) as root under ``-euo pipefail``."""
    end = "GOLDEN_IMAGES_RUNNER_" + hashlib.sha256(runner.encode()).hexdigest()[:16].upper()
    body = runner if runner.endswith("\n") else runner + "\n"
    return f"sudo -n {shellsteps.BASH} <<'{end}'\n{body}{end}"


def package_command(family: str, packages: tuple[str, ...]) -> str:
    """Install ``packages`` non-interactively (see :func:`golden_images.core.shellsteps.packages_script`)."""
    return shellsteps.packages_script(family, packages)


def render_step(step: ResolvedStep, family: str) -> str:
    """The inline command of one resolved step: its runner, run as root."""
    file = shellsteps.step_file(step, family)
    return as_root(shellsteps.inline_runner(file.script, args=file.args, data=file.data, readable=True))


def _commands(
    prefix: str, steps: tuple[ResolvedStep, ...], family: str, start: int = 1
) -> list[ShellCommand]:
    out: list[ShellCommand] = []
    for index, step in enumerate(steps, start=start):
        out.append(ShellCommand(_step_name(prefix, index, step.name), (render_step(step, family),)))
    return out


def render_customizers(steps: ResolvedSteps, family: str) -> list[ShellCommand]:
    """Customizers: every ``provision`` step, then every ``validate`` step (checks on the build VM)."""
    provision = _commands("provision", steps.provision, family)
    return provision + _commands("validate", steps.validate, family)


def render_validators(steps: ResolvedSteps, family: str) -> list[ShellCommand]:
    """In-VM validators from the image's ``tests`` (run on a VM created from the captured image)."""
    return _commands("test", steps.test, family)


#: The script the build runner (an Azure deployment script) executes: run the template, wait for it (``az image
#: builder run`` blocks until the build ends and fails when the build fails), then hand the run output's
#: artifact id back to Pulumi through ``$AZ_SCRIPTS_OUTPUT_PATH``.
RUNNER_SCRIPT = """set -euo pipefail
az image builder run --resource-group "$GI_RESOURCE_GROUP" --name "$GI_TEMPLATE"
artifact=$(az image builder show-runs --resource-group "$GI_RESOURCE_GROUP" --name "$GI_TEMPLATE" \\
  --output-name "$GI_RUN_OUTPUT" --query artifactId --output tsv)
if [ -z "$artifact" ]; then echo "run output $GI_RUN_OUTPUT has no artifact id" >&2; exit 1; fi
printf '{"artifactId": "%s"}' "$artifact" > "$AZ_SCRIPTS_OUTPUT_PATH"
"""


def resolve_hint(resource_group: str, template: str, run_output: str) -> str:
    """How a consumer finds the version a template run produced (for the version record)."""
    return (
        f"az image builder show-runs --resource-group {resource_group} --name {template} "
        f"--output-name {run_output} --query artifactId --output tsv"
    )
