"""Warm kernels: booted ahead, modules imported, no names bound, one notebook each, all shut down."""

from pathlib import Path

import nbformat
from jupyter_core.utils import run_sync
from nbformat.v4 import new_code_cell, new_notebook

from runbook.execution import runner
from runbook.execution.kernels import WARM_IMPORTS, WarmKernels
from runbook.execution.record import read_records


def probe_notebook(path):
    nb = new_notebook(metadata={"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}})
    parameters = new_code_cell('environment: str = "staging"  # env')
    parameters.metadata["tags"] = ["parameters"]
    nb.cells = [
        parameters,
        new_code_cell(
            "import os, sys\n"
            "from runbook.execution.record import record\n"
            f"record('imported', sorted(m for m in {WARM_IMPORTS!r} if m in sys.modules))\n"
            "record('bound', sorted(n for n in ('pandas', 'boto3', 'runbook', 'm') if n in globals()))\n"
            "record('cwd', os.getcwd())\n"
            "record('pid', os.getpid())"
        ),
    ]
    nbformat.write(nb, path)
    return path


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


def test_each_notebook_gets_its_own_kernel_and_none_are_left(tmp_path):
    first = probe_notebook(tmp_path / "01-a.ipynb")
    second = probe_notebook(tmp_path / "02-b.ipynb")
    results = runner.run_environment("staging", [first, second], None, tmp_path / "out", work_dir=tmp_path / "w")
    assert [r.status for r in results] == ["ok", "ok"]
    pids = [read_records(nbformat.read(r.output, as_version=4))["pid"] for r in results]
    assert pids[0] != pids[1], "notebooks must not share a kernel"


def test_close_stops_a_kernel_still_booting(tmp_path):
    kernels = WarmKernels(tmp_path)
    kernels.start_next()
    booting = kernels._booting[0].launched.result()
    kernels.close()
    assert not run_sync(booting.is_alive)()


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
    nb.cells = [
        new_code_cell(
            "import sys\n"
            "loaded = sorted(m for m in ('runbook.terraform.planning', 'pydantic', 'matplotlib_inline.backend_inline')"
            " if m in sys.modules)\n" + top
        ),
        new_code_cell("from runbook.execution.record import record\nrecord('loaded', loaded)"),
    ]
    nbformat.write(nb, path)
    return path


def test_a_kernel_booting_ahead_also_has_the_plan_readers_and_the_run_s_first_does_not(tmp_path):
    first, later = modules_notebook(tmp_path / "01-a.ipynb"), modules_notebook(tmp_path / "02-b.ipynb")
    with WarmKernels(tmp_path) as kernels:
        kernels.start_next(first)  # the run's first: needed at once, booted with the least
        kernels.start_ahead([later])
        for notebook in (first, later):
            kernel = kernels.take(notebook)
            runner.execute_notebook(notebook, tmp_path / f"out-{notebook.name}", {}, kernel)
            kernels.done(kernel)
    loaded = {
        nb.name: read_records(nbformat.read(tmp_path / f"out-{nb.name}", as_version=4))["loaded"]
        for nb in (first, later)
    }
    assert loaded == {"01-a.ipynb": [], "02-b.ipynb": ["pydantic", "runbook.terraform.planning"]}


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


def test_the_runner_keeps_the_next_notebooks_kernels_booting(tmp_path, monkeypatch):
    notebooks = [probe_notebook(tmp_path / f"0{n}-n.ipynb") for n in range(1, 7)]
    events = []

    class Kernels(WarmKernels):
        def start_next(self, notebook=None, ahead=False):
            events.append(("start", notebook.name, ahead))

        def take(self, notebook=None):
            return object()

        def done(self, manager):
            pass

    monkeypatch.setattr(runner, "execute_notebook", lambda notebook, *args: events.append(("run", notebook.name)))
    results = runner._run_notebooks("staging", notebooks, {}, tmp_path / "out", None, [], Kernels(tmp_path))
    assert [r.status for r in results] == ["ok"] * 6

    def booted(after):  # what notebook ``after`` starting asks for: the next KERNELS_AHEAD (the first notebook:
        # KERNELS_AHEAD_OF_FIRST; WarmKernels skips one already booting)
        count = runner.KERNELS_AHEAD_OF_FIRST if after == 1 else runner.KERNELS_AHEAD
        return [("start", f"0{n}-n.ipynb", True) for n in range(after + 1, min(after + count, 6) + 1)]

    assert events == [event for n in range(1, 7) for event in (*booted(n), ("run", f"0{n}-n.ipynb"))]


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


def test_close_does_not_wait_for_kernels_still_queued(tmp_path):
    import time

    notebooks = [probe_notebook(tmp_path / f"0{n}-n.ipynb") for n in range(1, 5)]
    kernels = WarmKernels(tmp_path)
    kernels.start_ahead(notebooks)
    started = time.monotonic()
    kernels.close()
    assert time.monotonic() - started < 5, "at most the one being launched is waited for"
    assert kernels._starter is None and kernels._booting == []


def test_a_kernel_that_never_answers_is_handed_out_after_the_timeout(tmp_path, monkeypatch):
    """The starter stops waiting (papermill then reports the kernel); it never holds ``take`` for ever."""
    import runbook.execution.kernels as kernels_module

    monkeypatch.setattr(
        kernels_module,
        "_boot_arguments",
        lambda modules: [*kernels_module._ARGUMENTS, "--IPKernelApp.exec_lines=import time; time.sleep(30)"],
    )
    monkeypatch.setattr(kernels_module, "STARTUP_TIMEOUT", 1.0)
    kernels = WarmKernels(tmp_path)
    kernels.start_next()
    manager = kernels.take()
    assert run_sync(manager.is_alive)(), "still booting: handed out after the timeout, not when it answered"
    kernels.close()
    assert not run_sync(manager.is_alive)()
