"""Drift, as Terraform found it: a plan's ``resource_drift`` and ``resource_changes``, per resource and setting.

Terraform's refresh reads every managed resource (the table, its alarms, autoscaling, IAM, the instance) and
reports what changed outside Terraform as ``resource_drift``; the plan then says what applying the configuration
would change (``resource_changes``). The report tells apart, for each resource and attribute:

- ``in sync``: Terraform found nothing changed and plans nothing;
- ``drift``: changed outside Terraform (the state says one thing, the live resource another);
- ``pending``: the configuration changed and is not applied yet (a create, an update, a replace, a delete);
- ``not readable``: the endpoint cannot report it (named by the caller, e.g. an emulator without the API).

No Python description of the infrastructure is involved: the configured value is Terraform's ``after``, the live
value its refreshed ``before``.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from typing import Any, Literal, Mapping

from .tfjson import PlanJson

Status = Literal["in sync", "drift", "pending", "not readable"]
#: Exit codes of ``runbook drift``.
EXIT_IN_SYNC, EXIT_DRIFT, EXIT_USAGE, EXIT_PENDING = 0, 1, 2, 3
UNKNOWN = "(known after apply)"
SENSITIVE = "(sensitive)"
#: Attributes that only restate others or are Terraform's own bookkeeping, never a setting.
_NOISE = {"id", "tags_all", "timeouts"}


@dataclass
class DriftRow:
    resource: str
    attribute: str
    configured: str
    live: str
    status: Status
    note: str = ""


@dataclass
class DriftReport:
    rows: list[DriftRow] = field(default_factory=list)

    @property
    def drifted(self) -> list[DriftRow]:
        return [r for r in self.rows if r.status == "drift"]

    @property
    def pending(self) -> list[DriftRow]:
        return [r for r in self.rows if r.status == "pending"]

    @property
    def not_readable(self) -> list[DriftRow]:
        return [r for r in self.rows if r.status == "not readable"]

    @property
    def in_sync(self) -> bool:
        return not self.drifted and not self.pending

    @property
    def ok(self) -> bool:
        """No drift (pending changes are the configuration's, not drift)."""
        return not self.drifted

    @property
    def exit_code(self) -> int:
        return EXIT_DRIFT if self.drifted else EXIT_PENDING if self.pending else EXIT_IN_SYNC

    @property
    def verdict(self) -> str:
        if self.drifted:
            resources = sorted({r.resource for r in self.drifted})
            return f"drift: {len(self.drifted)} setting(s) of {len(resources)} resource(s) changed outside Terraform"
        if self.pending:
            resources = sorted({r.resource for r in self.pending})
            return f"pending: {len(resources)} resource(s) to change by the configuration, no drift"
        return "in sync: Terraform found no change outside Terraform and plans none"

    def summary(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for row in self.rows:
            counts[row.status] = counts.get(row.status, 0) + 1
        return counts

    def resources(self, status: Status) -> list[str]:
        return sorted({r.resource for r in self.rows if r.status == status})

    def to_dict(self) -> dict[str, Any]:
        return {"verdict": self.verdict, "exit_code": self.exit_code, "summary": self.summary(),
                "rows": [asdict(r) for r in self.rows]}

    def to_frame(self):
        import pandas as pd

        return pd.DataFrame([asdict(r) for r in self.rows],
                            columns=["resource", "attribute", "configured", "live", "status", "note"])

    def __str__(self) -> str:
        return self.to_frame().to_string(index=False)


# --- reading the plan -------------------------------------------------------------------------------------------

def _text(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, str):
        return value
    return json.dumps(value, sort_keys=True)


def _flat(value: Any, unknown: Any = None, sensitive: Any = None, prefix: str = "") -> dict[str, str]:
    """``{"point_in_time_recovery[0].enabled": "true", …}``: one entry per leaf, unknown and sensitive marked."""
    if sensitive is True:
        return {prefix: SENSITIVE}
    if unknown is True:
        return {prefix: UNKNOWN}
    if isinstance(value, dict) and value and not (prefix.endswith("tags") or prefix.endswith("dimensions")):
        out: dict[str, str] = {}
        for key, item in value.items():
            out.update(_flat(item, (unknown or {}).get(key) if isinstance(unknown, dict) else None,
                             (sensitive or {}).get(key) if isinstance(sensitive, dict) else None,
                             f"{prefix}.{key}" if prefix else key))
        if isinstance(unknown, dict):  # attributes only known after apply are absent from ``after``
            for key, flag in unknown.items():
                if flag is True and key not in value:
                    out[f"{prefix}.{key}" if prefix else key] = UNKNOWN
        return out
    if isinstance(value, list) and value and all(isinstance(v, dict) for v in value):
        out = {}
        for index, item in enumerate(value):
            out.update(_flat(item, unknown[index] if isinstance(unknown, list) and index < len(unknown) else None,
                             sensitive[index] if isinstance(sensitive, list) and index < len(sensitive) else None,
                             f"{prefix}[{index}]"))
        return out
    if isinstance(value, str) and value.lstrip().startswith(("{", "[")):
        try:  # a JSON document (an IAM policy, a dashboard body): compare it as data, not as text
            return {prefix: json.dumps(json.loads(value), sort_keys=True)}
        except ValueError:
            pass
    return {prefix: _text(value)}


def _differences(before: dict | None, after: dict | None, change: dict | None = None,
                 before_key: str = "before", after_key: str = "after") -> list[tuple[str, str, str]]:
    """``(attribute, before, after)`` for every leaf that differs between two resource values."""
    change = change or {}
    old = _flat(before or {}, None, change.get(f"{before_key}_sensitive"))
    new = _flat(after or {}, change.get(f"{after_key}_unknown"), change.get(f"{after_key}_sensitive"))
    rows = []
    for key in sorted(set(old) | set(new)):
        if _top(key) in _NOISE:
            continue
        a, b = old.get(key, "null"), new.get(key, "null")
        if a != b and {a, b} - {"null", "[]", "{}", '""', ""}:
            rows.append((key, a, b))
    return rows


def drift_report(plan: PlanJson, not_readable: Mapping[str, str] | None = None) -> DriftReport:
    """The drift report of a plan (``terraform show -json`` of a saved plan made with refresh).

    ``not_readable``: resource types (or addresses) the endpoint cannot report, with the reason.
    """
    not_readable = dict(not_readable or {})
    drifts = {d["address"]: d for d in plan.resource_drift if d.get("mode", "managed") == "managed"}
    report = DriftReport()
    for change in plan.resource_changes:
        if change.get("mode", "managed") != "managed":
            continue
        address, body = change["address"], change["change"]
        actions = [a for a in body.get("actions", []) if a != "read"]
        reason = not_readable.get(address) or not_readable.get(change.get("type", ""))
        if reason:
            report.rows.append(DriftRow(address, "(all)", "", "", "not readable", reason))
            continue
        drifted: set[str] = set()
        drift = drifts.get(address)
        if drift:
            dbody = drift["change"]
            if "delete" in dbody.get("actions", []):
                report.rows.append(DriftRow(address, "(resource)", "exists in state", "deleted outside Terraform",
                                            "drift", "the next apply creates it again"))
                continue
            configured = plan.configured_attributes(address)
            for attribute, state, live in _differences(dbody.get("before"), dbody.get("after"), dbody):
                if configured is not None and _top(attribute) not in configured:
                    continue  # computed by the provider (arn, attachment_count …): not a change outside Terraform
                report.rows.append(DriftRow(address, attribute, state, live, "drift",
                                            "changed outside Terraform; the plan sets it back"
                                            if set(actions) - {"no-op"} else "changed outside Terraform"))
                drifted.add(attribute)
        if actions in (["no-op"], []) and not body.get("importing"):
            if not drifted:
                report.rows.append(DriftRow(address, "(all)", "as configured", "as configured", "in sync"))
            continue
        if "create" in actions and "delete" not in actions:
            note = "import: adopts the existing resource" if body.get("importing") else "not created yet"
            report.rows.append(DriftRow(address, "(resource)", "configured", "absent" if not body.get("importing")
                                        else "exists outside the state", "pending", note))
            continue
        if actions == ["delete"]:
            report.rows.append(DriftRow(address, "(resource)", "removed from the configuration", "exists", "pending",
                                        "the next apply deletes it"))
            continue
        forced = {_path_text(p) for p in body.get("replace_paths") or []}
        for attribute, live, configured in _differences(body.get("before"), body.get("after"), body):
            if attribute in drifted:
                continue
            note = "forces replacement" if attribute in forced or attribute.split("[")[0] in forced else ""
            if body.get("importing"):
                note = ("import, then " + note) if note else "import, then update"
            report.rows.append(DriftRow(address, attribute, configured, live, "pending", note))
        if body.get("importing") and not any(r.resource == address for r in report.rows):
            report.rows.append(DriftRow(address, "(resource)", "configured", "exists outside the state", "pending",
                                        "import: adopts the existing resource"))
    return report


def _top(attribute: str) -> str:
    return attribute.split(".", 1)[0].split("[", 1)[0]


def _path_text(path: list) -> str:
    text = ""
    for step in path:
        text += f"[{step}]" if isinstance(step, int) else (f".{step}" if text else str(step))
    return text
