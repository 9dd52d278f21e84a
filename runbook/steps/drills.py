"""Restore drills, each guarded by a :class:`~runbook.params.ChangeGuard`; the source table is only read.

* :func:`backup_restore_drill` — an on-demand backup restored into a new table ``<table>-restore-drill-<timestamp>``
  (and a PITR restore into ``…-pitr`` when PITR is on), item counts compared with the source, then the backup and
  the restored tables deleted.
* :func:`terraform_restore_drill` — the module's restore inputs exercised: a point-in-time restore created by
  ``terraform apply`` in a root of its own, counted against the source, then ``terraform destroy``.
* :func:`seed_demo_notifications` — emulator only: demo items, so a drill restores real data.
"""

from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from typing import Any

import pandas as pd
from botocore.exceptions import ClientError

from runbook.aws.apierrors import AWS_ERRORS, describe_error
from runbook.aws.discovery import table_description
from runbook.aws.target import Target
from runbook.errors import ConfirmationError, RealAwsRefused, RunbookError
from runbook.params import ChangeGuard
from runbook.spec import TableSpec
from runbook.steps.writes import TEST_USER_PREFIX, batch_write, key_names, query_all, run_id, ulid_at
from runbook.terraform.command import Terraform
from runbook.terraform.workspace import Workspace


# -- Backup and restore drill --------------------------------------------------------------------------------------
@dataclass
class DrillResult:
    status: str  # "ok", "mismatch", "failed" or "skipped: pass apply=True"
    source_table: str
    source_items: int | None = None
    backup_table: str | None = None
    backup_items: int | None = None
    pitr_table: str | None = None
    pitr_items: int | None = None
    steps: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    cleaned_up: bool = False
    remaining_drill_tables: list[str] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return self.status == "ok"

    def to_dict(self) -> dict:
        return {**asdict(self), "ok": self.ok}

    def to_frame(self):

        rows = [{"table": self.source_table, "role": "source", "items": self.source_items}]
        if self.backup_table:
            rows.append(
                {"table": self.backup_table, "role": "restored from on-demand backup", "items": self.backup_items}
            )
        if self.pitr_table:
            rows.append({"table": self.pitr_table, "role": "restored to a point in time", "items": self.pitr_items})
        return pd.DataFrame(rows, columns=["table", "role", "items"])


def count_items(target: Target, table_name: str) -> int:
    """Exact item count (``Scan`` with ``Select=COUNT``, all pages; ``ItemCount`` is refreshed only every ~6 h)."""
    dynamodb = target.client("dynamodb")
    total, kwargs = 0, {"TableName": table_name, "Select": "COUNT"}
    while True:
        page = dynamodb.scan(**kwargs)
        total += page.get("Count", 0)
        if not page.get("LastEvaluatedKey"):
            return total
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def wait_for_table(target: Target, name: str, timeout: float = 600, gone: bool = False) -> None:
    """Poll until the table (and its indexes) are ACTIVE, or until it is gone (``gone=True``)."""
    dynamodb = target.client("dynamodb")
    interval = 0.1 if target.is_emulator else 5.0
    deadline = time.monotonic() + timeout
    while True:
        table = table_description(dynamodb, name)
        if table is None and gone:
            return
        if (
            table is not None
            and not gone
            and table.get("TableStatus") == "ACTIVE"
            and all(
                index.get("IndexStatus", "ACTIVE") == "ACTIVE" for index in table.get("GlobalSecondaryIndexes") or []
            )
        ):
            return
        if time.monotonic() > deadline:
            raise RunbookError(f"table {name} did not become {'deleted' if gone else 'ACTIVE'} within {timeout:.0f} s")
        time.sleep(interval)


def drill_table_prefix(table_name: str) -> str:
    return f"{table_name}-restore-drill-"


