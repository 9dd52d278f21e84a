"""Test items in any table: ULID notification ids, bulk writes and per-user queries that retry until done.

* :func:`new_ulid`, :func:`ulid_time`, :func:`ulid_at` — time-sortable ids (``notification_id`` newest first with
  ``ScanIndexForward=False``).
* :func:`batch_write` — ``BatchWriteItem`` in batches of 25, concurrently, resubmitting ``UnprocessedItems`` with
  exponential backoff (the SDK's standard retry mode handles throttling and 5xx on each request; a request that
  still fails is retried here too); :func:`query_all` — every item of one partition with ``Query``, all pages
  (never ``Scan``). Every retry is counted in a :class:`RetryStats`.
* :data:`TEST_USER_PREFIX` — every user id the checks write starts with it, so test items are recognisable.
"""

from __future__ import annotations

import os
import random
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Callable

from botocore.exceptions import ClientError

from runbook.aws.apierrors import error_code
from runbook.aws.target import Target
from runbook.errors import RunbookError

#: Prefix of every user id the checks write, so test items are recognisable (and removable) in any table.
TEST_USER_PREFIX = "runbook-"
BATCH_SIZE = 25
#: Errors a bulk operation retries itself once the SDK's own retries are exhausted.
RETRYABLE_CODES = {
    "ProvisionedThroughputExceededException",
    "ThrottlingException",
    "RequestLimitExceeded",
    "InternalServerError",
    "ServiceUnavailable",
    "500",
    "502",
    "503",
    "504",
}


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
    return ulid_at(millis, randomness)


def ulid_time(ulid: str) -> datetime:
    """The creation time encoded in a ULID."""
    value = 0
    for char in ulid:
        value = value * 32 + _CROCKFORD.index(char)
    return datetime.fromtimestamp((value >> 80) / 1000, tz=timezone.utc)


def ulid_at(millis: int, randomness: int = 0) -> str:
    """The ULID of a fixed instant and random part: the same id on every run (demo data)."""
    value = (millis << 80) | randomness
    return "".join(_CROCKFORD[(value >> shift) & 31] for shift in range(125, -1, -5))


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
    return random.uniform(0, min(cap, base * (2**attempt)))


def _retrying_call(
    call: Callable[[], dict], stats: RetryStats, max_attempts: int, base_delay: float, max_delay: float
) -> dict:
    for attempt in range(max_attempts):
        try:
            response = call()
        except ClientError as error:
            retryable = (
                error_code(error) in RETRYABLE_CODES
                or error.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0) >= 500
            )
            stats.add(sdk=error.response.get("ResponseMetadata", {}).get("RetryAttempts", 0))
            if not retryable or attempt == max_attempts - 1:
                raise
            stats.add(request=1)
            time.sleep(_backoff(attempt, base_delay, max_delay))
            continue
        stats.add(sdk=response.get("ResponseMetadata", {}).get("RetryAttempts", 0))
        return response
    raise AssertionError("unreachable")


def batch_write(
    target: Target,
    table_name: str,
    requests: list[dict],
    stats: RetryStats | None = None,
    *,
    workers: int = 4,
    max_attempts: int = 10,
    base_delay: float = 0.05,
    max_delay: float = 2.0,
) -> RetryStats:
    """Write ``requests`` (``{"PutRequest": …}`` / ``{"DeleteRequest": …}``) in batches of 25, concurrently,
    resubmitting ``UnprocessedItems`` with exponential backoff until none is left (or ``max_attempts``)."""
    stats = stats or RetryStats()
    dynamodb = target.client("dynamodb")
    batches = [requests[i : i + BATCH_SIZE] for i in range(0, len(requests), BATCH_SIZE)]

    def write(batch: list[dict]) -> None:
        pending = batch
        for attempt in range(max_attempts):
            response = _retrying_call(
                lambda: dynamodb.batch_write_item(RequestItems={table_name: pending}),
                stats,
                max_attempts,
                base_delay,
                max_delay,
            )
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


def query_all(
    target: Target,
    table_name: str,
    hash_key: str,
    value: str,
    stats: RetryStats | None = None,
    *,
    newest_first: bool = True,
    page_size: int | None = None,
    max_attempts: int = 10,
    base_delay: float = 0.05,
    max_delay: float = 2.0,
) -> tuple[list[dict], int]:
    """Every item of one partition with ``Query`` (all pages). Returns ``(items, pages)``."""
    stats = stats or RetryStats()
    dynamodb = target.client("dynamodb")
    kwargs: dict[str, Any] = {
        "TableName": table_name,
        "KeyConditionExpression": "#k = :v",
        "ExpressionAttributeNames": {"#k": hash_key},
        "ExpressionAttributeValues": {":v": {"S": value}},
        "ScanIndexForward": not newest_first,
    }
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


def key_names(target: Target, table_name: str) -> tuple[str, str | None]:
    """The table's partition and sort key names, as it describes itself (the sort key None when it has none)."""
    schema = target.client("dynamodb").describe_table(TableName=table_name)["Table"]["KeySchema"]
    keys = {k["KeyType"]: k["AttributeName"] for k in schema}
    return keys["HASH"], keys.get("RANGE")


def run_id() -> str:
    """A short id unique to this check's run (time, process, random): in test user ids and drill table names."""
    return f"{datetime.now(timezone.utc):%Y%m%d%H%M%S}-{os.getpid() % 10000:04d}-{random.randrange(16**4):04x}"
