"""The change gate: whether a reviewed plan may be applied, and applying exactly that saved plan.

:func:`decide` looks at what the plan does (a :class:`runbook.steps.review.PlanReview`), not only at the parameters:

- no change at all without ``apply=True`` (a plan-only run is not an error: the decision says what to pass);
- production also needs ``confirm`` = the table name;
- a destructive change (see :mod:`runbook.steps.review`) also needs ``allow_destroy`` listing exactly the destructive
  addresses of the plan: a missing, extra or misspelled address is refused with the list to pass;
- the table's replacement or deletion is refused outright while its deletion protection is on: AWS would refuse
  the ``DeleteTable`` only after Terraform had already deleted what does not depend on the table (the IAM policies:
  the application's access). Turn protection off in its own reviewed change first;
- a plan that creates the table while a table with that name already exists outside Terraform
  (:func:`runbook.steps.review.table_conflict`) is refused: import it first (03-import);
- a teardown (the guide's ``terraform destroy``: :attr:`runbook.steps.review.PlanReview.teardown`) also needs its own
  parameter, ``destroy=True``, and ``destroy=True`` needs a teardown plan; production is never torn down
  (:func:`check_teardown` refuses before anything is planned; the root's ``guard.tf`` makes Terraform refuse too).

A refusal raises :class:`ChangeRefused` (what was refused, what to pass) and nothing is applied.
:func:`apply_reviewed` re-hashes the saved plan right before ``terraform apply`` and applies those very bytes, only
when the hash is the reviewed one (and ``plan_sha256`` when given); a mismatch raises :class:`PlanMismatch` and
changes nothing. A failed apply raises :class:`ApplyFailed` with :func:`runbook.steps.recovery.explain_failed_apply`'s
report.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Callable

from runbook import params
from runbook.errors import RunbookError
from runbook.steps.recovery import explain_failed_apply
from runbook.steps.review import PlanReview, created_table_names, review, table_conflict
from runbook.terraform.planning import make_plan, sha256_of
from runbook.terraform.stream import ui_messages
from runbook.terraform.tfjson import load_plan

if TYPE_CHECKING:
    from runbook.steps.recovery import FailedApply
    from runbook.terraform.command import Terraform
    from runbook.terraform.tfjson import PlanJson

#: The private copy of the reviewed plan that is applied (in the workspace's root, beside ``tfplan``).
REVIEWED_PLAN_FILE = "runbook_reviewed.tfplan"


class ChangeRefused(RunbookError):
    """The gate refused to apply a plan. Nothing was applied; the message says what was refused and what to pass."""

    def __init__(self, refused: str, remedy: str):
        self.refused = refused
        self.remedy = remedy
        super().__init__(f"refused: {refused}. {remedy} Nothing was applied.")


class TeardownRefused(RunbookError):
    """A teardown asked for where the runbook never tears down (production). Nothing was planned or changed."""


#: Why production is never torn down, in one line (the CLI and 02 say it as is).
PRODUCTION_TEARDOWN = (
    "refused: production is never torn down (the guide destroys staging only; "
    "infrastructure/production/guard.tf makes terraform destroy fail there too). "
    "Nothing was planned or changed."
)


def check_teardown(environment: object, destroy: object) -> bool:
    """``destroy`` validated (a boolean) for ``environment``, before any AWS call or plan: returns it; raises
    :class:`TeardownRefused` for a teardown of production, :class:`~runbook.errors.ParameterError` for a bad value."""
    environment = params.environment(environment)
    destroy = params.boolean(destroy, "destroy")
    if destroy and environment == "production":
        raise TeardownRefused(PRODUCTION_TEARDOWN)
    return destroy


class PlanMismatch(ChangeRefused):
    """The saved plan is not the one that was reviewed (its SHA-256 differs). Nothing was applied."""


class ApplyFailed(RunbookError):
    """``terraform apply`` failed part-way; ``report`` says Terraform's error, what was done, and what next."""

    def __init__(self, report: "FailedApply"):
        self.report = report
        super().__init__(report.text)


def format_parameters(values: dict) -> str:
    """``{"apply": True, "confirm": "t"}`` → ``apply=True, confirm='t'`` (as papermill ``-p``/a parameters cell)."""
    return ", ".join(f"{name}={value!r}" for name, value in values.items())


