"""The access-pattern smoke test: write ``users × per_user`` notifications, read each user's back newest first.

Writes with ``BatchWriteItem`` and retries ``UnprocessedItems`` with exponential backoff (:func:`.writes.batch_write`:
the SDK's standard retry mode handles throttling and 5xx on each request; a request that still fails is retried too);
reads back per user with ``Query`` (``ScanIndexForward=False``, paginated — never ``Scan``) and checks that every
item written is read back exactly once, newest first; then deletes what it wrote.
"""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass

import pandas as pd

from runbook.aws.target import Target
from runbook.errors import RunbookError
from runbook.steps.writes import (
    TEST_USER_PREFIX,
    RetryStats,
    batch_write,
    key_names,
    new_ulid,
    query_all,
    run_id,
    ulid_time,
)


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
        return (
            self.written == self.users * self.per_user
            and self.read == self.written
            and self.missing == 0
            and self.duplicated == 0
            and self.unexpected == 0
            and self.ordered_newest_first
        )

    def to_dict(self) -> dict:
        return {**asdict(self), "ok": self.ok}

    def to_frame(self):

        return pd.DataFrame([{"measure": k, "value": v} for k, v in self.to_dict().items()])


def smoke_test(
    target: Target,
    table_name: str,
    users: int = 3,
    per_user: int = 20,
    *,
    page_size: int | None = None,
    workers: int = 4,
    cleanup: bool = True,
    base_delay: float = 0.05,
    max_delay: float = 2.0,
    max_attempts: int = 10,
) -> SmokeResult:
    """Write ``users × per_user`` notifications, read each user's back newest first with Query, verify, clean up.

    User ids are ``runbook-smoke-<run>-<n>``; notification ids are ULIDs (time-sortable). Retries of every kind
    are counted in the result.
    """
    hash_key, range_key = key_names(target, table_name)
    if range_key is None:
        raise RunbookError(f"{table_name} has no sort key: the newest-first access pattern needs one")
    prefix = f"{TEST_USER_PREFIX}smoke-{run_id()}-"
    result = SmokeResult(table=table_name, users=users, per_user=per_user, user_prefix=prefix)
    stats = RetryStats()
    written: dict[str, list[str]] = {f"{prefix}{u:03d}": [] for u in range(users)}
    requests = []
    # Interleave users so every batch spreads over partitions; ids grow in write order.
    for n in range(per_user):
        for user, ids in written.items():
            notification_id = new_ulid()
            ids.append(notification_id)
            requests.append(
                {
                    "PutRequest": {
                        "Item": {
                            hash_key: {"S": user},
                            range_key: {"S": notification_id},
                            "type": {"S": "smoke-test"},
                            "message": {"S": f"notification {n} for {user}"},
                            "created_at": {"S": ulid_time(notification_id).isoformat()},
                        }
                    }
                }
            )
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
            items, pages = query_all(
                target, table_name, hash_key, user, stats, newest_first=True, page_size=page_size, **retry
            )
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
            deletes = [
                {"DeleteRequest": {"Key": {hash_key: {"S": user}, range_key: {"S": i}}}}
                for user, ids in written.items()
                for i in ids
            ]
            batch_write(target, table_name, deletes, stats, workers=workers, **retry)
            result.cleaned_up = len(deletes)
        result.sdk_retries, result.unprocessed_retries, result.request_retries = (
            stats.sdk,
            stats.unprocessed,
            stats.request,
        )
        result.retries = stats.total
    return result
