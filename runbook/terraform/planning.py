"""The working configuration's plan: one ``terraform plan`` whose JSON every later step reads.

``make_plan`` runs ``terraform plan -out=tfplan -var-file=<working tfvars>`` and reads it back once with
``terraform show -json`` (kept beside the plan as ``tfplan.json``): the review and the gate (02, 03), drift
(``resource_drift``), the cost (``planned_values``) and the table the notebooks describe all come from it.

``plan_environment`` does the same for a command line (``runbook drift``, ``runbook cost``): resolve the working
tfvars and the target, init, plan.

Inside one ``runbook run`` (``RUNBOOK_RUN_ID`` in the kernels' environment), 01's check of the tfvars is that same
plan (:func:`plan_for_run`), saved beside ``tfplan`` with the digest of everything it was made from; 02 of the same
run takes it over instead of planning again when nothing changed (:func:`make_plan`). Terraform itself refuses to
apply it if the state changed in between ("Saved plan is stale").
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path

from runbook import params, workconfig
from runbook.aws.target import Target
from runbook.errors import RunbookError, TerraformError
from runbook.processes import RUN_VARIABLE
from runbook.spec import TableSpec
from runbook.terraform import tfjson
from runbook.terraform.command import Terraform
from runbook.terraform.interrupted import after_plan, before_plan
from runbook.terraform.stream import Plan, diagnostics, plan_changes
from runbook.terraform.workspace import Workspace

PLAN_JSON = "tfplan.json"
#: Beside it: the digest of the configuration and tfvars the saved plan was made from (``Terraform.inputs_digest``).
PLAN_INPUTS = "tfplan.inputs.sha256"
#: 01's plan inside a run, beside (never over) the workspace's ``tfplan``, and what 02 needs to take it over.
RUN_PLAN = "runbook_run.tfplan"
RUN_PLAN_RECORD = "runbook_run.tfplan.json"
#: What :attr:`PlanResult.origin` says of a plan taken over from 01.
FROM_SETUP = "made by 01-setup earlier in this run, from the same configuration, tfvars and backend"


@dataclass
class PlanResult:
    """A saved plan: its rows (from the ``-json`` stream), its ``show -json``, and its SHA-256."""

    plan: Plan
    json: tfjson.PlanJson
    path: Path
    sha256: str
    #: Where the plan comes from: made here, or :data:`FROM_SETUP`.
    origin: str = "made here"

    @property
    def has_changes(self) -> bool:
        return self.plan.has_changes

    def table(self, region: str = "", environment: str = "") -> TableSpec | None:
        return tfjson.table_spec(self.json.planned_resources(), region, environment)


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 16), b""):
            digest.update(block)
    return digest.hexdigest()


def make_plan(terraform: Terraform, *extra: str) -> PlanResult:
    """``terraform plan -out=tfplan`` of the working configuration, then its JSON (written to ``tfplan.json``).

    Without ``extra`` arguments, the plan 01 made earlier in the same run from the same inputs is taken over
    instead (:func:`plan_for_run`): the same command, already run.
    """
    taken = None if extra else _take_run_plan(terraform)
    if taken is not None:
        return taken
    planned = terraform.plan(*extra)
    view = tfjson.load_plan(terraform)
    path = terraform.workspace.plan_file
    _keep_json(terraform, view.raw)
    return PlanResult(planned, view, path, sha256_of(path))


def _keep_json(terraform: Terraform, raw: dict) -> None:
    root = terraform.workspace.root
    (root / PLAN_JSON).write_text(json.dumps(raw))
    (root / PLAN_INPUTS).write_text(terraform.inputs_digest())


def saved_plan_of_configuration(terraform: Terraform) -> tfjson.PlanJson | None:
    """The saved plan's JSON when it was made from exactly the configuration and tfvars the workspace has now
    (its planned values are then what a new plan would say), else None."""
    root = terraform.workspace.root
    inputs, saved = root / PLAN_INPUTS, root / PLAN_JSON
    if not (inputs.is_file() and saved.is_file()):
        return None
    terraform.prepare()  # the copy as the committed tree and this target have it now
    return tfjson.PlanJson.from_file(saved) if inputs.read_text() == terraform.inputs_digest() else None


def run_id() -> str:
    """This ``runbook run``'s id ('' outside one: a notebook opened in JupyterLab, papermill by hand)."""
    return os.environ.get(RUN_VARIABLE, "")


def _plan_inputs(terraform: Terraform) -> str:
    backend = terraform.backend
    return terraform.inputs_digest(*([backend.path, backend.key] if backend is not None else []))


def plan_for_run(terraform: Terraform) -> tuple[list[dict], tfjson.PlanJson | None]:
    """01 inside a run: the plan 02 makes (``plan -out``, with refresh; ``-lock=false`` like any check: the apply
    takes the lock), saved as :data:`RUN_PLAN` for 02 of the same run. Returns Terraform's diagnostics and the
    plan's JSON (None when the plan failed: the diagnostics say why)."""
    root = terraform.workspace.root
    record = root / RUN_PLAN_RECORD
    record.unlink(missing_ok=True)
    try:
        planned = terraform.plan("-lock=false", out=RUN_PLAN)
    except TerraformError as error:
        if error.diagnostics:
            return error.diagnostics, None
        raise
    view = tfjson.load_plan(terraform, RUN_PLAN)
    record.write_text(
        json.dumps(
            {
                "run_id": run_id(),
                "inputs": _plan_inputs(terraform),
                "sha256": sha256_of(root / RUN_PLAN),
                "has_changes": planned.has_changes,
                "messages": planned.messages,
                "json": view.raw,
            }
        )
    )
    return diagnostics(planned.messages), view


