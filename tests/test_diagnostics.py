"""Diagnostics on the emulator: each check's status in a prepared broken (and healthy) setup."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import pytest
from tables import PRODUCTION, STAGING, create_table

from runbook.aws.discovery import describe_table
from runbook.steps import diagnostics as dx
from runbook.steps import highcosts, safeguards


def _put_hourly(
    target, table: str, metric: str, values: list[float], operation: str | None = None, statistic_values: bool = False
) -> None:
    now = datetime.now(timezone.utc).replace(minute=0, second=0, microsecond=0)
    dimensions = [{"Name": "TableName", "Value": table}]
    if operation:
        dimensions.append({"Name": "Operation", "Value": operation})
    data = [
        {
            "MetricName": metric,
            "Dimensions": dimensions,
            "Value": value,
            "Timestamp": now - timedelta(hours=hours_ago, minutes=-30),
        }
        for hours_ago, value in enumerate(values)
    ]
    cloudwatch = target.client("cloudwatch")
    for i in range(0, len(data), 500):
        cloudwatch.put_metric_data(Namespace="AWS/DynamoDB", MetricData=data[i : i + 500])


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
        return {
            "EvaluationResults": [
                {"EvalActionName": action, "EvalDecision": "allowed" if "Describe" in action else "implicitDeny"}
                for action in kwargs["ActionNames"]
            ],
            "IsTruncated": False,
        }

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
    (modules / "modules.json").write_text(
        json.dumps(
            {
                "Modules": [
                    {"Key": "", "Source": "", "Dir": "."},
                    {"Key": "dynamodb", "Source": "./modules/dynamodb", "Dir": "modules/dynamodb"},
                ]
            }
        )
    )
    assert dx.module_not_found(tmp_path).status == "ok"


def test_high_costs_without_metric_data(target):
    create_table(target, STAGING)
    scans, ttl, hot_keys, billing = highcosts.high_costs(target, STAGING.name, STAGING)
    assert scans.status == "unavailable" and "no CloudWatch metric data" in scans.finding
    assert ttl.status == "ok" and "the table is empty" in ttl.finding  # it read the items: there are none
    assert hot_keys.status == "ok" and "the table is empty" in hot_keys.finding
    assert billing.status == "unavailable" and "no CloudWatch metric data" in billing.finding


def test_high_costs_ttl_wrong_attribute_and_off(target):
    create_table(target, STAGING)
    dynamodb = target.client("dynamodb")
    dynamodb.update_time_to_live(
        TableName=STAGING.name, TimeToLiveSpecification={"Enabled": True, "AttributeName": "expires_at"}
    )
    ttl = highcosts.high_costs(target, STAGING.name, STAGING)[1]
    assert ttl.status == "problem" and "'expires_at'" in ttl.finding and "'ttl'" in ttl.finding
    dynamodb.update_time_to_live(
        TableName=STAGING.name, TimeToLiveSpecification={"Enabled": False, "AttributeName": "expires_at"}
    )
    assert highcosts.high_costs(target, STAGING.name, STAGING)[1].status == "problem"
    no_ttl = STAGING.model_copy(update={"ttl_enabled": False})
    assert highcosts.high_costs(target, STAGING.name, no_ttl)[1].status == "warning"


def test_high_costs_scans_and_steady_on_demand(target):
    create_table(target, STAGING)
    _put_hourly(target, STAGING.name, "SuccessfulRequestLatency", [20.0] * 3, operation="Scan")
    _put_hourly(target, STAGING.name, "ReturnedItemCount", [1000.0] * 3, operation="Scan")
    # A week of steady writes: 100,000 write units an hour (~28 per second).
    _put_hourly(target, STAGING.name, "ConsumedWriteCapacityUnits", [100_000.0] * 168)
    _put_hourly(target, STAGING.name, "ConsumedReadCapacityUnits", [20_000.0] * 168)
    scans, _, _, billing = highcosts.high_costs(target, STAGING.name, STAGING)
    assert scans.status == "warning" and "Scan requests" in scans.finding and "Query" in scans.fix
    assert billing.status == "warning", billing
    assert "steady load" in billing.finding and "PROVISIONED" in billing.fix
    assert "$" not in billing.finding and "USD" in billing.finding  # no LaTeX in JupyterLab or on the site
    assert "no headroom" in billing.finding and "28 WCU" in billing.finding  # sized at the peak
    sized = highcosts.high_costs(target, STAGING.name, STAGING, target_utilization=70)[3]
    assert "at 70% utilisation" in sized.finding and "40 WCU" in sized.finding


def test_high_costs_bursty_load_stays_on_demand(target):
    create_table(target, STAGING)
    _put_hourly(
        target,
        STAGING.name,
        "ConsumedWriteCapacityUnits",
        [500_000.0 if hour % 24 == 0 else 100.0 for hour in range(168)],
    )
    billing = highcosts.high_costs(target, STAGING.name, STAGING)[3]
    assert billing.status == "ok" and "varies" in billing.finding


def _put_items(target, spec, count: int, user: str, ttl: int | None) -> None:
    items = [
        {
            "user_id": {"S": user},
            "notification_id": {"S": f"{user}-{i:05d}"},
            **({"ttl": {"N": str(ttl)}} if ttl is not None else {}),
        }
        for i in range(count)
    ]
    client = target.client("dynamodb")
    for i in range(0, len(items), 25):
        client.batch_write_item(
            RequestItems={spec.name: [{"PutRequest": {"Item": item}} for item in items[i : i + 25]]}
        )


def test_ttl_and_hot_keys_on_the_evidence_of_the_items(target):
    """The issue's scenario: 600 items whose TTL expired 10 days ago, 500 of them on one partition key. TTL is not
    ok (expired items still present) and the hot key is found, from a bounded sample said to be one."""
    create_table(target, STAGING)
    ten_days_ago = int(datetime.now(timezone.utc).timestamp()) - 10 * 86400
    _put_items(target, STAGING, 500, "hot-user", ten_days_ago)
    for n in range(4):
        _put_items(target, STAGING, 25, f"user-{n}", ten_days_ago)
    scans, ttl, hot_keys, billing = highcosts.high_costs(target, STAGING.name, STAGING)
    assert ttl.status == "problem", ttl
    assert "600 items expired more than 48 h ago are still in the table (the oldest 10 days ago)" in ttl.finding
    assert "all 600 items" in ttl.finding and "an emulator never deletes expired items" in ttl.finding
    assert hot_keys.status == "warning", hot_keys
    assert "user_id 'hot-user' holds 500 of 600 items read (83%)" in hot_keys.finding
    assert "Contributor Insights is off" in hot_keys.finding and "not traffic" in hot_keys.finding
    # The same verdict as 06 shows (one check): and on a bounded sample, the finding says it is a sample.
    assert highcosts.ttl_finding(target, STAGING) == ttl
    sample = highcosts.sample_items(target, STAGING, limit=100)
    assert len(sample.items) == 100 and not sample.complete
    sampled = highcosts.ttl_finding(target, STAGING, sample=sample)
    assert sampled.status == "problem" and "a sample of 100 items" in sampled.finding and "has more" in sampled.finding


def test_ttl_ok_only_when_the_items_say_so(target):
    create_table(target, STAGING)
    now = int(datetime.now(timezone.utc).timestamp())
    _put_items(target, STAGING, 30, "fresh", now + 90 * 86400)
    _put_items(target, STAGING, 5, "just-expired", now - 3600)  # within the grace: awaiting deletion
    ttl = highcosts.ttl_finding(target, STAGING)
    assert ttl.status == "ok" and "5 expired within 48 h, awaiting deletion" in ttl.finding and "all 35" in ttl.finding
    _put_items(target, STAGING, 3, "no-ttl", None)
    missing = highcosts.ttl_finding(target, STAGING)
    assert missing.status == "warning" and "3 carry no 'ttl'" in missing.finding
    hot = highcosts.hot_key_finding(target, STAGING)
    assert hot.status == "ok" and "holds 30 of 38 items read" in hot.finding  # too few items to be a hot partition


def test_unreadable_items_are_unavailable_never_ok(target, monkeypatch):
    create_table(target, STAGING)
    unreadable = highcosts.ItemSample(STAGING.name, "user_id", "ttl", (), False, "could not read items: AccessDenied")
    ttl = highcosts.ttl_finding(target, STAGING, sample=unreadable)
    hot = highcosts.hot_key_finding(target, STAGING, sample=unreadable)
    assert (ttl.status, hot.status) == ("unavailable", "unavailable")
    assert "AccessDenied" in ttl.finding and "AccessDenied" in hot.finding


def test_hot_keys_from_contributor_insights_where_the_table_has_it(target, monkeypatch):
    """With Contributor Insights on (real AWS), the most accessed keys come from its rule report; where it cannot
    be read (the emulator answers HTTP 500), the finding says so and falls back to the sample."""
    create_table(target, STAGING)
    spec = STAGING.model_copy(update={"contributor_insights_enabled": True})
    fallback = highcosts.hot_key_finding(target, spec)
    assert fallback.status == "ok" and "Contributor Insights could not be read" in fallback.finding

    def fake_probe(target_, service, operation, **kwargs):
        if operation == "describe_contributor_insights":
            return {
                "ContributorInsightsStatus": "ENABLED",
                "ContributorInsightsRuleList": [
                    f"DynamoDBContributorInsights-PKC-{STAGING.name}-1",
                    f"DynamoDBContributorInsights-PKT-{STAGING.name}-1",
                ],
            }
        assert (service, operation) == ("cloudwatch", "get_insight_rule_report") and "-PKC-" in kwargs["RuleName"]
        return {
            "AggregateValue": 1000.0,
            "Contributors": [
                {"Keys": ["celebrity"], "ApproximateAggregateValue": 700.0},
                {"Keys": ["someone"], "ApproximateAggregateValue": 50.0},
            ],
        }

    monkeypatch.setattr(highcosts, "probe", fake_probe)
    found = highcosts.hot_key_finding(target, spec)
    assert found.status == "warning" and "'celebrity' took 70% of the 1,000 accesses" in found.finding


def test_throttling_alarm_in_alarm(target):
    create_table(target, PRODUCTION)
    assert safeguards.throttling_alarms_in_alarm(target, PRODUCTION).status == "ok"
    target.client("cloudwatch").set_alarm_state(
        AlarmName=f"{PRODUCTION.name}-write-throttle-events",
        StateValue="ALARM",
        StateReason="Threshold crossed: 42 > 10",
    )
    finding = safeguards.throttling_alarms_in_alarm(target, PRODUCTION)
    assert finding.status == "problem"
    assert f"{PRODUCTION.name}-write-throttle-events" in finding.finding and "42 > 10" in finding.finding
    assert "capacity" in finding.fix
    target.client("cloudwatch").delete_alarms(AlarmNames=[f"{PRODUCTION.name}-write-throttle-events"])
    assert safeguards.throttling_alarms_in_alarm(target, PRODUCTION).status == "warning"
    assert safeguards.throttling_alarms_in_alarm(target, STAGING).status == "ok"  # alarms off in staging


def test_pitr_and_deletion_protection_off_in_production(target):
    broken = PRODUCTION.model_copy(update={"pitr_enabled": False, "deletion_protection_enabled": False})
    create_table(target, broken)
    live = describe_table(target, PRODUCTION.name)
    assert safeguards.pitr_off_in_production(live, "production").status == "problem"
    assert safeguards.deletion_protection_off_in_production(live, "production").status == "problem"
    assert safeguards.pitr_off_in_production(live, "staging").status == "ok"
    assert safeguards.deletion_protection_off_in_production(live, "staging").status == "ok"
    assert safeguards.pitr_off_in_production(None, "production").status == "unavailable"
    dynamodb = target.client("dynamodb")
    dynamodb.update_continuous_backups(
        TableName=PRODUCTION.name, PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True}
    )
    dynamodb.update_table(TableName=PRODUCTION.name, DeletionProtectionEnabled=True)
    live = describe_table(target, PRODUCTION.name)
    assert safeguards.pitr_off_in_production(live, "production").status == "ok"
    assert safeguards.deletion_protection_off_in_production(live, "production").status == "ok"


def test_table_to_diagnose_says_why_there_is_none(target, tmp_path):
    from runbook.steps.context import open_context

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
