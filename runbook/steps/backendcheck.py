"""01's checks of the S3 backend: its config, its bucket (bootstrapped on an emulator), the bucket's settings,
whether its lock holds.

Steps layer: imports the base, AWS and Terraform layers.
"""

from __future__ import annotations

from pathlib import Path

from runbook.aws.statebucket import check_bucket, probe_conditional_writes
from runbook.aws.target import Target
from runbook.checks import Check
from runbook.errors import ConfigurationError
from runbook.terraform.backend import BackendConfig, resolve
from runbook.terraform.command import ensure_bucket
from runbook.terraform.workspace import Workspace


def preflight_checks(
    workspace: "Workspace",
    target: Target,
    *,
    create_bucket: bool = False,
    key: str | None = None,
    path: str | Path | None = None,
    binary=None,
) -> list[Check]:
    """01's backend checks: the backend config, the bucket (bootstrapped on an emulator), its properties, the lock.

    Against AWS the bucket is created only with ``create_bucket=True``; otherwise a missing bucket is a failed
    check whose fix is the bootstrap command. Never raises for a bad backend config: it becomes a failed check.
    """
    checks, config = bucket_checks(workspace, target, create_bucket=create_bucket, key=key, path=path, binary=binary)
    return checks + (settings_checks(target, config) if config is not None else [])


def bucket_checks(
    workspace: "Workspace",
    target: Target,
    *,
    create_bucket: bool = False,
    key: str | None = None,
    path: str | Path | None = None,
    binary=None,
) -> tuple[list[Check], BackendConfig | None]:
    """:func:`preflight_checks`' first part: the backend config and the bucket (bootstrapped on an emulator). Also
    returns the config once the bucket exists (``terraform init`` can run), else ``None``."""
    try:
        config = resolve(workspace, target, key=key, path=path, check_bucket_exists=False)
    except ConfigurationError as error:
        return [
            Check(
                "backend config",
                False,
                str(error),
                f"edit {error.path}" + (f" line {error.line}" if error.line else ""),
            )
        ], None
    checks = [Check("backend config", True, config.describe())]
    try:
        ensured = ensure_bucket(target, config.bucket, workspace.base.parent, create=create_bucket, binary=binary)
    except Exception as error:  # credentials, permissions, Terraform: report, do not guess
        return checks + [
            Check(
                f"state bucket {config.bucket}",
                False,
                f"{type(error).__name__}: {error}",
                "check the credentials and the bucket name",
            )
        ], None
    checks.append(ensured.as_check())  # created now, already there, or (AWS, unasked) the command to create it
    return checks, (None if ensured.command else config)


def settings_checks(target: Target, config: BackendConfig) -> list[Check]:
    """:func:`preflight_checks`' second part, on a bucket that exists: its settings, and whether the lock holds.
    Safe beside ``terraform init`` and ``plan``: its probe objects are keys of their own."""
    return check_bucket(target, config.bucket, config.region) + [
        probe_conditional_writes(target, config.bucket, config.endpoint_url, prefix=config.key + ".")
    ]
