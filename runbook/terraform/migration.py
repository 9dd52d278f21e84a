"""Legacy: a local ``terraform.tfstate`` from the earlier, local-state version, moved into the S3 backend once by
``terraform init -migrate-state`` (:meth:`runbook.terraform.command.Terraform.init`).

Terraform layer: imports the base and AWS layers; the workspace's ``Terraform`` is passed in.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING

from runbook.aws.statebucket import remote_state
from runbook.errors import ConfigurationError, TerraformError

if TYPE_CHECKING:  # pragma: no cover
    from runbook.terraform.backend import BackendConfig
    from runbook.terraform.command import Terraform


@dataclass
class Migration:
    """A local ``terraform.tfstate`` moved into the backend by ``terraform init -migrate-state``."""

    source: Path
    backup: Path
    destination: str
    resources: int
    serial: int
    lineage: str

    @property
    def message(self) -> str:
        return (f"Moved the local state {self.source} ({self.resources} resources, serial {self.serial}) into the "
                f"backend at {self.destination} with `terraform init -migrate-state`; a copy of the old file is kept "
                f"at {self.backup}.")


def local_state(root: Path) -> dict | None:
    """The local state a root holds from before the backend (``terraform.tfstate`` with content), or None."""
    path = Path(root) / "terraform.tfstate"
    try:
        text = path.read_text()
    except FileNotFoundError:
        return None
    if not text.strip():
        return None
    try:
        state = json.loads(text)
    except ValueError:
        raise ConfigurationError(path, "is not a Terraform state (not JSON); move it aside before init") from None
    return state


def check_migration(terraform: "Terraform", config: BackendConfig, state: dict) -> None:
    """Refuse to migrate onto a non-empty state in the backend: force-copy would overwrite it. Nothing changes."""
    existing = remote_state(terraform.target, config)
    if existing and existing.get("resources"):
        if existing.get("resources") == state.get("resources"):
            return  # the same state, already moved (e.g. a migration interrupted before the local file was renamed)
        source = terraform.workspace.root / "terraform.tfstate"
        raise ConfigurationError(source, f"a local state ({len(state.get('resources', []))} resources) and a "
                                 f"different state in the backend (s3://{config.bucket}/{config.key}, "
                                 f"{len(existing['resources'])} resources) both exist: the runbook will not overwrite "
                                 "either. Decide which is right: keep the backend's (move this file aside) or push "
                                 "this one (`terraform state push` after reviewing both)")


def finish_migration(terraform: "Terraform", config: BackendConfig, state: dict) -> Migration:
    """After ``init -migrate-state``: check the backend holds the state, then retire the local file (kept as a copy)."""
    root = terraform.workspace.root
    moved = remote_state(terraform.target, config)
    # Terraform gives the copy a new lineage and serial; the resources must be the same, every attribute.
    if not moved or moved.get("resources") != state.get("resources") or moved.get("outputs") != state.get("outputs"):
        raise TerraformError(["init", "-migrate-state"], 0, f"the state in s3://{config.bucket}/{config.key} does not "
                             f"match {root / 'terraform.tfstate'} after the migration; the local file is left as it "
                             "was")
    stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    backup = root / f"terraform.tfstate.pre-backend-{stamp}"
    source = root / "terraform.tfstate"
    backup.write_text(json.dumps(state, indent=2) + "\n")  # Terraform empties terraform.tfstate
    if source.is_file():
        source.unlink()
    return Migration(source, backup, f"s3://{config.bucket}/{config.key}", len(state.get("resources", [])),
                     int(state.get("serial", 0)), state.get("lineage", ""))