@dataclass
class Decision:
    allowed: bool
    reason: str
    #: The parameters that apply this plan (when nothing blocks it).
    to_pass: dict = field(default_factory=dict)
    #: The plan's destructive addresses (what ``allow_destroy`` must list).
    destructive: list[str] = field(default_factory=list)
    #: What refuses this plan whatever the parameters (deletion protection on, table outside Terraform).
    blockers: list[str] = field(default_factory=list)
    plan_sha256: str = ""

    @property
    def parameters(self) -> str:
        return format_parameters(self.to_pass)

    def to_dict(self) -> dict:
        return {
            "allowed": self.allowed,
            "reason": self.reason,
            "to_pass": dict(self.to_pass),
            "destructive": list(self.destructive),
            "blockers": list(self.blockers),
            "plan_sha256": self.plan_sha256,
        }


def _protected(plan_review: PlanReview, deletion_protection: bool | None) -> list[str]:
    return [
        rc.address
        for rc in plan_review.table_loss
        if (deletion_protection if deletion_protection is not None else rc.deletion_protection)
    ]


def decide(
    plan_review: PlanReview,
    environment: str,
    table_name: str,
    apply: object = False,
    confirm: object = "",
    allow_destroy: object = "",
    deletion_protection: bool | None = None,
    destroy: object = False,
) -> Decision:
    """Whether ``plan_review``'s saved plan may be applied with these parameters.

    ``deletion_protection``: the table's deletion protection now (the live table's, or the state's); ``None``
    takes it from the state the plan started from (``before.deletion_protection_enabled`` of the table's change).
    ``destroy``: the teardown's own parameter; a teardown plan needs it, any other plan refuses it.
    Returns a :class:`Decision` (``allowed`` False for a plan-only run or a plan with no changes); raises
    :class:`ChangeRefused` when ``apply=True`` cannot be honoured, and :class:`~runbook.errors.ParameterError` for a
    malformed parameter — both before anything is applied.
    """
    environment = params.environment(environment)
    apply = params.boolean(apply, "apply")
    if not isinstance(confirm, str):
        raise params.ParameterError("confirm", confirm, "a string: the table name, to confirm a production change")
    allowed_addresses = params.allow_destroy(allow_destroy)
    destroy = params.boolean(destroy, "destroy")
    destructive = plan_review.destructive_addresses
    production = environment == "production"

    to_pass: dict = {"apply": True}
    if production:
        to_pass["confirm"] = table_name
    if plan_review.teardown:
        to_pass["destroy"] = True
    if destructive:
        to_pass["allow_destroy"] = ",".join(destructive)

    blockers = []
    if plan_review.conflict:
        blockers.append(plan_review.conflict.message)
    protected = _protected(plan_review, deletion_protection)
    if protected:
        blockers.append(
            f"the plan deletes the table ({', '.join(protected)}: {plan_review.change(protected[0]).destructive}) "
            f"while its deletion protection is on. AWS would refuse the DeleteTable only after Terraform had already "
            f"deleted what does not depend on it (the IAM policies: the application's access). To proceed, turn "
            f"protection off in its own reviewed change first (dynamodb_prevent_destroy = false and nothing else: "
            f"plan, review, apply), then plan this change again"
        )
    if plan_review.teardown and production:
        blockers.append(PRODUCTION_TEARDOWN.removeprefix("refused: ").removesuffix(" Nothing was planned or changed."))
    if destroy and plan_review.has_changes and not plan_review.teardown:
        blockers.append("destroy=True, but this saved plan is not a teardown (it does not delete every resource)")
    decision = Decision(False, "", {} if blockers else to_pass, destructive, blockers, plan_review.plan_sha256)

    if not plan_review.has_changes:
        decision.reason = "no changes: the infrastructure matches the configuration; nothing to apply"
        decision.to_pass = {}
        return decision
    if not apply:
        decision.reason = "plan only (apply=False): nothing was applied. " + (
            "This plan cannot be applied: " + "; ".join(blockers)
            if blockers
            else f"To apply exactly this plan, pass {decision.parameters}"
        )
        return decision

    if plan_review.conflict:
        raise ChangeRefused(
            f"the plan creates the table {plan_review.conflict.table}, which already exists outside Terraform",
            f"Import it first: run 03-import (it writes this block: "
            f"{plan_review.conflict.import_block.strip()!r}), then re-run 02.",
        )
    if plan_review.teardown and production:
        raise ChangeRefused(blockers[-1], "No parameter can override this.")
    if destroy and not plan_review.teardown:
        raise ChangeRefused(
            blockers[-1],
            "To apply this plan pass destroy=False; to tear down, plan again with "
            "destroy=True and plan_sha256='' and review the teardown.",
        )
    if plan_review.teardown and not destroy:
        raise ChangeRefused(
            "the plan is a teardown (it deletes every resource) and destroy=True was not given",
            f"Review it ({plan_review.summary}); to tear down, pass {format_parameters(to_pass)}.",
        )
    if production and confirm != table_name:
        raise ChangeRefused(
            f"apply=True in production without confirm={table_name!r} (got confirm={confirm!r})",
            f"To apply this plan pass {format_parameters(to_pass)}.",
        )
    if protected:
        raise ChangeRefused(blockers[-1], "No allow_destroy can override this.")
    if set(allowed_addresses) != set(destructive):
        missing = [a for a in destructive if a not in allowed_addresses]
        extra = [a for a in allowed_addresses if a not in destructive]
        problems = []
        if missing:
            problems.append("not listed: " + ", ".join(missing))
        if extra:
            problems.append("not destructive changes of this plan: " + ", ".join(extra))
        if destructive:
            what = (
                f"the plan has {len(destructive)} destructive change{'s' if len(destructive) > 1 else ''} "
                f"and allow_destroy={','.join(allowed_addresses)!r} does not list exactly "
                f"{'them' if len(destructive) > 1 else 'it'} ({'; '.join(problems)})"
            )
            remedy = (
                f"Review them ({plan_review.summary}); to apply, pass exactly "
                f"allow_destroy={','.join(destructive)!r} (with {format_parameters(to_pass)})."
            )
        else:
            what = f"allow_destroy lists addresses this plan does not destroy ({', '.join(extra)})"
            remedy = f"This plan destroys nothing: pass allow_destroy='' (with {format_parameters(to_pass)})."
        raise ChangeRefused(what, remedy)

    decision.allowed = True
    decision.reason = f"allowed: {plan_review.summary}" + (
        f" (allow_destroy lists all {len(destructive)} destructive changes)" if destructive else ""
    )
    return decision


