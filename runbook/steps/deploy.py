"""02-plan-and-apply's steps: init, fmt, validate, plan, apply the saved plan, outputs.

Terraform is the only way the table is made or changed. When Terraform cannot install the AWS provider,
:func:`init` raises :class:`TerraformUnavailable` with the fix, on an emulator as against AWS: one path, the real one.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from runbook import params
from runbook.errors import ConfirmationError, TerraformUnavailable
from runbook.steps.context import RunContext
from runbook.steps.gate import apply_reviewed, decide
from runbook.steps.gate import check_teardown as check
from runbook.steps.gate import plan_and_review as plan_and_review_
from runbook.steps.importing import table_exists
from runbook.steps.livevalues import live_reader
from runbook.terraform.interrupted import after_plan, before_plan
from runbook.terraform.planning import environment_terraform
from runbook.terraform.tfjson import table_spec
from runbook.workconfig import missing_error, named_table

if TYPE_CHECKING:
    from runbook.steps.gate import Decision, Reviewed

PROVIDER_FIX = (
    "Give Terraform the AWS provider: allow access to registry.terraform.io, or point "
    "RUNBOOK_TF_PLUGIN_MIRROR at a filesystem mirror that holds hashicorp/aws "
    "(`terraform providers mirror DIR` on a machine that has access), then run 01-setup again."
)


def check_confirmation(context: RunContext, apply: bool, confirm: str) -> None:
    """Before any AWS call: in production, ``apply=True`` needs ``confirm`` = the table the working tfvars names.

    The gate checks it again against the table Terraform plans; this early check fails fast on a typo.
    """
    if not apply or context.environment != "production":
        return
    expected = named_table(context.environment, context.working)
    if expected and confirm != expected:
        raise ConfirmationError(
            f"apply=True in production needs confirm={expected!r} (the table "
            f"{context.tfvars.name} names; got confirm={confirm!r}); nothing was changed"
        )


def check_teardown(environment: str, destroy: object) -> bool:
    """02's ``destroy`` parameter, validated before any AWS call: a boolean, and never ``True`` in production
    (:class:`runbook.steps.gate.TeardownRefused`, one line: nothing planned or changed)."""
    return check(environment, destroy)


def init(context: RunContext) -> str:
    """``terraform init`` in the work directory; returns the Terraform used. Stops with the fix when it cannot."""
    if not context.working.exists:
        raise missing_error(context.environment, context.working)
    try:
        context.terraform.init()
    except TerraformUnavailable as error:
        raise TerraformUnavailable(f"{error} {PROVIDER_FIX}") from None
    return context.terraform.binary.label


def outputs(context: RunContext) -> dict:
    """The seed's ``terraform output`` values, from the state the apply wrote."""
    return context.terraform.output()


def application_environment(context: RunContext, values: dict) -> dict[str, str]:
    """The seed's Next Steps: the application's environment variables, ready to paste."""
    return {
        "DYNAMODB_NOTIFICATIONS_TABLE": values.get("dynamodb_notifications_table_name") or "",
        "AWS_REGION": context.region,
    }


def plan_and_review(context: RunContext, plan_sha256: str = "", destroy: bool = False) -> "Reviewed":
    """Plan (or, with ``plan_sha256``, keep the saved plan that has that hash) and review it: every change, what
    forces a replacement, what is destructive and what the table holds now, and a table already outside Terraform.

    ``destroy``: the guide's teardown, ``terraform plan -destroy -out=tfplan`` (validated first with
    :func:`check_teardown`: never in production)."""
    destroy = check_teardown(context.environment, destroy)
    terraform = context.terraform
    before_plan(terraform)  # an interrupted apply's lock, or another run's: stop here, naming it (issue 32)
    reviewed = plan_and_review_(
        terraform,
        plan_sha256,
        live=live_reader(context.target),
        table_exists=lambda name: table_exists(context.target, name),
        plan_args=("-destroy",) if destroy else (),
    )
    context.forget_table()
    after_plan(terraform, reviewed.json)  # objects the plan creates that exist outside the state: one diagnosis
    return reviewed


def planned_table_name(reviewed: "Reviewed") -> str:
    """The table's name as Terraform plans it (or, for a plan that deletes it, as the state holds it)."""
    table = table_spec(reviewed.json.planned_resources()) or table_spec(reviewed.json.prior_resources())
    return table.name if table else ""


def gate_and_apply(
    context: RunContext,
    reviewed: "Reviewed",
    apply: bool,
    confirm: str,
    allow_destroy: tuple[str, ...] = (),
    plan_sha256: str = "",
    destroy: bool = False,
) -> "Decision":
    """Decide from the reviewed plan (:func:`runbook.steps.gate.decide`) and apply exactly it when allowed.

    ``destroy``: the teardown's own parameter (a teardown plan needs it; see :mod:`runbook.steps.gate`).

    A refusal raises :class:`~runbook.steps.gate.ChangeRefused` and changes nothing; a failed apply raises
    :class:`~runbook.steps.gate.ApplyFailed` whose report says what was done and what to do next.
    """
    decision = decide(
        reviewed.review,
        context.environment,
        planned_table_name(reviewed),
        apply,
        confirm,
        ",".join(allow_destroy),
        destroy=destroy,
    )
    print(decision.reason)
    if decision.allowed:
        applied = apply_reviewed(context.terraform, reviewed.review, decision, expected_sha256=plan_sha256)
        print(applied.summary)
        context.forget_table()
    return decision


def teardown(
    environment: str,
    tfvars: str = "",
    work_dir: str | None = None,
    endpoint_url: str = "",
    region: str = "",
    apply: bool = False,
    allow_destroy: str = "",
    plan_sha256: str = "",
    option_names: dict | None = None,
    echo=print,
) -> "Decision":
    """``runbook destroy``: the guide's "Destroy Resources (Staging Only)" through 02's own review and gate.

    Production is refused first, before any input is read or anything planned. Then, as 02 with ``destroy=True``:
    ``terraform plan -destroy -out=tfplan`` of the environment's working configuration (or, with ``plan_sha256``,
    the saved plan with that hash), its review (every resource, what the table holds), and the gate: applied only
    with ``apply`` and ``allow_destroy`` naming exactly the destructive addresses; a refusal raises
    :class:`~runbook.steps.gate.ChangeRefused` and changes nothing.
    """
    check_teardown(environment, True)
    apply = params.boolean(apply, "apply")
    allowed = params.allow_destroy(allow_destroy, (option_names or {}).get("allow_destroy", "allow_destroy"))
    terraform, working = environment_terraform(environment, tfvars, work_dir, endpoint_url, region, option_names)
    terraform.target.check_reachable()
    echo(f"{environment}: teardown of {working.describe()} on {terraform.target.label}")
    try:
        terraform.init()
    except TerraformUnavailable as error:
        raise TerraformUnavailable(f"{error} {PROVIDER_FIX}") from None
    reviewed = plan_and_review_(
        terraform,
        plan_sha256,
        live=live_reader(terraform.target),
        table_exists=lambda name: table_exists(terraform.target, name),
        plan_args=("-destroy",),
    )
    echo(reviewed.review.to_markdown())
    echo(f"plan SHA-256: {reviewed.sha256} ({reviewed.origin})")
    decision = decide(
        reviewed.review, environment, planned_table_name(reviewed), apply, "", ",".join(allowed), destroy=True
    )
    echo(decision.reason)
    if decision.allowed:
        echo(apply_reviewed(terraform, reviewed.review, decision, expected_sha256=plan_sha256).summary)
    return decision
