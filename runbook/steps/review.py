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

import json
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any, Callable, Iterable, Mapping

import pandas as pd

from runbook.aws.discovery import table_description
from runbook.markdown import cell as _cell
from runbook.markdown import code as _code
from runbook.steps.importing import import_block
from runbook.terraform.tfjson import TABLE_TYPE, PlanJson

if TYPE_CHECKING:
    import pandas as pd

    from runbook.aws.target import Target

KNOWN_AFTER_APPLY = "(known after apply)"
SENSITIVE = "(sensitive value)"
KMS_KEY_TYPE = "aws_kms_key"
#: IAM resources whose delete or replace removes the application role's access (for a replace: until re-created).
ACCESS_TYPES = ("aws_iam_policy", "aws_iam_role_policy_attachment", "aws_iam_policy_attachment", "aws_iam_role",
                "aws_iam_role_policy")
#: Order in which actions are counted in the summary.
ACTION_ORDER = ("import", "import+update", "create", "update", "replace", "delete", "forget")
_ACTION_WORDS = {"import": "to import", "import+update": "to import and update", "create": "to create",
                 "update": "to update", "replace": "to replace", "delete": "to delete",
                 "forget": "to forget (removed from state, kept in AWS)"}
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


# --- live values (passed in: the review makes no AWS call) ------------------------------------------------------

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
    raise TypeError(f"live values for table {name!r}: expected a mapping, a LiveTable, a TableLive or None, "
                    f"got {type(value).__name__}")


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


# --- attribute diffs ---------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class AttributeChange:
    path: str
    before: str
    after: str
    forces_replacement: bool = False

    @property
    def text(self) -> str:
        return f"{self.path}: {self.before} → {self.after}" + (" (forces replacement)" if self.forces_replacement
                                                                else "")


def path_text(steps: Iterable[Any]) -> str:
    """``["global_secondary_index", 0, "name"]`` → ``global_secondary_index[0].name``."""
    text = ""
    for step in steps:
        text += f"[{step}]" if isinstance(step, int) else (f".{step}" if text else str(step))
    return text


def _sub(mask: Any, key: Any) -> Any:
    """The part of an ``after_unknown``/``*_sensitive`` mask at ``key`` (a mask is ``True``, or a nested value)."""
    if mask is True:
        return True
    if isinstance(mask, dict):
        return mask.get(key, False)
    if isinstance(mask, list) and isinstance(key, int) and key < len(mask):
        return mask[key]
    return False


def _masked(value: Any, sensitive: Any, unknown: Any = False) -> Any:
    """``value`` with sensitive parts replaced by ``(sensitive value)`` and unknown ones by ``(known after apply)``."""
    if sensitive is True:
        return SENSITIVE
    if unknown is True:
        return KNOWN_AFTER_APPLY
    if isinstance(value, dict):
        keys = set(value) | (set(unknown) if isinstance(unknown, dict) else set())
        return {k: _masked(value.get(k), _sub(sensitive, k), _sub(unknown, k)) for k in sorted(keys)}
    if isinstance(value, list):
        return [_masked(v, _sub(sensitive, i), _sub(unknown, i)) for i, v in enumerate(value)]
    return value


#: A rendered value longer than this is cut (an IAM policy document shown whole would drown the review).
MAX_VALUE_CHARS = 160


def _render(value: Any) -> str:
    if value in (KNOWN_AFTER_APPLY, SENSITIVE):
        return value
    text = json.dumps(value, sort_keys=True, separators=(", ", ": "))
    if len(text) > MAX_VALUE_CHARS:
        text = text[:MAX_VALUE_CHARS - 1] + f"…({len(text)} characters)"
    return text


def _json_document(value: Any) -> Any:
    """A JSON string attribute (an IAM policy) as the document it holds, else ``None``."""
    if isinstance(value, str) and value[:1] in "{[":
        try:
            return json.loads(value)
        except ValueError:
            return None
    return None


