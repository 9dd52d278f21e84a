"""Warm kernels for ``runbook run``: the next notebook's kernel boots while the current notebook runs.

Starting a Python kernel and importing what every runbook imports (pandas, boto3, the package) costs about
1.5 s per notebook on the 2-core reference machine; run in order, six notebooks pay it six times on the
critical path. :class:`WarmKernels` starts kernel *n + 1* when notebook *n* starts, with those modules
imported at boot (``IPKernelApp.exec_lines``, which binds no names and leaves the execution count at 0), and
hands it to papermill, which uses a kernel it is given instead of starting its own. Each kernel still runs
exactly one notebook and is shut down after it, so notebooks share no state.

A kernel booting ahead must not slow down what the run waits for. Terraform starting the AWS provider keeps
about 1.5 of 2 cores busy, and every second of a core taken from it lengthens the run. So a kernel booting ahead
runs at a lower CPU priority (:data:`AHEAD_NICE`, its session's too: Linux shares the CPU between sessions
first), and the kernels for notebooks after the next one wait until the machine has CPU to spare (during an
apply, the provider's waits on the cloud leave both cores idle for about 15 s).

The kernels talk over Unix sockets (ZeroMQ ``ipc``) in a private temporary directory, not TCP on loopback:
only this user can reach them, and the kernel has no reason to warn about unencrypted TCP.
"""

from __future__ import annotations

import os
import shutil
import signal
import tempfile
import threading
import time
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from itertools import count
from pathlib import Path
from typing import Callable

from jupyter_client.asynchronous import AsyncKernelClient
from jupyter_client.manager import AsyncKernelManager
from jupyter_core.utils import run_sync

from runbook import processes

KERNEL_NAME = "python3"
#: Imported at kernel boot: what the runbooks import first (their first cell pays for it otherwise), then what
#: the notebook the kernel is for imports at the top level of its cells (:func:`notebook_imports`).
WARM_IMPORTS = ("pandas", "boto3", "IPython.display", "runbook.steps.context", "runbook.execution.record")
#: Imported too by a kernel booting ahead of its notebook (it has time to spare; the run's first kernel does not):
#: the plan and state readers and their pydantic models (0.1 s), which every runbook after setup reaches through
#: its context.
AHEAD_IMPORTS = ("runbook.terraform.planning",)
#: The CPU priority (nice value) of a kernel booting ahead of its notebook: it takes what Terraform, the emulator
#: and the running notebook leave of the CPU. It gets the normal priority back when its notebook starts.
AHEAD_NICE = 10
#: A kernel booting for a notebook after the next one waits until the machine has CPU to spare: this share of its
#: CPU time idle for :data:`SPARE_SECONDS` (Terraform starting the provider keeps 1.5 of 2 cores busy; its waits
#: on the cloud, none), or until its notebook is about to run.
SPARE_SHARE = 0.6
SPARE_SECONDS = 0.5
#: Seconds a kernel has to answer after its launch (nbclient's default ``startup_timeout``); then it is papermill's.
STARTUP_TIMEOUT = 60.0
#: As nbclient starts kernels: history in memory, never in the user's ~/.ipython.
_ARGUMENTS = ["--HistoryManager.hist_file=:memory:"]


def _boot_arguments(modules: tuple[str, ...]) -> list[str]:
    """The kernel's arguments: at boot, :mod:`runbook._warm` and ``modules`` (binding no names; a name that is not
    a module is skipped, a failed import is the notebook's to report when its cell runs)."""
    line = f"import runbook.execution._warm as _w; _w.imports({tuple(dict.fromkeys(modules))!r}); del _w"
    return [*_ARGUMENTS, f"--IPKernelApp.exec_lines={line}"]


def notebook_kernel(notebook: dict) -> str:
    return notebook.get("metadata", {}).get("kernelspec", {}).get("name", "")


