"""Operations on the emulator: alarms, metrics, TTL, streams, the drill, the smoke test and fault injection."""

from __future__ import annotations

import json
import threading
import urllib.request

import pytest
from botocore.awsrequest import AWSResponse
from tables import PRODUCTION, STAGING, create_table

from runbook.aws.target import Target
from runbook.errors import ConfirmationError, RunbookError
from runbook.params import ChangeGuard
from runbook.steps import drills
from runbook.steps.drills import backup_restore_drill
from runbook.steps.operations import alarms_state, metrics, stream_check, ttl_check
from runbook.steps.smoketest import smoke_test
from runbook.steps.writes import batch_write, new_ulid, ulid_time


def _put(target, table: str, n: int) -> None:
    batch_write(
        target,
        table,
        [
            {"PutRequest": {"Item": {"user_id": {"S": f"user-{i % 7}"}, "notification_id": {"S": new_ulid()}}}}
            for i in range(n)
        ],
        workers=1,
    )


def test_ulids_sort_in_creation_order():
    ids = [new_ulid() for _ in range(5000)]
    assert ids == sorted(ids) and len(set(ids)) == len(ids)
    assert all(len(i) == 26 for i in ids)
    assert abs(ulid_time(ids[-1]).timestamp() - __import__("time").time()) < 5


def test_alarms_state_lists_states_and_missing(target):
    create_table(target, PRODUCTION)
    cloudwatch = target.client("cloudwatch")
    cloudwatch.set_alarm_state(
        AlarmName=f"{PRODUCTION.name}-read-throttle-events", StateValue="ALARM", StateReason="test"
    )
    cloudwatch.delete_alarms(AlarmNames=[f"{PRODUCTION.name}-user-errors"])
    frame = alarms_state(target, PRODUCTION).set_index("alarm")
    assert frame.loc[f"{PRODUCTION.name}-read-throttle-events", "state"] == "ALARM"
    assert frame.loc[f"{PRODUCTION.name}-user-errors", "state"] == "MISSING"
    assert frame.loc[f"{PRODUCTION.name}-write-throttle-events", "threshold"] == 10
    assert frame.loc[f"{PRODUCTION.name}-user-errors", "metric"] == "UserErrors"  # from Terraform's alarm
    assert frame.loc[f"{PRODUCTION.name}-user-errors", "threshold"] == 50
    assert list(frame.index) == PRODUCTION.alarm_names()
    assert alarms_state(target, STAGING).empty
    assert "no CloudWatch alarms" in alarms_state(target, STAGING).attrs["reason"]


def test_metrics_empty_with_reason_then_data(target):
    create_table(target, STAGING)
    frame = metrics(target, STAGING.name, hours=1)
    assert frame.empty and "no CloudWatch data" in frame.attrs["reason"]
    target.client("cloudwatch").put_metric_data(
        Namespace="AWS/DynamoDB",
        MetricData=[
            {
                "MetricName": "ConsumedWriteCapacityUnits",
                "Value": 42.0,
                "Dimensions": [{"Name": "TableName", "Value": STAGING.name}],
            }
        ],
    )
    frame = metrics(target, STAGING.name, hours=1)
    assert not frame.empty and frame["ConsumedWriteCapacityUnits"].sum() == 42


def test_ttl_check_reports_eligible_items_honestly(target):
    create_table(target, STAGING)
    result = ttl_check(target, STAGING, count=6)
    assert result.ttl_enabled and result.live_attribute == "ttl"
    assert (result.written, result.expired, result.future) == (6, 3, 3)
    assert result.eligible_still_present == 3  # moto (like DynamoDB, for a while) has not deleted them
    assert result.deleted_by_ttl == 0 and result.future_present == 3
    assert result.ok and "never deletes" in result.note
    assert result.cleaned_up == 6
    assert target.client("dynamodb").scan(TableName=STAGING.name, Select="COUNT")["Count"] == 0


def test_ttl_check_on_wrong_attribute(target):
    create_table(target, STAGING)
    target.client("dynamodb").update_time_to_live(
        TableName=STAGING.name, TimeToLiveSpecification={"Enabled": True, "AttributeName": "expires_at"}
    )
    result = ttl_check(target, STAGING, count=2)
    assert not result.ok and "expires_at" in result.note


