"""After a failed apply: Terraform's error, what was done before it failed, what the state now holds, what next.

:func:`explain_failed_apply` turns a failed ``terraform apply`` into a report: Terraform's first error diagnostic
(from the ``-json`` UI stream, or from Terraform's ``Error:`` text — never a Python traceback), what was created,
changed or deleted before it failed (the apply's own ``apply_complete`` messages, checked against the state that
``terraform show -json`` reads now), what was not done, and the next step: fix the cause, then re-run —
Terraform resumes from the state.

:func:`state_findings` (04-troubleshooting) reads a state for what such a failure leaves: tainted resources
(``"tainted": true`` in ``show -json``; ``"status": "tainted"`` in a raw state file), deposed objects, partial
creates (resources of the configuration the state does not hold yet), and says what the next plan will do.
"""

from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterable

import pandas as pd

from runbook.steps.review import PlanReview
from runbook.steps.review import review as review_plan
from runbook.terraform.stream import ui_messages
from runbook.terraform.tfjson import TABLE_TYPE, PlanJson, flatten, managed, state_resources

if TYPE_CHECKING:
    import pandas as pd

    from runbook.terraform.command import Terraform

NEXT_STEP = (
    "Fix the cause (Terraform's error above), then re-run 02-plan-and-apply: plan again, review, apply. "
    "Terraform resumes from the state: what was created stays, a tainted resource is replaced, the rest is "
    "created."
)
#: Hints for errors whose cause the runbooks know how to fix (matched on Terraform's error text).
HINTS = (
    (
        re.compile(r"ResourceInUseException: Table already exists|Table already exists", re.I),
        "A table with this name exists outside Terraform (the guide's 'Error: Table Already Exists'): import it with "
        "03-import instead of creating it, then re-run 02.",
    ),
    (
        re.compile(r"EntityAlreadyExists", re.I),
        "An IAM resource with this name exists outside Terraform: import it (an import {} block for that address) or "
        "remove the stray copy, then re-run 02.",
    ),
    (
        re.compile(r"deletion protection|DeletionProtection", re.I),
        "The table's deletion protection refused the delete: turn it off in its own reviewed change first "
        "(dynamodb_prevent_destroy = false), then plan again.",
    ),
)


@dataclass(frozen=True)
class Diagnostic:
    summary: str
    detail: str = ""
    address: str = ""
    filename: str = ""
    line: int | None = None

    @property
    def text(self) -> str:
        text = f"Error: {self.summary}"
        if self.detail:
            text += f" — {self.detail}"
        where = f"{self.filename} line {self.line}" if self.filename and self.line else self.filename
        if self.address or where:
            text += " (" + ", ".join(p for p in (self.address, where) if p) + ")"
        return text


_BOX = " │╷╵\t"
_WITH = re.compile(r"^with (?P<address>\S+?),?$")
_ON = re.compile(r"^on (?P<file>\S+) line (?P<line>\d+)")
_CODE = re.compile(r"^\d+:\s")


def text_diagnostics(text: str) -> list[Diagnostic]:
    """Error diagnostics from Terraform's human output (``Error: …`` blocks, with or without box characters)."""
    diagnostics: list[Diagnostic] = []
    current: dict | None = None

    def close() -> None:
        if current:
            diagnostics.append(
                Diagnostic(
                    current["summary"],
                    " ".join(current["detail"]).strip(),
                    current.get("address", ""),
                    current.get("file", ""),
                    current.get("line"),
                )
            )

    for raw in text.splitlines():
        line = raw.strip(_BOX)
        if line.startswith(("Error: ", "Warning: ")):
            close()
            current = {"summary": line.removeprefix("Error: "), "detail": []} if line.startswith("Error: ") else None
            continue
        if current is None or not line:
            continue
        if (match := _WITH.match(line)) and "address" not in current:
            current["address"] = match.group("address")
        elif (match := _ON.match(line)) and "file" not in current:
            current["file"], current["line"] = match.group("file"), int(match.group("line"))
        elif not _CODE.match(line):
            current["detail"].append(line)
    close()
    return diagnostics


def json_diagnostics(messages: Iterable[dict]) -> list[Diagnostic]:
    """Error diagnostics from Terraform's ``-json`` UI stream."""
    found = []
    for message in messages:
        diagnostic = message.get("diagnostic") or {}
        if message.get("type") == "diagnostic" and diagnostic.get("severity") == "error":
            where = diagnostic.get("range") or {}
            found.append(
                Diagnostic(
                    diagnostic.get("summary", ""),
                    (diagnostic.get("detail") or "").strip(),
                    diagnostic.get("address", ""),
                    where.get("filename", ""),
                    (where.get("start") or {}).get("line"),
                )
            )
    return found


def _messages(text: str) -> list[dict]:

    return [m for m in ui_messages(text) if isinstance(m, dict) and "type" in m]


