"""What an estimate is made of: its components, the usage drivers behind them, the report.

Cost layer: imports the Terraform and AWS layers and the base modules.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING

from runbook.cost.pricing import (
    Pricing,
    money,
    number,
)

if TYPE_CHECKING:  # pragma: no cover
    from runbook.cost.ceiling import Ceiling


@dataclass(frozen=True)
class Component:
    name: str
    quantity: Decimal
    unit: str
    unit_price_usd: Decimal
    monthly_usd: Decimal

    def to_dict(self) -> dict:
        return {
            "name": self.name,
            "quantity": number(self.quantity),
            "unit": self.unit,
            "unit_price_usd": float(self.unit_price_usd),
            "monthly_usd": float(self.monthly_usd),
        }


def _component(name: str, quantity: Decimal, unit: str, price: Decimal) -> Component:
    return Component(name, quantity, unit, price, money(quantity * price))


def _limit(value: int | None) -> int | None:
    """A ``max_*_request_units`` setting: ``None`` (and AWS's ``-1`` or 0) means unlimited."""
    return value if value is not None and value > 0 else None


# -- the report -------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class CostReport:
    environment: str
    pricing: Pricing
    usage: dict[str, dict]
    components: tuple[Component, ...]
    billing_mode: str
    table_class: str
    free_tier: bool
    configuration: dict
    ceiling: Ceiling | None = None
    notes: tuple[str, ...] = ()

    @property
    def total_monthly_usd(self) -> Decimal:
        return sum((c.monthly_usd for c in self.components), Decimal("0.00"))

    def component(self, name: str) -> Component | None:
        return next((c for c in self.components if c.name == name), None)

    def monthly(self, name: str) -> Decimal:
        """A component's monthly cost, 0 when it does not apply."""
        found = self.component(name)
        return found.monthly_usd if found else Decimal("0.00")

    def to_dict(self) -> dict:
        """The JSON report: ``environment``, ``configuration``, ``pricing``, ``usage``, ``components``,
        ``total_monthly_usd`` and ``ceiling`` (``null`` unless the table sets an on-demand throughput ceiling)."""
        return {
            "environment": self.environment,
            "configuration": self.configuration,
            "pricing": self.pricing.summary(),
            "usage": self.usage,
            "components": [c.to_dict() for c in self.components],
            "total_monthly_usd": float(self.total_monthly_usd),
            "ceiling": self.ceiling.to_dict() if self.ceiling else None,
        }

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2)


@dataclass(frozen=True)
class Drivers:
    """Monthly quantities an estimate prices, in units, with the usage entries that say where they came from."""

    days: Decimal
    hours: Decimal
    writes_per_month: Decimal
    reads_per_month: Decimal
    write_units_per_day: Decimal
    read_units_per_day: Decimal
    storage_gb: Decimal
    gsi_count: int
    gsi_write_units_per_day: Decimal
    gsi_storage_gb: Decimal
    usage: dict[str, dict]