def backup_restore_drill(target: Target, spec: TableSpec, guard: ChangeGuard, timeout: float = 1800) -> DrillResult:
    """Back up the table, restore the backup (and, with PITR on, the latest restorable time) into new tables,
    compare item counts with the source, then delete the backup and the restored tables.

    Guarded: ``guard.check()`` raises :class:`~runbook.errors.ConfirmationError` for apply=True without the
    production confirmation; with apply=False nothing is created and the result's status says so.
    """
    source = spec.name
    if guard.table_name != source:
        raise ConfirmationError(
            f"the change guard is for table {guard.table_name!r}, the drill is on {source!r}; nothing was changed"
        )
    if not guard.check():
        return DrillResult(
            status="skipped: pass apply=True",
            source_table=source,
            notes=["read-only run: no backup, no restore, nothing created"],
        )
    started = time.monotonic()
    dynamodb = target.client("dynamodb")
    stamp = datetime.now(timezone.utc).strftime("%Y%m%d%H%M%S")
    result = DrillResult(status="failed", source_table=source)
    restored = f"{drill_table_prefix(source)}{stamp}"
    pitr_restored = f"{restored}-pitr"
    if source in (restored, pitr_restored):  # impossible by construction; the source is never a target
        raise RunbookError("refusing to restore onto the source table")
    backup_arn = None
    created: list[str] = []
    try:
        result.source_items = count_items(target, source)
        result.steps.append(f"counted {result.source_items} items in {source}")
        backup = dynamodb.create_backup(TableName=source, BackupName=f"{source}-drill-{stamp}"[:255])
        backup_arn = backup["BackupDetails"]["BackupArn"]
        _wait_backup(target, backup_arn, timeout)
        result.steps.append(f"created on-demand backup {backup['BackupDetails']['BackupName']}")

        dynamodb.restore_table_from_backup(TargetTableName=restored, BackupArn=backup_arn)
        created.append(restored)
        wait_for_table(target, restored, timeout)
        result.backup_table = restored
        result.backup_items = count_items(target, restored)
        result.steps.append(f"restored the backup into {restored}: {result.backup_items} items")

        pitr = dynamodb.describe_continuous_backups(TableName=source)["ContinuousBackupsDescription"]
        pitr_on = (pitr.get("PointInTimeRecoveryDescription") or {}).get("PointInTimeRecoveryStatus") == "ENABLED"
        if pitr_on:
            dynamodb.restore_table_to_point_in_time(
                SourceTableName=source, TargetTableName=pitr_restored, UseLatestRestorableTime=True
            )
            created.append(pitr_restored)
            wait_for_table(target, pitr_restored, timeout)
            result.pitr_table = pitr_restored
            result.pitr_items = count_items(target, pitr_restored)
            result.steps.append(f"restored the latest restorable time into {pitr_restored}: {result.pitr_items} items")
            if target.is_emulator:
                result.notes.append(
                    "the emulator's point-in-time restore copies the table's current data "
                    "(it accepts any time); on AWS it restores the chosen second"
                )
        else:
            result.notes.append(
                "PITR is off on the source: no point-in-time restore (set dynamodb_pitr_enabled = true)"
            )
        counts = [result.backup_items] + ([result.pitr_items] if pitr_on else [])
        result.status = "ok" if all(c == result.source_items for c in counts) else "mismatch"
        if result.status == "mismatch":
            result.notes.append(
                "restored item counts differ from the source (writes during the drill change the "
                "source; on a quiet table this is a failed restore)"
            )
    except AWS_ERRORS as error:
        result.notes.append(f"drill failed: {describe_error(error)}")
    finally:
        for name in created:
            try:
                dynamodb.delete_table(TableName=name)
                wait_for_table(target, name, timeout, gone=True)
                result.steps.append(f"deleted {name}")
            except (*AWS_ERRORS, RunbookError) as error:
                result.notes.append(f"could not delete {name}: {error}")
        if backup_arn:
            try:
                dynamodb.delete_backup(BackupArn=backup_arn)
                result.steps.append("deleted the backup")
            except AWS_ERRORS as error:
                result.notes.append(f"could not delete the backup {backup_arn}: {describe_error(error)}")
        names = [n for page in dynamodb.get_paginator("list_tables").paginate() for n in page.get("TableNames", [])]
        result.remaining_drill_tables = [n for n in names if n in created]
        result.cleaned_up = not result.remaining_drill_tables
        result.seconds = round(time.monotonic() - started, 3)
    return result


