"""After an interrupted apply: one diagnosis before a plan runs, and the supported way back.

An apply killed part-way (SIGKILL, a closed laptop, an evicted CI runner) leaves two things Terraform does not
clean up by itself: **the state lock** (the lock object next to the state in S3: nobody released it) and **objects
created outside the state** (AWS created them, Terraform never wrote them down). The next apply then stops on the
lock, and once that is released, fails with "already exists" for each of those objects.

:func:`diagnose` recognises that aftermath from what Terraform and the target say:

- the lock (:func:`runbook.aws.statebucket.read_lock`), judged by :mod:`runbook.terraform.stalelock`: *stale* when
  it was taken by this operator on this machine and no Terraform process using this state is alive here, or when
  it is older than :data:`~runbook.terraform.stalelock.STALE_AFTER`; otherwise it is another run's, still going (a
  concurrent run stops naming it);
- the orphans: every resource the plan **creates** (``resource_changes`` of ``terraform show -json``) that already
  exists on the target under the identifier the plan gives it (its planned ``name``, ``alarm_name``,
  ``resource_id``…), looked up with the AWS API of its type (:data:`LOOKUPS`). The names come from the plan, never
  from Python; a type without a lookup, or whose identifier is known only after apply, is left to the next plan.

One message (:attr:`Diagnosis.text`) says what was interrupted (the lock's operation, holder and time), what exists
outside the state, and the exact next step: 03-import with ``unlock_lock_id`` (the lock ID shown: a lock is never
released automatically) and ``apply=True``, which writes an ``import {}`` block for every orphan
(:func:`write_import_blocks`), shows them in the review and applies them through the gate.
"""

from __future__ import annotations

import json
import os
import shlex
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from runbook import paths
from runbook.aws.lookups import LOOKUPS
from runbook.aws.statebucket import LockInfo, read_lock
from runbook.errors import RunbookError
from runbook.terraform.stalelock import LockVerdict, judge_lock
from runbook.terraform.tfjson import PlanJson

if TYPE_CHECKING:
    from runbook.aws.target import Target
    from runbook.terraform.command import Terraform

#: The generated file with the recovery's import blocks (in the workspace's root, never the repository).
IMPORT_FILE = "runbook_recovery_import.tf"
#: The plan the diagnosis makes when the lock is held (``-lock=false -refresh=false``: reads nothing, writes nothing).
DIAGNOSIS_PLAN = "runbook_diagnosis.tfplan"
#: The notebook that recovers, and the parameter that releases the lock.
RECOVERY_NOTEBOOK = "03-import"
UNLOCK_PARAMETER = "unlock_lock_id"


# --- what exists on the target --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Orphan:
    """An object the plan would create that already exists on the target, outside the state."""

    address: str
    type: str
    identifier: str  # what it is called on the target (from the plan)
    import_id: str = ""  # what ``import { id = … }`` takes; '' when it cannot be imported
    remove_command: str = ""  # how to delete it instead (AWS CLI)
    note: str = ""

    @property
    def importable(self) -> bool:
        return bool(self.import_id)

    def describe(self) -> str:
        return f"{self.address} ({self.identifier})"


def created(plan: "PlanJson") -> list[dict]:
    """The managed resources the plan creates (not imports), with their planned values."""
    return [
        rc
        for rc in plan.resource_changes
        if rc.get("mode") == "managed" and rc["change"]["actions"] == ["create"] and not rc["change"].get("importing")
    ]


def find_orphans(target: "Target", plan: "PlanJson") -> list[Orphan]:
    """Every resource the plan creates that already exists on ``target`` under its planned identifier."""
    orphans = []
    for rc in created(plan):
        lookup = LOOKUPS.get(rc["type"])
        found = lookup(target, rc["change"].get("after") or {}) if lookup else None
        if found is not None:
            identifier, import_id, command = found
            note = "" if import_id else "several objects match: remove the extra ones (or import one by hand)"
            orphans.append(Orphan(rc["address"], rc["type"], identifier, import_id, command, note))
    return orphans


# --- the diagnosis ----------------------------------------------------------------------------------------------


class InterruptedApply(RunbookError):
    """What an interrupted apply left (a stale lock, objects outside the state) and the exact next step.
    Nothing was changed."""

    def __init__(self, diagnosis: "Diagnosis"):
        self.diagnosis = diagnosis
        super().__init__(diagnosis.text)


class LockHeld(RunbookError):
    """Another run, still going, holds the state lock: this one stops before it plans, naming it. Nothing was
    changed."""

    def __init__(self, verdict: LockVerdict, state: str):
        self.verdict = verdict
        super().__init__(
            f"{state}: {verdict.describe()}. Nothing was changed; this run stops here. Once it has "
            "finished, run again: the plan is made from the state it leaves."
        )


