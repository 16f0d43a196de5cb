"""The one step contract of every platform, as shell text the four renderers share.

Contract (AWS, Azure, GCP and Proxmox alike):

* every step is its own file, run as ``bash -euo pipefail <file> [args…] </dev/null``: a failing command,
  an unset variable or a failing pipeline stage fails the step, and the step fails the build;
* the step never reads the runner's stdin (``/dev/null``), so a script that reads stdin cannot swallow the
  rest of the runner;
* arguments are separate words, quoted with :func:`shlex.quote` (or base64-encoded where the consumer
  interprets ``{{ }}``), so spaces, quotes and ``$`` arrive literally;
* the step's bytes arrive unchanged: base64, or a quoted heredoc whose delimiter contains the content's
  hash, never a re-indented or whitespace-normalised copy;
* a copied file is staged, checked against its sha256, installed with its mode and owner, and checked again
  at its destination (:func:`file_install_script`).

Package steps wait for cloud-init where it still runs (it holds the apt/dpkg locks while it installs its own
packages) and give ``apt-get`` a dpkg lock timeout of :data:`APT_LOCK_TIMEOUT_SECONDS`.
"""

from __future__ import annotations

import base64
import hashlib
import shlex
from collections.abc import Sequence
from dataclasses import dataclass

from golden_images.core.steps import ResolvedStep

#: Bumped when the contract changes what a build runs; part of the image fingerprint, so images baked under
#: an older contract are rebuilt rather than silently kept.
CONTRACT_VERSION = 2
#: How every step file is run.
BASH = "bash -euo pipefail"
#: Ends every base64 heredoc. ``_`` is not in the base64 alphabet, so no encoded line can ever equal it.
B64_DELIMITER = "GOLDEN_IMAGES_B64"
#: How long apt-get waits for the dpkg lock (unattended-upgrades, cloud-init) before failing the step.
APT_LOCK_TIMEOUT_SECONDS = 600
APT_FAMILIES = ("ubuntu", "debian")

#: Characters bash treats as ordinary bytes but YAML (AWSTOE, cloud-init) or editors treat as line breaks:
#: in inline shell the reviewed text and the executed text would differ.
FOREIGN_LINE_BREAKS = {
    "\r": "a carriage return (CR)",
    "\x85": "a NEL line break (U+0085)",
    "\u2028": "a line separator (U+2028)",
    "\u2029": "a paragraph separator (U+2029)",
}


def inline_shell_problem(text: str) -> str | None:
    """Why ``text`` cannot be inline shell, or ``None``. Only ``\\n`` may break lines: the other line-break
    characters (CR, NEL, LS, PS) are one line to bash but several to a YAML parser or a reviewer's editor."""
    for char, label in FOREIGN_LINE_BREAKS.items():
        at = text.find(char)
        if at >= 0:
            line = text.count("\n", 0, at) + 1
            return (
                f"inline shell contains {label} on line {line}; only \\n may break lines in inline shell "
                "(bash runs the text as one line while YAML consumers split it). Remove it, or move the "
                "commands into a script: file"
            )
    return None


def quote_words(words: Sequence[str]) -> str:
    """``words`` as separate shell words, each quoted (leading space per word; empty for none)."""
    return "".join(f" {shlex.quote(w)}" for w in words)


def run_line(path_word: str, args_text: str = "") -> str:
    """The command that runs one step file: ``bash -euo pipefail <path> <args> </dev/null``. ``path_word``
    and ``args_text`` are shell-ready (already quoted)."""
    return f"{BASH} {path_word}{args_text} </dev/null"


def packages_script(family: str, packages: Sequence[str], *, wait_for_cloud_init: bool = True) -> str:
    """Install ``packages`` non-interactively: apt-get on Ubuntu/Debian, dnf on the others.

    With ``wait_for_cloud_init`` (the default) an apt step first waits for cloud-init to finish when it is
    installed (its package module holds the dpkg lock); pass ``False`` where the step itself runs inside
    cloud-init (waiting there would wait forever). ``apt-get`` waits up to :data:`APT_LOCK_TIMEOUT_SECONDS` for
    the lock instead of failing at once.
    """
    quoted = " ".join(shlex.quote(p) for p in packages)
    if family not in APT_FAMILIES:
        return f"dnf install -y {quoted}\n"
    lines = []
    if wait_for_cloud_init:
        # The exit status only reports cloud-init's own errors (2 = recoverable, common on stock images);
        # what matters here is that it has finished and released the lock.
        lines.append(
            "if command -v cloud-init >/dev/null 2>&1; then cloud-init status --wait >/dev/null || true; fi"
        )
    apt = f"apt-get -o DPkg::Lock::Timeout={APT_LOCK_TIMEOUT_SECONDS}"
    lines += [
        "export DEBIAN_FRONTEND=noninteractive",
        f"{apt} update -y",
        f"{apt} install -y --no-install-recommends {quoted}",
    ]
    return "\n".join(lines) + "\n"


