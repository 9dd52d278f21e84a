"""runbook.steps.targetcheck: what the planned configuration needs from an emulator, probed before anything changes."""

from __future__ import annotations

import urllib.request

import pytest
from stockmoto import stock_moto

from runbook import paths
from runbook.aws.target import Target
from runbook.steps import targetcheck

INSTANCE = {
    "address": "aws_instance.app",
    "type": "aws_instance",
    "name": "app",
    "values": {"monitoring": True, "instance_type": "t3.micro"},
}
UNMONITORED = {**INSTANCE, "values": {"monitoring": False}}
SCALING = [
    {
        "address": f'module.dynamodb.aws_appautoscaling_target.capacity["table/{d}"]',
        "type": "aws_appautoscaling_target",
        "name": "capacity",
        "values": {"resource_id": "table/t", "tags": {"Team": "x"}, "tags_all": {"Team": "x"}},
    }
    for d in ("read", "write")
]
TABLE = {
    "address": "module.dynamodb.aws_dynamodb_table.notifications",
    "type": "aws_dynamodb_table",
    "name": "notifications",
    "values": {"name": "t"},
}
CONFIGURATION = {
    "root_module": {
        "resources": [
            {
                "address": "aws_instance.app",
                "expressions": {"monitoring": {"references": ["var.instance_detailed_monitoring"]}},
            }
        ]
    }
}


@pytest.fixture(scope="module")
def stock_endpoint():
    with stock_moto() as url:
        yield url


def _nothing_created(target: Target) -> None:
    reservations = target.client("ec2").describe_instances()["Reservations"]
    assert reservations == []
    assert (
        target.client("application-autoscaling").describe_scalable_targets(ServiceNamespace="dynamodb")[
            "ScalableTargets"
        ]
        == []
    )
    assert target.client("dynamodb").list_tables()["TableNames"] == []


def test_needs_follow_the_planned_settings():
    assert targetcheck.needs([TABLE, UNMONITORED]) == []
    calls = [(n.call, n.addresses) for n in targetcheck.needs([TABLE, INSTANCE, *SCALING])]
    assert calls == [
        ("EC2 MonitorInstances", ("aws_instance.app",)),
        ("Application Auto Scaling ListTagsForResource", tuple(r["address"] for r in SCALING)),
    ]
    assert "2 of 2 with tags" in targetcheck.needs(SCALING)[0].setting
    assert targetcheck.setting_variables(CONFIGURATION, [INSTANCE]) == {
        "aws_instance.app": "instance_detailed_monitoring"
    }


@pytest.mark.slow  # a stock moto server of its own
def test_stock_moto_names_each_missing_call_and_creates_nothing(stock_endpoint):
    target = Target("us-east-1", stock_endpoint)
    checks = targetcheck.check_target(target, [TABLE, INSTANCE, *SCALING], CONFIGURATION)
    assert [(c.name, c.ok) for c in checks] == [
        ("target: EC2 MonitorInstances", False),
        ("target: Application Auto Scaling ListTagsForResource", False),
    ]
    monitoring, tagging = checks
    assert "does not implement EC2 MonitorInstances" in monitoring.detail
    assert "aws_instance with monitoring = true" in monitoring.detail and "aws_instance.app" in monitoring.detail
    assert "`runbook emulator`" in monitoring.fix and "`-var instance_detailed_monitoring=false`" in monitoring.fix
    assert "ListTagsForResource" in tagging.detail and "aws_appautoscaling_target" in tagging.detail
    assert "`runbook emulator`" in tagging.fix and "autoscaling" in tagging.fix
    _nothing_created(target)


def test_embedded_emulator_has_every_call(target):
    checks = targetcheck.check_target(target, [TABLE, INSTANCE, *SCALING])
    assert [c.ok for c in checks] == [True, True], checks
    _nothing_created(target)


def test_nothing_needed_and_real_aws_is_never_probed(monkeypatch):
    [check] = targetcheck.check_target(Target("us-east-1", "http://127.0.0.1:9"), [TABLE, UNMONITORED])
    assert check.ok and "needs no API" in check.detail

    def refuse(*args, **kwargs):
        raise AssertionError("real AWS must not be probed")

    monkeypatch.setattr(Target, "client", refuse)
    checks = targetcheck.check_target(Target("us-east-1"), [INSTANCE, *SCALING])
    assert all(c.ok and "not probed" in c.detail for c in checks)


@pytest.mark.terraform
def test_a_real_plan_on_stock_moto_is_stopped_before_anything_changes(stock_endpoint, tmp_path):
    """Production's plan with detailed monitoring and autoscaling on, against stock moto: both calls are named
    from Terraform's planned values, and the plan (not applied) and the probes leave the emulator empty."""
    from runbook.errors import TerraformUnavailable
    from runbook.steps.preflight import emulator_ami
    from runbook.terraform import tfjson
    from runbook.terraform.command import Terraform
    from runbook.terraform.workspace import Workspace

    urllib.request.urlopen(urllib.request.Request(f"{stock_endpoint}/moto-api/reset", method="POST")).close()
    target = Target("us-east-1", stock_endpoint)
    tfvars = tmp_path / "production.tfvars"
    example = paths.environment_dir("production") / "terraform.tfvars.example"
    tfvars.write_text(emulator_ami(target, example.read_text())[0])
    terraform = Terraform(Workspace("production", tmp_path / "production"), target, var_file=tfvars)
    try:
        terraform.init()
    except TerraformUnavailable as error:
        pytest.skip(f"Terraform cannot install the AWS provider here: {error}")
    terraform.plan(
        "-var=dynamodb_billing_mode=PROVISIONED",
        "-var=dynamodb_autoscaling_enabled=true",
        "-var=instance_detailed_monitoring=true",
    )
    plan = tfjson.load_plan(terraform)
    checks = targetcheck.check_plan(target, plan)
    failed = {c.name: c for c in checks if not c.ok}
    assert set(failed) == {"target: EC2 MonitorInstances", "target: Application Auto Scaling ListTagsForResource"}
    assert "aws_instance.app" in failed["target: EC2 MonitorInstances"].detail
    assert "instance_detailed_monitoring" in failed["target: EC2 MonitorInstances"].fix
    _nothing_created(target)
