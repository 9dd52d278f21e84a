"""runbook's papermill engine: the same executed notebook, far fewer writes of it while it runs."""

import nbformat
import papermill
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from runbook.execution import engine, runner
from runbook.execution.record import read_records

KERNELSPEC = {"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}}


def quick_notebook(path, cells: int = 20, failing: bool = False):
    nb = new_notebook(metadata=KERNELSPEC)
    parameters = new_code_cell('label: str = "x"  # a label')
    parameters.metadata["tags"] = ["parameters"]
    nb.cells = [parameters, new_code_cell("from runbook.execution.record import record\ntotal = 0")]
    for n in range(cells):
        nb.cells += [new_markdown_cell(f"Step {n}"), new_code_cell(f"total += {n}\nprint({n})")]
    if failing:
        nb.cells.append(new_code_cell("raise ValueError('stopped here')"))
    nb.cells.append(new_code_cell("record('total', total)\nrecord('label', label)"))
    nbformat.write(nb, path)
    return path


@pytest.fixture
def writes(monkeypatch):
    """Every write of an output notebook papermill's execution manager makes, by path."""
    import papermill.engines

    made = []
    write = papermill.engines.write_ipynb
    monkeypatch.setattr(papermill.engines, "write_ipynb", lambda nb, path: (made.append(path), write(nb, path)))
    return made


@pytest.mark.notebooks
def test_the_executed_notebook_is_papermills_with_a_fraction_of_the_writes(tmp_path, writes):
    notebook = quick_notebook(tmp_path / "quick.ipynb")
    runner.execute_notebook(notebook, tmp_path / "ours.ipynb", {"label": "ours"})
    ours = len(writes)
    writes.clear()
    papermill.execute_notebook(str(notebook), str(tmp_path / "theirs.ipynb"), parameters={"label": "theirs"},
                               progress_bar=False)
    theirs = len(writes)
    cells = len(nbformat.read(notebook, as_version=4).cells) + 1  # and the injected parameters
    assert theirs >= 2 * cells, "papermill's engine writes before and after every cell"
    assert ours <= 6, f"{ours} writes of a notebook that runs in about a second (papermill's: {theirs})"
    done = nbformat.read(tmp_path / "ours.ipynb", as_version=4)
    assert read_records(done) == {"total": sum(range(20)), "label": "ours"}
    code = [c for c in done.cells if c.cell_type == "code"]
    assert all(c.metadata.papermill["status"] == "completed" for c in done.cells)
    assert [c.outputs[0]["text"] for c in code[3:-1]] == [f"{n}\n" for n in range(20)]
    assert done.metadata.papermill["duration"] > 0 and all(c.metadata.papermill["end_time"] for c in code)


@pytest.mark.notebooks
def test_a_failing_notebook_is_written_as_far_as_it_ran(tmp_path):
    notebook = quick_notebook(tmp_path / "fails.ipynb", cells=3, failing=True)
    with pytest.raises(papermill.PapermillExecutionError, match="stopped here"):
        runner.execute_notebook(notebook, tmp_path / "out.ipynb", {})
    done = nbformat.read(tmp_path / "out.ipynb", as_version=4)
    statuses = [c.metadata.papermill["status"] for c in done.cells if c.cell_type == "code"]
    assert statuses[-2:] == ["failed", "pending"], "the failing cell, then the one never run"
    assert "ValueError" in str([c.outputs for c in done.cells if c.cell_type == "code"][-2])


def test_a_write_is_skipped_only_within_the_interval_of_the_last(monkeypatch):
    clock = [100.0]
    monkeypatch.setattr(engine.time, "monotonic", lambda: clock[0])
    made = []
    save = engine._throttled(lambda **kwargs: made.append(clock[0]), interval=1.0)
    for at in (100.2, 100.9, 101.0, 101.5, 101.99, 102.0, 105.0):
        clock[0] = at
        save()
    assert made == [101.0, 102.0, 105.0]


def test_the_engine_is_registered_under_its_name():
    from papermill.engines import papermill_engines

    assert papermill_engines.get_engine(engine.NAME) is engine.ThrottledSaves