def test_stream_check_reads_insert_and_remove(target):
    create_table(target, STAGING)
    result = stream_check(target, STAGING.name, timeout=5)
    assert result.ok and result.records == 2
    assert result.event_names == ["INSERT", "REMOVE"]
    assert target.client("dynamodb").scan(TableName=STAGING.name, Select="COUNT")["Count"] == 0


def test_stream_check_without_stream(target):
    create_table(target, PRODUCTION)
    result = stream_check(target, PRODUCTION.name)
    assert not result.ok and "disabled" in result.note


def test_drill_skipped_without_apply_and_refused_without_confirmation(target):
    create_table(target, PRODUCTION)
    skipped = backup_restore_drill(target, PRODUCTION, ChangeGuard("production", PRODUCTION.name, False, ""))
    assert skipped.status == "skipped: pass apply=True"
    with pytest.raises(ConfirmationError):
        backup_restore_drill(target, PRODUCTION, ChangeGuard("production", PRODUCTION.name, True, "wrong"))
    with pytest.raises(ConfirmationError, match="guard is for table"):
        backup_restore_drill(target, PRODUCTION, ChangeGuard("production", "other-table", True, "other-table"))
    dynamodb = target.client("dynamodb")
    assert dynamodb.list_tables()["TableNames"] == [PRODUCTION.name]
    assert dynamodb.list_backups()["BackupSummaries"] == []


def test_drill_verifies_counts_and_leaves_only_the_source(target):
    create_table(target, PRODUCTION)
    _put(target, PRODUCTION.name, 60)
    before = target.client("dynamodb").describe_table(TableName=PRODUCTION.name)["Table"]
    result = backup_restore_drill(target, PRODUCTION, ChangeGuard("production", PRODUCTION.name, True, PRODUCTION.name))
    assert result.ok, result
    assert result.source_items == result.backup_items == result.pitr_items == 60
    assert result.backup_table.startswith(f"{PRODUCTION.name}-restore-drill-")
    assert result.pitr_table.endswith("-pitr")
    assert any("current data" in note for note in result.notes)
    assert result.cleaned_up and result.remaining_drill_tables == []
    dynamodb = target.client("dynamodb")
    assert dynamodb.list_tables()["TableNames"] == [PRODUCTION.name]
    assert dynamodb.list_backups()["BackupSummaries"] == []
    after = dynamodb.describe_table(TableName=PRODUCTION.name)["Table"]
    assert after["DeletionProtectionEnabled"] and after["ItemCount"] == before["ItemCount"] == 60


def test_drill_without_pitr_restores_the_backup_only(target):
    create_table(target, STAGING)
    _put(target, STAGING.name, 10)
    result = backup_restore_drill(target, STAGING, ChangeGuard("staging", STAGING.name, True, ""))
    assert result.ok and result.pitr_table is None and result.backup_items == 10
    assert any("PITR is off" in note for note in result.notes)
    assert target.client("dynamodb").list_tables()["TableNames"] == [STAGING.name]


def test_smoke_test_counts(target):
    create_table(target, STAGING)
    result = smoke_test(target, STAGING.name, users=3, per_user=40, page_size=15)
    assert result.ok, result
    assert (result.written, result.read, result.missing, result.duplicated) == (120, 120, 0, 0)
    assert result.ordered_newest_first and result.query_pages >= 9
    assert result.cleaned_up == 120
    assert target.client("dynamodb").scan(TableName=STAGING.name, Select="COUNT")["Count"] == 0


def test_smoke_test_never_scans(target, monkeypatch):
    create_table(target, STAGING)
    client = target.client("dynamodb")
    client.meta.events.register("before-call.dynamodb.Scan", _forbid_scan)
    try:
        assert smoke_test(target, STAGING.name, users=2, per_user=5).ok
    finally:
        client.meta.events.unregister("before-call.dynamodb.Scan", _forbid_scan)


def _forbid_scan(**kwargs):
    raise AssertionError("the smoke test must not Scan")


# -- fault injection ---------------------------------------------------------------------------------------------
class _Body:
    def __init__(self, data: bytes):
        self._data = data

    def stream(self, **kwargs):
        yield self._data


