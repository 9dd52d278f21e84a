"""The estimate on tables Terraform planned: the guide's figures to the cent, hand-computed cases, the JSON shape,
the on-demand ceiling. Tables come from plan JSON recorded with the real Terraform
(tests/fixtures/terraform/cost-*-plan.json, made by cost-record.py there), read by
runbook.terraform.tfjson.table_spec."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest
import yaml

from runbook import cost
from runbook.errors import ConfigurationError, ParameterError
from runbook.spec import Autoscaling, GlobalSecondaryIndex, TableSpec
from runbook.terraform.tfjson import PlanJson, table_spec

D = Decimal
ROOT = Path(__file__).resolve().parent.parent
PLANS = ROOT / "tests" / "fixtures" / "terraform"


def planned(name: str, **changes) -> TableSpec:
    """The table of a recorded plan (staging, production, provisioned, ceiling), with ``changes``."""
    spec = table_spec(PlanJson.from_file(PLANS / f"cost-{name}-plan.json").planned_resources())
    return spec.model_copy(update=changes) if changes else spec


def monthly(report: cost.CostReport) -> dict[str, Decimal]:
    return {c.name: c.monthly_usd for c in report.components}


# -- the recorded plans are the environments as configured ------------------------------------------------------
def test_the_recorded_plans():
    staging, production = planned("staging"), planned("production")
    assert staging.billing_mode == production.billing_mode == "PAY_PER_REQUEST"
    assert not staging.pitr_enabled and not staging.alarms and not staging.dashboard_enabled and staging.stream_enabled
    assert production.pitr_enabled and len(production.alarm_names()) == 4 and production.dashboard_enabled
    provisioned = planned("provisioned")
    assert provisioned.provisioned and provisioned.table_class == "STANDARD_INFREQUENT_ACCESS"
    assert (provisioned.autoscaling.read_min, provisioned.autoscaling.write_max) == (5, 100)
    assert len(provisioned.alarms) == 6 and provisioned.global_secondary_indexes[0].read_capacity == 5
    ceiling = planned("ceiling")
    assert (ceiling.max_read_request_units, ceiling.max_write_request_units) == (100, 50)
    assert ceiling.global_secondary_indexes[0].max_read_request_units == 10


# -- the guide's figures ---------------------------------------------------------------------------------------
def test_staging_legacy_reproduces_the_guide_to_the_cent():
    report = cost.estimate("staging", "us-east-1-legacy", table=planned("staging"))
    assert [c.name for c in report.components][:3] == ["writes", "reads", "storage"]
    assert monthly(report)["writes"] == D("18.75")
    assert monthly(report)["reads"] == D("0.75")
    assert monthly(report)["storage"] == D("0.50")
    # the guide's total, to the cent: staging plans nothing the guide left out (no PITR, alarms, dashboard)
    assert report.total_monthly_usd == D("20.00")
    # the seed's quantities: 15M writes, 3M reads, 2 GB
    assert report.component("writes").quantity == 15 and report.component("reads").quantity == 3
    # staging has neither PITR nor alarms; streams are read by Lambda for free
    assert report.component("pitr") is None and report.component("alarms") is None
    assert report.monthly("streams") == D("0.00")
    assert report.ceiling is None


def test_production_legacy_reproduces_the_guide_plus_pitr_alarms_dashboard():
    report = cost.estimate("production", "us-east-1-legacy", table=planned("production"))
    m = monthly(report)
    assert (m["writes"], m["reads"], m["storage"]) == (D("1875.00"), D("75.00"), D("12.50"))
    assert m["writes"] + m["reads"] + m["storage"] == D("1962.50")  # the guide's total
    assert m["pitr"] == D("10.00")  # 50 GB x $0.20
    assert report.component("alarms").quantity == 4 and m["alarms"] == D("0.40")  # 4 planned alarms (on-demand)
    assert m["dashboard"] == D("3.00")  # production's tfvars enables the dashboard
    assert report.total_monthly_usd == D("1975.90")


def test_current_prices_halve_the_throughput():
    staging = cost.estimate("staging", "us-east-1", table=planned("staging"))
    assert monthly(staging)["writes"] == D("9.38")  # 15 x 0.625 = 9.375, half up
    assert monthly(staging)["reads"] == D("0.38")
    assert staging.total_monthly_usd == D("10.26")
    production = cost.estimate("production", table=planned("production"))
    assert monthly(production)["writes"] == D("937.50") and monthly(production)["reads"] == D("37.50")
    assert production.total_monthly_usd == D("1000.90")


# -- the JSON shape ------------------------------------------------------------------------------------------
def test_json_shape_is_the_design():
    data = json.loads(cost.estimate("production", table=planned("production")).to_json())
    assert list(data) == [
        "environment",
        "configuration",
        "pricing",
        "usage",
        "components",
        "total_monthly_usd",
        "ceiling",
    ]
    assert data["environment"] == "production" and data["ceiling"] is None
    assert set(data["pricing"]) == {"name", "source", "effective_date"}
    assert data["pricing"]["name"] == "us-east-1" and data["pricing"]["effective_date"] == "2024-11-01"
    assert all(url.startswith("https://") for url in data["pricing"]["source"])
    names = [c["name"] for c in data["components"]]
    assert names == ["writes", "reads", "storage", "pitr", "streams", "alarms", "dashboard"]
    for component in data["components"]:
        assert list(component) == ["name", "quantity", "unit", "unit_price_usd", "monthly_usd"]
    total = sum(D(str(c["monthly_usd"])) for c in data["components"])
    assert D(str(data["total_monthly_usd"])) == total
    # every input used says where it came from
    assert data["usage"]["users"] == {
        "value": 1000000,
        "source": "profile",
        "ref": "infrastructure/production/usage.yml",
    }
    assert data["usage"]["writes_per_day"]["source"] == "derived"
    assert data["usage"]["pitr_enabled"] == {"value": True, "source": "configuration"}
    assert data["usage"]["alarms"]["value"] == 4
    assert all("source" in entry and "value" in entry for entry in data["usage"].values())


def test_configuration_names_what_was_priced():
    spec = planned("production")
    data = cost.estimate(
        "production",
        table=spec,
        configuration=cost.describe_configuration(spec, source="plan", tfvars="/x/terraform.tfvars", origin="operator"),
    ).to_dict()["configuration"]
    assert (data["tfvars"], data["tfvars_origin"], data["source"]) == ("/x/terraform.tfvars", "operator", "plan")
    assert (data["billing_mode"], data["table_class"], data["pitr_enabled"], data["dashboard_enabled"]) == (
        "PAY_PER_REQUEST",
        "STANDARD",
        True,
        True,
    )
    assert data["alarms"] == spec.alarm_names() and len(data["alarms"]) == 4
    assert data["autoscaling"] is None and data["on_demand_throughput"] is None
    provisioned = cost.describe_configuration(planned("provisioned"))
    assert provisioned["source"] == "argument" and provisioned["tfvars"] is None
    assert (provisioned["read_capacity"], provisioned["write_capacity"]) == (10, 20)
    assert provisioned["autoscaling"] == {
        "read_min": 5,
        "read_max": 100,
        "write_min": 5,
        "write_max": 100,
        "target_utilization": 70.0,
    }
    assert provisioned["global_secondary_indexes"] == [
        {"name": "by-status", "read_capacity": 5, "write_capacity": 5, "on_demand_throughput": None}
    ]
    assert len(provisioned["alarms"]) == 6
    json.dumps(provisioned)  # JSON-serialisable as it is


def test_estimate_needs_a_planned_table():
    with pytest.raises(TypeError):
        cost.estimate("staging")  # type: ignore[call-arg]
    with pytest.raises(ParameterError) as error:
        cost.estimate("staging", table={"name": "t"})  # type: ignore[arg-type]
    assert error.value.parameter == "table"


# -- hand-computed cases -------------------------------------------------------------------------------------
def test_item_size_rounding_and_consistency():
    staging = planned("staging")
    r = cost.estimate("staging", "us-east-1-legacy", usage={"item_size_kb": 1.5}, table=staging)
    assert r.component("writes").quantity == 30 and r.monthly("writes") == D("37.50")  # 2 write units per write
    assert r.component("reads").quantity == 3  # 1 read unit (<= 4 KB)
    r = cost.estimate("staging", "us-east-1-legacy", usage={"item_size_kb": 4.5}, table=staging)
    assert r.component("writes").quantity == 75  # 5 KB -> 5 units
    assert r.component("reads").quantity == 6  # 8 KB -> 2 units, strongly consistent
    r = cost.estimate(
        "staging", "us-east-1-legacy", usage={"item_size_kb": 4.5, "read_consistency": "eventual"}, table=staging
    )
    assert r.component("reads").quantity == 3  # eventually consistent halves
    r = cost.estimate("staging", "us-east-1-legacy", usage={"item_size_kb": 0.2}, table=staging)
    assert r.component("writes").quantity == 15  # rounded up to 1 KB


def test_transactions_double():
    usage = {"transactional_write_fraction": 1.0, "transactional_read_fraction": 0.5, "read_consistency": "eventual"}
    r = cost.estimate("staging", "us-east-1-legacy", usage=usage, table=planned("staging"))
    assert r.component("writes").quantity == 30 and r.monthly("writes") == D("37.50")
    # half eventually consistent (0.5 unit), half transactional (2 units): 1.25 units per read
    assert r.component("reads").quantity == D("3.75")


def fixed_capacity(write: int, read: int) -> TableSpec:
    """The provisioned plan without autoscaling or its GSI, Standard class, fixed capacities."""
    return planned(
        "provisioned",
        autoscaling=Autoscaling(),
        write_capacity=write,
        read_capacity=read,
        global_secondary_indexes=(),
        table_class="STANDARD",
    )


def test_provisioned_with_fixed_capacity():
    spec = fixed_capacity(100, 50)
    r = cost.estimate("staging", "us-east-1", table=spec)
    assert r.component("writes").unit == "WCU-hours" and r.component("writes").quantity == 72_000  # 100 x 720 h
    assert r.monthly("writes") == D("46.80")  # 72,000 x $0.00065
    assert r.monthly("reads") == D("4.68")  # 36,000 x $0.00013
    assert r.component("alarms").quantity == 6 and r.monthly("alarms") == D("0.60")  # + 2 capacity alarms
    assert r.usage["provisioned_wcu"] == {"value": 100, "source": "configuration"}
    free = cost.estimate("staging", "us-east-1", free_tier=True, table=spec)
    assert free.monthly("writes") == D("35.10")  # (100 - 25) x 720 x 0.00065
    assert free.monthly("reads") == D("2.34")  # (50 - 25) x 720 x 0.00013
    assert free.monthly("storage") == D("0.00")  # 2 GB under the 25 GB free tier
    assert free.monthly("alarms") == D("0.00")  # 10 free alarm metrics


def test_provisioned_with_autoscaling_uses_the_load_within_bounds():
    spec = planned("provisioned", global_secondary_indexes=(), table_class="STANDARD")
    r = cost.estimate("staging", table=spec)
    # 500,000 writes a day = 5.79/s; / 0.7 = 8.27 -> 9 WCU; reads 1.16/s / 0.7 -> 2, raised to the minimum 5
    assert r.usage["provisioned_wcu"]["value"] == 9 and r.usage["provisioned_rcu"]["value"] == 5
    assert r.monthly("writes") == D("4.21")  # 9 x 720 x 0.00065 = 4.212
    capped = cost.estimate("production", table=spec)
    assert capped.usage["provisioned_wcu"]["value"] == 100  # capped at write_max
    # a minimum or maximum the plan leaves unknown does not bound the capacity
    open_ended = spec.model_copy(update={"autoscaling": Autoscaling(enabled=True, target_utilization=70)})
    assert cost.estimate("production", table=open_ended).usage["provisioned_wcu"]["value"] == 827


def test_the_provisioned_plan_as_planned():
    """Standard-IA, autoscaling 5-100 at 70%, one GSI of 5 RCU / 5 WCU, six alarms: every figure by hand."""
    r = cost.estimate("staging", "us-east-1", table=planned("provisioned"))
    assert [c.name for c in r.components] == [
        "writes",
        "reads",
        "storage",
        "gsi_writes",
        "gsi_reads",
        "gsi_storage",
        "streams",
        "alarms",
    ]
    m = monthly(r)
    assert m["writes"] == D("5.27")  # 9 WCU x 720 h x $0.0008125 (IA: Standard x 1.25) = 5.265
    assert m["reads"] == D("0.59")  # 5 RCU x 720 x $0.0001625 = 0.585
    assert m["storage"] == D("0.20")  # 2 GB x $0.10
    assert m["gsi_writes"] == D("2.93") and m["gsi_reads"] == D("0.59")  # 5 WCU / 5 RCU planned on the index
    assert m["gsi_storage"] == D("0.20") and m["alarms"] == D("0.60")
    assert r.total_monthly_usd == D("10.38")


def test_gsi_writes_and_storage():
    spec = planned("staging", global_secondary_indexes=(GlobalSecondaryIndex(name="by-status", hash_key="status"),))
    r = cost.estimate(
        "staging", "us-east-1-legacy", usage={"gsi_write_fraction": 0.5, "gsi_item_size_kb": 0.5}, table=spec
    )
    names = [c.name for c in r.components]
    assert names[:5] == ["writes", "reads", "storage", "gsi_writes", "gsi_storage"]
    assert r.component("gsi_writes").quantity == D("7.5")  # 15M writes x 0.5 x 1 unit
    assert r.monthly("gsi_writes") == D("9.38")
    assert r.component("gsi_storage").quantity == D("0.5")  # 2 GB x 0.5 x (0.5 / 1)
    assert r.monthly("gsi_storage") == D("0.13")
    assert r.usage["gsi_count"] == {"value": 1, "source": "configuration", "ref": "global_secondary_indexes"}
    two = cost.estimate("staging", "us-east-1-legacy", usage={"gsi_count": 2}, table=planned("staging"))
    assert two.component("gsi_writes").quantity == 30 and two.usage["gsi_count"]["source"] == "override"


def test_pitr_backups_restores_streams_contributor_insights():
    spec = planned("production", contributor_insights_enabled=True, dashboard_enabled=False)
    usage = {"on_demand_backup_gb": 100, "restore_gb_per_month": 50, "stream_consumers": 2}
    r = cost.estimate("production", "us-east-1", usage=usage, table=spec)
    assert [c.name for c in r.components] == [
        "writes",
        "reads",
        "storage",
        "pitr",
        "backups",
        "restores",
        "streams",
        "alarms",
        "contributor_insights",
        "contributor_insights_events",
    ]
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


def test_dashboard_when_planned():
    r = cost.estimate("staging", table=planned("staging", dashboard_enabled=True))
    assert r.component("dashboard").quantity == 1 and r.monthly("dashboard") == D("3.00")
    assert r.usage["dashboard_enabled"] == {"value": True, "source": "configuration"}
    free = cost.estimate("staging", table=planned("staging", dashboard_enabled=True), free_tier=True)
    assert free.monthly("dashboard") == D("0.00")  # 3 dashboards free per account
    assert cost.estimate("staging", table=planned("staging")).component("dashboard") is None


# -- the on-demand throughput ceiling -------------------------------------------------------------------------
def test_ceiling_worst_case_from_the_planned_maxima():
    report = cost.estimate("staging", "us-east-1", table=planned("ceiling"))
    ceiling = report.ceiling
    assert ceiling.seconds_per_month == 2_592_000  # 30 days x 86,400 s
    by = {c.name: c for c in ceiling.components}
    assert set(by) == {"reads", "writes", "gsi_reads:by-status"}
    assert by["reads"].quantity == D("259.2") and by["reads"].monthly_usd == D("32.40")  # 100/s x 2.592M s x $0.125/M
    assert by["writes"].quantity == D("129.6") and by["writes"].monthly_usd == D("81.00")  # 50/s x $0.625/M
    assert by["gsi_reads:by-status"].monthly_usd == D("3.24")  # 10/s
    assert ceiling.unlimited == ("gsi_writes:by-status",) and not ceiling.bounded
    assert ceiling.total_monthly_usd == D("116.64")
    data = report.to_dict()["ceiling"]
    assert data["total_monthly_usd"] == 116.64 and data["bounded"] is False
    assert data["components"][0] == {
        "name": "reads",
        "max_request_units_per_second": 100,
        "quantity": 259.2,
        "unit": "million read request units",
        "unit_price_usd": 0.125,
        "monthly_usd": 32.4,
    }
    assert report.to_dict()["configuration"]["on_demand_throughput"] == {
        "max_read_request_units": 100,
        "max_write_request_units": 50,
    }
    assert any("not bounded" in note for note in report.notes)
    # the usage profile's production load (578.7 write units/s) is above the 50/s maximum: said so
    production = cost.estimate("production", table=planned("ceiling"))
    assert any("exceed the table's maximum of 50 units/s" in note for note in production.notes)


def test_ceiling_legacy_prices_and_bounded():
    index = planned("ceiling").global_secondary_indexes[0].model_copy(update={"max_write_request_units": 20})
    spec = planned("ceiling", global_secondary_indexes=(index,))
    ceiling = cost.on_demand_ceiling(spec, "us-east-1-legacy")
    assert ceiling.bounded and ceiling.unlimited == ()
    # 259.2M x $0.25 + 129.6M x $1.25 + 25.92M x $0.25 + 51.84M x $1.25
    assert ceiling.total_monthly_usd == D("64.80") + D("162.00") + D("6.48") + D("64.80")
    assert cost.on_demand_ceiling(spec, days_per_month=31).seconds_per_month == 2_678_400
    text = cost.render_table(cost.estimate("staging", table=spec))
    assert "100 units/s x 2,592,000 s" in text and "at most $" in text


def test_no_ceiling_without_maxima_or_when_provisioned():
    assert cost.on_demand_ceiling(planned("staging")) is None
    assert cost.on_demand_ceiling(planned("provisioned", max_read_request_units=100)) is None
    assert cost.on_demand_ceiling(planned("staging", max_read_request_units=-1)) is None  # AWS's "unlimited"


# -- prices as data --------------------------------------------------------------------------------------------
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
    report = cost.estimate("staging", str(path), table=planned("staging"))
    assert report.pricing.name == "negotiated" and report.monthly("writes") == D("7.50")
    data["alarm_month"] = -1
    path.write_text(yaml.safe_dump(data))
    with pytest.raises(ConfigurationError, match=r"negotiated.yaml.*alarm_month"):
        cost.load_pricing(str(path))
