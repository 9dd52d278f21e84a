"""The state bucket's bootstrap (``infrastructure/bootstrap``, local state in the work directory): serialised by a
lock, recorded when ``runbook run`` made it ahead of its first notebook, never run against AWS unasked.

Terraform layer, below :mod:`runbook.terraform.command`: the Terraform run itself is passed in (``run(base)`` →
the bootstrap's outputs; :func:`runbook.terraform.command.ensure_bucket` and :func:`~runbook.terraform.bootstrap`
pass the real one). Imports the base and AWS layers.
"""

from __future__ import annotations

import fcntl
import json
import os
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterator
from urllib.parse import urlparse

from runbook.aws.statebucket import bootstrap_command, bucket_exists
from runbook.aws.target import Target
from runbook.checks import Check
from runbook.processes import RUN_VARIABLE

BOOTSTRAP_DIR = "bootstrap"
#: The bootstrap's lock file in it (:func:`bootstrap_lock`), and the record of a bootstrap ``runbook run`` made
#: before its first notebook (:func:`made_ahead`).
BOOTSTRAP_LOCK = ".bootstrap.lock"
AHEAD_RECORD = "made-ahead.json"
#: The bootstrap root's Terraform run: its base directory in, its outputs out.
Run = Callable[[Path], dict]


@dataclass
class BootstrapResult:
    bucket: str
    created: bool  # False: it existed already (or was not created: see ``command``)
    detail: str
    command: str = ""  # against AWS, unasked: what to run
    outputs: dict = field(default_factory=dict)

    def as_check(self) -> Check:
        ok = self.created or not self.command
        return Check(f"state bucket {self.bucket}", ok, self.detail, "" if ok else self.command)


def ensure_bucket(target: Target, bucket: str, work_dir: Path, run: Run, *, create: bool = False) -> BootstrapResult:
    """The state bucket exists afterwards — on an emulator always, against AWS only with ``create=True``.

    Creating it means running ``infrastructure/bootstrap`` with Terraform in ``work_dir/bootstrap`` (its local
    state is kept there). Against AWS without ``create`` nothing is changed and the command to run is returned.
    Whenever it may create the bucket, a bootstrap already in flight (``runbook run`` starts one for its own
    emulator: :mod:`runbook.execution.bucket_ahead`; another environment's 01) ends first: its lock is taken before the
    bucket is looked for, so the bucket is never seen half made.
    """
    base = Path(work_dir) / BOOTSTRAP_DIR
    with bootstrap_lock(base) if target.is_emulator or create else nullcontext():
        if bucket_exists(target, bucket):
            ahead = made_ahead(base, target, bucket)
            if ahead is None:
                return BootstrapResult(bucket, False, f"exists on {target.label}")
            return _created(target, bucket, work_dir, ahead, "as this run started")
        if not target.is_emulator and not create:
            return BootstrapResult(
                bucket,
                False,
                f"does not exist on {target.label}; the runbook does not create it unasked",
                command=bootstrap_command(bucket, target.region),
            )
        return _created(target, bucket, work_dir, _bootstrap(base, run))


def _created(target: Target, bucket: str, work_dir: Path, outputs: dict, when: str = "") -> BootstrapResult:
    by = " ".join(filter(None, ["infrastructure/bootstrap", when]))
    return BootstrapResult(
        bucket,
        True,
        f"created on {target.label} by {by} (Terraform, local state in {Path(work_dir) / BOOTSTRAP_DIR})",
        outputs=outputs,
    )


@contextmanager
def bootstrap_lock(base: Path, held: int | None = None) -> Iterator[None]:
    """The bootstrap's lock in ``base`` (``runbook run --env all`` may bootstrap twice at once; ``runbook run``
    starts one ahead of its notebooks). ``held``: a descriptor of the lock file already locked (handed over by
    the process that took it); released when this ends."""
    if held is not None:
        with os.fdopen(held, "w"):
            yield
        return
    base.mkdir(parents=True, exist_ok=True)
    with open(base / BOOTSTRAP_LOCK, "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        yield


def bootstrap(
    target: Target, bucket: str, work_dir: Path, run: Run, *, held: int | None = None, ahead: bool = False
) -> dict:
    """Run ``infrastructure/bootstrap`` (init + apply) with real Terraform in ``work_dir/bootstrap``; its outputs.

    Serialised with :func:`bootstrap_lock` (``held``: already taken); the second caller finds the bucket and does
    nothing. ``ahead``: ``runbook run`` bootstraps its own emulator before its first notebook; the record it
    leaves (:data:`AHEAD_RECORD`) lets that notebook say so (:func:`made_ahead`).
    """
    base = Path(work_dir) / BOOTSTRAP_DIR
    with bootstrap_lock(base, held):
        if bucket_exists(target, bucket):
            return {"bucket": bucket}
        outputs = _bootstrap(base, run)
        if ahead:
            record = {
                "bucket": bucket,
                "endpoint_url": target.endpoint_url,
                "run": os.environ.get(RUN_VARIABLE, ""),
                "outputs": outputs,
            }
            (base / AHEAD_RECORD).write_text(json.dumps(record))
        return outputs


def _bootstrap(base: Path, run: Run) -> dict:
    """The bootstrap itself, under its lock."""
    (base / AHEAD_RECORD).unlink(missing_ok=True)  # a record of an earlier run's emulator
    return run(base)


def bootstrap_variables(target: Target, bucket: str) -> list[str]:
    """The bootstrap's ``-var`` arguments for ``bucket`` on ``target``."""
    variables = ["-var", f"bucket_name={bucket}", "-var", f"region={target.region}"]
    if target.is_emulator and urlparse(target.endpoint_url or "").scheme == "http":
        # A TLS-only policy denies every plain-HTTP request, the emulator's included.
        variables += ["-var", "require_tls=false"]
    return variables


def made_ahead(base: Path, target: Target, bucket: str) -> dict | None:
    """The outputs of the bootstrap this run made of ``bucket`` on this emulator before its first notebook, if
    it did (:data:`AHEAD_RECORD`, written by :func:`bootstrap`); else ``None``."""
    run = os.environ.get(RUN_VARIABLE, "")
    try:
        record = json.loads((base / AHEAD_RECORD).read_text())
    except (OSError, ValueError):
        return None
    if (
        not run
        or not isinstance(record, dict)
        or (record.get("bucket"), record.get("endpoint_url"), record.get("run")) != (bucket, target.endpoint_url, run)
    ):
        return None
    return record.get("outputs") or {}
