"""The working configuration: which tfvars every step reads, and the errors for a bad one (before any AWS call)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from runbook import paths, workconfig
from runbook.errors import ConfigurationError, ParameterError
from runbook.spec import TableSpec
from runbook.steps import tfvarsverdict
from runbook.terraform.tfjson import PlanJson, table_spec

FIXTURES = Path(__file__).parent / "fixtures" / "terraform" / "drift"


@pytest.fixture
def repo(tmp_path, monkeypatch):
    """A repository root with the committed infrastructure/ copied in, so operator files can be planted."""
    import shutil

    root = tmp_path / "repo"
    shutil.copytree(
        paths.INFRASTRUCTURE, root / "infrastructure", ignore=shutil.ignore_patterns(".terraform", "terraform.tfvars")
    )
    monkeypatch.setattr(paths, "INFRASTRUCTURE", root / "infrastructure")
    return root


def test_resolution_order(repo, tmp_path):
    work = tmp_path / "work" / "staging"
    generated = workconfig.resolve("staging", "", work)
    assert (generated.origin, generated.path) == ("generated", work / "terraform.tfvars")

    operator = repo / "infrastructure" / "staging" / "terraform.tfvars"
    operator.write_text((repo / "infrastructure" / "staging" / "terraform.tfvars.example").read_text())
    assert workconfig.resolve("staging", "", work) == workconfig.WorkingTfvars(operator, "operator")

    explicit = tmp_path / "mine.tfvars"
    explicit.write_text('aws_region = "eu-west-1"\n')
    assert workconfig.resolve("staging", str(explicit), work) == workconfig.WorkingTfvars(explicit, "parameter")


@pytest.mark.parametrize("case", ["missing", "directory", "not-hcl", "binary"])
def test_bad_tfvars_name_the_parameter_and_file(tmp_path, case):
    path = tmp_path / "bad.tfvars"
    if case == "directory":
        path.mkdir()
    elif case == "not-hcl":
        path.write_text("this is = = not hcl\n")
    elif case == "binary":
        path.write_bytes(b"\xff\xfe\x00\x01")
    expected = ParameterError if case in ("missing", "directory") else ConfigurationError
    with pytest.raises(expected) as caught:
        workconfig.resolve("staging", str(path), tmp_path, parameter="--tfvars")
    text = str(caught.value)
    assert str(path) in text
    if expected is ParameterError:
        assert "--tfvars" in text


def test_a_tfvars_for_the_other_environment_is_refused_with_both_names(tmp_path):
    path = tmp_path / "terraform.tfvars"
    path.write_text((paths.environment_dir("production") / "terraform.tfvars.example").read_text())
    with pytest.raises(ConfigurationError) as caught:
        workconfig.check_environment(path, "staging")
    assert "production" in str(caught.value) and "staging" in str(caught.value)
    assert caught.value.line is not None
    workconfig.check_environment(path, "production")  # its own environment: fine


def test_example_placeholders_are_found_with_their_line():
    found = workconfig.placeholders(paths.environment_dir("staging") / "terraform.tfvars.example")
    names = {name for name, line, value in found}
    assert names == {"ami_id", "key_name"}
    assert all(line for _, line, _ in found)


def test_terraform_diagnostics_are_reported_on_the_tfvars_line():
    """Recorded from the real Terraform: plan -refresh=false on a tfvars with two values the root rejects."""
    diagnostics = json.loads((FIXTURES / "variables-rejected.json").read_text())
    tfvars = FIXTURES / "rejected.tfvars"
    errors = [d for d in diagnostics if d["severity"] == "error"]
    assert len(errors) == 2
    where = {tfvarsverdict._where(d, Path("/work-dir/rejected.tfvars"))[0]: d for d in errors}
    assert set(where) == {"dynamodb_billing_mode", "key_name"}
    for name, diagnostic in where.items():
        assert diagnostic["range"]["start"]["line"] == workconfig.line_of(tfvars, name)


def test_a_module_validation_is_traced_back_to_the_tfvars_variable(tmp_path):
    """A module's validation points at the module call in main.tf: its snippet names the root variable."""
    tfvars = tmp_path / "terraform.tfvars"
    tfvars.write_text('aws_region = "us-east-1"\ndynamodb_billing_mode = "ON_DEMAND"\n')
    diagnostic = {
        "severity": "error",
        "summary": "Invalid value for variable",
        "range": {"filename": "main.tf", "start": {"line": 20}},
        "snippet": {"code": "  billing_mode = var.dynamodb_billing_mode"},
    }
    assert tfvarsverdict._where(diagnostic, tfvars) == ("dynamodb_billing_mode", 2)


def test_the_table_comes_from_terraforms_planned_values():
    plan = PlanJson.from_file(FIXTURES / "pending.json")
    spec = table_spec(plan.planned_resources(), region="us-east-1", environment="staging")
    assert isinstance(spec, TableSpec)
    assert spec.name == "staging-user-notifications" and spec.address.endswith("aws_dynamodb_table.notifications")
    assert spec.pitr_enabled and spec.pitr_recovery_period_days == 35  # the edited tfvars, as Terraform plans it
    assert spec.ttl_enabled and spec.ttl_attribute_name == "ttl" and spec.stream_view_type == "NEW_AND_OLD_IMAGES"
    assert spec.tags["Environment"] == "staging"
    before = table_spec(plan.prior_resources())
    assert before is not None and not before.pitr_enabled
