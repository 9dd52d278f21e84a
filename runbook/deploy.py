"""02-plan-and-apply's steps: init, fmt, validate, plan, apply the saved plan, outputs.

Terraform is the only way the table is made or changed. When Terraform cannot install the AWS provider,
:func:`init` raises :class:`TerraformUnavailable` with the fix, on an emulator as against AWS: one path, the real one.
"""

from __future__ import annotations

from .context import RunContext
from .errors import TerraformUnavailable
from .planning import PlanResult, make_plan
from .workconfig import missing_error

PROVIDER_FIX = ("Give Terraform the AWS provider: allow access to registry.terraform.io, or point "
                "RUNBOOK_TF_PLUGIN_MIRROR at a filesystem mirror that holds hashicorp/aws "
                "(`terraform providers mirror DIR` on a machine that has access), then run 01-setup again.")


def init(context: RunContext) -> str:
    """``terraform init`` in the work directory; returns the Terraform used. Stops with the fix when it cannot."""
    if not context.working.exists:
        raise missing_error(context.environment, context.working)
    try:
        context.terraform.init()
    except TerraformUnavailable as error:
        raise TerraformUnavailable(f"{error} {PROVIDER_FIX}") from None
    return context.terraform.binary.label


def plan(context: RunContext, *extra: str) -> PlanResult:
    """``terraform plan -out=tfplan`` of the working tfvars and its JSON; the table is read again from it."""
    result = make_plan(context.terraform, *extra)
    context.forget_table()
    return result


def outputs(context: RunContext) -> dict:
    """The seed's ``terraform output`` values, from the state the apply wrote."""
    return context.terraform.output()


def application_environment(context: RunContext, values: dict) -> dict[str, str]:
    """The seed's Next Steps: the application's environment variables, ready to paste."""
    return {"DYNAMODB_NOTIFICATIONS_TABLE": values.get("dynamodb_notifications_table_name") or "",
            "AWS_REGION": context.region}


def plan_markdown(result: PlanResult) -> str:
    """The saved plan's resource changes as a Markdown table (interim review; see runbook.review)."""
    rows = [c for c in result.json.resource_changes if c.get("mode") == "managed"
            and (set(c["change"]["actions"]) - {"no-op"} or c["change"].get("importing"))]
    if not rows:
        return "**No changes.** The infrastructure matches the configuration."
    lines = ["| resource | action | forces replacement |", "| --- | --- | --- |"]
    for change in rows:
        actions = change["change"]["actions"]
        action = "replace" if {"create", "delete"} <= set(actions) else ",".join(actions)
        if change["change"].get("importing"):
            action = "import" + ("" if action == "no-op" else f" + {action}")
        forced = ", ".join(".".join(str(p) for p in path) for path in change["change"].get("replace_paths") or [])
        lines.append(f"| `{change['address']}` | {action} | {forced} |")
    return "\n".join(lines)


def apply_if_allowed(context: RunContext, result: PlanResult, table, apply: bool, confirm: str) -> bool:
    """Apply the saved plan when the change guard allows it; returns whether it was applied."""
    from . import params

    if not result.has_changes:
        print("Nothing to apply: the plan has no changes.")
        return False
    name = table.name if table else ""
    guard = params.change_guard(context.environment, name, apply, confirm)
    if not guard.allowed:
        print("Not applied: pass apply=True" + (f" and confirm='{name}'" if context.environment == "production" else ""))
        return False
    for line in context.terraform.apply_plan().stdout.splitlines():
        if line.startswith("Apply complete"):
            print(line)
    context.forget_table()
    return True
