"""The team workflow (.github/workflows/team.yml): valid for GitHub, and its ``run:`` steps work for real.

Every workflow (``runbook.yml`` too) is valid against GitHub's schema and passes the Actions security linter
(``zizmor --offline``, no finding): actions pinned to full commit SHAs, least-privilege ``permissions`` per job,
checkout credentials not persisted.

The steps that make sense on this machine run against the embedded emulator: the backend file step (in a copy of
the examples), the plan step (``runbook run … --target aws`` with ``AWS_ENDPOINT_URL`` pointing at the emulator),
the plan hash step, and the drift step (for real once, then with a stand-in ``runbook`` for each exit code).
Actions (checkout, setup-*, credentials, upload) are GitHub's and are not run here.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from runbook import paths
from runbook.aws import statebucket
from runbook.aws.emulator import Emulator
from runbook.aws.target import Target
from runbook.terraform import backend

WORKFLOW = paths.ROOT / ".github" / "workflows" / "team.yml"
WORKFLOWS = sorted((paths.ROOT / ".github" / "workflows").glob("*.yml"))
#: ``uses: owner/name@<40 hex> # vX.Y.Z``: a full commit SHA, its version in the comment.
PINNED = re.compile(r"^\s*(?:- )?uses: [\w.-]+/[\w./-]+@[0-9a-f]{40} # v\d+\.\d+\.\d+$")


def load() -> dict:
    return yaml.load(WORKFLOW.read_text(), Loader=yaml.BaseLoader)  # BaseLoader: "on" stays a string


def step(job: str, starts_with: str) -> str:
    for item in load()["jobs"][job]["steps"]:
        if item.get("name", "").startswith(starts_with):
            return item["run"]
    raise AssertionError(f"no step {starts_with!r} in job {job}")


def run_step(script: str, env: dict, cwd: Path) -> subprocess.CompletedProcess:
    """A ``run:`` step as GitHub runs it on ubuntu: ``bash -e {0}``."""
    return subprocess.run(["bash", "-e", "-c", script], env=env, cwd=cwd, capture_output=True, text=True)


def step_env(environment: str, **extra: str) -> dict:
    workflow = load()
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    env.update(
        {
            "ENVIRONMENT": environment,
            "TF_STATE_BUCKET": backend.EMULATOR_BUCKET,
            "AWS_REGION": "us-east-1",
            "RUNBOOK_LOCK_TIMEOUT": workflow["env"]["RUNBOOK_LOCK_TIMEOUT"],
        }
    )
    env.update(extra)
    return env


def _tool(name: str) -> str:
    found = shutil.which(name) or str(Path(sys.executable).parent / name)
    if not Path(found).exists():
        pytest.skip(f"{name} is not installed (pip install -r requirements-dev.txt)")
    return found


@pytest.mark.slow  # check-jsonschema on the workflows
def test_workflows_are_valid_against_the_github_schema():
    proc = subprocess.run(
        [_tool("check-jsonschema"), "--builtin-schema", "vendor.github-workflows", *map(str, WORKFLOWS)],
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_workflows_pass_the_actions_security_linter():
    """zizmor offline (no GitHub API), as the pre-commit hook runs it: no finding."""
    proc = subprocess.run([_tool("zizmor"), "--offline", *map(str, WORKFLOWS)], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "No findings to report" in proc.stdout + proc.stderr, proc.stdout + proc.stderr


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda p: p.name)
def test_actions_pinned_permissions_per_job_and_no_persisted_credentials(path):
    uses = [line for line in path.read_text().splitlines() if re.match(r"^\s*(- )?uses:", line)]
    assert uses and [line for line in uses if not PINNED.match(line)] == []
    workflow = yaml.load(path.read_text(), Loader=yaml.BaseLoader)
    assert workflow["permissions"] == {}, "nothing by default: each job names what it needs"
    for name, job in workflow["jobs"].items():
        assert "permissions" in job, name
        for item in job["steps"]:
            if item.get("uses", "").startswith("actions/checkout@"):
                assert item["with"]["persist-credentials"] == "false", name


def test_pull_requests_plan_each_environment_and_a_schedule_checks_drift():
    workflow = load()
    assert {"pull_request", "schedule", "workflow_dispatch"} <= set(workflow["on"])
    for job in ("plan", "drift"):
        assert workflow["jobs"][job]["permissions"] == {"contents": "read", "id-token": "write"}, "OIDC to AWS"
    assert workflow["concurrency"]["cancel-in-progress"] == "false", "never kill a run holding the state lock"
    for job, event in (("plan", "== 'pull_request'"), ("drift", "!= 'pull_request'")):
        spec = workflow["jobs"][job]
        assert spec["strategy"]["matrix"]["environment"] == list(paths.ENVIRONMENTS)
        assert event in spec["if"] and "vars.AWS_ROLE_ARN" in spec["if"]
        uses = [s.get("uses", "") for s in spec["steps"]]
        assert any(u.startswith("aws-actions/configure-aws-credentials") for u in uses)
        assert any(u.startswith("hashicorp/setup-terraform") for u in uses)
    upload = next(s for s in workflow["jobs"]["plan"]["steps"] if s.get("uses", "").startswith("actions/upload"))
    assert "build/plan/${{ matrix.environment }}/" in upload["with"]["path"]
    assert "--target aws" in step("plan", "Plan (") and "apply" not in step("plan", "Plan (").replace(
        "02-plan-and-apply", ""
    )


def test_the_backend_step_writes_a_valid_backend_file_from_the_example(tmp_path):
    with Emulator() as emu:
        emu.reset()
        target = Target("us-east-1", emu.endpoint_url)
        statebucket.s3_client(target).create_bucket(Bucket=backend.EMULATOR_BUCKET)
        for environment in paths.ENVIRONMENTS:
            (tmp_path / "infrastructure" / environment).mkdir(parents=True)
            shutil.copy(backend.example_file(environment), tmp_path / "infrastructure" / environment)
            done = run_step(step("plan", "Backend config"), step_env(environment), tmp_path)
            assert done.returncode == 0, done.stderr
            written = tmp_path / "infrastructure" / environment / "backend.hcl"
            config = backend.validate(written, environment, target)  # bucket exists, key its own, lock on
            assert (config.bucket, config.key) == (backend.EMULATOR_BUCKET, backend.default_key(environment))
        assert step("plan", "Backend config") == step("drift", "Backend config")
        missing = run_step(step("plan", "Backend config"), step_env("staging", TF_STATE_BUCKET=""), tmp_path)
        assert missing.returncode == 2 and "TF_STATE_BUCKET" in missing.stdout


@pytest.mark.parametrize(
    "code, outcome, annotation",
    [
        (0, 0, "in sync"),
        (3, 0, "::warning::"),
        (1, 1, "::error::staging: drift found"),
        (2, 2, "::error::"),
    ],
)
def test_the_drift_step_fails_on_drift_only(tmp_path, code, outcome, annotation):
    fake = tmp_path / "bin" / "runbook"
    fake.parent.mkdir()
    fake.write_text(f'#!/bin/sh\necho "runbook $*"\nexit {code}\n')
    fake.chmod(0o755)
    env = step_env("staging")
    env["PATH"] = f"{fake.parent}{os.pathsep}{env['PATH']}"
    done = run_step(step("drift", "Drift"), env, tmp_path)
    assert done.returncode == outcome, done.stdout + done.stderr
    assert "runbook drift --env staging --format table" in done.stdout and annotation in done.stdout


@pytest.mark.terraform
def test_the_plan_hash_and_drift_steps_run_for_real_on_the_emulator(tmp_path):
    """The PR job's plan and hash steps, then the scheduled drift step, as CI runs them (emulator for AWS)."""
    with Emulator() as emu:
        emu.reset()
        env = step_env(
            "staging",
            AWS_ENDPOINT_URL=emu.endpoint_url,
            AWS_ACCESS_KEY_ID="testing",
            AWS_SECRET_ACCESS_KEY="testing",
            GITHUB_STEP_SUMMARY=str(tmp_path / "summary.md"),
        )
        plan = run_step(step("plan", "Plan ("), env, paths.ROOT)
        assert plan.returncode == 0, plan.stdout[-3000:] + plan.stderr[-3000:]
        hashed = run_step(step("plan", "Plan hash"), env, paths.ROOT)
        assert hashed.returncode == 0, hashed.stdout + hashed.stderr
        sha = hashed.stdout.strip().splitlines()[-1].removeprefix("plan_sha256=")
        artefact = paths.BUILD / "plan" / "staging"
        assert (artefact / "tfplan.sha256").read_text().split()[0] == sha and len(sha) == 64
        assert sha in (tmp_path / "summary.md").read_text()
        target = Target("us-east-1", emu.endpoint_url)
        assert statebucket.bucket_exists(target, backend.EMULATOR_BUCKET), "the plan ran on the S3 backend"
        drift = run_step(step("drift", "Drift"), env, paths.ROOT)
        code = int(drift.stdout.split("runbook drift exit code:")[1].split()[0])
        assert drift.returncode == (0 if code in (0, 3) else code), drift.stdout[-2000:]
