"""The working configuration's plan: one ``terraform plan`` whose JSON every later step reads.

``make_plan`` runs ``terraform plan -out=tfplan -var-file=<working tfvars>`` and reads it back once with
``terraform show -json`` (kept beside the plan as ``tfplan.json``): the review and the gate (02, 03), drift
(``resource_drift``), the cost (``planned_values``) and the table the notebooks describe all come from it.

``plan_environment`` does the same for a command line (``runbook drift``, ``runbook cost``): resolve the working
tfvars and the target, init, plan.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

from . import params, tfjson, workconfig
from .aws import Target
from .errors import RunbookError
from .spec import TableSpec
from .terraform import Plan, Terraform, Workspace

PLAN_JSON = "tfplan.json"


@dataclass
class PlanResult:
    """A saved plan: its rows (from the ``-json`` stream), its ``show -json``, and its SHA-256."""

    plan: Plan
    json: tfjson.PlanJson
    path: Path
    sha256: str

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
    """``terraform plan -out=tfplan`` of the working configuration, then its JSON (written to ``tfplan.json``)."""
    planned = terraform.plan(*extra)
    view = tfjson.load_plan(terraform)
    path = terraform.workspace.plan_file
    (path.parent / PLAN_JSON).write_text(json.dumps(view.raw))
    return PlanResult(planned, view, path, sha256_of(path))


@dataclass
class EnvironmentPlan:
    """What a command-line plan of an environment produced, and what it was made from."""

    environment: str
    working: workconfig.WorkingTfvars
    target: Target
    result: PlanResult

    def table(self) -> TableSpec | None:
        return self.result.table(self.target.region, self.environment)


def environment_terraform(environment: str, tfvars: str = "", work_dir: str | Path | None = None,
                          endpoint_url: str = "", region: str = "",
                          option_names: dict | None = None) -> tuple[Terraform, workconfig.WorkingTfvars]:
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
    target = Target.resolve(params.region(region_value or "us-east-1", names["region"]),
                            params.endpoint_url(endpoint_url, names["endpoint_url"]))
    return Terraform(workspace, target, var_file=working.path), working


def plan_environment(environment: str, tfvars: str = "", work_dir: str | Path | None = None, endpoint_url: str = "",
                     region: str = "", refresh: bool = True, option_names: dict | None = None) -> EnvironmentPlan:
    """Init and plan the environment's working configuration (``refresh=False``: no reads of the live resources)."""
    terraform, working = environment_terraform(environment, tfvars, work_dir, endpoint_url, region, option_names)
    terraform.target.check_reachable()
    terraform.init()
    result = make_plan(terraform, *([] if refresh else ["-refresh=false", "-lock=false"]))
    return EnvironmentPlan(environment, working, terraform.target, result)


def configured_table(environment: str, tfvars: str = "", work_dir: str | Path | None = None,
                     endpoint_url: str = "") -> tuple[TableSpec | None, str]:
    """The table the working configuration plans (no refresh), and a note saying what was read.

    ``(None, reason)`` when no plan can be made here (Terraform or the provider unavailable, no credentials for the
    target): the caller then says so instead of guessing.
    """
    environment_terraform(environment, tfvars, work_dir, endpoint_url)  # a bad input is the caller's error: raise
    try:
        planned = plan_environment(environment, tfvars, work_dir, endpoint_url, refresh=False)
    except RunbookError as error:  # no provider, no credentials, no backend config, an unreachable target
        return None, f"no plan: {error}"
    return planned.table(), f"Terraform's plan of {planned.working.path} ({planned.target.label})"


def saved_plan_json(workspace: Workspace) -> tfjson.PlanJson | None:
    """The JSON of the workspace's last saved plan, when 02 (or a command) made one."""
    path = workspace.root / PLAN_JSON
    return tfjson.PlanJson.from_file(path) if path.is_file() else None


