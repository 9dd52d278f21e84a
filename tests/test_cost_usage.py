"""Usage profiles (the guide's assumptions as data), overrides, and the CloudWatch sync through runbook.aws.metrics,
the one metrics reader cost, diagnostics and operations share (on the embedded emulator)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from runbook import cost
from runbook.aws import metrics
from runbook.errors import ConfigurationError, ParameterError
from runbook.terraform.tfjson import PlanJson, table_spec

ROOT = Path(__file__).resolve().parent.parent
PLANS = ROOT / "tests" / "fixtures" / "terraform"
TABLE = "production-user-notifications"


def test_usage_profiles_are_the_guides_assumptions():
    staging = cost.load_usage("staging").profile
    assert (staging.users, staging.effective_writes_per_day, staging.reads_per_day) == (10_000, 500_000, 100_000)
    assert (staging.retention_days, staging.storage_gb, staging.days_per_month) == (90, 2, 30)
    production = cost.load_usage("production").profile
    assert (production.users, production.effective_writes_per_day, production.reads_per_day) == (
        1_000_000,
        50_000_000,
        10_000_000,
    )
    assert production.storage_gb == 50 and production.item_size_kb <= 1


@pytest.mark.parametrize(
    "line, key",
    [
        ("item_size_kb: -1", "item_size_kb"),
        ("read_consistency: maybe", "read_consistency"),
        ("colour: blue", "colour"),
        ("days_per_month: 90", "days_per_month"),
    ],
)
def test_bad_usage_profile_names_file_and_key(tmp_path, line, key):
    text = (ROOT / "infrastructure/staging/usage.yml").read_text()
    name = line.split(":")[0]
    lines = [ln for ln in text.splitlines() if not ln.startswith(f"{name}:")] + [line]
    path = tmp_path / "usage.yml"
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(ConfigurationError) as error:
        cost.load_usage("staging", path=path)
    assert str(path) in str(error.value) and key in str(error.value)
    assert error.value.line == len(lines)


def test_usage_overrides():
    scaled = cost.load_usage("staging", {"users": 100_000})
    assert scaled.profile.reads_per_day == 1_000_000 and scaled.profile.storage_gb == 20
    assert scaled.sources["users"] == {"source": "override"}
    assert scaled.sources["reads_per_day"]["source"] == "scaled"
    pinned = cost.load_usage("staging", {"users": 100_000, "reads_per_day": 5, "storage_gb": None})
    assert pinned.profile.reads_per_day == 5 and pinned.profile.storage_gb == 20
    with pytest.raises(ParameterError) as error:
        cost.load_usage("staging", {"colour": "blue"})
    assert error.value.parameter == "colour"
    with pytest.raises(ParameterError) as error:
        cost.load_usage("staging", {"item_size_kb": 0})
    assert error.value.parameter == "item_size_kb"
    with pytest.raises(ParameterError) as error:
        cost.load_usage("qa")
    assert error.value.parameter == "environment"


# -- CloudWatch usage sync ---------------------------------------------------------------------------------------
# ``target`` (tests/conftest.py): the session's embedded emulator, wiped before each test.
def put_daily(target, table: str, days: range, values: dict[str, float]) -> None:
    now = datetime.now(timezone.utc)
    data = [
        {
            "MetricName": metric,
            "Dimensions": [{"Name": "TableName", "Value": table}],
            "Timestamp": now - timedelta(days=day, hours=2),
            "Value": value,
            "Unit": "Count",
        }
        for day in days
        for metric, value in values.items()
    ]
    target.client("cloudwatch").put_metric_data(Namespace="AWS/DynamoDB", MetricData=data)


@pytest.mark.slow  # CloudWatch queries over 30 days on the emulator
def test_cloudwatch_sync_without_data(target):
    assert cost.usage_from_cloudwatch(target, "staging-user-notifications") is None
    measured, note = cost.sync_usage(target, "staging-user-notifications")
    assert measured is None and "emulator publishes no DynamoDB metrics" in note


@pytest.mark.slow  # CloudWatch queries over 30 days on the emulator
def test_cloudwatch_sync_with_data(target):
    target.client("dynamodb").create_table(
        TableName=TABLE,
        BillingMode="PAY_PER_REQUEST",
        KeySchema=[{"AttributeName": "user_id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "user_id", "AttributeType": "S"}],
    )
    put_daily(
        target, TABLE, range(1, 4), {"ConsumedWriteCapacityUnits": 3_000_000, "ConsumedReadCapacityUnits": 600_000}
    )
    measured = cost.usage_from_cloudwatch(target, TABLE, days=30)
    assert measured["write_units_per_day"] == pytest.approx(9_000_000 / 30)
    assert measured["read_units_per_day"] == pytest.approx(1_800_000 / 30)
    assert measured["days_with_data"] == 3
    spec = table_spec(PlanJson.from_file(PLANS / "cost-production-plan.json").planned_resources())
    report = cost.estimate("production", table=spec, measured=measured)
    assert report.usage["write_units_per_day"]["source"] == "cloudwatch"
    assert report.component("writes").quantity == 9  # 300,000 WRU a day x 30 days
    assert report.usage["storage_gb"]["source"] == "profile"  # an empty table has no size yet
    _, note = cost.sync_usage(target, TABLE)
    assert "write_units_per_day" in note and "from the usage profile: storage_gb" in note


def test_cloudwatch_sync_fails_gracefully(monkeypatch):
    from runbook.aws.target import Target

    measured, note = cost.sync_usage(Target.resolve("us-east-1", "http://127.0.0.1:9"), "t-1")
    assert measured is None and "Nothing answers at http://127.0.0.1:9" in note
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE", "AWS_ENDPOINT_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent")
    monkeypatch.setenv("AWS_CONFIG_FILE", "/nonexistent")
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    measured, note = cost.sync_usage(Target.resolve("us-east-1", ""), "t-1")
    assert measured is None and "No AWS credentials" in note


# -- runbook.aws.metrics: the readers diagnostics (04) and operations (06) use too ------------------------------------
def test_metrics_readers(target):
    now = datetime.now(timezone.utc)
    hourly = [
        {
            "MetricName": "ConsumedWriteCapacityUnits",
            "Dimensions": [{"Name": "TableName", "Value": TABLE}],
            "Timestamp": now - timedelta(hours=h, minutes=1),
            "Value": 3_600.0 * (h + 1),
            "Unit": "Count",
        }
        for h in range(5)
    ]
    scans = [
        {
            "MetricName": "SuccessfulRequestLatency",
            "Timestamp": now - timedelta(minutes=5),
            "Value": v,
            "Unit": "Milliseconds",
            "Dimensions": [{"Name": "TableName", "Value": TABLE}, {"Name": "Operation", "Value": "Scan"}],
        }
        for v in (2.0, 4.0)
    ]
    target.client("cloudwatch").put_metric_data(Namespace="AWS/DynamoDB", MetricData=hourly + scans)
    # diagnostics' shape: GetMetricStatistics-like datapoints, oldest first, one per hour
    points = metrics.datapoints(target, "ConsumedWriteCapacityUnits", {"TableName": TABLE}, "Sum", hours=24)
    assert [p["Sum"] for p in points] == [18_000.0, 14_400.0, 10_800.0, 7_200.0, 3_600.0]
    assert points == sorted(points, key=lambda p: p["Timestamp"])
    count = metrics.datapoints(
        target, "SuccessfulRequestLatency", {"TableName": TABLE, "Operation": "Scan"}, "SampleCount", hours=24
    )
    assert sum(p["SampleCount"] for p in count) == 2
    # operations' shape: one column per metric, labelled; a metric without data has no column
    wanted = [
        metrics.table_metric(TABLE, "ConsumedWriteCapacityUnits"),
        metrics.table_metric(TABLE, "SuccessfulRequestLatency", "Average", operation="Scan"),
        metrics.table_metric(TABLE, "ReadThrottleEvents"),
    ]
    frame = metrics.frame(target, wanted, hours=24, subject=TABLE)
    assert frame.attrs["reason"] == "" and frame.index.name == "timestamp"
    assert list(frame.columns) == ["ConsumedWriteCapacityUnits", "SuccessfulRequestLatency (Scan)"]
    assert frame["ConsumedWriteCapacityUnits"].sum() == 54_000.0
    assert frame["SuccessfulRequestLatency (Scan)"].dropna().tolist() == [3.0]
    # cost's shape: daily totals
    totals = metrics.daily_totals(target, TABLE, ["ConsumedWriteCapacityUnits", "ConsumedReadCapacityUnits"], 30)
    assert list(totals) == ["ConsumedWriteCapacityUnits"] and sum(totals["ConsumedWriteCapacityUnits"]) <= 54_000.0


def test_metrics_frame_without_data_or_endpoint(target):
    empty = metrics.frame(target, [metrics.table_metric(TABLE, "ReadThrottleEvents")], hours=3, subject=TABLE)
    assert empty.empty and list(empty.columns) == ["ReadThrottleEvents"]
    assert f"no CloudWatch data for {TABLE} in the last 3 h" in empty.attrs["reason"]
    from botocore.exceptions import ClientError

    class Denied:
        def client(self, service):
            return self

        def get_metric_data(self, **kwargs):
            raise ClientError({"Error": {"Code": "AccessDenied", "Message": "no"}}, "GetMetricData")

    down = metrics.frame(Denied(), [metrics.table_metric(TABLE, "ReadThrottleEvents")])  # type: ignore[arg-type]
    assert down.empty and down.attrs["reason"].startswith("CloudWatch metrics could not be read")
    assert "AccessDenied" in down.attrs["reason"]
    with pytest.raises(ValueError, match="unique"):
        metrics.read(
            target, [metrics.table_metric(TABLE, "X"), metrics.table_metric(TABLE, "X")], *metrics.window(1, 60), 60
        )
    start, end = metrics.window(2, 3600, now=datetime(2025, 1, 1, 10, 30, tzinfo=timezone.utc))
    assert (start.hour, start.minute, end.hour, end.minute) == (8, 30, 11, 0)  # the partial hour is included
    assert metrics.auto_period(3) == 60 and metrics.auto_period(24) == 300 and metrics.auto_period(168) == 3600