def _wait_backup(target: Target, backup_arn: str, timeout: float) -> None:
    dynamodb = target.client("dynamodb")
    deadline = time.monotonic() + timeout
    while True:
        status = dynamodb.describe_backup(BackupArn=backup_arn)["BackupDescription"]["BackupDetails"]["BackupStatus"]
        if status == "AVAILABLE":
            return
        if status == "DELETED" or time.monotonic() > deadline:
            raise RunbookError(f"backup {backup_arn} is {status}, not AVAILABLE")
        time.sleep(0.1 if target.is_emulator else 5)


# -- Demo data: what a drill restores on an emulator ---------------------------------------------------------------
#: Demo notifications are dated from this instant (ms since the epoch: 2025-01-01T00:00:00Z), one millisecond
#: apart: their ids are the same on every run, so seeding again rewrites the same items instead of adding more.
DEMO_EPOCH_MS = 1_735_689_600_000


def demo_user_prefix() -> str:
    return f"{TEST_USER_PREFIX}demo-"


@dataclass
class DemoData:
    """What :func:`seed_demo_notifications` did: items put, and demo items in the table afterwards."""

    table: str
    users: int
    per_user: int
    written: int
    present: int

    def to_dict(self) -> dict:
        return asdict(self)


def seed_demo_notifications(target: Target, table_name: str, users: int = 5, per_user: int = 10) -> DemoData:
    """Emulator only: put ``users × per_user`` demo notifications in the table (so a drill restores real data).

    Idempotent: users are ``runbook-demo-<n>`` and notification ids are fixed ULIDs, so a rerun rewrites the same
    items — the table holds ``users × per_user`` demo items after every run, never more. ``present`` counts them
    (one ``Query`` per demo user, never a ``Scan``).
    """
    if not target.is_emulator:
        raise RealAwsRefused("demo notifications are written only on an emulator")
    hash_key, range_key = key_names(target, table_name)
    prefix = demo_user_prefix()
    requests = [
        {
            "PutRequest": {
                "Item": {
                    hash_key: {"S": f"{prefix}{u}"},
                    range_key: {"S": ulid_at(DEMO_EPOCH_MS + u * per_user + n)},
                    "type": {"S": "like"},
                    "read": {"BOOL": False},
                }
            }
        }
        for u in range(users)
        for n in range(per_user)
    ]
    batch_write(target, table_name, requests)
    present = sum(len(query_all(target, table_name, hash_key, f"{prefix}{u}")[0]) for u in range(users))
    return DemoData(table_name, users, per_user, written=len(requests), present=present)


# -- Restore as code: a point-in-time restore through Terraform -------------------------------------------------------
#: The drill's own root, beside the environment's in the work copy (its own local state; never the environment's).
RESTORE_ROOT = "restore-drill"
RESTORE_CONFIG = "runbook_restore_drill.tf.json"


@dataclass
class TerraformRestoreDrill:
    """The module's restore inputs exercised: a table created by ``terraform apply`` as a point-in-time restore of
    the source, its items counted against the source's, then ``terraform destroy``."""

    status: str  # "ok", "mismatch", "failed" or "skipped: …"
    source_table: str
    restored_table: str | None = None
    source_items: int | None = None
    restored_items: int | None = None
    root: str = ""  # the drill's root, relative to the work directory
    steps: list[str] = field(default_factory=list)
    destroyed: bool = False
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return self.status == "ok"

    def to_dict(self) -> dict:
        return {**asdict(self), "ok": self.ok}


