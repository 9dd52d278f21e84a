"""The usage profile (what the table is used for) and its CloudWatch sync (what the table really did).

``infrastructure/<env>/usage.yml`` holds the configuration guide's assumptions per environment; overrides replace
fields (overriding ``users`` scales the per-user quantities). :func:`usage_from_cloudwatch` measures request units
and table size, the way Infracost's usage sync does; :func:`sync_usage` never raises and says what happened.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, Mapping

from botocore.exceptions import BotoCoreError, ClientError
from pydantic import Field, ValidationError

from runbook.aws import metrics
from runbook.aws.discovery import table_description
from runbook.cost.pricing import BYTES_PER_GB, _Frozen, config_error, read_yaml
from runbook.errors import ConfigurationError, EndpointUnreachable, ParameterError
from runbook.params import environment as check_environment
from runbook.paths import ROOT, environment_dir

if TYPE_CHECKING:  # pragma: no cover
    from runbook.aws.target import Target


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
    #: Days in the estimate's month (the guide uses 30: 720 h).
    days_per_month: int = Field(default=30, ge=28, le=31)
    #: Hours in the estimate's month; when set it decides the month (730: AWS's calculator and Infracost), and
    #: ``days_per_month`` is not used. Unset: ``days_per_month x 24``.
    hours_per_month: float | None = Field(default=None, ge=672, le=744)
    #: Average utilisation of provisioned capacity to plan for (provisioned tables and the comparison).
    target_utilization: float = Field(default=0.7, gt=0, le=1)

    @property
    def month_hours(self) -> Decimal:
        """Hours billed in the estimate's month: ``hours_per_month``, else ``days_per_month x 24``."""
        return (
            Decimal(str(self.hours_per_month))
            if self.hours_per_month is not None
            else Decimal(self.days_per_month * 24)
        )

    @property
    def month_days(self) -> Decimal:
        """Days in the estimate's month (``month_hours / 24``: 30.4166… for 730 h)."""
        return self.month_hours / 24

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
        update: dict[str, Any] = {
            "users": users,
            "reads_per_day": self.reads_per_day * k,
            "storage_gb": self.storage_gb * k,
            "on_demand_backup_gb": self.on_demand_backup_gb * k,
            "restore_gb_per_month": self.restore_gb_per_month * k,
        }
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


def relative(path: Path) -> str:
    try:
        return str(Path(path).resolve().relative_to(ROOT))
    except ValueError:
        return str(path)


def load_usage(environment: str, overrides: Mapping[str, Any] | None = None, path: Path | None = None) -> UsageInputs:
    """The environment's usage profile, with ``overrides`` (field → value; ``None`` values are ignored).

    Overriding ``users`` scales the per-user quantities (reads, storage, backups, explicit writes) with it, unless
    those are overridden too. Bad values in the file raise :class:`ConfigurationError` naming the file and key;
    bad overrides raise :class:`ParameterError` naming the field.
    """
    check_environment(environment)
    path = Path(path) if path else usage_path(environment)
    if not path.is_file():
        raise ConfigurationError(path, f"usage profile for {environment!r} not found")
    data = read_yaml(path)
    try:
        profile = UsageProfile.model_validate(data)
    except ValidationError as error:
        raise config_error(path, error) from None
    _check_month(data, path)
    ref = relative(path)
    sources = {
        name: ({"source": "profile", "ref": ref} if name in data else {"source": "default"}) for name in USAGE_FIELDS
    }
    return apply_overrides(UsageInputs(profile, sources, path), overrides or {})


def _check_month(data: Mapping[str, Any], path: Path) -> None:
    """A profile giving both ``days_per_month`` and ``hours_per_month`` must give the same month."""
    days, hours = data.get("days_per_month"), data.get("hours_per_month")
    if days is not None and hours is not None and float(days) * 24 != float(hours):
        line = next(
            (
                n
                for n, text in enumerate(path.read_text().splitlines(), start=1)
                if text.lstrip().startswith("hours_per_month")
            ),
            None,
        )
        raise ConfigurationError(
            path,
            f"hours_per_month: {hours} h disagrees with days_per_month: {days} "
            f"({float(days) * 24:g} h); set one of them (hours_per_month decides the month)",
            line=line,
        )


