"""Day-2 operations: alarms and metrics, TTL, streams, the backup/restore drill and the access-pattern smoke test.

* :func:`alarms_state`, :func:`metrics` — read only.
* :func:`ttl_check`, :func:`stream_check`, :func:`smoke_test` — write a few test items (recognisable keys:
  ``user_id`` starting with ``runbook-``) and delete them again.
* :func:`backup_restore_drill` — guarded by a :class:`~runbook.params.ChangeGuard`: an on-demand backup restored
  into a new table ``<table>-restore-drill-<timestamp>`` (and a PITR restore into ``…-pitr`` when PITR is on),
  item counts compared with the source, then the backup and the restored tables deleted. The source table is only
  read.

The smoke test writes with ``BatchWriteItem`` and retries ``UnprocessedItems`` with exponential backoff (the SDK's
standard retry mode handles throttling and 5xx on each request; a request that still fails is retried by the smoke
test too); it reads back per user with ``Query`` (``ScanIndexForward=False``, paginated — never ``Scan``) and checks
that every item written is read back exactly once, newest first.
"""

from __future__ import annotations

import json
import os
import random
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from typing import Any, Callable

import pandas as pd
from botocore.exceptions import ClientError

from runbook.aws.discovery import AWS_ERRORS, describe_error, error_code, table_description
from runbook.aws.metrics import frame, table_metric
from runbook.aws.target import Target
from runbook.errors import ConfirmationError, RealAwsRefused, RunbookError
from runbook.params import ChangeGuard
from runbook.spec import TableSpec
from runbook.terraform.command import Terraform
from runbook.terraform.workspace import Workspace

#: Prefix of every user id the checks write, so test items are recognisable (and removable) in any table.
TEST_USER_PREFIX = "runbook-"
BATCH_SIZE = 25
#: Errors a bulk operation retries itself once the SDK's own retries are exhausted.
RETRYABLE_CODES = {"ProvisionedThroughputExceededException", "ThrottlingException", "RequestLimitExceeded",
                   "InternalServerError", "ServiceUnavailable", "500", "502", "503", "504"}


# -- ULID-like ids ----------------------------------------------------------------------------------------------
_CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
_ulid_lock = threading.Lock()
_ulid_last = [0, 0]  # last timestamp (ms), last random part


def new_ulid(now: float | None = None) -> str:
    """A ULID (26 Crockford base32 characters: 48-bit millisecond time + 80 random bits), monotonic within this
    process: ids sort in creation order, so ``notification_id`` gives newest-first with ``ScanIndexForward=False``."""
    millis = int((time.time() if now is None else now) * 1000)
    with _ulid_lock:
        if millis <= _ulid_last[0]:
            millis = _ulid_last[0]
            randomness = _ulid_last[1] + 1
            if randomness >= 1 << 80:  # overflow within one millisecond: borrow the next one
                millis, randomness = millis + 1, random.getrandbits(79)
        else:
            randomness = random.getrandbits(79)  # leave headroom for increments within the millisecond
        _ulid_last[0], _ulid_last[1] = millis, randomness
    value = (millis << 80) | randomness
    return "".join(_CROCKFORD[(value >> shift) & 31] for shift in range(125, -1, -5))


def ulid_time(ulid: str) -> datetime:
    """The creation time encoded in a ULID."""
    value = 0
    for char in ulid:
        value = value * 32 + _CROCKFORD.index(char)
    return datetime.fromtimestamp((value >> 80) / 1000, tz=timezone.utc)


# -- bulk writes with retries -----------------------------------------------------------------------------------
@dataclass
class RetryStats:
    """Retries of a bulk operation: the SDK's (throttling, 5xx), resubmitted UnprocessedItems, failed requests
    the smoke test retried itself once the SDK gave up."""

    sdk: int = 0
    unprocessed: int = 0
    request: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    @property
    def total(self) -> int:
        return self.sdk + self.unprocessed + self.request

    def add(self, sdk: int = 0, unprocessed: int = 0, request: int = 0) -> None:
        with self._lock:
            self.sdk += sdk
            self.unprocessed += unprocessed
            self.request += request


def _backoff(attempt: int, base: float, cap: float) -> float:
    """Full-jitter exponential backoff."""
    return random.uniform(0, min(cap, base * (2 ** attempt)))


