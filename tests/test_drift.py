"""Drift: all ok after provisioning, drifted after out-of-band changes, unsupported settings said plainly."""

from __future__ import annotations

import json

from botocore.awsrequest import AWSResponse

from runbook.discovery import describe_tables, list_tables
from runbook.drift import DriftReport, compare, drift_report
from runbook.provision import provision
from runbook.spec import Alarms, Autoscaling, TableSpec

STAGING = TableSpec(name="staging-user-notifications", stream_enabled=True, stream_view_type="NEW_AND_OLD_IMAGES",
                    ttl_enabled=True, tags={"Project": "Twitter Backend", "Environment": "staging"})
PRODUCTION = TableSpec(name="production-user-notifications", environment="production", billing_mode="PROVISIONED",
                       read_capacity=5, write_capacity=5, autoscaling=Autoscaling(enabled=True),
                       pitr_enabled=True, ttl_enabled=True, encryption="AWS_MANAGED",
                       deletion_protection_enabled=True, alarms=Alarms(enabled=True),
                       tags={"Environment": "production"})


def test_missing_table():
    report = compare(STAGING, None)
    assert not report.ok
    assert report.status_of("existence") == "missing"


def test_all_ok_after_provision(target):
    for spec in (STAGING, PRODUCTION):
        provision(spec, target)
        report = drift_report(spec, target)
        assert report.ok, report.to_frame().to_string()
        assert report.drifted == []
        summary = report.summary()
        assert summary["drifted"] == summary["missing"] == 0 and summary["ok"] >= 15


def test_unsupported_rows_are_listed_not_ok(target):
    provision(STAGING, target)
    report = drift_report(STAGING, target)
    unsupported = {row.setting: row for row in report.unsupported}
    assert set(unsupported) == {"table_class", "contributor_insights"}
    assert unsupported["table_class"].live == "unknown"
    assert "HTTP 500" in unsupported["contributor_insights"].note
    assert report.ok  # unsupported rows do not make the report fail...
    assert report.summary()["unsupported"] == 2  # ...but are never counted as ok


def test_out_of_band_changes_drift(target):
    provision(STAGING, target)
    dynamodb = target.client("dynamodb")
    arn = dynamodb.describe_table(TableName=STAGING.name)["Table"]["TableArn"]
    dynamodb.update_continuous_backups(TableName=STAGING.name,
                                       PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True})
    dynamodb.update_time_to_live(TableName=STAGING.name,
                                 TimeToLiveSpecification={"Enabled": True, "AttributeName": "expires_at"})
    dynamodb.tag_resource(ResourceArn=arn, Tags=[{"Key": "Environment", "Value": "prod"}])
    dynamodb.untag_resource(ResourceArn=arn, TagKeys=["Project"])
    report = drift_report(STAGING, target)
    assert not report.ok
    assert report.status_of("pitr") == "drifted"
    assert report.row("pitr").desired == "disabled" and report.row("pitr").live == "enabled"
    assert report.status_of("ttl") == "ok"
    assert report.status_of("ttl_attribute") == "drifted"
    assert report.row("ttl_attribute").live == "expires_at"
    assert report.status_of("tag:Environment") == "drifted"
    assert report.status_of("tag:Project") == "missing"
    assert {row.setting for row in report.drifted} == {"pitr", "ttl_attribute", "tag:Environment", "tag:Project"}
    # Extra live tags are fine: the desired tags are a subset.
    dynamodb.tag_resource(ResourceArn=arn, Tags=[{"Key": "Owner", "Value": "someone"}])
    provision(STAGING, target)
    assert drift_report(STAGING, target).ok