def _output_of(error: Any) -> str:
    """Terraform's output in whatever carries it: a ``terraform.Result``, a ``TerraformError``, a string."""
    if isinstance(error, str):
        return error
    parts = [getattr(error, name, "") or "" for name in ("stdout", "stderr")]
    text = "\n".join(p for p in parts if p)
    return text or str(error)


# --- the state ---------------------------------------------------------------------------------------------------


def is_tainted(resource: dict) -> bool:
    return bool(resource.get("tainted")) or resource.get("status") == "tainted"


def resources_of_state(state: dict | list) -> list[dict]:
    """Managed resources of ``terraform show -json`` (``values.root_module``), or the list itself."""
    if isinstance(state, list):
        return managed(state)
    return managed(flatten(((state or {}).get("values") or {}).get("root_module")))


# --- the failed apply --------------------------------------------------------------------------------------------


@dataclass
class FailedApply:
    error: Diagnostic | None
    diagnostics: list[Diagnostic] = field(default_factory=list)
    #: ``{"address", "action", "outcome"}``: what the apply did before it failed (created/updated/deleted…).
    done: list[dict] = field(default_factory=list)
    #: Planned changes that did not happen (the failed one first).
    not_done: list[dict] = field(default_factory=list)
    tainted: list[str] = field(default_factory=list)
    hint: str = ""
    next_step: str = NEXT_STEP

    @property
    def text(self) -> str:
        lines = ["terraform apply failed: " + (self.error.text if self.error else "(no error diagnostic found)")]
        if len(self.diagnostics) > 1:
            lines.append(
                f"({len(self.diagnostics) - 1} more error{'s' if len(self.diagnostics) > 2 else ''}: "
                + "; ".join(d.summary for d in self.diagnostics[1:])
                + ")"
            )
        lines.append(
            "Done before it failed: " + (", ".join(f"{d['address']} ({d['outcome']})" for d in self.done) or "nothing")
        )
        if self.not_done:
            lines.append("Not done: " + ", ".join(f"{d['address']} ({d['action']})" for d in self.not_done))
        if self.tainted:
            lines.append("Tainted (the next plan replaces them): " + ", ".join(self.tainted))
        if self.hint:
            lines.append(self.hint)
        lines.append("Next: " + self.next_step)
        return "\n".join(lines)

    def to_markdown(self) -> str:
        lines = [
            "**terraform apply failed.**",
            "",
            "```text",
            "\n".join(d.text for d in self.diagnostics) or "(no error diagnostic found)",
            "```",
            "",
        ]
        lines += ["| address | action | outcome |", "| --- | --- | --- |"]
        lines += [f"| {d['address']} | {d['action']} | {d['outcome']} |" for d in self.done + self.not_done]
        if self.tainted:
            lines += ["", "Tainted (the next plan replaces them): " + ", ".join(f"`{a}`" for a in self.tainted)]
        if self.hint:
            lines += ["", self.hint]
        lines += ["", f"**Next:** {self.next_step}"]
        return "\n".join(lines) + "\n"

    def _repr_markdown_(self) -> str:
        return self.to_markdown()

    def to_dict(self) -> dict:
        return {
            "error": asdict(self.error) if self.error else None,
            "diagnostics": [asdict(d) for d in self.diagnostics],
            "done": self.done,
            "not_done": self.not_done,
            "tainted": self.tainted,
            "hint": self.hint,
            "next_step": self.next_step,
        }


_OUTCOME = {
    "create": "created",
    "update": "updated",
    "delete": "deleted",
    "replace": "replaced",
    "import": "imported",
    "import+update": "imported and updated",
}


def explain_failed_apply(
    terraform: "Terraform | None", error: Any, plan_review: PlanReview | None = None, state: dict | list | None = None
) -> FailedApply:
    """What a failed ``terraform apply`` did and what to do next.

    ``error``: what carries Terraform's output — the ``Result`` of ``apply -json`` (what
    :func:`runbook.steps.gate.apply_reviewed` runs), a :class:`~runbook.errors.TerraformError`
    (``Terraform.apply_plan``:
    text output), or the output itself. ``state``: the state after the failure (``show -json`` dict or resource
    list); read from ``terraform`` (``runbook.terraform.tfjson.state_resources``) when not given.
    """
    output = _output_of(error)
    messages = _messages(output)
    diagnostics = json_diagnostics(messages) if messages else []
    if not diagnostics:
        diagnostics = text_diagnostics(output) or text_diagnostics(str(getattr(error, "stderr", "") or ""))
    if state is None and terraform is not None:
        resources = state_resources(terraform)
    else:
        resources = resources_of_state(state or [])
    in_state = {r["address"]: r for r in resources}
    tainted = sorted(a for a, r in in_state.items() if is_tainted(r))

    completed = {
        m["hook"]["resource"]["addr"]: m["hook"].get("action", "")
        for m in messages
        if m.get("type") == "apply_complete" and m.get("hook")
    }
    errored = [m["hook"]["resource"]["addr"] for m in messages if m.get("type") == "apply_errored" and m.get("hook")]
    failed = set(errored) | {d.address for d in diagnostics if d.address}

    done, not_done = [], []
    planned = plan_review.changes if plan_review is not None else []
    for rc in planned:
        outcome = _outcome(rc.address, rc.action, in_state, completed, failed, bool(messages))
        row = {"address": rc.address, "action": rc.action, "outcome": outcome}
        (done if outcome in _OUTCOME.values() or outcome.startswith(("created", "replaced")) else not_done).append(row)
    if plan_review is None:  # no review: what the apply stream says it completed
        done = [
            {"address": a, "action": action, "outcome": _OUTCOME.get(action, action)} for a, action in completed.items()
        ]
    not_done.sort(key=lambda d: d["address"] not in failed)
    text = " ".join(d.summary + " " + d.detail for d in diagnostics)
    hint = next((h for pattern, h in HINTS if pattern.search(text)), "")
    return FailedApply(diagnostics[0] if diagnostics else None, diagnostics, done, not_done, tainted, hint)


