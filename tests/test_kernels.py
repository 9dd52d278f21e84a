"""Warm kernels: booted ahead, modules imported, no names bound, one notebook each, all shut down."""

from pathlib import Path

import nbformat
import pytest
from jupyter_core.utils import run_sync
from nbformat.v4 import new_code_cell, new_notebook

from runbook.execution import runner
from runbook.execution.kernels import WARM_IMPORTS, WarmKernels
from runbook.execution.record import read_records


def probe_notebook(path):
    nb = new_notebook(metadata={"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}})
    parameters = new_code_cell('environment: str = "staging"  # env')
    parameters.metadata["tags"] = ["parameters"]
    nb.cells = [parameters, new_code_cell(
        "import os, sys\n"
        "from runbook.execution.record import record\n"
        f"record('imported', sorted(m for m in {WARM_IMPORTS!r} if m in sys.modules))\n"
        "record('bound', sorted(n for n in ('pandas', 'boto3', 'runbook', 'm') if n in globals()))\n"
        "record('cwd', os.getcwd())\n"
        "record('pid', os.getpid())")]
    nbformat.write(nb, path)
    return path


@pytest.mark.slow  # boots real kernels
def test_a_warm_kernel_has_the_imports_and_no_names(tmp_path):
    notebook = probe_notebook(tmp_path / "01-probe.ipynb")
    with WarmKernels(tmp_path) as kernels:
        kernel = kernels.take()
        runner.execute_notebook(notebook, tmp_path / "out.ipynb", {}, kernel)
        kernels.done(kernel)  # it stops in the background; close() waits for it
        assert kernel.transport == "ipc", "kernels talk over private Unix sockets, not TCP"
        sockets = Path(kernel.ip).parent
        assert sockets.is_dir() and oct(sockets.stat().st_mode & 0o777) == "0o700"
    assert not run_sync(kernel.is_alive)(), "the kernel that ran its notebook is stopped by close()"
    assert not sockets.exists(), "the socket directory is removed with the kernels"
    records = read_records(nbformat.read(tmp_path / "out.ipynb", as_version=4))
    assert records["imported"] == sorted(WARM_IMPORTS)
    assert records["bound"] == [], "warming must not put names in the notebook's namespace"
    assert records["cwd"] == str(tmp_path)
    code = [c for c in nbformat.read(tmp_path / "out.ipynb", as_version=4).cells if c.cell_type == "code"]
    assert code[0].execution_count == 1, "warming must not use up execution counts"


@pytest.mark.slow  # boots real kernels
def test_each_notebook_gets_its_own_kernel_and_none_are_left(tmp_path):
    first = probe_notebook(tmp_path / "01-a.ipynb")
    second = probe_notebook(tmp_path / "02-b.ipynb")
    results = runner.run_environment("staging", [first, second], None, tmp_path / "out", work_dir=tmp_path / "w")
    assert [r.status for r in results] == ["ok", "ok"]
    pids = [read_records(nbformat.read(r.output, as_version=4))["pid"] for r in results]
    assert pids[0] != pids[1], "notebooks must not share a kernel"


@pytest.mark.slow  # boots real kernels
def test_close_stops_a_kernel_still_booting(tmp_path):
    kernels = WarmKernels(tmp_path)
    kernels.start_next()
    booting = kernels._booting[0].launched.result()
    kernels.close()
    assert not run_sync(booting.is_alive)()


@pytest.mark.slow  # boots real kernels
def test_kernels_boot_ahead_once_each_and_are_taken_for_their_notebook(tmp_path):
    first, second = probe_notebook(tmp_path / "01-a.ipynb"), probe_notebook(tmp_path / "02-b.ipynb")
    with WarmKernels(tmp_path) as kernels:
        kernels.start_ahead([first, second])
        kernels.start_ahead([second])  # already booting for it: no second kernel
        assert [b.notebook for b in kernels._booting] == [first, second]
        for_second = kernels.take(second)
        assert [b.notebook for b in kernels._booting] == [first]
        runner.execute_notebook(second, tmp_path / "out.ipynb", {}, for_second)
        kernels.done(for_second)
    assert not run_sync(for_second.is_alive)()


def modules_notebook(path, top: str = ""):
    """A notebook that records which of a few modules its kernel had loaded before its first cell ran."""
    nb = new_notebook(metadata={"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}})
    nb.cells = [new_code_cell(
        "import sys\n"
        "loaded = sorted(m for m in ('runbook.terraform.planning', 'pydantic', 'matplotlib_inline.backend_inline')"
        " if m in sys.modules)\n" + top),
        new_code_cell("from runbook.execution.record import record\nrecord('loaded', loaded)")]
    nbformat.write(nb, path)
    return path


@pytest.mark.slow  # boots real kernels
def test_a_kernel_booting_ahead_also_has_the_plan_readers_and_the_run_s_first_does_not(tmp_path):
    first, later = modules_notebook(tmp_path / "01-a.ipynb"), modules_notebook(tmp_path / "02-b.ipynb")
    with WarmKernels(tmp_path) as kernels:
        kernels.start_next(first)  # the run's first: needed at once, booted with the least
        kernels.start_ahead([later])
        for notebook in (first, later):
            kernel = kernels.take(notebook)
            runner.execute_notebook(notebook, tmp_path / f"out-{notebook.name}", {}, kernel)
            kernels.done(kernel)
    loaded = {nb.name: read_records(nbformat.read(tmp_path / f"out-{nb.name}", as_version=4))["loaded"]
              for nb in (first, later)}
    assert loaded == {"01-a.ipynb": [], "02-b.ipynb": ["pydantic", "runbook.terraform.planning"]}


@pytest.mark.slow  # boots real kernels
def test_a_notebook_that_imports_pyplot_gets_its_backend_at_boot_and_its_figures_inline(tmp_path):
    notebook = modules_notebook(tmp_path / "01-plot.ipynb", top="import matplotlib.pyplot as plt")
    nb = nbformat.read(notebook, as_version=4)
    nb.cells.append(new_code_cell("plt.plot([1, 2], [3, 4])\nplt.show()"))
    nbformat.write(nb, notebook)
    with WarmKernels(tmp_path) as kernels:
        kernels.start_next(notebook)
        kernel = kernels.take(notebook)
        runner.execute_notebook(notebook, tmp_path / "out.ipynb", {}, kernel)
    done = nbformat.read(tmp_path / "out.ipynb", as_version=4)
    assert read_records(done)["loaded"] == ["matplotlib_inline.backend_inline"]
    figure = done.cells[-1].outputs
    assert [o["output_type"] for o in figure] == ["display_data"] and "image/png" in figure[0]["data"]


@pytest.mark.slow  # boots real kernels
def test_the_runner_keeps_the_next_four_notebooks_kernels_booting_the_next_at_once(tmp_path, monkeypatch):
    notebooks = [probe_notebook(tmp_path / f"0{n}-n.ipynb") for n in range(1, 7)]
    events = []

    class Kernels(WarmKernels):
        def start_next(self, notebook=None, ahead=False, when_spare=False):
            events.append(("start", notebook.name, "spare" if when_spare else "now"))

        def take(self, notebook=None):
            return object()

        def done(self, manager):
            pass

    monkeypatch.setattr(runner, "execute_notebook", lambda notebook, *args: events.append(("run", notebook.name)))
    results = runner._run_notebooks("staging", notebooks, {}, tmp_path / "out", None, [], Kernels(tmp_path))
    assert [r.status for r in results] == ["ok"] * 6

    def booted(after, upto):  # what notebook ``after`` starting asks for: the next one now, the others when spare
        return [("start", f"0{n}-n.ipynb", "now" if n == after + 1 else "spare") for n in range(after + 1, upto + 1)]

    # (WarmKernels skips one already booking, or launches it now if it is the next)
    assert events == [*booted(1, 5), ("run", "01-n.ipynb"), *booted(2, 6), ("run", "02-n.ipynb"),
                      *booted(3, 6), ("run", "03-n.ipynb"), *booted(4, 6), ("run", "04-n.ipynb"),
                      *booted(5, 6), ("run", "05-n.ipynb"), ("run", "06-n.ipynb")]


@pytest.mark.slow  # boots real kernels
def test_kernels_boot_one_at_a_time_each_once_the_one_before_has_answered(tmp_path):
    import psutil

    first, second = probe_notebook(tmp_path / "01-a.ipynb"), probe_notebook(tmp_path / "02-b.ipynb")
    with WarmKernels(tmp_path) as kernels:
        kernels.start_ahead([first, second])
        managers = [kernels.take(first), kernels.take(second)]
        created = [psutil.Process(m.provisioner.pid).create_time() for m in managers]
        # launched side by side they would be a few hundredths of a second apart; the first kernel's boot (its
        # warm imports) takes about a second here
        assert created[1] - created[0] > 0.3
        for manager in managers:
            kernels.done(manager)


@pytest.mark.slow  # boots real kernels
def test_close_does_not_wait_for_kernels_still_queued(tmp_path):
    import time

    notebooks = [probe_notebook(tmp_path / f"0{n}-n.ipynb") for n in range(1, 5)]
    kernels = WarmKernels(tmp_path)
    kernels.start_ahead(notebooks)
    started = time.monotonic()
    kernels.close()
    assert time.monotonic() - started < 5, "at most the one being launched is waited for"
    assert kernels._starter is None and kernels._booting == []


@pytest.mark.slow  # boots real kernels
def test_a_kernel_that_never_answers_is_handed_out_after_the_timeout(tmp_path, monkeypatch):
    """The starter stops waiting (papermill then reports the kernel); it never holds ``take`` for ever."""
    import runbook.execution.kernels as kernels_module

    monkeypatch.setattr(kernels_module, "_boot_arguments", lambda modules: [
        *kernels_module._ARGUMENTS, "--IPKernelApp.exec_lines=import time; time.sleep(30)"])
    monkeypatch.setattr(kernels_module, "STARTUP_TIMEOUT", 1.0)
    kernels = WarmKernels(tmp_path)
    kernels.start_next()
    manager = kernels.take()
    assert run_sync(manager.is_alive)(), "still booting: handed out after the timeout, not when it answered"
    kernels.close()
    assert not run_sync(manager.is_alive)()


def busy_cpu(idle_share: float):
    """A stand-in for ``/proc/stat``'s (idle, total) ticks: the machine ``idle_share`` idle from now on."""
    ticks = [0]

    def times():
        ticks[0] += 1000
        return int(ticks[0] * idle_share), ticks[0]
    return times


@pytest.mark.slow  # boots real kernels
def test_a_kernel_beyond_the_next_waits_for_spare_cpu_unless_its_notebook_is_about_to_run(tmp_path, monkeypatch):
    import time

    import runbook.execution.kernels as kernels_module

    monkeypatch.setattr(kernels_module, "_cpu_times", busy_cpu(0.1))  # Terraform starting its provider: 90% busy
    first, second = probe_notebook(tmp_path / "01-a.ipynb"), probe_notebook(tmp_path / "02-b.ipynb")
    with WarmKernels(tmp_path) as kernels:
        kernels.start_ahead([first, second])
        kernels._booting[0].launched.result()  # the next notebook's: launched at once
        time.sleep(2 * kernels_module.SPARE_SECONDS + 0.5)
        assert not kernels._booting[1].launched.done(), "no CPU to spare: the later kernel is not launched yet"
        kernel = kernels.take(second)  # its notebook is about to run: launched now, spare CPU or not
        assert run_sync(kernel.is_alive)()
        kernels.done(kernel)


@pytest.mark.slow  # boots real kernels
def test_a_kernel_beyond_the_next_boots_as_soon_as_the_cpu_has_some_to_spare(tmp_path, monkeypatch):
    import runbook.execution.kernels as kernels_module

    monkeypatch.setattr(kernels_module, "_cpu_times", busy_cpu(0.9))  # the provider waiting on the cloud
    first, second = probe_notebook(tmp_path / "01-a.ipynb"), probe_notebook(tmp_path / "02-b.ipynb")
    with WarmKernels(tmp_path) as kernels:
        kernels.start_ahead([first, second])
        later = kernels._booting[1].launched.result(timeout=60)  # nobody asked for it: launched on spare CPU
        assert run_sync(later.is_alive)()


def test_waiting_for_spare_cpu_ends_when_told_or_where_the_system_does_not_say(monkeypatch):
    import time

    import runbook.execution.kernels as kernels_module

    monkeypatch.setattr(kernels_module, "_cpu_times", busy_cpu(0.0))
    started = time.monotonic()
    deadline = started + 1.0
    kernels_module.wait_for_spare_cpu(lambda: time.monotonic() > deadline)
    assert 1.0 <= time.monotonic() - started < 2.0, "a busy machine: it waits until told to stop"
    monkeypatch.setattr(kernels_module, "_cpu_times", lambda: None)
    started = time.monotonic()
    kernels_module.wait_for_spare_cpu(lambda: False)
    assert time.monotonic() - started < 0.1, "no /proc/stat: no waiting"


def test_the_machine_s_cpu_times_are_read_from_proc_stat():
    import runbook.execution.kernels as kernels_module

    if not Path("/proc/stat").exists():
        pytest.skip("no /proc/stat on this system: the kernels boot without waiting for spare CPU")
    idle, total = kernels_module._cpu_times()
    assert 0 < idle < total


def _may_raise_priority() -> bool:
    """Whether this system lets a process raise its CPU priority back (CAP_SYS_NICE or RLIMIT_NICE), probed in a
    child process."""
    import os

    pid = os.fork()
    if pid == 0:
        try:
            os.setpriority(os.PRIO_PROCESS, 0, 5)
            os.setpriority(os.PRIO_PROCESS, 0, 0)
            os._exit(0)
        except OSError:
            os._exit(1)
    return os.waitpid(pid, 0)[1] == 0


@pytest.mark.slow  # boots real kernels
def test_a_kernel_booting_ahead_has_a_lower_cpu_priority_until_its_notebook_starts(tmp_path):
    import os

    from runbook.execution.kernels import AHEAD_NICE

    def priority(pid):  # the kernel's threads' nice value (Linux keeps one per thread), its session's
        tasks = Path(f"/proc/{pid}/task")
        threads = [int(t.name) for t in tasks.iterdir()] if tasks.exists() else [pid]
        nice = {os.getpriority(os.PRIO_PROCESS, t) for t in threads}
        autogroup = Path(f"/proc/{pid}/autogroup")  # Linux: the session's share of the CPU (sched(7))
        session = autogroup.read_text().split()[-1] if autogroup.exists() else None
        return (nice.pop() if len(nice) == 1 else sorted(nice)), session

    first, later = probe_notebook(tmp_path / "01-a.ipynb"), probe_notebook(tmp_path / "02-b.ipynb")
    with WarmKernels(tmp_path) as kernels:
        kernels.start_next(first)  # the run's first kernel: needed at once, at the normal priority
        kernels.start_ahead([later])
        pids = [b.launched.result().provisioner.pid for b in kernels._booting]
        with_autogroup = Path(f"/proc/{pids[0]}/autogroup").exists()
        assert priority(pids[0]) == (0, "0" if with_autogroup else None)
        assert priority(pids[1]) == (AHEAD_NICE, str(AHEAD_NICE) if with_autogroup else None)
        kernel = kernels.take(later)
        if not _may_raise_priority():
            pytest.skip("this system does not let a process raise a CPU priority back: the kernel keeps "
                        f"nice {AHEAD_NICE} for its notebook")
        assert priority(pids[1]) == (0, "0" if with_autogroup else None), "its notebook runs at the normal priority"
        kernels.done(kernel)
