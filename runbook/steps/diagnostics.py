"""Troubleshooting: each of the configuration guide's problems as a live check with its finding and its fix.

Every check returns :class:`Finding` (``high_costs`` returns four) with ``status``:

* ``ok`` — nothing to do;
* ``problem`` — broken, the fix says what to run;
* ``warning`` — works, but costs money or risks data;
* ``unavailable`` — the check could not be made here (the endpoint lacks the API, no metric data, no state), with
  the reason. Never reported as ok.

Each check depends only on its arguments (a target to read from and what to compare with), so the notebook can
run them one by one. Here: the finding, the table under diagnosis, and the configuration and access problems
(table not in state, module not found, access denied); the guide's "High Costs" checks are in :mod:`.highcosts`,
the production safeguards (alarms, PITR, deletion protection) in :mod:`.safeguards`.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Iterable, Literal

import pandas as pd
from botocore.exceptions import NoCredentialsError

from runbook.aws.apierrors import AWS_ERRORS, describe_error, error_code, is_unsupported, probe
from runbook.aws.discovery import describe_tables
from runbook.aws.target import Target
from runbook.errors import RunbookError
from runbook.spec import TableSpec
from runbook.steps.importing import TABLE_ADDRESS, import_block, import_command
from runbook.terraform import planning

if TYPE_CHECKING:
    from runbook.steps.context import RunContext

FindingStatus = Literal["ok", "problem", "warning", "unavailable"]


#: What Terraform needs to manage the table (the seed's "Access Denied": dynamodb:CreateTable, DescribeTable, ...).
TERRAFORM_ACTIONS = (
    "dynamodb:CreateTable",
    "dynamodb:DescribeTable",
    "dynamodb:UpdateTable",
    "dynamodb:DeleteTable",
    "dynamodb:DescribeTimeToLive",
    "dynamodb:UpdateTimeToLive",
    "dynamodb:DescribeContinuousBackups",
    "dynamodb:UpdateContinuousBackups",
    "dynamodb:ListTagsOfResource",
    "dynamodb:TagResource",
    "dynamodb:UntagResource",
    "dynamodb:DescribeContributorInsights",
    "dynamodb:UpdateContributorInsights",
)


@dataclass(frozen=True)
class Finding:
    check: str
    status: FindingStatus
    finding: str
    fix: str = ""


def to_frame(findings: Iterable[Finding]):
    """The summary table: check, status, finding, fix."""
    return pd.DataFrame([asdict(f) for f in findings], columns=["check", "status", "finding", "fix"])


# -- The table under diagnosis ----------------------------------------------------------------------------------
#: The scratch workspace (beside the environment's work directory) where 04 plans when there is no state.
SCRATCH_WORKSPACE = "diagnostics-plan"


@dataclass(frozen=True)
class DiagnosedTable:
    """The table the checks compare with, where Terraform's description of it came from, and the plan's root
    variables when a plan was read (empty otherwise)."""

    spec: TableSpec | None
    source: str
    variables: dict

    @property
    def name(self) -> str | None:
        return self.spec.name if self.spec else None

    def target_utilization(self) -> float | None:
        """The configuration's autoscaling target (percent) as Terraform resolved it, if the plan says."""
        value = self.variables.get("dynamodb_autoscaling_target_utilization")
        return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def table_to_diagnose(context: "RunContext") -> DiagnosedTable:
    """The table as Terraform describes it: the work directory's state or saved plan (``context.table``); else a
    plan of the working configuration made in a scratch workspace beside it (no refresh, nothing applied), so the
    work directory — its ``.terraform``, its state — stays as the operator left it (the checks look at it).
    ``spec`` is ``None``, with the reason in ``source``, when Terraform cannot describe it here."""
    root = context.workspace.root
    try:
        spec = context.table
    except RunbookError as error:
        return DiagnosedTable(None, f"Terraform could not read {root}: {error}", {})
    if spec is not None:
        saved = planning.saved_plan_json(context.workspace)
        return DiagnosedTable(spec, f"Terraform's state or saved plan in {root}", saved.variables if saved else {})
    if not context.working.exists:
        return DiagnosedTable(
            None,
            f"no state or saved plan in {root}, and no working tfvars to plan "
            f"({context.tfvars}): run 01-setup, or pass tfvars",
            {},
        )
    try:
        planned = planning.plan_environment(
            context.environment,
            str(context.tfvars),
            context.workspace.base / SCRATCH_WORKSPACE,
            context.target.endpoint_url or "",
            context.region,
            refresh=False,
        )
    except RunbookError as error:
        return DiagnosedTable(None, f"no state or saved plan in {root}, and no plan could be made: {error}", {})
    return DiagnosedTable(
        planned.table(), f"a plan of {context.tfvars} (no state in {root} yet)", planned.result.json.variables
    )