def _retrying_call(call: Callable[[], dict], stats: RetryStats, max_attempts: int, base_delay: float,
                   max_delay: float) -> dict:
    for attempt in range(max_attempts):
        try:
            response = call()
        except ClientError as error:
            retryable = error_code(error) in RETRYABLE_CODES or \
                error.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0) >= 500
            stats.add(sdk=error.response.get("ResponseMetadata", {}).get("RetryAttempts", 0))
            if not retryable or attempt == max_attempts - 1:
                raise
            stats.add(request=1)
            time.sleep(_backoff(attempt, base_delay, max_delay))
            continue
        stats.add(sdk=response.get("ResponseMetadata", {}).get("RetryAttempts", 0))
        return response
    raise AssertionError("unreachable")


def batch_write(target: Target, table_name: str, requests: list[dict], stats: RetryStats | None = None, *,
                workers: int = 4, max_attempts: int = 10, base_delay: float = 0.05,
                max_delay: float = 2.0) -> RetryStats:
    """Write ``requests`` (``{"PutRequest": …}`` / ``{"DeleteRequest": …}``) in batches of 25, concurrently,
    resubmitting ``UnprocessedItems`` with exponential backoff until none is left (or ``max_attempts``)."""
    stats = stats or RetryStats()
    dynamodb = target.client("dynamodb")
    batches = [requests[i:i + BATCH_SIZE] for i in range(0, len(requests), BATCH_SIZE)]

    def write(batch: list[dict]) -> None:
        pending = batch
        for attempt in range(max_attempts):
            response = _retrying_call(lambda: dynamodb.batch_write_item(RequestItems={table_name: pending}),
                                      stats, max_attempts, base_delay, max_delay)
            pending = (response.get("UnprocessedItems") or {}).get(table_name, [])
            if not pending:
                return
            stats.add(unprocessed=1)
            time.sleep(_backoff(attempt, base_delay, max_delay))
        raise RunbookError(f"{len(pending)} items still unprocessed after {max_attempts} attempts on {table_name}")

    if workers <= 1 or len(batches) <= 1:
        for batch in batches:
            write(batch)
    else:
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="batch-write") as pool:
            for future in [pool.submit(write, batch) for batch in batches]:
                future.result()
    return stats


def query_all(target: Target, table_name: str, hash_key: str, value: str, stats: RetryStats | None = None, *,
              newest_first: bool = True, page_size: int | None = None, max_attempts: int = 10,
              base_delay: float = 0.05, max_delay: float = 2.0) -> tuple[list[dict], int]:
    """Every item of one partition with ``Query`` (all pages). Returns ``(items, pages)``."""
    stats = stats or RetryStats()
    dynamodb = target.client("dynamodb")
    kwargs: dict[str, Any] = {
        "TableName": table_name, "KeyConditionExpression": "#k = :v", "ExpressionAttributeNames": {"#k": hash_key},
        "ExpressionAttributeValues": {":v": {"S": value}}, "ScanIndexForward": not newest_first}
    if page_size:
        kwargs["Limit"] = page_size
    items: list[dict] = []
    pages = 0
    while True:
        page = _retrying_call(lambda: dynamodb.query(**kwargs), stats, max_attempts, base_delay, max_delay)
        items.extend(page.get("Items", []))
        pages += 1
        if not page.get("LastEvaluatedKey"):
            return items, pages
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def _key_names(target: Target, table_name: str) -> tuple[str, str | None]:
    schema = target.client("dynamodb").describe_table(TableName=table_name)["Table"]["KeySchema"]
    keys = {k["KeyType"]: k["AttributeName"] for k in schema}
    return keys["HASH"], keys.get("RANGE")


def _run_id() -> str:
    return f"{datetime.now(timezone.utc):%Y%m%d%H%M%S}-{os.getpid() % 10000:04d}-{random.randrange(16**4):04x}"


