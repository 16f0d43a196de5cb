"""The layering of docs/architecture.md, enforced: import-linter's contracts in ``.importlinter`` must hold.

Contracts: core ← engine ← platforms ← catalog ← components ← program/tools/registry ← preview/consume ← cli
(a module imports only layers below its own); the policy pack imports only ``golden_images.core``; platforms
never import each other. A test also proves the checker can fail (a contract broken on purpose is reported broken).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.conftest import ROOT


def _lint(config: Path) -> subprocess.CompletedProcess[str]:
    env_path = f"{ROOT / 'components'}:{ROOT / 'policies'}"
    return subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys; from importlinter.cli import lint_imports_command; lint_imports_command()",
            "--config",
            str(config),
            "--no-cache",
        ],
        cwd=ROOT,
        env={"PYTHONPATH": env_path, "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        check=False,
    )


def test_import_contracts_are_kept() -> None:
    result = _lint(ROOT / ".importlinter")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "3 kept, 0 broken" in result.stdout


def test_a_broken_contract_is_reported(tmp_path: Path) -> None:
    # The pack importing the platforms is the drift the contracts exist to stop: reversed, it must fail.
    config = tmp_path / "contracts.ini"
    config.write_text(
        "[importlinter]\nroot_packages =\n    golden_images\n\n"
        "[importlinter:contract:core-imports-nothing]\nname = core imports nothing (false on purpose)\n"
        "type = forbidden\nsource_modules = golden_images.platforms\nforbidden_modules = golden_images.core\n"
    )
    result = _lint(config)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "BROKEN" in result.stdout
