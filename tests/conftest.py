"""Shared fixtures: one embedded emulator per test session, and a clean target per test.

``emulator`` — a started :class:`runbook.aws.emulator.Emulator` (moto on 127.0.0.1, a free port), for the session.
``target`` — a :class:`runbook.aws.target.Target` on that emulator (region us-east-1), after wiping every resource the
emulator holds, so each test starts from an empty account.

A reset is complete only when nothing else still talks to the emulator: a Terraform that an earlier test's kernel
started, stopping on its own after the kernel was shut down, finishes its operations in flight and would create
resources in the next test's empty account ("EntityAlreadyExists: Role … already exists" in that test's apply).
So ``target`` first waits for every other process connected to the emulator to exit (stopping it after
:data:`STRAGGLER_GRACE` seconds), names them in a warning, and only then resets.
"""

from __future__ import annotations

import os
import time
import warnings
from urllib.parse import urlparse

import psutil
import pytest

from runbook.aws.emulator import Emulator
from runbook.aws.target import Target

#: Seconds an earlier test's process may take to finish on its own (Terraform completing what is in flight).
STRAGGLER_GRACE = 60.0


@pytest.fixture(scope="session")
def emulator():
    emu = Emulator().start()
    try:
        yield emu
    finally:
        emu.stop()


def _clients(port: int) -> list[psutil.Process]:
    """Other processes with a connection to the emulator's port (this process's own clients excluded)."""
    pids = {c.pid for c in psutil.net_connections(kind="tcp")
            if c.raddr and c.raddr.port == port and c.pid and c.pid != os.getpid()}
    processes = []
    for pid in sorted(pids):
        try:
            processes.append(psutil.Process(pid))
        except psutil.NoSuchProcess:
            pass
    return processes


def _describe(process: psutil.Process) -> str:
    try:
        return f"pid {process.pid} {' '.join(process.cmdline())[:160]} (cwd {process.cwd()})"
    except psutil.Error:
        return f"pid {process.pid}"


def wait_for_stragglers(port: int, grace: float = STRAGGLER_GRACE) -> list[str]:
    """Wait until no other process talks to the emulator; stop those still there after ``grace`` seconds.

    Returns a description of each process found (empty when there was none)."""
    found = _clients(port)
    if not found:
        return []
    described = [_describe(p) for p in found]
    _, alive = psutil.wait_procs(found, timeout=grace)
    for process in alive:
        for member in [*process.children(recursive=True), process]:
            try:
                member.kill()
            except psutil.Error:
                pass
    psutil.wait_procs(alive, timeout=5)
    time.sleep(0.2)  # the emulator finishes the request it was serving
    return described


@pytest.fixture
def target(emulator) -> Target:
    stragglers = wait_for_stragglers(urlparse(emulator.endpoint_url).port)
    if stragglers:
        warnings.warn("still talking to the emulator before this test's reset (waited for, then reset): "
                      + "; ".join(stragglers), stacklevel=1)
    emulator.reset()
    return Target(region="us-east-1", endpoint_url=emulator.endpoint_url)
