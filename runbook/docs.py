"""The documentation site: ``runbook docs [--serve]``, and what the mkdocs hooks (``docs/hooks/``) publish.

* :func:`build` runs the staging notebooks first when ``build/runs/staging/`` is missing or older than
  ``notebooks/``, then ``mkdocs build --strict`` (or ``mkdocs serve`` on 127.0.0.1).
* :func:`publish_notebook` turns an executed notebook into its published copy: papermill's injected-parameters
  cell and the recorded values (:data:`runbook.record.MIME_TYPE`) dropped, local paths made relative, and every
  text masked with :func:`runbook.masking.mask_notebook`.
* :func:`placeholder_notebook` is the page of a runbook that has not been executed yet.
* :func:`environment_differences` is the configuration page's table, generated from the tfvars examples.
"""

from __future__ import annotations

import copy
import json
import os
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any, Iterable

from . import paths
from .masking import mask, mask_notebook
from .record import MIME_TYPE

#: The environment whose executed notebooks the site publishes.
PUBLISHED_ENVIRONMENT = "staging"
#: Overrides where the hooks take executed notebooks from (default ``build/runs/staging``).
RUNS_VARIABLE = "RUNBOOK_DOCS_RUNS"
MKDOCS_YML = paths.ROOT / "mkdocs.yml"


# -- published notebooks --------------------------------------------------------------------------------------
def published_runs_dir() -> Path:
    """Where the executed notebooks to publish are: ``$RUNBOOK_DOCS_RUNS`` or ``build/runs/staging``."""
    override = os.environ.get(RUNS_VARIABLE, "").strip()
    return Path(override).resolve() if override else paths.runs_dir(PUBLISHED_ENVIRONMENT)


def _tags(cell: dict) -> list[str]:
    return list(cell.get("metadata", {}).get("tags", []) or [])


def _relative(value: Any) -> Any:
    """An absolute path inside the repository as a repository-relative one (no local paths on the site)."""
    if isinstance(value, str) and value.startswith(str(paths.ROOT) + os.sep):
        return os.path.relpath(value, paths.ROOT)
    return value