def unavailable(check: str, table: DiagnosedTable) -> Finding:
    """The finding of a check that needs the table when Terraform could not describe it."""
    return Finding(
        check,
        "unavailable",
        f"no table to check: {table.source}",
        "run 01-setup and 02-plan-and-apply for this environment",
    )


# -- Table already exists (not in state) -------------------------------------------------------------------------
def table_exists_but_not_in_state(target: Target, table_name: str, state_addresses: list[str] | None) -> Finding:
    """The table exists in the account but Terraform's state does not manage it (``state_addresses``: the
    state's resource addresses, what ``terraform state list`` prints; ``None`` when the state could not be read)."""
    check = "table exists but not in state"
    try:
        exists = describe_tables(target, [table_name], include=())[table_name] is not None
    except AWS_ERRORS as error:
        return Finding(
            check,
            "unavailable",
            f"could not describe {table_name}: {describe_error(error)}",
            "check credentials and region (see the access check)",
        )
    managed = state_addresses is not None and TABLE_ADDRESS in state_addresses
    if not exists:
        if managed:
            return Finding(
                check,
                "problem",
                f"the state has {TABLE_ADDRESS} but table {table_name} does not exist",
                "terraform plan shows it will be re-created; if it was deleted on purpose, "
                f"`terraform state rm {TABLE_ADDRESS}`",
            )
        return Finding(check, "ok", f"table {table_name} does not exist yet", "`terraform apply` creates it")
    if state_addresses is None:
        return Finding(
            check,
            "unavailable",
            f"table {table_name} exists; Terraform's state could not be read",
            "run `terraform init` in the environment's work directory, then `terraform state list`",
        )
    if managed:
        return Finding(check, "ok", f"table {table_name} exists and the state manages it as {TABLE_ADDRESS}")
    return Finding(
        check,
        "problem",
        f"table {table_name} exists but is not in Terraform's state "
        "(`terraform apply` would fail with ResourceInUseException: Table already exists)",
        f"{import_command(table_name)}   (or an import block: {' '.join(import_block(table_name).split())})",
    )


# -- Access denied ---------------------------------------------------------------------------------------------------
def _principal_arn(target: Target, caller_arn: str) -> tuple[str | None, str]:
    """The IAM ARN to simulate for an STS caller ARN, and a note."""
    parts = caller_arn.split(":", 5)
    if len(parts) < 6:
        return None, f"unrecognised caller ARN {caller_arn}"
    partition, account, resource = parts[1], parts[4], parts[5]
    if resource == "root":
        return None, "the account root user (it has every permission; use an IAM role instead)"
    if resource.startswith("assumed-role/"):
        role = resource.split("/")[1]
        try:
            return target.client("iam").get_role(RoleName=role)["Role"]["Arn"], f"role {role}"
        except AWS_ERRORS:
            return f"arn:{partition}:iam::{account}:role/{role}", f"role {role}"
    if resource.startswith("user/"):
        return f"arn:{partition}:iam::{account}:{resource}", resource
    return caller_arn, resource