def _take_run_plan(terraform: Terraform) -> PlanResult | None:
    """The plan :func:`plan_for_run` saved, moved to ``tfplan``, when it is this run's and nothing it was made
    from changed since (configuration, tfvars, backend, the plan's own bytes); it is taken at most once."""
    root = terraform.workspace.root
    record, saved_plan = root / RUN_PLAN_RECORD, root / RUN_PLAN
    if not record.is_file():
        return None
    saved = json.loads(record.read_text())
    record.unlink()
    usable = (
        run_id()
        and saved.get("run_id") == run_id()
        and saved_plan.is_file()
        and saved.get("inputs") == _plan_inputs(terraform)
        and saved.get("sha256") == sha256_of(saved_plan)
    )
    if not usable:
        saved_plan.unlink(missing_ok=True)
        return None
    path = terraform.workspace.plan_file
    os.replace(saved_plan, path)
    _keep_json(terraform, saved["json"])
    messages = saved["messages"]
    planned = Plan(plan_changes(messages), has_changes=saved["has_changes"], messages=messages)
    return PlanResult(planned, tfjson.PlanJson(saved["json"]), path, saved["sha256"], origin=FROM_SETUP)


@dataclass
class EnvironmentPlan:
    """What a command-line plan of an environment produced, and what it was made from."""

    environment: str
    working: workconfig.WorkingTfvars
    target: Target
    result: PlanResult
    #: The state the plan was made against (``s3://bucket/key``), as the backend config names it.
    state: str = ""

    def table(self) -> TableSpec | None:
        return self.result.table(self.target.region, self.environment)


def environment_terraform(
    environment: str,
    tfvars: str = "",
    work_dir: str | Path | None = None,
    endpoint_url: str = "",
    region: str = "",
    option_names: dict | None = None,
) -> tuple[Terraform, workconfig.WorkingTfvars]:
    """A ``Terraform`` for the environment's working configuration; validates every input before any AWS call.

    ``option_names`` maps ``tfvars``/``endpoint_url``/``region`` to the names the caller shows (``--tfvars``).
    """
    names = {"tfvars": "tfvars", "endpoint_url": "aws_endpoint_url", "region": "aws_region", **(option_names or {})}
    environment = params.environment(environment)
    workspace = Workspace(environment, Path(work_dir).resolve()) if work_dir else Workspace.for_environment(environment)
    working = workconfig.resolve(environment, tfvars, workspace.base, parameter=names["tfvars"])
    if not working.exists:
        raise workconfig.missing_error(environment, working)
    values = workconfig.read_values(working.path)
    workconfig.check_environment(working.path, environment)
    region_value = region or values.get("aws_region") or ""
    target = Target.resolve(
        params.region(region_value or "us-east-1", names["region"]),
        params.endpoint_url(endpoint_url, names["endpoint_url"]),
    )
    return Terraform(workspace, target, var_file=working.path), working


def plan_environment(
    environment: str,
    tfvars: str = "",
    work_dir: str | Path | None = None,
    endpoint_url: str = "",
    region: str = "",
    refresh: bool = True,
    option_names: dict | None = None,
) -> EnvironmentPlan:
    """Init and plan the environment's working configuration (``refresh=False``: no reads of the live resources)."""
    terraform, working = environment_terraform(environment, tfvars, work_dir, endpoint_url, region, option_names)
    terraform.target.check_reachable()
    terraform.init()
    if refresh:  # the plan drift reads: an interrupted apply (a stale lock, objects outside the state) first
        before_plan(terraform)
    result = make_plan(terraform, *([] if refresh else ["-refresh=false", "-lock=false"]))
    if refresh:
        after_plan(terraform, result.json)
    backend = terraform.backend
    state = f"s3://{backend.bucket}/{backend.key}" if backend is not None else ""
    return EnvironmentPlan(environment, working, terraform.target, result, state)


def configured_plan(
    environment: str, tfvars: str = "", work_dir: str | Path | None = None, endpoint_url: str = ""
) -> tuple[tfjson.PlanJson | None, str, str]:
    """The working configuration's plan JSON (no refresh), its target region and a note saying what was read:
    both sides of it are read (the table it plans, and the cost's plan delta).

    ``(None, region, reason)`` when no plan can be made here.
    """
    terraform, working = environment_terraform(environment, tfvars, work_dir, endpoint_url)  # bad input: raise
    region = terraform.target.region
    saved = saved_plan_of_configuration(terraform)
    if saved is not None:  # 02's plan of this very configuration: no second plan needed
        return (
            saved,
            region,
            (
                f"Terraform's plan of {working.path} ({terraform.target.label}; the saved plan, made "
                "from this same configuration and tfvars)"
            ),
        )
    try:
        planned = plan_environment(environment, tfvars, work_dir, endpoint_url, refresh=False)
    except RunbookError as error:  # no provider, no credentials, no backend config, an unreachable target
        return None, region, f"no plan: {error}"
    return (
        planned.result.json,
        planned.target.region,
        f"Terraform's plan of {planned.working.path} ({planned.target.label})",
    )


def saved_plan_json(workspace: Workspace) -> tfjson.PlanJson | None:
    """The JSON of the workspace's last saved plan, when 02 (or a command) made one."""
    path = workspace.root / PLAN_JSON
    return tfjson.PlanJson.from_file(path) if path.is_file() else None
