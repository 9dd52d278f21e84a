"""The process tree, read from ``/proc`` (Linux), and the watchdog that stops it when its command dies hard.

Standard library only, with no import of the package: the watchdog runs this file as a script, isolated
(``python -I -S proctree.py --watch PID``; started by :func:`runbook.processes.supervise`). It follows ``PID``'s
descendants; if ``PID`` dies without saying goodbye (SIGKILL), it sends SIGTERM to every descendant it saw, then
SIGKILL to what is left. Elsewhere than Linux the tree functions return nothing.
"""

from __future__ import annotations

import os
import select
import signal
import sys
import time
from typing import Iterable

SIGNALS = tuple(s for s in (signal.SIGINT, signal.SIGTERM, getattr(signal, "SIGHUP", None)) if s is not None)
#: Seconds the watchdog waits after SIGTERM before SIGKILL, when the parent died hard.
WATCHDOG_GRACE = 3.0
#: Seconds between two looks of the watchdog at the tree.
TICK = 0.5


def children(pid: int) -> list[int]:
    """Direct children of ``pid`` (every thread's), from ``/proc``."""
    found: list[int] = []
    try:
        tasks = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return found
    for task in tasks:
        try:
            with open(f"/proc/{pid}/task/{task}/children") as handle:
                found += [int(p) for p in handle.read().split()]
        except OSError:
            continue
    return found


def descendants(pid: int, exclude: Iterable[int] = ()) -> list[int]:
    """Every process below ``pid`` (breadth first), skipping ``exclude`` and their subtrees."""
    skip, result, queue = set(exclude), [], [pid]
    while queue:
        for child in children(queue.pop(0)):
            if child not in skip and child not in result:
                result.append(child)
                queue.append(child)
    return result


def start_time(pid: int) -> int | None:
    """The kernel's start time of ``pid`` (clock ticks since boot): tells a process from a reused pid."""
    try:
        with open(f"/proc/{pid}/stat") as handle:
            stat = handle.read()
    except OSError:
        return None
    fields = stat.rsplit(")", 1)[1].split()
    return int(fields[19]) if fields[0] != "Z" else None  # a zombie has finished


def alive(pid: int, started: int | None = None) -> bool:
    """Whether ``pid`` runs (not a zombie), and is the same process as when ``started`` was read."""
    now = start_time(pid)
    return now is not None and (started is None or now == started)


def snapshot(pids: Iterable[int]) -> dict[int, int]:
    return {pid: t for pid in pids if (t := start_time(pid)) is not None}


def session_of(pid: int) -> int | None:
    try:
        return os.getsid(pid)
    except OSError:
        return None


def session_members(sessions: Iterable[int]) -> list[int]:
    """Every process in one of ``sessions`` (from ``/proc``): what a child started in its own session left
    behind, even once it was re-parented."""
    wanted, found = set(sessions), []
    for entry in os.listdir("/proc") if wanted and os.path.isdir("/proc") else []:
        if entry.isdigit() and session_of(int(entry)) in wanted:
            found.append(int(entry))
    return found


def send(processes: dict[int, int], sig: int) -> None:
    """Send ``sig`` to each process of a :func:`snapshot` that is still the same process."""
    for pid, started in processes.items():
        if alive(pid, started):
            try:
                os.kill(pid, sig)
            except (ProcessLookupError, PermissionError):
                pass


def wait_gone(processes: dict[int, int], timeout: float) -> dict[int, int]:
    """Wait until every process of the snapshot has exited; returns those still alive at ``timeout``."""
    deadline = time.monotonic() + timeout
    while True:
        left = {pid: t for pid, t in processes.items() if alive(pid, t)}
        if not left or time.monotonic() >= deadline:
            return left
        time.sleep(0.05)


def terminate(processes: dict[int, int], sig: int = signal.SIGTERM, timeout: float = 3.0) -> None:
    """``sig``, up to ``timeout`` seconds, then SIGKILL to the rest."""
    send(processes, sig)
    left = wait_gone(processes, timeout)
    if left:
        send(left, signal.SIGKILL)
        wait_gone(left, 2.0)


# -- the watchdog ---------------------------------------------------------------------------------------------
#: What the parent writes to the watchdog's pipe on its way out: leave everything alone, or stop what is left.
BYE, SWEEP = b"bye\n", b"sweep\n"


def _watch(parent: int) -> int:
    """The watchdog's loop: follow ``parent``'s descendants; when its pipe closes without ``bye`` (the parent died,
    or said ``sweep``), stop them — the parent itself excepted."""
    for sig in SIGNALS:  # the parent stops us (bye), or its death does
        signal.signal(sig, signal.SIG_IGN)
    me = os.getpid()
    shared = {session_of(parent), session_of(me)}  # the sessions we share with the caller are never swept
    seen: dict[int, int] = {}
    sessions: set[int] = set()  # the sessions the parent's children run in (a kernel and what it starts)
    received = b""
    while True:
        if alive(parent):
            seen.update(snapshot(descendants(parent, exclude=[me])))
            seen = {p: t for p, t in seen.items() if alive(p, t)}
            sessions |= {sid for p in seen if (sid := session_of(p)) is not None} - shared
        ready, _, _ = select.select([sys.stdin.buffer], [], [], TICK)
        if ready:
            chunk = os.read(sys.stdin.fileno(), 64)
            if chunk:
                received += chunk
                continue
            if BYE.strip() in received:
                return 0
            break
    # the parent died (or ends, asking for a sweep): its orphans and leftovers (and what they started since,
    # re-parented or not) get SIGTERM, then SIGKILL
    if alive(parent):
        seen.update(snapshot(descendants(parent, exclude=[me])))
    for pid in list(seen):
        seen.update(snapshot(descendants(pid, exclude=[me])))
    seen.update(snapshot(p for p in session_members(sessions) if p != me))
    seen.pop(parent, None)
    terminate(seen, signal.SIGTERM, WATCHDOG_GRACE)
    return 0


if __name__ == "__main__" and len(sys.argv) == 3 and sys.argv[1] == "--watch":
    sys.exit(_watch(int(sys.argv[2])))
