"""What ``terraform init`` recorded in a work directory: its backend, its selected workspace, a local state.

Terraform writes ``.terraform/terraform.tfstate`` (the backend it configured) and ``.terraform/environment`` (the
workspace selected) in the directory it ran in; these readers say whether that directory is initialised for a
backend config, which workspace its commands use, and refuse a local ``terraform.tfstate`` there.

Terraform layer, beside :mod:`runbook.terraform.backend` (whose :class:`~runbook.terraform.backend.BackendConfig`
it is given): imports the base layer only; :mod:`runbook.terraform.command` uses it.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import TYPE_CHECKING

from runbook.errors import ConfigurationError

if TYPE_CHECKING:  # pragma: no cover
    from runbook.terraform.backend import BackendConfig


def recorded_backend(root: Path) -> dict | None:
    """The backend ``terraform init`` last configured in ``root`` (``.terraform/terraform.tfstate``), if any."""
    try:
        return json.loads((Path(root) / ".terraform" / "terraform.tfstate").read_text()).get("backend")
    except (FileNotFoundError, ValueError):
        return None


def refuse_local_state(root: Path, config: BackendConfig) -> None:
    """A ``terraform.tfstate`` with content in ``root`` stops here: ``init`` with the backend would leave it unused,
    and the resources it records unmanaged. Moving it is the operator's decision, made with Terraform's own
    ``init -migrate-state`` after reviewing both states; the error gives that command. Nothing changes."""
    path = Path(root) / "terraform.tfstate"
    try:
        text = path.read_text()
    except FileNotFoundError:
        return
    if text.strip():
        raise ConfigurationError(
            path,
            "is a local Terraform state in the work directory; the runbook uses the S3 "
            f"backend (s3://{config.bucket}/{config.key}) and will not take it over. Move it "
            f"into the bucket with `terraform -chdir={root} init -migrate-state "
            f"{' '.join(config.init_args())}` after comparing it with the bucket's state, or "
            "move it aside if the bucket's is the right one",
        )


def selected_workspace(root: Path) -> str:
    """The Terraform workspace commands in ``root`` use: ``TF_WORKSPACE`` (Terraform commands get this process's
    environment), else ``terraform workspace select``'s."""
    try:
        selected = (root / ".terraform" / "environment").read_text().strip()
    except OSError:
        selected = ""
    return os.environ.get("TF_WORKSPACE") or selected or "default"


def initialised_for(root: Path, config) -> bool:
    """Whether ``root``'s recorded backend is ``config`` (same bucket, key and S3 endpoint)."""
    recorded = recorded_backend(root) or {}
    settings = recorded.get("config") or {}
    endpoint = (settings.get("endpoints") or {}).get("s3")
    return (
        recorded.get("type") == "s3"
        and settings.get("bucket") == config.bucket
        and settings.get("key") == config.key
        and (endpoint or None) == (config.endpoint_url or None)
    )
