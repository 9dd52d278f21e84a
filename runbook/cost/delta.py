"""What a plan changes in the monthly bill: the cost before and after, from the same plan JSON.

Infracost's ``diff``, the Terraform way: the plan's ``prior_state`` (the state the plan started from) and its
``planned_values`` (the state after the apply) are each read by :func:`runbook.terraform.tfjson.table_spec` and
priced by
:func:`~runbook.cost.estimate.estimate` with the same usage profile and price set; the difference is per
component. A plan that creates the table starts from $0, one that destroys it ends at $0.

Beside the monthly bill, ``one_time``: what applying the plan costs once. A replica the plan adds to an existing
table is seeded with the table's data (the usage profile's ``storage_gb``): a restore in the new region and the
data sent there (:mod:`.replication`).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

from runbook.cost.estimate import estimate
from runbook.cost.model import Component, CostReport
from runbook.cost.pricing import DEFAULT_PRICING, Pricing, dec, load_pricing, money
from runbook.cost.regions import table_region
from runbook.cost.replication import added_replicas, seeding
from runbook.cost.usage import usage_inputs
from runbook.spec import TableSpec
from runbook.terraform.tfjson import PlanJson, table_spec

ZERO = Decimal("0.00")


@dataclass(frozen=True)
class ComponentDelta:
    name: str
    before_usd: Decimal
    after_usd: Decimal

    @property
    def delta_usd(self) -> Decimal:
        return self.after_usd - self.before_usd

    def to_dict(self) -> dict:
        return {
            "name": self.name,
            "before_usd": float(self.before_usd),
            "after_usd": float(self.after_usd),
            "delta_usd": float(self.delta_usd),
        }


@dataclass(frozen=True)
class PlanDelta:
    """The monthly cost before and after a plan, per component (every component of either side)."""

    before: CostReport | None
    after: CostReport | None
    components: tuple[ComponentDelta, ...]
    #: What applying the plan costs once (seeding the replicas it adds), not part of the monthly figures.
    one_time: tuple[Component, ...] = ()
    #: What the one-time charges leave out (a region the price set cannot price).
    one_time_notes: tuple[str, ...] = ()

    @property
    def one_time_usd(self) -> Decimal:
        return sum((c.monthly_usd for c in self.one_time), ZERO)

    @property
    def before_usd(self) -> Decimal:
        return self.before.total_monthly_usd if self.before else ZERO

    @property
    def after_usd(self) -> Decimal:
        return self.after.total_monthly_usd if self.after else ZERO

    @property
    def delta_usd(self) -> Decimal:
        return self.after_usd - self.before_usd

    def changed(self) -> list[ComponentDelta]:
        return [c for c in self.components if c.delta_usd]

    def to_dict(self) -> dict:
        """``plan_delta`` of ``runbook cost --format json``: ``before_usd``, ``after_usd``, ``delta_usd``,
        ``components`` (``{name, before_usd, after_usd, delta_usd}``), ``one_time`` (``{name, quantity, unit,
        unit_price_usd, usd}``), ``one_time_usd``, ``one_time_notes``, and the table each side prices."""
        one_time = [
            {**{k: v for k, v in c.to_dict().items() if k != "monthly_usd"}, "usd": float(c.monthly_usd)}
            for c in self.one_time
        ]
        return {
            "before_usd": float(self.before_usd),
            "after_usd": float(self.after_usd),
            "delta_usd": float(self.delta_usd),
            "components": [c.to_dict() for c in self.components],
            "one_time": one_time,
            "one_time_usd": float(self.one_time_usd),
            "one_time_notes": list(self.one_time_notes),
            "before_table": self.before.configuration.get("table") if self.before else None,
            "after_table": self.after.configuration.get("table") if self.after else None,
        }

    def markdown(self) -> str:
        """One line for a review: ``$before → $after (±$delta)`` and the components that change."""
        if self.before is None and self.after is None:
            return "Monthly cost: the plan has no table before or after (nothing to price)."
        line = f"**Monthly cost: {_usd(self.before_usd)} → {_usd(self.after_usd)} ({_signed(self.delta_usd)} a month)**"
        if self.before is None:
            line += " — the plan creates the table"
        elif self.after is None:
            line += " — the plan destroys the table"
        changed = self.changed()
        if changed:
            line += ": " + ", ".join(f"{c.name} {_signed(c.delta_usd)}" for c in changed)
        elif self.before is not None and self.after is not None:
            line += ": no priced component changes"
        if self.one_time:
            line += (
                f"; once, on apply: {_usd(self.one_time_usd)} ("
                + ", ".join(f"{c.name} {_usd(c.monthly_usd)}" for c in self.one_time)
                + ")"
            )
        prices = (self.after or self.before).pricing
        return f"{line}. Prices {prices.name} (effective {prices.effective_date.isoformat()}), same usage profile."


def _usd(value: Decimal) -> str:
    return f"${value:,.2f}"


def _signed(value: Decimal) -> str:
    return f"{'+' if value >= 0 else '−'}${abs(value):,.2f}"


def plan_delta(
    environment: str,
    plan: PlanJson,
    pricing: "str | Path | Pricing" = DEFAULT_PRICING,
    usage: Any = None,
    free_tier: bool = False,
    region: str = "",
) -> PlanDelta:
    """The monthly cost of the plan's prior state and of its planned values, with one usage profile and prices."""
    prices = load_pricing(pricing)
    inputs = usage_inputs(environment, usage)

    def priced(spec: TableSpec | None) -> CostReport | None:
        if spec is None:
            return None
        return estimate(environment, prices, free_tier=free_tier, usage=inputs, table=spec)

    before_spec = table_spec(plan.prior_resources(), region, environment)
    after_spec = table_spec(plan.planned_resources(), region, environment)
    before, after = priced(before_spec), priced(after_spec)
    names: list[str] = []
    for report in (before, after):
        for component in report.components if report else ():
            if component.name not in names:
                names.append(component.name)
    components = tuple(
        ComponentDelta(name, before.monthly(name) if before else ZERO, after.monthly(name) if after else ZERO)
        for name in names
    )
    added = added_replicas(before_spec, after_spec)
    charges, notes = (
        seeding(table_region(after_spec, prices), added, prices, dec(after.usage["storage_gb"]["value"]))
        if added
        else ([], [])
    )
    one_time = tuple(
        Component(c.name, c.quantity, c.unit, c.unit_price_usd, money(c.quantity * c.unit_price_usd)) for c in charges
    )
    return PlanDelta(before, after, components, one_time, tuple(notes))
