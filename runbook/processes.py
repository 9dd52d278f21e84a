"""One shutdown path for every long-running command (``runbook lab``, ``docs --serve``, ``emulator``, ``run``).

SIGINT, SIGTERM and SIGHUP are handled alike: the first one asks the command to stop (its wait loop sees
:func:`requested`; ``runbook run`` interrupts the notebook that is running); the command stops every child it
started and exits with ``128 + signal`` (130, 143, 129). A second signal during shutdown forces it: every
descendant is killed and the process exits at once. A shutdown that hangs is forced the same way after
:data:`FORCE_AFTER` seconds.

Order matters for Terraform: a child that does work for a kernel (``terraform`` started by a notebook cell) gets
SIGINT (for SIGINT) or SIGTERM first and up to :data:`GRACE` seconds to finish on its own, so Terraform releases
its state lock itself; only then is the kernel interrupted and stopped.

Children are started in their own session (a terminal's Ctrl-C reaches only the parent, which stops them once,
in order) with :func:`die_with_parent` (Linux ``PR_SET_PDEATHSIG``). A watchdog process (:mod:`runbook.proctree`,
started by :func:`supervise`) follows the parent's process tree; if the parent dies without saying goodbye
(SIGKILL), it sends SIGTERM to every descendant it saw, then SIGKILL to what is left.

Every exit is a normal one (``SystemExit``, raised in the main thread): a forced stop kills the descendants first,
so what the way out waits for (a kernel, Terraform) is gone.

This module uses only the standard library and ``/proc`` (Linux; read, never written); elsewhere the tree
functions return nothing and the watchdog is not started.
"""

from __future__ import annotations

import ctypes
import os
import signal
import subprocess
import sys
import threading
from _thread import interrupt_main
from contextlib import contextmanager
from typing import Callable, Iterable, Iterator

from runbook import proctree
from runbook.proctree import (
    BYE,
    SIGNALS,
    SWEEP,
    WATCHDOG_GRACE,
    children,
    descendants,
    send,
    snapshot,
    terminate,
    wait_gone,
)

#: Seconds a kernel's child (Terraform) gets to stop on its own before its kernel is interrupted. Terraform
#: interrupted during an apply first finishes the resource operations in flight (the AWS provider's waits), then
#: writes the state and releases its lock: that can take tens of seconds, and a second signal skips the wait.
GRACE = float(os.environ.get("RUNBOOK_STOP_GRACE", "60"))
#: Seconds the main thread has, once the stop callbacks ran, to notice the stop before it is interrupted.
ACKNOWLEDGE_WITHIN = 5.0
#: Seconds after that when a shutdown that has not finished is forced (every descendant killed, exit).
FORCE_AFTER = GRACE + 20.0
#: Set by ``runbook run`` for its kernels and environments: one id per run (``runbook.planning``: 02 takes over
#: the plan 01 made in the same run).
RUN_VARIABLE = "RUNBOOK_RUN_ID"


class Interrupted(KeyboardInterrupt):
    """Raised in the main thread when a stop must not wait any longer (a KeyboardInterrupt, so code that
    cleans up on Ctrl-C cleans up on it too)."""

    def __init__(self, signum: int):
        super().__init__(signal.Signals(signum).name)
        self.signum = signum


def exit_status(signum: int) -> int:
    """The conventional status of a command stopped by ``signum``: 130 SIGINT, 143 SIGTERM, 129 SIGHUP."""
    return 128 + int(signum)


def signal_name(signum: int) -> str:
    return signal.Signals(signum).name


def forwarded_signal(signum: int) -> int:
    """What a child gets for ``signum``: SIGINT for SIGINT, else SIGTERM (Terraform stops cleanly on both)."""
    return signal.SIGINT if signum == signal.SIGINT else signal.SIGTERM


# -- stopping a kernel's workers -----------------------------------------------------------------------------
def stop_workers_of(parents: Iterable[int], signum: int, timeout: float = GRACE, exclude: Iterable[int] = ()) -> None:
    """Give the children of each of ``parents`` (a kernel's ``terraform``) the forwarded signal and wait up to
    ``timeout`` seconds for them to exit: they stop on their own (Terraform releases its state lock)."""
    skip = set(exclude)
    workers = snapshot(c for parent in parents for c in children(parent) if c not in skip)
    if workers:
        send(workers, forwarded_signal(signum))
        if wait_gone(workers, min(timeout, 1.0)):
            names = ", ".join(sorted({_name(pid) for pid in workers}))
            print(
                f"waiting up to {timeout:.0f}s for {names} to stop on its own (Terraform finishes what is in "
                "flight and releases its state lock); signal again to force",
                file=sys.stderr,
                flush=True,
            )
            wait_gone(workers, timeout)


