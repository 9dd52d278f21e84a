"""Values a notebook records for tests and CI to read back from the executed notebook.

``record("drift_ok", True)`` displays a JSON output under the :data:`MIME_TYPE` mimetype. Tests read these
values from the output notebook (``read_records``) instead of scraping text. The docs site drops them.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

MIME_TYPE = "application/vnd.runbook.record+json"


def record(name: str, value: Any) -> Any:
    """Record ``value`` under ``name`` in the running notebook's outputs; returns ``value``."""
    from IPython.display import display  # noqa: PLC0415 — `runbook run` imports this module outside a kernel

    json.dumps(value)  # fail here, in the notebook, if the value is not JSON
    display({MIME_TYPE: {"name": name, "value": value}}, raw=True)
    return value


def read_records(notebook: str | Path | dict) -> dict[str, Any]:
    """Every value recorded in an executed notebook (a path or a loaded notebook), by name; later wins."""
    nb = notebook if isinstance(notebook, dict) else json.loads(Path(notebook).read_text())
    records: dict[str, Any] = {}
    for cell in nb.get("cells", []):
        for output in cell.get("outputs", []) or []:
            data = output.get("data", {})
            if MIME_TYPE in data:
                item = data[MIME_TYPE]
                records[item["name"]] = item["value"]
    return records
