"""Bad input stops before anything is created; what an interrupted apply leaves is diagnosed and recovered (issue 32).

Real Terraform on a fresh embedded emulator of its own (a separate ``runbook emulator`` process: moto keeps its
state per process, and these tests need an emulator without the state bucket the session's has).
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import threading
import time

import pytest

from runbook import paths
from runbook.aws import statebucket
from runbook.aws.target import Target
from runbook.steps import preflight
from runbook.steps.context import open_context
from runbook.terraform import backend
from runbook.terraform import bootstrap as bucket_bootstrap

pytestmark = pytest.mark.terraform


@pytest.fixture
def fresh_emulator():
    """An emulator process with nothing in it; stopped afterwards."""
    process = subprocess.Popen(
        [sys.executable, "-m", "runbook.cli", "emulator"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        cwd=paths.ROOT,
        start_new_session=True,
    )
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
    assert not statebucket.bucket_exists(Target("us-east-1", fresh_emulator), backend.EMULATOR_BUCKET)
    assert not (tmp_path / "work" / bucket_bootstrap.BOOTSTRAP_DIR / "terraform.tfstate").exists()


def test_killed_after_the_table_the_rerun_names_the_lock_and_every_orphan_and_recovery_brings_them_back(tmp_path):
    """CI's kill point (the rest: ``benchmarks/kill_matrix.py``): 02's apply SIGKILLed, with Terraform and its
    provider, once the table exists. The re-run's first message names the stale lock and every object left outside
    the state; the recovery (03's) releases that lock by its ID and imports them through the gate; the next plan is
    clean, the items written meanwhile are intact, no version of the state object was lost."""
    out = tmp_path / "matrix.json"
    proc = subprocess.run(
        [sys.executable, "benchmarks/kill_matrix.py", "--case", "table", "--json", str(out)],
        cwd=paths.ROOT,
        capture_output=True,
        text=True,
        timeout=1500,
    )
    (case,) = json.loads(out.read_text())
    report = proc.stdout[-4000:] + proc.stderr[-2000:]
    assert case["kill"] == "killed", report
    left = case["left_behind"]
    assert left["lock"] and left["objects"], report  # the kill left a lock and at least the table
    assert case["first_message"].startswith("InterruptedApply"), report
    for name in [left["lock"], *left["objects"]]:
        assert name in case["first_message"], (name, report)
    assert f"unlock_lock_id={left['lock']!r}" in case["first_message"]
    assert left["lock"] in case["recovery"]["released"], report
    assert case["recovery"]["rounds"] and case["recovery"]["rounds"][0]["applied"], report
    assert case["next_plan"] == "clean" and case["items"] == 3 and case["state_versions"]["lost"] == [], report
    assert proc.returncode == 0 and case["ok"], report


def test_a_run_that_waits_for_the_lock_plans_from_the_state_the_first_one_left(target, tmp_path):
    """Two work directories, one environment: while the first applies (holding the lock, its Terraform alive on
    this machine: not stale), the second's plan waits with ``-lock-timeout`` instead of stopping on a diagnosis,
    then plans from the state the first wrote — nothing left to create, nothing half-created by it."""
    from runbook.steps import deploy

    first, second = (
        open_context("staging", "us-east-1", target.endpoint_url, str(tmp_path / name)) for name in ("first", "second")
    )
    for ctx in (first, second):
        preflight.working_tfvars(ctx)
        deploy.init(ctx)
    reviewed = deploy.plan_and_review(first)
    config = first.terraform.backend
    outcome: dict = {}
    applying = threading.Thread(
        target=lambda: outcome.update(decision=deploy.gate_and_apply(first, reviewed, True, ""))
    )
    applying.start()
    deadline = time.monotonic() + 300
    while statebucket.read_lock(target, config) is None:  # the first holds the lock now
        assert applying.is_alive() and time.monotonic() < deadline, outcome
        time.sleep(0.05)
    second.terraform.lock_timeout = "10m"
    waited = deploy.plan_and_review(second)
    applying.join(timeout=600)
    assert outcome["decision"].allowed
    assert not waited.review.changes, waited.review.summary  # planned from the first's state
    assert statebucket.read_lock(target, config) is None
    assert "module.dynamodb.aws_dynamodb_table.notifications" in second.terraform.state_addresses()
