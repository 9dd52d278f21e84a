"""``runbook run``: execute the notebooks in order with papermill, once per environment.

Each environment gets ``notebooks/environments/<env>.yaml`` plus the target's parameters, its own work directory
(``build/work/<env>``) and its own output directory (``build/runs/<env>``); every executed notebook is kept as the
log of that run, failed ones included. Environments run concurrently in separate processes. Within an
environment the notebooks run in order and a failure skips the rest of that environment (they build on each
other), never another environment's.
"""

from __future__ import annotations

import fcntl
import json
import multiprocessing
import os
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from contextlib import ExitStack, contextmanager, nullcontext
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Callable, Iterable

import yaml

# papermill → nbformat → jsonschema imports rfc3987_syntax when it is installed (jupyter-events' extra), only for the
# "iri" format, which no notebook schema uses; it compiles a grammar at import (~1.5 s of CPU a run).
sys.modules.setdefault("rfc3987_syntax", None)  # type: ignore[assignment]
import papermill  # noqa: E402

from runbook import params, paths, processes, workconfig  # noqa: E402
from runbook.aws.emulator import Emulator  # noqa: E402
from runbook.aws.target import check_endpoint  # noqa: E402
from runbook.errors import ParameterError, RunbookError  # noqa: E402
from runbook.execution.bucket_ahead import bootstrapping  # noqa: E402
from runbook.execution.crashmarks import add_left_behind, left_behind, mark_interrupted  # noqa: E402
from runbook.execution.kernels import WarmKernels, interrupt_kernels, notebook_kernel  # noqa: E402

TARGETS = ("local", "aws")
#: How many of the next notebooks have a kernel booted or booting while one runs (one boots at a time: see
#: :class:`WarmKernels`). Four (03 to 06 boot during 02's apply) against two: 0.92 of the suite's time in three
#: alternating pairs (benchmarks/before_after.py).
KERNELS_AHEAD = 4
#: The same while the run's first notebook runs, whose Terraform keeps the CPU busy (docs/performance.md).
KERNELS_AHEAD_OF_FIRST = 1
#: The notebook whose checks bootstrap the state bucket on an emulator (``runbook.preflight``).
SETUP_NOTEBOOK = "01-setup"


@dataclass
class NotebookResult:
    environment: str
    notebook: str
    status: str  # ok | failed | skipped | interrupted
    seconds: float = 0.0
    output: str = ""
    error: str = ""


@dataclass
class RunResult:
    results: list[NotebookResult] = field(default_factory=list)
    endpoint_url: str | None = None

    @property
    def ok(self) -> bool:
        return bool(self.results) and all(r.status == "ok" for r in self.results)

    def for_environment(self, environment: str) -> list[NotebookResult]:
        return [r for r in self.results if r.environment == environment]


# -- selection and parameters ---------------------------------------------------------------------------------
def discover_notebooks(directory: Path | None = None) -> list[Path]:
    """``NN-*.ipynb`` in ``notebooks/``, in order."""
    return sorted((directory or paths.NOTEBOOKS).glob("[0-9][0-9]-*.ipynb"))


def select_notebooks(only: Iterable[str] = (), directory: Path | None = None) -> list[Path]:
    """The notebooks named by ``--only`` (``01-setup``, ``setup``, ``01`` or the file name); all when empty."""
    notebooks = discover_notebooks(directory)
    wanted = list(only)
    if not wanted:
        return notebooks
    chosen = []
    for name in wanted:
        key = name.removesuffix(".ipynb")
        match = [nb for nb in notebooks if key in (nb.stem, nb.stem[:2], nb.stem[3:])]
        if not match:
            names = ", ".join(nb.stem for nb in notebooks)
            raise ParameterError("--only", name, f"one of {names}")
        chosen.extend(nb for nb in match if nb not in chosen)
    return sorted(chosen)


def resolve_environments(env: str) -> list[str]:
    if env == "all":
        return list(paths.ENVIRONMENTS)
    return [params.environment(env)] if env in paths.ENVIRONMENTS else _bad_env(env)


def _bad_env(env: str):
    raise ParameterError("--env", env, f"one of {', '.join(paths.ENVIRONMENTS)}, all")


def environment_parameters(environment: str) -> dict:
    """The papermill parameter file of ``environment``."""
    path = paths.ENVIRONMENT_FILES / f"{environment}.yaml"
    values = yaml.safe_load(path.read_text()) or {}
    if not isinstance(values, dict):
        raise ParameterError(str(path), values, "a mapping of parameter names to values")
    return values


