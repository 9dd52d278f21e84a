"""Where things live: one place for every path the package uses."""

from __future__ import annotations

import os
from pathlib import Path

#: The repository root (the directory holding ``infrastructure/`` and ``notebooks/``).
#: ``RUNBOOK_ROOT`` overrides it, e.g. for a checkout used from another directory.
ROOT = Path(os.environ.get("RUNBOOK_ROOT") or Path(__file__).resolve().parent.parent).resolve()

INFRASTRUCTURE = ROOT / "infrastructure"
NOTEBOOKS = ROOT / "notebooks"
ENVIRONMENT_FILES = NOTEBOOKS / "environments"
BUILD = ROOT / "build"
RUNS = BUILD / "runs"
WORK = BUILD / "work"
DOCS = ROOT / "docs"
SITE = ROOT / "site"
DATA = Path(__file__).resolve().parent / "data"

#: The environments this configuration defines, in the order they are run.
ENVIRONMENTS = ("staging", "production")

#: The one DynamoDB module both environments use (production calls it with ``../staging/modules/dynamodb``).
MODULE_DIR = INFRASTRUCTURE / "staging" / "modules" / "dynamodb"


def environment_dir(environment: str) -> Path:
    """The Terraform root configuration of ``environment`` (``infrastructure/<env>``)."""
    return INFRASTRUCTURE / environment


def work_dir(environment: str, base: Path | None = None) -> Path:
    """The work directory of ``environment``: generated tfvars, overrides, plans, emulator state.

    ``base`` is what ``--work-dir`` means in every command (``runbook run|cost|drift``) and the notebooks'
    ``work_dir`` parameter (which ``runbook run`` passes through): the directory holding one work directory per
    environment, ``<base>/<environment>`` (default ``build/work``). The state it uses does not depend on where it
    lies (:func:`runbook.terraform.backend.state_key`).
    """
    return (base or WORK) / environment


def runs_dir(environment: str, base: Path | None = None) -> Path:
    """Where ``runbook run`` writes the executed notebooks of ``environment``."""
    return (base or RUNS) / environment
