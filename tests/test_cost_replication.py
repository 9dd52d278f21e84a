"""A global table's replication, priced from a plan recorded with the real Terraform on the emulator.

``cost-replica-added-plan.json`` (tests/fixtures/terraform/cost-record.py): the staging example applied with a
replica in us-west-1, then a replica in us-east-2 added. Its prior state and planned values are Terraform's (the
replicas are the emulator's fill: moto has no global tables). Figures, with the price set's sources:

* every write's data is sent from the table's region to each replica each month (AWS Prescriptive Guidance,
  "Global tables FAQ": "Cross-Region data transfer fees apply"): the staging profile's 500,000 writes a day of
  1 KB over 30 days = 15,000,000 KB = 14.305 GB, at $0.02 per GB from us-east-1 to us-west-1 and $0.01 to us-east-2;
* a replica added to an existing table is seeded "as if it were a table restore, based on the GB size of the table"
  plus "cross-Region data transfer fees" (the same FAQ): the profile's 2 GB at $0.15 (restore) and $0.01 (transfer).
"""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest

from runbook import cost
from runbook.cost import configured
from runbook.cost.replication import added_replicas, replication_transfer, seeding
from runbook.spec import Replica
from runbook.terraform.tfjson import PlanJson, table_spec

D = Decimal
FIXTURE = Path(__file__).parent / "fixtures" / "terraform" / "cost-replica-added-plan.json"
GB_WRITTEN = D(15_000_000) / D(1024 * 1024)  # 14.30511474609375


@pytest.fixture(scope="module")
def plan() -> PlanJson:
    return PlanJson.from_file(FIXTURE)


def test_the_recording_adds_a_replica_to_an_applied_global_table(plan):
    before, after = table_spec(plan.prior_resources()), table_spec(plan.planned_resources())
    assert [r.region for r in before.replicas] == ["us-west-1"]
    assert sorted(r.region for r in after.replicas) == ["us-east-2", "us-west-1"]
    assert added_replicas(before, after) == ["us-east-2"]
    assert added_replicas(None, after) == [], "a table the plan creates starts empty: nothing to seed"
    assert added_replicas(before, None) == []


def test_replication_data_is_priced_per_replica_region(plan):
    report = cost.estimate("staging", "us-east-1", table=table_spec(plan.planned_resources(), "us-east-1"))
    west, east = report.component("replication_transfer:us-west-1"), report.component("replication_transfer:us-east-2")
    assert west.quantity == east.quantity == GB_WRITTEN and west.unit == "GB transferred"
    assert (west.unit_price_usd, west.monthly_usd) == (D("0.02"), D("0.29"))
    assert (east.unit_price_usd, east.monthly_usd) == (D("0.01"), D("0.14"))  # us-east-1 -> us-east-2 is cheaper
    assert report.usage["replicated_gb_per_month"]["value"] == float(GB_WRITTEN)
    assert report.usage["replicated_gb_per_month"]["source"] == "derived"
    # us-west-1's rWRU has no published figure in the set: named, not guessed; its transfer is still priced
    assert report.component("replicated_writes:us-west-1") is None
    assert any("Not priced: replicated writes in us-west-1" in note for note in report.notes)
    rows = {row["region"]: row for row in cost.region_costs(report)}
    assert (rows["us-west-1"]["transfer_in_usd"], rows["us-east-2"]["transfer_in_usd"]) == (0.29, 0.14)


def test_the_plan_delta_adds_the_new_region_monthly_and_its_seeding_once(plan):
    delta = cost.plan_delta("staging", plan, "us-east-1", region="us-east-1")
    rows = {c.name: c for c in delta.components}
    assert rows["replication_transfer:us-west-1"].delta_usd == 0  # there before and after
    assert (
        rows["replication_transfer:us-east-2"].after_usd == D("0.14")
        and rows["replication_transfer:us-east-2"].before_usd == 0
    )
    assert rows["replicated_writes:us-east-2"].delta_usd == D("9.38")  # 15M rWRU x $0.625
    assert delta.delta_usd == D("10.02")  # 9.38 + 0.50 storage + 0.14 transfer
    assert [(c.name, c.quantity, c.unit_price_usd, c.monthly_usd) for c in delta.one_time] == [
        ("replica_seeding:us-east-2", 2, D("0.15"), D("0.30")),
        ("replica_seeding_transfer:us-east-2", 2, D("0.01"), D("0.02")),
    ]
    assert delta.one_time_usd == D("0.32") and delta.one_time_notes == ()
    assert "once, on apply: $0.32" in delta.markdown()


def test_runbook_cost_json_carries_the_one_time_charges(plan, monkeypatch, tmp_path):
    monkeypatch.setattr(configured, "configured_plan", lambda *args: (plan, "us-east-1", "recorded plan"))
    tfvars = tmp_path / "staging.tfvars"
    tfvars.write_text('dynamodb_billing_mode = "PAY_PER_REQUEST"\n')
    data = json.loads(cost.cost_command("staging", "us-east-1", "json", tfvars=str(tfvars)))
    assert data["plan_delta"]["one_time_usd"] == 0.32
    assert [c["name"] for c in data["plan_delta"]["one_time"]] == [
        "replica_seeding:us-east-2",
        "replica_seeding_transfer:us-east-2",
    ]
    names = {c["name"] for c in data["components"]}
    assert {"replication_transfer:us-west-1", "replication_transfer:us-east-2"} <= names
    text = cost.cost_command("staging", "us-east-1", "table", tfvars=str(tfvars))
    assert "once, on apply: $0.32" in text and "replication_transfer:us-east-2" in text


def test_regions_the_price_set_cannot_price_are_named():
    prices = cost.load_pricing("us-east-1")
    charges, notes = seeding("us-east-1", ["eu-west-3"], prices, D(2))
    assert [c.name for c in charges] == ["replica_seeding_transfer:eu-west-3"]  # data leaves us-east-1: priced
    assert notes == ["Not priced: seeding the new replica in eu-west-3 (no restore price for eu-west-3 in us-east-1)."]
    charges, notes = replication_transfer("eu-west-3", ["us-east-1"], prices, GB_WRITTEN)
    assert charges == [] and "no inter-region transfer price from eu-west-3" in notes[0]
    report = cost.estimate(
        "staging",
        "us-east-1",
        table=table_spec(PlanJson.from_file(FIXTURE).planned_resources(), "eu-west-3").model_copy(
            update={"replicas": (Replica(region="us-east-1"),)}
        ),
    )
    assert report.component("replication_transfer:us-east-1") is None
    assert any("replication data transfer eu-west-3 → us-east-1" in note for note in report.notes)
