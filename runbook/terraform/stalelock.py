"""Whose is a held state lock, and is it stale: the run that took it gone, or another run still going.

A lock is *stale* when it was taken by this operator on this machine and no Terraform process using this state is
alive here (:func:`terraform_alive`, from ``/proc``), or when it is older than :data:`STALE_AFTER`; otherwise it is
another run's. The lock itself is Terraform's lock object (:func:`runbook.aws.statebucket.read_lock`); the state a
process works on is the backend its directory's ``terraform init`` recorded.

Terraform layer, below :mod:`runbook.terraform.interrupted` (which judges the lock before a plan): imports the base
and AWS layers only; the backend config is passed in.
"""

from __future__ import annotations

import getpass
import json
import os
import socket
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pragma: no cover
    from runbook.aws.statebucket import LockInfo
    from runbook.terraform.backend import BackendConfig

#: A lock older than this is stale whoever holds it: no apply of this configuration takes that long.
STALE_AFTER = timedelta(hours=1)


def this_operator() -> str:
    """Who Terraform records as the lock's holder when this process runs it (``user@host``)."""
    return f"{getpass.getuser()}@{socket.gethostname()}"


def _backend_of(root: Path) -> tuple[str, str, str] | None:
    """(bucket, key, S3 endpoint) of the backend a Terraform working directory was initialised with."""
    try:
        recorded = json.loads((root / ".terraform" / "terraform.tfstate").read_text())
    except (OSError, ValueError):
        return None
    backend = recorded.get("backend") or {}
    config = backend.get("config") or {}
    endpoints = config.get("endpoints") or {}
    endpoint = (endpoints.get("s3") if isinstance(endpoints, dict) else "") or config.get("endpoint") or ""
    return (config.get("bucket") or "", config.get("key") or "", endpoint) if backend.get("type") == "s3" else None


def terraform_alive(config: "BackendConfig") -> list[int]:
    """The Terraform processes on this machine working on this state (their directory's backend: same bucket, key
    and endpoint). From ``/proc``; elsewhere nothing is found."""
    wanted = (config.bucket, config.key, config.endpoint_url or "")
    found = []
    for entry in os.listdir("/proc") if os.path.isdir("/proc") else []:
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/comm") as handle:
                name = handle.read().strip()
            if name not in ("terraform", "tofu"):
                continue
            root = Path(os.readlink(f"/proc/{entry}/cwd"))
        except OSError:
            continue
        if _backend_of(root) == wanted:
            found.append(int(entry))
    return found


@dataclass
class LockVerdict:
    info: "LockInfo"
    stale: bool
    reason: str

    def describe(self) -> str:
        info = self.info
        return (
            f"the state lock {info.id or '?'} is held by {info.who or 'an unknown holder'} since "
            f"{info.created or '?'} ({info.age()} ago) for {info.operation_label}: {self.reason}"
        )


def judge_lock(info: "LockInfo", config: "BackendConfig", now: datetime | None = None) -> LockVerdict:
    """Stale (the run that took it is gone) or held (another run, still going)."""
    created = info.created_at
    age = ((now or datetime.now(timezone.utc)) - created) if created else None
    if age is not None and age > STALE_AFTER:
        return LockVerdict(
            info,
            True,
            f"older than {_hours(STALE_AFTER)}, longer than any apply of this "
            "configuration takes: the run that took it is gone",
        )
    if info.who == this_operator():
        alive = terraform_alive(config)
        if not alive:
            return LockVerdict(
                info,
                True,
                "taken by this operator on this machine, and no Terraform process "
                "using this state is alive here: the run that took it was interrupted",
            )
        return LockVerdict(
            info,
            False,
            f"Terraform is still running on this state here (pid {', '.join(map(str, alive))}): wait for it",
        )
    return LockVerdict(
        info,
        False,
        f"another run holds it (not this operator on this machine, and younger than "
        f"{_hours(STALE_AFTER)}): wait for it, or check with its holder",
    )


def _hours(delta: timedelta) -> str:
    hours = delta.total_seconds() / 3600
    return f"{hours:g} hour" + ("s" if hours != 1 else "")
