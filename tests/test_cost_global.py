"""Global tables, the month in hours and the plan's monthly delta, against published figures.

Figures and where they were published (the price sets name the same sources in their ``verification``):

* AWS developer guide, "Understanding Amazon DynamoDB billing for global tables": replicated write units (rWRU,
  rWCU) are priced the same as single-Region write units, and a table with replicas is billed replicated writes
  in its own region too (the ``us-east-1`` set, current prices).
* AWS Prescriptive Guidance "Using Amazon DynamoDB global tables" (March 2024), FAQ: before the November 2024 cut,
  rWCU/rWRU cost 50% more than WCU/WRU (the ``us-east-1-legacy`` set).
* Infracost's DynamoDB golden test of that period (prices from the AWS Price List API): 20 rWCU over 730 h cost
  $14.24 in us-east-2 and $15.88 in us-west-1; 3,000,000 rWRU cost $5.63 in us-east-2; 20 WCU cost $9.49 and
  30 RCU $2.85 over 730 h.
* aws.amazon.com/dynamodb/pricing "Pricing at a glance": $0.47 per WCU-month (0.00065 x 730 h).

AWS's own dollar examples for global tables on its pricing pages were not retrievable as text: not checked here.
"""

from __future__ import annotations

import copy
import json
from decimal import Decimal
from pathlib import Path

import pytest

from runbook import cost
from runbook.errors import ConfigurationError, ParameterError
from runbook.spec import Autoscaling, Replica, TableSpec
from runbook.terraform.tfjson import PlanJson, table_spec

D = Decimal
ROOT = Path(__file__).resolve().parent.parent
PLANS = ROOT / "tests" / "fixtures" / "terraform"
INFRACOST_REPLICAS = (Replica(region="us-east-2"), Replica(region="us-west-1"))


def recorded(name: str) -> PlanJson:
    return PlanJson.from_file(PLANS / f"cost-{name}-plan.json")


def provisioned(write: int, read: int, **changes) -> TableSpec:
    """The recorded provisioned plan with fixed capacities, Standard class, nothing else priced."""
    spec = table_spec(recorded("provisioned").planned_resources())
    return spec.model_copy(
        update={
            "autoscaling": Autoscaling(),
            "write_capacity": write,
            "read_capacity": read,
            "global_secondary_indexes": (),
            "table_class": "STANDARD",
            "alarms": (),
            "region": "us-east-1",
            **changes,
        }
    )


def on_demand(**changes) -> TableSpec:
    spec = table_spec(recorded("staging").planned_resources())
    return spec.model_copy(update={"region": "us-east-1", **changes})


MONTH_730 = {"hours_per_month": 730}


# -- published figures ---------------------------------------------------------------------------------------------
def test_provisioned_replicas_before_the_cut_are_infracosts_golden_figures():
    spec = provisioned(20, 30, replicas=INFRACOST_REPLICAS)
    report = cost.estimate("staging", "us-east-1-legacy", usage=MONTH_730, table=spec)
    assert report.monthly("replicated_writes:us-east-2") == D("14.24")  # 20 rWCU x 730 h x $0.000975
    assert report.monthly("replicated_writes:us-west-1") == D("15.88")  # 20 rWCU x 730 h x $0.0010875
    assert report.component("replicated_writes:us-east-2").unit == "rWCU-hours"
    assert report.monthly("reads") == D("2.85")  # 30 RCU x 730 h x $0.00013
    # The table's own writes: AWS bills a replica table's writes as rWCU in its region too (Infracost keeps them
    # as WCU, $9.49): 1.5 x.
    assert report.component("writes").unit == "rWCU-hours" and report.monthly("writes") == D("14.24")
    single = cost.estimate("staging", "us-east-1-legacy", usage=MONTH_730, table=provisioned(20, 30))
    assert single.monthly("writes") == D("9.49") and single.component("writes").unit == "WCU-hours"


