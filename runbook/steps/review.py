"""The plan review: what a saved plan will do, read from ``terraform show -json tfplan``, before anyone approves it.

Every resource change with its action (create, update, replace, delete, import, forget…), for an update or a
replace the attributes that change (before → after; ``(known after apply)`` where Terraform does not know the
value yet; sensitive values are never shown), for a replace the attributes that force it (Terraform's
``replace_paths``), and a one-line summary. Destructive changes are named as such:

- a delete or replace of a stateful resource: the table (``aws_dynamodb_table``: its items are lost), a KMS key
  (what it encrypted becomes unreadable);
- an update of the table that drops a global secondary index (``global_secondary_index`` loses a name);
- a delete or replace of the IAM resources that give the application its access (``aws_iam_policy``,
  ``aws_iam_role_policy_attachment``, ``aws_iam_policy_attachment``, ``aws_iam_role``, ``aws_iam_role_policy``).

Which resource types are destructive is a safety policy of the runbook, not a fact about the module: every action,
attribute and reason comes from Terraform's JSON. The review itself makes no AWS call; what a table's deletion
would lose (live item count and size) is passed in (``live``: values, a ``LiveTable``, or a callable such as
:func:`live_reader`).

The gate that decides from a review is :mod:`runbook.steps.gate`.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

import pandas as pd

from runbook.markdown import cell as _cell
from runbook.markdown import code as _code
from runbook.steps.attributes import (
    AttributeChange,
    attribute_changes,
    known_after_apply,
    known_after_apply_line,
    path_text,
)
from runbook.steps.importing import import_block
from runbook.steps.livevalues import TableLive, live_values
from runbook.terraform.tfjson import TABLE_TYPE, PlanJson

KMS_KEY_TYPE = "aws_kms_key"


#: IAM resources whose delete or replace removes the application role's access (for a replace: until re-created).
ACCESS_TYPES = (
    "aws_iam_policy",
    "aws_iam_role_policy_attachment",
    "aws_iam_policy_attachment",
    "aws_iam_role",
    "aws_iam_role_policy",
)


#: Order in which actions are counted in the summary.
ACTION_ORDER = ("import", "import+update", "create", "update", "replace", "delete", "forget")


_ACTION_WORDS = {
    "import": "to import",
    "import+update": "to import and update",
    "create": "to create",
    "update": "to update",
    "replace": "to replace",
    "delete": "to delete",
    "forget": "to forget (removed from state, kept in AWS)",
}


#: Terraform's ``action_reason`` values, in words.
REASONS = {
    "replace_because_tainted": "tainted (a previous apply failed part-way): Terraform replaces it",
    "replace_because_cannot_update": "an attribute that cannot change in place changed",
    "replace_by_request": "replacement requested (-replace)",
    "replace_by_triggers": "replace_triggered_by",
    "delete_because_no_resource_config": "no longer in the configuration",
    "delete_because_no_module": "its module is no longer in the configuration",
    "delete_because_wrong_repetition": "count/for_each changed",
    "delete_because_count_index": "count reduced",
    "delete_because_each_key": "for_each key removed",
    "delete_because_no_move_target": "moved block without a target",
    "read_because_config_unknown": "configuration known only after apply",
    "read_because_dependency_pending": "a dependency has pending changes",
}


def action_of(resource_change: dict) -> str:
    """Terraform's ``change.actions`` (and ``importing``) as one word."""
    change = resource_change["change"]
    actions = list(change.get("actions") or [])
    if set(actions) == {"delete", "create"}:
        action = "replace"
    elif len(actions) == 1:
        action = actions[0]
    else:
        action = "+".join(actions)
    if change.get("importing"):
        return "import" if action == "no-op" else f"import+{action}"
    return action


@dataclass
class ResourceChange:
    address: str
    type: str
    action: str
    reason: str = ""
    attributes: list[AttributeChange] = field(default_factory=list)
    replace_paths: list[str] = field(default_factory=list)
    destructive: str = ""
    importing_id: str = ""
    previous_address: str = ""
    deposed: str = ""
    #: For a table's delete/replace: what it holds now (``None``: not read).
    lost: TableLive | None = None
    before_name: str | None = None
    after_name: str | None = None
    #: For the table's delete/replace: deletion protection in the state the plan started from.
    deletion_protection: bool | None = None

    @property
    def is_table(self) -> bool:
        return self.type == TABLE_TYPE

    def to_dict(self) -> dict:
        data = asdict(self)
        data["lost"] = asdict(self.lost) if self.lost else None
        return data


