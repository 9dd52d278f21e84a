"""The published copies of the executed notebooks (:func:`publish_notebook`): papermill's injected-parameters cell and
the recorded values dropped, local paths made relative, every text masked; a placeholder page for a runbook not
executed yet (:func:`placeholder_notebook`); :func:`stage_runbooks` puts them where mkdocs reads them.

Publish layer: imports the layers below it.
"""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path
from typing import Iterable

from runbook import paths
from runbook.execution.record import MIME_TYPE, read_records
from runbook.publish.docs import PUBLISHED_ENVIRONMENT, published_runs_dir
from runbook.publish.masking import PLACEHOLDERS, RUNS_DIR, WORK_DIR, mask_notebook
from runbook.publish.runsummary import _SECRET_PARAMETER, _relative, _source, _tags, run_summary

_DEFAULTS_NOTE = (
    "*Defaults* — the notebook's parameters cell as written: what a run **without** parameters "
    "would use. This run's values are in the next cell and in the run record above."
)


_INJECTED_NOTE = "*This run's parameters* — the cell papermill injected: the values this run used."


def _work_dir_of(nb: dict) -> Path | None:
    parameters = (nb.get("metadata", {}).get("papermill") or {}).get("parameters") or {}
    environment = str(parameters.get("environment") or PUBLISHED_ENVIRONMENT)
    value = str(parameters.get("work_dir") or "").strip()
    path = paths.work_dir(environment, Path(value).expanduser() if value else None)  # work_dir: the base
    return path if path.is_absolute() else (paths.ROOT / path)


def machine_paths_of(nb: dict) -> dict[str, str]:
    """The run's own paths (its work directory, its output directory) to mask as placeholders."""
    found: dict[str, str] = {}
    work = _work_dir_of(nb)
    if work is not None:
        found[str(work)] = WORK_DIR
        found[str(work.parent)] = f"{WORK_DIR}/.."  # beside it: the state bucket's bootstrap, other environments
    papermill = nb.get("metadata", {}).get("papermill") or {}
    for key in ("output_path",):
        value = papermill.get(key)
        if isinstance(value, str) and value.startswith("/"):
            found[str(Path(value).parent)] = RUNS_DIR
    tfvars = read_records(nb).get("tfvars_path")
    if (
        isinstance(tfvars, str)
        and tfvars.startswith("/")
        and work is not None
        and not tfvars.startswith(str(work))
        and not tfvars.startswith(str(paths.ROOT))
    ):
        found[str(Path(tfvars).parent)] = WORK_DIR
    return found


def _without_default_index(html_text: str) -> str:
    """A pandas HTML table without its 0…n-1 index column (an index that means nothing)."""
    if 'class="dataframe' not in html_text:
        return html_text
    row_heads = re.findall(r"<tr[^>]*>\s*<th[^>]*>(.*?)</th>", html_text.split("</thead>", 1)[-1], flags=re.DOTALL)
    if not row_heads or [h.strip() for h in row_heads] != [str(i) for i in range(len(row_heads))]:
        return html_text
    head, _, body = html_text.partition("</thead>")
    if "</thead>" not in html_text:
        return html_text
    # the header rows: drop their first (empty, or the index name) cell
    head = re.sub(r"(<tr[^>]*>)\s*<th[^>]*>[^<]*</th>", r"\1", head)
    body = re.sub(r"(<tr[^>]*>)\s*<th[^>]*>\d+</th>", r"\1", body)
    return head + "</thead>" + body


def publish_notebook(nb: dict) -> dict:
    """The published copy of executed notebook ``nb``: a run record on top, the defaults and the injected
    parameters labelled as such, no recorded values, no meaningless index columns, masked."""
    nb = copy.deepcopy(nb)
    records = read_records(nb)
    work_dir = _work_dir_of(nb)
    summary = run_summary(nb, records, work_dir)
    extra_paths = machine_paths_of(nb)
    cells = []
    for cell in nb.get("cells", []):
        tags = _tags(cell)
        if "parameters" in tags:
            cells.append(_markdown_cell(_DEFAULTS_NOTE, "runbook-defaults-note"))
        if "injected-parameters" in tags:
            cells.append(_markdown_cell(_INJECTED_NOTE, "runbook-injected-note"))
        if cell.get("cell_type") == "code":
            outputs = []
            for output in cell.get("outputs", []) or []:
                data = output.get("data")
                if isinstance(data, dict) and MIME_TYPE in data:
                    data.pop(MIME_TYPE)
                    if not data:
                        continue
                if isinstance(data, dict) and "text/html" in data:
                    html_value = data["text/html"]
                    joined = "".join(html_value) if isinstance(html_value, list) else html_value
                    data["text/html"] = _without_default_index(joined)
                outputs.append(output)
            cell["outputs"] = outputs
        cells.append(cell)
    title = next(
        (i for i, c in enumerate(cells) if c.get("cell_type") == "markdown" and _source(c).lstrip().startswith("# ")),
        -1,
    )
    cells.insert(title + 1, _markdown_cell(summary, "runbook-run-record"))
    nb["cells"] = cells
    papermill = nb.get("metadata", {}).get("papermill")
    if isinstance(papermill, dict):
        for key in ("input_path", "output_path"):
            papermill[key] = _relative(papermill.get(key))
        parameters = papermill.get("parameters")
        if isinstance(parameters, dict):
            for name in list(parameters):
                if _SECRET_PARAMETER.search(name):
                    parameters[name] = "<redacted>"
    for cell in nb["cells"]:
        if "injected-parameters" in _tags(cell):
            cell["source"] = "\n".join(
                re.sub(r"^(\s*(\w+)\s*=\s*).*$", lambda m: m.group(1) + '"<redacted>"', line)
                if _SECRET_PARAMETER.search(line.split("=", 1)[0]) and "=" in line
                else line
                for line in _source(cell).splitlines()
            )
    return runnable_parameters(mask_notebook(nb, paths=extra_paths))