# -- alarms and metrics ----------------------------------------------------------------------------------------------
def alarms_state(target: Target, spec: TableSpec):
    """The table's alarms as Terraform plans them (``spec.alarms``, from the ``aws_cloudwatch_metric_alarm``
    resources), with their live state: alarm, state, metric, threshold, reason, updated. A planned alarm that does
    not exist is listed with state ``MISSING``. Empty (``attrs['reason']`` says why) when none is planned."""
    columns = ["alarm", "state", "metric", "threshold", "reason", "updated"]
    if not spec.alarms:
        frame = pd.DataFrame(columns=columns)
        frame.attrs["reason"] = (f"Terraform plans no CloudWatch alarms for {spec.name} "
                                 "(alarms are off in this configuration: dynamodb_enable_alarms = false)")
        return frame
    names = spec.alarm_names()
    live = {a["AlarmName"]: a for page in target.client("cloudwatch").get_paginator("describe_alarms").paginate(
        AlarmNames=names) for a in page.get("MetricAlarms", [])}
    rows = []
    for wanted in spec.alarms:
        alarm = live.get(wanted.name)
        if alarm is None:
            rows.append({"alarm": wanted.name, "state": "MISSING", "metric": "+".join(wanted.metrics),
                         "threshold": wanted.threshold, "reason": "not created (terraform apply)", "updated": None})
            continue
        metric = alarm.get("MetricName") or "+".join(sorted(
            {m["MetricStat"]["Metric"]["MetricName"] for m in alarm.get("Metrics") or [] if m.get("MetricStat")}))
        rows.append({"alarm": wanted.name, "state": alarm.get("StateValue"), "metric": metric,
                     "threshold": alarm.get("Threshold"), "reason": alarm.get("StateReason", ""),
                     "updated": alarm.get("StateUpdatedTimestamp")})
    return pd.DataFrame(rows, columns=columns)


def alarm_destinations(target: Target, spec: TableSpec):
    """Where the table's alarms notify, read live: each destination of the alarms' ``AlarmActions`` and
    ``OKActions`` with how many alarms notify it on alarm and on recovery, and, for an SNS topic, whether it
    exists, its encryption key and its subscriptions (``protocol:endpoint``, pending ones marked). Alarms without
    any action are one row, destination ``(none)``. Empty (``attrs['reason']`` says why) when Terraform plans no
    alarm or none exists yet."""
    columns = ["destination", "on_alarm", "on_ok", "exists", "encryption", "subscriptions"]
    frame = pd.DataFrame(columns=columns)
    if not spec.alarms:
        frame.attrs["reason"] = f"Terraform plans no CloudWatch alarms for {spec.name} (dynamodb_enable_alarms = false)"
        return frame
    live = [a for page in target.client("cloudwatch").get_paginator("describe_alarms").paginate(
        AlarmNames=spec.alarm_names()) for a in page.get("MetricAlarms", [])]
    if not live:
        frame.attrs["reason"] = f"none of the {len(spec.alarms)} planned alarms exists yet (terraform apply)"
        return frame
    counts: dict[str, list[int]] = {}
    silent = [a["AlarmName"] for a in live if not a.get("AlarmActions") and not a.get("OKActions")]
    for alarm in live:
        for index, key in enumerate(("AlarmActions", "OKActions")):
            for arn in alarm.get(key) or []:
                counts.setdefault(arn, [0, 0])[index] += 1
    rows = []
    for arn, (on_alarm, on_ok) in sorted(counts.items()):
        row = {"destination": arn, "on_alarm": on_alarm, "on_ok": on_ok, "exists": None, "encryption": "",
               "subscriptions": ""}
        if arn.startswith("arn:") and arn.split(":")[2] == "sns":
            row.update(_topic_state(target, arn))
        rows.append(row)
    if silent:
        rows.append({"destination": "(none)", "on_alarm": len(silent), "on_ok": 0, "exists": None,
                     "encryption": "", "subscriptions": "no action: " + ", ".join(sorted(silent))})
    return pd.DataFrame(rows, columns=columns)


def _topic_state(target: Target, arn: str) -> dict:
    """An SNS topic's existence, encryption key and subscriptions."""
    sns = target.client("sns")
    try:
        attributes = sns.get_topic_attributes(TopicArn=arn)["Attributes"]
    except ClientError as error:
        return {"exists": False, "subscriptions": error.response.get("Error", {}).get("Code", str(error))}
    subscriptions = [s for page in sns.get_paginator("list_subscriptions_by_topic").paginate(TopicArn=arn)
                     for s in page.get("Subscriptions", [])]
    listed = [f"{s['Protocol']}:{s['Endpoint']}" + (" (pending confirmation)"
              if s.get("SubscriptionArn") in ("PendingConfirmation", "pending confirmation") else "")
              for s in subscriptions]
    return {"exists": True, "encryption": attributes.get("KmsMasterKeyId") or "none",
            "subscriptions": ", ".join(listed) or "none"}


