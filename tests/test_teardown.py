"""Teardown: the guide's "Destroy Resources (Staging Only)" through the gate; production never destroyed.

- The gate on a recorded destroy plan (``fixtures/terraform/teardown.json``, re-recorded by
  ``fixtures/terraform/record_teardown.py``): a teardown needs ``destroy=True`` as well as ``apply`` and
  ``allow_destroy``, and ``destroy=True`` refuses any other plan.
- Production's guard (``infrastructure/production/guard.tf``): with real Terraform on the emulator, a by-hand
  ``terraform destroy`` after an apply fails at plan time and the state still lists every resource.
- Staging end to end: 02 reviews the teardown and refuses it without ``allow_destroy``; ``runbook destroy`` applies
  exactly that reviewed plan; 02 re-creates everything and the next plan has no changes.
- Production through the runbook: refused with one line before anything is planned (notebook and CLI).
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import papermill
import pytest

from runbook import cli, hcl, paths
from runbook.errors import ParameterError
from runbook.execution import runner
from runbook.execution.record import read_records
from runbook.steps import gate, preflight
from runbook.steps.review import review

FIXTURES = Path(__file__).parent / "fixtures" / "terraform"
TABLE = "module.dynamodb.aws_dynamodb_table.notifications"
NAME = "staging-user-notifications"


def _plan(name: str) -> dict:
    return json.loads((FIXTURES / name).read_text())


# --- the guard -----------------------------------------------------------------------------------------------------


def test_only_production_has_the_guard():
    """Production's root has one resource with prevent_destroy, depending on nothing (so never replaced); staging,
    which the guide tears down, has none."""
    guard = hcl.read(paths.environment_dir("production") / "guard.tf")["resource"]
    assert len(guard) == 1 and list(guard[0]) == ["terraform_data"]
    (body,) = guard[0]["terraform_data"].values()
    assert body["lifecycle"] == [{"prevent_destroy": True}]
    assert set(body) == {"lifecycle"}, "no input, no trigger, no dependency: nothing can replace the guard"
    for path in paths.environment_dir("staging").glob("*.tf"):
        assert not re.search(r"\bprevent_destroy\s*=", path.read_text()), path
        assert "terraform_data" not in path.read_text(), path


# --- the gate on a recorded destroy plan -------------------------------------------------------------------------


def test_the_gate_asks_a_teardown_for_its_own_parameter():
    teardown = review(_plan("teardown.json"), live={"ItemCount": 3, "TableSizeBytes": 2048})
    assert teardown.teardown and teardown.summary.startswith("teardown (terraform destroy): ")
    assert {rc.action for rc in teardown.changes} == {"delete"} and len(teardown.changes) >= 7
    assert "the table: data is lost (3 items, 2.0 KB)" in teardown.summary
    assert "**Teardown:**" in teardown.to_markdown()
    every = ",".join(teardown.destructive_addresses)
    assert TABLE in teardown.destructive_addresses

    plan_only = gate.decide(teardown, "staging", NAME, destroy=True)
    assert not plan_only.allowed and plan_only.to_pass == {"apply": True, "destroy": True, "allow_destroy": every}
    with pytest.raises(gate.ChangeRefused, match="destroy=True was not given") as refused:
        gate.decide(teardown, "staging", NAME, apply=True, allow_destroy=every)
    assert "destroy=True" in refused.value.remedy
    with pytest.raises(gate.ChangeRefused, match="does not list exactly"):
        gate.decide(teardown, "staging", NAME, apply=True, destroy=True, allow_destroy=TABLE)
    assert gate.decide(teardown, "staging", NAME, apply=True, destroy=True, allow_destroy=every).allowed

    # Production: refused whatever the parameters (the guard makes Terraform refuse such a plan before this).
    with pytest.raises(gate.ChangeRefused, match="production is never torn down"):
        gate.decide(teardown, "production", NAME, apply=True, confirm=NAME, destroy=True, allow_destroy=every)


@pytest.mark.parametrize("fixture", ["create.json", "no_change.json", "rename.json", "detach_policy.json"])
def test_destroy_true_refuses_any_other_plan(fixture):
    plan = review(_plan(fixture))
    assert not plan.teardown
    if plan.has_changes:
        with pytest.raises(gate.ChangeRefused, match="not a teardown"):
            gate.decide(
                plan, "staging", NAME, apply=True, destroy=True, allow_destroy=",".join(plan.destructive_addresses)
            )
    else:
        assert gate.decide(plan, "staging", NAME, apply=True, destroy=True).reason.startswith("no changes")


def test_check_teardown_refuses_production_and_bad_values_before_anything():
    assert gate.check_teardown("staging", True) is True and gate.check_teardown("production", False) is False
    with pytest.raises(gate.TeardownRefused) as refused:
        gate.check_teardown("production", True)
    assert "\n" not in str(refused.value) and "Nothing was planned or changed" in str(refused.value)
    with pytest.raises(ParameterError, match="'destroy'"):
        gate.check_teardown("staging", "yes")


# --- production refuses, before anything is planned --------------------------------------------------------------


def test_production_teardown_is_refused_before_anything_is_planned(tmp_path, capsys):
    """The CLI: one line, exit 2, no work directory made, no request (the endpoint does not even exist)."""
    work = tmp_path / "work"
    code = cli.main(
        [
            "destroy",
            "--env",
            "production",
            "--work-dir",
            str(work),
            "--endpoint-url",
            "http://127.0.0.1:9",
            "--apply",
            "--allow-destroy",
            TABLE,
        ]
    )
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1 and "production is never torn down" in err
    assert not work.exists()


@pytest.mark.notebooks
def test_02_refuses_a_production_teardown_in_its_first_cell(tmp_path):
    out = tmp_path / "02.ipynb"
    with pytest.raises(papermill.PapermillExecutionError) as raised:
        runner.execute_notebook(
            paths.NOTEBOOKS / "02-plan-and-apply.ipynb",
            out,
            {
                "environment": "production",
                "aws_endpoint_url": "http://127.0.0.1:9",
                "work_dir": str(tmp_path / "work"),
                "destroy": True,
            },
        )
    assert raised.value.ename == "TeardownRefused" and "production is never torn down" in raised.value.evalue
    assert not (tmp_path / "work").exists(), "nothing planned"


# --- with real Terraform on the emulator -------------------------------------------------------------------------


def _tfvars(target, environment: str, directory: Path) -> Path:
    path = directory / f"{environment}.tfvars"
    example = (paths.environment_dir(environment) / "terraform.tfvars.example").read_text()
    path.write_text(preflight.emulator_ami(target, example)[0])
    return path


def _need_provider() -> None:
    from runbook.terraform.binary import find_mirror

    if find_mirror() is None:
        pytest.skip("the AWS provider cannot be installed here (no filesystem mirror)")


@pytest.mark.terraform
def test_a_plain_terraform_destroy_in_production_destroys_nothing(tmp_path, target):
    """After a production apply, `terraform destroy -auto-approve` as the guide's user would run it fails at plan
    time on the guard, and everything is still in the state and on the emulator.

    To stay cheap the apply is targeted at the guard and the IAM policies (what a destroy used to delete before
    deletion protection stopped it at the table); the full apply was checked by hand (docs/safety.md)."""
    from runbook.terraform.command import Terraform
    from runbook.terraform.workspace import Workspace

    _need_provider()
    terraform = Terraform(
        Workspace("production", tmp_path / "work"), target, var_file=_tfvars(target, "production", tmp_path)
    )
    terraform.init()
    targets = [
        f"-target={address}"
        for address in (
            "terraform_data.production_guard",
            "module.dynamodb.aws_iam_policy.full_access",
            "module.dynamodb.aws_iam_policy.read_only",
        )
    ]
    terraform.plan(*targets)
    terraform.apply_plan()
    state = sorted(terraform.state_addresses())
    assert "terraform_data.production_guard" in state and "module.dynamodb.aws_iam_policy.read_only" in state

    destroyed = terraform.run(
        "destroy", "-auto-approve", "-input=false", "-no-color", *terraform.var_args(), check=False
    )
    assert destroyed.returncode != 0
    assert "Instance cannot be destroyed" in destroyed.stderr and "production_guard" in destroyed.stderr
    assert "Destruction complete" not in destroyed.stdout
    assert sorted(terraform.state_addresses()) == state
    assert len(target.client("iam").list_policies(Scope="Local")["Policies"]) == 2, "the application keeps access"


@pytest.mark.notebooks
@pytest.mark.terraform
def test_staging_teardown_through_the_gate_then_recreate(tmp_path, target):
    """02 with destroy=True reviews the teardown (every resource, the table's items) and refuses it without
    allow_destroy; `runbook destroy` applies exactly that reviewed plan (plan_sha256); applying the configuration
    again re-creates everything and the next plan says no changes."""
    from runbook.terraform.command import Terraform
    from runbook.terraform.workspace import Workspace

    _need_provider()
    tfvars = _tfvars(target, "staging", tmp_path)
    base = tmp_path / "work"  # --work-dir / work_dir: the base holding one directory per environment
    work = base / "staging"
    terraform = Terraform(Workspace("staging", work), target, var_file=tfvars)
    terraform.init()
    terraform.plan()
    terraform.apply_plan()
    state = sorted(terraform.state_addresses())
    dynamodb = target.client("dynamodb")
    for i in range(3):
        dynamodb.put_item(TableName=NAME, Item={"user_id": {"S": f"u{i}"}, "notification_id": {"S": f"n{i}"}})

    refused = tmp_path / "refused.ipynb"
    with pytest.raises(papermill.PapermillExecutionError) as raised:
        runner.execute_notebook(
            paths.NOTEBOOKS / "02-plan-and-apply.ipynb",
            refused,
            {
                "environment": "staging",
                "aws_region": "us-east-1",
                "aws_endpoint_url": target.endpoint_url,
                "work_dir": str(base),
                "tfvars": str(tfvars),
                "apply": True,
                "destroy": True,
            },
        )
    assert raised.value.ename == "ChangeRefused" and "allow_destroy=" in raised.value.evalue
    records = read_records(refused)
    reviewed = records["plan_review"]
    assert reviewed["teardown"] and {c["action"] for c in reviewed["changes"]} == {"delete"}
    assert sorted(c["address"] for c in reviewed["changes"]) == sorted(a for a in state if ".data." not in a)
    assert "the table: data is lost (3 items" in reviewed["summary"]
    assert dynamodb.scan(TableName=NAME)["Count"] == 3, "refused: nothing destroyed"

    code = cli.main(
        [
            "destroy",
            "--env",
            "staging",
            "--work-dir",
            str(base),
            "--tfvars",
            str(tfvars),
            "--endpoint-url",
            target.endpoint_url,
            "--apply",
            "--plan-sha256",
            records["plan_sha256"],
            "--allow-destroy",
            ",".join(reviewed["destructive"]),
        ]
    )
    assert code == 0
    assert NAME not in dynamodb.list_tables()["TableNames"]
    assert terraform.state_addresses() == []

    terraform.plan()
    terraform.apply_plan()
    assert sorted(terraform.state_addresses()) == state
    assert not terraform.plan().has_changes, "re-created: the next plan has no changes"