def restore_drill_config(spec: TableSpec, restored: str, environment: str, region: str) -> dict:
    """The drill root (Terraform's JSON syntax): the environment's module called with the source's keys and
    indexes as Terraform describes them (``spec``), the restore inputs, and nothing that outlives the drill
    (no deletion protection, no PITR, no alarms)."""
    keys = {spec.hash_key, spec.range_key}
    module: dict[str, Any] = {
        "source": "../staging/modules/dynamodb",
        "environment": f"{environment}-drill",  # its IAM policy names differ from the environment's
        "table_name": restored,
        "billing_mode": spec.billing_mode,
        "hash_key": spec.hash_key,
        "range_key": spec.range_key,
        "additional_attributes": [a.model_dump() for a in spec.attributes if a.name not in keys],
        "global_secondary_indexes": [
            {
                "name": i.name,
                "hash_key": i.hash_key,
                "range_key": i.range_key,
                "projection_type": i.projection_type,
                "non_key_attributes": list(i.non_key_attributes),
                **({"read_capacity": i.read_capacity, "write_capacity": i.write_capacity} if spec.provisioned else {}),
            }
            for i in spec.global_secondary_indexes
        ],
        "local_secondary_indexes": [
            {
                "name": i.name,
                "range_key": i.range_key,
                "projection_type": i.projection_type,
                "non_key_attributes": list(i.non_key_attributes),
            }
            for i in spec.local_secondary_indexes
        ],
        "restore_source_name": spec.name,
        "restore_to_latest_time": True,
    }
    for key in ("hash_key_type", "range_key_type"):
        name = spec.hash_key if key == "hash_key_type" else spec.range_key
        module[key] = next((a.type for a in spec.attributes if a.name == name), "S")
    if spec.provisioned:
        module.update(read_capacity=spec.read_capacity or 5, write_capacity=spec.write_capacity or 5)
    return {
        "provider": {"aws": {"region": region}},
        "module": {"restored": module},
        "output": {"table_name": {"value": "${module.restored.dynamodb_notifications_table_name}"}},
    }


def terraform_restore_drill(terraform, spec: TableSpec, guard: ChangeGuard) -> TerraformRestoreDrill:
    """Restore the table to its latest restorable time **through Terraform**, as the module README's recovery
    procedure does: a root of its own (``<work>/infrastructure/restore-drill``, local state) calls the module with
    ``restore_source_name`` and ``restore_to_latest_time``; ``terraform apply`` creates the restored table, its
    items are counted against the source's, ``terraform destroy`` removes it. Guarded like the other drill;
    skipped (with the reason) when the source has no point-in-time recovery."""
    started = time.monotonic()
    result = TerraformRestoreDrill(status="skipped: pass apply=True", source_table=spec.name)
    if not guard.check():
        return result
    if not spec.pitr_enabled:
        result.status = (
            "skipped: point-in-time recovery is off for this table (dynamodb_pitr_enabled = false): "
            "there is nothing to restore from"
        )
        return result
    restored = f"{drill_table_prefix(spec.name)}tf-{run_id()}"
    workspace = Workspace(RESTORE_ROOT, terraform.workspace.base)
    drill = Terraform(workspace, terraform.target, terraform.binary)
    workspace.root.mkdir(parents=True, exist_ok=True)
    root = drill.prepare()  # the configuration copy (the module the root calls) and, on an emulator, the endpoints
    for stale in ("terraform.tfstate", "terraform.tfstate.backup"):
        (root / stale).unlink(missing_ok=True)
    config = restore_drill_config(spec, restored, terraform.workspace.environment, terraform.target.region)
    (root / RESTORE_CONFIG).write_text(json.dumps(config, indent=2))
    result.root = root.relative_to(terraform.workspace.base).as_posix()  # in the work directory (no machine path)
    target = terraform.target
    try:
        drill.run("init", "-input=false", "-no-color")
        drill.run("apply", "-input=false", "-no-color", "-auto-approve")
        result.restored_table = json.loads(drill.run("output", "-json").stdout)["table_name"]["value"]
        result.steps.append(
            f"terraform apply: {result.restored_table} restored from {spec.name} (restore_to_latest_time)"
        )
        result.source_items = count_items(target, spec.name)
        result.restored_items = count_items(target, result.restored_table)
        result.steps.append(f"items: source {result.source_items}, restored {result.restored_items}")
        result.status = "ok" if result.restored_items == result.source_items else "mismatch"
    except RunbookError as error:
        result.status = "failed"
        result.steps.append(f"failed: {error}")
    finally:
        try:
            drill.run("destroy", "-input=false", "-no-color", "-auto-approve")
            result.destroyed = not table_exists_quietly(target, restored)
            result.steps.append(
                f"terraform destroy: {restored} removed"
                if result.destroyed
                else f"terraform destroy ran, but {restored} still exists"
            )
        except RunbookError as error:
            result.steps.append(f"terraform destroy failed: {error}; remove {restored} by hand")
    result.seconds = round(time.monotonic() - started, 1)
    return result


def table_exists_quietly(target: Target, name: str) -> bool:
    try:
        target.client("dynamodb").describe_table(TableName=name)
        return True
    except ClientError:
        return False
