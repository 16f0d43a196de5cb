"""Render an image's steps as Azure VM Image Builder customizers and in-VM validators (pure).

AIB runs Shell customizers as the unprivileged ``packer`` user with ``/bin/sh -e``; every step is therefore
rendered as one inline command that feeds the step to ``sudo -n bash -euo pipefail`` through a quoted heredoc
(no expansion, arguments reach ``"$@"``). Its delimiter carries the content's hash so a step can never end
the heredoc early.

Copied files (``FileStep``) are written the same way and then verified with ``sha256sum --check`` on the build
VM, so a mismatch fails the build. AIB's own ``File`` customizer needs a ``sourceUri`` (a public or SAS URL)
and its ``sha256Checksum`` only covers that download; rendering inline keeps the template self-contained
(no storage account, no blob access for the identity) while the checksum is still enforced in the VM.

Phases: ``provision`` then ``validate`` steps become customizers (both run on the build VM before capture);
``tests`` become ``validate.inVMValidations``, which AIB runs on a validation VM created from the captured
image before distribution.
"""

from __future__ import annotations

import hashlib
import re
import shlex
from dataclasses import dataclass

from golden_images.common.steps import ResolvedStep, ResolvedSteps

_APT = ("ubuntu", "debian")


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


def _delimiter(content: str) -> str:
    return "GOLDEN_IMAGES_" + hashlib.sha256(content.encode()).hexdigest()[:16].upper()


def _as_root(script: str, args: tuple[str, ...] = ()) -> str:
    """``script`` run as root by bash with ``-euo pipefail``, arguments in ``"$@"``."""
    quoted = "".join(f" {shlex.quote(a)}" for a in args)
    end = _delimiter(script)
    body = script if script.endswith("\n") else script + "\n"
    return f"sudo -n bash -euo pipefail -s --{quoted} <<'{end}'\n{body}{end}"


def package_command(family: str, packages: tuple[str, ...]) -> str:
    """Install ``packages`` non-interactively with apt-get (Ubuntu/Debian) or dnf (the others)."""
    quoted = " ".join(shlex.quote(p) for p in packages)
    if family in _APT:
        return (
            "export DEBIAN_FRONTEND=noninteractive\n"
            "apt-get update -y\n"
            f"apt-get install -y --no-install-recommends {quoted}\n"
        )
    return f"dnf install -y {quoted}\n"


def file_command(step: ResolvedStep) -> str:
    """Write a copied file with its mode and owner, then verify its sha256 on the VM (fails on mismatch)."""
    assert step.destination is not None and step.sha256 is not None
    dest = shlex.quote(step.destination)
    content = step.content
    end = _delimiter(content)
    owner = shlex.quote(step.owner or "root")
    check = shlex.quote(f"{step.sha256}  {step.destination}")
    # A heredoc always appends a newline; `head -c -1` drops it so the file is byte-exact for the checksum.
    return (
        f'install -d -m 0755 "$(dirname {dest})"\n'
        f"tmp=$(mktemp)\n"
        f"cat > \"$tmp\" <<'{end}'\n{content}\n{end}\n"
        f'head -c -1 "$tmp" > {dest}\n'
        f'rm -f "$tmp"\n'
        f"chown {owner}:{owner} {dest}\n"
        f"chmod {shlex.quote(step.mode or '0644')} {dest}\n"
        f"echo {check} | sha256sum --check --status - || {{ echo checksum mismatch: {dest} >&2; exit 1; }}\n"
    )


def render_step(step: ResolvedStep, family: str) -> str:
    """The root shell script of one resolved step."""
    if step.kind in ("shell", "script"):
        return step.content
    if step.kind == "file":
        return file_command(step)
    return package_command(family, step.packages)


def _commands(
    prefix: str, steps: tuple[ResolvedStep, ...], family: str, start: int = 1
) -> list[ShellCommand]:
    out: list[ShellCommand] = []
    for index, step in enumerate(steps, start=start):
        script = render_step(step, family)
        out.append(ShellCommand(_step_name(prefix, index, step.name), (_as_root(script, step.args),)))
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