def test_on_demand_replicas_before_the_cut_are_infracosts_golden_figures():
    spec = on_demand(replicas=INFRACOST_REPLICAS)
    report = cost.estimate("staging", "us-east-1-legacy", usage={"writes_per_day": 100_000}, table=spec)
    replicated = report.component("replicated_writes:us-east-2")
    assert replicated.quantity == 3 and replicated.unit == "million replicated write request units"
    assert report.monthly("replicated_writes:us-east-2") == D("5.63")  # 3,000,000 rWRU x $1.875 per million
    # us-west-1's rWRU price is not published in a source we could read: named, not guessed.
    assert report.component("replicated_writes:us-west-1") is None
    assert any("Not priced: replicated writes in us-west-1" in note for note in report.notes)


def test_current_replicated_writes_cost_the_same_as_single_region_writes():
    """The developer guide: rWRU/rWCU priced as WRU/WCU (since 1 November 2024); the cut took $1.875 to $0.625."""
    prices = cost.load_pricing("us-east-1")
    legacy = cost.load_pricing("us-east-1-legacy")
    standard = prices.for_class("STANDARD")
    for region in ("us-east-1", "us-east-2"):
        figures = prices.for_replica(region)
        assert figures.replicated_write_request_units_per_million == standard.write_request_units_per_million
        assert figures.replicated_wcu_hour == standard.wcu_hour
        old = legacy.for_replica(region)  # Prescriptive Guidance: 50% above single-region units before the cut
        assert old.replicated_write_request_units_per_million == legacy.for_class(
            "STANDARD"
        ).write_request_units_per_million * D("1.5")
        assert old.replicated_wcu_hour == legacy.for_class("STANDARD").wcu_hour * D("1.5")
    assert legacy.for_replica("us-east-1").replicated_write_request_units_per_million / 3 == D("0.625")
    report = cost.estimate(
        "staging",
        "us-east-1",
        usage={"writes_per_day": 100_000},
        table=on_demand(replicas=(Replica(region="us-east-2"),)),
    )
    assert report.monthly("replicated_writes:us-east-2") == report.monthly("writes") == D("1.88")  # 3M x $0.625
    assert report.monthly("replica_storage:us-east-2") == report.monthly("storage")  # a full copy of the table


def test_a_month_of_730_hours_is_awss_wcu_month():
    """ "$0.47 per write capacity unit-month" (AWS) = $0.00065 x 730 h; 20 WCU = $9.49 (Infracost)."""
    report = cost.estimate("staging", "us-east-1", usage=MONTH_730, table=provisioned(1, 1))
    assert report.component("writes").quantity == 730 and report.monthly("writes") == D("0.47")
    assert report.usage["month_hours"] == {"value": 730, "source": "override"}
    guide = cost.estimate("staging", "us-east-1", table=provisioned(1, 1))
    assert guide.component("writes").quantity == 720
    assert guide.usage["month_hours"] == {"value": 720, "source": "derived", "ref": "days_per_month x 24"}
    # requests follow the same month: 730 / 24 days of the guide's 500,000 writes a day
    writes = cost.estimate("staging", "us-east-1", usage=MONTH_730, table=on_demand()).component("writes")
    assert writes.quantity.quantize(D("0.000001")) == D("15.208333") and writes.monthly_usd == D("9.51")


