"""checkov over infrastructure/ (both environments, the module included) reports no failed check.

checkov pins old versions of shared dependencies (boto3 among them), so it runs from its own virtual environment,
``build/checkov-venv``, created here on first use (a minute or two). Skips in the .tf files carry an inline reason
(``#checkov:skip=CKV_…:reason``); this test checks that too.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import venv

import pytest

from runbook import paths

VENV = paths.BUILD / "checkov-venv"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
CHECKOV = BIN / "checkov"


def ensure_checkov() -> None:
    if CHECKOV.exists():
        return
    if not (BIN / "python").exists():
        venv.create(VENV, with_pip=True, clear=True)
    install = subprocess.run(
        [str(BIN / "python"), "-m", "pip", "install", "--quiet", "checkov"], capture_output=True, text=True, timeout=900
    )
    if install.returncode != 0 or not CHECKOV.exists():
        last = (install.stderr or install.stdout).strip().splitlines()[-1:] or ["no output"]
        pytest.skip(f"cannot install checkov into {VENV}: {last[0]}")


@pytest.fixture(scope="module")
def checkov_report() -> dict:
    ensure_checkov()
    result = subprocess.run(
        [
            str(CHECKOV),
            "-d",
            str(paths.INFRASTRUCTURE),
            "--skip-download",
            "--framework",
            "terraform",
            "--quiet",
            "--compact",
            "-o",
            "json",
        ],
        capture_output=True,
        text=True,
        timeout=600,
        cwd=paths.ROOT,
        env={**os.environ, "PYTHONWARNINGS": "ignore"},
    )
    assert result.stdout.strip(), f"checkov printed nothing (exit {result.returncode}): {result.stderr[-2000:]}"
    report = json.loads(result.stdout)
    reports = report if isinstance(report, list) else [report]
    (terraform,) = [r for r in reports if r.get("check_type") == "terraform"]
    return terraform


@pytest.mark.slow  # checkov in its own virtual environment (created on first use)
def test_checkov_reports_no_failed_check(checkov_report):
    failed = [
        f"{c['check_id']} {c['check_name']}: {c['resource']} ({c['file_path']}:{c['file_line_range'][0]})"
        for c in checkov_report["results"].get("failed_checks", [])
    ]
    assert not failed, "\n".join(failed)
    summary = checkov_report["summary"]
    assert summary["parsing_errors"] == 0
    assert summary["passed"] > 20 and summary["resource_count"] > 10, summary


def test_every_skip_has_an_inline_reason():
    for path in paths.INFRASTRUCTURE.rglob("*.tf"):
        for number, line in enumerate(path.read_text().splitlines(), start=1):
            if "checkov:skip" in line:
                assert re.search(r"#checkov:skip=CKV2?_[A-Z]+_\d+:\S.{15,}", line), f"{path}:{number}: {line.strip()}"
