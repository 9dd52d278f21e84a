"""Price sets: the list prices an estimate uses, shipped as data with their sources and effective date.

``runbook/data/pricing/<name>.yaml``: ``us-east-1`` is today's list, ``us-east-1-legacy`` the list the
configuration guide used (before the November 2024 on-demand cut). Any YAML file of the same shape works too
(negotiated or other-region prices). Also here: the money arithmetic every other module of the package shares.
"""

from __future__ import annotations

import re
from datetime import date
from decimal import ROUND_CEILING, ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from runbook.errors import ConfigurationError, ParameterError
from runbook.paths import DATA
from runbook.spec import TableClass

PRICING_DIR = DATA / "pricing"
DEFAULT_PRICING = "us-east-1"
LEGACY_PRICING = "us-east-1-legacy"
TABLE_CLASSES: tuple[TableClass, ...] = ("STANDARD", "STANDARD_INFREQUENT_ACCESS")

CENT = Decimal("0.01")
MILLION = Decimal(1_000_000)
HUNDRED_K = Decimal(100_000)
SECONDS_PER_HOUR = Decimal(3_600)
SECONDS_PER_DAY = Decimal(86_400)
KB_PER_GB = Decimal(1024 * 1024)
BYTES_PER_GB = Decimal(1024**3)


# -- money ------------------------------------------------------------------------------------------------------
def dec(value: Any) -> Decimal:
    """A Decimal from an int, float (via its shortest repr), str or Decimal."""
    return value if isinstance(value, Decimal) else Decimal(str(value))


def money(value: Decimal) -> Decimal:
    """Rounded to the cent, half up: each component is rounded, the total is the sum of the rounded components."""
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def ceil(value: Decimal) -> Decimal:
    return value.to_integral_value(rounding=ROUND_CEILING)


def number(value: Decimal) -> int | float:
    """A JSON number: an int when integral."""
    return int(value) if value == value.to_integral_value() else float(value)