@dataclass
class Diagnosis:
    environment: str
    state: str  # s3://bucket/key
    lock: LockVerdict | None = None
    orphans: list[Orphan] = field(default_factory=list)
    #: ``runbook recover``'s options that name this environment's target and work directory.
    options: list[str] = field(default_factory=list)

    @property
    def found(self) -> bool:
        return bool(self.orphans) or (self.lock is not None and self.lock.stale)

    @property
    def importable(self) -> list[Orphan]:
        return [o for o in self.orphans if o.importable]

    @property
    def not_importable(self) -> list[Orphan]:
        return [o for o in self.orphans if not o.importable]

    @property
    def next_step(self) -> str:
        stale = self.lock is not None and self.lock.stale
        what = []
        if stale:
            what.append(f"releases the lock {self.lock.info.id} (only that ID)")
        if self.importable:
            what.append(
                f"writes an import {{}} block for each of the {len(self.importable)} object(s), shows them "
                "in the review and applies them through the gate"
            )
        if self.not_importable:
            what.append("lists the objects it cannot import with the command that removes them")
        command = " ".join(
            ["runbook recover", *self.options, *([f"--unlock-lock-id {self.lock.info.id}"] if stale else []), "--apply"]
        )
        notebook = f"{RECOVERY_NOTEBOOK} with " + (f"{UNLOCK_PARAMETER}={self.lock.info.id!r} and " if stale else "")
        return (
            f"{command} (or run {notebook}apply=True; in production also confirm=<table name>): it "
            f"{', then '.join(what)}; then plan again (02)"
        )

    @property
    def text(self) -> str:
        if not self.found:
            return (
                f"{self.environment}: nothing to recover (no stale lock on {self.state}, nothing the plan creates "
                "exists outside the state)"
            )
        lines = [f"An interrupted apply left {self.environment}'s state ({self.state}) behind:"]
        if self.lock is not None:
            info = self.lock.info
            lines.append(
                f"- interrupted: an {info.operation_label} by {info.who or '?'}, started "
                f"{info.created or '?'} ({info.age()} ago); its state lock {info.id or '?'} is still held, "
                f"{'stale' if self.lock.stale else 'not stale'}: {self.lock.reason}"
            )
        if self.orphans:
            lines.append(
                f"- {len(self.orphans)} object(s) the plan would create already exist outside the state: "
                + "; ".join(o.describe() for o in self.orphans)
            )
        for orphan in self.not_importable:
            lines.append(f"  - cannot import {orphan.address}: {orphan.note}; remove with: {orphan.remove_command}")
        lines.append("Next: " + self.next_step + ".")
        return "\n".join(lines)

    def to_markdown(self) -> str:
        return self.text.replace("\n- ", "\n\n- ") + "\n"

    def _repr_markdown_(self) -> str:
        return self.to_markdown()

    def to_dict(self) -> dict:
        return {
            "environment": self.environment,
            "state": self.state,
            "found": self.found,
            "lock": (
                {
                    "id": self.lock.info.id,
                    "who": self.lock.info.who,
                    "created": self.lock.info.created,
                    "operation": self.lock.info.operation_label,
                    "stale": self.lock.stale,
                    "reason": self.lock.reason,
                }
                if self.lock
                else None
            ),
            "orphans": [asdict(o) for o in self.orphans],
            "next_step": self.next_step if self.found else "",
        }


def state_name(terraform: "Terraform") -> str:
    config = terraform.backend
    return f"s3://{config.bucket}/{config.key}" if config is not None else terraform.workspace.environment


def read_lock_verdict(terraform: "Terraform") -> LockVerdict | None:
    """The lock on the workspace's state now, judged; None when it is not locked (or not an S3 backend yet)."""
    config = terraform.backend
    if config is None:
        return None
    info = read_lock(terraform.target, config)
    return judge_lock(info, config) if info is not None else None


def diagnose(
    terraform: "Terraform", plan: "PlanJson | None" = None, lock: "LockVerdict | None | bool" = True
) -> Diagnosis:
    """The lock (``True``: read now; ``None``/``False``: not looked at; or a verdict already read) and the orphans
    of ``plan`` (when given)."""
    verdict = read_lock_verdict(terraform) if lock is True else (lock or None)
    orphans = find_orphans(terraform.target, plan) if plan is not None else []
    return Diagnosis(terraform.workspace.environment, state_name(terraform), verdict, orphans, _options(terraform))


def _options(terraform: "Terraform") -> list[str]:

    environment = terraform.workspace.environment
    options = [f"--env {environment}"]
    if terraform.target.is_emulator:
        options.append(f"--endpoint-url {terraform.target.endpoint_url}")
    base = getattr(terraform.workspace, "base", None)
    if base is not None and Path(base) != paths.work_dir(environment):
        options.append(f"--work-dir {shlex.quote(str(base))}")
    return options


