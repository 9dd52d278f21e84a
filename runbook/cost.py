"""Monthly cost of the notifications table: the configuration guide's "Cost Estimation", kept honest.

Three inputs, each from its own place:

* **prices**: a price set shipped as data (``runbook/data/pricing/<name>.yaml``) with its sources and effective date
  (:func:`load_pricing`); ``us-east-1`` is today's list, ``us-east-1-legacy`` the list the guide used;
* **the configuration**: the :class:`~runbook.spec.TableSpec` Terraform resolves for the environment. It decides what
  applies: PITR only where enabled, alarms only where enabled, provisioned or on-demand, the table class;
* **usage**: the environment's profile (``infrastructure/<env>/usage.yml``, the guide's assumptions), optionally
  overridden, or replaced by what CloudWatch measured (:func:`usage_from_cloudwatch`).

Money is computed in :class:`~decimal.Decimal`; each component is rounded to the cent (half up) and the total is the
sum of the rounded components, so a report always adds up. A month is ``days_per_month`` days (30, as the guide
uses); provisioned capacity is billed for ``days_per_month * 24`` hours (AWS's own examples use 730).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from decimal import ROUND_CEILING, ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, Mapping

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from .errors import ConfigurationError, EndpointUnreachable, ParameterError
from .paths import DATA, ENVIRONMENTS, ROOT, environment_dir
from .spec import TableClass, TableSpec

if TYPE_CHECKING:  # pragma: no cover
    from .aws import Target

PRICING_DIR = DATA / "pricing"
DEFAULT_PRICING = "us-east-1"
LEGACY_PRICING = "us-east-1-legacy"
FORMATS = ("table", "json")
TABLE_CLASSES: tuple[TableClass, ...] = ("STANDARD", "STANDARD_INFREQUENT_ACCESS")

CENT = Decimal("0.01")
MILLION = Decimal(1_000_000)
HUNDRED_K = Decimal(100_000)
SECONDS_PER_DAY = Decimal(86_400)
KB_PER_GB = Decimal(1024 * 1024)
BYTES_PER_GB = Decimal(1024 ** 3)

#: The configuration guide's own figures ("Cost Estimation"), in dollars a month, for side-by-side comparisons.
SEED_FIGURES: dict[str, dict[str, Decimal]] = {
    "staging": {"writes": Decimal("18.75"), "reads": Decimal("0.75"), "storage": Decimal("0.50"),
                "total": Decimal("20.00")},
    "production": {"writes": Decimal("1875.00"), "reads": Decimal("75.00"), "storage": Decimal("12.50"),
                   "total": Decimal("1962.50")},
}


def dec(value: Any) -> Decimal:
    """A Decimal from an int, float (via its shortest repr), str or Decimal."""
    return value if isinstance(value, Decimal) else Decimal(str(value))


def money(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def ceil(value: Decimal) -> Decimal:
    return value.to_integral_value(rounding=ROUND_CEILING)


def _number(value: Decimal) -> int | float:
    """A JSON number: an int when integral."""
    return int(value) if value == value.to_integral_value() else float(value)


# -- prices ----------------------------------------------------------------------------------------------------
class _Frozen(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ClassPrices(_Frozen):
    """Throughput and storage prices of one table class."""

    write_request_units_per_million: Decimal = Field(ge=0)
    read_request_units_per_million: Decimal = Field(ge=0)
    wcu_hour: Decimal = Field(ge=0)
    rcu_hour: Decimal = Field(ge=0)
    storage_gb_month: Decimal = Field(ge=0)


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
    path: str = ""

    @model_validator(mode="after")
    def _both_classes(self) -> "Pricing":
        missing = [c for c in TABLE_CLASSES if c not in self.table_classes]
        if missing:
            raise ValueError(f"table_classes lacks {', '.join(missing)}")
        return self

    def for_class(self, table_class: TableClass) -> ClassPrices:
        return self.table_classes[table_class]

    def summary(self) -> dict:
        """The ``pricing`` object of the JSON report."""
        return {"name": self.name, "source": list(self.source), "effective_date": self.effective_date.isoformat()}

    def break_even_utilization(self, table_class: TableClass = "STANDARD") -> dict[str, Decimal]:
        """Average utilisation of provisioned capacity at which it costs the same as on-demand.

        One WCU for an hour costs ``wcu_hour`` and serves up to 3,600 write units; on-demand charges
        ``3600 * u`` units at utilisation ``u``. Equal when ``u = wcu_hour / (3600 * price per unit)``.
        """
        p = self.for_class(table_class)
        write = p.wcu_hour / (Decimal(3600) * p.write_request_units_per_million / MILLION)
        read = p.rcu_hour / (Decimal(3600) * p.read_request_units_per_million / MILLION)
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
            raise ParameterError("pricing", name_or_path,
                                 f"one of {', '.join(known_pricing())}, or the path of a price-set YAML file")
        path = candidate
    data = _read_yaml(path)
    try:
        return Pricing.model_validate({**data, "path": str(path)})
    except ValidationError as error:
        raise _config_error(path, error) from None


def _read_yaml(path: Path) -> dict:
    try:
        data = yaml.safe_load(path.read_text())
    except FileNotFoundError:
        raise ConfigurationError(path, "file not found") from None
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        raise ConfigurationError(path, f"not valid YAML: {getattr(error, 'problem', error)}",
                                 line=mark.line + 1 if mark else None) from None
    if not isinstance(data, dict):
        raise ConfigurationError(path, "expected a mapping of keys to values")
    return data


def _config_error(path: Path, error: ValidationError) -> ConfigurationError:
    """The first validation problem, naming the key (and its line when it can be found)."""
    first = error.errors()[0]
    key = ".".join(str(part) for part in first["loc"]) or "(file)"
    line = None
    try:
        top = str(first["loc"][0]) if first["loc"] else ""
        for number, text in enumerate(path.read_text().splitlines(), start=1):
            if top and re.match(rf"^\s*{re.escape(top)}\s*:", text):
                line = number
                break
    except OSError:
        pass
    message = first["msg"] if first["type"] != "extra_forbidden" else "unknown key"
    return ConfigurationError(path, f"{key}: {message} (got {first.get('input')!r})", line=line)


# -- usage -----------------------------------------------------------------------------------------------------
class UsageProfile(_Frozen):
    """What the table is used for, per environment. Defaults are the configuration guide's assumptions."""

    #: Active users.
    users: int = Field(ge=0)
    #: Notifications written per user per day (one item write each).
    notifications_per_user_per_day: float = Field(ge=0)
    #: Item writes a day; ``None`` means ``users * notifications_per_user_per_day``.
    writes_per_day: float | None = Field(default=None, ge=0)
    #: Item reads a day (GetItem/Query items).
    reads_per_day: float = Field(ge=0)
    #: Days an item lives before TTL deletes it (TTL deletes are free).
    retention_days: int = Field(default=90, ge=1)
    #: Table size (GB-month billed).
    storage_gb: float = Field(ge=0)
    #: Item size in KB: a write unit covers 1 KB, a read unit 4 KB (rounded up per item).
    item_size_kb: float = Field(default=1.0, gt=0, le=400)
    #: ``strong``: one read unit per 4 KB; ``eventual``: half of that.
    read_consistency: Literal["strong", "eventual"] = "strong"
    #: Share of writes / reads made in transactions (those cost double).
    transactional_write_fraction: float = Field(default=0.0, ge=0, le=1)
    transactional_read_fraction: float = Field(default=0.0, ge=0, le=1)
    #: Global secondary indexes; ``None`` means as many as the configuration defines.
    gsi_count: int | None = Field(default=None, ge=0, le=20)
    #: Share of writes that also write each GSI (items lacking the index key do not).
    gsi_write_fraction: float = Field(default=1.0, ge=0, le=1)
    #: Size of the projected item in each GSI; ``None`` means ``item_size_kb`` (projection ALL).
    gsi_item_size_kb: float | None = Field(default=None, gt=0, le=400)
    #: Non-Lambda stream consumers (KCL apps, SDK pollers). Lambda triggers read the stream for free.
    stream_consumers: int = Field(default=0, ge=0)
    #: GetRecords calls per consumer per day (one a second per shard is the usual polling rate).
    stream_reads_per_consumer_per_day: float = Field(default=86_400, ge=0)
    #: On-demand backups kept (total GB-month).
    on_demand_backup_gb: float = Field(default=0.0, ge=0)
    #: Data restored per month (GB).
    restore_gb_per_month: float = Field(default=0.0, ge=0)
    #: Days in the estimate's month (the guide uses 30).
    days_per_month: int = Field(default=30, ge=28, le=31)
    #: Average utilisation of provisioned capacity to plan for (provisioned tables and the comparison).
    target_utilization: float = Field(default=0.7, gt=0, le=1)

    @property
    def effective_writes_per_day(self) -> float:
        if self.writes_per_day is not None:
            return self.writes_per_day
        return self.users * self.notifications_per_user_per_day

    def scaled(self, users: int) -> "UsageProfile":
        """The same usage per user for ``users`` users: reads, storage and backups scale with the user base."""
        if self.users == 0:
            return self.model_copy(update={"users": users})
        k = users / self.users
        update: dict[str, Any] = {"users": users, "reads_per_day": self.reads_per_day * k,
                                  "storage_gb": self.storage_gb * k,
                                  "on_demand_backup_gb": self.on_demand_backup_gb * k,
                                  "restore_gb_per_month": self.restore_gb_per_month * k}
        if self.writes_per_day is not None:
            update["writes_per_day"] = self.writes_per_day * k
        return self.model_copy(update=update)


