"""Drift, as Terraform found it: one plan made with refresh, read per resource and setting.

A plan (``terraform show -json`` of a saved plan) holds three values of every managed resource:

- the **state**: what the last apply recorded (``resource_drift[].change.before``; for a resource Terraform found
  unchanged, the same as the refreshed value);
- the **live** value: what Terraform's refresh read back (``resource_drift[].change.after`` =
  ``prior_state`` = ``resource_changes[].change.before``);
- the **configuration**: what applying it would make (``resource_changes[].change.after``).

Each setting is then:

- ``drift``: the live value differs from the state: changed outside Terraform (an alarm deleted, PITR turned off
  in the console, a tag added by hand, a policy edited) — unless the live value is what the configuration asks
  for anyway (with autoscaling on, the configuration follows the live capacity);
- ``pending``: the configuration differs from the state: an edit of the tfvars or the configuration not applied
  yet (a create, an update, a replace, a delete);
- both, when both hold (reported as two rows);
- ``in sync``: neither;
- ``not readable``: the endpoint cannot report it (named by the caller, e.g. an emulator without the API).

Values are compared as the provider means them, not as it happens to spell them: ``null`` = ``0`` = ``false`` =
``""`` = ``[]`` = ``{}`` = absent; lists compared regardless of order; JSON documents (IAM and resource policies,
dashboard bodies) compared as data. Tags are judged on ``tags_all`` (the tags on the resource): the AWS provider
computes ``tags`` on refresh as the live tags minus the *current* ``default_tags``, so an unapplied
``common_tags`` edit changes the refreshed ``tags`` of every resource without anything having changed outside
Terraform; ``tags_all`` does not move unless the resource's tags did.

No Python description of the infrastructure is involved: which attributes the configuration sets comes from the
plan's ``configuration`` (its ``expressions``) and, for blocks the configuration writes as ``dynamic`` blocks (which
``expressions`` leaves out: a global table's ``replica`` blocks, its indexes, an ``import_table``), from the plan
itself: an attribute Terraform plans to change to a known value is one the configuration sets. Every value is
Terraform's.
"""

from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass, field
from typing import Any, Literal, Mapping

from runbook.terraform.tfjson import PlanJson

Status = Literal["in sync", "drift", "pending", "not readable"]
#: Exit codes of ``runbook drift``.
EXIT_IN_SYNC, EXIT_DRIFT, EXIT_USAGE, EXIT_PENDING = 0, 1, 2, 3
UNKNOWN = "(known after apply)"
SENSITIVE = "(sensitive)"
ABSENT = "null"
#: Terraform's own bookkeeping, never a setting.
_NOISE = {"id", "timeouts"}
#: The tags on the resource (``tags`` + the provider's ``default_tags``): what tag drift is judged on.
TAGS_ALL = "tags_all"
COLUMNS = ["resource", "attribute", "state", "live", "configured", "status", "note"]


@dataclass
class DriftRow:
    resource: str
    attribute: str
    state: str
    live: str
    configured: str
    status: Status
    note: str = ""