class FaultInjector:
    """Botocore event hooks on one client that make DynamoDB misbehave, deterministically:

    * every ``throttle_every``-th request answers 400 ProvisionedThroughputExceededException;
    * every ``error_every``-th request answers HTTP 500;
    * every ``lost_every``-th request is applied by the emulator but answered with HTTP 500 (the SDK retries a
      write that already happened: a duplicate would show up here);
    * every ``partial_every``-th BatchWriteItem writes only part of its items and returns the rest as
      UnprocessedItems.
    """

    def __init__(self, throttle_every=97, error_every=13, lost_every=29, partial_every=5, max_throttles=3):
        self.throttle_every, self.error_every, self.lost_every = throttle_every, error_every, lost_every
        self.partial_every, self.max_throttles = partial_every, max_throttles
        self.lock = threading.Lock()
        self.sent = self.batches = 0
        self.injected = {"throttle": 0, "error": 0, "lost": 0, "partial": 0}
        self.local = threading.local()

    def install(self, client) -> None:
        events = client.meta.events
        for operation in ("BatchWriteItem", "Query"):
            events.register(f"before-send.dynamodb.{operation}", self.before_send)
        events.register("before-parameter-build.dynamodb.BatchWriteItem", self.drop_some)
        events.register("after-call.dynamodb.BatchWriteItem", self.report_unprocessed)
        self.client = client

    def uninstall(self) -> None:
        events = self.client.meta.events
        for operation in ("BatchWriteItem", "Query"):
            events.unregister(f"before-send.dynamodb.{operation}", self.before_send)
        events.unregister("before-parameter-build.dynamodb.BatchWriteItem", self.drop_some)
        events.unregister("after-call.dynamodb.BatchWriteItem", self.report_unprocessed)

    @staticmethod
    def _response(request, status: int, error_type: str, message: str) -> AWSResponse:
        body = json.dumps({"__type": f"com.amazonaws.dynamodb.v20120810#{error_type}", "message": message}).encode()
        return AWSResponse(
            request.url,
            status,
            {"Content-Type": "application/x-amz-json-1.0", "x-amzn-RequestId": "fault-injection"},
            _Body(body),
        )

    def before_send(self, request, **kwargs):
        with self.lock:
            self.sent += 1
            n = self.sent
            kind = None
            if n % self.throttle_every == 0 and self.injected["throttle"] < self.max_throttles:
                kind = "throttle"
            elif n % self.error_every == 0:
                kind = "error"
            elif n % self.lost_every == 0:
                kind = "lost"
            if kind:
                self.injected[kind] += 1
        if kind == "throttle":
            return self._response(request, 400, "ProvisionedThroughputExceededException", "injected throttle")
        if kind == "lost":
            forwarded = urllib.request.Request(
                request.url, data=request.body, method="POST", headers={k: v for k, v in request.headers.items()}
            )
            urllib.request.urlopen(forwarded, timeout=30).read()
        if kind in ("error", "lost"):
            return self._response(request, 500, "InternalServerError", f"injected {kind} error")
        return None

    def drop_some(self, params, **kwargs):
        self.local.dropped = None
        with self.lock:
            self.batches += 1
            partial = self.batches % self.partial_every == 0
        requests = {table: list(items) for table, items in params["RequestItems"].items()}
        if not partial:
            return
        table, items = next(iter(requests.items()))
        if len(items) < 2:
            return
        keep, drop = items[: len(items) // 2], items[len(items) // 2 :]
        params["RequestItems"] = {table: keep}
        self.local.dropped = (table, drop)
        with self.lock:
            self.injected["partial"] += 1

    def report_unprocessed(self, parsed, **kwargs):
        dropped = getattr(self.local, "dropped", None)
        self.local.dropped = None
        if dropped:
            table, items = dropped
            parsed.setdefault("UnprocessedItems", {}).setdefault(table, []).extend(items)


@pytest.mark.slow  # the smoke test's full traffic on the emulator, with faults
def test_smoke_test_under_injected_faults_loses_and_duplicates_nothing(target):
    create_table(target, STAGING)
    injector = FaultInjector()
    injector.install(target.client("dynamodb"))
    try:
        # 5 users × 2,000 notifications, read back in pages of 700 (3 pages per user). moto's Query costs about
        # half a millisecond per returned item, so the read-back dominates the test's time.
        result = smoke_test(
            target, STAGING.name, users=5, per_user=2000, page_size=700, base_delay=0.01, max_delay=0.2, workers=4
        )
    finally:
        injector.uninstall()
    assert result.written == 10_000
    assert result.read == 10_000
    assert result.missing == 0 and result.duplicated == 0 and result.unexpected == 0
    assert result.ordered_newest_first and result.query_pages == 15
    assert result.retries > 0 and result.sdk_retries > 0 and result.unprocessed_retries > 0
    assert all(injector.injected.values()), injector.injected
    assert result.sdk_retries >= injector.injected["error"] + injector.injected["lost"]
    assert result.cleaned_up == 10_000
    assert target.client("dynamodb").scan(TableName=STAGING.name, Select="COUNT")["Count"] == 0


def test_demo_data_is_idempotent(target):
    create_table(target, STAGING)
    first = drills.seed_demo_notifications(target, STAGING.name)
    again = drills.seed_demo_notifications(target, STAGING.name)
    assert (first.written, first.present) == (again.written, again.present) == (50, 50)
    assert target.client("dynamodb").scan(TableName=STAGING.name, Select="COUNT")["Count"] == 50
    with pytest.raises(RunbookError):
        drills.seed_demo_notifications(Target("us-east-1"), STAGING.name)


def test_restore_drill_config_calls_the_module_with_the_restore_inputs():
    config = drills.restore_drill_config(
        PRODUCTION, "production-user-notifications-restore-drill-tf-x", "production", "eu-west-1"
    )
    assert config["provider"] == {"aws": {"region": "eu-west-1"}}
    module = config["module"]["restored"]
    assert module["source"] == "../staging/modules/dynamodb" and module["environment"] == "production-drill"
    assert module["restore_source_name"] == PRODUCTION.name and module["restore_to_latest_time"] is True
    assert (module["hash_key"], module["range_key"]) == (PRODUCTION.hash_key, PRODUCTION.range_key)
    assert "deletion_protection_enabled" not in module and "alarms_enabled" not in module


def test_terraform_restore_drill_skips_without_apply_or_pitr(target, tmp_path):
    from runbook.terraform.command import Terraform
    from runbook.terraform.workspace import Workspace

    terraform = Terraform(Workspace("staging", tmp_path), target)
    skipped = drills.terraform_restore_drill(terraform, STAGING, ChangeGuard("staging", STAGING.name, False, ""))
    assert skipped.status == "skipped: pass apply=True"
    no_pitr = drills.terraform_restore_drill(terraform, STAGING, ChangeGuard("staging", STAGING.name, True, ""))
    assert no_pitr.status.startswith("skipped: point-in-time recovery is off") and not no_pitr.steps


@pytest.mark.terraform
def test_terraform_restore_drill_restores_compares_and_destroys(target, tmp_path):
    """The module's restore inputs on the emulator: terraform apply restores the source into a new table (its own
    root and local state), the item counts match, terraform destroy removes it; the source is untouched."""
    from runbook.errors import TerraformUnavailable
    from runbook.terraform.binary import find_mirror
    from runbook.terraform.command import Terraform
    from runbook.terraform.workspace import Workspace

    if find_mirror() is None:
        pytest.skip("no filesystem mirror of the AWS provider here (the drill runs terraform init)")
    create_table(target, PRODUCTION)
    _put(target, PRODUCTION.name, 12)
    terraform = Terraform(Workspace("production", tmp_path), target)
    try:
        result = drills.terraform_restore_drill(
            terraform, PRODUCTION, ChangeGuard("production", PRODUCTION.name, True, PRODUCTION.name)
        )
    except TerraformUnavailable as error:
        pytest.skip(str(error))
    assert result.ok, result
    assert result.source_items == result.restored_items == 12
    assert result.restored_table.startswith(f"{PRODUCTION.name}-restore-drill-tf-")
    assert result.destroyed and target.client("dynamodb").list_tables()["TableNames"] == [PRODUCTION.name]
    assert result.root == "infrastructure/restore-drill"
