"""`runbook run --env all` on the embedded emulator, asserting on values the notebooks record."""

import subprocess
import sys

import pytest

from runbook import paths
from runbook.execution.record import read_records
from runbook.terraform import planning

pytestmark = pytest.mark.notebooks


@pytest.fixture(scope="module")
def run_all(tmp_path_factory):
    out = tmp_path_factory.mktemp("runs")
    before = git_status()
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "runbook.cli",
            "run",
            "--env",
            "all",
            "--output-dir",
            str(out),
            "--work-dir",
            str(out / "work"),
        ],
        cwd=paths.ROOT,
        capture_output=True,
        text=True,
        timeout=1500,
    )
    return proc, out, before


def git_status() -> str:
    return subprocess.run(
        ["git", "status", "--porcelain", "--untracked-files=all"], cwd=paths.ROOT, capture_output=True, text=True
    ).stdout


def records(out, env, name):
    return read_records(out / env / f"{name}.ipynb")


def test_every_notebook_succeeds_in_both_environments(run_all):
    proc, out, _ = run_all
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-4000:]
    for env in paths.ENVIRONMENTS:
        assert sorted(p.stem for p in (out / env).glob("*.ipynb")) == [
            nb.stem for nb in sorted(paths.NOTEBOOKS.glob("[0-9][0-9]-*.ipynb"))
        ]
    assert "Executed notebooks for staging" in proc.stdout


@pytest.mark.parametrize("env", paths.ENVIRONMENTS)
def test_setup_checklist(run_all, env):
    setup = records(run_all[1], env, "01-setup")
    assert setup["setup_ok"] is True
    names = {c["name"] for c in setup["checks"]}
    assert {"Python", "Terraform", "AWS identity (STS)", "terraform.tfvars", "tfvars (Terraform)"} <= names
    assert setup["tfvars_path"].endswith(f"work/{env}/terraform.tfvars") and setup["tfvars_origin"] == "generated"


@pytest.mark.parametrize("env", paths.ENVIRONMENTS)
def test_plan_and_apply_leaves_no_drift(run_all, env):
    deployed = records(run_all[1], env, "02-plan-and-apply")
    assert deployed["applied"] is True
    assert deployed["plan_origin"] == planning.FROM_SETUP, "02 applied the plan 01 made in this run"
    assert deployed["drift_exit_code"] == 3, "a first run: everything pending, nothing changed outside Terraform"
    assert deployed["drift_summary"].get("drift", 0) == 0 and deployed["drift_summary"]["pending"] >= 7
    assert deployed["outputs"]["dynamodb_notifications_table_name"] == f"{env}-user-notifications"


@pytest.mark.parametrize("env", paths.ENVIRONMENTS)
def test_import_runbook(run_all, env):
    imported = records(run_all[1], env, "03-import")
    assert imported["table_status"]["exists"] is True
    assert imported["table_status"]["managed"] is True
    assert any(r["action"].startswith("import") for r in imported["demo_plan"])
    assert imported["demo_imported"] is True


def test_committed_tree_untouched(run_all):
    assert git_status() == run_all[2], "runbook run wrote outside build/ or --output-dir"


@pytest.mark.parametrize("env", paths.ENVIRONMENTS)
def test_troubleshooting_finds_a_healthy_table(run_all, env):
    found = records(run_all[1], env, "04-troubleshooting")
    assert found["problems"] == []
    assert found["findings"]["table exists but not in state"] == "ok"
    assert found["findings"]["module not found"] == "ok"
    assert found["findings"]["PITR off in production"] == "ok"
    assert found["findings"]["access denied"] == "unavailable"  # moto has no IAM policy simulation: said, not faked
    destinations = found["alarm_destinations"]  # read live after 02's apply
    if env == "production":  # every alarm notifies the module's encrypted topic, on alarm and on recovery
        (topic,) = destinations
        assert topic["destination"].endswith(":production-user-notifications-alarms") and topic["exists"] is True
        assert topic["on_alarm"] == topic["on_ok"] == 4 and topic["encryption"] not in ("", "none")
    else:
        assert destinations == []  # staging: no alarms


@pytest.mark.parametrize("env", paths.ENVIRONMENTS)
def test_operations_smoke_test_and_drill(run_all, env):
    ops = records(run_all[1], env, "06-operations")
    smoke = ops["smoke"]
    assert smoke["ok"] and smoke["written"] == smoke["read"] == 3 * 20
    assert smoke["missing"] == smoke["duplicated"] == 0 and smoke["ordered_newest_first"]
    assert ops["drill"]["ok"] and ops["drill"]["source_items"] >= 50
    assert ops["drill"]["backup_items"] == ops["drill"]["source_items"]
    if env == "production":  # PITR is on there: the point-in-time restore is drilled too
        assert ops["drill"]["pitr_items"] == ops["drill"]["source_items"]
        restored = ops["terraform_restore_drill"]  # and through Terraform (the module's restore inputs)
        assert restored["ok"] and restored["destroyed"] and restored["restored_items"] == restored["source_items"]
    else:
        assert ops["terraform_restore_drill"]["status"].startswith("skipped: point-in-time recovery is off")
    assert ops["stream"]["ok"] and ops["ttl"]["ok"]
    if env == "production":
        assert len(ops["alarms"]) == 4
