"""Shared fixtures: one embedded emulator per test session, and a clean target per test.

``emulator`` — a started :class:`runbook.emulator.Emulator` (moto on 127.0.0.1, a free port), for the session.
``target`` — a :class:`runbook.aws.Target` on that emulator (region us-east-1), after wiping every resource the
emulator holds, so each test starts from an empty account.
"""

from __future__ import annotations

import pytest

from runbook.aws import Target
from runbook.emulator import Emulator


@pytest.fixture(scope="session")
def emulator():
    emu = Emulator().start()
    try:
        yield emu
    finally:
        emu.stop()


@pytest.fixture
def target(emulator) -> Target:
    emulator.reset()
    return Target(region="us-east-1", endpoint_url=emulator.endpoint_url)
