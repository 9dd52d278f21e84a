"""Test tables on the emulator for the operations and diagnostics tests.

The :class:`TableSpec` values here are test data written out by hand (in the runbooks they come from Terraform's
plan or state, :func:`runbook.terraform.tfjson.table_spec`); :func:`create_table` makes a matching table on the
emulator with
boto3 so each test starts from a known live state without a Terraform apply.
"""

from __future__ import annotations

from runbook.aws.target import Target
from runbook.spec import Alarm, TableSpec

KEYS = {"hash_key": "user_id", "range_key": "notification_id"}


def alarms(table: str) -> tuple[Alarm, ...]:
    rows = (
        ("read-throttle-events", "ReadThrottleEvents", 10),
        ("write-throttle-events", "WriteThrottleEvents", 10),
        ("user-errors", "UserErrors", 50),
        ("system-errors", "SystemErrors", 5),
    )
    return tuple(
        Alarm(
            address=f'module.dynamodb.aws_cloudwatch_metric_alarm.this["{suffix}"]',
            name=f"{table}-{suffix}",
            metrics=(metric,),
            threshold=threshold,
            comparison_operator="GreaterThanThreshold",
            period=300,
            evaluation_periods=2,
            statistic="Sum",
            dimensions={"TableName": table},
        )
        for suffix, metric, threshold in rows
    )


STAGING = TableSpec(
    name="staging-user-notifications",
    environment="staging",
    billing_mode="PAY_PER_REQUEST",
    **KEYS,
    stream_enabled=True,
    stream_view_type="NEW_AND_OLD_IMAGES",
    ttl_enabled=True,
    ttl_attribute_name="ttl",
    tags={"Environment": "staging"},
)
PRODUCTION = TableSpec(
    name="production-user-notifications",
    environment="production",
    billing_mode="PAY_PER_REQUEST",
    **KEYS,
    pitr_enabled=True,
    ttl_enabled=True,
    ttl_attribute_name="ttl",
    deletion_protection_enabled=True,
    alarms=alarms("production-user-notifications"),
)


def create_table(target: Target, spec: TableSpec) -> None:
    """The table ``spec`` describes, on the emulator: keys, billing, stream, TTL, PITR, deletion protection and
    its alarms (one metric each)."""
    assert target.is_emulator
    dynamodb = target.client("dynamodb")
    keys = [(spec.hash_key, "HASH")] + ([(spec.range_key, "RANGE")] if spec.range_key else [])
    arguments = {
        "TableName": spec.name,
        "BillingMode": spec.billing_mode,
        "KeySchema": [{"AttributeName": name, "KeyType": kind} for name, kind in keys],
        "AttributeDefinitions": [{"AttributeName": name, "AttributeType": "S"} for name, _ in keys],
        "DeletionProtectionEnabled": spec.deletion_protection_enabled,
    }
    if spec.provisioned:
        arguments["ProvisionedThroughput"] = {
            "ReadCapacityUnits": spec.read_capacity or 5,
            "WriteCapacityUnits": spec.write_capacity or 5,
        }
    if spec.stream_enabled:
        arguments["StreamSpecification"] = {"StreamEnabled": True, "StreamViewType": spec.stream_view_type}
    if spec.tags:
        arguments["Tags"] = [{"Key": k, "Value": v} for k, v in spec.tags.items()]
    dynamodb.create_table(**arguments)
    if spec.ttl_enabled:
        dynamodb.update_time_to_live(
            TableName=spec.name, TimeToLiveSpecification={"Enabled": True, "AttributeName": spec.ttl_attribute_name}
        )
    if spec.pitr_enabled:
        dynamodb.update_continuous_backups(
            TableName=spec.name, PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True}
        )
    cloudwatch = target.client("cloudwatch")
    for alarm in spec.alarms:
        cloudwatch.put_metric_alarm(
            AlarmName=alarm.name,
            Namespace="AWS/DynamoDB",
            MetricName=alarm.metrics[0],
            Dimensions=[{"Name": k, "Value": v} for k, v in alarm.dimensions.items()],
            Statistic=alarm.statistic,
            Period=alarm.period,
            EvaluationPeriods=alarm.evaluation_periods,
            Threshold=alarm.threshold,
            ComparisonOperator=alarm.comparison_operator,
        )