# -- price sets -------------------------------------------------------------------------------------------------
class _Frozen(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ClassPrices(_Frozen):
    """Throughput and storage prices of one table class."""

    write_request_units_per_million: Decimal = Field(ge=0)
    read_request_units_per_million: Decimal = Field(ge=0)
    wcu_hour: Decimal = Field(ge=0)
    rcu_hour: Decimal = Field(ge=0)
    storage_gb_month: Decimal = Field(ge=0)


class ReplicaRegionPrices(_Frozen):
    """What a global table costs in one region (Standard table class): replicated writes, storage, the restore that
    seeds a new replica there, and data sent from there to other regions.

    A figure the price set does not give stays ``None``: the estimate then names it as not priced.
    """

    #: On-demand: per million replicated write request units (rWRU).
    replicated_write_request_units_per_million: Decimal | None = Field(default=None, ge=0)
    #: Provisioned: per replicated write capacity unit-hour (rWCU).
    replicated_wcu_hour: Decimal | None = Field(default=None, ge=0)
    #: Storage of the replica's copy of the table.
    storage_gb_month: Decimal | None = Field(default=None, ge=0)
    #: Per GB: a replica added in this region is seeded with the table's data, billed as a table restore.
    restore_gb: Decimal | None = Field(default=None, ge=0)
    #: Per GB sent from this region to another AWS region (inter-region data transfer out): replication traffic.
    transfer_out_gb: Decimal | None = Field(default=None, ge=0)
    #: Destinations priced differently from ``transfer_out_gb`` (e.g. us-east-1 to us-east-2).
    transfer_out_gb_to: dict[str, Decimal] = Field(default_factory=dict)

    def transfer_to(self, region: str) -> Decimal | None:
        """Per GB sent from this region to ``region``; ``None`` when the price set has no figure."""
        return self.transfer_out_gb_to.get(region, self.transfer_out_gb)


class FreeTier(_Frozen):
    """The always-free allowances (account-wide per region), applied only on request."""

    storage_gb: Decimal = Decimal(0)
    wcu: Decimal = Decimal(0)
    rcu: Decimal = Decimal(0)
    stream_read_requests: Decimal = Decimal(0)
    alarms: Decimal = Decimal(0)
    dashboards: Decimal = Decimal(0)
    contributor_insights_rules: Decimal = Decimal(0)
    contributor_insights_events: Decimal = Decimal(0)


class Pricing(_Frozen):
    """A price set: where the figures come from, from when, and the figures."""

    name: str
    description: str = ""
    region: str = "us-east-1"
    currency: Literal["USD"] = "USD"
    effective_date: date
    superseded_on: date | None = None
    source: tuple[str, ...] = Field(min_length=1)
    verification: dict[str, str] = Field(default_factory=dict)
    table_classes: dict[TableClass, ClassPrices]
    pitr_gb_month: Decimal = Field(ge=0)
    backup_gb_month: Decimal = Field(ge=0)
    restore_gb: Decimal = Field(ge=0)
    stream_read_requests_per_100k: Decimal = Field(ge=0)
    alarm_month: Decimal = Field(ge=0)
    dashboard_month: Decimal = Field(ge=0)
    contributor_insights_rule_month: Decimal = Field(ge=0)
    contributor_insights_events_per_million: Decimal = Field(ge=0)
    free_tier: FreeTier = FreeTier()
    #: Global-table replica prices per region (the table's own region too: its writes become replicated writes).
    replica_regions: dict[str, ReplicaRegionPrices] = Field(default_factory=dict)
    path: str = ""

    @model_validator(mode="after")
    def _both_classes(self) -> "Pricing":
        missing = [c for c in TABLE_CLASSES if c not in self.table_classes]
        if missing:
            raise ValueError(f"table_classes lacks {', '.join(missing)}")
        return self

    def for_class(self, table_class: TableClass) -> ClassPrices:
        return self.table_classes[table_class]

    def for_replica(self, region: str) -> ReplicaRegionPrices:
        """The replica prices of ``region``; every figure ``None`` when the price set has none for it."""
        return self.replica_regions.get(region) or ReplicaRegionPrices()

    def summary(self) -> dict:
        """The ``pricing`` object of the JSON report."""
        return {"name": self.name, "source": list(self.source), "effective_date": self.effective_date.isoformat()}

    def break_even_utilization(self, table_class: TableClass = "STANDARD") -> dict[str, Decimal]:
        """Average utilisation of provisioned capacity at which it costs the same as on-demand.

        One WCU for an hour costs ``wcu_hour`` and serves up to 3,600 write units; on-demand charges
        ``3600 * u`` units at utilisation ``u``. Equal when ``u = wcu_hour / (3600 * price per unit)``.
        """
        p = self.for_class(table_class)
        write = p.wcu_hour / (SECONDS_PER_HOUR * p.write_request_units_per_million / MILLION)
        read = p.rcu_hour / (SECONDS_PER_HOUR * p.read_request_units_per_million / MILLION)
        return {"writes": write, "reads": read}


def known_pricing() -> list[str]:
    """The price sets shipped with the package."""
    return sorted(p.stem for p in PRICING_DIR.glob("*.yaml"))


def load_pricing(name_or_path: "str | Path | Pricing" = DEFAULT_PRICING) -> Pricing:
    """A shipped price set by name (``us-east-1``, ``us-east-1-legacy``) or a YAML file of the same shape."""
    if isinstance(name_or_path, Pricing):
        return name_or_path
    value = str(name_or_path)
    if value in known_pricing():
        path = PRICING_DIR / f"{value}.yaml"
    else:
        candidate = Path(value).expanduser()
        if not (value.endswith((".yaml", ".yml", ".json")) or "/" in value) or not candidate.is_file():
            raise ParameterError(
                "pricing", name_or_path, f"one of {', '.join(known_pricing())}, or the path of a price-set YAML file"
            )
        path = candidate
    data = read_yaml(path)
    try:
        return Pricing.model_validate({**data, "path": str(path)})
    except ValidationError as error:
        raise config_error(path, error) from None


# -- YAML data files (price sets and usage profiles) --------------------------------------------------------------
#: libyaml's safe loader when PyYAML was built with it (several times faster: the notebooks read price sets often).
_SAFE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def read_yaml(path: Path) -> dict:
    try:
        data = yaml.load(path.read_text(), Loader=_SAFE_LOADER)  # noqa: S506 (a safe loader)
    except FileNotFoundError:
        raise ConfigurationError(path, "file not found") from None
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        raise ConfigurationError(
            path, f"not valid YAML: {getattr(error, 'problem', error)}", line=mark.line + 1 if mark else None
        ) from None
    if not isinstance(data, dict):
        raise ConfigurationError(path, "expected a mapping of keys to values")
    return data


def config_error(path: Path, error: ValidationError) -> ConfigurationError:
    """The first validation problem, naming the key (and its line when it can be found)."""
    first = error.errors()[0]
    key = ".".join(str(part) for part in first["loc"]) or "(file)"
    line = None
    try:
        top = str(first["loc"][0]) if first["loc"] else ""
        for line_number, text in enumerate(path.read_text().splitlines(), start=1):
            if top and re.match(rf"^\s*{re.escape(top)}\s*:", text):
                line = line_number
                break
    except OSError:
        pass
    message = first["msg"] if first["type"] != "extra_forbidden" else "unknown key"
    return ConfigurationError(path, f"{key}: {message} (got {first.get('input')!r})", line=line)
