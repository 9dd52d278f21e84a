"""What runs inside the JupyterLab process that ``runbook lab`` starts (``python -m runbook.execution.labserver ...``).

- :class:`LabContentsManager`: the top-level folders named in ``$RUNBOOK_LAB_READ_ONLY`` (``infrastructure``,
  ``docs``: links to the checkout) are served read-only: listed and opened, never saved, renamed, deleted or
  checkpointed (HTTP 403 with the reason). The working copies beside them are ordinary files.
- Start-up: jsonschema imports ``rfc3987_syntax`` when it is installed, only for the ``iri`` format check, and
  that module compiles a grammar at import (about 1.3 s of CPU, half of JupyterLab's start-up here). No schema
  JupyterLab's server validates uses that format, so this process skips it. Then it is ``python -m jupyterlab``.
"""

from __future__ import annotations

import os
import sys

if __name__ == "__main__":  # before anything imports jsonschema
    sys.modules.setdefault("rfc3987_syntax", None)  # type: ignore[assignment]

from jupyter_server.services.contents.largefilemanager import AsyncLargeFileManager
from tornado import web

READ_ONLY_VARIABLE = "RUNBOOK_LAB_READ_ONLY"


def _read_only_roots() -> set[str]:
    return {name for name in os.environ.get(READ_ONLY_VARIABLE, "").split(os.pathsep) if name}


def _top(path: str) -> str:
    return path.strip("/").split("/", 1)[0]


class LabContentsManager(AsyncLargeFileManager):
    """Jupyter's file manager with some top-level folders read-only (see the module docstring)."""

    def _is_read_only(self, path: str) -> bool:
        return _top(path) in _read_only_roots()

    def _refuse(self, path: str, what: str):
        raise web.HTTPError(
            403,
            f"{_top(path)}/ is read-only in runbook lab (it is your checkout): "
            f"cannot {what} {path}; edit it in your editor and commit it as usual",
        )

    async def get(self, path, content=True, type=None, format=None, require_hash=False):
        model = await super().get(path, content=content, type=type, format=format, require_hash=require_hash)
        if self._is_read_only(path):
            model["writable"] = False
        elif model.get("type") == "directory" and isinstance(model.get("content"), list):
            for entry in model["content"]:
                if self._is_read_only(entry.get("path", "")):
                    entry["writable"] = False
        return model

    async def save(self, model, path=""):
        if self._is_read_only(path):
            self._refuse(path, "save")
        return await super().save(model, path)

    async def delete_file(self, path):
        if self._is_read_only(path) or path.strip("/") in _read_only_roots():
            self._refuse(path, "delete")
        return await super().delete_file(path)

    async def rename_file(self, old_path, new_path):
        if self._is_read_only(old_path) or self._is_read_only(new_path):
            self._refuse(old_path, "rename")
        return await super().rename_file(old_path, new_path)

    async def create_checkpoint(self, path):
        if self._is_read_only(path):
            self._refuse(path, "checkpoint")
        return await super().create_checkpoint(path)

    async def restore_checkpoint(self, checkpoint_id, path):
        if self._is_read_only(path):
            self._refuse(path, "restore")
        return await super().restore_checkpoint(checkpoint_id, path)


if __name__ == "__main__":
    from jupyterlab.labapp import main

    sys.exit(main())