def _name(pid: int) -> str:
    try:
        with open(f"/proc/{pid}/comm") as handle:
            return handle.read().strip()
    except OSError:
        return str(pid)


# -- children we start ----------------------------------------------------------------------------------------
def _load_prctl():
    if not sys.platform.startswith("linux"):
        return None
    try:
        return ctypes.CDLL(None, use_errno=True).prctl  # looked up before any fork
    except (OSError, AttributeError):
        return None


_PRCTL = _load_prctl()
PR_SET_PDEATHSIG = 1


def die_with_parent(sig: int = signal.SIGTERM) -> None:
    """In a child (``preexec_fn``): get ``sig`` when the parent dies (Linux); if it already has, the child is not
    started (the exception is ``Popen``'s to report)."""
    parent = os.getppid()
    if _PRCTL is not None:
        _PRCTL(PR_SET_PDEATHSIG, int(sig))
    if os.getppid() != parent:  # the parent died between fork and prctl
        raise ChildProcessError("the parent exited before its child started")


def popen(command: list[str], **kwargs) -> subprocess.Popen:
    """``subprocess.Popen`` in a new session that dies with us; tracked by the current :class:`Supervisor`."""
    kwargs.setdefault("start_new_session", True)
    kwargs.setdefault("preexec_fn", die_with_parent)
    process = subprocess.Popen(command, **kwargs)
    if _current is not None:
        _current.track(process.pid)
    return process


def stop_process(process: subprocess.Popen, signum: int = signal.SIGTERM, timeout: float = 5.0) -> None:
    """Stop a child started by :func:`popen` and everything below it: ``signum`` to its process group, up to
    ``timeout`` seconds, then SIGKILL; then SIGTERM (and SIGKILL) to any descendant left, in whatever session."""
    tree = snapshot([process.pid, *descendants(process.pid)])
    for sig, wait in ((signum, timeout), (signal.SIGKILL, 5.0)):
        if process.poll() is not None:
            break
        try:
            os.killpg(process.pid, sig)
        except (ProcessLookupError, PermissionError):
            break
        try:
            process.wait(timeout=wait)
        except subprocess.TimeoutExpired:
            pass
    left = wait_gone({p: t for p, t in tree.items() if p != process.pid}, 1.0)
    terminate(left, signal.SIGTERM, 1.0)
    if _current is not None:
        _current.untrack(process.pid)