USAGE_FIELDS = tuple(UsageProfile.model_fields)
#: Fields that scale with the user base when ``users`` is overridden.
SCALED_FIELDS = ("reads_per_day", "storage_gb", "on_demand_backup_gb", "restore_gb_per_month", "writes_per_day")


@dataclass(frozen=True)
class UsageInputs:
    """A usage profile and, per field, where the value came from (``profile``, ``default``, ``override``…)."""

    profile: UsageProfile
    sources: Mapping[str, dict] = field(default_factory=dict)
    path: Path | None = None

    def source(self, name: str) -> dict:
        return dict(self.sources.get(name) or {"source": "argument"})


def usage_path(environment: str) -> Path:
    return environment_dir(environment) / "usage.yml"


def _relative(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(ROOT))
    except ValueError:
        return str(path)


def load_usage(environment: str, overrides: Mapping[str, Any] | None = None, path: Path | None = None) -> UsageInputs:
    """The environment's usage profile, with ``overrides`` (field → value; ``None`` values are ignored).

    Overriding ``users`` scales the per-user quantities (reads, storage, backups, explicit writes) with it, unless
    those are overridden too. Bad values in the file raise :class:`ConfigurationError` naming the file and key;
    bad overrides raise :class:`ParameterError` naming the field.
    """
    from .params import environment as check_environment

    check_environment(environment)
    path = Path(path) if path else usage_path(environment)
    if not path.is_file():
        raise ConfigurationError(path, f"usage profile for {environment!r} not found")
    data = _read_yaml(path)
    try:
        profile = UsageProfile.model_validate(data)
    except ValidationError as error:
        raise _config_error(path, error) from None
    ref = _relative(path)
    sources = {name: ({"source": "profile", "ref": ref} if name in data else {"source": "default"})
               for name in USAGE_FIELDS}
    inputs = UsageInputs(profile, sources, path)
    return apply_overrides(inputs, overrides or {})


