"""Comparisons: on-demand vs provisioned (from the usage profile or from measured load), Standard vs
Standard-IA, the guide's figures then and now, growth with the user base, and the guide's "High Costs" advice
priced. Every figure comes from :func:`~runbook.cost.estimate.estimate` and the same price sets, with the same
month (the profile's ``hours_per_month``, else ``days_per_month * 24`` hours): one billing model for the cost
runbook (05) and the troubleshooting runbook's "consider provisioned" finding (04).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any, Mapping, Sequence

from runbook.cost.estimate import estimate
from runbook.cost.model import CostReport
from runbook.cost.pricing import (
    DEFAULT_PRICING,
    KB_PER_GB,
    LEGACY_PRICING,
    MILLION,
    SECONDS_PER_HOUR,
    TABLE_CLASSES,
    ClassPrices,
    Pricing,
    ceil,
    dec,
    load_pricing,
    money,
    number,
)
from runbook.cost.quantities import capacity_for, contributor_insights_rules, drivers
from runbook.cost.usage import UsageProfile, apply_overrides, usage_inputs
from runbook.errors import ParameterError
from runbook.params import environment as check_environment
from runbook.spec import TableClass, TableSpec

#: The configuration guide's own figures ("Cost Estimation"), in dollars a month, for side-by-side comparisons.
SEED_FIGURES: dict[str, dict[str, Decimal]] = {
    "staging": {
        "writes": Decimal("18.75"),
        "reads": Decimal("0.75"),
        "storage": Decimal("0.50"),
        "total": Decimal("20.00"),
    },
    "production": {
        "writes": Decimal("1875.00"),
        "reads": Decimal("75.00"),
        "storage": Decimal("12.50"),
        "total": Decimal("1962.50"),
    },
}


# -- provisioned vs on-demand -----------------------------------------------------------------------------------
@dataclass(frozen=True)
class BillingComparison:
    """On-demand vs provisioned for the same load (table and GSI throughput only)."""

    target_utilization: Decimal
    hours_per_month: Decimal
    write_units_per_day: Decimal
    read_units_per_day: Decimal
    wcu: Decimal
    rcu: Decimal
    on_demand_monthly_usd: Decimal
    provisioned_monthly_usd: Decimal
    break_even_utilization: Decimal
    prices: ClassPrices

    @property
    def saving_usd(self) -> Decimal:
        """What provisioned saves a month over on-demand (negative: it costs more)."""
        return self.on_demand_monthly_usd - self.provisioned_monthly_usd

    @property
    def cheaper(self) -> str:
        return "PROVISIONED" if self.saving_usd > 0 else "PAY_PER_REQUEST"

    def provisioned_at(self, utilization: float | Decimal) -> Decimal:
        """Monthly provisioned cost when capacity runs at ``utilization`` on average (capacity = load / u)."""
        u = dec(utilization)
        wcu, rcu = capacity_for(self.write_units_per_day, u), capacity_for(self.read_units_per_day, u)
        return money((wcu * self.prices.wcu_hour + rcu * self.prices.rcu_hour) * self.hours_per_month)

    def to_dict(self) -> dict:
        return {
            "target_utilization": float(self.target_utilization),
            "hours_per_month": number(self.hours_per_month),
            "wcu": number(self.wcu),
            "rcu": number(self.rcu),
            "on_demand_monthly_usd": float(self.on_demand_monthly_usd),
            "provisioned_monthly_usd": float(self.provisioned_monthly_usd),
            "saving_usd": float(self.saving_usd),
            "cheaper": self.cheaper,
            "break_even_utilization": round(float(self.break_even_utilization), 4),
        }


def _utilization(value: Any, parameter: str = "target_utilization") -> Decimal:
    u = dec(value)
    if not Decimal(0) < u <= Decimal(1):
        raise ParameterError(parameter, value, "a fraction in (0, 1]")
    return u


def _comparison(
    cls: ClassPrices,
    write_units_per_day: Decimal,
    read_units_per_day: Decimal,
    wcu: Decimal,
    rcu: Decimal,
    days: Decimal,
    u: Decimal,
) -> BillingComparison:
    """Both monthly costs of one load, and the cost-weighted break-even utilisation."""
    hours = days * 24
    provisioned = money((wcu * cls.wcu_hour + rcu * cls.rcu_hour) * hours)
    on_demand = money(write_units_per_day * days / MILLION * cls.write_request_units_per_million) + money(
        read_units_per_day * days / MILLION * cls.read_request_units_per_million
    )
    writes_od = write_units_per_day * cls.write_request_units_per_million / MILLION
    reads_od = read_units_per_day * cls.read_request_units_per_million / MILLION
    # cost-weighted: provisioned(u) = on-demand  <=>  u = sum(load x capacity price) / (3600 x sum(load x unit price))
    denominator = SECONDS_PER_HOUR * (writes_od + reads_od)
    combined = (
        (write_units_per_day * cls.wcu_hour + read_units_per_day * cls.rcu_hour) / denominator
        if denominator
        else Decimal(0)
    )
    return BillingComparison(
        target_utilization=u,
        hours_per_month=hours,
        write_units_per_day=write_units_per_day,
        read_units_per_day=read_units_per_day,
        wcu=wcu,
        rcu=rcu,
        on_demand_monthly_usd=on_demand,
        provisioned_monthly_usd=provisioned,
        break_even_utilization=combined,
        prices=cls,
    )


def compare_billing_modes(
    environment: str,
    pricing: "str | Path | Pricing" = DEFAULT_PRICING,
    usage: Any = None,
    *,
    table: TableSpec,
    target_utilization: float | None = None,
    measured: Mapping[str, Any] | None = None,
) -> BillingComparison:
    """Capacity the profile's load needs at ``target_utilization`` (default: the profile's), both monthly costs,
    break-even.

    Capacity = average units per second / utilisation, rounded up (real traffic has peaks: autoscaling's target
    plays this role). Hours per month: the profile's month (``hours_per_month``, else ``days_per_month * 24``). The
    break-even utilisation is computed from the prices: below it on-demand is cheaper.
    """
    check_environment(environment)
    cls = load_pricing(pricing).for_class(table.table_class)
    inputs = usage_inputs(environment, usage)
    d = drivers(inputs, table, measured)
    u = _utilization(target_utilization if target_utilization is not None else inputs.profile.target_utilization)
    write_units = d.write_units_per_day + d.gsi_write_units_per_day
    return _comparison(
        cls,
        write_units,
        d.read_units_per_day,
        capacity_for(write_units, u),
        capacity_for(d.read_units_per_day, u),
        d.days,
        u,
    )


def compare_measured_load(
    table: TableSpec,
    hourly_read_units: Sequence[float],
    hourly_write_units: Sequence[float],
    pricing: "str | Path | Pricing" = DEFAULT_PRICING,
    target_utilization: float | None = None,
    days_per_month: int | None = None,
) -> BillingComparison:
    """On-demand vs provisioned for a measured load: consumed read/write units per hour (CloudWatch ``Sum`` at a
    3,600 s period; hours without traffic as 0), e.g. 04's "consider provisioned" finding.

    On-demand prices the mean hourly load over the month; provisioned sizes capacity for the **peak** hour at
    ``target_utilization`` (default: the table's autoscaling target when it has one, else the usage profile's
    default), billed for ``days_per_month * 24`` hours (default: the usage profile's month, 30 days = 720 h).
    """
    if not hourly_read_units and not hourly_write_units:
        raise ParameterError("hourly_read_units", [], "at least one hour of consumed capacity")
    if target_utilization is None:
        target = table.autoscaling.target_utilization
        target_utilization = target / 100 if target else UsageProfile.model_fields["target_utilization"].default
    u = _utilization(target_utilization)
    days = Decimal(days_per_month or UsageProfile.model_fields["days_per_month"].default)
    reads = [dec(v) for v in hourly_read_units] or [Decimal(0)]
    writes = [dec(v) for v in hourly_write_units] or [Decimal(0)]

    def per_day(values: list[Decimal]) -> Decimal:
        return sum(values, Decimal(0)) / len(values) * 24

    def for_peak(values: list[Decimal]) -> Decimal:
        return max(Decimal(1), ceil(max(values) / SECONDS_PER_HOUR / u))

    cls = load_pricing(pricing).for_class(table.table_class)
    return _comparison(cls, per_day(writes), per_day(reads), for_peak(writes), for_peak(reads), days, u)


def compare_table_classes(
    environment: str, pricing: "str | Path | Pricing" = DEFAULT_PRICING, usage: Any = None, *, table: TableSpec
) -> dict[str, CostReport]:
    """The same table and usage priced as Standard and as Standard-IA."""
    return {
        cls: estimate(environment, pricing, usage=usage, table=table.model_copy(update={"table_class": cls}))
        for cls in TABLE_CLASSES
    }


# -- the guide's figures, growth ----------------------------------------------------------------------------------
def seed_comparison(environment: str, usage: Any = None, *, table: TableSpec) -> list[dict]:
    """The guide's figures next to this engine's with the legacy and the current prices (writes, reads, storage).

    ``total (guide's scope)`` adds up only what the guide priced; ``total (all components)`` is every component
    that applies to the planned table.
    """
    legacy = estimate(environment, LEGACY_PRICING, usage=usage, table=table)
    current = estimate(environment, DEFAULT_PRICING, usage=usage, table=table)
    seed = SEED_FIGURES[environment]
    scope = ("writes", "reads", "storage")
    rows = [
        {
            "component": name,
            "guide_usd": float(seed[name]),
            "legacy_usd": float(legacy.monthly(name)),
            "current_usd": float(current.monthly(name)),
        }
        for name in scope
    ]
    rows.append(
        {
            "component": "total (guide's scope)",
            "guide_usd": float(seed["total"]),
            "legacy_usd": float(sum(legacy.monthly(n) for n in scope)),
            "current_usd": float(sum(current.monthly(n) for n in scope)),
        }
    )
    rows.append(
        {
            "component": "total (all components)",
            "guide_usd": None,
            "legacy_usd": float(legacy.total_monthly_usd),
            "current_usd": float(current.total_monthly_usd),
        }
    )
    return rows


def cost_by_users(
    environment: str,
    users: list[int],
    pricing: "str | Path | Pricing" = DEFAULT_PRICING,
    usage: Any = None,
    *,
    table: TableSpec,
) -> list[dict]:
    """Monthly total, on-demand and provisioned (at the profile's utilisation), as the user base grows."""
    prices = load_pricing(pricing)
    base = usage_inputs(environment, usage)
    rows = []
    for n in users:
        scaled = apply_overrides(base, {"users": n})
        report = estimate(environment, prices, usage=scaled, table=table)
        modes = compare_billing_modes(environment, prices, usage=scaled, table=table)
        rows.append(
            {
                "users": n,
                "total_monthly_usd": float(report.total_monthly_usd),
                "on_demand_throughput_usd": float(modes.on_demand_monthly_usd),
                "provisioned_throughput_usd": float(modes.provisioned_monthly_usd),
            }
        )
    return rows


# -- the guide's "High Costs" advice, priced ----------------------------------------------------------------------
@dataclass(frozen=True)
class Saving:
    """One piece of the guide's "High Costs" advice, in dollars a month."""

    advice: str
    before_usd: Decimal
    after_usd: Decimal
    assumption: str

    @property
    def saved_usd(self) -> Decimal:
        return self.before_usd - self.after_usd

    def to_dict(self) -> dict:
        return {
            "advice": self.advice,
            "before_usd": float(self.before_usd),
            "after_usd": float(self.after_usd),
            "saved_usd": float(self.saved_usd),
            "assumption": self.assumption,
        }


def scan_to_query_saving(
    profile: UsageProfile, prices: Pricing, table_class: TableClass = "STANDARD", scans_per_day: int = 24
) -> Saving:
    """Replace full-table Scans with a Query of one user's partition (on-demand read units).

    A Scan reads the whole table in 4 KB read units, eventually consistent by default (half a unit each);
    a Query reads one user's items: table size / users.
    """
    cls = prices.for_class(table_class)
    table_kb = dec(profile.storage_gb) * KB_PER_GB
    scan_units = ceil(table_kb / 4) * Decimal("0.5")
    partition_kb = table_kb / dec(profile.users) if profile.users else table_kb
    query_units = max(Decimal(1), ceil(partition_kb / 4)) * Decimal("0.5")
    per_month = dec(scans_per_day) * profile.month_days / MILLION * cls.read_request_units_per_million
    return Saving(
        "Check for scan operations (use Query instead)",
        money(scan_units * per_month),
        money(query_units * per_month),
        f"{scans_per_day} full-table scans a day of {profile.storage_gb:g} GB, each replaced by a Query "
        f"of one user's items ({number(partition_kb.quantize(Decimal('0.1')))} KB)",
    )


def ttl_saving(
    profile: UsageProfile,
    prices: Pricing,
    table_class: TableClass = "STANDARD",
    pitr_enabled: bool = False,
    months_without_ttl: int = 12,
) -> Saving:
    """Storage (and PITR) when TTL is not deleting: after ``months_without_ttl`` the table holds every item.

    With TTL the table holds ``retention_days`` of items (``storage_gb``); without it, storage grows linearly
    with the days kept. TTL deletes cost nothing.
    """
    cls = prices.for_class(table_class)
    per_gb = cls.storage_gb_month + (prices.pitr_gb_month if pitr_enabled else Decimal(0))
    kept_days = dec(months_without_ttl) * profile.month_days
    grown = dec(profile.storage_gb) * max(Decimal(1), kept_days / dec(profile.retention_days))
    return Saving(
        "Verify TTL is deleting old items",
        money(grown * per_gb),
        money(dec(profile.storage_gb) * per_gb),
        f"after {months_without_ttl} months without TTL: {number(grown)} GB instead of "
        f"{profile.storage_gb:g} GB ({profile.retention_days}-day retention)"
        + (", PITR included" if pitr_enabled else ""),
    )


def hot_key_cost(environment: str, prices: Pricing, table: TableSpec, usage: Any = None) -> Saving:
    """Finding hot keys with Contributor Insights is not free: what enabling it would add a month."""
    with_ci = table.model_copy(update={"contributor_insights_enabled": True})
    cost = sum(
        (
            c.monthly_usd
            for c in estimate(environment, prices, usage=usage, table=with_ci).components
            if c.name.startswith("contributor_insights")
        ),
        Decimal("0.00"),
    )
    return Saving(
        "Review CloudWatch metrics for hot keys (Contributor Insights)",
        Decimal("0.00"),
        cost,
        f"{contributor_insights_rules(table)} rules plus one event per request; the metrics themselves "
        "are free, the insight rules are not (a cost, not a saving)",
    )


def high_costs_savings(
    environment: str,
    pricing: "str | Path | Pricing" = DEFAULT_PRICING,
    usage: Any = None,
    *,
    table: TableSpec,
    scans_per_day: int = 24,
    months_without_ttl: int = 12,
    target_utilization: float | None = None,
) -> list[Saving]:
    """The guide's four "High Costs" solutions, each priced for this environment."""
    prices = load_pricing(pricing)
    profile = usage_inputs(environment, usage).profile
    modes = compare_billing_modes(environment, prices, usage=usage, table=table, target_utilization=target_utilization)
    provisioned = Saving(
        "Consider switching to provisioned mode",
        modes.on_demand_monthly_usd,
        modes.provisioned_monthly_usd,
        f"steady load at {float(modes.target_utilization):.0%} average utilisation: "
        f"{number(modes.wcu)} WCU, {number(modes.rcu)} RCU; break-even "
        f"{float(modes.break_even_utilization):.1%}",
    )
    return [
        scan_to_query_saving(profile, prices, table.table_class, scans_per_day),
        ttl_saving(profile, prices, table.table_class, table.pitr_enabled, months_without_ttl),
        hot_key_cost(environment, prices, table, usage),
        provisioned,
    ]
