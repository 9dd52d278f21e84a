"""What a global table's replication costs beyond its replicated writes: the data sent to each replica every month,
and the one-time seeding of each replica a plan adds.

Both follow the replicas Terraform plans (``TableSpec.replicas``, read from the plan's ``replica`` blocks by
:func:`runbook.terraform.tfjson.table_spec`) and the price set's ``replica_regions`` figures; a figure the set lacks
is named as not priced. Writes are taken to enter through the table's own region (where the usage profile's traffic
is), so every replica receives each write once from there. AWS Prescriptive Guidance, "Global tables FAQ":
"Cross-Region data transfer fees apply"; "When you add a new Region to a global table, DynamoDB bootstraps the new
Region automatically and charges you as if it were a table restore, based on the GB size of the table. It also charges
cross-Region data transfer fees."
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Sequence

from runbook.cost.pricing import Pricing
from runbook.spec import TableSpec


@dataclass(frozen=True)
class Charge:
    """One priced line: ``quantity`` ``unit`` at ``unit_price_usd`` each (the caller rounds it to money)."""

    name: str
    quantity: Decimal
    unit: str
    unit_price_usd: Decimal


def replication_transfer(
    home: str, replicas: Sequence[str], prices: Pricing, gb_per_month: Decimal
) -> tuple[list[Charge], list[str]]:
    """``replication_transfer:<region>``: the GB written each month, sent from ``home`` to each replica region at
    ``home``'s inter-region transfer price; notes for the regions the price set cannot price."""
    figures = prices.for_replica(home)
    charges, notes = [], []
    for region in replicas:
        price = figures.transfer_to(region)
        if price is None:
            notes.append(
                f"Not priced: replication data transfer {home} → {region} (no inter-region transfer price "
                f"from {home} in {prices.name})."
            )
        else:
            charges.append(Charge(f"replication_transfer:{region}", gb_per_month, "GB transferred", price))
    return charges, notes


def added_replicas(before: TableSpec | None, after: TableSpec | None) -> list[str]:
    """The replica regions the plan adds to a table that already exists (a new table starts empty: nothing to
    seed; a table the plan destroys gets no replica)."""
    if before is None or after is None:
        return []
    existing = {replica.region for replica in before.replicas}
    return [replica.region for replica in after.replicas if replica.region not in existing]


def seeding(home: str, regions: Sequence[str], prices: Pricing, table_gb: Decimal) -> tuple[list[Charge], list[str]]:
    """One-time charges of seeding each new replica with the table's ``table_gb``: ``replica_seeding:<region>`` (a
    restore in that region) and ``replica_seeding_transfer:<region>`` (the data sent there from ``home``)."""
    charges, notes = [], []
    for region in regions:
        restore = prices.for_replica(region).restore_gb
        if restore is None:
            notes.append(
                f"Not priced: seeding the new replica in {region} (no restore price for {region} in {prices.name})."
            )
        else:
            charges.append(Charge(f"replica_seeding:{region}", table_gb, "GB restored", restore))
        transfer = prices.for_replica(home).transfer_to(region)
        if transfer is None:
            notes.append(
                f"Not priced: sending the table's data {home} → {region} to seed the new replica (no "
                f"inter-region transfer price from {home} in {prices.name})."
            )
        else:
            charges.append(Charge(f"replica_seeding_transfer:{region}", table_gb, "GB transferred", transfer))
    return charges, notes
