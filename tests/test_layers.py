"""The package's layers and its import cycles, as import-linter checks them (contracts in pyproject.toml).

``lint-imports`` is the tool contributors run (and the pre-commit hook); this runs the same command so that CI's
test run fails on a broken contract, with import-linter's own report.
"""

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def test_the_layer_contracts_are_kept():
    command = shutil.which("lint-imports", path=str(Path(sys.executable).parent)) or shutil.which("lint-imports")
    if command is None:
        pytest.fail("lint-imports not found: pip install -r requirements-dev.txt (import-linter)")
    result = subprocess.run([command, "--no-cache"], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout
