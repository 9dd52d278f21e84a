"""Diagnostics on the emulator: each check's status in a prepared broken (and healthy) setup."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import pytest
from tables import PRODUCTION, STAGING, create_table

from runbook import diagnostics as dx
from runbook.discovery import describe_table


def _put_hourly(target, table: str, metric: str, values: list[float], operation: str | None = None,
                statistic_values: bool = False) -> None:
    now = datetime.now(timezone.utc).replace(minute=0, second=0, microsecond=0)
    dimensions = [{"Name": "TableName", "Value": table}]
    if operation:
        dimensions.append({"Name": "Operation", "Value": operation})
    data = [{"MetricName": metric, "Dimensions": dimensions, "Value": value,
             "Timestamp": now - timedelta(hours=hours_ago, minutes=-30)}
            for hours_ago, value in enumerate(values)]
    cloudwatch = target.client("cloudwatch")
    for i in range(0, len(data), 500):
        cloudwatch.put_metric_data(Namespace="AWS/DynamoDB", MetricData=data[i:i + 500])


def test_table_exists_but_not_in_state(target):
    name = STAGING.name
    assert dx.table_exists_but_not_in_state(target, name, []).status == "ok"  # not created yet
    create_table(target, STAGING)
    finding = dx.table_exists_but_not_in_state(target, name, ["module.dynamodb.aws_iam_policy.read_only"])
    assert finding.status == "problem"
    assert f"terraform import module.dynamodb.aws_dynamodb_table.notifications {name}" in finding.fix
    assert dx.table_exists_but_not_in_state(target, name, [dx.TABLE_ADDRESS]).status == "ok"
    assert dx.table_exists_but_not_in_state(target, name, None).status == "unavailable"


def test_state_without_table(target):
    finding = dx.table_exists_but_not_in_state(target, STAGING.name, [dx.TABLE_ADDRESS])
    assert finding.status == "problem" and "state rm" in finding.fix


def test_access_denied_says_simulation_is_unavailable_on_moto(target):
    finding = dx.access_denied(target, dx.TERRAFORM_ACTIONS, STAGING.name)
    assert finding.status == "unavailable"
    assert "arn:aws:sts::123456789012:user/moto" in finding.finding
    assert "IAM policy simulation is not supported by this endpoint" in finding.finding
    assert "dynamodb:CreateTable" in finding.fix


def test_access_denied_reports_missing_actions(target, monkeypatch):
    """Where the endpoint simulates policies (real IAM), the denied actions are named."""
    def fake_probe(target_, service, operation, **kwargs):
        assert (service, operation) == ("iam", "simulate_principal_policy")
        assert kwargs["PolicySourceArn"] == "arn:aws:iam::123456789012:user/moto"
        return {"EvaluationResults": [
            {"EvalActionName": action, "EvalDecision": "allowed" if "Describe" in action else "implicitDeny"}
            for action in kwargs["ActionNames"]], "IsTruncated": False}

    monkeypatch.setattr(dx, "probe", fake_probe)
    finding = dx.access_denied(target, ["dynamodb:DescribeTable", "dynamodb:CreateTable", "dynamodb:DeleteTable"])
    assert finding.status == "problem"
    assert "dynamodb:CreateTable, dynamodb:DeleteTable" in finding.finding
    assert "DescribeTable" not in finding.finding.split("not allowed:")[1]


def test_module_not_found(tmp_path):
    assert dx.module_not_found(tmp_path).status == "problem"
    modules = tmp_path / ".terraform" / "modules"
    modules.mkdir(parents=True)
    assert "modules are not installed" in dx.module_not_found(tmp_path).finding
    (modules / "modules.json").write_text(json.dumps({"Modules": [{"Key": "", "Source": "", "Dir": "."}]}))
    finding = dx.module_not_found(tmp_path)
    assert finding.status == "problem" and "init" in finding.fix
    (modules / "modules.json").write_text(json.dumps({"Modules": [
        {"Key": "", "Source": "", "Dir": "."},
        {"Key": "dynamodb", "Source": "./modules/dynamodb", "Dir": "modules/dynamodb"}]}))
    assert dx.module_not_found(tmp_path).status == "ok"


def test_high_costs_without_metric_data(target):
    create_table(target, STAGING)
    scans, ttl, billing = dx.high_costs(target, STAGING.name, STAGING)
    assert scans.status == "unavailable" and "no CloudWatch metric data" in scans.finding
    assert ttl.status == "ok"
    assert billing.status == "unavailable" and "no CloudWatch metric data" in billing.finding


def test_high_costs_ttl_wrong_attribute_and_off(target):
    create_table(target, STAGING)
    dynamodb = target.client("dynamodb")
    dynamodb.update_time_to_live(TableName=STAGING.name,
                                 TimeToLiveSpecification={"Enabled": True, "AttributeName": "expires_at"})
    ttl = dx.high_costs(target, STAGING.name, STAGING)[1]
    assert ttl.status == "problem" and "'expires_at'" in ttl.finding and "'ttl'" in ttl.finding
    dynamodb.update_time_to_live(TableName=STAGING.name,
                                 TimeToLiveSpecification={"Enabled": False, "AttributeName": "expires_at"})
    assert dx.high_costs(target, STAGING.name, STAGING)[1].status == "problem"
    no_ttl = STAGING.model_copy(update={"ttl_enabled": False})
    assert dx.high_costs(target, STAGING.name, no_ttl)[1].status == "warning"


def test_high_costs_scans_and_steady_on_demand(target):
    create_table(target, STAGING)
    _put_hourly(target, STAGING.name, "SuccessfulRequestLatency", [20.0] * 3, operation="Scan")
    _put_hourly(target, STAGING.name, "ReturnedItemCount", [1000.0] * 3, operation="Scan")
    # A week of steady writes: 100,000 write units an hour (~28 per second).
    _put_hourly(target, STAGING.name, "ConsumedWriteCapacityUnits", [100_000.0] * 168)
    _put_hourly(target, STAGING.name, "ConsumedReadCapacityUnits", [20_000.0] * 168)
    scans, _, billing = dx.high_costs(target, STAGING.name, STAGING)
    assert scans.status == "warning" and "Scan requests" in scans.finding and "Query" in scans.fix
    assert billing.status == "warning", billing
    assert "steady load" in billing.finding and "PROVISIONED" in billing.fix
    assert "$" not in billing.finding and "USD" in billing.finding  # no LaTeX in JupyterLab or on the site
    assert "no headroom" in billing.finding and "28 WCU" in billing.finding  # sized at the peak
    sized = dx.high_costs(target, STAGING.name, STAGING, target_utilization=70)[2]
    assert "at 70% utilisation" in sized.finding and "40 WCU" in sized.finding


def test_high_costs_bursty_load_stays_on_demand(target):
    create_table(target, STAGING)
    _put_hourly(target, STAGING.name, "ConsumedWriteCapacityUnits",
                [500_000.0 if hour % 24 == 0 else 100.0 for hour in range(168)])
    billing = dx.high_costs(target, STAGING.name, STAGING)[2]
    assert billing.status == "ok" and "varies" in billing.finding


def test_throttling_alarm_in_alarm(target):
    create_table(target, PRODUCTION)
    assert dx.throttling_alarms_in_alarm(target, PRODUCTION).status == "ok"
    target.client("cloudwatch").set_alarm_state(AlarmName=f"{PRODUCTION.name}-write-throttle-events",
                                                StateValue="ALARM", StateReason="Threshold crossed: 42 > 10")
    finding = dx.throttling_alarms_in_alarm(target, PRODUCTION)
    assert finding.status == "problem"
    assert f"{PRODUCTION.name}-write-throttle-events" in finding.finding and "42 > 10" in finding.finding
    assert "capacity" in finding.fix
    target.client("cloudwatch").delete_alarms(AlarmNames=[f"{PRODUCTION.name}-write-throttle-events"])
    assert dx.throttling_alarms_in_alarm(target, PRODUCTION).status == "warning"
    assert dx.throttling_alarms_in_alarm(target, STAGING).status == "ok"  # alarms off in staging


def test_pitr_and_deletion_protection_off_in_production(target):
    broken = PRODUCTION.model_copy(update={"pitr_enabled": False, "deletion_protection_enabled": False})
    create_table(target, broken)
    live = describe_table(target, PRODUCTION.name)
    assert dx.pitr_off_in_production(live, "production").status == "problem"
    assert dx.deletion_protection_off_in_production(live, "production").status == "problem"
    assert dx.pitr_off_in_production(live, "staging").status == "ok"
    assert dx.deletion_protection_off_in_production(live, "staging").status == "ok"
    assert dx.pitr_off_in_production(None, "production").status == "unavailable"
    dynamodb = target.client("dynamodb")
    dynamodb.update_continuous_backups(TableName=PRODUCTION.name, PointInTimeRecoverySpecification={
        "PointInTimeRecoveryEnabled": True})
    dynamodb.update_table(TableName=PRODUCTION.name, DeletionProtectionEnabled=True)
    live = describe_table(target, PRODUCTION.name)
    assert dx.pitr_off_in_production(live, "production").status == "ok"
    assert dx.deletion_protection_off_in_production(live, "production").status == "ok"


def test_table_to_diagnose_says_why_there_is_none(target, tmp_path):
    from runbook.context import open_context

    context = open_context("staging", "us-east-1", target.endpoint_url, str(tmp_path / "work"))
    if context.working.exists:
        pytest.skip(f"an operator's tfvars exists here: {context.tfvars}")
    table = dx.table_to_diagnose(context)
    assert table.spec is None and table.name is None
    assert "no state or saved plan" in table.source and "run 01-setup" in table.source
    finding = dx.unavailable("high costs", table)
    assert finding.status == "unavailable" and "02-plan-and-apply" in finding.fix
    assert dx.DiagnosedTable(STAGING, "x", {"dynamodb_autoscaling_target_utilization": 70}).target_utilization() == 70
    assert dx.DiagnosedTable(STAGING, "x", {}).target_utilization() is None
