"""Drift: the table the configuration wants (a :class:`~runbook.spec.TableSpec`) against the live table.

:func:`compare` is pure: it takes the spec and a :class:`~runbook.discovery.LiveTable` (or ``None`` when the table
does not exist) and returns a :class:`DriftReport` with one row per setting::

    setting | desired | live | status | note

``status`` is ``ok``, ``drifted`` (live differs), ``missing`` (something the configuration wants is absent) or
``unsupported`` (the endpoint cannot report the setting — e.g. moto never returns ``TableClass`` and answers
Contributor Insights with HTTP 500). An unsupported row is never counted as ok: it is listed in
:attr:`DriftReport.unsupported`, and it does not make :attr:`DriftReport.ok` false either.

:func:`drift_report` reads the live table with :func:`~runbook.discovery.describe_table` and compares.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Literal

from .aws import Target
from .discovery import LiveTable, describe_tables
from .provision import (alarm_metric_names, encryption_status, expected_alarms, module_alarm_names, scaling_plan,
                        table_tags)
from .spec import TableSpec

Status = Literal["ok", "drifted", "missing", "unsupported"]
STATUSES: tuple[Status, ...] = ("ok", "drifted", "missing", "unsupported")
ABSENT = "—"


@dataclass(frozen=True)
class DriftRow:
    setting: str
    desired: str
    live: str
    status: Status
    note: str = ""


@dataclass
class DriftReport:
    """Every compared setting of one table. ``ok`` is True only when no row is drifted or missing."""

    table: str
    rows: list[DriftRow] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return all(row.status in ("ok", "unsupported") for row in self.rows)

    @property
    def drifted(self) -> list[DriftRow]:
        """Rows that need action: drifted or missing."""
        return [row for row in self.rows if row.status in ("drifted", "missing")]

    @property
    def unsupported(self) -> list[DriftRow]:
        """Rows the endpoint could not report (not ok, not drifted: unknown)."""
        return [row for row in self.rows if row.status == "unsupported"]

    def row(self, setting: str) -> DriftRow | None:
        return next((row for row in self.rows if row.setting == setting), None)

    def status_of(self, setting: str) -> Status | None:
        row = self.row(setting)
        return row.status if row else None

    def summary(self) -> dict[str, int]:
        counts = {status: 0 for status in STATUSES}
        for row in self.rows:
            counts[row.status] += 1
        return counts

    def to_dict(self) -> dict[str, Any]:
        """JSON-friendly: ``table``, ``ok``, ``summary``, ``rows`` (a list of row dicts)."""
        return {"table": self.table, "ok": self.ok, "summary": self.summary(),
                "rows": [asdict(row) for row in self.rows]}

    def to_frame(self):
        import pandas as pd

        return pd.DataFrame([asdict(row) for row in self.rows],
                            columns=["setting", "desired", "live", "status", "note"])

    def __str__(self) -> str:
        counts = ", ".join(f"{n} {status}" for status, n in self.summary().items() if n)
        return f"drift of {self.table}: {'ok' if self.ok else 'DRIFT'} ({counts})"


def _fmt(value: Any) -> str:
    if value is None:
        return ABSENT
    if isinstance(value, bool):
        return "enabled" if value else "disabled"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


class _Rows:
    def __init__(self) -> None:
        self.rows: list[DriftRow] = []

    def add(self, setting: str, desired: Any, live: Any, status: Status | None = None, note: str = "") -> None:
        desired_text, live_text = _fmt(desired), _fmt(live)
        if status is None:
            status = "ok" if desired_text == live_text else "drifted"
        if status == "ok" and note.startswith("!"):
            note = ""  # a "!note" explains a difference: dropped when there is none
        note = note.lstrip("!")
        self.rows.append(DriftRow(setting, desired_text, live_text, status, note))

    def unsupported(self, setting: str, desired: Any, reason: str) -> None:
        self.rows.append(DriftRow(setting, _fmt(desired), "unknown", "unsupported", reason))


def _unread(live: LiveTable, read: str) -> str | None:
    """Why a group of settings could not be read, if it could not."""
    return live.unsupported.get(read)


def compare(spec: TableSpec, live: LiveTable | None) -> DriftReport:
    """The drift report of ``spec`` against ``live`` (``None``: the table does not exist)."""
    out = _Rows()
    if live is None:
        out.add("existence", "present", "absent", "missing", "the table does not exist: apply the configuration")
        return DriftReport(spec.name, out.rows)
    out.add("existence", "present", "present", "ok")
    out.add("status", "ACTIVE", live.status or None, note="" if live.status == "ACTIVE" else "not ACTIVE yet")
    out.add("billing_mode", spec.billing_mode, live.billing_mode)
    desired_keys = f"{spec.hash_key} (HASH)" + (f", {spec.range_key} (RANGE)" if spec.range_key else "")
    live_keys = live.key_schema
    actual_keys = f"{live_keys['hash_key']} (HASH)" + (f", {live_keys['range_key']} (RANGE)"
                                                        if live_keys["range_key"] else "")
    out.add("key_schema", desired_keys, actual_keys, note="!keys cannot change in place: the table must be replaced")
    out.add("attributes", ", ".join(sorted(f"{a.name}:{a.type}" for a in spec.attributes)),
            ", ".join(sorted(f"{k}:{v}" for k, v in live.attributes.items())))
    _indexes(spec, live, out)
    _capacity(spec, live, out)
    _stream(spec, live, out)
    _pitr(spec, live, out)
    _ttl(spec, live, out)
    _encryption(spec, live, out)
    if live.table_class is None:
        out.unsupported("table_class", spec.table_class, "the endpoint does not report the table class "
                        "(TableClassSummary absent)")
    else:
        out.add("table_class", spec.table_class, live.table_class)
    out.add("deletion_protection", spec.deletion_protection_enabled, live.deletion_protection)
    _tags(spec, live, out)
    _alarms(spec, live, out)
    _contributor_insights(spec, live, out)
    return DriftReport(spec.name, out.rows)


def drift_report(spec: TableSpec, target: Target) -> DriftReport:
    """Read the live table named by ``spec`` from ``target`` and compare it with ``spec``."""
    return compare(spec, describe_tables(target, [spec.name])[spec.name])


# -- groups of rows -----------------------------------------------------------------------------------------------
def _index_text(hash_key: str | None, range_key: str | None, projection: str, non_key: list[str] | tuple) -> str:
    keys = f"{hash_key}" + (f" + {range_key}" if range_key else "")
    extra = f" [{', '.join(sorted(non_key))}]" if non_key else ""
    return f"{keys}, {projection}{extra}"


def _live_index_text(index: dict) -> str:
    keys = {k["KeyType"]: k["AttributeName"] for k in index.get("KeySchema", [])}
    projection = index.get("Projection") or {}
    return _index_text(keys.get("HASH"), keys.get("RANGE"), projection.get("ProjectionType", "?"),
                       projection.get("NonKeyAttributes") or [])


def _indexes(spec: TableSpec, live: LiveTable, out: _Rows) -> None:
    live_gsis = live.global_secondary_indexes
    for gsi in spec.global_secondary_indexes:
        desired = _index_text(gsi.hash_key, gsi.range_key, gsi.projection_type, gsi.non_key_attributes)
        index = live_gsis.get(gsi.name)
        if index is None:
            out.add(f"gsi:{gsi.name}", desired, None, "missing")
        else:
            out.add(f"gsi:{gsi.name}", desired, _live_index_text(index))
    for name in sorted(set(live_gsis) - {g.name for g in spec.global_secondary_indexes}):
        out.add(f"gsi:{name}", None, _live_index_text(live_gsis[name]), "drifted", "not in the configuration")

    live_lsis = live.local_secondary_indexes
    for lsi in spec.local_secondary_indexes:
        desired = _index_text(spec.hash_key, lsi.range_key, lsi.projection_type, lsi.non_key_attributes)
        index = live_lsis.get(lsi.name)
        if index is None:
            out.add(f"lsi:{lsi.name}", desired, None, "missing", "LSIs exist only from creation: replace the table")
        else:
            out.add(f"lsi:{lsi.name}", desired, _live_index_text(index))
    for name in sorted(set(live_lsis) - {lsi.name for lsi in spec.local_secondary_indexes}):
        out.add(f"lsi:{name}", None, _live_index_text(live_lsis[name]), "drifted", "not in the configuration")


def _capacity(spec: TableSpec, live: LiveTable, out: _Rows) -> None:
    if not spec.provisioned:
        return
    if not spec.autoscaling.enabled:
        table_read = spec.read_capacity or 5
        table_write = spec.write_capacity or 5
        out.add("read_capacity", table_read, live.read_capacity)
        out.add("write_capacity", table_write, live.write_capacity)
        for gsi in spec.global_secondary_indexes:
            index = live.global_secondary_indexes.get(gsi.name)
            if index is None:
                continue
            throughput = index.get("ProvisionedThroughput") or {}
            out.add(f"gsi:{gsi.name}:read_capacity", gsi.read_capacity or table_read,
                    throughput.get("ReadCapacityUnits"))
            out.add(f"gsi:{gsi.name}:write_capacity", gsi.write_capacity or table_write,
                    throughput.get("WriteCapacityUnits"))
        return
    # Autoscaling moves the capacity: compare the scalable targets and target-tracking policies instead.
    reason = _unread(live, "autoscaling")
    for item in scaling_plan(spec):
        setting = f"autoscaling:{item.label.replace(' ', ':')}"
        desired = f"min {item.min_capacity}, max {item.max_capacity}, target {item.target_value:g}%"
        if reason:
            out.unsupported(setting, desired, reason)
            continue
        scalable = live.scalable_target(item.resource_id, item.dimension)
        policies = [p for p in live.scaling_policies_for(item.resource_id, item.dimension)
                    if p.get("PolicyType") == "TargetTrackingScaling"]
        if scalable is None:
            out.add(setting, desired, None, "missing", "no scalable target registered")
            continue
        values = [(p.get("TargetTrackingScalingPolicyConfiguration") or {}).get("TargetValue") for p in policies]
        target_text = ", ".join(f"{v:g}%" for v in values if v is not None) or ABSENT
        actual = f"min {scalable['MinCapacity']}, max {scalable['MaxCapacity']}, target {target_text}"
        note = "" if policies else "no target-tracking policy"
        out.add(setting, desired, actual, None if policies else "missing", note)


def _stream(spec: TableSpec, live: LiveTable, out: _Rows) -> None:
    out.add("stream", spec.stream_enabled, live.stream_enabled)
    if spec.stream_enabled:
        out.add("stream_view_type", spec.stream_view_type or "NEW_AND_OLD_IMAGES", live.stream_view_type)


def _pitr(spec: TableSpec, live: LiveTable, out: _Rows) -> None:
    reason = _unread(live, "continuous_backups")
    if reason:
        out.unsupported("pitr", spec.pitr_enabled, reason)
        return
    out.add("pitr", spec.pitr_enabled, live.pitr_enabled)
    if spec.pitr_enabled and live.pitr_enabled:
        period = live.pitr_recovery_period_days
        if period is None:
            out.unsupported("pitr_recovery_period_days", spec.pitr_recovery_period_days,
                            "the endpoint does not report the recovery period")
        else:
            out.add("pitr_recovery_period_days", spec.pitr_recovery_period_days, period)


def _ttl(spec: TableSpec, live: LiveTable, out: _Rows) -> None:
    reason = _unread(live, "ttl")
    if reason:
        out.unsupported("ttl", spec.ttl_enabled, reason)
        return
    status = (live.ttl or {}).get("TimeToLiveStatus", "")
    out.add("ttl", spec.ttl_enabled, live.ttl_enabled, note=status if status in ("ENABLING", "DISABLING") else "")
    if spec.ttl_enabled:
        out.add("ttl_attribute", spec.ttl_attribute_name, live.ttl_attribute)


def _encryption(spec: TableSpec, live: LiveTable, out: _Rows) -> None:
    status = encryption_status(spec, live)
    if status == "unknown":
        out.unsupported("encryption", spec.encryption,
                        f"KMS key {live.kms_key_arn}: who manages it could not be read "
                        f"({_unread(live, 'kms') or 'not read'})")
    else:
        out.add("encryption", spec.encryption, live.encryption, status)  # type: ignore[arg-type]
    if spec.encryption == "CUSTOMER_MANAGED" and spec.kms_key_arn:
        out.add("encryption_key", spec.kms_key_arn, live.kms_key_arn)


def _tags(spec: TableSpec, live: LiveTable, out: _Rows) -> None:
    reason = _unread(live, "tags")
    for key, value in sorted(table_tags(spec).items()):
        setting = f"tag:{key}"
        if reason:
            out.unsupported(setting, value, reason)
        elif live.tags is None or key not in live.tags:
            out.add(setting, value, None, "missing")
        else:
            out.add(setting, value, live.tags[key])


def _alarms(spec: TableSpec, live: LiveTable, out: _Rows) -> None:
    reason = _unread(live, "alarms")
    wanted = expected_alarms(spec)
    if not wanted:
        extra = [name for name in module_alarm_names(spec) if live.alarm(name)]
        if reason:
            out.unsupported("alarms", "disabled", reason)
        else:
            out.add("alarms", "disabled", ", ".join(extra) if extra else "disabled",
                    "drifted" if extra else "ok", "alarms exist that the configuration does not want" if extra else "")
        return
    for name, arguments in wanted.items():
        setting = f"alarm:{name}"
        metrics = " + ".join(sorted(alarm_metric_names(arguments)))
        desired = f"{metrics} > {arguments['Threshold']:g}"
        if reason:
            out.unsupported(setting, desired, reason)
            continue
        alarm = live.alarm(name)
        if alarm is None:
            out.add(setting, desired, None, "missing")
            continue
        actual = f"{' + '.join(sorted(alarm_metric_names(alarm))) or '?'} > {alarm.get('Threshold', 0):g}"
        out.add(setting, desired, actual, note="!metric or threshold differs")


def _contributor_insights(spec: TableSpec, live: LiveTable, out: _Rows) -> None:
    reason = _unread(live, "contributor_insights")
    if reason or live.contributor_insights is None:
        out.unsupported("contributor_insights", spec.contributor_insights_enabled, reason or "not read")
        return
    status = live.contributor_insights.get("table", "DISABLED")
    out.add("contributor_insights", spec.contributor_insights_enabled, status in ("ENABLED", "ENABLING"),
            note=status if status not in ("ENABLED", "DISABLED") else "")