def target_parameters(environment: str, endpoint_url: str | None, work_dir: Path | None = None) -> dict:
    """What the target adds: the endpoint, and on an emulator the permission to apply (it is disposable).

    ``confirm`` is the table name the working tfvars sets (before 01 has made the work directory's copy, the
    example it copies); destructive changes are never allowed here: they need ``allow_destroy``.
    """
    if not endpoint_url:
        return {"aws_endpoint_url": ""}
    table = workconfig.named_table(
        environment, workconfig.resolve(environment, "", work_dir or paths.work_dir(environment))
    )
    return {"aws_endpoint_url": endpoint_url, "apply": True, **({"confirm": table} if table else {})}


# -- execution ------------------------------------------------------------------------------------------------
def execute_notebook(notebook: Path, output: Path, parameters: dict, kernel=None) -> None:
    """Run one notebook with papermill (its own nbclient engine), passing only the parameters it declares.

    ``kernel``: a started kernel manager (:mod:`runbook.kernels`) to run it on; papermill starts one otherwise.
    """
    declared = set(papermill.inspect_notebook(str(notebook)))
    papermill.execute_notebook(
        str(notebook),
        str(output),
        parameters={k: v for k, v in parameters.items() if k in declared},
        cwd=str(notebook.parent),
        progress_bar=False,
        log_output=False,
        **({"km": kernel} if kernel is not None else {}),  # an engine argument: nbclient runs on that kernel
    )


def _first_line(error: BaseException) -> str:
    text = getattr(error, "evalue", None) or str(error) or type(error).__name__
    ename = getattr(error, "ename", None) or (type(error).__name__ if not hasattr(error, "evalue") else None)
    first = text.strip().splitlines()[0] if text.strip() else ""
    return f"{ename}: {first}" if ename else first


def run_environment(
    environment: str,
    notebooks: list[Path],
    endpoint_url: str | None,
    output_dir: Path,
    on_event: Callable[[NotebookResult], None] | None = None,
    work_dir: Path | None = None,
    kernels: WarmKernels | None = None,
) -> list[NotebookResult]:
    """Execute ``notebooks`` in order for one environment; stop at the first failure.

    ``work_dir``: the base of the work directories (default ``build/work``), passed through to the notebooks as
    their ``work_dir``; the environment's (``<work_dir>/<env>``) is locked for the run: a second run on it fails at
    once. ``kernels``: warm kernels already booting for these notebooks (else they are started here).
    """
    results: list[NotebookResult] = []
    base = work_dir or paths.WORK
    work = paths.work_dir(environment, base)
    try:
        parameters = {
            **environment_parameters(environment),
            **target_parameters(environment, endpoint_url, work),
            "environment": environment,
            "work_dir": str(base),
        }
        lock = lock_work_dir(work)
    except Exception as error:  # the environment's configuration or work directory is unusable: report it
        for notebook in notebooks:
            results.append(
                NotebookResult(environment, notebook.stem, "failed", error=f"parameters: {_first_line(error)}")
            )
            if on_event:
                on_event(results[-1])
        return results
    with lock, nullcontext(kernels) if kernels is not None else WarmKernels(_kernel_cwd(notebooks)) as warm:
        return _run_notebooks(environment, notebooks, parameters, output_dir, on_event, results, warm)


def _kernel_cwd(notebooks: list[Path]) -> Path:
    return notebooks[0].parent if notebooks else paths.NOTEBOOKS


