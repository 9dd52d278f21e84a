"""The worst case an on-demand throughput ceiling allows (:func:`on_demand_ceiling`), and what the estimate says of it.

Cost layer: imports the Terraform and AWS layers and the base modules.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

from runbook.cost.model import Drivers, _limit
from runbook.cost.pricing import (
    DEFAULT_PRICING,
    MILLION,
    SECONDS_PER_DAY,
    Pricing,
    dec,
    load_pricing,
    money,
    number,
)
from runbook.cost.regions import replicated_write_prices, table_region
from runbook.spec import TableSpec


# -- the worst case an on-demand ceiling allows -------------------------------------------------------------------
@dataclass(frozen=True)
class CeilingComponent:
    name: str
    max_request_units_per_second: int
    quantity: Decimal
    unit: str
    unit_price_usd: Decimal
    monthly_usd: Decimal

    def to_dict(self) -> dict:
        return {
            "name": self.name,
            "max_request_units_per_second": self.max_request_units_per_second,
            "quantity": number(self.quantity),
            "unit": self.unit,
            "unit_price_usd": float(self.unit_price_usd),
            "monthly_usd": float(self.monthly_usd),
        }


@dataclass(frozen=True)
class Ceiling:
    """The most an on-demand table can spend on throughput in a month, from its ``on_demand_throughput`` maxima.

    Each capped dimension (table reads and writes, each GSI's) is ``units/s x seconds in the month x price``;
    dimensions without a maximum are listed in ``unlimited``, and then the worst case is not bounded.
    """

    seconds_per_month: Decimal
    components: tuple[CeilingComponent, ...]
    unlimited: tuple[str, ...]
    #: Capped dimensions the price set has no figure for (a replica region it does not price).
    unpriced: tuple[str, ...] = ()

    @property
    def total_monthly_usd(self) -> Decimal:
        return sum((c.monthly_usd for c in self.components), Decimal("0.00"))

    @property
    def bounded(self) -> bool:
        return not self.unlimited and not self.unpriced

    def component(self, name: str) -> CeilingComponent | None:
        return next((c for c in self.components if c.name == name), None)

    def to_dict(self) -> dict:
        return {
            "seconds_per_month": number(self.seconds_per_month),
            "components": [c.to_dict() for c in self.components],
            "unlimited": list(self.unlimited),
            "unpriced": list(self.unpriced),
            "bounded": self.bounded,
            "total_monthly_usd": float(self.total_monthly_usd),
        }


def on_demand_ceiling(
    spec: TableSpec,
    pricing: "str | Path | Pricing" = DEFAULT_PRICING,
    days_per_month: int = 30,
    hours_per_month: "float | Decimal | None" = None,
) -> Ceiling | None:
    """The worst-case throughput spend the table's on-demand ceilings allow; ``None`` when it sets none (or is
    provisioned, where the capacity itself bounds the bill). ``hours_per_month``, when given, decides the month.

    A global table's capped writes are priced in every region: ``writes`` at its own region's replicated price and
    ``replicated_writes:<region>`` per replica (writes entering through the table's own region, each replicated
    once to every replica); a replica region without a price in the set is listed in ``unpriced``."""
    if spec.provisioned:
        return None
    dimensions = [("reads", spec.max_read_request_units, "read"), ("writes", spec.max_write_request_units, "write")]
    for index in spec.global_secondary_indexes:
        dimensions += [
            (f"gsi_reads:{index.name}", index.max_read_request_units, "read"),
            (f"gsi_writes:{index.name}", index.max_write_request_units, "write"),
        ]
    if all(_limit(limit) is None for _, limit, _ in dimensions):
        return None
    price_set = load_pricing(pricing)
    prices = price_set.for_class(spec.table_class)
    seconds = dec(hours_per_month) * 3600 if hours_per_month is not None else SECONDS_PER_DAY * days_per_month
    replicated = replicated_write_prices(spec, price_set)
    if replicated:
        home = table_region(spec, price_set)
        dimensions[2:2] = [
            (f"replicated_writes:{region}", spec.max_write_request_units, "replicated")
            for region in replicated
            if region != home
        ]
    components, unlimited, unpriced = [], [], []
    for name, limit, kind in dimensions:
        limit = _limit(limit)
        if limit is None:
            unlimited.append(name)
            continue
        unit = f"million {kind} request units"
        if kind == "read":
            price = prices.read_request_units_per_million
        elif kind == "replicated" or (name == "writes" and replicated):
            region = name.split(":", 1)[1] if kind == "replicated" else table_region(spec, price_set)
            price, unit = replicated.get(region), "million replicated write request units"
            if price is None:
                unpriced.append(name)
                continue
        else:
            price = prices.write_request_units_per_million
        quantity = Decimal(limit) * seconds / MILLION
        components.append(CeilingComponent(name, limit, quantity, unit, price, money(quantity * price)))
    return Ceiling(seconds, tuple(components), tuple(unlimited), tuple(unpriced))


def _ceiling_notes(spec: TableSpec, ceiling: Ceiling, d: Drivers) -> list[str]:
    worst = f"${ceiling.total_monthly_usd:,.2f}"
    if ceiling.bounded:
        notes = [
            f"On-demand throughput ceiling: at most {worst} a month of throughput, whatever the traffic "
            "(requests above the maxima are throttled)."
        ]
    else:
        open_ = ([f"{', '.join(ceiling.unlimited)} unlimited"] if ceiling.unlimited else []) + (
            [f"{', '.join(ceiling.unpriced)} not priced"] if ceiling.unpriced else []
        )
        notes = [
            f"On-demand throughput ceiling: the capped dimensions cost at most {worst} a month; "
            f"{'; '.join(open_)}, so the worst case is not bounded."
        ]
    for name, units_per_day in (("writes", d.write_units_per_day), ("reads", d.read_units_per_day)):
        capped = ceiling.component(name)
        average = units_per_day / SECONDS_PER_DAY
        if capped and average > capped.max_request_units_per_second:
            notes.append(
                f"The usage profile's {name} ({float(average):,.1f} units/s on average) exceed the "
                f"table's maximum of {capped.max_request_units_per_second} units/s: requests above "
                "it are throttled, and the estimate prices them as if they were served."
            )
    return notes
