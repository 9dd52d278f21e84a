"""Day-2 operations: alarms and metrics, TTL, streams — the checks 06 runs on the live table.

* :func:`alarms_state`, :func:`alarm_destinations`, :func:`metrics` — read only.
* :func:`ttl_check`, :func:`stream_check` — write a few test items (recognisable keys: ``user_id`` starting with
  ``runbook-``, :mod:`.writes`) and delete them again.

The backup/restore drills are in :mod:`.drills`, the access-pattern smoke test in :mod:`.smoketest`.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field

import pandas as pd
from botocore.exceptions import ClientError

from runbook.aws.metrics import frame, table_metric
from runbook.aws.target import Target
from runbook.spec import TableSpec
from runbook.steps.writes import TEST_USER_PREFIX, batch_write, key_names, new_ulid, query_all, run_id


# -- alarms and metrics ----------------------------------------------------------------------------------------------
def alarms_state(target: Target, spec: TableSpec):
    """The table's alarms as Terraform plans them (``spec.alarms``, from the ``aws_cloudwatch_metric_alarm``
    resources), with their live state: alarm, state, metric, threshold, reason, updated. A planned alarm that does
    not exist is listed with state ``MISSING``. Empty (``attrs['reason']`` says why) when none is planned."""
    columns = ["alarm", "state", "metric", "threshold", "reason", "updated"]
    if not spec.alarms:
        frame = pd.DataFrame(columns=columns)
        frame.attrs["reason"] = (
            f"Terraform plans no CloudWatch alarms for {spec.name} "
            "(alarms are off in this configuration: dynamodb_enable_alarms = false)"
        )
        return frame
    names = spec.alarm_names()
    live = {
        a["AlarmName"]: a
        for page in target.client("cloudwatch").get_paginator("describe_alarms").paginate(AlarmNames=names)
        for a in page.get("MetricAlarms", [])
    }
    rows = []
    for wanted in spec.alarms:
        alarm = live.get(wanted.name)
        if alarm is None:
            rows.append(
                {
                    "alarm": wanted.name,
                    "state": "MISSING",
                    "metric": "+".join(wanted.metrics),
                    "threshold": wanted.threshold,
                    "reason": "not created (terraform apply)",
                    "updated": None,
                }
            )
            continue
        metric = alarm.get("MetricName") or "+".join(
            sorted({m["MetricStat"]["Metric"]["MetricName"] for m in alarm.get("Metrics") or [] if m.get("MetricStat")})
        )
        rows.append(
            {
                "alarm": wanted.name,
                "state": alarm.get("StateValue"),
                "metric": metric,
                "threshold": alarm.get("Threshold"),
                "reason": alarm.get("StateReason", ""),
                "updated": alarm.get("StateUpdatedTimestamp"),
            }
        )
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
    live = [
        a
        for page in target.client("cloudwatch").get_paginator("describe_alarms").paginate(AlarmNames=spec.alarm_names())
        for a in page.get("MetricAlarms", [])
    ]
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
        row = {
            "destination": arn,
            "on_alarm": on_alarm,
            "on_ok": on_ok,
            "exists": None,
            "encryption": "",
            "subscriptions": "",
        }
        if arn.startswith("arn:") and arn.split(":")[2] == "sns":
            row.update(_topic_state(target, arn))
        rows.append(row)
    if silent:
        rows.append(
            {
                "destination": "(none)",
                "on_alarm": len(silent),
                "on_ok": 0,
                "exists": None,
                "encryption": "",
                "subscriptions": "no action: " + ", ".join(sorted(silent)),
            }
        )
    return pd.DataFrame(rows, columns=columns)


def _topic_state(target: Target, arn: str) -> dict:
    """An SNS topic's existence, encryption key and subscriptions."""
    sns = target.client("sns")
    try:
        attributes = sns.get_topic_attributes(TopicArn=arn)["Attributes"]
    except ClientError as error:
        return {"exists": False, "subscriptions": error.response.get("Error", {}).get("Code", str(error))}
    subscriptions = [
        s
        for page in sns.get_paginator("list_subscriptions_by_topic").paginate(TopicArn=arn)
        for s in page.get("Subscriptions", [])
    ]
    listed = [
        f"{s['Protocol']}:{s['Endpoint']}"
        + (
            " (pending confirmation)"
            if s.get("SubscriptionArn") in ("PendingConfirmation", "pending confirmation")
            else ""
        )
        for s in subscriptions
    ]
    return {
        "exists": True,
        "encryption": attributes.get("KmsMasterKeyId") or "none",
        "subscriptions": ", ".join(listed) or "none",
    }


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
    hash_key, range_key = key_names(target, table)
    ttl = target.client("dynamodb").describe_time_to_live(TableName=table)["TimeToLiveDescription"]
    enabled = ttl.get("TimeToLiveStatus") in ("ENABLED", "ENABLING")
    live_attribute = ttl.get("AttributeName") if enabled else None
    user = f"{TEST_USER_PREFIX}ttl-{run_id()}"
    now = int(time.time())
    expired_n = count // 2 + count % 2
    items = []
    for i in range(count):
        expires = now - 1800 - i if i < expired_n else now + 86400 + i
        item = {
            hash_key: {"S": user},
            attribute: {"N": str(expires)},
            "message": {"S": f"ttl check {'expired' if i < expired_n else 'future'} #{i}"},
        }
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
        note = f"TTL is on attribute {live_attribute!r} but items carry {attribute!r}: nothing expires"
    else:
        note = (
            f"{eligible} expired item(s) still present: DynamoDB deletes expired items in the background, "
            "typically within a few days (the guide says up to 48 hours), so reads must filter "
            f"{attribute} > now. " + ("The emulator never deletes expired items." if target.is_emulator else "")
        )
    return TtlCheck(
        table=table,
        ttl_enabled=enabled,
        live_attribute=live_attribute,
        spec_attribute=attribute,
        written=count,
        expired=expired_n,
        future=count - expired_n,
        eligible_still_present=eligible,
        deleted_by_ttl=expired_n - eligible,
        future_present=future_present,
        cleaned_up=cleaned,
        note=note.strip(),
    )


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
        return StreamCheck(
            table_name, False, None, note="streams are disabled on this table (dynamodb_stream_enabled = false)"
        )
    arn = table["LatestStreamArn"]
    streams = target.client("dynamodbstreams")
    hash_key, range_key = key_names(target, table_name)

    def shards() -> dict[str, dict]:
        result, kwargs = {}, {"StreamArn": arn}
        while True:
            description = streams.describe_stream(**kwargs)["StreamDescription"]
            result.update({s["ShardId"]: s for s in description.get("Shards", [])})
            if not description.get("LastEvaluatedShardId"):
                return result
            kwargs["ExclusiveStartShardId"] = description["LastEvaluatedShardId"]

    # Iterators at the tip of every open shard, taken before the write.
    iterators = {
        sid: streams.get_shard_iterator(StreamArn=arn, ShardId=sid, ShardIteratorType="LATEST")["ShardIterator"]
        for sid, s in shards().items()
        if not s.get("SequenceNumberRange", {}).get("EndingSequenceNumber")
    }
    user = f"{TEST_USER_PREFIX}stream-{run_id()}"
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
            iterators[sid] = streams.get_shard_iterator(StreamArn=arn, ShardId=sid, ShardIteratorType="TRIM_HORIZON")[
                "ShardIterator"
            ]
        for sid, iterator in list(iterators.items()):
            if iterator is None:
                continue
            page = streams.get_records(ShardIterator=iterator)
            iterators[sid] = page.get("NextShardIterator")
            ours += [
                r for r in page.get("Records", []) if r.get("dynamodb", {}).get("Keys", {}).get(hash_key) == {"S": user}
            ]
        if {r.get("eventName") for r in ours} >= {"INSERT", "REMOVE"}:
            break
        time.sleep(0.2 if target.is_emulator else 1.0)
    names = [r.get("eventName") for r in ours]
    found = "INSERT" in names
    note = "" if found else f"no record for the test write within {timeout:g} s"
    return StreamCheck(
        table_name,
        True,
        spec.get("StreamViewType"),
        records=len(ours),
        event_names=names,
        found_write=found,
        seconds=round(time.monotonic() - started, 3),
        note=note,
    )