def test_alarm_and_autoscaling_drift(target):
    provision(PRODUCTION, target)
    cloudwatch = target.client("cloudwatch")
    name = f"{PRODUCTION.name}-read-throttle-events"
    alarm = cloudwatch.describe_alarms(AlarmNames=[name])["MetricAlarms"][0]
    cloudwatch.put_metric_alarm(AlarmName=name, MetricName=alarm["MetricName"], Namespace=alarm["Namespace"],
                                Statistic="Sum", Period=300, EvaluationPeriods=2, Threshold=99,
                                ComparisonOperator="GreaterThanThreshold", Dimensions=alarm["Dimensions"])
    cloudwatch.delete_alarms(AlarmNames=[f"{PRODUCTION.name}-system-errors"])
    target.client("application-autoscaling").register_scalable_target(
        ServiceNamespace="dynamodb", ResourceId=f"table/{PRODUCTION.name}",
        ScalableDimension="dynamodb:table:WriteCapacityUnits", MinCapacity=1, MaxCapacity=10)
    report = drift_report(PRODUCTION, target)
    assert report.status_of(f"alarm:{name}") == "drifted"
    assert report.row(f"alarm:{name}").live == "ReadThrottleEvents > 99"
    assert report.status_of(f"alarm:{PRODUCTION.name}-system-errors") == "missing"
    assert report.status_of("autoscaling:table:write") == "drifted"
    assert report.status_of("autoscaling:table:read") == "ok"
    assert report.status_of("read_capacity") is None  # with autoscaling the capacity itself is not compared


def test_fixed_capacity_and_billing_drift(target):
    spec = TableSpec(name="fixed-notifications", billing_mode="PROVISIONED", read_capacity=5, write_capacity=5)
    provision(spec, target)
    target.client("dynamodb").update_table(TableName=spec.name, ProvisionedThroughput={
        "ReadCapacityUnits": 8, "WriteCapacityUnits": 5})
    report = drift_report(spec, target)
    assert report.status_of("read_capacity") == "drifted" and report.status_of("write_capacity") == "ok"
    on_demand = spec.model_copy(update={"billing_mode": "PAY_PER_REQUEST", "read_capacity": None,
                                        "write_capacity": None})
    assert drift_report(on_demand, target).status_of("billing_mode") == "drifted"


def test_report_serialises(target):
    provision(STAGING, target)
    report = drift_report(STAGING, target)
    data = json.loads(json.dumps(report.to_dict()))
    assert data["ok"] is True and data["table"] == STAGING.name
    assert data["summary"] == report.summary()
    frame = report.to_frame()
    assert list(frame.columns) == ["setting", "desired", "live", "status", "note"]
    assert len(frame) == len(report.rows)
    assert "ok" in str(report)
    assert isinstance(report, DriftReport)


def test_discovery_of_many_tables(target):
    specs = [TableSpec(name=f"bench-{i:03d}", tags={"n": str(i)}) for i in range(12)]
    for spec in specs:
        provision(spec, target)
    names = list_tables(target)
    assert names == [spec.name for spec in specs]
    tables = describe_tables(target, names + ["does-not-exist"], max_workers=4)
    assert tables["does-not-exist"] is None
    for spec in specs:
        assert compare(spec, tables[spec.name]).ok
        assert tables[spec.name].tags == {**spec.tags, "Name": spec.name}


def test_unreadable_settings_are_unsupported_not_ok(target):
    """A read the endpoint refuses (here: access denied to DescribeTimeToLive) is reported, never taken as ok."""
    provision(STAGING, target)

    def deny(request, **kwargs):
        body = json.dumps({"__type": "com.amazon.coral.service#AccessDeniedException",
                           "message": "not authorized to perform: dynamodb:DescribeTimeToLive"}).encode()
        return AWSResponse(request.url, 400, {"Content-Type": "application/x-amz-json-1.0"}, _Body(body))

    events = target.client("dynamodb").meta.events
    events.register("before-send.dynamodb.DescribeTimeToLive", deny)
    try:
        report = drift_report(STAGING, target)
    finally:
        events.unregister("before-send.dynamodb.DescribeTimeToLive", deny)
    row = report.row("ttl")
    assert row.status == "unsupported" and row.live == "unknown"
    assert "AccessDeniedException" in row.note
    assert report.status_of("ttl_attribute") is None


class _Body:
    def __init__(self, data: bytes):
        self._data = data

    def stream(self, **kwargs):
        yield self._data
