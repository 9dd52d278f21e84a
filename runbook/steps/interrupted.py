"""03's way back after an interrupted apply: the lock released only with its ID, an ``import {}`` block for every
object created outside the state, planned, reviewed and applied through the gate.

The diagnosis (what the interruption left: the lock, the orphans) is :mod:`runbook.terraform.interrupted`'s, which
every plan consults. Steps layer: imports the base, AWS and Terraform layers and the other steps.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Callable

from runbook import params
from runbook.errors import RunbookError
from runbook.steps import deploy
from runbook.terraform.interrupted import (
    UNLOCK_PARAMETER,
    Diagnosis,
    InterruptedApply,
    LockHeld,
    Orphan,
    diagnose,
    diagnostic_plan,
    read_lock_verdict,
    remove_import_blocks,
    state_name,
    write_import_blocks,
)
from runbook.terraform.lock import force_unlock

if TYPE_CHECKING:  # pragma: no cover
    from runbook.terraform.command import Terraform


class WrongLockId(RunbookError):
    """The lock ID passed is not the current lock's: nothing was released."""


def release_lock(terraform: "Terraform", lock_id: str) -> str:
    """Release the state lock, only when ``lock_id`` is the ID of the lock held now (``terraform force-unlock``);
    returns what was done. A different ID: :class:`WrongLockId`, nothing released."""
    verdict = read_lock_verdict(terraform)
    if verdict is None:
        raise WrongLockId(
            f"{UNLOCK_PARAMETER}={lock_id!r}: {state_name(terraform)} is not locked now; nothing was released"
        )
    if verdict.info.id != lock_id:
        raise WrongLockId(
            f"{UNLOCK_PARAMETER}={lock_id!r} is not the current lock's ID {verdict.info.id!r} (held by "
            f"{verdict.info.who or '?'} since {verdict.info.created or '?'} for "
            f"{verdict.info.operation_label}); nothing was released"
        )
    force_unlock(terraform, lock_id)
    return (
        f"released the lock {lock_id} held by {verdict.info.who or '?'} since {verdict.info.created or '?'} for "
        f"{verdict.info.operation_label} ({verdict.reason})"
    )


#: How many plans a recovery makes at most: an object whose identifier the plan knows only once another is
#: imported (a policy attachment: the policy's ARN) is found by the plan that imports that other one.
ROUNDS = 3


@dataclass
class Recovery:
    diagnosis: Diagnosis
    released: str = ""
    #: One entry per import round: the review's summary and whether the gate applied it.
    rounds: list[dict] = field(default_factory=list)
    left: list[Orphan] = field(default_factory=list)

    @property
    def nothing_to_recover(self) -> bool:
        return not self.diagnosis.found and not self.released

    def to_dict(self) -> dict:
        return {
            "diagnosis": self.diagnosis.to_dict(),
            "released": self.released,
            "rounds": self.rounds,
            "left": [asdict(o) for o in self.left],
            "nothing_to_recover": self.nothing_to_recover,
        }


def recover(
    context,
    unlock_lock_id: str = "",
    apply: bool = False,
    confirm: str = "",
    allow_destroy: tuple[str, ...] = (),
    show: Callable[[object], None] = print,
) -> Recovery:
    """03's recovery: the diagnosis (lock + orphans, from a plan without the lock); the lock released only when
    ``unlock_lock_id`` is its ID; an ``import {}`` block for every importable orphan, planned, reviewed and applied
    through the gate (``apply``, ``confirm``, ``allow_destroy`` as in 02); the rest listed with its removal command.

    Nothing to recover: says so and changes nothing. A stale lock without its ID: :class:`InterruptedApply` (the
    message has the ID to pass). An ID that is not the current lock's: :class:`WrongLockId`, nothing released.
    """
    terraform = context.terraform
    unlock_lock_id = params.lock_id(unlock_lock_id, UNLOCK_PARAMETER)
    verdict = read_lock_verdict(terraform)
    diagnosis = diagnose(terraform, diagnostic_plan(terraform), verdict)
    if diagnosis.found:
        show(diagnosis.to_markdown())
    result = Recovery(diagnosis)
    if verdict is not None:
        if not unlock_lock_id:
            if verdict.stale:
                raise InterruptedApply(diagnosis)
            raise LockHeld(verdict, diagnosis.state)
        result.released = release_lock(terraform, unlock_lock_id)
        show(result.released)
    elif unlock_lock_id:
        show(f"{diagnosis.state} is not locked: nothing to release ({UNLOCK_PARAMETER}={unlock_lock_id!r} ignored)")
    orphans = list(diagnosis.orphans)
    for _ in range(ROUNDS):
        if not any(o.importable for o in orphans):
            break
        show(f"```hcl\n{write_import_blocks(terraform, orphans)}```")
        try:
            reviewed = deploy.plan_and_review(context)
        except InterruptedApply as more:  # the plan with the imports knows more identifiers: more objects found
            known = {o.address for o in orphans}
            new = [o for o in more.diagnosis.orphans if o.address not in known]
            remove_import_blocks(terraform)
            if not any(o.importable for o in new):
                raise
            orphans += new
            continue
        try:
            show(reviewed.review.to_markdown())
            decision = deploy.gate_and_apply(context, reviewed, apply, confirm, allow_destroy)
            result.rounds.append(
                {
                    "summary": reviewed.review.summary,
                    "plan_sha256": reviewed.sha256,
                    "applied": decision.allowed,
                    "imported": [o.address for o in orphans if o.importable],
                }
            )
        finally:
            remove_import_blocks(terraform)
        break
    result.left = [o for o in orphans if not o.importable]
    for orphan in result.left:
        show(
            f"cannot import {orphan.address} ({orphan.identifier}): {orphan.note}; remove it with: "
            f"{orphan.remove_command}"
        )
    if result.nothing_to_recover:
        show(diagnosis.text)  # "<environment>: nothing to recover (…)"
    return result