#: The key table metrics: (metric, statistic, needs the Operation dimension).
KEY_METRICS = (
    ("ConsumedReadCapacityUnits", "Sum", None),
    ("ConsumedWriteCapacityUnits", "Sum", None),
    ("ReadThrottleEvents", "Sum", None),
    ("WriteThrottleEvents", "Sum", None),
    ("ThrottledRequests", "Sum", "PutItem"),
    ("SystemErrors", "Sum", "PutItem"),
    ("SuccessfulRequestLatency", "Average", "Query"),
    ("SuccessfulRequestLatency", "Average", "PutItem"),
)


def metrics(target: Target, table_name: str, hours: float = 3):
    """Key CloudWatch metrics of the table over the last ``hours``: one column per metric, one row per period.

    Empty, with ``attrs['reason']``, when CloudWatch has no data (an emulator publishes no DynamoDB metrics).
    """
    wanted = [table_metric(table_name, metric, stat, operation) for metric, stat, operation in KEY_METRICS]
    return frame(target, wanted, hours, subject=table_name)


# -- TTL ---------------------------------------------------------------------------------------------------------------
@dataclass
class TtlCheck:
    table: str
    ttl_enabled: bool
    live_attribute: str | None
    spec_attribute: str
    written: int
    expired: int
    future: int
    #: Items whose TTL is in the past and that are still in the table: eligible for deletion.
    eligible_still_present: int
    #: Expired items already gone (TTL deletes in the background: typically within days; moto never does).
    deleted_by_ttl: int
    future_present: int
    cleaned_up: int
    note: str

    @property
    def ok(self) -> bool:
        """TTL is on, on the attribute the items carry, and no unexpired item disappeared."""
        return self.ttl_enabled and self.live_attribute == self.spec_attribute and self.future_present == self.future

    def to_dict(self) -> dict:
        return {**asdict(self), "ok": self.ok}

    def to_frame(self):

        return pd.DataFrame([{"measure": k, "value": v} for k, v in self.to_dict().items()])


def ttl_check(target: Target, spec: TableSpec, count: int = 10, cleanup: bool = True) -> TtlCheck:
    """Write ``count`` test items with the spec's TTL attribute — half an hour in the past, half a day in the
    future — and report how many are expired and still present (eligible for deletion) and how many are gone."""
    table, attribute = spec.name, spec.ttl_attribute_name
    hash_key, range_key = _key_names(target, table)
    ttl = target.client("dynamodb").describe_time_to_live(TableName=table)["TimeToLiveDescription"]
    enabled = ttl.get("TimeToLiveStatus") in ("ENABLED", "ENABLING")
    live_attribute = ttl.get("AttributeName") if enabled else None
    user = f"{TEST_USER_PREFIX}ttl-{_run_id()}"
    now = int(time.time())
    expired_n = count // 2 + count % 2
    items = []
    for i in range(count):
        expires = now - 1800 - i if i < expired_n else now + 86400 + i
        item = {hash_key: {"S": user}, attribute: {"N": str(expires)},
                "message": {"S": f"ttl check {'expired' if i < expired_n else 'future'} #{i}"}}
        if range_key:
            item[range_key] = {"S": new_ulid()}
        items.append(item)
    batch_write(target, table, [{"PutRequest": {"Item": item}} for item in items], workers=1)
    present, _ = query_all(target, table, hash_key, user)
    eligible = sum(1 for it in present if int(it[attribute]["N"]) <= now)
    future_present = sum(1 for it in present if int(it[attribute]["N"]) > now)
    cleaned = 0
    if cleanup and present:
        keys = [{"DeleteRequest": {"Key": {k: it[k] for k in (hash_key, range_key) if k}}} for it in present]
        batch_write(target, table, keys, workers=1)
        cleaned = len(keys)
    if not enabled:
        note = f"TTL is off on {table}: nothing will ever expire"
    elif live_attribute != attribute:
        note = (f"TTL is on attribute {live_attribute!r} but items carry {attribute!r}: nothing expires")
    else:
        note = (f"{eligible} expired item(s) still present: DynamoDB deletes expired items in the background, "
                "typically within a few days (the guide says up to 48 hours), so reads must filter "
                f"{attribute} > now. " + ("The emulator never deletes expired items." if target.is_emulator
                                          else ""))
    return TtlCheck(table=table, ttl_enabled=enabled, live_attribute=live_attribute, spec_attribute=attribute,
                    written=count, expired=expired_n, future=count - expired_n, eligible_still_present=eligible,
                    deleted_by_ttl=expired_n - eligible, future_present=future_present, cleaned_up=cleaned,
                    note=note.strip())


