"""03-import: the guide's "Table Already Exists" path, with a Terraform ≥ 1.5 ``import {}`` block.

Find the environment's table, decide whether Terraform's state manages it, and if not write an import block
into the work directory (never the repository), plan it (the plan shows the import) and apply only when the
change guard allows. On an emulator a demo creates a table out of band first, in a scratch workspace with its
own state, so the published runbook shows the whole flow for real; it removes what it created afterwards.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from datetime import datetime, timezone

from runbook.aws.discovery import table_description
from runbook.aws.target import Target
from runbook.errors import ConfigurationError, RealAwsRefused
from runbook.steps.context import RunContext
from runbook.terraform.backend import default_key
from runbook.terraform.command import Terraform
from runbook.terraform.planning import make_plan
from runbook.terraform.workspace import Workspace

TABLE_ADDRESS = "module.dynamodb.aws_dynamodb_table.notifications"
IMPORT_FILE = "runbook_import.tf"


@dataclass
class ImportStatus:
    table: str
    exists: bool
    managed: bool

    @property
    def needs_import(self) -> bool:
        return self.exists and self.managed is False

    @property
    def finding(self) -> str:
        if not self.exists:
            return f"{self.table} does not exist: nothing to import (02-plan-and-apply creates it)"
        if self.managed:
            return f"{self.table} exists and Terraform's state manages it ({TABLE_ADDRESS}): nothing to import"
        return f"{self.table} exists but is not in Terraform's state: import it"


def table_exists(target: Target, table: str) -> bool:
    return table_description(target.client("dynamodb"), table) is not None


def status(terraform: Terraform, target: Target, table: str) -> ImportStatus:
    exists = table_exists(target, table)
    managed = TABLE_ADDRESS in terraform.state_addresses()
    return ImportStatus(table, exists, managed)


def planned_table(context: RunContext):
    """The table Terraform plans from the working tfvars (state first; else ``plan -refresh=false``)."""
    table = context.table
    if table is None:
        table = make_plan(context.terraform, "-refresh=false", "-lock=false").table(context.region, context.environment)
        context.forget_table()
    if table is None:
        raise ConfigurationError(context.tfvars, "Terraform plans no aws_dynamodb_table from this configuration")
    return table


def import_block(table: str) -> str:
    return f'import {{\n  to = {TABLE_ADDRESS}\n  id = "{table}"\n}}\n'


def import_command(table: str) -> str:
    """The guide's equivalent one-off command."""
    return f"terraform import {TABLE_ADDRESS} {table}"


def write_import_block(terraform: Terraform, table: str) -> str:
    """Write the import block into the workspace's root (the work directory); returns its text."""
    text = import_block(table)
    (terraform.workspace.root / IMPORT_FILE).write_text(text)
    return text


def remove_import_block(terraform: Terraform) -> None:
    (terraform.workspace.root / IMPORT_FILE).unlink(missing_ok=True)


# -- emulator demo --------------------------------------------------------------------------------------------
#: The demo's own state, beside the environment's (``notifications/<env>-import-demo.tfstate``).
DEMO_STATE = "import-demo"


def demo_table_name(table: str) -> str:
    return f"{table}-import-demo"


def demo_workspace(context: RunContext) -> Terraform:
    """A scratch workspace with its own (empty) state, beside the environment's, for the demo."""
    workspace = Workspace(context.environment, context.workspace.base / "import-demo")
    if workspace.base.exists():
        shutil.rmtree(workspace.base)
    terraform = Terraform(workspace, context.target, context.terraform.binary, var_file=context.tfvars)
    terraform.state_key = default_key(context.environment, DEMO_STATE)  # explicitly: never the environment's state
    terraform.prepare()
    return terraform


def create_out_of_band_table(target: Target, spec, name: str) -> None:
    """What someone clicking in the console would make: the keys and billing mode, nothing else."""
    if not target.is_emulator:
        raise RealAwsRefused("the out-of-band demo table is created only on an emulator")
    key_names = [spec.hash_key] + ([spec.range_key] if spec.range_key else [])
    attributes = [{"AttributeName": a.name, "AttributeType": a.type} for a in spec.attributes if a.name in key_names]
    keys = [{"AttributeName": spec.hash_key, "KeyType": "HASH"}]
    if spec.range_key:
        keys.append({"AttributeName": spec.range_key, "KeyType": "RANGE"})
    client = target.client("dynamodb")
    client.create_table(
        TableName=name,
        KeySchema=keys,
        AttributeDefinitions=attributes,
        BillingMode="PAY_PER_REQUEST",
        Tags=[
            {"Key": "CreatedBy", "Value": "runbook import demo"},
            {"Key": "CreatedAt", "Value": datetime.now(timezone.utc).isoformat(timespec="seconds")},
        ],
    )
    client.get_waiter("table_exists").wait(TableName=name)


def remove_demo_table(target: Target, name: str) -> None:
    if not target.is_emulator:
        raise RealAwsRefused("the demo table is removed only on an emulator")
    client = target.client("dynamodb")
    if table_exists(target, name):
        client.update_table(TableName=name, DeletionProtectionEnabled=False)
        client.delete_table(TableName=name)
    alarms = target.client("cloudwatch")
    names = [a["AlarmName"] for a in alarms.describe_alarms(AlarmNamePrefix=name)["MetricAlarms"]]
    if names:
        alarms.delete_alarms(AlarmNames=names)
