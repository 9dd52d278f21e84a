"""Comparisons on planned tables: billing modes (profile and measured load: one model for 05 and 04), table
classes, the guide's figures then and now, growth, the guide's "High Costs" advice in dollars."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from runbook import cost
from runbook.errors import ParameterError
from runbook.spec import TableSpec
from runbook.terraform.tfjson import PlanJson, table_spec

D = Decimal
PLANS = Path(__file__).resolve().parent / "fixtures" / "terraform"


def planned(name: str, **changes) -> TableSpec:
    spec = table_spec(PlanJson.from_file(PLANS / f"cost-{name}-plan.json").planned_resources())
    return spec.model_copy(update=changes) if changes else spec


def test_seed_comparison_rows():
    rows = cost.seed_comparison("production", table=planned("production"))
    by = {r["component"]: r for r in rows}
    assert by["writes"] == {"component": "writes", "guide_usd": 1875.0, "legacy_usd": 1875.0, "current_usd": 937.5}
    assert by["total (guide's scope)"]["legacy_usd"] == 1962.5 == by["total (guide's scope)"]["guide_usd"]
    assert by["total (all components)"]["legacy_usd"] == 1975.9  # + PITR, 4 alarms, the dashboard
    staging = {r["component"]: r for r in cost.seed_comparison("staging", table=planned("staging"))}
    assert staging["total (all components)"]["legacy_usd"] == 20.0 == staging["total (guide's scope)"]["guide_usd"]


def test_standard_infrequent_access():
    classes = cost.compare_table_classes("production", "us-east-1", table=planned("production"))
    standard, ia = classes["STANDARD"], classes["STANDARD_INFREQUENT_ACCESS"]
    assert standard.monthly("storage") == D("12.50") and ia.monthly("storage") == D("5.00")  # 50 GB x 0.10
    assert ia.monthly("writes") == D("1171.88")  # 1,500 x 0.78125 = 1171.875
    assert ia.monthly("pitr") == standard.monthly("pitr")  # PITR is not class-priced
    assert ia.total_monthly_usd > standard.total_monthly_usd  # throughput dominates this table


def test_break_even_is_computed_from_prices():
    current = cost.load_pricing("us-east-1").break_even_utilization()
    assert round(current["writes"], 4) == D("0.2889") and round(current["reads"], 4) == D("0.2889")
    legacy = cost.load_pricing("us-east-1-legacy").break_even_utilization()
    assert round(legacy["writes"], 4) == D("0.1444")


def test_compare_billing_modes_production():
    c = cost.compare_billing_modes("production", "us-east-1", table=planned("production"))
    # 50M WRU/day = 578.7/s -> / 0.7 -> 827 WCU; 10M RRU/day = 115.7/s -> 166 RCU; 720 hours
    assert (c.wcu, c.rcu, c.hours_per_month) == (827, 166, 720)
    assert c.provisioned_monthly_usd == D("402.57")  # (827 x 0.00065 + 166 x 0.00013) x 720
    assert c.on_demand_monthly_usd == D("975.00")
    assert c.cheaper == "PROVISIONED" and c.saving_usd == D("572.43")
    assert round(c.break_even_utilization, 3) == D("0.289")
    # below break-even utilisation provisioned costs more
    assert c.provisioned_at(0.2) > c.on_demand_monthly_usd > c.provisioned_at(0.35)
    with pytest.raises(ParameterError, match="target_utilization"):
        cost.compare_billing_modes("production", table=planned("production"), target_utilization=1.5)
    assert set(c.to_dict()) == {
        "target_utilization",
        "hours_per_month",
        "wcu",
        "rcu",
        "on_demand_monthly_usd",
        "provisioned_monthly_usd",
        "saving_usd",
        "cheaper",
        "break_even_utilization",
    }


def test_measured_load_uses_the_same_month_and_prices():
    """04's "consider provisioned" finding: a week of hourly CloudWatch sums, priced with 05's model (720 h)."""
    hours = 168
    writes = [2_083_333.0] * hours  # the production profile's 50M write units a day, steady
    reads = [416_667.0] * hours
    c = cost.compare_measured_load(planned("production"), reads, writes)
    assert c.hours_per_month == 720 and c.target_utilization == D("0.7")
    # the peak hour 2,083,333 / 3,600 / 0.7 -> 827 WCU; 416,667 -> 166 RCU: the profile comparison's capacities
    assert (c.wcu, c.rcu) == (827, 166)
    assert c.provisioned_monthly_usd == D("402.57")
    assert (
        c.on_demand_monthly_usd
        == cost.compare_billing_modes("production", table=planned("production")).on_demand_monthly_usd
        == D("975.00")
    )
    # bursty: the same volume in one hour of the day needs capacity for the peak
    bursty = cost.compare_measured_load(
        planned("production"), [0.0] * 23 + [reads[0] * 24], [0.0] * 23 + [writes[0] * 24]
    )
    assert bursty.on_demand_monthly_usd == D("975.00") and bursty.wcu == 19_842 and bursty.cheaper == "PAY_PER_REQUEST"
    # the autoscaling target of a provisioned plan, the class's prices
    scaled = cost.compare_measured_load(planned("provisioned"), reads, writes)
    assert scaled.target_utilization == D("0.7") and scaled.prices.wcu_hour == D("0.0008125")
    assert cost.compare_measured_load(planned("production"), reads, writes, target_utilization=0.5).wcu == 1158
    with pytest.raises(ParameterError):
        cost.compare_measured_load(planned("production"), [], [])


def test_high_costs_savings_in_dollars():
    savings = cost.high_costs_savings("production", table=planned("production"))
    by = {s.advice.split(" (")[0]: s for s in savings}
    scan = by["Check for scan operations"]
    # 50 GB = 13,107,200 4-KB units x 0.5 per scan; 24 a day x 30 days x $0.125/M
    assert scan.before_usd == D("589.82")
    ttl = by["Verify TTL is deleting old items"]
    assert (ttl.before_usd, ttl.after_usd) == (D("90.00"), D("22.50"))  # 200 GB vs 50 GB at $0.25 + $0.20 PITR
    assert by["Review CloudWatch metrics for hot keys"].saved_usd == D("-56.00")  # a cost
    assert by["Consider switching to provisioned mode"].saved_usd == D("572.43")
    assert set(savings[0].to_dict()) == {"advice", "before_usd", "after_usd", "saved_usd", "assumption"}


def test_cost_by_users_grows():
    rows = cost.cost_by_users("staging", [10_000, 100_000, 1_000_000], table=planned("staging"))
    totals = [r["total_monthly_usd"] for r in rows]
    assert totals[0] == 10.26 and totals == sorted(totals)
    assert rows[2]["on_demand_throughput_usd"] == 975.0  # 1M users: the production load