def apply_overrides(inputs: UsageInputs, overrides: Mapping[str, Any]) -> UsageInputs:
    """``inputs`` with ``overrides`` applied and validated (see :func:`load_usage`)."""
    overrides = {k: v for k, v in overrides.items() if v is not None}
    for key, value in overrides.items():
        if key not in USAGE_FIELDS:
            raise ParameterError(key, value, f"a usage profile field ({', '.join(USAGE_FIELDS)})")
    profile, sources = inputs.profile, dict(inputs.sources)
    if "users" in overrides and overrides["users"] != profile.users:
        users = _validated({**profile.model_dump(), "users": overrides["users"]}, {"users": overrides["users"]}).users
        base_users = profile.users
        profile = profile.scaled(users)
        for name in SCALED_FIELDS:
            if base_users and name not in overrides and (name != "writes_per_day"
                                                         or profile.writes_per_day is not None):
                sources[name] = {"source": "scaled", "ref": f"profile value x {users}/{base_users} users"}
    if overrides:
        profile = _validated({**profile.model_dump(), **overrides}, overrides)
        for key in overrides:
            sources[key] = {"source": "override"}
    return UsageInputs(profile, sources, inputs.path)


def _validated(data: dict, overrides: Mapping[str, Any]) -> UsageProfile:
    try:
        return UsageProfile.model_validate(data)
    except ValidationError as error:
        first = error.errors()[0]
        key = str(first["loc"][0]) if first["loc"] else "usage"
        raise ParameterError(key, overrides.get(key, first.get("input")), first["msg"].lower()) from None


# -- CloudWatch usage sync ------------------------------------------------------------------------------------
def usage_from_cloudwatch(target: "Target", table_name: str, days: int = 30) -> dict | None:
    """What the table actually consumed: 30-day sums of ConsumedWrite/ReadCapacityUnits and its size.

    Returns ``None`` when the target has no data at all, else a dict with whichever of ``write_units_per_day``,
    ``read_units_per_day`` (daily averages over ``days``) and ``storage_gb`` (DescribeTable ``TableSizeBytes``,
    updated by DynamoDB about every six hours) it has, plus ``table_name``, ``days`` and ``days_with_data``.
    The consumed-capacity metrics already include item-size rounding and read consistency. Errors from AWS
    propagate; :func:`sync_usage` turns them into a note.
    """
    from .discovery import table_description

    end = datetime.now(timezone.utc).replace(minute=0, second=0, microsecond=0)
    start = end - timedelta(days=days)
    cloudwatch = target.client("cloudwatch")
    result: dict[str, Any] = {}
    days_with_data = 0
    for metric, key in (("ConsumedWriteCapacityUnits", "write_units_per_day"),
                        ("ConsumedReadCapacityUnits", "read_units_per_day")):
        points = cloudwatch.get_metric_statistics(
            Namespace="AWS/DynamoDB", MetricName=metric,
            Dimensions=[{"Name": "TableName", "Value": table_name}],
            StartTime=start, EndTime=end, Period=86_400, Statistics=["Sum"],
        ).get("Datapoints", [])
        if points:
            result[key] = sum(point["Sum"] for point in points) / days
            days_with_data = max(days_with_data, len(points))
    table = table_description(target.client("dynamodb"), table_name)
    size = table.get("TableSizeBytes") if table else None
    if size:
        result["storage_gb"] = size / float(BYTES_PER_GB)
    if not result:
        return None
    return {**result, "table_name": table_name, "days": days, "days_with_data": days_with_data}


def sync_usage(target: "Target", table_name: str, days: int = 30) -> tuple[dict | None, str]:
    """:func:`usage_from_cloudwatch` that never raises: ``(measured or None, a note saying what happened)``."""
    from botocore.exceptions import BotoCoreError, ClientError

    where = f"the emulator at {target.endpoint_url}" if target.is_emulator else f"AWS ({target.region})"
    try:
        if target.is_emulator:
            target.check_reachable()
        elif target.session.get_credentials() is None:
            return None, f"No AWS credentials found for {where}: every figure comes from the usage profile."
        measured = usage_from_cloudwatch(target, table_name, days)
    except EndpointUnreachable as error:
        return None, f"{error}: every figure comes from the usage profile."
    except (BotoCoreError, ClientError) as error:
        return None, (f"CloudWatch usage sync from {where} failed ({type(error).__name__}: {error}): "
                      "every figure comes from the usage profile.")
    if measured is None:
        why = " (the emulator publishes no DynamoDB metrics)" if target.is_emulator else ""
        return None, (f"No CloudWatch data for {table_name} on {where} in the last {days} days{why}: "
                      "every figure comes from the usage profile.")
    got = [k for k in ("write_units_per_day", "read_units_per_day", "storage_gb") if k in measured]
    missing = [k for k in ("write_units_per_day", "read_units_per_day", "storage_gb") if k not in measured]
    note = f"Measured on {where} over {days} days: {', '.join(got)}"
    note += f"; from the usage profile: {', '.join(missing)}." if missing else "."
    return measured, note