def test_hours_per_month_in_the_profile_and_its_conflicts(tmp_path):
    text = (ROOT / "infrastructure/staging/usage.yml").read_text()
    path = tmp_path / "usage.yml"
    path.write_text(text.replace("days_per_month: 30", "hours_per_month: 730"))
    inputs = cost.load_usage("staging", path=path)
    assert inputs.profile.month_hours == 730 and inputs.sources["hours_per_month"]["source"] == "profile"
    with pytest.raises(ParameterError) as error:
        cost.load_usage("staging", overrides={"days_per_month": 31}, path=path)
    assert error.value.parameter == "days_per_month" and "hours_per_month" in str(error.value)
    both = tmp_path / "both.yml"
    both.write_text(text + "hours_per_month: 730\n")
    with pytest.raises(ConfigurationError) as conflict:
        cost.load_usage("staging", path=both)
    assert "hours_per_month" in str(conflict.value) and "days_per_month" in str(conflict.value)
    assert conflict.value.line == len(text.splitlines()) + 1
    with pytest.raises(ParameterError):
        cost.load_usage("staging", overrides={"hours_per_month": 1000})


# -- what is not priced is said --------------------------------------------------------------------------------
def test_replica_regions_without_prices_and_standard_ia_are_named():
    report = cost.estimate("staging", "us-east-1", table=on_demand(replicas=(Replica(region="ap-south-1"),)))
    # the data leaves us-east-1 at us-east-1's inter-region price, which the set has; nothing of ap-south-1's own
    assert [c.name for c in report.components if c.name.endswith("ap-south-1")] == ["replication_transfer:ap-south-1"]
    assert any("replicated writes in ap-south-1" in n for n in report.notes)
    assert any("replica storage in ap-south-1" in n for n in report.notes)
    infrequent = cost.estimate(
        "staging",
        "us-east-1",
        table=on_demand(replicas=(Replica(region="us-east-2"),), table_class="STANDARD_INFREQUENT_ACCESS"),
    )
    assert any("Standard class only" in n for n in infrequent.notes)
    # data transfer does not depend on the table class: only it is priced for the IA replica
    assert [c.name for c in infrequent.components if ":" in c.name] == ["replication_transfer:us-east-2"]


def test_ceiling_per_region():
    spec = on_demand(
        max_write_request_units=50,
        max_read_request_units=100,
        replicas=(Replica(region="us-east-2"), Replica(region="eu-west-3")),
    )
    ceiling = cost.on_demand_ceiling(spec, "us-east-1")
    east2 = ceiling.component("replicated_writes:us-east-2")
    assert east2.quantity == D("129.6") and east2.monthly_usd == D("81.00")  # 50/s x 2,592,000 s x $0.625 per M
    assert ceiling.component("writes").unit == "million replicated write request units"
    assert ceiling.unpriced == ("replicated_writes:eu-west-3",) and not ceiling.bounded
    assert ceiling.to_dict()["unpriced"] == ["replicated_writes:eu-west-3"]
    hours = cost.on_demand_ceiling(spec, "us-east-1", hours_per_month=730)
    assert hours.seconds_per_month == 730 * 3600


# -- the plan's monthly delta --------------------------------------------------------------------------------------
def _plan_adding_replicas(regions: list[str]) -> PlanJson:
    """The recorded staging plan, as if the table already existed without replicas and the plan added them."""
    raw = copy.deepcopy(recorded("staging").raw)
    raw["prior_state"] = {"format_version": "1.0", "values": copy.deepcopy(raw["planned_values"])}
    for resource in PlanJson(raw).planned_resources():
        if resource["type"] == "aws_dynamodb_table":
            resource["values"]["replica"] = [
                {"region_name": region, "kms_key_arn": "", "point_in_time_recovery": False, "propagate_tags": True}
                for region in regions
            ]
    return PlanJson(raw)


