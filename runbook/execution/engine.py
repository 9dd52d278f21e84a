"""The papermill engine ``runbook run`` executes notebooks with: papermill's own (nbclient), writing the output
notebook at most once per :data:`SAVE_INTERVAL` while the notebook runs.

papermill writes the whole output notebook, serialised and checked against the notebook schema, before and after
every cell, markdown cells too: 2-6 ms a write for these runbooks, about 0.8 s of a staging run, all of it between
cells. Here a write that comes less than :data:`SAVE_INTERVAL` after the last one is skipped. Nothing else changes:

- papermill writes the notebook when it starts, and again when it ends, fails or is interrupted (its final writes
  are not throttled), so the executed notebook is the same;
- while a long cell runs (a Terraform apply), the notebook on disk is at most :data:`SAVE_INTERVAL` behind the
  cells run before it, and papermill still writes the cell's output every 30 s (its ``autosave_cell_every``).
"""

from __future__ import annotations

import time

from papermill.engines import NBClientEngine, papermill_engines

#: The name :func:`papermill.execute_notebook` is given (``engine_name``).
NAME = "runbook"
#: Seconds between two writes of the output notebook while it runs.
SAVE_INTERVAL = 1.0


class ThrottledSaves(NBClientEngine):
    """papermill's nbclient engine; the per-cell writes of the output notebook at most once per SAVE_INTERVAL."""

    @classmethod
    def execute_managed_notebook(cls, nb_man, kernel_name, **kwargs):
        save = nb_man.save
        nb_man.save = _throttled(save, SAVE_INTERVAL)  # the instance's, for this run only
        try:
            return super().execute_managed_notebook(nb_man, kernel_name, **kwargs)
        finally:
            del nb_man.save  # papermill's notebook_complete, which runs next, writes the final notebook


def _throttled(save, interval: float):
    last = time.monotonic()  # papermill's notebook_start has just written the notebook

    def throttled(**kwargs):
        nonlocal last
        if time.monotonic() - last >= interval:
            save(**kwargs)
            last = time.monotonic()

    return throttled


papermill_engines.register(NAME, ThrottledSaves)