def _outcome(address: str, action: str, in_state: dict, completed: dict, failed: set, have_stream: bool) -> str:
    present = address in in_state
    tainted = present and is_tainted(in_state[address])
    if address in failed:
        if tainted:
            return "created, but tainted: failed while finishing (the next plan replaces it)"
        return "failed: " + (
            "in the state, unchanged"
            if present and action != "create"
            else "not created"
            if action in ("create", "replace")
            else "not done"
        )
    if address in completed:
        return _OUTCOME.get(action, action)
    if have_stream:
        return "not started (the apply stopped first)"
    # Text output only: what the state shows.
    if action == "create":
        return ("created, but tainted" if tainted else "created") if present else "not created"
    if action == "delete":
        return "in the state still: not deleted" if present else "deleted"
    return "unknown from the state (in it)" if present else "not in the state"


# --- 04-troubleshooting ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Finding:
    kind: str  # tainted | deposed | partial | next-plan
    address: str
    message: str


@dataclass
class StateFindings:
    findings: list[Finding]
    next_plan: str = ""

    @property
    def ok(self) -> bool:
        return not [f for f in self.findings if f.kind != "next-plan"]

    def to_frame(self) -> "pd.DataFrame":

        return pd.DataFrame([asdict(f) for f in self.findings], columns=["kind", "address", "message"])

    def to_markdown(self) -> str:
        if self.ok:
            head = "The state shows no failed apply: nothing tainted, no partial create."
        else:
            head = "**The state shows a failed apply:**"
        lines = [head, ""] + [
            f"- **{f.kind}** `{f.address}`: {f.message}" for f in self.findings if f.kind != "next-plan"
        ]
        if self.next_plan:
            lines += ["", f"Next plan: {self.next_plan}"]
        return "\n".join(lines) + "\n"

    def _repr_markdown_(self) -> str:
        return self.to_markdown()

    def to_dict(self) -> dict:
        return {"ok": self.ok, "findings": [asdict(f) for f in self.findings], "next_plan": self.next_plan}


def state_findings(state_resources: dict | list, plan: PlanJson | PlanReview | dict | None = None) -> StateFindings:
    """What a failed apply left in the state, and what the next plan (``plan``: its ``show -json``) will do."""
    resources = resources_of_state(state_resources)
    plan_review = plan if isinstance(plan, PlanReview) or plan is None else review_plan(plan)
    findings: list[Finding] = []
    for resource in resources:
        address = resource["address"]
        if is_tainted(resource):
            change = plan_review.change(address) if plan_review else None
            message = "tainted: a previous apply created it but failed before finishing; the next plan replaces it" + (
                f" ({change.action} planned)" if change else ""
            )
            if resource.get("type") == TABLE_TYPE:
                message += (
                    ". Replacing the table deletes its items: if it holds data you keep, run "
                    f"`terraform untaint {address}` instead and plan again"
                )
            findings.append(Finding("tainted", address, message))
        if resource.get("deposed_key") or resource.get("deposed"):
            findings.append(
                Finding(
                    "deposed",
                    address,
                    "an old object left by a create-before-destroy replacement that failed; the next apply deletes it",
                )
            )
    if plan_review is not None and resources:
        creates = [rc.address for rc in plan_review.changes if rc.action == "create"]
        if creates:
            findings.append(
                Finding(
                    "partial",
                    ", ".join(creates),
                    f"the state holds {len(resources)} resource{'s' if len(resources) != 1 else ''} "
                    f"and {len(creates)} of the configuration {'are' if len(creates) != 1 else 'is'} "
                    f"not created yet: a partial create if an apply failed (or resources just added "
                    f"to the configuration); the next apply creates "
                    f"{'them' if len(creates) != 1 else 'it'}",
                )
            )
    next_plan = plan_review.summary if plan_review is not None else ""
    if plan_review is not None:
        findings.append(Finding("next-plan", "", next_plan))
    return StateFindings(findings, next_plan)


def load_state(path) -> dict:
    """A ``terraform show -json`` state document from a file (tests, saved reports)."""
    return json.loads(Path(path).read_text())