def file_install_script(
    *, destination: str, sha256: str, mode: str, owner: str, label: str, base64_input: bool = False
) -> str:
    """The step that installs a staged copy of a repository file; the staged path is its first argument.

    The staged bytes are checked against ``sha256`` (after decoding when ``base64_input``), installed at
    ``destination`` with ``mode`` and ``owner`` (group of the same name), and checked again there; a mismatch
    fails the step with ``checksum mismatch: <label>``. Every value is quoted, so a path or label with quotes
    or ``$(…)`` stays text.
    """
    dest = shlex.quote(destination)
    fail = shlex.quote(f"checksum mismatch: {label}")
    lines = ['src="$1"']
    if base64_input:
        lines += ['plain="$(mktemp)"', 'base64 -d "$src" > "$plain"', 'src="$plain"']
    lines += [
        # sha256sum --check reads "<hash>  <name>"; the names here are mktemp paths or the quoted destination.
        f"printf '%s  %s\\n' {sha256} \"$src\" | sha256sum --check --status - || {{ echo {fail} >&2; exit 1; }}",
        f'install -D -m {shlex.quote(mode)} -o {shlex.quote(owner)} -g {shlex.quote(owner)} "$src" {dest}',
        f"printf '%s  %s\\n' {sha256} {dest} | sha256sum --check --status - || {{ echo {fail} >&2; exit 1; }}",
    ]
    if base64_input:
        lines.append('rm -f "$plain"')
    return "\n".join(lines) + "\n"


def b64_heredoc(data: bytes, target: str) -> str:
    """Shell that writes exactly ``data`` to ``target`` (shell-ready word) from a base64 heredoc."""
    encoded = base64.encodebytes(data).decode("ascii")
    return f"base64 -d > {target} <<'{B64_DELIMITER}'\n{encoded}{B64_DELIMITER}"


def text_heredoc(text: str, target: str) -> str:
    """Shell that writes exactly ``text`` (no NUL) to ``target`` from a quoted heredoc, readable in the
    rendered document. The delimiter carries the text's hash, so no line of the text can end it early; the
    newline a heredoc always appends is cut again when the text has none."""
    end = "GOLDEN_IMAGES_" + hashlib.sha256(text.encode()).hexdigest()[:16].upper()
    body = text if text.endswith("\n") or not text else text + "\n"
    trim = f"\ntruncate -s -1 {target}" if text and not text.endswith("\n") else ""
    return f"cat > {target} <<'{end}'\n{body}{end}{trim}"


def _plain(text: str) -> bool:
    return "\0" not in text and "{{" not in text


def inline_runner(
    script: str,
    *,
    args: Sequence[str] = (),
    data: bytes | None = None,
    readable: bool = False,
) -> str:
    """A self-contained bash runner for platforms that take steps inline (AWSTOE, AIB): it writes the step
    (and a copied file's bytes, passed as its first argument) to a private temporary directory and runs it
    under the contract.

    With ``readable`` the step text and its arguments are written as text (quoted heredoc, quoted words),
    except text a consumer could still change — NUL (a shell reading a heredoc drops it) or ``{{`` (AIB hands
    its customizers to Packer, which renders template syntax) — which travels base64-encoded. Without it (the
    default) everything travels base64-encoded, for consumers that expand ``{{ }}`` anywhere (AWSTOE).
    """
    lines = ['dir="$(mktemp -d)"', "trap 'rm -rf \"$dir\"' EXIT"]
    if readable and _plain(script):
        lines.append(text_heredoc(script, '"$dir/step"'))
    else:
        lines.append(b64_heredoc(script.encode("utf-8"), '"$dir/step"'))
    words = ""
    if data is not None:
        lines.append(b64_heredoc(data, '"$dir/data"'))
        words += ' "$dir/data"'
    if args and readable and all(_plain(a) for a in args):
        words += quote_words(args)
    elif args:
        # NUL-separated: argv can never hold a NUL, so every argument comes back exactly.
        lines.append(b64_heredoc(b"".join(a.encode("utf-8") + b"\0" for a in args), '"$dir/args"'))
        # `read -d ''` rather than `mapfile -d ''`: bash 4.2 (Amazon Linux 2) has no `mapfile -d`.
        lines.append('args=(); while IFS= read -r -d \'\' arg; do args+=("$arg"); done < "$dir/args"')
        words += ' "${args[@]}"'
    lines.append(run_line('"$dir/step"', words))
    return "\n".join(lines) + "\n"


@dataclass(frozen=True)
class StepFile:
    """One step as the contract runs it: the step file's ``script``, its ``args``, and for a copied file the
    file's ``data`` (the runner stages it and passes the staged path as the first argument)."""

    script: str
    args: tuple[str, ...] = ()
    data: bytes | None = None


def step_file(
    step: ResolvedStep, family: str, *, wait_for_cloud_init: bool = True, base64_data: bool = False
) -> StepFile:
    """The step file of ``step``: the inline shell or script text exactly as written, the package install
    (:func:`packages_script`), or the checked install of a copied file (:func:`file_install_script`, reading
    base64 from the staged path when ``base64_data``)."""
    if step.kind in ("shell", "script"):
        return StepFile(step.content, step.args)
    if step.kind == "packages":
        return StepFile(packages_script(family, step.packages, wait_for_cloud_init=wait_for_cloud_init))
    assert step.kind == "file" and step.destination is not None and step.sha256 is not None
    install = file_install_script(
        destination=step.destination,
        sha256=step.sha256,
        mode=step.mode or "0644",
        owner=step.owner or "root",
        label=f"{step.source} for {step.destination}",
        base64_input=base64_data,
    )
    return StepFile(install, (), step.data)