def _gsi_names(values: dict | None) -> set[str]:
    return {i.get("name") for i in (values or {}).get("global_secondary_index") or [] if i.get("name")}


def _destructive(rc: ResourceChange, change: dict) -> str:
    action = rc.action
    removes = action in ("delete", "replace") or action.endswith("+replace") or action.endswith("+delete")
    if rc.is_table:
        if removes:
            what = f"the table {rc.before_name}: data is lost" if rc.before_name else "the table: data is lost"
            if action == "replace" and rc.after_name and rc.after_name != rc.before_name:
                what += f" (replaced by a new, empty table {rc.after_name})"
            elif action == "replace":
                what += " (deleted and re-created empty)"
            return what
        dropped = sorted(_gsi_names(change.get("before")) - _gsi_names(change.get("after")))
        if dropped:
            return (
                "drops global secondary index "
                + ", ".join(dropped)
                + ": DynamoDB deletes it; queries on it fail until it is re-created and back-filled"
            )
        return ""
    if not removes:
        return ""
    if rc.type == KMS_KEY_TYPE:
        return "a KMS key is scheduled for deletion: whatever it encrypted becomes unreadable once it is gone"
    if rc.type in ACCESS_TYPES:
        kind = rc.type.removeprefix("aws_iam_").replace("_", " ")
        if action == "replace":
            return f"the application role's access: this IAM {kind} is deleted and re-created (access lost meanwhile)"
        return f"the application role's access: this IAM {kind} is deleted"
    return ""


def resource_change(raw: dict, live: Any = None) -> ResourceChange:
    change = raw["change"]
    action = action_of(raw)
    before, after = change.get("before") or {}, change.get("after") or {}
    rc = ResourceChange(
        address=raw["address"],
        type=raw.get("type", ""),
        action=action,
        reason=REASONS.get(raw.get("action_reason", ""), raw.get("action_reason", "")),
        replace_paths=[path_text(p) for p in change.get("replace_paths") or []],
        importing_id=str((change.get("importing") or {}).get("id", "")),
        previous_address=raw.get("previous_address", ""),
        deposed=raw.get("deposed", ""),
    )
    if rc.is_table:
        rc.before_name = before.get("name") if isinstance(before, dict) else None
        rc.after_name = after.get("name") if isinstance(after, dict) else None
        if "deletion_protection_enabled" in (before or {}):
            rc.deletion_protection = bool(before.get("deletion_protection_enabled"))
    if action in ("update", "replace", "import+update", "import+replace"):
        rc.attributes = attribute_changes(change)
    rc.destructive = _destructive(rc, change)
    if rc.is_table and rc.destructive and rc.before_name and action != "update":
        rc.lost = live_values(live, rc.before_name) or (TableLive(rc.before_name) if live is not None else None)
        if rc.lost is not None:
            rc.destructive += f" — {rc.lost.text} now"
    return rc


@dataclass(frozen=True)
class TableConflict:
    """The plan creates the table, but a table with that name already exists on the target (outside Terraform)."""

    table: str
    address: str
    import_block: str

    @property
    def message(self) -> str:
        return (
            f"a table named {self.table!r} already exists on the target, but Terraform's state does not manage "
            f"it: applying this plan would fail with the guide's 'Error: Table Already Exists' after creating "
            f"the other resources. Import it first: run 03-import (it writes this import block and plans it), "
            f"then re-run 02."
        )