# --- the saved plan's hash and the apply -------------------------------------------------------------------------


def plan_sha256(path: Path | str) -> str:
    """SHA-256 (hex) of a saved plan file, as ``sha256sum tfplan`` prints it."""
    return sha256_of(Path(path))


plan_sha256_of = plan_sha256  # for the functions below whose parameter is named plan_sha256


def review_saved_plan(terraform: "Terraform", live=None, table_exists: bool | None = None) -> PlanReview:
    """Hash the workspace's saved plan, then review it (``terraform show -json tfplan``): the review carries the
    hash."""
    digest = plan_sha256(terraform.workspace.plan_file)
    return review(load_plan(terraform), live=live, plan_sha256=digest, table_exists=table_exists)


@dataclass
class Reviewed:
    """A saved plan, its JSON (one ``terraform show -json``) and its review, which carries the plan's hash."""

    json: "PlanJson"
    review: PlanReview
    #: Where the plan comes from (``runbook.terraform.planning.PlanResult.origin``; a kept plan: "kept from an earlier
    #: review").
    origin: str

    @property
    def sha256(self) -> str:
        return self.review.plan_sha256


def plan_and_review(
    terraform: "Terraform",
    plan_sha256: str = "",
    live=None,
    table_exists: "Callable[[str], bool] | None" = None,
    plan_args: tuple[str, ...] = (),
) -> Reviewed:
    """02's plan step: ``terraform plan -out=tfplan`` and its review — or, with ``plan_sha256``, no new plan.

    A new plan is new bytes (it records its own time: ``timestamp`` in ``show -json``), so a plan reviewed in an
    earlier run can only be applied by not re-planning: with ``plan_sha256`` the workspace's saved plan is kept and
    must have that hash (else :class:`PlanMismatch`, before anything else). ``table_exists``: a callable
    ``name → bool`` (e.g. ``lambda n: runbook.steps.importing.table_exists(target, n)``) asked for each table the plan
    creates, for :func:`runbook.steps.review.table_conflict`. ``live``: see :func:`runbook.steps.review.review`.
    """
    expected = params.plan_sha256(plan_sha256)
    plan_file = terraform.workspace.plan_file
    if expected:
        if not plan_file.is_file():
            raise PlanMismatch(
                f"plan_sha256={expected!r} was given but there is no saved plan at {plan_file}",
                "Run with plan_sha256='' to plan and review, then pass the hash it shows.",
            )
        digest = plan_sha256_of(plan_file)
        if digest != expected:
            raise PlanMismatch(
                f"the saved plan's SHA-256 is {digest}, not plan_sha256={expected!r}: it is not the "
                f"plan that was reviewed",
                "Re-run with plan_sha256='' to plan and review again.",
            )
        view, origin = load_plan(terraform), "kept from an earlier review (plan_sha256)"
    else:
        made = make_plan(terraform, *plan_args)
        view, digest, origin = made.json, made.sha256, made.origin
    result = review(view, live=live, plan_sha256=digest)
    if table_exists is not None:
        table_conflict(result, any(table_exists(name) for name in created_table_names(result)))
    return Reviewed(view, result, origin)