def _run_notebooks(
    environment, notebooks, parameters, output_dir, on_event, results, kernels: WarmKernels
) -> list[NotebookResult]:
    output_dir.mkdir(parents=True, exist_ok=True)
    crashed = mark_interrupted(output_dir)  # what a run killed outright left half-written
    failed = False
    for index, notebook in enumerate(notebooks):
        output = output_dir / notebook.name
        if processes.requested():
            result = NotebookResult(environment, notebook.stem, "skipped", error=_interrupted())
        elif failed:
            result = NotebookResult(environment, notebook.stem, "skipped", error="an earlier notebook failed")
        else:
            start = time.perf_counter()
            kernel = kernels.take(notebook) if _runs_on(notebook, kernels) else None
            count = KERNELS_AHEAD if index else KERNELS_AHEAD_OF_FIRST
            ahead = [nb for nb in notebooks[index + 1 : index + 1 + count] if _runs_on(nb, kernels)]
            kernels.start_ahead(ahead)  # one after the other (runbook.kernels)
            try:
                with _interruptible():
                    execute_notebook(notebook, output, parameters, kernel)
                if processes.requested():  # it ended, but its Terraform (or kernel) was stopped under it
                    raise processes.Interrupted(processes.stop_signal())
                result = NotebookResult(environment, notebook.stem, "ok", output=str(output))
            except BaseException as error:  # papermill writes the failed notebook before raising
                failed = True
                if processes.requested():  # a signal: the notebook as far as it ran is kept
                    processes.current().acknowledge()
                    result = NotebookResult(
                        environment,
                        notebook.stem,
                        "interrupted",
                        output=str(output) if output.exists() else "",
                        error=_interrupted(),
                    )
                elif isinstance(error, Exception):
                    result = NotebookResult(
                        environment, notebook.stem, "failed", output=str(output), error=_first_line(error)
                    )
                else:
                    raise
            finally:
                if kernel is not None:
                    kernels.done(kernel)
            result.seconds = round(time.perf_counter() - start, 2)
            if crashed:
                found = left_behind(result)
                if found:
                    for path in crashed:
                        add_left_behind(path, found)
                    crashed = []
        results.append(result)
        if on_event:
            on_event(result)
    return results


def _interrupted() -> str:
    signum = processes.stop_signal()
    return f"interrupted ({processes.signal_name(signum)})" if signum else "interrupted"


def _interruptible():
    """While a notebook runs, a stop request interrupts its kernel (Terraform first: see interrupt_kernels)."""
    supervisor = processes.current()
    return supervisor.on_stop(interrupt_kernels) if supervisor is not None else nullcontext()


class _Forwarder:
    """The environments' workers run in their own sessions (:func:`_worker_init`): a stop request is sent to them
    from here, once each. A worker registers its pid in ``pids`` (a manager list) as it starts; one that registers
    after the request gets it at the next :meth:`catch_up`. Each interrupts its notebook and returns its results."""

    def __init__(self, pids) -> None:
        self.pids = pids
        self.signum: int | None = None
        self.sent: set[int] = set()

    def forward(self, signum: int) -> None:
        self.signum = signum
        self.catch_up()

    def catch_up(self) -> None:
        if self.signum is None:
            return
        fresh = [pid for pid in list(self.pids) if pid not in self.sent]
        self.sent.update(fresh)
        processes.send(processes.snapshot(fresh), self.signum)

    def forwarding(self):
        supervisor = processes.current()
        return supervisor.on_stop(self.forward) if supervisor is not None else nullcontext()


def _worker_init(pids) -> None:
    """Initializer of each environment's worker: :func:`runbook.processes.worker_init`, then its pid registered
    for :class:`_Forwarder`."""
    processes.worker_init()
    pids.append(os.getpid())


def _runs_on(notebook: Path, kernels: WarmKernels) -> bool:
    """Whether ``notebook`` can run on a warm kernel: same directory, same kernel (else papermill starts one)."""
    if notebook.parent != kernels.cwd:
        return False
    try:
        return notebook_kernel(json.loads(notebook.read_text())) == kernels.kernel_name
    except (OSError, ValueError):
        return False  # papermill reports the unreadable notebook itself


class WorkDirBusy(RunbookError):
    """Another run holds the environment's work directory."""


def lock_work_dir(work: Path):
    """An exclusive lock on ``work`` (released when the returned file is closed)."""
    work.mkdir(parents=True, exist_ok=True)
    handle = open(work / ".runbook.lock", "w")
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.close()
        raise WorkDirBusy(f"another runbook run is using {work}; wait for it or pass --work-dir") from None
    return handle


def _run_environment_in_child(environment, notebooks, endpoint_url, output_dir, work_dir, queue):
    return [asdict(r) for r in run_environment(environment, notebooks, endpoint_url, output_dir, queue.put, work_dir)]