# -- the estimate ----------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Component:
    name: str
    quantity: Decimal
    unit: str
    unit_price_usd: Decimal
    monthly_usd: Decimal
    note: str = ""

    def to_dict(self) -> dict:
        return {"name": self.name, "quantity": _number(self.quantity), "unit": self.unit,
                "unit_price_usd": float(self.unit_price_usd), "monthly_usd": float(self.monthly_usd)}


def _component(name: str, quantity: Decimal, unit: str, price: Decimal, note: str = "") -> Component:
    return Component(name, quantity, unit, price, money(quantity * price), note)


@dataclass(frozen=True)
class CostReport:
    environment: str
    pricing: Pricing
    usage: dict[str, dict]
    components: tuple[Component, ...]
    billing_mode: str
    table_class: str
    free_tier: bool
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
        """The JSON report: ``environment``, ``pricing``, ``usage``, ``components``, ``total_monthly_usd``."""
        return {
            "environment": self.environment,
            "pricing": self.pricing.summary(),
            "usage": self.usage,
            "components": [c.to_dict() for c in self.components],
            "total_monthly_usd": float(self.total_monthly_usd),
        }

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2)


def load_table(environment: str) -> TableSpec:
    """The table the environment's Terraform configuration defines."""
    from .tfconfig import load_environment  # written alongside; imported lazily

    return load_environment(environment).table


def _usage_inputs(environment: str, usage: Any) -> UsageInputs:
    if usage is None:
        return load_usage(environment)
    if isinstance(usage, UsageInputs):
        return usage
    if isinstance(usage, UsageProfile):
        return UsageInputs(usage, {name: {"source": "argument"} for name in USAGE_FIELDS})
    if isinstance(usage, Mapping):
        return load_usage(environment, overrides=usage)
    raise ParameterError("usage", usage, "None, a mapping of overrides, a UsageProfile or UsageInputs")


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


def drivers(inputs: UsageInputs, spec: TableSpec, measured: Mapping[str, Any] | None = None) -> Drivers:
    """Turn a usage profile (and measurements) into request units, storage and their provenance."""
    p = inputs.profile
    measured = measured or {}
    usage: dict[str, dict] = {name: {"value": getattr(p, name), **inputs.source(name)} for name in USAGE_FIELDS}
    days = Decimal(p.days_per_month)

    writes_per_day = dec(p.effective_writes_per_day)
    if p.writes_per_day is None:
        usage["writes_per_day"] = {"value": _number(writes_per_day), "source": "derived",
                                   "ref": "users x notifications_per_user_per_day"}
    size = dec(p.item_size_kb)
    tw, tr = dec(p.transactional_write_fraction), dec(p.transactional_read_fraction)
    consistency = Decimal("0.5") if p.read_consistency == "eventual" else Decimal(1)
    units_per_write = ceil(size) * (1 + tw)
    units_per_read = ceil(size / 4) * ((1 - tr) * consistency + tr * 2)
    usage["write_units_per_write"] = {"value": _number(units_per_write), "source": "derived",
                                      "ref": "ceil(item_size_kb / 1 KB) x (1 + transactional_write_fraction)"}
    usage["read_units_per_read"] = {
        "value": _number(units_per_read), "source": "derived",
        "ref": "ceil(item_size_kb / 4 KB) x (consistency 1 or 0.5, transactional reads 2)"}

    reads_per_day = dec(p.reads_per_day)
    if "write_units_per_day" in measured:
        write_units = dec(measured["write_units_per_day"])
        usage["write_units_per_day"] = {"value": _number(write_units), "source": "cloudwatch",
                                        "ref": f"ConsumedWriteCapacityUnits, {measured.get('days', 30)}-day sum / days"}
    else:
        write_units = writes_per_day * units_per_write
        usage["write_units_per_day"] = {"value": _number(write_units), "source": "derived",
                                        "ref": "writes_per_day x write_units_per_write"}
    if "read_units_per_day" in measured:
        read_units = dec(measured["read_units_per_day"])
        usage["read_units_per_day"] = {"value": _number(read_units), "source": "cloudwatch",
                                       "ref": f"ConsumedReadCapacityUnits, {measured.get('days', 30)}-day sum / days"}
    else:
        read_units = reads_per_day * units_per_read
        usage["read_units_per_day"] = {"value": _number(read_units), "source": "derived",
                                       "ref": "reads_per_day x read_units_per_read"}
    storage = dec(p.storage_gb)
    if "storage_gb" in measured:
        storage = dec(round(float(measured["storage_gb"]), 6))
        usage["storage_gb"] = {"value": _number(storage), "source": "describe_table", "ref": "TableSizeBytes"}

    gsi_count = p.gsi_count if p.gsi_count is not None else len(spec.global_secondary_indexes)
    if p.gsi_count is None:
        usage["gsi_count"] = {"value": gsi_count, "source": "configuration",
                              "ref": "global_secondary_indexes"}
    gsi_size = dec(p.gsi_item_size_kb if p.gsi_item_size_kb is not None else p.item_size_kb)
    gsi_fraction = dec(p.gsi_write_fraction)
    gsi_write_units = writes_per_day * gsi_fraction * ceil(gsi_size) * gsi_count
    gsi_storage = storage * gsi_fraction * (gsi_size / size) * gsi_count

    usage["billing_mode"] = {"value": spec.billing_mode, "source": "configuration"}
    usage["table_class"] = {"value": spec.table_class, "source": "configuration"}
    usage["pitr_enabled"] = {"value": spec.pitr_enabled, "source": "configuration"}
    usage["stream_enabled"] = {"value": spec.stream_enabled, "source": "configuration"}
    usage["alarms"] = {"value": len(spec.alarm_names()), "source": "configuration", "ref": "alarm_names()"}
    usage["dashboard_enabled"] = {"value": spec.dashboard_enabled, "source": "configuration"}
    usage["contributor_insights_enabled"] = {"value": spec.contributor_insights_enabled, "source": "configuration"}
    return Drivers(days=days, hours=days * 24, writes_per_month=writes_per_day * days,
                   reads_per_month=reads_per_day * days, write_units_per_day=write_units,
                   read_units_per_day=read_units, storage_gb=storage, gsi_count=gsi_count,
                   gsi_write_units_per_day=gsi_write_units, gsi_storage_gb=gsi_storage, usage=usage)