@dataclass
class PlanReview:
    changes: list[ResourceChange]
    terraform_version: str = ""
    #: SHA-256 of the saved plan file this review was made from ('' when not known).
    plan_sha256: str = ""
    conflict: TableConflict | None = None
    #: A teardown (``terraform plan -destroy``, the guide's ``terraform destroy``): the plan deletes every resource
    #: it changes and leaves no managed resource behind. The gate asks for its own parameter (``destroy=True``).
    teardown: bool = False

    # -- views ----------------------------------------------------------------------------------------------------
    @property
    def has_changes(self) -> bool:
        return bool(self.changes)

    @property
    def counts(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for rc in self.changes:
            counts[rc.action] = counts.get(rc.action, 0) + 1
        order = {a: i for i, a in enumerate(ACTION_ORDER)}
        return dict(sorted(counts.items(), key=lambda kv: order.get(kv[0], len(order))))

    @property
    def destructive(self) -> list[ResourceChange]:
        return [rc for rc in self.changes if rc.destructive]

    @property
    def destructive_addresses(self) -> list[str]:
        return sorted(dict.fromkeys(rc.address for rc in self.destructive))

    @property
    def table_loss(self) -> list[ResourceChange]:
        """The table's delete or replace (its items are lost)."""
        return [rc for rc in self.destructive if rc.is_table and rc.action != "update"]

    def change(self, address: str) -> ResourceChange | None:
        return next((rc for rc in self.changes if rc.address == address), None)

    @property
    def summary(self) -> str:
        """One line: the counts by action, then each kind of destructive change ("1 to replace — the table: …")."""
        if not self.changes:
            return "no changes"
        text = ", ".join(f"{n} {_ACTION_WORDS.get(a, 'to ' + a)}" for a, n in self.counts.items())
        if self.teardown:
            text = "teardown (terraform destroy): " + text
        notes = []
        for rc in self.table_loss:
            note = "the table: data is lost"
            if rc.lost is not None:
                note += f" ({rc.lost.text})"
            notes.append(note)
        for rc in self.destructive:
            if rc.is_table and rc.action == "update":
                notes.append(rc.destructive.split(":")[0])
        keys = [rc for rc in self.destructive if rc.type == KMS_KEY_TYPE]
        if keys:
            notes.append(f"{len(keys)} KMS key{'s' if len(keys) > 1 else ''} deleted: encrypted data unreadable")
        access = [rc for rc in self.destructive if rc.type in ACCESS_TYPES]
        if access:
            notes.append(
                f"the application role loses its access ({len(access)} IAM "
                f"resource{'s' if len(access) > 1 else ''} deleted"
                + (" and re-created)" if all(rc.action == "replace" for rc in access) else ")")
            )
        if self.conflict:
            notes.append(
                f"the table {self.conflict.table} already exists outside Terraform: import it first (03-import)"
            )
        return text + (" — " + "; ".join(notes) if notes else "")

    # -- renderings -----------------------------------------------------------------------------------------------
    def rows(self) -> list[dict]:
        return [
            {
                "address": rc.address,
                "action": rc.action + (f" (deposed {rc.deposed})" if rc.deposed else ""),
                "destructive": rc.destructive,
                "forces replacement": ", ".join(rc.replace_paths),
                "changes": "; ".join(a.text for a in rc.attributes),
                "reason": rc.reason,
            }
            for rc in self.changes
        ]

    def to_frame(self) -> "pd.DataFrame":
        """One row per resource change (display with ``.style.hide(axis="index")`` or :meth:`to_html`)."""
        columns = ["address", "action", "destructive", "forces replacement", "changes", "reason"]
        return pd.DataFrame(self.rows(), columns=columns)

    def to_html(self) -> str:
        return self.to_frame().to_html(index=False)

    def to_markdown(self, origin: str = "") -> str:
        """The review as compact Markdown: the summary once (with the plan's SHA-256 and ``origin``, where the plan
        came from), the destructive changes named, then one row per change with only the columns that say
        something for this plan, and the changed attributes of every change that is not a create."""
        head = f"**Plan: {self.summary}**"
        if self.plan_sha256:
            head += f" · saved plan SHA-256 {_code(self.plan_sha256)}"
        lines = [head + (f" ({origin})" if origin else ""), ""]
        if self.teardown:
            lines += [
                "**Teardown:** every resource below is deleted and nothing is left in the state; the gate "
                "needs `destroy=True` as well as `apply=True` and `allow_destroy`.",
                "",
            ]
        if self.conflict:
            lines += [
                f"**Refused before apply:** {self.conflict.message}",
                "",
                "```hcl",
                self.conflict.import_block.rstrip(),
                "```",
                "",
            ]
        if self.destructive:
            lines += ["**Destructive changes** (the gate needs `allow_destroy` listing exactly these addresses):", ""]
            lines += [f"- {_code(rc.address)} ({rc.action}): {rc.destructive}" for rc in self.destructive]
            lines += ["", f'`allow_destroy = "{",".join(self.destructive_addresses)}"`', ""]
        if not self.changes:
            return "\n".join(lines).rstrip() + "\n"
        rows = self.rows()
        columns = [c for c in _REVIEW_COLUMNS if c in ("address", "action") or any(row.get(c) for row in rows)]
        lines += ["| " + " | ".join(columns) + " |", "|" + " --- |" * len(columns)]
        for row in rows:
            lines.append("| " + " | ".join(_code(row[c]) if c == "address" else _cell(row[c]) for c in columns) + " |")
        for rc in self.changes:
            if rc.attributes and rc.action != "create":
                lines += ["", f"{_code(rc.address)} ({rc.action}):", ""]
                later = known_after_apply(rc.attributes)
                lines += [
                    f"- `{a.path}`: `{a.before}` → `{a.after}`"
                    + (" **(forces replacement)**" if a.forces_replacement else "")
                    for a in rc.attributes
                    if not later or a not in later
                ]
                if later:
                    lines.append(known_after_apply_line(later))
        return "\n".join(lines) + "\n"

    def _repr_markdown_(self) -> str:
        return self.to_markdown()

    def to_dict(self) -> dict:
        """JSON-friendly, for ``runbook.execution.record``: summary, counts, destructive addresses, every change."""
        return {
            "summary": self.summary,
            "counts": self.counts,
            "destructive": self.destructive_addresses,
            "plan_sha256": self.plan_sha256,
            "teardown": self.teardown,
            "terraform_version": self.terraform_version,
            "conflict": None if self.conflict is None else {**asdict(self.conflict), "message": self.conflict.message},
            "changes": [rc.to_dict() for rc in self.changes],
        }


#: The columns of the Markdown review, in order; the first two always show, the others only when not empty.
_REVIEW_COLUMNS = ("address", "action", "destructive", "forces replacement", "reason")


def review(
    plan: PlanJson | dict, live: Any = None, plan_sha256: str = "", table_exists: bool | None = None
) -> PlanReview:
    """The review of a saved plan (``runbook.terraform.tfjson.PlanJson`` or the raw ``show -json`` dict).

    ``live``: what the table holds now, for a delete/replace of it — ``None`` (not read), a
    :class:`TableLive`, ``DescribeTable``'s ``Table``, a ``runbook.aws.discovery.LiveTable``, a mapping by table name,
    or a callable ``name → any of those`` (:func:`live_reader`). ``table_exists``: see :func:`table_conflict`.
    """
    plan = plan if isinstance(plan, PlanJson) else PlanJson(plan)
    changes = []
    for raw in plan.resource_changes:
        if raw.get("mode", "managed") != "managed":
            continue
        if action_of(raw) in ("no-op", "read"):
            continue
        changes.append(resource_change(raw, live))
    result = PlanReview(
        changes, terraform_version=plan.terraform_version, plan_sha256=plan_sha256, teardown=is_teardown(plan)
    )
    if table_exists is not None:
        table_conflict(result, table_exists)
    return result


def is_teardown(plan: PlanJson) -> bool:
    """Whether the plan tears the environment down, as ``terraform plan -destroy`` plans: every managed resource it
    knows is deleted (a plan that keeps anything lists it as a no-op or another action). Terraform's JSON has no
    plan-mode field; this is what such a plan says."""
    actions = [action_of(raw) for raw in plan.resource_changes if raw.get("mode", "managed") == "managed"]
    return bool(actions) and all(action == "delete" for action in actions)


def table_conflict(plan_review: PlanReview, table_exists: bool) -> TableConflict | None:
    """When the plan creates the table and ``table_exists`` (a table with its name is on the target): the conflict.

    The conflict is also set on the review (its summary and Markdown say so; :func:`runbook.steps.gate.decide` refuses).
    """
    created = [rc for rc in plan_review.changes if rc.is_table and rc.action == "create" and rc.after_name]
    conflict = None
    if table_exists and created:
        conflict = TableConflict(created[0].after_name, created[0].address, import_block(created[0].after_name))
    plan_review.conflict = conflict
    return conflict


def created_table_names(plan_review: PlanReview) -> list[str]:
    """Names of tables the plan creates (not imports): check each against the target for :func:`table_conflict`."""
    return [rc.after_name for rc in plan_review.changes if rc.is_table and rc.action == "create" and rc.after_name]
