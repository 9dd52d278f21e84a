"""Terraform's verdict on the working tfvars (01): ``terraform plan -refresh=false`` (inside ``runbook run`` the run's
full plan), each error diagnostic a failed :class:`~runbook.checks.Check` on its tfvars line; on an emulator, whether
it implements what the plan needs, and the aftermath of an interrupted apply. Where Terraform cannot run, the check
says "not checked", never "valid". Called by :mod:`.preflight`.

May import: :mod:`runbook.steps.context`, :mod:`runbook.steps.targetcheck`, :mod:`runbook.terraform`, the base
modules.
"""

from __future__ import annotations

import re
from pathlib import Path

from runbook import workconfig
from runbook.checks import Check
from runbook.errors import ConfigurationError, TerraformError, TerraformUnavailable
from runbook.steps.context import RunContext
from runbook.steps.targetcheck import check_plan
from runbook.terraform.command import Terraform
from runbook.terraform.interrupted import diagnose
from runbook.terraform.planning import plan_for_run, run_id
from runbook.terraform.tfjson import PlanJson
from runbook.terraform.workspace import Workspace


def _where(diagnostic: dict, tfvars: Path) -> tuple[str | None, int | None]:
    """The tfvars variable and line a diagnostic is about: its own range when it points into the tfvars, else
    the ``var.NAME`` its snippet shows (a module's validation points at the module call in main.tf)."""
    where = diagnostic.get("range") or {}
    snippet = (diagnostic.get("snippet") or {}).get("code", "")
    if where.get("filename") and Path(where["filename"]).name == tfvars.name and Path(where["filename"]).is_absolute():
        name = re.match(r"\s*([A-Za-z_][A-Za-z0-9_-]*)\s*=", snippet)
        return (name.group(1) if name else None), where.get("start", {}).get("line")
    reference = re.search(r"var\.([A-Za-z_][A-Za-z0-9_-]*)", snippet)
    if reference:
        return reference.group(1), workconfig.line_of(tfvars, reference.group(1))
    return None, None


#: 01's plan for the checks, saved beside (never over) the workspace's tfplan and removed after use.
CHECK_PLAN = "runbook_check.tfplan"


def target_capabilities(context: RunContext, plan: "PlanJson") -> list[Check]:
    """On an emulator: does it implement every call the planned resources need (``runbook.steps.targetcheck``)?"""
    return check_plan(context.target, plan)


def _check_plan_json(context: RunContext) -> "PlanJson":
    """The JSON of the saved :data:`CHECK_PLAN`, which is then removed."""
    try:
        return PlanJson(context.terraform.show_json(CHECK_PLAN))
    finally:
        (context.workspace.root / CHECK_PLAN).unlink(missing_ok=True)


def terraform_verdict(context: RunContext) -> list[Check]:
    """What Terraform says about the working tfvars (``plan -refresh=false``), each error with file and line.

    Inside ``runbook run`` it is the full plan 02 of the same run then applies
    (``runbook.terraform.planning.plan_for_run``).
    """
    probe = context.target.is_emulator  # real AWS is never probed
    in_run, view = bool(run_id()), None
    try:
        context.terraform.init()
        if in_run:
            diagnostics, view = plan_for_run(context.terraform)
        else:
            diagnostics = context.terraform.check_variables(CHECK_PLAN if probe else None)
    except (TerraformUnavailable, TerraformError) as error:
        return [
            Check(
                "tfvars (Terraform)",
                False,
                f"not checked: Terraform could not run here ({error})",
                "make the AWS provider installable (see 'AWS provider source'), then run 01 again",
            )
        ]
    except ConfigurationError as error:  # the backend config: reported by the backend checks above
        return [
            Check(
                "tfvars (Terraform)",
                False,
                f"not checked: terraform init needs the backend ({error})",
                "fix the backend config (see 'backend config'), then run 01 again",
            )
        ]
    errors = [d for d in diagnostics if d.get("severity") == "error"]
    if not errors:
        accepted = Check(
            "tfvars (Terraform)",
            True,
            f"{context.tfvars.name}: Terraform accepts every value (types, validation rules, preconditions)",
        )
        if probe and not in_run:
            view = _check_plan_json(context)
        return (
            [accepted]
            + (target_capabilities(context, view) if probe and view is not None else [])
            + interrupted_apply(context, view)
        )
    return diagnostic_checks(context, errors)


def interrupted_apply(context: RunContext, view: "PlanJson | None") -> list[Check]:
    """The aftermath of an interrupted apply (:mod:`runbook.terraform.interrupted`): a stale or held state lock, objects
    the plan would create that exist outside the state (from ``view``, when this check made a plan's JSON)."""
    diagnosis = diagnose(context.terraform, view)
    if diagnosis.found:
        return [Check("interrupted apply", False, diagnosis.text, diagnosis.next_step)]
    if diagnosis.lock is not None:  # held by a run that is still going
        return [Check("state lock", False, diagnosis.lock.describe(), "wait for that run to finish, then run 01 again")]
    return []


def diagnostic_checks(context: RunContext, errors: list[dict]) -> list[Check]:
    """Terraform's error diagnostics on the working tfvars as failed checks, each on its tfvars line."""
    checks = []
    for diagnostic in errors:
        name, line = _where(diagnostic, context.tfvars)
        where = diagnostic.get("range") or {}
        origin = f"{Path(where['filename']).name}:{where['start']['line']}" if where.get("filename") else ""
        detail = diagnostic.get("detail", "").strip().splitlines()[0] if diagnostic.get("detail") else ""
        text = f"{diagnostic.get('summary', '')}: {detail}".strip(": ")
        located = f"{context.tfvars}:{line}" if line else (origin or str(context.tfvars))
        checks.append(
            Check(
                f"tfvars: {name}" if name else "Terraform",
                False,
                f"{located}: {text}",
                f"edit {context.tfvars}"
                + (f" line {line}" if line else "")
                + (f" (checked at {origin})" if origin and line else ""),
            )
        )
    return checks


#: Where :func:`verdict_before_bucket` plans: a copy of the configuration with a local backend, in the work
#: directory (its own ``.terraform``; no state is ever written there: ``plan -refresh=false -lock=false``).
VERDICT_DIR = "verdict"
LOCAL_BACKEND_OVERRIDE = "runbook_local_backend_override.tf"


def verdict_before_bucket(context: RunContext) -> list[Check]:
    """Terraform's verdict on the working tfvars with no state backend (a copy of the configuration whose
    backend is overridden to ``local``: ``plan -refresh=false -lock=false`` writes nothing): the failed checks, or
    ``[]`` when Terraform accepts the tfvars or cannot run here (then the usual checks say why)."""
    workspace = Workspace(context.environment, context.workspace.base / VERDICT_DIR)
    terraform = Terraform(workspace, context.target, context.terraform.binary, var_file=context.tfvars)
    terraform.prepare()
    (workspace.root / LOCAL_BACKEND_OVERRIDE).write_text(
        "# Generated by the runbook: 01's verdict before the state bucket exists; never committed.\n"
        'terraform {\n  backend "local" {}\n}\n'
    )
    if terraform.run("init", "-input=false", "-no-color", check=False).returncode != 0:
        return []
    errors = [d for d in terraform.check_variables() if d.get("severity") == "error"]
    return diagnostic_checks(context, errors) if errors else []