@dataclass
class Applied:
    plan_sha256: str
    summary: str
    #: ``{"address", "action"}`` of every change Terraform completed.
    completed: list[dict]


def apply_reviewed(
    terraform: "Terraform", plan_review: PlanReview, decision: Decision, expected_sha256: str = ""
) -> Applied:
    """Apply the workspace's saved plan — exactly the reviewed bytes — when ``decision`` allows it.

    Right before ``terraform apply``, the saved plan is read and hashed; it must equal the review's hash (the plan
    shown in this run) and ``expected_sha256`` when given (``plan_sha256``: a plan reviewed in an earlier run, on
    the site or in CI). Those very bytes are written to a private copy and applied, so nothing can swap the file
    between the check and the apply. Raises :class:`ChangeRefused` (not allowed), :class:`PlanMismatch` (hash) —
    nothing applied — or :class:`ApplyFailed` (Terraform failed part-way; the report says what was done).
    """
    expected = params.plan_sha256(expected_sha256)
    if not decision.allowed:
        raise ChangeRefused(
            decision.reason or "the gate did not allow this plan",
            f"Pass {decision.parameters}." if decision.to_pass else "",
        )
    plan_file = terraform.workspace.plan_file
    if not plan_file.is_file():
        raise ChangeRefused(f"no saved plan at {plan_file}", "Run the plan step first.")
    data = plan_file.read_bytes()
    actual = hashlib.sha256(data).hexdigest()
    reviewed = plan_review.plan_sha256 or decision.plan_sha256
    if expected and actual != expected:
        raise PlanMismatch(
            f"the saved plan's SHA-256 is {actual}, not plan_sha256={expected!r}: it is not the plan that was reviewed",
            "Review this plan (it is shown above) and pass its hash, or re-plan from the reviewed configuration.",
        )
    if reviewed and actual != reviewed:
        raise PlanMismatch(
            f"the saved plan changed after it was reviewed (SHA-256 {actual}, reviewed {reviewed})",
            "Re-run the plan and review cells.",
        )
    if not reviewed and not expected:
        raise PlanMismatch(
            "the review does not carry the saved plan's hash, so what was reviewed cannot be checked",
            "Review with runbook.steps.gate.review_saved_plan (or pass plan_sha256).",
        )
    copy = plan_file.with_name(REVIEWED_PLAN_FILE)
    copy.write_bytes(data)
    try:
        result = terraform.run(
            "apply", "-input=false", "-json", "-auto-approve", copy.name, check=False, progress=True
        )  # resource by resource, into the cell
    finally:
        copy.unlink(missing_ok=True)
    messages = ui_messages(result.stdout)
    if result.returncode != 0:
        raise ApplyFailed(explain_failed_apply(terraform, result, plan_review))
    summary = next((m.get("@message", "") for m in messages if m.get("type") == "change_summary"), "Apply complete!")
    completed = [
        {"address": m["hook"]["resource"]["addr"], "action": m["hook"].get("action", "")}
        for m in messages
        if m.get("type") == "apply_complete"
    ]
    return Applied(actual, summary, completed)
