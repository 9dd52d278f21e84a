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

from dataclasses import asdict, dataclass, field
from typing import Any, Literal, Mapping

from runbook.steps.providervalues import (
    TAGS_ALL,
    UNKNOWN,
    blocks_changed,
    differences,
    equivalent,
    matches_where_known,
    path_text,
    shown,
    tags_beside_tags_all,
    top_attribute,
    unknown_at,
    unknown_mask_at,
    value_at,
)
from runbook.terraform.tfjson import PlanJson

Status = Literal["in sync", "drift", "pending", "not readable"]
#: Exit codes of ``runbook drift``.
EXIT_IN_SYNC, EXIT_DRIFT, EXIT_USAGE, EXIT_PENDING = 0, 1, 2, 3
#: Terraform's own bookkeeping, never a setting.
_NOISE = {"id", "timeouts"}
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
        pending = (
            f"{len(self.pending)} setting(s) of {len(self.resources('pending'))} resource(s) to change by the "
            "configuration (not applied yet)"
        )
        if self.drifted:
            text = (
                f"drift: {len(self.drifted)} setting(s) of {len(self.resources('drift'))} resource(s) changed "
                "outside Terraform"
            )
            return text + (f"; also pending: {pending}" if self.pending else "")
        if self.nothing_applied:
            return (
                f"pending: nothing applied yet — {len(self.resources('pending'))} resource(s) to create, "
                "no state to drift from"
            )
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
        return next(
            (
                r
                for r in self.rows
                if r.resource == resource and r.attribute == attribute and (status is None or r.status == status)
            ),
            None,
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "verdict": self.verdict,
            "exit_code": self.exit_code,
            "nothing_applied": self.nothing_applied,
            "summary": self.summary(),
            "rows": [asdict(r) for r in self.rows],
        }

    def to_frame(self):
        import pandas as pd  # noqa: PLC0415 — `runbook drift` starts faster without pandas

        return pd.DataFrame([asdict(r) for r in self.rows], columns=COLUMNS)

    def __str__(self) -> str:
        return self.to_frame().to_string(index=False)


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
        return [
            DriftRow(
                address,
                "(resource)",
                "exists",
                "deleted outside Terraform",
                "to create" if "create" in actions else "removed from the configuration",
                "drift",
                "the next apply creates it again" if "create" in actions else "",
            )
        ]
    if "create" in actions and "delete" not in actions:
        if importing:
            return [_import_row(address)]
        return [
            DriftRow(
                address,
                "(resource)",
                "not in the state",
                "absent",
                "configured",
                "pending",
                "nothing applied yet" if nothing_applied else "not created yet",
            )
        ]
    if actions == ["delete"]:
        return [
            DriftRow(
                address,
                "(resource)",
                "exists",
                "exists",
                "removed from the configuration",
                "pending",
                "the next apply deletes it",
            )
        ]

    live, configured = body.get("before"), body.get("after")
    state = drift["change"].get("before") if drift else live
    unknown = body.get("after_unknown")
    expressions = plan.configured_attributes(address)

    def setting(attribute: str) -> bool:
        top = top_attribute(attribute)
        if top in _NOISE or tags_beside_tags_all(attribute, (state, live, configured)):
            return False  # tags: judged on tags_all (see the module docstring)
        return top == TAGS_ALL or expressions is None or top in expressions or planned_change(attribute)

    def planned_change(attribute: str) -> bool:
        """Terraform plans a known value that differs from the live one: the configuration sets it, even where the
        configuration's ``expressions`` cannot say so (a ``dynamic`` block: replicas, indexes, an import)."""
        return not unknown_at(unknown, attribute) and not equivalent(
            value_at(configured, attribute), value_at(live, attribute)
        )

    rows: list[DriftRow] = []
    set_back: set[str] = set()
    for attribute, state_text, live_text in differences(state, live):
        if not setting(attribute):
            continue  # computed by the provider (arn, attachment_count …): not a change outside Terraform
        if unknown_at(unknown, attribute):
            configured_text = UNKNOWN
        else:
            configured_value = value_at(configured, attribute)
            if equivalent(configured_value, value_at(live, attribute)):
                continue  # the live value is what the configuration asks for (e.g. the autoscaler's capacity)
            configured_text = shown(configured_value)
        if configured_text != UNKNOWN and matches_where_known(
            value_at(configured, attribute), value_at(state, attribute), unknown_mask_at(unknown, attribute)
        ):
            note = "changed outside Terraform; the next apply sets it back"
            set_back.add(attribute)
        else:
            note = "changed outside Terraform; the configuration also changes it (pending)"
        blocks = blocks_changed(value_at(state, attribute), value_at(live, attribute))
        note = f"{blocks} outside Terraform; {note.split('; ', 1)[1]}" if blocks else note
        rows.append(DriftRow(address, attribute, state_text, live_text, configured_text, "drift", note))

    forced = {path_text(p) for p in body.get("replace_paths") or []}
    for attribute, live_text, configured_text in differences(live, configured, unknown, body.get("after_sensitive")):
        if (
            not setting(attribute)
            or attribute in set_back
            or any(attribute.startswith(s + ".") or attribute.startswith(s + "[") for s in set_back)
        ):
            continue
        top = top_attribute(attribute)
        if configured_text == UNKNOWN and top not in (expressions or {}) and top != TAGS_ALL:
            continue  # a computed attribute the provider fills in again (an update's new arn, version …)
        state_value = value_at(state, attribute)
        note = "forces replacement" if attribute in forced or top in forced else ""
        blocks = blocks_changed(value_at(live, attribute), value_at(configured, attribute))
        note = "; ".join(part for part in (blocks and f"{blocks} by the configuration", note) if part)
        if importing:
            note = ("import, then " + note) if note else "import, then update"
        rows.append(DriftRow(address, attribute, shown(state_value), live_text, configured_text, "pending", note))

    if set(actions) - {"no-op"} and not any(r.status == "pending" for r in rows) and not set_back:
        why = ", ".join(sorted(forced)) or "see the plan"
        rows.append(DriftRow(address, "(resource)", "", "", "", "pending", f"{'/'.join(actions)} ({why})"))
    if importing and not rows:
        rows.append(_import_row(address))
    if not rows:
        rows.append(DriftRow(address, "(all)", "as configured", "as configured", "as configured", "in sync"))
    return rows


def _import_row(address: str) -> DriftRow:
    """A resource an ``import {}`` block adopts: not in the state yet, existing live, pending."""
    return DriftRow(
        address,
        "(resource)",
        "not in the state",
        "exists",
        "configured",
        "pending",
        "import: adopts the existing resource",
    )
