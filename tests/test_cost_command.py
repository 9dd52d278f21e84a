"""``runbook cost``: the working tfvars, its plan (recorded fixtures stand in for runbook.terraform.planning), no
estimate (one line saying why) when no plan can be made, the JSON ``configuration``, and one-line errors for bad
options."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from runbook import cli, cost, workconfig
from runbook.cost import configured
from runbook.errors import ParameterError
from runbook.spec import TableSpec
from runbook.terraform.tfjson import PlanJson, table_spec

ROOT = Path(__file__).resolve().parent.parent
PLANS = ROOT / "tests" / "fixtures" / "terraform"


def recorded(name: str) -> PlanJson:
    return PlanJson.from_file(PLANS / f"cost-{name}-plan.json")


def planned(name: str) -> TableSpec:
    return table_spec(recorded(name).planned_resources())


@pytest.fixture
def plans(monkeypatch):
    """runbook.terraform.planning.configured_plan answered from the recorded plans; the calls are kept."""
    calls = []

    def configured_plan(environment, tfvars, work_base, endpoint_url=""):
        calls.append((environment, Path(tfvars), Path(work_base), endpoint_url))
        return recorded(environment), "us-east-1", f"planned by Terraform from {Path(tfvars).name}"

    monkeypatch.setattr(configured, "configured_plan", configured_plan)
    return calls


@pytest.fixture
def no_operator_files():
    for environment in ("staging", "production"):
        if workconfig.operator_file(environment).exists():
            pytest.skip(f"{workconfig.operator_file(environment)} exists (an operator's file changes what is priced)")


def test_prices_the_plan_of_the_working_tfvars(plans, tmp_path, no_operator_files):
    work = tmp_path / "work"
    (work / "production").mkdir(parents=True)
    tfvars = work / "production" / "terraform.tfvars"  # what 01-setup makes
    tfvars.write_text(workconfig.example_file("production").read_text())
    data = json.loads(
        cost.cost_command(
            "production",
            "us-east-1-legacy",
            "json",
            False,
            work_dir=work / "production",
            endpoint_url="http://127.0.0.1:4566/",
        )
    )
    assert plans == [("production", tfvars, work / "production", "http://127.0.0.1:4566")]
    assert data["total_monthly_usd"] == 1975.9 and data["pricing"]["name"] == "us-east-1-legacy"
    configuration = data["configuration"]
    assert (configuration["source"], configuration["tfvars"], configuration["tfvars_origin"]) == (
        "plan",
        str(tfvars),
        "generated",
    )
    assert configuration["note"] == "planned by Terraform from terraform.tfvars"
    assert len(configuration["alarms"]) == 4 and configuration["not_priced"] == []
    assert list(data) == [
        "environment",
        "configuration",
        "pricing",
        "usage",
        "components",
        "total_monthly_usd",
        "ceiling",
        "plan_delta",
    ]
    # the recorded plan creates the table: from $0 to the whole estimate, component by component
    delta = data["plan_delta"]
    assert (delta["before_usd"], delta["after_usd"], delta["before_table"]) == (0.0, 1975.9, None)
    assert {c["name"]: c["after_usd"] for c in delta["components"]} == {
        c["name"]: c["monthly_usd"] for c in data["components"]
    }


def test_table_output_names_the_tfvars_and_the_guides_figures(plans, tmp_path):
    tfvars = tmp_path / "mine.tfvars"
    tfvars.write_text(workconfig.example_file("staging").read_text())
    text = cost.cost_command("staging", "us-east-1-legacy", "table", False, tfvars=str(tfvars))
    assert f"Priced: Terraform's plan of {tfvars.resolve()}" in text
    for expected in ("writes", "reads", "storage", "$18.75", "$0.75", "$0.50", "$20.00", "us-east-1-legacy"):
        assert expected in text
    assert "\x1b[" not in text
    free = json.loads(cost.cost_command("staging", "us-east-1", "json", True, tfvars=str(tfvars)))
    assert free["usage"]["free_tier"] == {"value": True, "source": "option"}
    assert free["configuration"]["tfvars_origin"] == "parameter"


@pytest.fixture
def no_plan(monkeypatch):
    """runbook.terraform.planning says no plan can be made here (as it does without Terraform, provider or target)."""
    reason = "no plan: Terraform cannot install the AWS provider (hashicorp/aws) on this machine"
    monkeypatch.setattr(configured, "configured_plan", lambda *args: (None, "us-east-1", reason))
    return reason


def test_without_a_plan_there_is_no_estimate_and_it_says_why(no_plan, tmp_path, no_operator_files):
    """No Terraform here: nothing is priced from the tfvars on its own (issue 33: no Python copy of the module's
    defaults); the error names the file that could not be planned, the reason and what to do."""
    with pytest.raises(configured.NoPlanToPrice) as raised:
        cost.cost_command("staging", "us-east-1-legacy", "json", False, work_dir=tmp_path / "staging")
    error = raised.value
    assert error.tfvars == str(workconfig.example_file("staging"))  # 01 has not made the working copy yet
    assert error.reason == no_plan.removeprefix("no plan: ")
    message = str(error)
    assert message.startswith(f"no cost estimate: Terraform could not plan {error.tfvars} here (Terraform cannot")
    assert "make a plan possible" in message and "--endpoint-url" in message


def test_without_a_plan_the_cli_prints_one_line_and_exits_2(no_plan, tmp_path, capsys):
    tfvars = tmp_path / "edited.tfvars"
    tfvars.write_text('dynamodb_billing_mode = "PROVISIONED"\ndynamodb_read_capacity = 50\n')
    assert cli.main(["cost", "--env", "staging", "--tfvars", str(tfvars), "--format", "json"]) == 2
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err.count("\n") == 1, captured
    assert captured.err.startswith(f"runbook cost: error: no cost estimate: Terraform could not plan {tfvars}")


def test_a_plan_without_a_table_is_no_estimate_either(monkeypatch, tmp_path):
    empty = PlanJson({"format_version": "1.2", "planned_values": {"root_module": {}}, "resource_changes": []})
    monkeypatch.setattr(configured, "configured_plan", lambda *args: (empty, "us-east-1", "recorded empty plan"))
    tfvars = tmp_path / "staging.tfvars"
    tfvars.write_text(workconfig.example_file("staging").read_text())
    with pytest.raises(configured.NoPlanToPrice, match="recorded empty plan: it plans no DynamoDB table"):
        cost.priced_configuration("staging", str(tfvars))


def test_the_module_defaults_are_not_restated_in_the_cost_package():
    """Issue 33: the tfvars-only pricing (and its copy of the module's defaults) is gone."""
    assert not hasattr(configured, "table_from_tfvars") and not hasattr(cost, "table_from_tfvars")
    source = (ROOT / "runbook" / "cost" / "configured.py").read_text()
    assert "dynamodb_billing_mode" not in source and "PAY_PER_REQUEST" not in source


def test_ceiling_in_the_command(monkeypatch):
    monkeypatch.setattr(
        configured, "configured_plan", lambda *args: (recorded("ceiling"), "us-east-1", "recorded plan")
    )
    data = json.loads(cost.cost_command("staging", "us-east-1", "json", False))
    assert data["ceiling"]["total_monthly_usd"] == 116.64 and data["ceiling"]["unlimited"] == ["gsi_writes:by-status"]
    text = cost.cost_command("staging", "us-east-1", "table", False)
    assert "Worst case allowed by the on-demand throughput ceiling" in text
    assert "reads: 100 units/s x 2,592,000 s = 259.2 million read request units x $0.125 = $32.40" in text
    assert "gsi_writes:by-status: unlimited" in text


@pytest.mark.parametrize(
    "args, parameter",
    [
        (("qa", "us-east-1", "json", False), "environment"),
        (("staging", "mars-1", "json", False), "pricing"),
        (("staging", "us-east-1", "yaml", False), "format"),
    ],
)
def test_cost_command_errors(plans, args, parameter):
    with pytest.raises(ParameterError) as error:
        cost.cost_command(*args)
    assert error.value.parameter == parameter
    assert plans == []  # nothing planned before the arguments are checked


def test_bad_endpoint(plans):
    with pytest.raises(ParameterError) as error:
        cost.cost_command("staging", endpoint_url="ftp://x")
    assert error.value.parameter == "--endpoint-url" and plans == []


@pytest.mark.parametrize("case", ["missing", "directory", "not HCL", "binary"])
def test_bad_tfvars_is_one_line_exit_2(plans, tmp_path, capsys, case):
    path = tmp_path / "bad.tfvars"
    if case == "directory":
        path.mkdir()
    elif case == "not HCL":
        path.write_text("dynamodb_billing_mode = = \n{{{\n")
    elif case == "binary":
        path.write_bytes(b"\xff\xfe\x00\x01")
    code = cli.main(["cost", "--env", "staging", "--tfvars", str(path)])
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1, err
    assert "--tfvars" in err and str(path) in err and err.startswith("runbook cost: error:")
    assert plans == []


def test_cli_prints_the_report(plans, capsys, tmp_path):
    tfvars = tmp_path / "staging.tfvars"
    tfvars.write_text(workconfig.example_file("staging").read_text())
    assert (
        cli.main(
            ["cost", "--env", "staging", "--tfvars", str(tfvars), "--format", "json", "--pricing", "us-east-1-legacy"]
        )
        == 0
    )
    data = json.loads(capsys.readouterr().out)
    assert data["total_monthly_usd"] == 20.0 and data["configuration"]["source"] == "plan"
    assert cli.main(["cost", "--env", "qa"]) == 2


def test_another_environments_tfvars_is_refused(plans, tmp_path, capsys):
    tfvars = tmp_path / "prod.tfvars"
    tfvars.write_text(workconfig.example_file("production").read_text())
    work = tmp_path / "work"
    (work / "staging").mkdir(parents=True)
    (work / "staging" / "terraform.tfvars").write_text(tfvars.read_text())  # 01's copy, but production's
    assert cli.main(["cost", "--env", "staging", "--work-dir", str(work)]) == 2  # the base: work/staging
    err = capsys.readouterr().err
    assert "written for production, not staging" in err and err.count("\n") == 1
    assert plans == []
