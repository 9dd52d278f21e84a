"""Terraform's machine-readable UI stream (``-json``): its messages, diagnostics and planned changes, and the
progress lines printed as a plan or an apply runs.

Terraform layer: imports the base layer only.
"""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator

from runbook.processes import die_with_parent

#: Terraform's ``-json`` messages that report a resource's progress, printed as they arrive during plan and apply.
PROGRESS_TYPES = ("refresh_start", "apply_start", "apply_progress", "apply_complete", "apply_errored")


def progress_line(line: str) -> str:
    """The human line of one of Terraform's ``-json`` progress messages ("aws_iam_role.app: Creating..."), or ''."""
    if not line.startswith("{"):
        return ""
    try:
        message = json.loads(line)
    except ValueError:
        return ""
    return str(message.get("@message", "")) if message.get("type") in PROGRESS_TYPES else ""


#: Where Terraform's progress lines go (None: this process's stdout, the notebook cell). A command whose stdout is
#: its report (``runbook drift|cost --format json``) sends them to stderr: :func:`progress_to`.
_progress_stream = None


@contextmanager
def progress_to(stream) -> Iterator[None]:
    """Within the block, print Terraform's progress lines to ``stream`` (None: stdout)."""
    global _progress_stream
    before, _progress_stream = _progress_stream, stream
    try:
        yield
    finally:
        _progress_stream = before


def run_streaming(command: list[str], cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess:
    """``subprocess.run(..., capture_output=True, text=True)`` that also prints Terraform's progress lines as they
    arrive: a plan refreshes and an apply creates resource by resource for tens of seconds."""
    with subprocess.Popen(
        command, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, preexec_fn=die_with_parent
    ) as proc:  # SIGTERM (lock released) if this process dies
        errors: list[str] = []
        reader = threading.Thread(target=lambda: errors.append(proc.stderr.read()), daemon=True)
        reader.start()
        lines = []
        for line in proc.stdout:
            lines.append(line)
            shown = progress_line(line)
            if shown:
                print(shown, file=_progress_stream or sys.stdout, flush=True)
        proc.wait()
        reader.join()
    return subprocess.CompletedProcess(command, proc.returncode, "".join(lines), "".join(errors))


def ui_messages(stdout: str) -> list[dict]:
    """Terraform's machine-readable UI stream (``-json``): one JSON object per line."""
    messages = []
    for line in stdout.splitlines():
        try:
            messages.append(json.loads(line))
        except ValueError:
            continue  # not a UI message (e.g. a provider's stray output)
    return messages


def diagnostics_text(messages: list[dict]) -> str:
    """The error diagnostics of a UI stream, as Terraform would print them: ``Error: summary: detail``."""
    lines = []
    for message in messages:
        diagnostic = message.get("diagnostic") or {}
        if message.get("type") == "diagnostic" and diagnostic.get("severity") == "error":
            detail = diagnostic.get("detail", "").strip()
            lines.append(f"Error: {diagnostic.get('summary', '')}" + (f": {detail}" if detail else ""))
    return "\n".join(lines)


def diagnostics(messages: list[dict]) -> list[dict]:
    """The ``diagnostic`` objects of a UI stream (severity, summary, detail, range, snippet), in order."""
    return [m["diagnostic"] for m in messages if m.get("type") == "diagnostic" and m.get("diagnostic")]


def plan_changes(messages: list[dict]) -> list[dict]:
    """Resource changes of a plan's UI stream: address, type, action (create/update/replace/…/import)."""
    rows = []
    for message in messages:
        if message.get("type") != "planned_change":
            continue
        change = message["change"]
        action = change["action"]
        if change.get("importing"):
            action = "import" if action == "noop" else f"import+{action}"
        elif action == "noop":
            continue
        resource = change["resource"]
        rows.append({"address": resource["addr"], "type": resource["resource_type"], "action": action})
    return rows


def plan_summary(rows: list[dict]) -> dict[str, int]:
    summary: dict[str, int] = {}
    for row in rows:
        summary[row["action"]] = summary.get(row["action"], 0) + 1
    return summary


@dataclass
class Plan:
    """What a saved plan (the workspace's ``tfplan``) will do."""

    rows: list[dict]
    has_changes: bool
    messages: list[dict] = field(default_factory=list, repr=False)

    @property
    def summary(self) -> dict[str, int]:
        return plan_summary(self.rows)