def capacity_for(units_per_day: Decimal, utilization: Decimal) -> Decimal:
    """Capacity units (per second) serving ``units_per_day`` on average at ``utilization``: at least 1."""
    if units_per_day <= 0:
        return Decimal(1)
    return max(Decimal(1), ceil(units_per_day / SECONDS_PER_DAY / utilization))


def _provisioned_capacity(spec: TableSpec, kind: str, units_per_day: Decimal, utilization: Decimal) -> Decimal:
    """The table's write or read capacity: autoscaling's level for the load, the configured value, or the need."""
    scaling = spec.autoscaling
    if scaling.enabled:
        need = capacity_for(units_per_day, dec(scaling.target_utilization) / 100)
        low, high = (scaling.write_min, scaling.write_max) if kind == "write" else (scaling.read_min, scaling.read_max)
        return min(max(need, Decimal(low)), Decimal(high))
    configured = spec.write_capacity if kind == "write" else spec.read_capacity
    return Decimal(configured) if configured else capacity_for(units_per_day, utilization)


class _Allowance:
    """A free-tier allowance shared by several components (e.g. 25 GB across table and index storage)."""

    def __init__(self, amount: Decimal, enabled: bool):
        self.left = amount if enabled else Decimal(0)

    def take(self, quantity: Decimal) -> Decimal:
        """The billable part of ``quantity``."""
        free = min(self.left, quantity)
        self.left -= free
        return quantity - free


def contributor_insights_rules(spec: TableSpec) -> int:
    """Rules DynamoDB creates: 2 per table or GSI (most accessed / throttled keys), 4 when it has a sort key."""
    rules = 4 if spec.range_key else 2
    return rules + sum(4 if gsi.range_key else 2 for gsi in spec.global_secondary_indexes)