def run(
    environments: Iterable[str] = ("staging",),
    only: Iterable[str] = (),
    endpoint_url: str | None = None,
    target: str = "local",
    output_dir: Path | None = None,
    on_event: Callable[[NotebookResult], None] | None = None,
    work_dir: Path | None = None,
) -> RunResult:
    """Run the selected notebooks for each environment; see the module docstring.

    ``target="local"`` starts the embedded emulator unless ``endpoint_url`` names one already running;
    ``target="aws"`` uses the normal credential chain and no endpoint (and never passes ``apply``).
    """
    environments = list(environments)
    for env in environments:
        params.environment(env)
    if target not in TARGETS:
        raise ParameterError("--target", target, f"one of {', '.join(TARGETS)}")
    if target == "aws" and endpoint_url:
        raise ParameterError("--endpoint-url", endpoint_url, "no endpoint with --target aws")
    if endpoint_url:
        params.endpoint_url(endpoint_url, "--endpoint-url")
    notebooks = select_notebooks(only)
    if not notebooks:
        raise ParameterError("notebooks", str(paths.NOTEBOOKS), "NN-*.ipynb notebooks to run")

    with ExitStack() as stack:
        stack.enter_context(_run_identity())
        kernels = None
        if len(environments) == 1:  # its first kernel boots while the emulator starts
            kernels = stack.enter_context(WarmKernels(_kernel_cwd(notebooks)))
            kernels.start_next(notebooks[0])
        if target == "local" and not endpoint_url:
            emulator = stack.enter_context(Emulator())
            emulator.reset()  # the run's own, disposable emulator starts empty (moto's state is per process)
            endpoint_url = emulator.endpoint_url
            region = _region(environments[0]) if len(environments) == 1 else None
            if region and notebooks[0].stem == SETUP_NOTEBOOK:  # which bootstraps the state bucket: started now,
                # while the first kernel boots (runbook.bucket_ahead)

                stack.enter_context(
                    bootstrapping(endpoint_url, region, paths.work_dir(environments[0], work_dir).parent)
                )
        if endpoint_url:
            check_endpoint(endpoint_url)
        outputs = {env: paths.runs_dir(env, output_dir) for env in environments}
        result = RunResult(endpoint_url=endpoint_url)
        if len(environments) == 1:
            env = environments[0]
            result.results = run_environment(env, notebooks, endpoint_url, outputs[env], on_event, work_dir, kernels)
            return result
        result.results = _run_concurrently(environments, notebooks, endpoint_url, outputs, work_dir, on_event)
        return result


def _region(environment: str) -> str | None:
    """The region ``environment``'s parameter file names (its notebooks' target, and so the state bucket's)."""
    try:
        region = environment_parameters(environment).get("aws_region")
    except (OSError, ValueError, yaml.YAMLError, ParameterError):  # the run reports it (run_environment)
        return None
    return region if isinstance(region, str) and region else None


@contextmanager
def _run_identity():
    """A new ``RUNBOOK_RUN_ID`` for this run's kernels and environments (``runbook.planning``: 02 may take over the
    plan 01 made in the same run); the caller's environment is restored afterwards."""
    name, before = processes.RUN_VARIABLE, os.environ.get(processes.RUN_VARIABLE)
    os.environ[name] = os.urandom(8).hex()
    try:
        yield
    finally:
        if before is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = before


def _run_concurrently(environments, notebooks, endpoint_url, outputs, work_dir, on_event) -> list[NotebookResult]:
    context = multiprocessing.get_context("spawn")
    with context.Manager() as manager:
        queue, pids = manager.Queue(), manager.list()
        forwarder = _Forwarder(pids)
        with ProcessPoolExecutor(
            len(environments), mp_context=context, initializer=_worker_init, initargs=(pids,)
        ) as pool:
            futures = {
                env: pool.submit(_run_environment_in_child, env, notebooks, endpoint_url, outputs[env], work_dir, queue)
                for env in environments
            }
            with forwarder.forwarding():
                _pass_events(queue, futures, len(environments) * len(notebooks), forwarder, on_event)
            return _results(futures, notebooks)


def _pass_events(queue, futures, pending: int, forwarder: _Forwarder, on_event) -> None:
    """Each notebook's result to ``on_event`` as it arrives, until all have, a worker failed, or a stop request
    has been answered by every worker."""
    while pending:
        forwarder.catch_up()
        if any(f.done() and f.exception() for f in futures.values()):
            return
        if processes.requested() and all(f.done() for f in futures.values()):
            return
        try:
            event = queue.get(timeout=0.2)
        except Exception:
            continue
        pending -= 1
        if on_event:
            on_event(event)  # a NotebookResult, pickled across the process boundary


def _results(futures, notebooks) -> list[NotebookResult]:
    results = []
    for env, future in futures.items():
        error = future.exception()
        if error is not None:  # the environment's process itself failed: report it, don't hide the others
            results += [NotebookResult(env, nb.stem, "failed", error=_first_line(error)) for nb in notebooks]
        else:
            results += [NotebookResult(**r) for r in future.result()]
    return results