# -- the supervisor -------------------------------------------------------------------------------------------
class Supervisor:
    """Signal handling for one long-running command; see the module docstring. Use :func:`supervise`."""

    def __init__(self, force_after: float = FORCE_AFTER, watchdog: bool = True, sweep: bool = False):
        self.signum: int | None = None
        self.event = threading.Event()
        self.force_after = force_after
        self._callbacks: list[Callable[[int], None]] = []
        self._tracked: set[int] = set()
        self._previous: dict[int, object] = {}
        self._finished = threading.Event()
        self._acknowledged = threading.Event()
        self._escalating = False
        self._forced: int | None = None  # the exit status of a forced stop, once its descendants are killed
        self._watchdog: subprocess.Popen | None = None
        self._want_watchdog = watchdog
        #: On the way out, the watchdog stops whatever the command started that is still running (a failed run
        #: stops everything it started, as a signalled one does).
        self._sweep = sweep

    # what commands call
    @property
    def requested(self) -> bool:
        return self.event.is_set()

    def wait(self, timeout: float | None = None) -> bool:
        """Sleep up to ``timeout`` seconds, waking when a stop is requested; returns :attr:`requested` (and a
        True return acknowledges the request: the caller is stopping)."""
        if self.event.wait(timeout):
            self.acknowledge()
            return True
        return False

    def check(self) -> None:
        """Raise :class:`Interrupted` if a stop was requested (for start-up loops)."""
        if self.signum is not None:
            self.acknowledge()
            raise Interrupted(self.signum)

    @property
    def watchdog_pid(self) -> int | None:
        return self._watchdog.pid if self._watchdog is not None else None

    @contextmanager
    def on_stop(self, callback: Callable[[int], None]) -> Iterator[None]:
        """Run ``callback(signum)`` (in a helper thread) when a stop is requested while inside the block."""
        self._callbacks.append(callback)
        if self.signum is not None:
            threading.Thread(target=callback, args=(self.signum,), daemon=True).start()
        try:
            yield
        finally:
            self._callbacks.remove(callback)

    def track(self, pid: int) -> None:
        self._tracked.add(pid)

    def untrack(self, pid: int) -> None:
        self._tracked.discard(pid)

    # machinery
    def install(self) -> "Supervisor":
        if threading.current_thread() is threading.main_thread():
            for sig in SIGNALS:
                self._previous[sig] = signal.signal(sig, self._handle)
        if self._want_watchdog:
            self._watchdog = _start_watchdog()
        return self

    def uninstall(self) -> None:
        self._finished.set()
        for sig, handler in self._previous.items():
            signal.signal(sig, handler)
        self._previous.clear()
        if self._watchdog is not None:
            try:
                self._watchdog.stdin.write(SWEEP if self._sweep else BYE)
                self._watchdog.stdin.close()
            except OSError:
                pass
            try:
                self._watchdog.wait(timeout=WATCHDOG_GRACE + 5 if self._sweep else 2)
            except subprocess.TimeoutExpired:
                self._watchdog.kill()
            self._watchdog = None

    def _handle(self, signum, frame) -> None:
        if self._forced is not None:  # a forced stop (see force): the main thread leaves now
            raise SystemExit(self._forced)
        if self._escalating:  # our own nudge (see _stop): the main thread must stop waiting now
            self._escalating = False
            self.acknowledge()
            raise Interrupted(self.signum or signum)
        if self.signum is not None:
            self.force(signum)
        self.signum = signum
        self.event.set()
        print(f"\n{signal_name(signum)} received: stopping (again to force) ...", file=sys.stderr, flush=True)
        threading.Thread(target=self._stop, name="runbook-stop", daemon=True).start()

    def _stop(self) -> None:
        signum = self.signum
        for callback in list(reversed(self._callbacks)):
            try:
                callback(signum)
            except Exception as error:  # a callback must not keep the others from running
                print(f"while stopping: {type(error).__name__}: {error}", file=sys.stderr, flush=True)
        if not self._acknowledged.wait(ACKNOWLEDGE_WITHIN) and not self._finished.is_set():
            self._escalating = True  # the main thread did not notice (a call that does not return): interrupt it
            self._interrupt_main(signum)
        if not self._finished.wait(self.force_after):
            self.force(signum)

    def acknowledge(self) -> None:
        """The main thread has seen the stop request and is stopping (no need to interrupt it)."""
        self._acknowledged.set()

    def _interrupt_main(self, signum: int) -> None:
        """Run :meth:`_handle` in the main thread now, as a signal would."""
        interrupt_main(signal.SIGINT if signal.SIGINT in self._previous else signum)

    def force(self, signum: int) -> None:
        """Kill every descendant now, then leave with the conventional status: ``SystemExit`` in the main thread
        (raised here, or by :meth:`_handle` once this interrupts it). What the way out closes is gone by then."""
        print(f"{signal_name(signum)} again: forcing the stop", file=sys.stderr, flush=True)
        watchdog = self._watchdog.pid if self._watchdog is not None else None
        tree = snapshot([*self._tracked, *descendants(os.getpid(), exclude=[watchdog] if watchdog else [])])
        send(tree, signal.SIGKILL)
        wait_gone(tree, 2.0)
        self._forced = exit_status(self.signum or signum)
        if threading.current_thread() is threading.main_thread():
            raise SystemExit(self._forced)
        self._interrupt_main(signum)


_current: Supervisor | None = None


def current() -> Supervisor | None:
    """The supervisor of the running command, if any."""
    return _current


def requested() -> bool:
    return _current is not None and _current.requested


def stop_signal() -> int | None:
    return _current.signum if _current is not None else None


@contextmanager
def supervise(watchdog: bool = True, sweep: bool = False) -> Iterator[Supervisor]:
    """Handle SIGINT/SIGTERM/SIGHUP for the block (nested calls share the outer supervisor).

    ``sweep``: when the block ends, however it ends, every process the command started that is still running
    (seen below it by the watchdog, in whatever session) is stopped: SIGTERM, then SIGKILL.
    """
    global _current
    if _current is not None:
        yield _current
        return
    supervisor = Supervisor(watchdog=watchdog, sweep=sweep).install()
    _current = supervisor
    try:
        yield supervisor
    finally:
        supervisor.uninstall()
        _current = None


def worker_init() -> None:
    """Initializer of ``runbook run``'s per-environment worker processes: own session (the parent forwards
    signals once), dies with the parent, and the same signal handling as the parent."""
    global _current
    try:
        os.setsid()
    except OSError:
        pass
    die_with_parent()
    _current = Supervisor().install()  # lives as long as the worker


# -- the watchdog (runbook.proctree) --------------------------------------------------------------------------
def _start_watchdog() -> subprocess.Popen | None:
    if not os.path.isdir(f"/proc/{os.getpid()}/task"):
        return None
    try:
        watch = [sys.executable, "-I", "-S", os.path.abspath(proctree.__file__), "--watch", str(os.getpid())]
        return subprocess.Popen(
            watch,
            stdin=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
            close_fds=True,
        )
    except OSError:
        return None