def estimate(environment: str, pricing: "str | Path | Pricing" = DEFAULT_PRICING, free_tier: bool = False,
             usage: Any = None, table: TableSpec | None = None,
             measured: Mapping[str, Any] | None = None) -> CostReport:
    """The monthly cost of ``environment``'s table: its configuration, its usage, a price set.

    ``usage``: ``None`` (the environment's profile), a mapping of overrides, a :class:`UsageProfile` or
    :class:`UsageInputs`. ``table``: the configuration (default: resolved from Terraform). ``measured``: what
    :func:`usage_from_cloudwatch` returned, replacing the profile's request units and table size.
    """
    from .params import environment as check_environment

    check_environment(environment)
    prices = load_pricing(pricing)
    spec = table if table is not None else load_table(environment)
    inputs = _usage_inputs(environment, usage)
    d = drivers(inputs, spec, measured)
    d.usage["free_tier"] = {"value": bool(free_tier), "source": "option"}
    p, cls, ft = inputs.profile, prices.for_class(spec.table_class), prices.free_tier
    components: list[Component] = []
    notes: list[str] = []

    if spec.provisioned:
        utilization = dec(p.target_utilization)
        wcu_pool, rcu_pool = _Allowance(ft.wcu, free_tier), _Allowance(ft.rcu, free_tier)
        wcu = _provisioned_capacity(spec, "write", d.write_units_per_day, utilization)
        rcu = _provisioned_capacity(spec, "read", d.read_units_per_day, utilization)
        d.usage["provisioned_wcu"] = {"value": _number(wcu), "source": "configuration" if (
            spec.write_capacity and not spec.autoscaling.enabled) else "derived"}
        d.usage["provisioned_rcu"] = {"value": _number(rcu), "source": "configuration" if (
            spec.read_capacity and not spec.autoscaling.enabled) else "derived"}
        components.append(_component("writes", wcu_pool.take(wcu) * d.hours, "WCU-hours", cls.wcu_hour))
        components.append(_component("reads", rcu_pool.take(rcu) * d.hours, "RCU-hours", cls.rcu_hour))
        notes.append(f"Provisioned capacity billed for {_number(d.hours)} hours ({p.days_per_month} days x 24; "
                     "AWS's examples use 730).")
    else:
        components.append(_component("writes", d.write_units_per_day * d.days / MILLION,
                                     "million write request units", cls.write_request_units_per_million))
        components.append(_component("reads", d.read_units_per_day * d.days / MILLION,
                                     "million read request units", cls.read_request_units_per_million))
    storage_pool = _Allowance(ft.storage_gb, free_tier)
    components.append(_component("storage", storage_pool.take(d.storage_gb), "GB-month", cls.storage_gb_month))

    if d.gsi_count:
        if spec.provisioned:
            gsi_wcu = Decimal(0)
            for index in range(d.gsi_count):
                configured = (spec.global_secondary_indexes[index].write_capacity
                              if index < len(spec.global_secondary_indexes) else None)
                gsi_wcu += Decimal(configured) if configured else capacity_for(
                    d.gsi_write_units_per_day / d.gsi_count, dec(p.target_utilization))
            components.append(_component("gsi_writes", wcu_pool.take(gsi_wcu) * d.hours, "WCU-hours",
                                         cls.wcu_hour))
        else:
            components.append(_component("gsi_writes", d.gsi_write_units_per_day * d.days / MILLION,
                                         "million write request units", cls.write_request_units_per_million))
        components.append(_component("gsi_storage", storage_pool.take(d.gsi_storage_gb), "GB-month",
                                     cls.storage_gb_month))
    if spec.pitr_enabled:
        components.append(_component("pitr", d.storage_gb, "GB-month", prices.pitr_gb_month))
    if p.on_demand_backup_gb:
        components.append(_component("backups", dec(p.on_demand_backup_gb), "GB-month", prices.backup_gb_month))
    if p.restore_gb_per_month:
        components.append(_component("restores", dec(p.restore_gb_per_month), "GB restored", prices.restore_gb))
    if spec.stream_enabled:
        requests = dec(p.stream_consumers) * dec(p.stream_reads_per_consumer_per_day) * d.days
        billable = _Allowance(ft.stream_read_requests, free_tier).take(requests)
        components.append(_component("streams", billable / HUNDRED_K, "100K stream read requests",
                                     prices.stream_read_requests_per_100k))
        notes.append(f"Streams: reads by Lambda triggers are free; {p.stream_consumers} other consumer(s) "
                     "in the usage profile.")
    alarms = len(spec.alarm_names())
    if alarms:
        billable = _Allowance(ft.alarms, free_tier).take(Decimal(alarms))
        components.append(_component("alarms", billable, "alarm-months", prices.alarm_month))
    if spec.dashboard_enabled:
        billable = _Allowance(ft.dashboards, free_tier).take(Decimal(1))
        components.append(_component("dashboard", billable, "dashboard-months", prices.dashboard_month))
    if spec.contributor_insights_enabled:
        rules = Decimal(contributor_insights_rules(spec))
        events = d.writes_per_month + d.reads_per_month
        components.append(_component("contributor_insights",
                                     _Allowance(ft.contributor_insights_rules, free_tier).take(rules),
                                     "rule-months", prices.contributor_insights_rule_month))
        components.append(_component("contributor_insights_events",
                                     _Allowance(ft.contributor_insights_events, free_tier).take(events) / MILLION,
                                     "million events", prices.contributor_insights_events_per_million))
    sources = {entry.get("source") for entry in d.usage.values()}
    if measured:
        notes.insert(0, "Some usage measured by CloudWatch/DynamoDB (see usage sources); the rest from the profile.")
    elif inputs.path is not None:
        notes.insert(0, f"Usage from {_relative(inputs.path)}" + (" with overrides." if "override" in sources
                                                                    else "."))
    notes.append("Free tier applied (account-wide allowances, shared by every table)." if free_tier
                 else "Free tier not applied (--free-tier applies it).")
    return CostReport(environment=environment, pricing=prices, usage=d.usage, components=tuple(components),
                      billing_mode=spec.billing_mode, table_class=spec.table_class, free_tier=bool(free_tier),
                      notes=tuple(notes))


# -- provisioned vs on-demand ----------------------------------------------------------------------------------
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
    break_even_writes: Decimal
    break_even_reads: Decimal
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
            "target_utilization": float(self.target_utilization), "hours_per_month": _number(self.hours_per_month),
            "wcu": _number(self.wcu), "rcu": _number(self.rcu),
            "on_demand_monthly_usd": float(self.on_demand_monthly_usd),
            "provisioned_monthly_usd": float(self.provisioned_monthly_usd),
            "saving_usd": float(self.saving_usd), "cheaper": self.cheaper,
            "break_even_utilization": round(float(self.break_even_utilization), 4),
        }


def compare_billing_modes(environment: str, pricing: "str | Path | Pricing" = DEFAULT_PRICING, usage: Any = None,
                          table: TableSpec | None = None, target_utilization: float | None = None,
                          measured: Mapping[str, Any] | None = None) -> BillingComparison:
    """Capacity the load needs at ``target_utilization`` (default: the profile's), both monthly costs, break-even.

    Capacity = average units per second / utilisation, rounded up (real traffic has peaks: autoscaling's target
    plays this role). Hours per month = ``days_per_month * 24`` (the guide's 30-day month; AWS uses 730). The
    break-even utilisation is computed from the prices: below it on-demand is cheaper.
    """
    from .params import environment as check_environment

    check_environment(environment)
    prices = load_pricing(pricing)
    spec = table if table is not None else load_table(environment)
    inputs = _usage_inputs(environment, usage)
    d = drivers(inputs, spec, measured)
    cls = prices.for_class(spec.table_class)
    u = dec(target_utilization if target_utilization is not None else inputs.profile.target_utilization)
    if not Decimal(0) < u <= Decimal(1):
        raise ParameterError("target_utilization", target_utilization, "a fraction in (0, 1]")
    write_units = d.write_units_per_day + d.gsi_write_units_per_day
    wcu, rcu = capacity_for(write_units, u), capacity_for(d.read_units_per_day, u)
    provisioned = money((wcu * cls.wcu_hour + rcu * cls.rcu_hour) * d.hours)
    on_demand = (money(write_units * d.days / MILLION * cls.write_request_units_per_million)
                 + money(d.read_units_per_day * d.days / MILLION * cls.read_request_units_per_million))
    hourly = Decimal(3600)
    writes_od = write_units * cls.write_request_units_per_million / MILLION
    reads_od = d.read_units_per_day * cls.read_request_units_per_million / MILLION
    # cost-weighted: provisioned(u) = on-demand  <=>  u = sum(load x capacity price) / (3600 x sum(load x unit price))
    denominator = hourly * (writes_od + reads_od)
    combined = ((write_units * cls.wcu_hour + d.read_units_per_day * cls.rcu_hour) / denominator
                if denominator else Decimal(0))
    even = prices.break_even_utilization(spec.table_class)
    return BillingComparison(target_utilization=u, hours_per_month=d.hours, write_units_per_day=write_units,
                             read_units_per_day=d.read_units_per_day, wcu=wcu, rcu=rcu,
                             on_demand_monthly_usd=on_demand, provisioned_monthly_usd=provisioned,
                             break_even_utilization=combined, break_even_writes=even["writes"],
                             break_even_reads=even["reads"], prices=cls)