def diagnostic_plan(terraform: "Terraform") -> "PlanJson":
    """The plan of the configuration without the lock and without reading the live resources
    (``plan -refresh=false -lock=false``, saved beside the workspace's tfplan and removed): what it would create."""
    root = terraform.workspace.root
    try:
        terraform.plan("-refresh=false", "-lock=false", out=DIAGNOSIS_PLAN)
        return PlanJson(terraform.show_json(DIAGNOSIS_PLAN))
    finally:
        (root / DIAGNOSIS_PLAN).unlink(missing_ok=True)


def before_plan(terraform: "Terraform") -> None:
    """Before a plan that takes the lock: a stale lock stops here with the whole diagnosis
    (:class:`InterruptedApply`, orphans included). A lock another run holds while it is still going is left to
    Terraform: the plan waits up to ``-lock-timeout`` for it (then plans from the state that run left), or stops
    with :class:`~runbook.errors.StateLocked` naming that run."""
    verdict = read_lock_verdict(terraform)
    if verdict is not None and verdict.stale:
        raise InterruptedApply(diagnose(terraform, diagnostic_plan(terraform), verdict))


def after_plan(terraform: "Terraform", plan: "PlanJson") -> None:
    """After a plan: objects it would create that exist outside the state stop here (:class:`InterruptedApply`)."""
    diagnosis = diagnose(terraform, plan, lock=False)
    if diagnosis.orphans:
        raise InterruptedApply(diagnosis)


# --- the recovery -----------------------------------------------------------------------------------------------


def import_blocks(orphans: list[Orphan]) -> str:
    """``import {}`` blocks for every importable orphan (Terraform ≥ 1.5), for the workspace's root."""
    blocks = [f"import {{\n  to = {o.address}\n  id = {json.dumps(o.import_id)}\n}}\n" for o in orphans if o.importable]
    return "".join(blocks)


def write_import_blocks(terraform: "Terraform", orphans: list[Orphan]) -> str:
    text = import_blocks(orphans)
    path = terraform.workspace.root / IMPORT_FILE
    if text:
        path.write_text("# Generated by the runbook's recovery (03-import); never committed.\n" + text)
    else:
        path.unlink(missing_ok=True)
    return text


def remove_import_blocks(terraform: "Terraform") -> None:
    (terraform.workspace.root / IMPORT_FILE).unlink(missing_ok=True)


# --- the state bucket's bootstrap -------------------------------------------------------------------------------
#: What Terraform's local backend leaves beside the bootstrap's state while it holds the lock (and after a kill).
LOCAL_LOCK_INFO = ".terraform.tfstate.lock.info"


def bootstrap_left(root: Path) -> "LockInfo | None":
    """The lock info an interrupted bootstrap apply left in its directory (``root``: the bootstrap's Terraform
    working directory), when no Terraform is working there now; else None."""
    path = root / LOCAL_LOCK_INFO
    if not path.is_file():
        return None
    for entry in os.listdir("/proc") if os.path.isdir("/proc") else []:
        try:
            if entry.isdigit() and Path(os.readlink(f"/proc/{entry}/cwd")) == root:
                with open(f"/proc/{entry}/comm") as handle:
                    if handle.read().strip() in ("terraform", "tofu"):
                        return None  # a bootstrap is running
        except OSError:
            continue
    try:
        return LockInfo.from_json(json.loads(path.read_text()))
    except ValueError:
        return LockInfo(id="", info="unreadable lock info")


def recover_bootstrap(terraform: "Terraform", variables: list[str], left: "LockInfo") -> str:
    """An interrupted bootstrap: every object its plan creates that exists already (the bucket) is imported, the
    rest (versioning, encryption, public access block, the TLS policy) applied — the bootstrap's own apply, with
    ``import {}`` blocks. Returns what it says about it."""
    terraform.plan(*variables, "-refresh=false", "-lock=false", out=DIAGNOSIS_PLAN)

    try:
        plan = PlanJson(terraform.show_json(DIAGNOSIS_PLAN))
    finally:
        (terraform.workspace.root / DIAGNOSIS_PLAN).unlink(missing_ok=True)
    orphans = find_orphans(terraform.target, plan)
    write_import_blocks(terraform, orphans)
    try:
        terraform.apply(*variables)
    finally:
        remove_import_blocks(terraform)
    (terraform.workspace.root / LOCAL_LOCK_INFO).unlink(missing_ok=True)
    found = "; ".join(o.describe() for o in orphans) or "nothing outside its state"
    return (
        f"the bootstrap of the state bucket was interrupted ({left.operation_label} by {left.who or '?'} at "
        f"{left.created or '?'}, lock {left.id or '?'}); found outside its state: {found}. Imported with import "
        "{} blocks and the bootstrap applied again: the bucket has every setting it declares"
    )