def apply_overrides(inputs: UsageInputs, overrides: Mapping[str, Any]) -> UsageInputs:
    """``inputs`` with ``overrides`` applied and validated (see :func:`load_usage`)."""
    overrides = {k: v for k, v in overrides.items() if v is not None}
    for key, value in overrides.items():
        if key not in USAGE_FIELDS:
            raise ParameterError(key, value, f"a usage profile field ({', '.join(USAGE_FIELDS)})")
    hours = inputs.profile.hours_per_month
    if "days_per_month" in overrides and "hours_per_month" not in overrides and hours is not None:
        raise ParameterError(
            "days_per_month",
            overrides["days_per_month"],
            f"no override while the usage profile sets hours_per_month = {hours:g}, which decides "
            "the month: override hours_per_month instead",
        )
    profile, sources = inputs.profile, dict(inputs.sources)
    if "users" in overrides and overrides["users"] != profile.users:
        users = _validated({**profile.model_dump(), "users": overrides["users"]}, {"users": overrides["users"]}).users
        base_users = profile.users
        profile = profile.scaled(users)
        for name in SCALED_FIELDS:
            if (
                base_users
                and name not in overrides
                and (name != "writes_per_day" or profile.writes_per_day is not None)
            ):
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


def usage_inputs(environment: str, usage: Any) -> UsageInputs:
    """``usage`` as the estimate takes it: ``None`` (the profile), overrides, a UsageProfile or UsageInputs."""
    if usage is None:
        return load_usage(environment)
    if isinstance(usage, UsageInputs):
        return usage
    if isinstance(usage, UsageProfile):
        return UsageInputs(usage, {name: {"source": "argument"} for name in USAGE_FIELDS})
    if isinstance(usage, Mapping):
        return load_usage(environment, overrides=usage)
    raise ParameterError("usage", usage, "None, a mapping of overrides, a UsageProfile or UsageInputs")


# -- CloudWatch usage sync --------------------------------------------------------------------------------------
MEASURED = (("ConsumedWriteCapacityUnits", "write_units_per_day"), ("ConsumedReadCapacityUnits", "read_units_per_day"))
MEASURED_KEYS = ("write_units_per_day", "read_units_per_day", "storage_gb")


def usage_from_cloudwatch(target: "Target", table_name: str, days: int = 30) -> dict | None:
    """What the table actually consumed: ``days``-day sums of ConsumedWrite/ReadCapacityUnits and its size.

    Returns ``None`` when the target has no data at all, else a dict with whichever of ``write_units_per_day``,
    ``read_units_per_day`` (daily averages over ``days``) and ``storage_gb`` (DescribeTable ``TableSizeBytes``,
    updated by DynamoDB about every six hours) it has, plus ``table_name``, ``days`` and ``days_with_data``.
    The consumed-capacity metrics already include item-size rounding and read consistency. Errors from AWS
    propagate; :func:`sync_usage` turns them into a note.
    """
    totals = metrics.daily_totals(target, table_name, [metric for metric, _ in MEASURED], days)
    result: dict[str, Any] = {}
    days_with_data = 0
    for metric, key in MEASURED:
        if totals.get(metric):
            result[key] = sum(totals[metric]) / days
            days_with_data = max(days_with_data, len(totals[metric]))
    table = table_description(target.client("dynamodb"), table_name)
    size = table.get("TableSizeBytes") if table else None
    if size:
        result["storage_gb"] = size / float(BYTES_PER_GB)
    if not result:
        return None
    return {**result, "table_name": table_name, "days": days, "days_with_data": days_with_data}


def sync_usage(target: "Target", table_name: str, days: int = 30) -> tuple[dict | None, str]:
    """:func:`usage_from_cloudwatch` that never raises: ``(measured or None, a note saying what happened)``."""
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
        return None, (
            f"CloudWatch usage sync from {where} failed ({type(error).__name__}: {error}): "
            "every figure comes from the usage profile."
        )
    if measured is None:
        why = " (the emulator publishes no DynamoDB metrics)" if target.is_emulator else ""
        return None, (
            f"No CloudWatch data for {table_name} on {where} in the last {days} days{why}: "
            "every figure comes from the usage profile."
        )
    got = [k for k in MEASURED_KEYS if k in measured]
    missing = [k for k in MEASURED_KEYS if k not in measured]
    note = f"Measured on {where} over {days} days: {', '.join(got)}"
    note += f"; from the usage profile: {', '.join(missing)}." if missing else "."
    return measured, note
