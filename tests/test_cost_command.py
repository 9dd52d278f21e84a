"""``runbook cost``: the working tfvars, its plan (recorded fixtures stand in for runbook.terraform.planning), the
tfvars
fallback when no plan can be made, the JSON ``configuration``, and one-line errors for bad options."""

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
    data = json.loads(cost.cost_command("production", "us-east-1-legacy", "json", False, work_dir=work / "production",
                                        endpoint_url="http://127.0.0.1:4566/"))
    assert plans == [("production", tfvars, work / "production", "http://127.0.0.1:4566")]
    assert data["total_monthly_usd"] == 1975.9 and data["pricing"]["name"] == "us-east-1-legacy"
    configuration = data["configuration"]
    assert (configuration["source"], configuration["tfvars"], configuration["tfvars_origin"]) == (
        "plan", str(tfvars), "generated")
    assert configuration["note"] == "planned by Terraform from terraform.tfvars"
    assert len(configuration["alarms"]) == 4 and configuration["not_priced"] == []
    assert list(data) == ["environment", "configuration", "pricing", "usage", "components", "total_monthly_usd",
                          "ceiling", "plan_delta"]
    # the recorded plan creates the table: from $0 to the whole estimate, component by component
    delta = data["plan_delta"]
    assert (delta["before_usd"], delta["after_usd"], delta["before_table"]) == (0.0, 1975.9, None)
    assert {c["name"]: c["after_usd"] for c in delta["components"]} == {
        c["name"]: c["monthly_usd"] for c in data["components"]}


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


def test_without_a_plan_the_tfvars_is_priced_and_says_so(no_plan, tmp_path, no_operator_files):
    """No Terraform here: the tfvars as written, every gap named."""
    staging = json.loads(cost.cost_command("staging", "us-east-1-legacy", "json", False,
                                           work_dir=tmp_path / "staging"))
    assert staging["configuration"]["source"] == "tfvars"
    assert staging["configuration"]["tfvars"] == str(workconfig.example_file("staging"))
    assert "does not exist yet" in staging["configuration"]["note"] and no_plan in staging["configuration"]["note"]
    assert staging["total_monthly_usd"] == 20.0  # the guide's figure from the tfvars alone
    production = cost.cost_command("production", "us-east-1-legacy", "table", False,
                                   work_dir=tmp_path / "production")
    assert "as written, without a plan" in production
    assert "Not priced: alarms: dynamodb_enable_alarms = true" in production
    assert "$1,875.00" in production and "pitr" in production and "dashboard" in production


def test_no_plan_reason_from_planning(no_plan, tmp_path):
    tfvars = tmp_path / "edited.tfvars"
    tfvars.write_text('dynamodb_billing_mode = "PROVISIONED"\ndynamodb_read_capacity = 50\n'
                      'dynamodb_write_capacity = 100\ndynamodb_pitr_enabled = true\n'
                      'dynamodb_table_class = "STANDARD"\n'
                      'dynamodb_on_demand_throughput = { max_read_request_units = 10 }\n')
    priced = cost.priced_configuration("staging", str(tfvars))
    assert priced.source == "tfvars" and priced.table.write_capacity == 100 and priced.table.pitr_enabled
    assert priced.table.max_read_request_units is None  # a ceiling applies to on-demand tables only
    assert priced.configuration["note"] == no_plan
    assert any("dynamodb_stream_enabled not set" in item for item in priced.configuration["not_priced"])
    report = cost.estimate("staging", table=priced.table, configuration=priced.configuration)
    assert report.monthly("writes") == cost.estimate("staging", table=priced.table).monthly("writes")
    assert report.component("writes").quantity == 72_000 and report.component("pitr")


def test_ceiling_in_the_command(monkeypatch):
    monkeypatch.setattr(configured, "configured_plan",
                        lambda *args: (recorded("ceiling"), "us-east-1", "recorded plan"))
    data = json.loads(cost.cost_command("staging", "us-east-1", "json", False))
    assert data["ceiling"]["total_monthly_usd"] == 116.64 and data["ceiling"]["unlimited"] == ["gsi_writes:by-status"]
    text = cost.cost_command("staging", "us-east-1", "table", False)
    assert "Worst case allowed by the on-demand throughput ceiling" in text
    assert "reads: 100 units/s x 2,592,000 s = 259.2 million read request units x $0.125 = $32.40" in text
    assert "gsi_writes:by-status: unlimited" in text


@pytest.mark.parametrize("args, parameter", [
    (("qa", "us-east-1", "json", False), "environment"),
    (("staging", "mars-1", "json", False), "pricing"),
    (("staging", "us-east-1", "yaml", False), "format"),
])
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
    assert cli.main(["cost", "--env", "staging", "--tfvars", str(tfvars), "--format", "json",
                     "--pricing", "us-east-1-legacy"]) == 0
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
