"""Shared fixtures: one embedded emulator per test session, and a clean target per test.

``emulator`` — a started :class:`runbook.aws.emulator.Emulator` (moto on 127.0.0.1, a free port), for the session.
``target`` — a :class:`runbook.aws.target.Target` on that emulator (region us-east-1), after wiping every resource the
emulator holds, so each test starts from an empty account.

A reset is complete only when nothing else still talks to the emulator: a Terraform that an earlier test's kernel
started, stopping on its own after the kernel was shut down, finishes its operations in flight and would create
resources in the next test's empty account ("EntityAlreadyExists: Role … already exists" in that test's apply).
So ``target`` first waits for every other process connected to the emulator to exit (stopping it after
:data:`STRAGGLER_GRACE` seconds), names them in a warning, and only then resets.

The default run (plain ``pytest``) leaves out the tests marked as slow (:data:`SLOW_MARKERS`, pyproject's
``addopts``); so that it stays fast, a test without one of those markers whose call or set-up takes longer than
the ini option ``unmarked_test_seconds`` (pyproject: 5) fails, naming the markers to use. On an oversubscribed
machine (1-minute load above the cores) the limit grows with the load per core (:func:`allowed_seconds`).
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

#: The markers of the tests the default run leaves out (pyproject registers them, each with what it is for).
SLOW_MARKERS = ("notebooks", "terraform", "browser", "slow")

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
    pids = {
        c.pid
        for c in psutil.net_connections(kind="tcp")
        if c.raddr and c.raddr.port == port and c.pid and c.pid != os.getpid()
    }
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
        warnings.warn(
            "still talking to the emulator before this test's reset (waited for, then reset): " + "; ".join(stragglers),
            stacklevel=1,
        )
    emulator.reset()
    return Target(region="us-east-1", endpoint_url=emulator.endpoint_url)


def pytest_addoption(parser):
    parser.addini(
        "unmarked_test_seconds",
        "a test without a slow-test marker whose call or set-up takes longer "
        "than this (seconds, on a machine that is not oversubscribed) fails",
        default="5",
    )
    parser.addini(
        "unmarked_test_load_scaling",
        "scale unmarked_test_seconds by the load per core when the machine is oversubscribed",
        type="bool",
        default=True,
    )


def allowed_seconds(limit: float, load: float, cpus: int) -> float:
    """``limit`` on a machine with a core for every runnable process; on an oversubscribed one (1-minute load
    above the cores) a test's wall time stretches with the queue, and so does the limit: a test is judged by what
    it costs, not by what else the machine is running."""
    return limit * max(1.0, load / max(cpus, 1))


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """Fail a test without a slow-test marker whose call, or whose set-up (its fixtures: an expensive fixture
    would slow the default run as much), took longer than ``unmarked_test_seconds``."""
    outcome = yield
    report = outcome.get_result()
    limit = base = float(item.config.getini("unmarked_test_seconds"))
    if item.config.getini("unmarked_test_load_scaling"):
        limit = allowed_seconds(base, os.getloadavg()[0], os.cpu_count() or 1)
    if call.when not in ("setup", "call") or not report.passed or call.duration <= limit:
        return
    if any(item.get_closest_marker(name) for name in SLOW_MARKERS):
        return
    registered = dict(line.split(":", 1) for line in item.config.getini("markers") if ":" in line)
    markers = "\n".join(f"  @pytest.mark.{name}:{registered.get(name, '')}" for name in SLOW_MARKERS)
    phase = "its set-up (fixtures)" if call.when == "setup" else "its call"
    report.outcome = "failed"
    allowed = f"{limit:.1f} s ({base:g} s scaled by the machine's load)" if limit > base else f"{base:g} s"
    report.longrepr = (
        f"{item.nodeid}: {phase} took {call.duration:.1f} s, more than {allowed}, without a "
        f"slow-test marker: the default run (plain pytest) must stay fast. Make it faster, or mark it "
        f"(the test, its class or its module's pytestmark) with the one that fits:\n{markers}"
    )


def pytest_collection_modifyitems(config, items):
    """Run the modules with the longest tests first: those with notebook or browser tests (fixtures that run every
    runbook), then Terraform's, then the other slow ones, then the unit tests, each module's tests together and in
    order. With ``-n``, xdist hands tests out in this order, so the short ones fill the workers' last minutes
    instead of one worker finishing a long test alone."""
    ranks = {name: rank for rank, name in enumerate(("notebooks", "browser", "terraform", "slow"))}
    by_module: dict = {}
    for item in items:
        marked = [ranks[m.name] for m in item.iter_markers() if m.name in ranks]
        by_module[item.path] = min([by_module.get(item.path, len(ranks)), *marked])
    items.sort(key=lambda item: by_module[item.path])