def access_denied(
    target: Target, required_actions: Iterable[str] = TERRAFORM_ACTIONS, table_name: str | None = None
) -> Finding:
    """Who am I (STS), and which of ``required_actions`` my policies do not allow (IAM policy simulation)."""
    check = "access denied"
    actions = list(required_actions)
    try:
        identity = target.client("sts").get_caller_identity()
    except NoCredentialsError:
        return Finding(
            check,
            "problem",
            "no AWS credentials found",
            "configure credentials: `aws configure`, `aws sso login` or AWS_PROFILE",
        )
    except AWS_ERRORS as error:
        return Finding(
            check,
            "problem",
            f"the credentials were rejected: {describe_error(error)}",
            "refresh the credentials (expired session?) and check the region",
        )
    caller = identity["Arn"]
    principal, who = _principal_arn(target, caller)
    if principal is None:
        status = "warning" if "root" in who else "unavailable"
        return Finding(check, status, f"calls run as {caller}: {who}", "use an IAM role with the module's policy")
    simulate: dict = {"PolicySourceArn": principal, "ActionNames": actions}
    if table_name:
        partition = caller.split(":")[1]
        simulate["ResourceArns"] = [
            f"arn:{partition}:dynamodb:{target.region}:{identity['Account']}:table/{table_name}"
        ]
    try:
        results, marker = [], {}
        while True:
            page = probe(target, "iam", "simulate_principal_policy", **simulate, **marker)
            results.extend(page.get("EvaluationResults", []))
            if not page.get("IsTruncated"):
                break
            marker = {"Marker": page["Marker"]}
    except AWS_ERRORS as error:
        if is_unsupported(error):
            reason = "IAM policy simulation is not supported by this endpoint"
        elif error_code(error) in ("AccessDenied", "AccessDeniedException"):
            reason = "not allowed to simulate policies (needs iam:SimulatePrincipalPolicy)"
        else:
            reason = describe_error(error)
        return Finding(
            check,
            "unavailable",
            f"calls run as {caller}; which permissions are missing could not be checked: {reason}",
            "compare the caller's policies with the required actions: " + ", ".join(actions),
        )
    denied = sorted(r["EvalActionName"] for r in results if r.get("EvalDecision") != "allowed")
    if denied:
        return Finding(
            check,
            "problem",
            f"{who} ({caller}) is not allowed: {', '.join(denied)}",
            "attach the module's policy (output dynamodb_access_policy_arn) or grant these actions",
        )
    return Finding(check, "ok", f"{who} ({caller}) is allowed all {len(actions)} required actions")


# -- Module not found ------------------------------------------------------------------------------------------------
def module_not_found(work_dir: Path | str) -> Finding:
    """Is ``.terraform/modules/modules.json`` in ``work_dir`` there and does it list the ``dynamodb`` module?"""
    check = "module not found"
    work_dir = Path(work_dir)
    manifest = work_dir / ".terraform" / "modules" / "modules.json"
    fix = f"terraform -chdir={work_dir} init"
    if not (work_dir / ".terraform").is_dir():
        return Finding(check, "problem", f"`terraform init` has not been run in {work_dir} (no .terraform/)", fix)
    if not manifest.is_file():
        return Finding(check, "problem", f"{manifest} is missing: modules are not installed", fix)
    try:
        modules = json.loads(manifest.read_text()).get("Modules", [])
    except (OSError, ValueError) as error:
        return Finding(check, "problem", f"{manifest} is unreadable: {error}", fix)
    entry = next((m for m in modules if m.get("Key") == "dynamodb"), None)
    if entry is None:
        return Finding(check, "problem", f'{manifest} does not list module "dynamodb"', fix)
    return Finding(
        check, "ok", f'module "dynamodb" is installed (source {entry.get("Source")}, dir {entry.get("Dir")})'
    )