def runnable_parameters(nb: dict) -> dict:
    """``nb`` with no masking placeholder left where papermill or Python expects a parameter's value.

    Masking turns this run's endpoint or work directory into ``"<endpoint>"``: run again, that value would be
    used (and fail at once). Such a line of the injected-parameters cell becomes a comment saying the value is
    not published, so the default of the parameters cell applies and ``-p NAME VALUE`` gives your own.
    """
    for cell in nb.get("cells", []):
        if "injected-parameters" not in _tags(cell):
            continue
        lines = []
        for line in _source(cell).splitlines():
            match = re.match(r"^(\s*)(\w+)\s*=", line)
            if match and any(p in line.split("=", 1)[1] for p in PLACEHOLDERS):
                line = (
                    f"{match[1]}# {match[2]}: this run's value is not published (masked); the default above "
                    f"applies, pass yours with -p {match[2]} VALUE"
                )
            lines.append(line)
        cell["source"] = "\n".join(lines)
    return nb


def template_notebook(name: str) -> dict | None:
    """The runbook as committed (``notebooks/<name>.ipynb``, no outputs): the download a reader runs as is."""
    source = paths.NOTEBOOKS / f"{name}.ipynb"
    if not source.is_file():
        return None
    nb = json.loads(source.read_text(encoding="utf-8"))
    for cell in nb.get("cells", []):
        if cell.get("cell_type") == "code":
            cell["outputs"], cell["execution_count"] = [], None
    return mask_notebook(nb)


def _markdown_cell(source: str, cell_id: str) -> dict:
    return {"cell_type": "markdown", "id": cell_id, "metadata": {}, "source": source}


def placeholder_notebook(name: str, source: Path | None = None) -> dict:
    """The page for runbook ``name`` when it has no executed notebook: says so, then shows the unexecuted cells."""
    notice = (
        f"**This runbook has not been executed for this site yet.** `build/runs/{PUBLISHED_ENVIRONMENT}/{name}.ipynb` "
        "does not exist: run `runbook run` (or `runbook docs`, which runs the notebooks first when their results "
        "are missing) and rebuild the site. The cells below are the runbook without results."
    )
    if source is not None and source.exists():
        nb = json.loads(source.read_text(encoding="utf-8"))
        for cell in nb.get("cells", []):
            if cell.get("cell_type") == "code":
                cell["outputs"], cell["execution_count"] = [], None
        title = next(
            (
                c
                for c in nb["cells"]
                if c.get("cell_type") == "markdown" and "".join(c.get("source", "")).lstrip().startswith("# ")
            ),
            None,
        )
        position = nb["cells"].index(title) + 1 if title is not None else 0
        nb["cells"].insert(position, _markdown_cell(notice, "runbook-not-executed"))
        return mask_notebook(nb)
    title = name[3:].replace("-", " ").capitalize() if name[:2].isdigit() else name
    return {
        "nbformat": 4,
        "nbformat_minor": 5,
        "metadata": {
            "kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
            "language_info": {"name": "python"},
        },
        "cells": [
            _markdown_cell(f"# {name[:2]} · {title}", "runbook-title"),
            _markdown_cell(
                notice.replace(
                    "The cells below are the runbook without results.",
                    f"`notebooks/{name}.ipynb` does not exist yet either.",
                ),
                "runbook-not-executed",
            ),
        ],
    }


def stage_runbooks(names: Iterable[str], destination: Path, runs_dir: Path | None = None) -> dict[str, str]:
    """Write the published notebook (or placeholder) of each runbook into ``destination``.

    Returns ``{name: "executed" | "failed" | "not executed"}``. Executed notebooks found beyond ``names`` are
    staged too (listed in the result), so a new runbook is published before it is added to the navigation.
    """
    runs_dir = runs_dir or published_runs_dir()
    destination.mkdir(parents=True, exist_ok=True)
    executed = {p.stem: p for p in sorted(runs_dir.glob("[0-9][0-9]-*.ipynb"))} if runs_dir.is_dir() else {}
    status: dict[str, str] = {}
    for name in dict.fromkeys([*names, *executed]):
        if name in executed:
            nb = json.loads(executed[name].read_text(encoding="utf-8"))
            failed = bool(nb.get("metadata", {}).get("papermill", {}).get("exception"))
            nb, status[name] = publish_notebook(nb), "failed" if failed else "executed"
        else:
            nb, status[name] = placeholder_notebook(name, paths.NOTEBOOKS / f"{name}.ipynb"), "not executed"
        _write_if_changed(destination / f"{name}.ipynb", json.dumps(nb, indent=1, ensure_ascii=False) + "\n")
    return status


def _write_if_changed(path: Path, text: str) -> None:
    if not path.exists() or path.read_text(encoding="utf-8") != text:
        path.write_text(text, encoding="utf-8")
