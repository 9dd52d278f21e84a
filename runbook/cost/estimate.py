"""The estimate: a planned table (:class:`~runbook.spec.TableSpec`) × a usage profile × a price set.

The table is what Terraform plans (:func:`runbook.terraform.tfjson.table_spec` of the plan's planned values): it decides
what applies — on-demand or provisioned (capacities, autoscaling minimums and maximums), GSIs, the table class,
PITR, streams, alarms, the dashboard, Contributor Insights — the way Infracost prices a plan. The report names
what was priced (:func:`describe_configuration`) and, where the table sets an on-demand throughput ceiling
(``on_demand_throughput``), the worst-case monthly spend that ceiling allows (:class:`Ceiling`).

Money is computed in :class:`~decimal.Decimal`; each component is rounded to the cent (half up) and the total is the
sum of the rounded components, so a report always adds up. A month is the usage profile's ``hours_per_month``
(730 in AWS's calculator and Infracost), else ``days_per_month * 24`` hours (the guide's 30 days, 720 h):
provisioned capacity is billed for those hours and daily requests for ``hours / 24`` days.

A global table (``replica`` blocks) is billed in replicated write units in every region, its own included
(``writes`` is then priced as replicated writes in the table's region), plus ``replicated_writes:<region>``,
``replica_storage:<region>`` and ``replication_transfer:<region>`` (the data written, sent there from the table's
region: :mod:`.replication`) for each replica, at the price set's figures; a figure the set lacks is named as not
priced. Seeding a replica a plan adds is a one-time charge: :func:`runbook.cost.plan_delta` prices it.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any, Mapping

from runbook.cost.ceiling import _ceiling_notes, on_demand_ceiling
from runbook.cost.model import Component, CostReport, _component, _limit
from runbook.cost.pricing import (
    DEFAULT_PRICING,
    HUNDRED_K,
    KB_PER_GB,
    MILLION,
    Pricing,
    dec,
    load_pricing,
    number,
)
from runbook.cost.quantities import capacity_for, contributor_insights_rules, drivers, provisioned_capacity
from runbook.cost.regions import _replicated, table_region
from runbook.cost.replication import replication_transfer
from runbook.cost.usage import relative, usage_inputs
from runbook.errors import ParameterError
from runbook.params import environment as check_environment
from runbook.spec import TableSpec


# -- what was priced --------------------------------------------------------------------------------------------
def describe_configuration(
    spec: TableSpec,
    *,
    source: str = "argument",
    tfvars: Path | str | None = None,
    origin: str | None = None,
    note: str = "",
    not_priced: tuple[str, ...] = (),
) -> dict:
    """The ``configuration`` object of the report: which tfvars, from where (``plan``, ``tfvars``, ``argument``),
    and every setting of the table that the estimate depends on."""
    scaling = spec.autoscaling
    return {
        "tfvars": str(tfvars) if tfvars else None,
        "tfvars_origin": origin,
        "source": source,
        "note": note,
        "table": spec.name,
        "region": spec.region or None,
        "billing_mode": spec.billing_mode,
        "table_class": spec.table_class,
        "read_capacity": spec.read_capacity,
        "write_capacity": spec.write_capacity,
        "autoscaling": (
            {
                "read_min": scaling.read_min,
                "read_max": scaling.read_max,
                "write_min": scaling.write_min,
                "write_max": scaling.write_max,
                "target_utilization": scaling.target_utilization,
            }
            if scaling.enabled
            else None
        ),
        "on_demand_throughput": _ceiling_settings(spec.max_read_request_units, spec.max_write_request_units),
        "global_secondary_indexes": [
            {
                "name": index.name,
                "read_capacity": index.read_capacity,
                "write_capacity": index.write_capacity,
                "on_demand_throughput": _ceiling_settings(index.max_read_request_units, index.max_write_request_units),
            }
            for index in spec.global_secondary_indexes
        ],
        "pitr_enabled": spec.pitr_enabled,
        "stream_enabled": spec.stream_enabled,
        "replicas": [
            {"region": r.region, "pitr_enabled": r.pitr_enabled, "kms_key_arn": r.kms_key_arn} for r in spec.replicas
        ],
        "alarms": spec.alarm_names(),
        "dashboard_enabled": spec.dashboard_enabled,
        "contributor_insights_enabled": spec.contributor_insights_enabled,
        "not_priced": list(not_priced),
    }


def _ceiling_settings(read: int | None, write: int | None) -> dict | None:
    read, write = _limit(read), _limit(write)
    return (
        None if read is None and write is None else {"max_read_request_units": read, "max_write_request_units": write}
    )


class _Allowance:
    """A free-tier allowance shared by several components (e.g. 25 GB across table and index storage)."""

    def __init__(self, amount: Decimal, enabled: bool):
        self.left = amount if enabled else Decimal(0)

    def take(self, quantity: Decimal) -> Decimal:
        """The billable part of ``quantity``."""
        free = min(self.left, quantity)
        self.left -= free
        return quantity - free


def estimate(
    environment: str,
    pricing: "str | Path | Pricing" = DEFAULT_PRICING,
    free_tier: bool = False,
    usage: Any = None,
    *,
    table: TableSpec,
    measured: Mapping[str, Any] | None = None,
    configuration: Mapping[str, Any] | None = None,
) -> CostReport:
    """The monthly cost of ``table`` (as Terraform plans it) with ``environment``'s usage and a price set.

    ``usage``: ``None`` (the environment's profile), a mapping of overrides, a :class:`UsageProfile` or
    :class:`UsageInputs`. ``measured``: what :func:`usage_from_cloudwatch` returned, replacing the profile's
    request units and table size. ``configuration``: what was priced (:func:`describe_configuration`; by default
    described from ``table`` with source ``argument``).
    """
    check_environment(environment)
    if not isinstance(table, TableSpec):
        raise ParameterError("table", table, "the planned table (runbook.terraform.tfjson.table_spec of the plan)")
    prices = load_pricing(pricing)
    spec = table
    inputs = usage_inputs(environment, usage)
    d = drivers(inputs, spec, measured)
    d.usage["free_tier"] = {"value": bool(free_tier), "source": "option"}
    p, cls, ft = inputs.profile, prices.for_class(spec.table_class), prices.free_tier
    components: list[Component] = []
    notes: list[str] = []
    configuration = dict(configuration) if configuration else describe_configuration(spec)

    if spec.provisioned:
        utilization = dec(p.target_utilization)
        wcu_pool, rcu_pool = _Allowance(ft.wcu, free_tier), _Allowance(ft.rcu, free_tier)
        wcu = provisioned_capacity(spec, "write", d.write_units_per_day, utilization)
        rcu = provisioned_capacity(spec, "read", d.read_units_per_day, utilization)
        d.usage["provisioned_wcu"] = {
            "value": number(wcu),
            "source": "configuration" if (spec.write_capacity and not spec.autoscaling.enabled) else "derived",
        }
        d.usage["provisioned_rcu"] = {
            "value": number(rcu),
            "source": "configuration" if (spec.read_capacity and not spec.autoscaling.enabled) else "derived",
        }
        components.append(_component("writes", wcu_pool.take(wcu) * d.hours, "WCU-hours", cls.wcu_hour))
        components.append(_component("reads", rcu_pool.take(rcu) * d.hours, "RCU-hours", cls.rcu_hour))
        notes.append(
            f"Provisioned capacity billed for {number(d.hours)} hours "
            + (
                "(hours_per_month)."
                if p.hours_per_month is not None
                else f"({p.days_per_month} days x 24; AWS's calculator uses 730: set hours_per_month)."
            )
        )
    else:
        components.append(
            _component(
                "writes",
                d.write_units_per_day * d.days / MILLION,
                "million write request units",
                cls.write_request_units_per_million,
            )
        )
        components.append(
            _component(
                "reads",
                d.read_units_per_day * d.days / MILLION,
                "million read request units",
                cls.read_request_units_per_million,
            )
        )
    storage_pool = _Allowance(ft.storage_gb, free_tier)
    components.append(_component("storage", storage_pool.take(d.storage_gb), "GB-month", cls.storage_gb_month))

    if d.gsi_count:
        if spec.provisioned:
            gsi_wcu = Decimal(0)
            for index in range(d.gsi_count):
                configured = (
                    spec.global_secondary_indexes[index].write_capacity
                    if index < len(spec.global_secondary_indexes)
                    else None
                )
                gsi_wcu += (
                    Decimal(configured)
                    if configured
                    else capacity_for(d.gsi_write_units_per_day / d.gsi_count, dec(p.target_utilization))
                )
            components.append(_component("gsi_writes", wcu_pool.take(gsi_wcu) * d.hours, "WCU-hours", cls.wcu_hour))
            # A provisioned index's read capacity is billed by the hour, read or not (the profile's reads are
            # the table's): the planned capacity, else the minimum of 1 RCU.
            gsi_rcu = sum(
                (
                    Decimal(spec.global_secondary_indexes[index].read_capacity or 1)
                    if index < len(spec.global_secondary_indexes)
                    else Decimal(1)
                    for index in range(d.gsi_count)
                ),
                Decimal(0),
            )
            components.append(_component("gsi_reads", rcu_pool.take(gsi_rcu) * d.hours, "RCU-hours", cls.rcu_hour))
        else:
            components.append(
                _component(
                    "gsi_writes",
                    d.gsi_write_units_per_day * d.days / MILLION,
                    "million write request units",
                    cls.write_request_units_per_million,
                )
            )
        components.append(
            _component("gsi_storage", storage_pool.take(d.gsi_storage_gb), "GB-month", cls.storage_gb_month)
        )
    if spec.pitr_enabled:
        components.append(_component("pitr", d.storage_gb, "GB-month", prices.pitr_gb_month))
    if p.on_demand_backup_gb:
        components.append(_component("backups", dec(p.on_demand_backup_gb), "GB-month", prices.backup_gb_month))
    if p.restore_gb_per_month:
        components.append(_component("restores", dec(p.restore_gb_per_month), "GB restored", prices.restore_gb))
    if spec.stream_enabled:
        requests = dec(p.stream_consumers) * dec(p.stream_reads_per_consumer_per_day) * d.days
        billable = _Allowance(ft.stream_read_requests, free_tier).take(requests)
        components.append(
            _component(
                "streams", billable / HUNDRED_K, "100K stream read requests", prices.stream_read_requests_per_100k
            )
        )
        notes.append(
            f"Streams: reads by Lambda triggers are free; {p.stream_consumers} other consumer(s) in the usage profile."
        )
    if spec.alarms:
        billable = _Allowance(ft.alarms, free_tier).take(Decimal(len(spec.alarms)))
        components.append(_component("alarms", billable, "alarm-months", prices.alarm_month))
    if spec.dashboard_enabled:
        billable = _Allowance(ft.dashboards, free_tier).take(Decimal(1))
        components.append(_component("dashboard", billable, "dashboard-months", prices.dashboard_month))
    if spec.contributor_insights_enabled:
        rules = Decimal(contributor_insights_rules(spec))
        events = d.writes_per_month + d.reads_per_month
        components.append(
            _component(
                "contributor_insights",
                _Allowance(ft.contributor_insights_rules, free_tier).take(rules),
                "rule-months",
                prices.contributor_insights_rule_month,
            )
        )
        components.append(
            _component(
                "contributor_insights_events",
                _Allowance(ft.contributor_insights_events, free_tier).take(events) / MILLION,
                "million events",
                prices.contributor_insights_events_per_million,
            )
        )

    if spec.replicas:
        components, replica_notes = _replicated(spec, prices, d, components)
        notes.extend(replica_notes)
        gb = d.writes_per_month * dec(p.item_size_kb) / KB_PER_GB
        d.usage["replicated_gb_per_month"] = {
            "value": number(gb),
            "source": "derived",
            "ref": "writes_per_day x days x item_size_kb / 1,048,576 KB per GB",
        }
        charges, transfer_notes = replication_transfer(
            table_region(spec, prices), [r.region for r in spec.replicas], prices, gb
        )
        components += [_component(c.name, c.quantity, c.unit, c.unit_price_usd) for c in charges]
        notes.extend(transfer_notes)
    ceiling = on_demand_ceiling(spec, prices, p.days_per_month, p.month_hours)
    if ceiling:
        notes.extend(_ceiling_notes(spec, ceiling, d))
    for item in configuration.get("not_priced") or ():
        notes.append(f"Not priced: {item}")
    sources = {entry.get("source") for entry in d.usage.values()}
    if measured:
        notes.insert(0, "Some usage measured by CloudWatch/DynamoDB (see usage sources); the rest from the profile.")
    elif inputs.path is not None:
        notes.insert(0, f"Usage from {relative(inputs.path)}" + (" with overrides." if "override" in sources else "."))
    notes.append(
        "Free tier applied (account-wide allowances, shared by every table)."
        if free_tier
        else "Free tier not applied (--free-tier applies it)."
    )
    return CostReport(
        environment=environment,
        pricing=prices,
        usage=d.usage,
        components=tuple(components),
        billing_mode=spec.billing_mode,
        table_class=spec.table_class,
        free_tier=bool(free_tier),
        configuration=configuration,
        ceiling=ceiling,
        notes=tuple(notes),
    )
