"""runbook runs a notebook on papermill's own engine: the executed notebook is papermill's."""

import nbformat
import papermill
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from runbook.execution import runner
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


def shown(cell) -> tuple:
    """A cell as a reader sees it: its source and outputs, a stream's text joined (the kernel may send one print
    as one message or two, whichever engine runs it)."""
    outputs, streams = [], {}
    for output in cell.get("outputs") or []:
        if output["output_type"] == "stream":
            streams[output["name"]] = streams.get(output["name"], "") + output["text"]
        else:
            outputs.append(output)
    return cell.source, sorted(streams.items()), outputs


def test_the_executed_notebook_is_papermills(tmp_path):
    notebook = quick_notebook(tmp_path / "quick.ipynb")
    runner.execute_notebook(notebook, tmp_path / "ours.ipynb", {"label": "same"})
    papermill.execute_notebook(
        str(notebook), str(tmp_path / "theirs.ipynb"), parameters={"label": "same"}, progress_bar=False
    )
    ours, theirs = (nbformat.read(tmp_path / f"{who}.ipynb", as_version=4) for who in ("ours", "theirs"))
    assert read_records(ours) == {"total": sum(range(20)), "label": "same"}
    assert all(c.metadata.papermill["status"] == "completed" for c in ours.cells)
    assert [shown(c) for c in ours.cells] == [shown(c) for c in theirs.cells]
    assert ours.metadata.papermill["duration"] > 0


def test_a_failing_notebook_is_written_as_far_as_it_ran(tmp_path):
    notebook = quick_notebook(tmp_path / "fails.ipynb", cells=3, failing=True)
    with pytest.raises(papermill.PapermillExecutionError, match="stopped here"):
        runner.execute_notebook(notebook, tmp_path / "out.ipynb", {})
    done = nbformat.read(tmp_path / "out.ipynb", as_version=4)
    statuses = [c.metadata.papermill["status"] for c in done.cells if c.cell_type == "code"]
    assert statuses[-2:] == ["failed", "pending"], "the failing cell, then the one never run"
    assert "ValueError" in str([c.outputs for c in done.cells if c.cell_type == "code"][-2])