def test_plan_delta_of_adding_a_replica():
    plan = _plan_adding_replicas(["us-east-2"])
    assert table_spec(plan.planned_resources()).replicas == (Replica(region="us-east-2", propagate_tags=True),)
    delta = cost.plan_delta("staging", plan, "us-east-1-legacy")
    rows = {c.name: c for c in delta.components}
    assert rows["writes"].before_usd == D("18.75") and rows["writes"].after_usd == D("28.13")  # WRU -> rWRU
    assert rows["replicated_writes:us-east-2"].before_usd == 0
    assert rows["replicated_writes:us-east-2"].after_usd == D("28.13")  # 15M x $1.875 per M
    assert rows["replica_storage:us-east-2"].delta_usd == D("0.50")
    # 15M writes x 1 KB = 14.305 GB sent us-east-1 -> us-east-2 at $0.01 per GB
    assert rows["replication_transfer:us-east-2"].after_usd == D("0.14")
    assert delta.before_usd == D("20.00") and delta.after_usd == D("58.15")  # + 9.38 + 28.13 + 0.50 + 0.14
    assert delta.delta_usd == delta.after_usd - delta.before_usd
    # once, on apply: the new replica is seeded with the profile's 2 GB: a restore ($0.15/GB), the data ($0.01/GB)
    assert [(c.name, c.quantity, c.monthly_usd) for c in delta.one_time] == [
        ("replica_seeding:us-east-2", 2, D("0.30")),
        ("replica_seeding_transfer:us-east-2", 2, D("0.02")),
    ]
    data = delta.to_dict()
    assert (data["before_usd"], data["after_usd"], data["one_time_usd"]) == (20.0, 58.15, 0.32)
    assert data["one_time"][0] == {
        "name": "replica_seeding:us-east-2",
        "quantity": 2,
        "unit": "GB restored",
        "unit_price_usd": 0.15,
        "usd": 0.3,
    }
    assert {"name": "reads", "before_usd": 0.75, "after_usd": 0.75, "delta_usd": 0.0} in data["components"]
    line = delta.markdown()
    assert "$20.00 → $58.15 (+$38.15 a month)" in line and "replicated_writes:us-east-2 +$28.13" in line
    assert "once, on apply: $0.32 (replica_seeding:us-east-2 $0.30" in line
    assert "reads" not in line.split(":", 1)[1]  # unchanged components are left out


def test_plan_delta_of_creating_and_of_no_change():
    created = cost.plan_delta("staging", recorded("staging"), "us-east-1-legacy")
    assert created.before is None and created.before_usd == 0 and created.after_usd == D("20.00")
    assert "creates the table" in created.markdown()
    same = _plan_adding_replicas([])
    unchanged = cost.plan_delta("staging", same, "us-east-1")
    assert unchanged.delta_usd == 0 and not unchanged.changed() and unchanged.one_time == ()
    assert created.one_time == (), "a new table starts empty: its replicas need no seeding"
    assert "no priced component changes" in unchanged.markdown()
    assert json.loads(json.dumps(unchanged.to_dict()))["delta_usd"] == 0.0


def test_region_costs_of_a_global_table():
    spec = on_demand(max_write_request_units=50, replicas=(Replica(region="us-east-2"), Replica(region="eu-west-3")))
    report = cost.estimate("staging", "us-east-1", table=spec)
    rows = {row["region"]: row for row in cost.region_costs(report)}
    assert list(rows) == ["us-east-1", "us-east-2", "eu-west-3"]
    assert rows["us-east-1"]["role"] == "table" and rows["us-east-1"]["writes_usd"] == 9.38  # 15M x $0.625
    assert rows["us-east-2"] == {
        "region": "us-east-2",
        "role": "replica",
        "writes_usd": 9.38,
        "storage_usd": 0.5,
        "transfer_in_usd": 0.14,
        "write_ceiling_usd": 81.0,
    }
    assert rows["eu-west-3"]["writes_usd"] is None and rows["eu-west-3"]["write_ceiling_usd"] is None  # no price
    assert rows["eu-west-3"]["transfer_in_usd"] == 0.29  # 14.305 GB from us-east-1 at $0.02
    assert rows["us-east-1"]["transfer_in_usd"] is None
    assert report.configuration["replicas"][1] == {"region": "eu-west-3", "pitr_enabled": False, "kms_key_arn": None}
    assert cost.region_costs(cost.estimate("staging", "us-east-1", table=on_demand())) == []