def publish_notebook(nb: dict) -> dict:
    """The published copy of executed notebook ``nb``: no injected parameters, no recorded values, masked."""
    nb = copy.deepcopy(nb)
    cells = []
    for cell in nb.get("cells", []):
        if "injected-parameters" in _tags(cell):
            continue
        if cell.get("cell_type") == "code":
            outputs = []
            for output in cell.get("outputs", []) or []:
                data = output.get("data")
                if isinstance(data, dict) and MIME_TYPE in data:
                    data.pop(MIME_TYPE)
                    if not data:
                        continue
                outputs.append(output)
            cell["outputs"] = outputs
        cells.append(cell)
    nb["cells"] = cells
    papermill = nb.get("metadata", {}).get("papermill")
    if isinstance(papermill, dict):
        for key in ("input_path", "output_path"):
            papermill[key] = _relative(papermill.get(key))
        papermill.pop("parameters", None)  # the injected values, dropped with their cell
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
        title = next((c for c in nb["cells"] if c.get("cell_type") == "markdown"
                      and "".join(c.get("source", "")).lstrip().startswith("# ")), None)
        position = nb["cells"].index(title) + 1 if title is not None else 0
        nb["cells"].insert(position, _markdown_cell(notice, "runbook-not-executed"))
        return mask_notebook(nb)
    title = name[3:].replace("-", " ").capitalize() if name[:2].isdigit() else name
    return {
        "nbformat": 4, "nbformat_minor": 5,
        "metadata": {"kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
                     "language_info": {"name": "python"}},
        "cells": [_markdown_cell(f"# {name[:2]} · {title}", "runbook-title"),
                  _markdown_cell(notice.replace("The cells below are the runbook without results.",
                                                f"`notebooks/{name}.ipynb` does not exist yet either."),
                                 "runbook-not-executed")],
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


# -- environment differences ----------------------------------------------------------------------------------
def _hcl_value(value: Any) -> Any:
    """python-hcl2 keeps the quotes of strings (``'"us-east-1"'``): drop them, recursively."""
    if isinstance(value, str) and len(value) >= 2 and value[0] == value[-1] == '"':
        return json.loads(value) if "\\" in value else value[1:-1]
    if isinstance(value, list):
        return [_hcl_value(v) for v in value]
    if isinstance(value, dict):
        return {k: _hcl_value(v) for k, v in value.items()}
    return value


def tfvars_example(environment: str) -> Path:
    return paths.environment_dir(environment) / "terraform.tfvars.example"


def environment_settings(environment: str) -> dict[str, Any]:
    """The variables of ``environment``'s tfvars example (python-hcl2), in file order."""
    import hcl2

    path = tfvars_example(environment)
    with path.open(encoding="utf-8") as handle:
        raw = hcl2.load(handle)
    return {k: _hcl_value(v) for k, v in raw.items() if not k.startswith("__")}


def _resolved_settings(environment: str) -> dict[str, Any] | None:
    """The resolved variables (defaults + tfvars) from ``runbook.tfconfig``, when it offers them."""
    try:
        from .tfconfig import load_environment
    except ImportError:
        return None
    try:
        config = load_environment(environment)
    except Exception:
        return None
    variables = getattr(config, "variables", None)
    if isinstance(variables, dict):
        return dict(variables)
    return None


def _format(value: Any) -> str:
    if value is None:
        return "`null`"
    if isinstance(value, bool):
        text = "true" if value else "false"
    elif isinstance(value, dict):
        return "<br>".join(f"`{k} = {_format_scalar(v)}`" for k, v in value.items()) or "`{}`"
    elif isinstance(value, list):
        text = "[" + ", ".join(_format_scalar(v) if not isinstance(v, (dict, list)) else json.dumps(v)
                               for v in value) + "]"
    else:
        text = _format_scalar(value)
    return f"`{text}`"


def _format_scalar(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return json.dumps(value)
    return str(value)


def environment_differences(environments: Iterable[str] = paths.ENVIRONMENTS) -> str:
    """Markdown: the settings that differ between the environments, then (folded) those they share.

    The values are the tfvars examples' own (``terraform.tfvars.example``, what a new environment starts from);
    the variables an example leaves out take their ``variables.tf`` defaults when ``runbook.tfconfig`` can
    resolve them.
    """
    environments = list(environments)
    settings = {env: environment_settings(env) for env in environments}
    from_examples = {name for env in environments for name in settings[env]}
    for env in environments:
        for name, value in (_resolved_settings(env) or {}).items():
            settings[env].setdefault(name, value)
    names = list(dict.fromkeys(n for env in environments for n in settings[env]))
    differ = [n for n in names if len({json.dumps(settings[e].get(n), sort_keys=True, default=str)
                                       for e in environments}) > 1]
    same = [n for n in names if n not in differ]
    sources = " and ".join(f"`infrastructure/{env}/terraform.tfvars.example`" for env in environments)
    lines = [f"Generated when the site is built, from {sources}"
             + (", with the root `variables.tf` defaults for what they leave out."
                if len(names) > len(from_examples) else "."), ""]
    if differ:
        lines += ["| variable | " + " | ".join(environments) + " |", "| --- |" + " --- |" * len(environments)]
        lines += [f"| `{n}` | " + " | ".join(_format(settings[e].get(n)) for e in environments) + " |" for n in differ]
    else:
        lines.append("The environments set every variable alike.")
    if same:
        lines += ["", f'??? note "Set alike in both environments ({len(same)} variables)"', "",
                  "    | variable | value | from |", "    | --- | --- | --- |"]
        lines += [f"    | `{n}` | {_format(settings[environments[0]].get(n))} | "
                  f"{'example' if n in from_examples else 'default'} |" for n in same]
    return mask("\n".join(lines)) + "\n"


# -- build and serve ------------------------------------------------------------------------------------------
def runs_are_stale(runs_dir: Path | None = None, notebooks_dir: Path | None = None) -> bool:
    """True when a notebook has no executed copy in ``runs_dir`` or was changed after it was executed."""
    runs_dir = runs_dir or paths.runs_dir(PUBLISHED_ENVIRONMENT)
    notebooks = sorted((notebooks_dir or paths.NOTEBOOKS).glob("[0-9][0-9]-*.ipynb"))
    if not runs_dir.is_dir():
        return True
    for notebook in notebooks:
        executed = runs_dir / notebook.name
        if not executed.exists() or executed.stat().st_mtime < notebook.stat().st_mtime:
            return True
    return False


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def mkdocs_environment(runs_dir: Path | None = None) -> dict[str, str]:
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1"}
    if runs_dir is not None:
        env[RUNS_VARIABLE] = str(Path(runs_dir).resolve())
    return env


def build(serve: bool = False, strict: bool = True, site_dir: str | Path | None = None,
          runs_dir: str | Path | None = None, run_first: bool = True) -> int:
    """Build the site into ``site_dir`` (default ``site/``) or serve it on 127.0.0.1; returns an exit status.

    The staging notebooks are executed first (``runbook.runner.run``) when ``run_first`` and their executed
    copies are missing or older than ``notebooks/``. A failed run still publishes (the failed notebook shows
    its error), and the status is then 1. ``runs_dir`` (or ``$RUNBOOK_DOCS_RUNS``) publishes the executed
    notebooks of that directory instead, as they are, without running anything.
    """
    status = 0
    override = runs_dir or os.environ.get(RUNS_VARIABLE, "").strip()
    runs = Path(override).resolve() if override else None  # an explicit directory is published as it is
    if run_first and runs is None and runs_are_stale():
        from . import runner

        print(f"Executing the {PUBLISHED_ENVIRONMENT} notebooks first (build/runs/{PUBLISHED_ENVIRONMENT} is missing "
              "or older than notebooks/) ...", file=sys.stderr, flush=True)
        result = runner.run(environments=(PUBLISHED_ENVIRONMENT,))
        for r in result.results:
            print(f"  {r.notebook:<24} {r.status} {r.seconds:6.1f}s {r.error}", file=sys.stderr, flush=True)
        if not result.ok:
            print("Some notebooks failed: their pages show the error.", file=sys.stderr, flush=True)
            status = 1
    command = [sys.executable, "-m", "mkdocs"]
    if serve:
        port = _free_port()
        command += ["serve", "-f", str(MKDOCS_YML), "-a", f"127.0.0.1:{port}"]
        if strict:
            command.append("--strict")
        print(f"Serving the site on http://127.0.0.1:{port}/ (Ctrl-C to stop)", file=sys.stderr, flush=True)
    else:
        command += ["build", "-f", str(MKDOCS_YML), "-d", str(Path(site_dir or paths.SITE).resolve())]
        if strict:
            command.append("--strict")
    if serve:
        return serve_site(command, mkdocs_environment(runs)) or status
    try:
        completed = subprocess.run(command, cwd=paths.ROOT, env=mkdocs_environment(runs))
    except KeyboardInterrupt:
        return status
    return completed.returncode or status


def serve_site(command: list[str], environment: dict[str, str]) -> int:
    """Run ``mkdocs serve`` until it exits or a stop is requested (:mod:`runbook.processes`: SIGINT, SIGTERM,
    SIGHUP); mkdocs runs in its own session, dies with us, and is stopped (its whole tree) before we return.
    Returns mkdocs' status, or 0 when we stopped it."""
    from . import processes

    with processes.supervise() as supervisor:
        if supervisor.requested:  # stopped while the notebooks ran first: nothing to serve
            return 0
        process = processes.popen(command, cwd=paths.ROOT, env=environment)
        try:
            while process.poll() is None and not supervisor.wait(0.5):
                pass
        finally:
            processes.stop_process(process, processes.forwarded_signal(supervisor.signum or 15), timeout=5.0)
        return 0 if supervisor.requested else (process.returncode or 0)
