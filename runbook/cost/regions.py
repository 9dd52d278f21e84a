"""Global tables: the table's region, replicated write prices per region, and the cost per region.

Cost layer: imports the Terraform and AWS layers and the base modules.
"""

from __future__ import annotations

from decimal import Decimal

from runbook.cost.model import Component, CostReport, Drivers, _component
from runbook.cost.pricing import (
    MILLION,
    Pricing,
    dec,
)
from runbook.spec import TableSpec


# -- global tables ----------------------------------------------------------------------------------------------
def table_region(spec: TableSpec, prices: Pricing) -> str:
    """The table's own region: where Terraform plans it, else the price set's region."""
    return spec.region or prices.region


def replicated_write_prices(spec: TableSpec, prices: Pricing) -> dict[str, Decimal | None]:
    """On-demand replicated write prices (per million rWRU) of every region of a global table, its own first;
    ``{}`` for a table without replicas. ``None`` where the price set has no figure."""
    if not spec.replicas:
        return {}
    regions = [table_region(spec, prices)] + [r.region for r in spec.replicas]
    if spec.table_class != "STANDARD":
        return dict.fromkeys(regions)
    return {region: prices.for_replica(region).replicated_write_request_units_per_million for region in regions}


def _replicated(
    spec: TableSpec, prices: Pricing, d: Drivers, components: list[Component]
) -> tuple[list[Component], list[str]]:
    """A global table's components: its own writes as replicated writes, each replica's writes and storage."""
    notes: list[str] = []
    home = table_region(spec, prices)
    standard = spec.table_class == "STANDARD"
    if not standard:
        notes.append(
            f"Not priced: the {len(spec.replicas)} replica(s) of this {spec.table_class} table (the "
            "price set gives replica prices for the Standard class only)."
        )
        return components, notes
    writes = next((c for c in components if c.name == "writes"), None)
    wcu = dec(d.usage["provisioned_wcu"]["value"]) if spec.provisioned else Decimal(0)

    def replicated(region: str, name: str) -> Component | None:
        figures = prices.for_replica(region)
        if spec.provisioned:
            price = figures.replicated_wcu_hour
            return None if price is None else _component(name, wcu * d.hours, "rWCU-hours", price)
        price = figures.replicated_write_request_units_per_million
        return (
            None
            if price is None
            else _component(
                name, d.write_units_per_day * d.days / MILLION, "million replicated write request units", price
            )
        )

    unit = "rWCU" if spec.provisioned else "rWRU"
    own = replicated(home, "writes")
    if own is not None and writes is not None:
        components = [own if c is writes else c for c in components]
    else:
        notes.append(
            f"Not priced as replicated: the table's own writes in {home} (no {unit} price for {home} in "
            f"{prices.name}); priced as single-region writes."
        )
    for replica in spec.replicas:
        region = replica.region
        found = replicated(region, f"replicated_writes:{region}")
        if found is None:
            notes.append(f"Not priced: replicated writes in {region} (no {unit} price for {region} in {prices.name}).")
        else:
            components.append(found)
        storage_price = prices.for_replica(region).storage_gb_month
        if storage_price is None:
            notes.append(f"Not priced: replica storage in {region} (no storage price for {region} in {prices.name}).")
        else:
            components.append(
                _component(f"replica_storage:{region}", d.storage_gb + d.gsi_storage_gb, "GB-month", storage_price)
            )
    notes.append(
        f"Global table: {len(spec.replicas)} replica(s) ({', '.join(r.region for r in spec.replicas)}); "
        "writes billed as replicated writes in every region, each write's data sent once to every "
        "replica. Not priced: reads and index writes served in replica regions (the usage profile's "
        "traffic enters the table's region). A replica the plan adds is seeded once (plan delta)."
    )
    return components, notes


def region_costs(report: CostReport) -> list[dict]:
    """A global table's monthly cost per region (``[]`` for a single-region table): its writes (replicated writes
    in every region), its storage, the replication data sent to it from the table's region (``transfer_in_usd``),
    and the most its on-demand write ceiling allows there (``None``: no ceiling or no price). The table's own
    region is first."""
    replicas = [r["region"] for r in report.configuration.get("replicas") or []]
    if not replicas:
        return []
    home = report.configuration.get("region") or report.pricing.region
    ceiling = report.ceiling

    def usd(name: str | None) -> float | None:
        found = report.component(name) if name else None
        return float(found.monthly_usd) if found else None

    def worst(name: str) -> float | None:
        found = ceiling.component(name) if ceiling else None
        return float(found.monthly_usd) if found else None

    rows = [
        {
            "region": home,
            "role": "table",
            "writes_usd": usd("writes"),
            "storage_usd": float(report.monthly("storage") + report.monthly("gsi_storage")),
            "transfer_in_usd": None,
            "write_ceiling_usd": worst("writes"),
        }
    ]
    for region in replicas:
        rows.append(
            {
                "region": region,
                "role": "replica",
                "writes_usd": usd(f"replicated_writes:{region}"),
                "storage_usd": usd(f"replica_storage:{region}"),
                "transfer_in_usd": usd(f"replication_transfer:{region}"),
                "write_ceiling_usd": worst(f"replicated_writes:{region}"),
            }
        )
    return rows