# -- what-ifs for the analysis notebook ------------------------------------------------------------------------
def seed_comparison(environment: str, table: TableSpec | None = None, usage: Any = None) -> list[dict]:
    """The guide's figures next to this engine's with the legacy and the current prices (writes, reads, storage).

    ``total_seed_scope`` adds up only what the guide priced; ``total`` is every component that applies.
    """
    spec = table if table is not None else load_table(environment)
    legacy = estimate(environment, LEGACY_PRICING, usage=usage, table=spec)
    current = estimate(environment, DEFAULT_PRICING, usage=usage, table=spec)
    seed = SEED_FIGURES[environment]
    rows = []
    for name in ("writes", "reads", "storage"):
        rows.append({"component": name, "guide_usd": float(seed[name]), "legacy_usd": float(legacy.monthly(name)),
                     "current_usd": float(current.monthly(name))})
    scope = ("writes", "reads", "storage")
    rows.append({"component": "total (guide's scope)", "guide_usd": float(seed["total"]),
                 "legacy_usd": float(sum(legacy.monthly(n) for n in scope)),
                 "current_usd": float(sum(current.monthly(n) for n in scope))})
    rows.append({"component": "total (all components)", "guide_usd": None,
                 "legacy_usd": float(legacy.total_monthly_usd), "current_usd": float(current.total_monthly_usd)})
    return rows


def cost_by_users(environment: str, users: list[int], pricing: "str | Path | Pricing" = DEFAULT_PRICING,
                  usage: Any = None, table: TableSpec | None = None) -> list[dict]:
    """Monthly total, on-demand and provisioned (at the profile's utilisation), as the user base grows."""
    spec = table if table is not None else load_table(environment)
    prices = load_pricing(pricing)
    base = _usage_inputs(environment, usage)
    rows = []
    for n in users:
        scaled = apply_overrides(base, {"users": n})
        report = estimate(environment, prices, usage=scaled, table=spec)
        modes = compare_billing_modes(environment, prices, usage=scaled, table=spec)
        rows.append({"users": n, "total_monthly_usd": float(report.total_monthly_usd),
                     "on_demand_throughput_usd": float(modes.on_demand_monthly_usd),
                     "provisioned_throughput_usd": float(modes.provisioned_monthly_usd)})
    return rows


def compare_table_classes(environment: str, pricing: "str | Path | Pricing" = DEFAULT_PRICING, usage: Any = None,
                          table: TableSpec | None = None) -> dict[str, CostReport]:
    """The same table and usage priced as Standard and as Standard-IA."""
    spec = table if table is not None else load_table(environment)
    return {cls: estimate(environment, pricing, usage=usage, table=spec.model_copy(update={"table_class": cls}))
            for cls in TABLE_CLASSES}


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
        return {"advice": self.advice, "before_usd": float(self.before_usd), "after_usd": float(self.after_usd),
                "saved_usd": float(self.saved_usd), "assumption": self.assumption}


def scan_to_query_saving(profile: UsageProfile, prices: Pricing, table_class: TableClass = "STANDARD",
                         scans_per_day: int = 24) -> Saving:
    """Replace full-table Scans with a Query of one user's partition (on-demand read units).

    A Scan reads the whole table in 4 KB read units, eventually consistent by default (half a unit each);
    a Query reads one user's items: table size / users.
    """
    cls = prices.for_class(table_class)
    table_kb = dec(profile.storage_gb) * KB_PER_GB
    scan_units = ceil(table_kb / 4) * Decimal("0.5")
    partition_kb = table_kb / dec(profile.users) if profile.users else table_kb
    query_units = max(Decimal(1), ceil(partition_kb / 4)) * Decimal("0.5")
    per_month = dec(scans_per_day) * dec(profile.days_per_month) / MILLION * cls.read_request_units_per_million
    return Saving("Check for scan operations (use Query instead)", money(scan_units * per_month),
                  money(query_units * per_month),
                  f"{scans_per_day} full-table scans a day of {profile.storage_gb:g} GB, each replaced by a Query "
                  f"of one user's items ({_number(partition_kb.quantize(Decimal('0.1')))} KB)")


