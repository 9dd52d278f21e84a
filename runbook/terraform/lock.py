"""A held state lock, as Terraform reports it: the typed error, the holder, the ``force-unlock`` command.

Terraform layer, below :mod:`runbook.terraform.invocation` (whose ``run`` raises :func:`lock_error`): imports the base
and AWS layers and :mod:`runbook.terraform.stream`; the workspace's ``Terraform`` is passed in.
"""

from __future__ import annotations

import re
import shlex
from typing import TYPE_CHECKING

from runbook.aws.statebucket import LockInfo, read_lock
from runbook.aws.target import DUMMY_CREDENTIALS
from runbook.errors import StateLocked
from runbook.terraform.stream import ui_messages

if TYPE_CHECKING:  # pragma: no cover
    from runbook.terraform.command import Terraform

#: Terraform's words when it cannot take the state lock (the one place they are written).
LOCK_ERROR = "Error acquiring the state lock"


_LOCK_FIELDS = {
    "ID": "id",
    "Path": "path",
    "Operation": "operation",
    "Who": "who",
    "Version": "version",
    "Created": "created",
    "Info": "info",
}


def parse_lock_info(text: str) -> LockInfo | None:
    """The "Lock Info:" block of Terraform's "Error acquiring the state lock" (plain or ``-json`` output)."""
    texts = [text]
    for message in ui_messages(text):
        diagnostic = message.get("diagnostic") or {}
        texts.append(diagnostic.get("detail", ""))
    for candidate in texts:
        if "Lock Info:" not in candidate:
            continue
        block = candidate.split("Lock Info:", 1)[1]
        found: dict[str, str] = {}
        for line in block.splitlines():
            match = re.match(r"^\s*(ID|Path|Operation|Who|Version|Created|Info):[ \t]*(.*)$", line)
            if match:
                found.setdefault(_LOCK_FIELDS[match.group(1)], match.group(2).strip())
            elif found and not line.strip():
                break
        if found.get("id"):
            return LockInfo(**found)
    return None


def force_unlock_command(terraform: "Terraform", lock_id: str) -> str:
    """The exact command that releases the lock, for the operator to run once the holder is known to be gone."""
    prefix = ""
    if terraform.target.is_emulator:
        prefix = " ".join(f"{k}={v}" for k, v in DUMMY_CREDENTIALS.items()) + " "
    return (
        f"{prefix}terraform -chdir={shlex.quote(str(terraform.workspace.root))} force-unlock -force "
        f"{shlex.quote(lock_id)}"
    )


def lock_error(terraform: "Terraform", text: str, args: list[str] | None = None) -> StateLocked:
    """The typed error for a failed lock: holder, since when, operation (Terraform's lock info, else the object)."""
    info = parse_lock_info(text)
    config = terraform.backend
    if (info is None or not info.who) and config is not None:
        try:
            info = read_lock(terraform.target, config) or info
        except Exception:
            pass
    info = info or LockInfo(id="")
    state = info.path or (f"{config.bucket}/{config.key}" if config else terraform.workspace.environment)
    command = force_unlock_command(terraform, info.id) if info.id else ""
    return StateLocked(
        lock_id=info.id,
        who=info.who,
        created=info.created,
        operation=info.operation_label,
        state=state,
        age=info.age(),
        version=info.version,
        command=command,
        command_args=list(args or []),
    )


def force_unlock(terraform: "Terraform", lock_id: str):
    """Run ``terraform force-unlock -force ID`` in the workspace (what :func:`force_unlock_command` prints)."""
    return terraform.run("force-unlock", "-force", lock_id)
