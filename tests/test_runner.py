"""The runner and the CLI's argument handling (no notebooks of the project are executed here)."""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_notebook

from runbook import paths
from runbook.cli import main
from runbook.errors import ParameterError
from runbook.execution import runner

RUNBOOK = [sys.executable, "-m", "runbook.cli"]


def notebook(path: Path, *sources: str) -> Path:
    nb = new_notebook(metadata={"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}})
    cells = [new_code_cell('environment: str = "staging"  # env\naws_endpoint_url: str = ""  # endpoint')]
    cells[0].metadata["tags"] = ["parameters"]
    nb.cells = cells + [new_code_cell(s) for s in sources]
    nbformat.write(nb, path)
    return path


def test_select_notebooks_by_name_number_or_stem():
    names = [nb.stem for nb in runner.select_notebooks()]
    assert names == sorted(names) and names[0] == "01-setup"
    assert [nb.stem for nb in runner.select_notebooks(["setup"])] == ["01-setup"]
    assert [nb.stem for nb in runner.select_notebooks(["01"])] == ["01-setup"]
    with pytest.raises(ParameterError, match="--only"):
        runner.select_notebooks(["nope"])


def test_resolve_environments():
    assert runner.resolve_environments("all") == ["staging", "production"]
    with pytest.raises(ParameterError, match="--env"):
        runner.resolve_environments("qa")


@pytest.mark.parametrize(
    "argv, words",
    [
        (["run", "--env", "qa"], "--env"),
        (["run", "--only", "nope"], "--only"),
        (["run", "--target", "gcp"], "--target"),
        (["run", "--bogus"], "--bogus"),
        (["cost", "--env", "qa"], "--env"),
        (["emulator", "--port", "-1"], "--port"),
    ],
)
def test_bad_arguments_are_one_line_and_exit_2(argv, words):
    proc = subprocess.run(RUNBOOK + argv, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and words in lines[0] and "Traceback" not in proc.stderr


@pytest.mark.notebooks
def test_failure_is_reported_and_the_failed_notebook_kept(tmp_path):
    bad = notebook(tmp_path / "01-bad.ipynb", "print('before')", "raise ValueError('boom: the table is on fire')")
    later = notebook(tmp_path / "02-later.ipynb", "print('never')")
    results = runner.run_environment("staging", [bad, later], None, tmp_path / "out", work_dir=tmp_path / "work")
    assert [r.status for r in results] == ["failed", "skipped"]
    assert results[0].error == "ValueError: boom: the table is on fire"
    executed = json.loads(Path(results[0].output).read_text())
    assert executed["metadata"]["papermill"]["exception"] is True
    assert not (tmp_path / "out" / "02-later.ipynb").exists()


@pytest.mark.notebooks
def test_cli_summary_names_the_failure_and_exits_1(tmp_path):
    root = tmp_path / "repo"
    shutil.copytree(paths.ENVIRONMENT_FILES, root / "notebooks" / "environments")
    notebook(root / "notebooks" / "01-bad.ipynb", "raise RuntimeError('setup incomplete')")
    notebook(root / "notebooks" / "02-next.ipynb", "print(1)")
    env = {**os.environ, "RUNBOOK_ROOT": str(root), "COLUMNS": "200"}
    proc = subprocess.run(
        RUNBOOK + ["run", "--target", "aws", "--work-dir", str(tmp_path / "work")],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "01-bad" in proc.stdout and "failed" in proc.stdout and "RuntimeError: setup incomplete" in proc.stdout
    assert "skipped" in proc.stdout
    assert (root / "build" / "runs" / "staging" / "01-bad.ipynb").is_file()


def test_main_returns_2_for_usage_errors(capsys):
    assert main(["run", "--env", "qa"]) == 2
    assert "runbook run: error:" in capsys.readouterr().err


@pytest.mark.notebooks
def test_a_busy_work_directory_is_reported_not_shared(tmp_path):
    nb = notebook(tmp_path / "01-ok.ipynb", "print('hi')")
    with runner.lock_work_dir(tmp_path / "work" / "staging"):  # --work-dir work: staging's is work/staging
        results = runner.run_environment("staging", [nb], None, tmp_path / "out", work_dir=tmp_path / "work")
    assert results[0].status == "failed" and "another runbook run is using" in results[0].error
    results = runner.run_environment("staging", [nb], None, tmp_path / "out", work_dir=tmp_path / "work")
    assert results[0].status == "ok"
