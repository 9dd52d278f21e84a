"""Notebook 05 through papermill on the embedded emulator: the guide's figures, what was priced (tfvars and
plan), the ceiling section, the parameters cell and dollar signs as text (markdown renders ``$…$`` as LaTeX)."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest

from runbook import cost, workconfig
from runbook.steps import preflight

D = Decimal
ROOT = Path(__file__).resolve().parent.parent
NOTEBOOK = ROOT / "notebooks" / "05-cost-analysis.ipynb"
AWS_VARIABLES = ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE", "AWS_ENDPOINT_URL")


def cells(kind: str) -> list[str]:
    return ["".join(c["source"]) for c in json.loads(NOTEBOOK.read_text())["cells"] if c["cell_type"] == kind]


def test_money_in_markdown_is_written_as_text_never_as_dollar_signs():
    """JupyterLab typesets ``$…$``, escaped or not, as maths in Markdown cells: money is "USD 1.25"."""
    dollars = [(text.splitlines()[0], line) for text in cells("markdown") for line in text.splitlines() if "$" in line]
    assert dollars == []
    assert any("USD 1.25" in text for text in cells("markdown"))


def test_parameters_cell():
    import papermill

    parameters = papermill.inspect_notebook(str(NOTEBOOK))
    assert parameters["tfvars"]["default"] == '""' and parameters["tfvars"]["inferred_type_name"] == "str"
    assert parameters["work_dir"]["default"] == '""' and parameters["work_dir"]["inferred_type_name"] == "str"
    assert all(p["help"] and "=" not in p["help"] for p in parameters.values())
    tagged = [c for c in json.loads(NOTEBOOK.read_text())["cells"] if "parameters" in c["metadata"].get("tags", [])]
    assert len(tagged) == 1


def execute(tmp_path: Path, **parameters) -> dict:
    import papermill

    from runbook.execution.record import read_records

    output = tmp_path / f"05-{parameters['environment']}.ipynb"
    papermill.execute_notebook(
        str(NOTEBOOK),
        str(output),
        parameters=parameters,
        cwd=str(ROOT / "notebooks"),
        progress_bar=False,
        kernel_name="python3",
    )
    return read_records(output)


@pytest.mark.notebooks
@pytest.mark.parametrize("environment", ["staging", "production"])
def test_cost_analysis_notebook(environment, tmp_path, target):
    work = tmp_path / "work"
    # the tfvars 01 makes on an emulator: the example with the AMI and key pair swapped for ones the emulator knows
    # (the example's own placeholders are refused by the module's validation rules, so it cannot be planned as is)
    tfvars = tmp_path / "terraform.tfvars"
    tfvars.write_text(preflight.emulator_ami(target, workconfig.example_file(environment).read_text())[0])
    records = execute(
        tmp_path, environment=environment, aws_endpoint_url=target.endpoint_url, work_dir=str(work), tfvars=str(tfvars)
    )
    seed = cost.SEED_FIGURES[environment]
    assert D(str(records["legacy_writes_usd"])) == seed["writes"]
    assert D(str(records["legacy_reads_usd"])) == seed["reads"]
    assert D(str(records["legacy_storage_usd"])) == seed["storage"]
    assert records["guide_scope_legacy_usd"] == float(seed["total"])
    # what was priced: the tfvars given, and Terraform's plan of it
    configuration = records["configuration"]
    assert records["tfvars_path"] == str(tfvars) == configuration["tfvars"]
    assert records["priced_source"] == configuration["source"] == "plan"  # only ever Terraform's plan (issue 33)
    assert len(configuration["alarms"]) == {"staging": 0, "production": 4}[environment]
    assert "Terraform's plan of" in configuration["note"]
    # today's prices: writes, reads, storage (and production's PITR) 10.26 / 997.50, plus the dashboard where the
    # tfvars enables it and the alarms the plan has
    expected = {"staging": D("10.26"), "production": D("997.50")}[environment]
    expected += D("3.00") * configuration["dashboard_enabled"] + D("0.10") * len(configuration["alarms"])
    assert D(str(records["total_monthly_usd"])) == expected
    assert records["pricing"] == "us-east-1"
    assert records["usage_source"] == "profile"  # the emulator has no metrics
    assert 0.28 < records["break_even_utilization"] < 0.30
    assert records["components"][:3] == ["writes", "reads", "storage"]
    assert ("pitr" in records["components"]) == (environment == "production")
    assert records["ceiling_monthly_usd"] is None  # the example tfvars sets no on-demand maximum
    assert records["growth_users"][0] == 10_000 and records["growth_users"][-1] == 10_000_000
    assert records["high_costs_saved_usd"]["Consider switching to provisioned mode"] > 0


@pytest.mark.notebooks
def test_cost_analysis_notebook_without_aws_says_no_plan_no_estimate(tmp_path, monkeypatch):
    """aws_endpoint_url="" on a machine without credentials or backend config, an explicit tfvars: Terraform cannot
    plan it here, so 05 stops at the estimate with one message naming the file, Terraform's reason and what to do;
    nothing is priced from the tfvars on its own (issue 33)."""
    import papermill

    for name in AWS_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent")
    monkeypatch.setenv("AWS_CONFIG_FILE", "/nonexistent")
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    tfvars = tmp_path / "production.tfvars"
    tfvars.write_text(workconfig.example_file("production").read_text())
    with pytest.raises(papermill.PapermillExecutionError) as raised:
        execute(
            tmp_path, environment="production", users=2_000_000, tfvars=str(tfvars), work_dir=str(tmp_path / "work")
        )
    error = raised.value
    assert error.ename == "NoPlanToPrice", f"{error.ename}: {error.evalue}"
    assert str(tfvars) in error.evalue and "no cost estimate" in error.evalue
    assert "never the tfvars on its own" in error.evalue and "then run it again" in error.evalue


@pytest.mark.notebooks
def test_bad_tfvars_parameter_fails_first(tmp_path):
    import papermill

    with pytest.raises(papermill.PapermillExecutionError) as error:
        execute(tmp_path, environment="staging", tfvars=str(tmp_path / "missing.tfvars"))
    assert "parameter 'tfvars'" in str(error.value) and "missing.tfvars" in str(error.value)
