"""What a table holds now, for the review of a change that would delete or replace it: item count and size as
DynamoDB reports them, read by the caller and passed in (the review itself makes no AWS call).

Steps layer: imports the AWS layer and the base modules.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Mapping

from runbook.aws.discovery import table_description
from runbook.aws.target import Target


@dataclass(frozen=True)
class TableLive:
    """What a table holds now, as DynamoDB reports it (``ItemCount``/``TableSizeBytes``: updated about every 6 h)."""

    name: str
    item_count: int | None = None
    size_bytes: int | None = None

    @property
    def text(self) -> str:
        if self.item_count is None and self.size_bytes is None:
            return "live item count not read"
        parts = []
        if self.item_count is not None:
            parts.append(f"{self.item_count:,} item" + ("" if self.item_count == 1 else "s"))
        if self.size_bytes is not None:
            parts.append(human_bytes(self.size_bytes))
        return ", ".join(parts)


def human_bytes(size: int) -> str:
    value = float(size)
    for unit in ("bytes", "KB", "MB", "GB", "TB"):
        if value < 1024 or unit == "TB":
            return f"{int(value)} bytes" if unit == "bytes" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{size} bytes"  # pragma: no cover


def _as_live(name: str, value: Any) -> TableLive | None:
    if value is None:
        return None
    if isinstance(value, TableLive):
        return value
    description = getattr(value, "description", None)  # runbook.aws.discovery.LiveTable
    if isinstance(description, Mapping):
        value = description
    if isinstance(value, Mapping):
        if "ItemCount" in value or "TableSizeBytes" in value:  # DescribeTable's Table
            return TableLive(name, value.get("ItemCount"), value.get("TableSizeBytes"))
        if "item_count" in value or "size_bytes" in value:
            return TableLive(name, value.get("item_count"), value.get("size_bytes"))
        if name in value:  # a mapping of table name → values
            return _as_live(name, value[name])
        return None
    raise TypeError(
        f"live values for table {name!r}: expected a mapping, a LiveTable, a TableLive or None, "
        f"got {type(value).__name__}"
    )


def live_values(live: Any, name: str) -> TableLive | None:
    """``live`` as the review takes it — ``None``, values, a mapping by table name, or a callable ``name → values``."""
    if callable(live) and not isinstance(live, (Mapping, TableLive)):
        live = live(name)
    return _as_live(name, live)


def live_reader(target: "Target") -> Callable[[str], TableLive | None]:
    """A callable for :func:`review`'s ``live``: ``DescribeTable``'s item count and size (``None``: no such table)."""

    def read(name: str) -> TableLive | None:
        table = table_description(target.client("dynamodb"), name)
        return None if table is None else TableLive(name, table.get("ItemCount"), table.get("TableSizeBytes"))

    return read