def attribute_changes(change: dict) -> list[AttributeChange]:
    """Attribute paths whose value differs between ``before`` and ``after`` (or is unknown after apply)."""
    replace = [path_text(p) for p in change.get("replace_paths") or []]
    rows: list[AttributeChange] = []

    def forces(path: str) -> bool:
        return any(path == r or path.startswith(r + ".") or path.startswith(r + "[") or r.startswith(path + ".")
                   or r.startswith(path + "[") for r in replace)

    def emit(path: str, before: Any, after: Any) -> None:
        rows.append(AttributeChange(path, _render(before), _render(after), forces(path)))

    def walk(path: list, before: Any, after: Any, unknown: Any, b_sens: Any, a_sens: Any) -> None:
        here = path_text(path)
        if b_sens is True or a_sens is True:
            if before != after or unknown is True:
                emit(here, SENSITIVE if b_sens is True else _masked(before, b_sens),
                     KNOWN_AFTER_APPLY if unknown is True
                     else (SENSITIVE if a_sens is True else _masked(after, a_sens)))
            return
        if unknown is True:
            emit(here, _masked(before, b_sens), KNOWN_AFTER_APPLY)
            return
        if isinstance(before, dict) and isinstance(after, dict):
            for key in sorted(set(before) | set(after) | (set(unknown) if isinstance(unknown, dict) else set())):
                walk(path + [key], before.get(key), after.get(key), _sub(unknown, key), _sub(b_sens, key),
                     _sub(a_sens, key))
            return
        if isinstance(before, list) and isinstance(after, list) and len(before) == len(after):
            for i, (b, a) in enumerate(zip(before, after)):
                walk(path + [i], b, a, _sub(unknown, i), _sub(b_sens, i), _sub(a_sens, i))
            return
        documents = (_json_document(before), _json_document(after))
        if before != after and None not in documents:
            walk(path, documents[0], documents[1], False, False, False)
            return
        if before != after:
            emit(here, _masked(before, b_sens), _masked(after, a_sens, unknown))

    walk([], change.get("before") or {}, change.get("after") or {}, change.get("after_unknown") or {},
         change.get("before_sensitive") or {}, change.get("after_sensitive") or {})
    # What forces the replacement first, then what the configuration changes, then values computed at apply.
    return sorted(rows, key=lambda r: (not r.forces_replacement, r.after == KNOWN_AFTER_APPLY, r.path))


#: From this many attributes on, those Terraform computes at apply are summarised in one line.
KNOWN_AFTER_APPLY_SUMMARY = 3


def known_after_apply(attributes: list[AttributeChange]) -> list[AttributeChange]:
    """The attributes Terraform only knows after apply and that force nothing, when there are enough of them to
    summarise (a replacement lists dozens: ids, ARNs, every nested block of the new resource)."""
    later = [a for a in attributes if a.after == KNOWN_AFTER_APPLY and not a.forces_replacement]
    return later if len(later) >= KNOWN_AFTER_APPLY_SUMMARY else []


def known_after_apply_line(attributes: list[AttributeChange], shown: int = 6) -> str:
    """One Markdown line for :func:`known_after_apply`'s attributes: their count and the first names."""
    names = ", ".join(f"`{a.path}`" for a in attributes[:shown])
    more = f" and {len(attributes) - shown} more" if len(attributes) > shown else ""
    return f"- {len(attributes)} attributes {KNOWN_AFTER_APPLY}: {names}{more}"