# -- Streams -------------------------------------------------------------------------------------------------------
@dataclass
class StreamCheck:
    table: str
    stream_enabled: bool
    view_type: str | None
    records: int = 0
    event_names: list[str] = field(default_factory=list)
    found_write: bool = False
    seconds: float = 0.0
    note: str = ""

    @property
    def ok(self) -> bool:
        return self.stream_enabled and self.found_write

    def to_dict(self) -> dict:
        return {**asdict(self), "ok": self.ok}


def stream_check(target: Target, table_name: str, timeout: float = 20.0) -> StreamCheck:
    """Write one test item, read the table's stream until its record arrives, then delete the item (and read
    the REMOVE record too). Returns the number of records and their event names."""
    dynamodb = target.client("dynamodb")
    table = dynamodb.describe_table(TableName=table_name)["Table"]
    spec = table.get("StreamSpecification") or {}
    if not spec.get("StreamEnabled") or not table.get("LatestStreamArn"):
        return StreamCheck(table_name, False, None, note="streams are disabled on this table "
                           "(dynamodb_stream_enabled = false)")
    arn = table["LatestStreamArn"]
    streams = target.client("dynamodbstreams")
    hash_key, range_key = _key_names(target, table_name)

    def shards() -> dict[str, dict]:
        result, kwargs = {}, {"StreamArn": arn}
        while True:
            description = streams.describe_stream(**kwargs)["StreamDescription"]
            result.update({s["ShardId"]: s for s in description.get("Shards", [])})
            if not description.get("LastEvaluatedShardId"):
                return result
            kwargs["ExclusiveStartShardId"] = description["LastEvaluatedShardId"]

    # Iterators at the tip of every open shard, taken before the write.
    iterators = {sid: streams.get_shard_iterator(StreamArn=arn, ShardId=sid, ShardIteratorType="LATEST")
                 ["ShardIterator"] for sid, s in shards().items()
                 if not s.get("SequenceNumberRange", {}).get("EndingSequenceNumber")}
    user = f"{TEST_USER_PREFIX}stream-{_run_id()}"
    key = {hash_key: {"S": user}}
    if range_key:
        key[range_key] = {"S": new_ulid()}
    started = time.monotonic()
    dynamodb.put_item(TableName=table_name, Item={**key, "message": {"S": "stream check"}})
    dynamodb.delete_item(TableName=table_name, Key=key)

    ours: list[dict] = []
    deadline = started + timeout
    while time.monotonic() < deadline:
        for sid in set(shards()) - set(iterators):  # a shard opened after the write: read it from the start
            iterators[sid] = streams.get_shard_iterator(StreamArn=arn, ShardId=sid,
                                                        ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
        for sid, iterator in list(iterators.items()):
            if iterator is None:
                continue
            page = streams.get_records(ShardIterator=iterator)
            iterators[sid] = page.get("NextShardIterator")
            ours += [r for r in page.get("Records", [])
                     if r.get("dynamodb", {}).get("Keys", {}).get(hash_key) == {"S": user}]
        if {r.get("eventName") for r in ours} >= {"INSERT", "REMOVE"}:
            break
        time.sleep(0.2 if target.is_emulator else 1.0)
    names = [r.get("eventName") for r in ours]
    found = "INSERT" in names
    note = "" if found else f"no record for the test write within {timeout:g} s"
    return StreamCheck(table_name, True, spec.get("StreamViewType"), records=len(ours), event_names=names,
                       found_write=found, seconds=round(time.monotonic() - started, 3), note=note)


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
            rows.append({"table": self.backup_table, "role": "restored from on-demand backup",
                         "items": self.backup_items})
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
        if table is not None and not gone and table.get("TableStatus") == "ACTIVE" and all(
                index.get("IndexStatus", "ACTIVE") == "ACTIVE" for index in table.get("GlobalSecondaryIndexes") or []):
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
        raise ConfirmationError(f"the change guard is for table {guard.table_name!r}, the drill is on {source!r}; "
                                "nothing was changed")
    if not guard.check():
        return DrillResult(status="skipped: pass apply=True", source_table=source,
                           notes=["read-only run: no backup, no restore, nothing created"])
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
            dynamodb.restore_table_to_point_in_time(SourceTableName=source, TargetTableName=pitr_restored,
                                                    UseLatestRestorableTime=True)
            created.append(pitr_restored)
            wait_for_table(target, pitr_restored, timeout)
            result.pitr_table = pitr_restored
            result.pitr_items = count_items(target, pitr_restored)
            result.steps.append(f"restored the latest restorable time into {pitr_restored}: "
                                f"{result.pitr_items} items")
            if target.is_emulator:
                result.notes.append("the emulator's point-in-time restore copies the table's current data "
                                    "(it accepts any time); on AWS it restores the chosen second")
        else:
            result.notes.append("PITR is off on the source: no point-in-time restore "
                                "(set dynamodb_pitr_enabled = true)")
        counts = [result.backup_items] + ([result.pitr_items] if pitr_on else [])
        result.status = "ok" if all(c == result.source_items for c in counts) else "mismatch"
        if result.status == "mismatch":
            result.notes.append("restored item counts differ from the source (writes during the drill change the "
                                "source; on a quiet table this is a failed restore)")
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


# -- Access-pattern smoke test ----------------------------------------------------------------------------------------
@dataclass
class SmokeResult:
    """What the smoke test wrote and read back. ``retries`` counts every retry of the run (writes, reads and the
    clean-up): the SDK's own (``sdk_retries``: throttling, 5xx), resubmitted ``UnprocessedItems``
    (``unprocessed_retries``) and requests retried after the SDK gave up (``request_retries``)."""

    table: str
    users: int
    per_user: int
    written: int = 0
    read: int = 0
    missing: int = 0
    duplicated: int = 0
    unexpected: int = 0
    ordered_newest_first: bool = False
    retries: int = 0
    sdk_retries: int = 0
    unprocessed_retries: int = 0
    request_retries: int = 0
    query_pages: int = 0
    cleaned_up: int = 0
    write_seconds: float = 0.0
    read_seconds: float = 0.0
    user_prefix: str = ""

    @property
    def ok(self) -> bool:
        return (self.written == self.users * self.per_user and self.read == self.written and self.missing == 0
                and self.duplicated == 0 and self.unexpected == 0 and self.ordered_newest_first)

    def to_dict(self) -> dict:
        return {**asdict(self), "ok": self.ok}

    def to_frame(self):

        return pd.DataFrame([{"measure": k, "value": v} for k, v in self.to_dict().items()])


def smoke_test(target: Target, table_name: str, users: int = 3, per_user: int = 20, *, page_size: int | None = None,
               workers: int = 4, cleanup: bool = True, base_delay: float = 0.05, max_delay: float = 2.0,
               max_attempts: int = 10) -> SmokeResult:
    """Write ``users × per_user`` notifications, read each user's back newest first with Query, verify, clean up.

    User ids are ``runbook-smoke-<run>-<n>``; notification ids are ULIDs (time-sortable). Retries of every kind
    are counted in the result.
    """
    hash_key, range_key = _key_names(target, table_name)
    if range_key is None:
        raise RunbookError(f"{table_name} has no sort key: the newest-first access pattern needs one")
    prefix = f"{TEST_USER_PREFIX}smoke-{_run_id()}-"
    result = SmokeResult(table=table_name, users=users, per_user=per_user, user_prefix=prefix)
    stats = RetryStats()
    written: dict[str, list[str]] = {f"{prefix}{u:03d}": [] for u in range(users)}
    requests = []
    # Interleave users so every batch spreads over partitions; ids grow in write order.
    for n in range(per_user):
        for user, ids in written.items():
            notification_id = new_ulid()
            ids.append(notification_id)
            requests.append({"PutRequest": {"Item": {
                hash_key: {"S": user}, range_key: {"S": notification_id},
                "type": {"S": "smoke-test"}, "message": {"S": f"notification {n} for {user}"},
                "created_at": {"S": ulid_time(notification_id).isoformat()}}}})
    retry = {"max_attempts": max_attempts, "base_delay": base_delay, "max_delay": max_delay}
    started = time.monotonic()
    try:
        batch_write(target, table_name, requests, stats, workers=workers, **retry)
        result.written = len(requests)
        result.write_seconds = round(time.monotonic() - started, 3)

        started = time.monotonic()
        ordered = True
        read_back: dict[str, list[str]] = {}

        def read(user: str) -> tuple[str, list[str], int]:
            items, pages = query_all(target, table_name, hash_key, user, stats, newest_first=True,
                                     page_size=page_size, **retry)
            return user, [it[range_key]["S"] for it in items], pages

        with ThreadPoolExecutor(max_workers=max(1, workers), thread_name_prefix="smoke-read") as pool:
            for user, ids, pages in pool.map(read, written):
                read_back[user] = ids
                result.query_pages += pages
        for user, ids in written.items():
            got = read_back[user]
            result.read += len(got)
            result.duplicated += len(got) - len(set(got))
            result.missing += len(set(ids) - set(got))
            result.unexpected += len(set(got) - set(ids))
            ordered = ordered and got == sorted(ids, reverse=True)
        result.ordered_newest_first = ordered
        result.read_seconds = round(time.monotonic() - started, 3)
    finally:
        if cleanup:
            deletes = [{"DeleteRequest": {"Key": {hash_key: {"S": user}, range_key: {"S": i}}}}
                       for user, ids in written.items() for i in ids]
            batch_write(target, table_name, deletes, stats, workers=workers, **retry)
            result.cleaned_up = len(deletes)
        result.sdk_retries, result.unprocessed_retries, result.request_retries = (
            stats.sdk, stats.unprocessed, stats.request)
        result.retries = stats.total
    return result


#: Demo notifications are dated from this instant (ms since the epoch: 2025-01-01T00:00:00Z), one millisecond
#: apart: their ids are the same on every run, so seeding again rewrites the same items instead of adding more.
DEMO_EPOCH_MS = 1_735_689_600_000


def _ulid_at(millis: int, randomness: int = 0) -> str:
    value = (millis << 80) | randomness
    return "".join(_CROCKFORD[(value >> shift) & 31] for shift in range(125, -1, -5))


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
    hash_key, range_key = _key_names(target, table_name)
    prefix = demo_user_prefix()
    requests = [{"PutRequest": {"Item": {hash_key: {"S": f"{prefix}{u}"},
                                         range_key: {"S": _ulid_at(DEMO_EPOCH_MS + u * per_user + n)},
                                         "type": {"S": "like"}, "read": {"BOOL": False}}}}
                for u in range(users) for n in range(per_user)]
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
            {"name": i.name, "hash_key": i.hash_key, "range_key": i.range_key, "projection_type": i.projection_type,
             "non_key_attributes": list(i.non_key_attributes),
             **({"read_capacity": i.read_capacity, "write_capacity": i.write_capacity} if spec.provisioned else {})}
            for i in spec.global_secondary_indexes],
        "local_secondary_indexes": [{"name": i.name, "range_key": i.range_key, "projection_type": i.projection_type,
                                     "non_key_attributes": list(i.non_key_attributes)}
                                    for i in spec.local_secondary_indexes],
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
        result.status = ("skipped: point-in-time recovery is off for this table (dynamodb_pitr_enabled = false): "
                         "there is nothing to restore from")
        return result
    restored = f"{drill_table_prefix(spec.name)}tf-{_run_id()}"
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
        result.steps.append(f"terraform apply: {result.restored_table} restored from {spec.name} "
                            "(restore_to_latest_time)")
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
            result.steps.append(f"terraform destroy: {restored} removed" if result.destroyed
                                else f"terraform destroy ran, but {restored} still exists")
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
