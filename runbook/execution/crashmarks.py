"""After a crash: the notebooks a ``runbook run`` killed outright left half-written, marked as such by the next
run, with what that run found left behind (:mod:`runbook.execution.runner` calls these before and while it runs the
notebooks).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

from runbook.execution.record import read_records

if TYPE_CHECKING:
    from runbook.execution.runner import NotebookResult

#: The banner cell :func:`mark_interrupted` puts at the top of a notebook a killed run left half-written.
INTERRUPTED_CELL = "runbook-interrupted"


def mark_interrupted(output_dir: Path) -> list[Path]:
    """Mark the notebooks a run killed outright (SIGKILL, a power cut: nothing could write their end) left in
    ``output_dir``: papermill started them (``metadata.papermill.start_time``) and never wrote their ``end_time``.
    Each gets an "Interrupted" banner naming the cell that was running and ``metadata.runbook.status =
    "interrupted"``; returns them (:func:`add_left_behind` adds what the next run found)."""
    marked = []
    for path in sorted(output_dir.glob("*.ipynb")):
        try:
            nb = json.loads(path.read_text())
        except (OSError, ValueError):
            continue
        meta = nb.setdefault("metadata", {})
        state = meta.get("papermill") or {}
        if not state.get("start_time") or state.get("end_time") or (meta.get("runbook") or {}).get("status"):
            continue
        cells = nb.get("cells", [])
        status = [((c.get("metadata") or {}).get("papermill") or {}).get("status") for c in cells]
        running = next((i for i, s in enumerate(status) if s == "running"), None)
        done = [i for i, s in enumerate(status) if s == "completed"]
        if running is not None:
            where = f"while cell {running} was running (`{_first_source_line(cells[running])}`)"
        elif done:  # killed between two cells: papermill writes the notebook before and after each
            where = (
                f"after cell {done[-1]} (`{_first_source_line(cells[done[-1]])}`) had finished, in a later cell "
                "(the notebook was last saved then)"
            )
        else:
            where = "before any of its cells had finished"
        text = (
            f"**Interrupted.** This run of the notebook stopped {where} and never finished: it was killed "
            f"outright (nothing recorded its end), so no cell after that one ran. Resources an apply had created "
            f"by then exist on the target but not in Terraform's state; the next run's diagnosis names them "
            f"below once it has run (01-setup's 'interrupted apply' check, or 02/03)."
        )
        cells.insert(
            0,
            {"cell_type": "markdown", "id": INTERRUPTED_CELL, "metadata": {"tags": [INTERRUPTED_CELL]}, "source": text},
        )
        meta["runbook"] = {"status": "interrupted", "interrupted_at_cell": running}
        path.write_text(json.dumps(nb, indent=1))
        marked.append(path)
    return marked


def _first_source_line(cell: dict) -> str:
    source = cell.get("source", "")
    source = "".join(source) if isinstance(source, list) else source
    return next((line.strip() for line in source.splitlines() if line.strip()), "")[:80]


def left_behind(result: "NotebookResult") -> str:
    """What an interrupted apply left, as this run's notebook found it: 01's failed 'interrupted apply' check, or
    the diagnosis 02/03 stopped with ('' when it found nothing)."""
    if result.error.startswith("InterruptedApply"):
        return result.error.split(": ", 1)[-1]
    if not result.output or not Path(result.output).is_file():
        return ""
    try:
        checks = read_records(result.output).get("checks") or []
    except (OSError, ValueError):
        return ""
    return next((c.get("detail", "") for c in checks if c.get("name") == "interrupted apply" and not c.get("ok")), "")


def add_left_behind(path: Path, found: str) -> None:
    """Add what the next run found to the banner of a notebook :func:`mark_interrupted` marked."""
    nb = json.loads(path.read_text())
    for cell in nb.get("cells", []):
        if cell.get("id") == INTERRUPTED_CELL:
            source = cell["source"] if isinstance(cell["source"], str) else "".join(cell["source"])
            cell["source"] = source + "\n\nFound by the next run:\n\n```text\n" + found.strip() + "\n```"
    nb["metadata"].setdefault("runbook", {})["left_behind"] = found
    path.write_text(json.dumps(nb, indent=1))