def notebook_imports(notebook: Path) -> tuple[str, ...]:
    """The modules a notebook's code cells import at their top level: ``a.b`` of ``import a.b``; ``a.b`` and
    ``a.b.c`` of ``from a.b import c`` (``c`` may be a submodule: ``from runbook import cost``)."""
    import ast
    import json

    try:
        cells = json.loads(Path(notebook).read_text())["cells"]
    except (OSError, ValueError, KeyError, TypeError):
        return ()
    modules: list[str] = []
    for cell in cells:
        if cell.get("cell_type") != "code":
            continue
        try:
            tree = ast.parse("".join(cell.get("source", "")))
        except SyntaxError:  # IPython syntax (magics): nothing to learn from this cell
            continue
        for node in tree.body:
            if isinstance(node, ast.Import):
                modules += [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                modules += [node.module] + [f"{node.module}.{alias.name}" for alias in node.names if alias.name != "*"]
    return tuple(modules)


class WarmKernels:
    """Kernels booting ahead of need, in ``cwd``. Use as a context manager; every kernel is shut down.

    Kernels are started by one thread of their own, one at a time: it launches a kernel (a ``python -m ipykernel``
    process, 0.05-0.1 s) and waits until it has answered before it launches the next. So starting the next ones
    never holds up the notebook about to run, and at most one kernel boots at a time (about 1.2 s of a core each).
    A kernel booked ``when_spare`` is launched once the CPU has some to spare (:func:`wait_for_spare_cpu`), or at
    once when its notebook is next (:meth:`start_next` without ``when_spare``, :meth:`take`). The thread lives as
    long as this object: a kernel gets SIGTERM when the thread that started it ends (``processes.die_with_parent``).
    """

    def __init__(self, cwd: Path, kernel_name: str = KERNEL_NAME):
        self.cwd = cwd
        self.kernel_name = kernel_name
        #: Kernels booting ahead, in the order :meth:`take` hands them out, each with the notebook it is for (a
        #: future of its manager: the starter thread may still be launching it).
        self._booting: list[_Booking] = []
        self._handed_out: list[AsyncKernelManager] = []
        self._starter: ThreadPoolExecutor | None = None
        self._closing = threading.Event()  # close() has begun: the starter stops waiting for a kernel's answer
        self._sockets: Path | None = None  # the private directory of the kernels' ipc sockets
        self._numbers = count(1)
        self._stopping: list = []  # threads shutting down kernels that ran their notebook (see done)

    def start_next(self, notebook: Path | None = None, ahead: bool = False, when_spare: bool = False) -> None:
        """Start booting a kernel for ``notebook`` (the modules it imports are imported at boot too), unless one is
        already booting for it; without ``notebook``, unless any kernel is booting. ``ahead``: while another
        notebook runs (:data:`AHEAD_IMPORTS` too, at :data:`AHEAD_NICE`); ``when_spare``: once the CPU has some to
        spare (:data:`SPARE_SHARE`). Returns at once; :meth:`take` waits for the launch."""
        booked = next((i for i, b in enumerate(self._booting) if b.notebook == notebook), None)
        if booked is not None or (notebook is None and self._booting):
            if booked is not None and not when_spare:
                self._hurry(booked)
            return
        if self._sockets is None:
            self._sockets = Path(tempfile.mkdtemp(prefix="runbook-kernels-"))  # mode 0700
        if self._starter is None:
            self._starter = ThreadPoolExecutor(1, thread_name_prefix="kernel-start")
        ip = str(self._sockets / f"k{next(self._numbers)}")
        needed = threading.Event()
        if not when_spare:
            needed.set()
        self._booting.append(_Booking(notebook, self._starter.submit(self._launch, ip, notebook, ahead, needed),
                                      needed))

    def _launch(self, ip: str, notebook: Path | None, ahead: bool, needed: threading.Event) -> AsyncKernelManager:
        """On the starter thread: the kernel for ``notebook``, launched (once ``needed`` or the CPU has some to
        spare) and (see :meth:`_answered`) booted."""
        wait_for_spare_cpu(lambda: needed.is_set() or self._closing.is_set())
        if self._closing.is_set():
            raise RuntimeError("the kernels are being closed")
        modules = (WARM_IMPORTS + (AHEAD_IMPORTS if ahead else ())
                   + (notebook_imports(notebook) if notebook is not None else ()))
        manager = AsyncKernelManager(kernel_name=self.kernel_name, transport="ipc", ip=ip,
                                     client_class=f"{__name__}.ReadyClient")
        run_sync(manager.start_kernel)(extra_arguments=_boot_arguments(modules), cwd=str(self.cwd),
                                       preexec_fn=_in_background if ahead else processes.die_with_parent)
        run_sync(self._answered)(manager)
        return manager

    async def _answered(self, manager: AsyncKernelManager) -> None:
        """Until ``manager``'s kernel answers a ``kernel_info`` request (its boot is over), it dies,
        :data:`STARTUP_TIMEOUT` passes, or :meth:`close` begins; a kernel that does not answer is papermill's to
        report when it is taken."""
        from queue import Empty

        client = manager.client(context=manager.context)  # no zmq context (and its threads) of its own
        client.start_channels(iopub=False, stdin=False, hb=False, control=False)
        deadline = time.monotonic() + STARTUP_TIMEOUT
        try:
            request = client.kernel_info()  # queued by ZeroMQ until the kernel's shell socket is up
            while not self._closing.is_set() and time.monotonic() < deadline:
                try:
                    reply = await client.shell_channel.get_msg(timeout=0.1)
                except Empty:
                    if not await manager.is_alive():
                        return
                    continue
                if reply["parent_header"].get("msg_id") == request:
                    return
        finally:
            client.stop_channels()

    def start_ahead(self, notebooks: list[Path]) -> None:
        """Keep kernels booting for the next ``notebooks``, in order (a short notebook does not leave the next
        one waiting for its kernel's boot: about 1.5 s): the first at once, the others when the CPU has some to
        spare."""
        for index, notebook in enumerate(notebooks):
            self.start_next(notebook, ahead=True, when_spare=index > 0)

    def _hurry(self, index: int) -> None:
        """Launch the kernel booked at ``index`` without waiting for spare CPU (and those before it: the starter
        launches them in order)."""
        for booking in self._booting[:index + 1]:
            booking.needed.set()

    def take(self, notebook: Path | None = None) -> AsyncKernelManager:
        """The kernel booting for ``notebook`` (else the first booting; else one started now); the caller runs one
        notebook on it, then :meth:`done`."""
        chosen = next((i for i, b in enumerate(self._booting) if b.notebook == notebook), 0)
        if not self._booting:
            self.start_next(notebook)
        self._hurry(chosen)
        manager = self._booting.pop(chosen).launched.result()  # a kernel that could not be launched: its error, here
        processes.set_priority(manager.provisioner.pid, 0)  # refused (no CAP_SYS_NICE): it runs at AHEAD_NICE
        self._handed_out.append(manager)
        return manager

    def done(self, manager: AsyncKernelManager) -> None:
        """Shut ``manager``'s kernel down in the background (about 0.1 s the next notebook need not wait for);
        :meth:`close` waits for it."""
        self._handed_out.remove(manager)
        stopping = threading.Thread(target=_shutdown, args=(manager,), name="kernel-shutdown", daemon=True)
        stopping.start()
        self._stopping.append(stopping)

    def close(self) -> None:
        self._closing.set()
        booting = []
        for launched in (b.launched for b in self._booting):
            if launched.cancel():  # still queued: never launched
                continue
            try:
                booting.append(launched.result())
            except Exception:  # never launched: nothing to stop
                pass
        for manager in [*self._handed_out, *booting]:
            _shutdown(manager)
        if self._starter is not None:  # after the kernels it started: they would get SIGTERM as its thread ends
            self._starter.submit(_close_event_loop)
            self._starter.shutdown()
            self._starter = None
        for stopping in self._stopping:
            stopping.join()
        self._stopping.clear()
        self._handed_out.clear()
        self._booting.clear()
        self._closing.clear()
        if self._sockets is not None:
            shutil.rmtree(self._sockets, ignore_errors=True)
            self._sockets = None

    def __enter__(self) -> "WarmKernels":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


@dataclass
class _Booking:
    notebook: Path | None
    launched: Future  # of the kernel's manager: the starter thread may still be launching it
    needed: threading.Event  # launch it now, CPU to spare or not


def wait_for_spare_cpu(stop: Callable[[], bool], share: float = SPARE_SHARE, seconds: float = SPARE_SECONDS,
                       step: float = 0.05) -> None:
    """Return once the machine's CPUs were at least ``share`` idle over the last ``seconds``, or ``stop()``
    (checked every ``step``). Returns at once where the kernel does not say (no ``/proc/stat``)."""
    previous = _cpu_times()
    since = time.monotonic()
    while previous is not None and not stop():
        time.sleep(step)
        if time.monotonic() - since < seconds:
            continue
        now = _cpu_times()
        idle, total = now[0] - previous[0], now[1] - previous[1]
        if total > 0 and idle / total >= share:
            return
        previous, since = now, time.monotonic()


def _cpu_times() -> tuple[int, int] | None:
    """(idle, total) CPU time of the machine so far, in clock ticks (``/proc/stat``: idle and iowait of user,
    nice, system, idle, iowait, irq, softirq, steal)."""
    try:
        with open("/proc/stat") as stat:
            fields = [int(x) for x in stat.readline().split()[1:9]]
    except (OSError, ValueError):
        return None
    return (fields[3] + fields[4], sum(fields)) if len(fields) == 8 else None


class ReadyClient(AsyncKernelClient):
    """The client papermill (nbclient) gets for a warm kernel: ready as soon as the kernel has answered.

    jupyter_client's ``wait_for_ready`` ends with a fixed wait (it reads IOPub until 0.2 s pass with no message),
    paid by every notebook. This one waits for the same two facts instead: the ``kernel_info_reply`` on the shell
    channel, and on IOPub the kernel's ``idle`` status for that request (IOPub is connected, and everything the
    kernel published before it has been read). An IOPub subscription that missed it (ZeroMQ subscribers join late)
    asks again, as jupyter_client does.
    """

    async def wait_for_ready(self, timeout: float | None = None) -> None:  # type: ignore[override]
        from queue import Empty

        deadline = time.monotonic() + (timeout if timeout is not None else float("inf"))
        while True:
            request = self.kernel_info()
            try:
                reply = await self.shell_channel.get_msg(timeout=1)
            except Empty:
                reply = None
            if reply is not None and reply["msg_type"] == "kernel_info_reply" and await self._idle_after(request):
                self._handle_kernel_info_reply(reply)
                return
            if not await self._async_is_alive():
                raise RuntimeError("Kernel died before replying to kernel_info")
            if time.monotonic() > deadline:
                raise RuntimeError(f"Kernel didn't respond in {timeout:.0f} seconds")

    async def _idle_after(self, request: str, patience: float = 0.2) -> bool:
        """Whether IOPub brings the ``idle`` status of ``request`` within ``patience`` seconds of quiet."""
        from queue import Empty

        while True:
            try:
                message = await self.iopub_channel.get_msg(timeout=patience)
            except Empty:
                return False
            if (message["msg_type"] == "status" and message["parent_header"].get("msg_id") == request
                    and message["content"].get("execution_state") == "idle"):
                return True


def interrupt_kernels(signum: int) -> None:
    """``runbook run``'s stop callback (:mod:`runbook.processes`): every kernel of this process gives its children
    (``terraform``) the signal first and up to ``processes.GRACE`` seconds to stop on their own (Terraform then
    releases its state lock); then the kernel is interrupted, so the running cell ends with ``KeyboardInterrupt``
    and papermill writes the notebook as far as it ran."""
    supervisor = processes.current()
    skip = {supervisor.watchdog_pid} if supervisor is not None else set()
    kernels = [pid for pid in processes.children(os.getpid()) if pid not in skip]
    processes.stop_workers_of(kernels, signum)
    for pid in kernels:
        try:
            os.kill(pid, signal.SIGINT)
        except ProcessLookupError:
            pass


def _in_background() -> None:
    """A kernel booting ahead (``preexec_fn``, in its own session: Popen's): dies with its parent, at
    :data:`AHEAD_NICE`."""
    processes.die_with_parent()
    processes.set_priority(0, AHEAD_NICE)


def _close_event_loop() -> None:
    """Close the event loop ``run_sync`` made for this thread, before the thread ends (left to the garbage
    collector, it is closed after its own sockets, and complains)."""
    import asyncio

    try:
        loop = asyncio.get_event_loop_policy().get_event_loop()
    except RuntimeError:  # this thread never launched a kernel
        return
    if not loop.is_running():
        loop.close()


def _shutdown(manager: AsyncKernelManager) -> None:
    try:
        if run_sync(manager.is_alive)():
            run_sync(manager.shutdown_kernel)(now=True)  # also removes its connection file
    except Exception:  # a kernel that died on its own (e.g. killed by a notebook) has nothing left to stop
        pass
