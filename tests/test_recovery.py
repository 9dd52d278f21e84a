"""Bad input stops before anything is created; what an interrupted apply leaves is diagnosed and recovered (issue 32).

Real Terraform on a fresh embedded emulator of its own (a separate ``runbook emulator`` process: moto keeps its
state per process, and these tests need an emulator without the state bucket the session's has).
"""

from __future__ import annotations

import re
import subprocess
import sys
import threading
import time

import pytest

from runbook import backend, paths, preflight
from runbook.aws import Target
from runbook.context import open_context

pytestmark = pytest.mark.terraform


@pytest.fixture
def fresh_emulator():
    """An emulator process with nothing in it; stopped afterwards."""
    process = subprocess.Popen([sys.executable, "-m", "runbook.cli", "emulator"], stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, text=True, cwd=paths.ROOT, start_new_session=True)
    lines: list[str] = []
    threading.Thread(target=lambda: lines.extend(process.stdout), daemon=True).start()
    deadline = time.monotonic() + 60
    while not (match := re.search(r"listening on (http://127\.0\.0\.1:\d+)", "".join(lines))):
        assert process.poll() is None and time.monotonic() < deadline, "".join(lines)
        time.sleep(0.1)
    try:
        yield match.group(1)
    finally:
        process.terminate()
        process.wait(timeout=20)


def test_an_invalid_tfvars_is_rejected_with_its_line_before_the_state_bucket_is_created(fresh_emulator, tmp_path):
    tfvars = tmp_path / "terraform.tfvars"
    example = (paths.environment_dir("staging") / "terraform.tfvars.example").read_text()
    tfvars.write_text(re.sub(r'(?m)^(dynamodb_billing_mode\s*=\s*)"[^"]*"', r'\1"ONDEMAND"', example))
    line = next(n for n, text in enumerate(tfvars.read_text().splitlines(), 1) if "ONDEMAND" in text)
    context = open_context("staging", "us-east-1", fresh_emulator, str(tmp_path / "work"), tfvars=str(tfvars))

    checks = preflight.run_all(context)

    failed = {c.name: c for c in checks if not c.ok}
    assert "tfvars: dynamodb_billing_mode" in failed, checks
    assert f"{tfvars}:{line}" in failed["tfvars: dynamodb_billing_mode"].detail
    assert "not created" in failed["state bucket"].detail
    assert not backend.bucket_exists(Target("us-east-1", fresh_emulator), backend.EMULATOR_BUCKET)
    assert not (tmp_path / "work" / backend.BOOTSTRAP_DIR / "terraform.tfstate").exists()
