"""What a month of the usage profile bills: request units, storage and index writes (with where each figure came
from: the profile, an override, CloudWatch, the planned table), the provisioned capacity that serves them, the
Contributor Insights rules a table has. Used by :mod:`.estimate` and :mod:`.compare`.

May import: :mod:`runbook.cost.model`, :mod:`runbook.cost.pricing`, :mod:`runbook.cost.usage`, the base modules.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any, Mapping

from runbook.cost.model import Drivers
from runbook.cost.pricing import SECONDS_PER_DAY, ceil, dec, number
from runbook.cost.usage import USAGE_FIELDS, UsageInputs
from runbook.spec import TableSpec


def drivers(inputs: UsageInputs, spec: TableSpec, measured: Mapping[str, Any] | None = None) -> Drivers:
    """Turn a usage profile (and measurements) into request units, storage and their provenance."""
    p = inputs.profile
    measured = measured or {}
    usage: dict[str, dict] = {name: {"value": getattr(p, name), **inputs.source(name)} for name in USAGE_FIELDS}
    days = p.month_days
    usage["month_hours"] = {
        "value": number(p.month_hours),
        **(
            inputs.source("hours_per_month")
            if p.hours_per_month is not None
            else {"source": "derived", "ref": "days_per_month x 24"}
        ),
    }

    writes_per_day = dec(p.effective_writes_per_day)
    if p.writes_per_day is None:
        usage["writes_per_day"] = {
            "value": number(writes_per_day),
            "source": "derived",
            "ref": "users x notifications_per_user_per_day",
        }
    size = dec(p.item_size_kb)
    tw, tr = dec(p.transactional_write_fraction), dec(p.transactional_read_fraction)
    consistency = Decimal("0.5") if p.read_consistency == "eventual" else Decimal(1)
    units_per_write = ceil(size) * (1 + tw)
    units_per_read = ceil(size / 4) * ((1 - tr) * consistency + tr * 2)
    usage["write_units_per_write"] = {
        "value": number(units_per_write),
        "source": "derived",
        "ref": "ceil(item_size_kb / 1 KB) x (1 + transactional_write_fraction)",
    }
    usage["read_units_per_read"] = {
        "value": number(units_per_read),
        "source": "derived",
        "ref": "ceil(item_size_kb / 4 KB) x (consistency 1 or 0.5, transactional reads 2)",
    }

    reads_per_day = dec(p.reads_per_day)
    if "write_units_per_day" in measured:
        write_units = dec(measured["write_units_per_day"])
        usage["write_units_per_day"] = {
            "value": number(write_units),
            "source": "cloudwatch",
            "ref": f"ConsumedWriteCapacityUnits, {measured.get('days', 30)}-day sum / days",
        }
    else:
        write_units = writes_per_day * units_per_write
        usage["write_units_per_day"] = {
            "value": number(write_units),
            "source": "derived",
            "ref": "writes_per_day x write_units_per_write",
        }
    if "read_units_per_day" in measured:
        read_units = dec(measured["read_units_per_day"])
        usage["read_units_per_day"] = {
            "value": number(read_units),
            "source": "cloudwatch",
            "ref": f"ConsumedReadCapacityUnits, {measured.get('days', 30)}-day sum / days",
        }
    else:
        read_units = reads_per_day * units_per_read
        usage["read_units_per_day"] = {
            "value": number(read_units),
            "source": "derived",
            "ref": "reads_per_day x read_units_per_read",
        }
    storage = dec(p.storage_gb)
    if "storage_gb" in measured:
        storage = dec(round(float(measured["storage_gb"]), 6))
        usage["storage_gb"] = {"value": number(storage), "source": "describe_table", "ref": "TableSizeBytes"}

    gsi_count = p.gsi_count if p.gsi_count is not None else len(spec.global_secondary_indexes)
    if p.gsi_count is None:
        usage["gsi_count"] = {"value": gsi_count, "source": "configuration", "ref": "global_secondary_indexes"}
    gsi_size = dec(p.gsi_item_size_kb if p.gsi_item_size_kb is not None else p.item_size_kb)
    gsi_fraction = dec(p.gsi_write_fraction)
    gsi_write_units = writes_per_day * gsi_fraction * ceil(gsi_size) * gsi_count
    gsi_storage = storage * gsi_fraction * (gsi_size / size) * gsi_count

    usage["billing_mode"] = {"value": spec.billing_mode, "source": "configuration"}
    usage["table_class"] = {"value": spec.table_class, "source": "configuration"}
    usage["pitr_enabled"] = {"value": spec.pitr_enabled, "source": "configuration"}
    usage["stream_enabled"] = {"value": spec.stream_enabled, "source": "configuration"}
    usage["alarms"] = {"value": len(spec.alarms), "source": "configuration", "ref": "planned alarms"}
    usage["dashboard_enabled"] = {"value": spec.dashboard_enabled, "source": "configuration"}
    usage["contributor_insights_enabled"] = {"value": spec.contributor_insights_enabled, "source": "configuration"}
    return Drivers(
        days=days,
        hours=p.month_hours,
        writes_per_month=writes_per_day * days,
        reads_per_month=reads_per_day * days,
        write_units_per_day=write_units,
        read_units_per_day=read_units,
        storage_gb=storage,
        gsi_count=gsi_count,
        gsi_write_units_per_day=gsi_write_units,
        gsi_storage_gb=gsi_storage,
        usage=usage,
    )


def capacity_for(units_per_day: Decimal, utilization: Decimal) -> Decimal:
    """Capacity units (per second) serving ``units_per_day`` on average at ``utilization``: at least 1."""
    if units_per_day <= 0:
        return Decimal(1)
    return max(Decimal(1), ceil(units_per_day / SECONDS_PER_DAY / utilization))


def provisioned_capacity(spec: TableSpec, kind: str, units_per_day: Decimal, utilization: Decimal) -> Decimal:
    """The table's write or read capacity: autoscaling's level for the load (within its planned minimum and
    maximum, at its planned target), else the planned capacity, else what the load needs at ``utilization``."""
    scaling = spec.autoscaling
    if scaling.enabled:
        target = dec(scaling.target_utilization) / 100 if scaling.target_utilization else utilization
        need = capacity_for(units_per_day, target)
        low, high = (scaling.write_min, scaling.write_max) if kind == "write" else (scaling.read_min, scaling.read_max)
        if low is not None:
            need = max(need, Decimal(low))
        if high is not None:
            need = min(need, Decimal(high))
        return need
    configured = spec.write_capacity if kind == "write" else spec.read_capacity
    return Decimal(configured) if configured else capacity_for(units_per_day, utilization)


def contributor_insights_rules(spec: TableSpec) -> int:
    """Rules DynamoDB creates: 2 per table or GSI (most accessed / throttled keys), 4 when it has a sort key."""
    rules = 4 if spec.range_key else 2
    return rules + sum(4 if gsi.range_key else 2 for gsi in spec.global_secondary_indexes)