def ttl_saving(profile: UsageProfile, prices: Pricing, table_class: TableClass = "STANDARD",
               pitr_enabled: bool = False, months_without_ttl: int = 12) -> Saving:
    """Storage (and PITR) when TTL is not deleting: after ``months_without_ttl`` the table holds every item.

    With TTL the table holds ``retention_days`` of items (``storage_gb``); without it, storage grows linearly
    with the days kept. TTL deletes cost nothing.
    """
    cls = prices.for_class(table_class)
    per_gb = cls.storage_gb_month + (prices.pitr_gb_month if pitr_enabled else Decimal(0))
    kept_days = dec(months_without_ttl) * dec(profile.days_per_month)
    grown = dec(profile.storage_gb) * max(Decimal(1), kept_days / dec(profile.retention_days))
    return Saving("Verify TTL is deleting old items", money(grown * per_gb), money(dec(profile.storage_gb) * per_gb),
                  f"after {months_without_ttl} months without TTL: {_number(grown)} GB instead of "
                  f"{profile.storage_gb:g} GB ({profile.retention_days}-day retention)"
                  + (", PITR included" if pitr_enabled else ""))


def hot_key_cost(environment: str, prices: Pricing, table: TableSpec, usage: Any = None) -> Saving:
    """Finding hot keys with Contributor Insights is not free: what enabling it would add a month."""
    with_ci = table.model_copy(update={"contributor_insights_enabled": True})
    cost = sum((c.monthly_usd for c in estimate(environment, prices, usage=usage, table=with_ci).components
                if c.name.startswith("contributor_insights")), Decimal("0.00"))
    return Saving("Review CloudWatch metrics for hot keys (Contributor Insights)", Decimal("0.00"), cost,
                  f"{contributor_insights_rules(table)} rules plus one event per request; the metrics themselves "
                  "are free, the insight rules are not (a cost, not a saving)")


def high_costs_savings(environment: str, pricing: "str | Path | Pricing" = DEFAULT_PRICING, usage: Any = None,
                       table: TableSpec | None = None, scans_per_day: int = 24, months_without_ttl: int = 12,
                       target_utilization: float | None = None) -> list[Saving]:
    """The guide's four "High Costs" solutions, each priced for this environment."""
    spec = table if table is not None else load_table(environment)
    prices = load_pricing(pricing)
    profile = _usage_inputs(environment, usage).profile
    modes = compare_billing_modes(environment, prices, usage=usage, table=spec,
                                  target_utilization=target_utilization)
    provisioned = Saving("Consider switching to provisioned mode", modes.on_demand_monthly_usd,
                         modes.provisioned_monthly_usd,
                         f"steady load at {float(modes.target_utilization):.0%} average utilisation: "
                         f"{_number(modes.wcu)} WCU, {_number(modes.rcu)} RCU; break-even "
                         f"{float(modes.break_even_utilization):.1%}")
    return [scan_to_query_saving(profile, prices, spec.table_class, scans_per_day),
            ttl_saving(profile, prices, spec.table_class, spec.pitr_enabled, months_without_ttl),
            hot_key_cost(environment, prices, spec, usage), provisioned]


# -- rendering and the CLI ------------------------------------------------------------------------------------
def _usd(value: Decimal) -> str:
    return f"${value:,.2f}"


def _price(value: Decimal) -> str:
    text = f"{value.normalize():f}"
    return f"${text}" if "." in text and len(text.split(".")[1]) > 2 else f"${value:,.2f}"


def _quantity(value: Decimal) -> str:
    if value == value.to_integral_value():
        return f"{int(value):,}"
    return f"{value:,.4f}".rstrip("0").rstrip(".")


def render_table(report: CostReport, width: int = 110) -> str:
    """The report as a plain-text table (rich, no colour codes), with its notes."""
    from io import StringIO

    from rich.console import Console
    from rich.table import Table

    prices = report.pricing
    table = Table(show_footer=True)
    table.add_column("component", footer="total")
    table.add_column("quantity", justify="right")
    table.add_column("unit")
    table.add_column("unit price", justify="right")
    table.add_column("monthly", justify="right", footer=_usd(report.total_monthly_usd))
    for c in report.components:
        table.add_row(c.name, _quantity(c.quantity), c.unit, _price(c.unit_price_usd), _usd(c.monthly_usd))
    buffer = StringIO()
    console = Console(file=buffer, width=width, color_system=None, force_terminal=False, force_jupyter=False,
                      highlight=False)
    console.print(f"Monthly cost of {report.environment} ({report.billing_mode}, {report.table_class}), "
                  f"prices {prices.name} effective {prices.effective_date.isoformat()}", soft_wrap=True)
    console.print(table)
    for note in report.notes:
        console.print(f"- {note}", soft_wrap=True)
    console.print(f"- Prices: {', '.join(prices.source[:2])}", soft_wrap=True)
    return buffer.getvalue()


def cost_command(environment: str, pricing: str, fmt: str, free_tier: bool) -> str:
    """``runbook cost``: the text to print. Unknown environment, price set or format: :class:`ParameterError`."""
    from .params import choice, environment as check_environment

    check_environment(environment)
    choice(fmt, "format", FORMATS)
    report = estimate(environment, pricing or DEFAULT_PRICING, free_tier=bool(free_tier))
    return report.to_json() if fmt == "json" else render_table(report)


__all__ = [
    "BillingComparison", "Component", "CostReport", "Pricing", "Saving", "UsageInputs", "UsageProfile",
    "compare_billing_modes", "compare_table_classes", "cost_by_users", "cost_command", "estimate",
    "high_costs_savings", "known_pricing", "load_pricing", "load_usage", "render_table", "seed_comparison",
    "sync_usage", "usage_from_cloudwatch", "ENVIRONMENTS",
]
