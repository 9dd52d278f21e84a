"""02-plan-and-apply's steps: init, fmt, validate, plan, apply the saved plan — or the emulator-only fallback.

When Terraform cannot install the AWS provider: on an emulator the table is provisioned from the resolved
configuration with boto3 (``runbook.provision``) and the notebook shows a banner saying so; against real AWS
:func:`init` raises: real infrastructure changes only through Terraform.
"""

from __future__ import annotations

from dataclasses import dataclass

from .context import RunContext
from .errors import ConfigurationError, TerraformUnavailable
from .terraform import Plan


@dataclass
class InitOutcome:
    terraform: bool  # False: the boto3 fallback (emulator only)
    binary: str = ""
    reason: str = ""

    @property
    def banner(self) -> str:
        if self.terraform:
            return ""
        return ("**Terraform did not run.** " + self.reason + " This run is on an emulator, so the runbook "
                "provisions the table from the resolved configuration with boto3 instead and verifies it the same "
                "way. Nothing below is Terraform output.")


def init(context: RunContext) -> InitOutcome:
    """``terraform init`` in the work directory; the fallback decision when the provider cannot be installed."""
    if not context.workspace.tfvars.is_file():
        raise ConfigurationError(context.workspace.tfvars, "missing: run 01-setup first (it creates it from "
                                 "terraform.tfvars.example)")
    try:
        context.terraform.init()
    except TerraformUnavailable as error:
        if not context.target.is_emulator:
            raise TerraformUnavailable(f"{error} Against real AWS the runbook stops here: infrastructure changes "
                                       "only through Terraform.") from None
        return InitOutcome(terraform=False, reason=str(error))
    return InitOutcome(terraform=True, binary=context.terraform.binary.label)


def plan(context: RunContext, *extra: str) -> Plan:
    """``terraform plan`` into the work directory's saved plan; its rows are what the notebook shows."""
    return context.terraform.plan(*extra)


def apply(context: RunContext, outcome: InitOutcome) -> list[str]:
    """Apply the saved plan (Terraform), or provision with boto3 (emulator fallback). Returns what was done."""
    if outcome.terraform:
        result = context.terraform.apply_plan()
        return [line for line in result.stdout.splitlines() if line.startswith("Apply complete")]
    from .provision import provision

    return provision(context.table, context.target)


def outputs(context: RunContext, outcome: InitOutcome) -> dict:
    """The seed's ``terraform output`` values; on the fallback, the same names read from the live table."""
    if outcome.terraform:
        return context.terraform.output()
    table = context.target.client("dynamodb").describe_table(TableName=context.table.name)["Table"]
    return {
        "dynamodb_notifications_table_name": table["TableName"],
        "dynamodb_notifications_table_arn": table["TableArn"],
        "dynamodb_notifications_stream_arn": table.get("LatestStreamArn"),
        "dynamodb_access_policy_arn": None,  # IAM policies are Terraform's; the fallback does not create them
    }


def application_environment(context: RunContext, values: dict) -> dict[str, str]:
    """The seed's Next Steps: the application's environment variables, ready to paste."""
    return {"DYNAMODB_NOTIFICATIONS_TABLE": values.get("dynamodb_notifications_table_name") or context.table.name,
            "AWS_REGION": context.region}
