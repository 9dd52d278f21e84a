"""The report as text: what was priced, the components, the on-demand ceiling, the notes (rich, no colour)."""

from __future__ import annotations

from decimal import Decimal
from io import StringIO

from rich.console import Console
from rich.table import Table

from runbook.cost.model import CostReport


def usd(value: Decimal) -> str:
    return f"${value:,.2f}"


def price(value: Decimal) -> str:
    text = f"{value.normalize():f}"
    return f"${text}" if "." in text and len(text.split(".")[1]) > 2 else f"${value:,.2f}"


def quantity(value: Decimal) -> str:
    if value == value.to_integral_value():
        return f"{int(value):,}"
    return f"{value:,.4f}".rstrip("0").rstrip(".")


def priced_line(configuration: dict) -> str:
    """One sentence: which configuration was priced, and how it was read."""
    source = configuration.get("source")
    tfvars = configuration.get("tfvars")
    parts = [part for part in (configuration.get("note") or "").split("; ") if part]
    said = next((part for part in parts if part.startswith("Terraform's plan of")), None)
    if source == "plan" and said:  # runbook.terraform.planning's own words name the file and the target
        parts.remove(said)
        what = f"Priced: {said}"
    elif source == "plan":
        what = f"Priced: Terraform's plan of {tfvars}" if tfvars else "Priced: Terraform's plan"
    else:
        what = "Priced: the table given to the estimate"
    note = "; ".join(parts)
    return f"{what}{f' ({note})' if note else ''}."


def render_table(report: CostReport, width: int = 110) -> str:
    """The report as a plain-text table (rich, no colour codes), with its notes."""
    prices = report.pricing
    table = Table(show_footer=True)
    table.add_column("component", footer="total")
    table.add_column("quantity", justify="right")
    table.add_column("unit")
    table.add_column("unit price", justify="right")
    table.add_column("monthly", justify="right", footer=usd(report.total_monthly_usd))
    for c in report.components:
        table.add_row(c.name, quantity(c.quantity), c.unit, price(c.unit_price_usd), usd(c.monthly_usd))
    buffer = StringIO()
    console = Console(
        file=buffer, width=width, color_system=None, force_terminal=False, force_jupyter=False, highlight=False
    )
    console.print(
        f"Monthly cost of {report.environment} ({report.billing_mode}, {report.table_class}), "
        f"prices {prices.name} effective {prices.effective_date.isoformat()}",
        soft_wrap=True,
    )
    console.print(priced_line(report.configuration), soft_wrap=True)
    console.print(table)
    if report.ceiling:
        console.print(render_ceiling(report), soft_wrap=True)
    for note in report.notes:
        console.print(f"- {note}", soft_wrap=True)
    console.print(f"- Prices: {', '.join(prices.source[:2])}", soft_wrap=True)
    return buffer.getvalue()


def render_ceiling(report: CostReport) -> str:
    """The worst case the on-demand throughput maxima allow, one line per capped dimension."""
    ceiling = report.ceiling
    if ceiling is None:
        return ""
    seconds = ceiling.seconds_per_month
    lines = [f"Worst case allowed by the on-demand throughput ceiling ({quantity(seconds)} s in the month):"]
    for c in ceiling.components:
        lines.append(
            f"  {c.name}: {c.max_request_units_per_second:,} units/s x {quantity(seconds)} s = "
            f"{quantity(c.quantity)} {c.unit} x {price(c.unit_price_usd)} = {usd(c.monthly_usd)}"
        )
    for name in ceiling.unlimited:
        lines.append(f"  {name}: unlimited (no maximum set)")
    for name in ceiling.unpriced:
        lines.append(f"  {name}: not priced (no price for its region in {report.pricing.name})")
    total = usd(ceiling.total_monthly_usd)
    lines.append(
        f"  at most {total} a month of throughput"
        if ceiling.bounded
        else f"  capped dimensions at most {total} a month; not bounded overall"
    )
    return "\n".join(lines)


def report_heading(report: CostReport) -> str:
    """What was priced, in two sentences (above the components table)."""
    prices = report.pricing
    return (
        f"Monthly cost of {report.environment} ({report.billing_mode}, {report.table_class}), prices "
        f"{prices.name} effective {prices.effective_date.isoformat()}. {priced_line(report.configuration)}"
    )


def report_rows(report: CostReport) -> list[dict]:
    """The components and the total as rows for a table people read (``runbook.execution.display.people``): quantities
    with separators, unit prices with their digits, monthly figures in dollars and cents."""
    rows = [
        {
            "component": c.name,
            "quantity": quantity(c.quantity),
            "unit": c.unit,
            "unit price": price(c.unit_price_usd),
            "monthly": usd(c.monthly_usd),
        }
        for c in report.components
    ]
    rows.append(
        {"component": "total", "quantity": "", "unit": "", "unit price": "", "monthly": usd(report.total_monthly_usd)}
    )
    return rows


def report_notes(report: CostReport) -> list[str]:
    """The notes under the table: the ceiling, the estimate's own notes, the price sources."""
    notes = [render_ceiling(report)] if report.ceiling else []
    notes += list(report.notes)
    notes.append(f"Prices: {', '.join(report.pricing.source[:2])}")
    return notes
