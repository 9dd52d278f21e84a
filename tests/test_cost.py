"""The cost engine: the guide's figures to the cent, hand-computed cases, the CLI's shape, CloudWatch sync, notebook."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path

import pytest
import yaml

from runbook import cost
from runbook.errors import ConfigurationError, ParameterError
from runbook.spec import Alarms, Autoscaling, GlobalSecondaryIndex, TableSpec

D = Decimal
ROOT = Path(__file__).resolve().parent.parent


# -- fixtures: the two environments as configured (PAY_PER_REQUEST, streams on; production PITR + alarms) ---------
def staging_spec(**changes) -> TableSpec:
    base = dict(name="staging-user-notifications", environment="staging", billing_mode="PAY_PER_REQUEST",
                stream_enabled=True, stream_view_type="NEW_AND_OLD_IMAGES", ttl_enabled=True,
                pitr_enabled=False, alarms=Alarms(enabled=False))
    return TableSpec(**{**base, **changes})


def production_spec(**changes) -> TableSpec:
    base = dict(name="production-user-notifications", environment="production", billing_mode="PAY_PER_REQUEST",
                stream_enabled=True, stream_view_type="NEW_AND_OLD_IMAGES", ttl_enabled=True,
                pitr_enabled=True, deletion_protection_enabled=True, alarms=Alarms(enabled=True))
    return TableSpec(**{**base, **changes})


SPECS = {"staging": staging_spec, "production": production_spec}


@pytest.fixture
def configured(monkeypatch):
    """Stand in for runbook.tfconfig: load_table returns the fixtures above."""
    monkeypatch.setattr(cost, "load_table", lambda environment: SPECS[environment]())


def monthly(report: cost.CostReport) -> dict[str, Decimal]:
    return {c.name: c.monthly_usd for c in report.components}


# -- the guide's figures ---------------------------------------------------------------------------------------
def test_staging_legacy_reproduces_the_guide_to_the_cent():
    report = cost.estimate("staging", "us-east-1-legacy", table=staging_spec())
    assert [c.name for c in report.components][:3] == ["writes", "reads", "storage"]
    assert monthly(report)["writes"] == D("18.75")
    assert monthly(report)["reads"] == D("0.75")
    assert monthly(report)["storage"] == D("0.50")
    assert report.total_monthly_usd == D("20.00")
    # the seed's quantities: 15M writes, 3M reads, 2 GB
    assert report.component("writes").quantity == 15 and report.component("reads").quantity == 3
    # staging has neither PITR nor alarms; streams are read by Lambda for free
    assert report.component("pitr") is None and report.component("alarms") is None
    assert report.monthly("streams") == D("0.00")


def test_production_legacy_reproduces_the_guide_plus_pitr_and_alarms():
    report = cost.estimate("production", "us-east-1-legacy", table=production_spec())
    m = monthly(report)
    assert (m["writes"], m["reads"], m["storage"]) == (D("1875.00"), D("75.00"), D("12.50"))
    assert m["writes"] + m["reads"] + m["storage"] == D("1962.50")  # the guide's total
    assert m["pitr"] == D("10.00")  # 50 GB x $0.20
    assert report.component("alarms").quantity == 4 and m["alarms"] == D("0.40")  # 4 alarms in on-demand mode
    assert report.total_monthly_usd == D("1972.90")


def test_current_prices_halve_the_throughput():
    staging = cost.estimate("staging", "us-east-1", table=staging_spec())
    assert monthly(staging)["writes"] == D("9.38")  # 15 x 0.625 = 9.375, half up
    assert monthly(staging)["reads"] == D("0.38")
    assert staging.total_monthly_usd == D("10.26")
    production = cost.estimate("production", table=production_spec())
    assert monthly(production)["writes"] == D("937.50") and monthly(production)["reads"] == D("37.50")
    assert production.total_monthly_usd == D("997.90")


def test_seed_comparison_rows():
    rows = cost.seed_comparison("production", table=production_spec())
    by = {r["component"]: r for r in rows}
    assert by["writes"] == {"component": "writes", "guide_usd": 1875.0, "legacy_usd": 1875.0, "current_usd": 937.5}
    assert by["total (guide's scope)"]["legacy_usd"] == 1962.5
    assert by["total (all components)"]["legacy_usd"] == 1972.9


# -- the JSON shape ------------------------------------------------------------------------------------------
def test_json_shape_is_exactly_the_design():
    data = json.loads(cost.estimate("production", table=production_spec()).to_json())
    assert list(data) == ["environment", "pricing", "usage", "components", "total_monthly_usd"]
    assert data["environment"] == "production"
    assert set(data["pricing"]) == {"name", "source", "effective_date"}
    assert data["pricing"]["name"] == "us-east-1" and data["pricing"]["effective_date"] == "2024-11-01"
    assert all(url.startswith("https://") for url in data["pricing"]["source"])
    names = [c["name"] for c in data["components"]]
    assert names[:3] == ["writes", "reads", "storage"]
    assert names == ["writes", "reads", "storage", "pitr", "streams", "alarms"]
    for component in data["components"]:
        assert list(component) == ["name", "quantity", "unit", "unit_price_usd", "monthly_usd"]
    total = sum(D(str(c["monthly_usd"])) for c in data["components"])
    assert D(str(data["total_monthly_usd"])) == total
    # every input used says where it came from
    assert data["usage"]["users"] == {"value": 1000000, "source": "profile", "ref": "infrastructure/production/usage.yml"}
    assert data["usage"]["writes_per_day"]["source"] == "derived"
    assert data["usage"]["pitr_enabled"] == {"value": True, "source": "configuration"}
    assert data["usage"]["alarms"]["value"] == 4
    assert all("source" in entry and "value" in entry for entry in data["usage"].values())


# -- hand-computed cases -------------------------------------------------------------------------------------
def test_item_size_rounding_and_consistency():
    usage = {"item_size_kb": 1.5}  # 2 write units per write; 1 read unit (<= 4 KB)
    r = cost.estimate("staging", "us-east-1-legacy", usage=usage, table=staging_spec())
    assert r.component("writes").quantity == 30 and r.monthly("writes") == D("37.50")
    assert r.component("reads").quantity == 3
    r = cost.estimate("staging", "us-east-1-legacy", usage={"item_size_kb": 4.5}, table=staging_spec())
    assert r.component("writes").quantity == 75  # 5 KB -> 5 units
    assert r.component("reads").quantity == 6  # 8 KB -> 2 units, strongly consistent
    r = cost.estimate("staging", "us-east-1-legacy", usage={"item_size_kb": 4.5, "read_consistency": "eventual"},
                      table=staging_spec())
    assert r.component("reads").quantity == 3  # eventually consistent halves
    r = cost.estimate("staging", "us-east-1-legacy", usage={"item_size_kb": 0.2}, table=staging_spec())
    assert r.component("writes").quantity == 15  # rounded up to 1 KB


def test_transactions_double():
    usage = {"transactional_write_fraction": 1.0, "transactional_read_fraction": 0.5, "read_consistency": "eventual"}
    r = cost.estimate("staging", "us-east-1-legacy", usage=usage, table=staging_spec())
    assert r.component("writes").quantity == 30 and r.monthly("writes") == D("37.50")
    # half eventually consistent (0.5 unit), half transactional (2 units): 1.25 units per read
    assert r.component("reads").quantity == D("3.75")


def test_provisioned_with_fixed_capacity():
    spec = staging_spec(billing_mode="PROVISIONED", write_capacity=100, read_capacity=50,
                        alarms=Alarms(enabled=True))
    r = cost.estimate("staging", "us-east-1", table=spec)
    assert r.component("writes").unit == "WCU-hours" and r.component("writes").quantity == 72_000  # 100 x 720 h
    assert r.monthly("writes") == D("46.80")  # 72,000 x $0.00065
    assert r.monthly("reads") == D("4.68")  # 36,000 x $0.00013
    assert r.component("alarms").quantity == 6 and r.monthly("alarms") == D("0.60")  # + 2 capacity alarms
    free = cost.estimate("staging", "us-east-1", free_tier=True, table=spec)
    assert free.monthly("writes") == D("35.10")  # (100 - 25) x 720 x 0.00065
    assert free.monthly("reads") == D("2.34")  # (50 - 25) x 720 x 0.00013
    assert free.monthly("storage") == D("0.00")  # 2 GB under the 25 GB free tier
    assert free.monthly("alarms") == D("0.00")  # 10 free alarm metrics


def test_provisioned_with_autoscaling_uses_the_load_within_bounds():
    spec = staging_spec(billing_mode="PROVISIONED", write_capacity=5, read_capacity=5,
                        autoscaling=Autoscaling(enabled=True, write_min=5, write_max=100, read_min=5, read_max=100,
                                                target_utilization=70))
    r = cost.estimate("staging", table=spec)
    # 500,000 writes a day = 5.79/s; / 0.7 = 8.27 -> 9 WCU; reads 1.16/s / 0.7 -> 2, raised to the minimum 5
    assert r.usage["provisioned_wcu"]["value"] == 9 and r.usage["provisioned_rcu"]["value"] == 5
    assert r.monthly("writes") == D("4.21")  # 9 x 720 x 0.00065 = 4.212
    capped = cost.estimate("production", table=spec)
    assert capped.usage["provisioned_wcu"]["value"] == 100  # capped at write_max


def test_gsi_writes_and_storage():
    spec = staging_spec(global_secondary_indexes=(GlobalSecondaryIndex(name="by-status", hash_key="status"),),
                        attributes=())
    r = cost.estimate("staging", "us-east-1-legacy", usage={"gsi_write_fraction": 0.5, "gsi_item_size_kb": 0.5},
                      table=spec)
    names = [c.name for c in r.components]
    assert names[:5] == ["writes", "reads", "storage", "gsi_writes", "gsi_storage"]
    assert r.component("gsi_writes").quantity == D("7.5")  # 15M writes x 0.5 x 1 unit
    assert r.monthly("gsi_writes") == D("9.38")
    assert r.component("gsi_storage").quantity == D("0.5")  # 2 GB x 0.5 x (0.5 / 1)
    assert r.monthly("gsi_storage") == D("0.13")
    assert r.usage["gsi_count"] == {"value": 1, "source": "configuration", "ref": "global_secondary_indexes"}
    two = cost.estimate("staging", "us-east-1-legacy", usage={"gsi_count": 2}, table=staging_spec())
    assert two.component("gsi_writes").quantity == 30 and two.usage["gsi_count"]["source"] == "override"


def test_standard_infrequent_access():
    classes = cost.compare_table_classes("production", "us-east-1", table=production_spec())
    standard, ia = classes["STANDARD"], classes["STANDARD_INFREQUENT_ACCESS"]
    assert standard.monthly("storage") == D("12.50") and ia.monthly("storage") == D("5.00")  # 50 GB x 0.10
    assert ia.monthly("writes") == D("1171.88")  # 1,500 x 0.78125 = 1171.875
    assert ia.monthly("pitr") == standard.monthly("pitr")  # PITR is not class-priced
    assert ia.total_monthly_usd > standard.total_monthly_usd  # throughput dominates this table


def test_pitr_backups_restores_streams_contributor_insights():
    spec = production_spec(contributor_insights_enabled=True)
    usage = {"on_demand_backup_gb": 100, "restore_gb_per_month": 50, "stream_consumers": 2}
    r = cost.estimate("production", "us-east-1", usage=usage, table=spec)
    assert [c.name for c in r.components] == ["writes", "reads", "storage", "pitr", "backups", "restores",
                                              "streams", "alarms", "contributor_insights",
                                              "contributor_insights_events"]
    assert r.monthly("pitr") == D("10.00")
    assert r.monthly("backups") == D("10.00")  # 100 GB x 0.10
    assert r.monthly("restores") == D("7.50")  # 50 GB x 0.15
    assert r.component("streams").quantity == D("51.84")  # 2 x 86,400 x 30 / 100K
    assert r.monthly("streams") == D("1.04")
    assert r.component("contributor_insights").quantity == 4  # sort key: 4 rules
    assert r.monthly("contributor_insights") == D("2.00")
    assert r.monthly("contributor_insights_events") == D("54.00")  # (1,500M + 300M) x 0.03 / M
    free = cost.estimate("production", "us-east-1", usage=usage, table=spec, free_tier=True)
    assert free.monthly("streams") == D("0.54")  # 2,684,000 billable after 2.5M free
    assert free.monthly("storage") == D("6.25")  # 25 of 50 GB free
    assert free.monthly("contributor_insights") == D("1.50")


def test_dashboard_when_configured():
    r = cost.estimate("staging", table=staging_spec(dashboard_enabled=True))
    assert r.component("dashboard").quantity == 1 and r.monthly("dashboard") == D("3.00")
    assert r.usage["dashboard_enabled"] == {"value": True, "source": "configuration"}
    free = cost.estimate("staging", table=staging_spec(dashboard_enabled=True), free_tier=True)
    assert free.monthly("dashboard") == D("0.00")  # 3 dashboards free per account
    assert cost.estimate("staging", table=staging_spec()).component("dashboard") is None


def test_break_even_is_computed_from_prices():
    current = cost.load_pricing("us-east-1").break_even_utilization()
    assert round(current["writes"], 4) == D("0.2889") and round(current["reads"], 4) == D("0.2889")
    legacy = cost.load_pricing("us-east-1-legacy").break_even_utilization()
    assert round(legacy["writes"], 4) == D("0.1444")


def test_compare_billing_modes_production():
    c = cost.compare_billing_modes("production", "us-east-1", table=production_spec())
    # 50M WRU/day = 578.7/s -> / 0.7 -> 827 WCU; 10M RRU/day = 115.7/s -> 166 RCU; 720 hours
    assert (c.wcu, c.rcu, c.hours_per_month) == (827, 166, 720)
    assert c.provisioned_monthly_usd == D("402.57")  # (827 x 0.00065 + 166 x 0.00013) x 720
    assert c.on_demand_monthly_usd == D("975.00")
    assert c.cheaper == "PROVISIONED" and c.saving_usd == D("572.43")
    assert round(c.break_even_utilization, 3) == D("0.289")
    # below break-even utilisation provisioned costs more
    assert c.provisioned_at(0.2) > c.on_demand_monthly_usd > c.provisioned_at(0.35)
    with pytest.raises(ParameterError, match="target_utilization"):
        cost.compare_billing_modes("production", table=production_spec(), target_utilization=1.5)


def test_high_costs_savings_in_dollars():
    savings = cost.high_costs_savings("production", table=production_spec())
    by = {s.advice.split(" (")[0]: s for s in savings}
    scan = by["Check for scan operations"]
    # 50 GB = 13,107,200 4-KB units x 0.5 per scan; 24 a day x 30 days x $0.125/M
    assert scan.before_usd == D("589.82")
    ttl = by["Verify TTL is deleting old items"]
    assert (ttl.before_usd, ttl.after_usd) == (D("90.00"), D("22.50"))  # 200 GB vs 50 GB at $0.25 + $0.20 PITR
    assert by["Review CloudWatch metrics for hot keys"].saved_usd == D("-56.00")  # a cost
    assert by["Consider switching to provisioned mode"].saved_usd == D("572.43")


def test_cost_by_users_grows():
    rows = cost.cost_by_users("staging", [10_000, 100_000, 1_000_000], table=staging_spec())
    totals = [r["total_monthly_usd"] for r in rows]
    assert totals[0] == 10.26 and totals == sorted(totals)
    assert rows[2]["on_demand_throughput_usd"] == 975.0  # 1M users: the production load


# -- prices and profiles as data -----------------------------------------------------------------------------
@pytest.mark.parametrize("name", ["us-east-1", "us-east-1-legacy"])
def test_price_sets_have_sources_and_dates(name):
    pricing = cost.load_pricing(name)
    assert pricing.name == name and pricing.source and all(u.startswith("https://") for u in pricing.source)
    assert pricing.effective_date.year >= 2018 and pricing.verification
    standard = pricing.for_class("STANDARD")
    assert standard.storage_gb_month == D("0.25") and standard.wcu_hour == D("0.00065")
    assert pricing.pitr_gb_month == D("0.20") and pricing.alarm_month == D("0.10")


def test_known_and_unknown_pricing():
    assert cost.known_pricing() == ["us-east-1", "us-east-1-legacy"]
    with pytest.raises(ParameterError) as error:
        cost.load_pricing("eu-west-9")
    assert error.value.parameter == "pricing"
    assert "us-east-1" in str(error.value) and "us-east-1-legacy" in str(error.value)


def test_pricing_from_a_file(tmp_path):
    data = yaml.safe_load((cost.PRICING_DIR / "us-east-1.yaml").read_text())
    data["name"] = "negotiated"
    data["table_classes"]["STANDARD"]["write_request_units_per_million"] = 0.5
    path = tmp_path / "negotiated.yaml"
    path.write_text(yaml.safe_dump(data))
    report = cost.estimate("staging", str(path), table=staging_spec())
    assert report.pricing.name == "negotiated" and report.monthly("writes") == D("7.50")
    data["alarm_month"] = -1
    path.write_text(yaml.safe_dump(data))
    with pytest.raises(ConfigurationError, match=r"negotiated.yaml.*alarm_month"):
        cost.load_pricing(str(path))


def test_usage_profiles_are_the_guides_assumptions():
    staging = cost.load_usage("staging").profile
    assert (staging.users, staging.effective_writes_per_day, staging.reads_per_day) == (10_000, 500_000, 100_000)
    assert (staging.retention_days, staging.storage_gb, staging.days_per_month) == (90, 2, 30)
    production = cost.load_usage("production").profile
    assert (production.users, production.effective_writes_per_day, production.reads_per_day) == (
        1_000_000, 50_000_000, 10_000_000)
    assert production.storage_gb == 50 and production.item_size_kb <= 1


@pytest.mark.parametrize("line, key", [("item_size_kb: -1", "item_size_kb"), ("read_consistency: maybe", "read_consistency"),
                                       ("colour: blue", "colour"), ("days_per_month: 90", "days_per_month")])
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


# -- the CLI entry point ----------------------------------------------------------------------------------------
def test_cost_command_json_and_table(configured):
    data = json.loads(cost.cost_command("production", "us-east-1-legacy", "json", False))
    assert data["total_monthly_usd"] == 1972.9 and data["pricing"]["name"] == "us-east-1-legacy"
    free = json.loads(cost.cost_command("staging", "us-east-1", "json", True))
    assert free["usage"]["free_tier"] == {"value": True, "source": "option"}
    text = cost.cost_command("staging", "us-east-1-legacy", "table", False)
    for expected in ("writes", "reads", "storage", "$18.75", "$0.75", "$0.50", "$20.00", "us-east-1-legacy"):
        assert expected in text
    assert "\x1b[" not in text


@pytest.mark.parametrize("args, parameter", [
    (("qa", "us-east-1", "json", False), "environment"),
    (("staging", "mars-1", "json", False), "pricing"),
    (("staging", "us-east-1", "yaml", False), "format"),
])
def test_cost_command_errors(configured, args, parameter):
    with pytest.raises(ParameterError) as error:
        cost.cost_command(*args)
    assert error.value.parameter == parameter


def test_with_the_real_configuration():
    pytest.importorskip("runbook.tfconfig", reason="runbook.tfconfig not written yet")
    staging, production = cost.load_table("staging"), cost.load_table("production")
    assert not staging.pitr_enabled and not staging.alarm_names() and staging.stream_enabled
    assert production.pitr_enabled and len(production.alarm_names()) == 4
    legacy = cost.estimate("staging", "us-east-1-legacy")
    assert (legacy.monthly("writes"), legacy.monthly("reads"), legacy.monthly("storage")) == (
        D("18.75"), D("0.75"), D("0.50"))
    # the guide's total, to the cent: staging enables nothing the guide left out (no PITR, alarms, dashboard)
    assert legacy.total_monthly_usd == D("20.00")
    assert [c.name for c in legacy.components][:3] == ["writes", "reads", "storage"]
    production_report = cost.estimate("production", "us-east-1-legacy")
    assert sum(production_report.monthly(n) for n in ("writes", "reads", "storage")) == D("1962.50")
    assert production_report.component("pitr") and production_report.component("alarms")


# -- CloudWatch usage sync ---------------------------------------------------------------------------------------
# ``target`` (tests/conftest.py): the session's embedded emulator, wiped before each test.
def test_cloudwatch_sync_without_data(target):
    assert cost.usage_from_cloudwatch(target, "staging-user-notifications") is None
    measured, note = cost.sync_usage(target, "staging-user-notifications")
    assert measured is None and "emulator publishes no DynamoDB metrics" in note


def test_cloudwatch_sync_with_data(target):
    target.client("dynamodb").create_table(
        TableName="production-user-notifications", BillingMode="PAY_PER_REQUEST",
        KeySchema=[{"AttributeName": "user_id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "user_id", "AttributeType": "S"}])
    now = datetime.now(timezone.utc)
    data = [{"MetricName": metric, "Dimensions": [{"Name": "TableName", "Value": "production-user-notifications"}],
             "Timestamp": now - timedelta(days=day, hours=2), "Value": value, "Unit": "Count"}
            for day in range(1, 4) for metric, value in (("ConsumedWriteCapacityUnits", 3_000_000),
                                                        ("ConsumedReadCapacityUnits", 600_000))]
    target.client("cloudwatch").put_metric_data(Namespace="AWS/DynamoDB", MetricData=data)
    measured = cost.usage_from_cloudwatch(target, "production-user-notifications", days=30)
    assert measured["write_units_per_day"] == pytest.approx(9_000_000 / 30)
    assert measured["read_units_per_day"] == pytest.approx(1_800_000 / 30)
    assert measured["days_with_data"] == 3
    report = cost.estimate("production", table=production_spec(), measured=measured)
    assert report.usage["write_units_per_day"]["source"] == "cloudwatch"
    assert report.component("writes").quantity == 9  # 300,000 WRU a day x 30 days
    assert report.usage["storage_gb"]["source"] == "profile"  # an empty table has no size yet
    _, note = cost.sync_usage(target, "production-user-notifications")
    assert "write_units_per_day" in note and "from the usage profile: storage_gb" in note


def test_cloudwatch_sync_fails_gracefully(monkeypatch):
    from runbook.aws import Target

    measured, note = cost.sync_usage(Target.resolve("us-east-1", "http://127.0.0.1:9"), "t-1")
    assert measured is None and "unreachable" in note
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE",
                 "AWS_ENDPOINT_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent")
    monkeypatch.setenv("AWS_CONFIG_FILE", "/nonexistent")
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    measured, note = cost.sync_usage(Target.resolve("us-east-1", ""), "t-1")
    assert measured is None and "No AWS credentials" in note


# -- the notebook ------------------------------------------------------------------------------------------------
@pytest.mark.notebooks
@pytest.mark.parametrize("environment", ["staging", "production"])
def test_cost_analysis_notebook(environment, tmp_path, target):
    pytest.importorskip("runbook.tfconfig", reason="runbook.tfconfig not written yet")
    import papermill

    from runbook.record import read_records

    output = tmp_path / f"05-{environment}.ipynb"
    papermill.execute_notebook(str(ROOT / "notebooks/05-cost-analysis.ipynb"), str(output),
                               parameters={"environment": environment, "aws_endpoint_url": target.endpoint_url},
                               cwd=str(ROOT / "notebooks"), progress_bar=False, kernel_name="python3")
    records = read_records(output)
    seed = cost.SEED_FIGURES[environment]
    assert D(str(records["legacy_writes_usd"])) == seed["writes"]
    assert D(str(records["legacy_reads_usd"])) == seed["reads"]
    assert D(str(records["legacy_storage_usd"])) == seed["storage"]
    # today's prices: staging 10.26, production 997.90, plus the dashboard where the configuration enables one
    report = cost.estimate(environment)
    expected = {"staging": D("10.26"), "production": D("997.90")}[environment] + report.monthly("dashboard")
    assert D(str(records["total_monthly_usd"])) == expected == report.total_monthly_usd
    assert records["pricing"] == "us-east-1"
    assert records["usage_source"] == "profile"  # the emulator has no metrics
    assert 0.28 < records["break_even_utilization"] < 0.30
    assert records["components"][:3] == ["writes", "reads", "storage"]
    assert records["guide_scope_legacy_usd"] == float(seed["total"])
    assert ("pitr" in records["components"]) == (environment == "production")
    assert records["growth_users"][0] == 10_000 and records["growth_users"][-1] == 10_000_000
    assert records["high_costs_saved_usd"]["Consider switching to provisioned mode"] > 0


@pytest.mark.notebooks
def test_cost_analysis_notebook_without_aws(tmp_path, monkeypatch):
    """aws_endpoint_url="" on a machine without credentials: a clear note, no crash."""
    pytest.importorskip("runbook.tfconfig", reason="runbook.tfconfig not written yet")
    import papermill

    from runbook.record import read_records

    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE",
                 "AWS_ENDPOINT_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent")
    monkeypatch.setenv("AWS_CONFIG_FILE", "/nonexistent")
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    output = tmp_path / "05-production.ipynb"
    papermill.execute_notebook(str(ROOT / "notebooks/05-cost-analysis.ipynb"), str(output),
                               parameters={"environment": "production", "users": 2_000_000},
                               cwd=str(ROOT / "notebooks"), progress_bar=False, kernel_name="python3")
    records = read_records(output)
    assert "No AWS credentials" in records["usage_note"]
    assert records["usage_source"] == "profile"
    # 2M users: throughput, storage and PITR double (1,995.40), alarms and any dashboard do not
    report = cost.estimate("production")
    assert D(str(records["total_monthly_usd"])) == D("1995.40") + report.monthly("dashboard")