@dataclass
class DriftReport:
    rows: list[DriftRow] = field(default_factory=list)
    #: No managed resource in the state: nothing was applied yet (every resource is to be created).
    nothing_applied: bool = False

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
        pending = (f"{len(self.pending)} setting(s) of {len(self.resources('pending'))} resource(s) to change by the "
                   "configuration (not applied yet)")
        if self.drifted:
            text = (f"drift: {len(self.drifted)} setting(s) of {len(self.resources('drift'))} resource(s) changed "
                    "outside Terraform")
            return text + (f"; also pending: {pending}" if self.pending else "")
        if self.nothing_applied:
            return (f"pending: nothing applied yet — {len(self.resources('pending'))} resource(s) to create, "
                    "no state to drift from")
        if self.pending:
            return f"pending: {pending}; no drift"
        return "in sync: Terraform found no change outside Terraform and plans none"

    def summary(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for row in self.rows:
            counts[row.status] = counts.get(row.status, 0) + 1
        return counts

    def resources(self, status: Status) -> list[str]:
        return sorted({r.resource for r in self.rows if r.status == status})

    def row(self, resource: str, attribute: str, status: Status | None = None) -> DriftRow | None:
        """The row of one setting (and status), if the report has it."""
        return next((r for r in self.rows if r.resource == resource and r.attribute == attribute
                     and (status is None or r.status == status)), None)

    def to_dict(self) -> dict[str, Any]:
        return {"verdict": self.verdict, "exit_code": self.exit_code, "nothing_applied": self.nothing_applied,
                "summary": self.summary(), "rows": [asdict(r) for r in self.rows]}

    def to_frame(self):
        import pandas as pd  # noqa: PLC0415 — `runbook drift` starts faster without pandas

        return pd.DataFrame([asdict(r) for r in self.rows], columns=COLUMNS)

    def __str__(self) -> str:
        return self.to_frame().to_string(index=False)


# --- comparing values as the provider means them ------------------------------------------------------------------

def _canonical(value: Any) -> Any:
    """``value`` with the provider's spelling differences removed: empty forms → None, lists sorted, JSON parsed."""
    if value is None or value is False or value == "" or (isinstance(value, (int, float)) and value == 0):
        return None
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and value.lstrip().startswith(("{", "[")):
        try:
            return _canonical(json.loads(value))
        except ValueError:
            return value
    if isinstance(value, dict):
        out = {k: c for k, v in value.items() if (c := _canonical(v)) is not None}
        return out or None
    if isinstance(value, list):
        items = [_canonical(v) for v in value]
        return sorted(items, key=lambda v: json.dumps(v, sort_keys=True)) or None
    return value


def equivalent(a: Any, b: Any) -> bool:
    """Whether two values of an attribute mean the same (see the module docstring)."""
    return _canonical(a) == _canonical(b)


def _text(value: Any) -> str:
    if value is None:
        return ABSENT
    if isinstance(value, str):
        if value.lstrip().startswith(("{", "[")):
            try:  # a JSON document (an IAM policy, a dashboard body): shown as data, keys sorted
                return json.dumps(json.loads(value), sort_keys=True)
            except ValueError:
                pass
        return value
    return json.dumps(value, sort_keys=True)


def _child(mask: Any, key: Any) -> Any:
    if isinstance(mask, dict) and isinstance(key, str):
        return mask.get(key)
    if isinstance(mask, list) and isinstance(key, int) and key < len(mask):
        return mask[key]
    return None


def _join(prefix: str, key: Any) -> str:
    return f"{prefix}[{key}]" if isinstance(key, int) else (f"{prefix}.{key}" if prefix else str(key))


def differences(old: Any, new: Any, unknown: Any = None, sensitive: Any = None,
                prefix: str = "") -> list[tuple[str, str, str]]:
    """``(attribute, old, new)`` for each setting whose values differ in meaning, as deep as they can be told apart.

    ``unknown``/``sensitive`` are Terraform's masks of ``new`` (``after_unknown``, ``after_sensitive``).
    """
    if unknown is True:
        return [(prefix, _text(old), UNKNOWN)]
    if not _any_unknown(unknown) and equivalent(old, new):
        return []
    if sensitive is True:
        return [] if old == new else [(prefix, SENSITIVE, SENSITIVE)]
    if isinstance(old, str) and isinstance(new, str) and (document := _documents(old, new)):
        return differences(*document, prefix=prefix)  # an IAM policy, a dashboard body: the statement that differs
    if isinstance(old, dict) or isinstance(new, dict):
        if not (isinstance(old, (dict, type(None))) and isinstance(new, (dict, type(None)))):
            return [(prefix, _text(old), _text(new))]
        old, new = old or {}, new or {}
        rows = []
        keys = list(dict.fromkeys([*old, *new, *(unknown if isinstance(unknown, dict) else {})]))
        for key in keys:
            rows += differences(old.get(key), new.get(key), _child(unknown, key), _child(sensitive, key),
                                _join(prefix, key))
        return rows
    if (isinstance(old, list) and isinstance(new, list) and len(old) == len(new)
            and all(isinstance(v, dict) for v in old + new)):
        rows = []
        for index, (a, b) in enumerate(zip(old, new)):
            rows += differences(a, b, _child(unknown, index), _child(sensitive, index), _join(prefix, index))
        return rows
    if equivalent(old, new):
        return []
    return [(prefix, _text(old), _text(new))]


def _documents(old: str, new: str) -> tuple[Any, Any] | None:
    """Both values parsed, when both are JSON documents (objects or arrays)."""
    try:
        parsed = json.loads(old), json.loads(new)
    except ValueError:
        return None
    return parsed if all(isinstance(v, (dict, list)) for v in parsed) else None


def _any_unknown(mask: Any) -> bool:
    if isinstance(mask, dict):
        return any(_any_unknown(v) for v in mask.values())
    if isinstance(mask, list):
        return any(_any_unknown(v) for v in mask)
    return mask is True


def _at(value: Any, attribute: str) -> Any:
    """The value at an attribute path (``point_in_time_recovery[0].enabled``) of a resource value."""

    for step in re.findall(r"[^.\[\]]+|\[\d+\]", attribute):
        if isinstance(value, str) and value.lstrip().startswith(("{", "[")):
            try:  # into a JSON document (a policy)
                value = json.loads(value)
            except ValueError:
                return None
        if step.startswith("["):
            index = int(step[1:-1])
            value = value[index] if isinstance(value, list) and index < len(value) else None
        else:
            value = value.get(step) if isinstance(value, dict) else None
    return value


def _unknown_at(mask: Any, attribute: str) -> bool:
    return _unknown_mask_at(mask, attribute) is True


def _unknown_mask_at(mask: Any, attribute: str) -> Any:
    """Terraform's ``after_unknown`` mask at an attribute path (``True`` when the whole value is unknown)."""

    for step in re.findall(r"[^.\[\]]+|\[\d+\]", attribute):
        if mask is True:
            return True
        mask = _child(mask, int(step[1:-1]) if step.startswith("[") else step)
    return mask


def _matches(configured: Any, value: Any, unknown: Any) -> bool:
    """Whether ``configured`` means ``value`` wherever it is known: the parts Terraform leaves unknown (a replica's
    ARN, stream and key until it exists again) match anything. Lists of blocks are compared as sets (the provider
    keeps ``replica``, ``global_secondary_index`` … as sets)."""
    if unknown is True:
        return True
    if isinstance(configured, dict) and isinstance(value, dict):
        return all(_matches(configured.get(key), value.get(key), _child(unknown, key))
                   for key in {*configured, *value})
    if (isinstance(configured, list) and isinstance(value, list) and len(configured) == len(value)
            and all(isinstance(v, dict) for v in configured + value)):
        left = list(value)
        for index, block in enumerate(configured):
            match = next((v for v in left if _matches(block, v, _child(unknown, index))), None)
            if match is None:
                return False
            left.remove(match)
        return True
    return equivalent(configured, value)


#: Keys that name a block of a set (a replica by its region, an index or an alarm by its name).
_BLOCK_NAMES = ("region_name", "name", "index_name")


def _blocks_changed(old: Any, new: Any) -> str:
    """For two lists of named blocks: which were removed and which added (``replica us-west-2 removed``)."""
    def names(blocks: Any) -> list[str]:
        if not isinstance(blocks, list) or not all(isinstance(b, dict) for b in blocks):
            return []
        found = [next((str(b[key]) for key in _BLOCK_NAMES if b.get(key)), None) for b in blocks]
        return [] if None in found else found

    before, after = names(old), names(new)
    if not before and not after:
        return ""
    removed = [n for n in before if n not in after]
    added = [n for n in after if n not in before]
    return "; ".join(part for part in (f"{', '.join(removed)} removed" if removed else "",
                                       f"{', '.join(added)} added" if added else "") if part)


def _tags_beside_tags_all(attribute: str, values: tuple) -> bool:
    """Whether ``attribute`` is (in) a ``tags`` map that has a ``tags_all`` beside it (the resource's, or a nested
    block's such as an instance's ``root_block_device``): the provider derives such ``tags`` from the current
    ``default_tags``, so they are judged on ``tags_all``."""

    match = re.match(r"^(?:(.*)\.)?tags(?:\.|$)", attribute)
    while match:
        parent = match.group(1) or ""
        if any(isinstance(v := (_at(value, parent) if parent else value), dict) and TAGS_ALL in v
               for value in values):
            return True
        match = re.match(r"^(?:(.*)\.)?tags(?:\.|$)", parent) if parent else None
    return False


def _top(attribute: str) -> str:
    return attribute.split(".", 1)[0].split("[", 1)[0]


def _path_text(path: list) -> str:
    text = ""
    for step in path:
        text = _join(text, step)
    return text


# --- the report ---------------------------------------------------------------------------------------------------

def drift_report(plan: PlanJson, not_readable: Mapping[str, str] | None = None) -> DriftReport:
    """The drift report of a plan (``terraform show -json`` of a saved plan made with refresh).

    ``not_readable``: resource types (or addresses) the endpoint cannot report, with the reason.
    """
    not_readable = dict(not_readable or {})
    drifts = {d["address"]: d for d in plan.resource_drift if d.get("mode", "managed") == "managed"}
    report = DriftReport(nothing_applied=not plan.prior_resources() and not drifts)
    for change in plan.resource_changes:
        if change.get("mode", "managed") != "managed":
            continue
        reason = not_readable.get(change["address"]) or not_readable.get(change.get("type", ""))
        if reason:
            report.rows.append(DriftRow(change["address"], "(all)", "", "", "", "not readable", reason))
            continue
        report.rows += _resource_rows(plan, change, drifts.get(change["address"]), report.nothing_applied)
    return report


def _resource_rows(plan: PlanJson, change: dict, drift: dict | None, nothing_applied: bool) -> list[DriftRow]:
    address, body = change["address"], change["change"]
    actions = [a for a in body.get("actions", []) if a != "read"]
    importing = bool(body.get("importing"))
    if drift and "delete" in drift["change"].get("actions", []):
        return [DriftRow(address, "(resource)", "exists", "deleted outside Terraform",
                         "to create" if "create" in actions else "removed from the configuration", "drift",
                         "the next apply creates it again" if "create" in actions else "")]
    if "create" in actions and "delete" not in actions:
        if importing:
            return [DriftRow(address, "(resource)", "not in the state", "exists", "configured", "pending",
                             "import: adopts the existing resource")]
        return [DriftRow(address, "(resource)", "not in the state", "absent", "configured", "pending",
                         "nothing applied yet" if nothing_applied else "not created yet")]
    if actions == ["delete"]:
        return [DriftRow(address, "(resource)", "exists", "exists", "removed from the configuration", "pending",
                         "the next apply deletes it")]

    live, configured = body.get("before"), body.get("after")
    state = drift["change"].get("before") if drift else live
    unknown = body.get("after_unknown")
    expressions = plan.configured_attributes(address)

    def setting(attribute: str) -> bool:
        top = _top(attribute)
        if top in _NOISE or _tags_beside_tags_all(attribute, (state, live, configured)):
            return False  # tags: judged on tags_all (see the module docstring)
        return top == TAGS_ALL or expressions is None or top in expressions or planned_change(attribute)

    def planned_change(attribute: str) -> bool:
        """Terraform plans a known value that differs from the live one: the configuration sets it, even where the
        configuration's ``expressions`` cannot say so (a ``dynamic`` block: replicas, indexes, an import)."""
        return not _unknown_at(unknown, attribute) and not equivalent(_at(configured, attribute), _at(live, attribute))

    rows: list[DriftRow] = []
    set_back: set[str] = set()
    for attribute, state_text, live_text in differences(state, live):
        if not setting(attribute):
            continue  # computed by the provider (arn, attachment_count …): not a change outside Terraform
        if _unknown_at(unknown, attribute):
            configured_text = UNKNOWN
        else:
            configured_value = _at(configured, attribute)
            if equivalent(configured_value, _at(live, attribute)):
                continue  # the live value is what the configuration asks for (e.g. the autoscaler's capacity)
            configured_text = _text(configured_value)
        if configured_text != UNKNOWN and _matches(_at(configured, attribute), _at(state, attribute),
                                                    _unknown_mask_at(unknown, attribute)):
            note = "changed outside Terraform; the next apply sets it back"
            set_back.add(attribute)
        else:
            note = "changed outside Terraform; the configuration also changes it (pending)"
        blocks = _blocks_changed(_at(state, attribute), _at(live, attribute))
        note = f"{blocks} outside Terraform; {note.split('; ', 1)[1]}" if blocks else note
        rows.append(DriftRow(address, attribute, state_text, live_text, configured_text, "drift", note))

    forced = {_path_text(p) for p in body.get("replace_paths") or []}
    for attribute, live_text, configured_text in differences(live, configured, unknown, body.get("after_sensitive")):
        if not setting(attribute) or attribute in set_back or any(attribute.startswith(s + ".")
                                                                    or attribute.startswith(s + "[")
                                                                    for s in set_back):
            continue
        if configured_text == UNKNOWN and _top(attribute) not in (expressions or {}) and _top(attribute) != TAGS_ALL:
            continue  # a computed attribute the provider fills in again (an update's new arn, version …)
        state_value = _at(state, attribute)
        note = "forces replacement" if attribute in forced or _top(attribute) in forced else ""
        blocks = _blocks_changed(_at(live, attribute), _at(configured, attribute))
        note = "; ".join(part for part in (blocks and f"{blocks} by the configuration", note) if part)
        if importing:
            note = ("import, then " + note) if note else "import, then update"
        rows.append(DriftRow(address, attribute, _text(state_value), live_text, configured_text, "pending", note))

    if set(actions) - {"no-op"} and not any(r.status == "pending" for r in rows) and not set_back:
        why = ", ".join(sorted(forced)) or "see the plan"
        rows.append(DriftRow(address, "(resource)", "", "", "", "pending", f"{'/'.join(actions)} ({why})"))
    if importing and not rows:
        rows.append(DriftRow(address, "(resource)", "not in the state", "exists", "configured", "pending",
                             "import: adopts the existing resource"))
    if not rows:
        rows.append(DriftRow(address, "(all)", "as configured", "as configured", "as configured", "in sync"))
    return rows
