"""Warm kernels for ``runbook run``: the next notebook's kernel boots while the current notebook runs.

Starting a Python kernel and importing what every runbook imports (pandas, boto3, the package) costs about
1.5 s per notebook on the 2-core reference machine; run in order, six notebooks pay it six times on the
critical path. :class:`WarmKernels` starts the kernel of the next notebook(s) while one runs, with those modules
imported at boot (ipykernel's ``IPKernelApp.exec_lines`` option, which binds no names and leaves the execution
count at 0), and hands it to papermill, which runs a notebook on a started kernel manager it is given (nbclient's
``km``) instead of starting its own. Each kernel still runs exactly one notebook and is shut down after it, so
notebooks share no state. Everything here is jupyter_client's public API: ``start_kernel``, a client's
``wait_for_ready``, ``is_alive``, ``shutdown_kernel``.

Kernels boot at the normal CPU priority: jupyter_client starts every kernel in a session of its own (so an
interrupt reaches its whole process group), and Linux shares the CPU between sessions first (autogroups, sched(7)),
so a lower nice value in the kernel would count only against the kernel's own processes. What keeps a booting
kernel from slowing the run is that few boot ahead (the runner's ``KERNELS_AHEAD``; only the next notebook's while
the run's first notebook runs, ``KERNELS_AHEAD_OF_FIRST``), one at a time.

The kernels talk over Unix sockets (ZeroMQ ``ipc``) in a private temporary directory, not TCP on loopback:
only this user can reach them, and the kernel has no reason to warn about unencrypted TCP.
"""

from __future__ import annotations

import ast
import asyncio
import json
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
#: Seconds a kernel has to answer after its launch (nbclient's default ``startup_timeout``); then it is papermill's.
STARTUP_TIMEOUT = 60.0
#: Seconds of one ``wait_for_ready`` call while a kernel boots: between two, the starter sees :meth:`close`.
READY_STEP = 1.0
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
    process, 0.05-0.1 s) and waits until it is ready (``wait_for_ready``) before it launches the next. So starting
    the next ones never holds up the notebook about to run, and at most one kernel boots at a time (about 1.2 s of
    a core each). The thread lives as long as this object: a kernel gets SIGTERM when the thread that started it
    ends (``processes.die_with_parent``).
    """

    def __init__(self, cwd: Path, kernel_name: str = KERNEL_NAME):
        self.cwd = cwd
        self.kernel_name = kernel_name
        #: Kernels booting ahead, in the order :meth:`take` hands them out, each with the notebook it is for (a
        #: future of its manager: the starter thread may still be launching it).
        self._booting: list[_Booking] = []
        self._handed_out: list[AsyncKernelManager] = []
        self._starter: ThreadPoolExecutor | None = None
        self._closing = threading.Event()  # close() has begun: the starter launches nothing more, waits no longer
        self._sockets: Path | None = None  # the private directory of the kernels' ipc sockets
        self._numbers = count(1)
        self._stopping: list = []  # threads shutting down kernels that ran their notebook (see done)

    def start_next(self, notebook: Path | None = None, ahead: bool = False) -> None:
        """Start booting a kernel for ``notebook`` (the modules it imports are imported at boot too), unless one is
        already booting for it; without ``notebook``, unless any kernel is booting. ``ahead``: while another
        notebook runs (:data:`AHEAD_IMPORTS` too). Returns at once; :meth:`take` waits for the launch."""
        if any(b.notebook == notebook for b in self._booting) or (notebook is None and self._booting):
            return
        if self._sockets is None:
            self._sockets = Path(tempfile.mkdtemp(prefix="runbook-kernels-"))  # mode 0700
        if self._starter is None:
            self._starter = ThreadPoolExecutor(1, thread_name_prefix="kernel-start")
        ip = str(self._sockets / f"k{next(self._numbers)}")
        self._booting.append(_Booking(notebook, self._starter.submit(self._launch, ip, notebook, ahead)))

    def start_ahead(self, notebooks: list[Path]) -> None:
        """Keep kernels booting for the next ``notebooks``, in order, one after the other (a short notebook does not
        leave the next one waiting for its kernel's boot: about 1.5 s)."""
        for notebook in notebooks:
            self.start_next(notebook, ahead=True)

    def _launch(self, ip: str, notebook: Path | None, ahead: bool) -> AsyncKernelManager:
        """On the starter thread: the kernel for ``notebook``, launched and (see :meth:`_ready`) booted."""
        if self._closing.is_set():
            raise RuntimeError("the kernels are being closed")
        modules = (
            WARM_IMPORTS
            + (AHEAD_IMPORTS if ahead else ())
            + (notebook_imports(notebook) if notebook is not None else ())
        )
        manager = AsyncKernelManager(kernel_name=self.kernel_name, transport="ipc", ip=ip)
        run_sync(manager.start_kernel)(
            extra_arguments=_boot_arguments(modules), cwd=str(self.cwd), preexec_fn=processes.die_with_parent
        )
        run_sync(self._ready)(manager)
        return manager

    async def _ready(self, manager: AsyncKernelManager) -> None:
        """Until ``manager``'s kernel is ready (the client's ``wait_for_ready``: its boot is over), it dies,
        :data:`STARTUP_TIMEOUT` passes, or :meth:`close` begins; a kernel that is not ready is papermill's to report
        when it is taken."""
        client = manager.client(context=manager.context)  # no zmq context (and its threads) of its own
        client.start_channels(stdin=False, hb=False, control=False)
        deadline = time.monotonic() + STARTUP_TIMEOUT
        try:
            while not self._closing.is_set() and time.monotonic() < deadline:
                try:
                    await client.wait_for_ready(timeout=READY_STEP)
                    return
                except RuntimeError:  # not yet ready, or dead
                    if not await manager.is_alive():
                        return
        finally:
            client.stop_channels()

    def take(self, notebook: Path | None = None) -> AsyncKernelManager:
        """The kernel booting for ``notebook`` (else the first booting; else one started now); the caller runs one
        notebook on it, then :meth:`done`."""
        if not self._booting:
            self.start_next(notebook)
        chosen = next((i for i, b in enumerate(self._booting) if b.notebook == notebook), 0)
        manager = self._booting.pop(chosen).launched.result()  # a kernel that could not be launched: its error, here
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


def _close_event_loop() -> None:
    """Close the event loop ``run_sync`` made for this thread, before the thread ends (left to the garbage
    collector, it is closed after its own sockets, and complains)."""
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