# --- resource changes --------------------------------------------------------------------------------------------

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
            what = (f"the table {rc.before_name}: data is lost" if rc.before_name else "the table: data is lost")
            if action == "replace" and rc.after_name and rc.after_name != rc.before_name:
                what += f" (replaced by a new, empty table {rc.after_name})"
            elif action == "replace":
                what += " (deleted and re-created empty)"
            return what
        dropped = sorted(_gsi_names(change.get("before")) - _gsi_names(change.get("after")))
        if dropped:
            return ("drops global secondary index " + ", ".join(dropped)
                    + ": DynamoDB deletes it; queries on it fail until it is re-created and back-filled")
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
        address=raw["address"], type=raw.get("type", ""), action=action,
        reason=REASONS.get(raw.get("action_reason", ""), raw.get("action_reason", "")),
        replace_paths=[path_text(p) for p in change.get("replace_paths") or []],
        importing_id=str((change.get("importing") or {}).get("id", "")),
        previous_address=raw.get("previous_address", ""), deposed=raw.get("deposed", ""),
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


# --- the review --------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class TableConflict:
    """The plan creates the table, but a table with that name already exists on the target (outside Terraform)."""

    table: str
    address: str
    import_block: str

    @property
    def message(self) -> str:
        return (f"a table named {self.table!r} already exists on the target, but Terraform's state does not manage "
                f"it: applying this plan would fail with the guide's 'Error: Table Already Exists' after creating "
                f"the other resources. Import it first: run 03-import (it writes this import block and plans it), "
                f"then re-run 02.")


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
            notes.append(f"the application role loses its access ({len(access)} IAM "
                         f"resource{'s' if len(access) > 1 else ''} deleted"
                         + (" and re-created)" if all(rc.action == "replace" for rc in access) else ")"))
        if self.conflict:
            notes.append(f"the table {self.conflict.table} already exists outside Terraform: import it first "
                         "(03-import)")
        return text + (" — " + "; ".join(notes) if notes else "")

    # -- renderings -----------------------------------------------------------------------------------------------
    def rows(self) -> list[dict]:
        return [{
            "address": rc.address,
            "action": rc.action + (f" (deposed {rc.deposed})" if rc.deposed else ""),
            "destructive": rc.destructive,
            "forces replacement": ", ".join(rc.replace_paths),
            "changes": "; ".join(a.text for a in rc.attributes),
            "reason": rc.reason,
        } for rc in self.changes]

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
            lines += ["**Teardown:** every resource below is deleted and nothing is left in the state; the gate "
                      "needs `destroy=True` as well as `apply=True` and `allow_destroy`.", ""]
        if self.conflict:
            lines += [f"**Refused before apply:** {self.conflict.message}", "", "```hcl",
                      self.conflict.import_block.rstrip(), "```", ""]
        if self.destructive:
            lines += ["**Destructive changes** (the gate needs `allow_destroy` listing exactly these addresses):", ""]
            lines += [f"- {_code(rc.address)} ({rc.action}): {rc.destructive}" for rc in self.destructive]
            lines += ["", f"`allow_destroy = \"{','.join(self.destructive_addresses)}\"`", ""]
        if not self.changes:
            return "\n".join(lines).rstrip() + "\n"
        rows = self.rows()
        columns = [c for c in _REVIEW_COLUMNS if c in ("address", "action") or any(row.get(c) for row in rows)]
        lines += ["| " + " | ".join(columns) + " |", "|" + " --- |" * len(columns)]
        for row in rows:
            lines.append("| " + " | ".join(_code(row[c]) if c == "address" else _cell(row[c]) for c in columns)
                         + " |")
        for rc in self.changes:
            if rc.attributes and rc.action != "create":
                lines += ["", f"{_code(rc.address)} ({rc.action}):", ""]
                later = known_after_apply(rc.attributes)
                lines += [f"- `{a.path}`: `{a.before}` → `{a.after}`" + (" **(forces replacement)**"
                                                                      if a.forces_replacement else "")
                          for a in rc.attributes if not later or a not in later]
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




def review(plan: PlanJson | dict, live: Any = None, plan_sha256: str = "",
           table_exists: bool | None = None) -> PlanReview:
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
    result = PlanReview(changes, terraform_version=plan.terraform_version, plan_sha256=plan_sha256,
                        teardown=is_teardown(plan))
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
