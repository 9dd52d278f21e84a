"""One result of a setup check (01's checklist): what was checked, whether it passed, what was seen, the fix.

Base layer: imports nothing from the package. Made by the checks of every layer (the state bucket's in
:mod:`runbook.aws.statebucket`, the target's in :mod:`runbook.steps.targetcheck`, the rest in
:mod:`runbook.steps.preflight`) and shown by 01.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass


@dataclass
class Check:
    name: str
    ok: bool
    detail: str
    fix: str = ""

    def as_row(self) -> dict:
        return asdict(self)
