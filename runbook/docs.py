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
import posixpath
import re
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any, Iterable

from . import paths
from .masking import mask, mask_notebook
from .record import MIME_TYPE, read_records

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


def _source(cell: dict) -> str:
    source = cell.get("source", "")
    return "".join(source) if isinstance(source, list) else str(source or "")


def _relative(value: Any) -> Any:
    """An absolute path inside the repository as a repository-relative one (no local paths on the site)."""
    if isinstance(value, str) and value.startswith(str(paths.ROOT) + os.sep):
        return os.path.relpath(value, paths.ROOT)
    return value


#: Parameter names whose values are never shown, whatever they hold (credentials are never parameters, but a
#: run that passed one anyway must not publish it).
_SECRET_PARAMETER = re.compile(r"(?i)(secret|token|password|passwd|credential|access_key|private_key)")
#: ``name: type = default  # help`` (papermill's documented form) in a parameters cell.
_PARAMETER_LINE = re.compile(r"^(?P<name>[A-Za-z_]\w*)\s*(?::\s*[^=]+?)?\s*=\s*(?P<value>.+?)\s*(?:#\s*(?P<help>.*))?$")
#: What a step prints when it chose not to act (``print("skipped: …")``, ``Not applied: pass apply=True``).
_SKIPPED_LINE = re.compile(r"(?i)^\s*(skipped\b|not applied\b)")


def parameter_defaults(nb: dict) -> dict[str, str]:
    """The defaults of the notebook's ``parameters`` cell, as written (``{"apply": "False"}``)."""
    cell = next((c for c in nb.get("cells", []) if "parameters" in _tags(c)), None)
    defaults: dict[str, str] = {}
    for line in _source(cell).splitlines() if cell else []:
        match = _PARAMETER_LINE.match(line.strip())
        if match:
            defaults[match["name"]] = match["value"]
    return defaults


def _python_literal(value: Any) -> str:
    return repr(value)


def _heading_text(line: str) -> str:
    """A Markdown heading's visible text (``## Step 3 · `terraform init` `` → ``Step 3 · terraform init``)."""
    text = line.lstrip("#").strip()
    text = re.sub(r"`([^`]*)`", r"\1", text)
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", text)
    return re.sub(r"(\*\*|__|\*|_)(.+?)\1", r"\2", text)


def heading_id(text: str) -> str:
    """The id mkdocs-jupyter gives a notebook heading with visible text ``text``."""
    import unicodedata

    value = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    value = re.sub(r"[^\w\s-]", "", value).strip().lower()
    return re.sub(r"[-\s]+", "-", value)


def _cell_status(cell: dict) -> str:
    status = (cell.get("metadata", {}).get("papermill") or {}).get("status")
    if status == "failed" or (cell.get("metadata", {}).get("papermill") or {}).get("exception"):
        return "failed"
    if any(o.get("output_type") == "error" for o in cell.get("outputs", []) or []):
        return "failed"
    if status == "pending" or (status is None and cell.get("execution_count") is None):
        return "not run"
    return "ok"


def _skipped_reason(cell: dict) -> str | None:
    for output in cell.get("outputs", []) or []:
        data = output.get("data") or {}
        record_value = data.get(MIME_TYPE)
        if isinstance(record_value, dict) and record_value.get("name") == "skipped":
            return str(record_value.get("value") or "skipped")
        if output.get("output_type") == "stream" and output.get("name") == "stdout":
            text = "".join(output.get("text", "")) if isinstance(output.get("text"), list) else output.get("text", "")
            first = text.strip().splitlines()[0] if text.strip() else ""
            if _SKIPPED_LINE.match(first):
                return first.strip()
    return None


def step_results(nb: dict) -> list[dict[str, str]]:
    """Each step of an executed notebook (an H2 section) with its result: ok, skipped, failed or not run.

    The code cells before the first H2 (the parameters aside) are the step "Parameters and context". A step is
    skipped when one of its cells printed a line starting with "skipped" or "Not applied" (or recorded
    ``skipped``), failed when a cell failed, not run when papermill never reached it.
    """
    steps: list[dict[str, Any]] = [{"step": "Parameters and context", "id": "", "cells": []}]
    pending_titles: list[tuple[str, str]] = []
    for cell in nb.get("cells", []):
        if cell.get("cell_type") == "markdown":
            for line in _source(cell).splitlines():
                if re.match(r"^##\s+\S", line):
                    text = _heading_text(line)
                    pending_titles.append((text, heading_id(text)))
            continue
        if cell.get("cell_type") != "code" or {"parameters", "injected-parameters"} & set(_tags(cell)):
            continue
        if pending_titles:
            steps.append({"step": " / ".join(t for t, _ in pending_titles), "id": pending_titles[-1][1],
                          "cells": []})
            pending_titles = []
        steps[-1]["cells"].append(cell)
    results = []
    for step in steps:
        if not step["cells"]:
            continue
        statuses = [_cell_status(c) for c in step["cells"]]
        reasons = [r for r in (_skipped_reason(c) for c in step["cells"]) if r]
        if "failed" in statuses:
            result, note = "failed", ""
        elif all(s == "not run" for s in statuses):
            result, note = "not run", "an earlier step failed"
        elif reasons:
            result, note = "skipped", reasons[0]
        else:
            result, note = "ok", ""
        results.append({"step": step["step"], "id": step["id"], "result": result, "note": note})
    return results


def _work_root(work_dir: Path, environment: str) -> Path:
    """Where Terraform ran inside a run's work directory (the copy of ``infrastructure/<env>``)."""
    return work_dir / "infrastructure" / environment


def provider_versions(work_dir: Path | None, environment: str) -> dict[str, str]:
    """Provider versions from the ``.terraform.lock.hcl`` Terraform wrote in the run's work directory."""
    if work_dir is None:
        return {}
    lock = _work_root(work_dir, environment) / ".terraform.lock.hcl"
    if not lock.is_file():
        return {}
    found = re.findall(r'provider\s+"(?:registry\.terraform\.io/)?([^"]+)"\s*\{[^}]*?version\s*=\s*"([^"]+)"',
                       lock.read_text(encoding="utf-8"), flags=re.DOTALL)
    return dict(found)


def _state_json(work_dir: Path | None, environment: str) -> dict | None:
    """The local state Terraform wrote in the run's work directory, when the run used local state."""
    if work_dir is None:
        return None
    state = _work_root(work_dir, environment) / "terraform.tfstate"
    try:
        return json.loads(state.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def _terraform_version(records: dict, work_dir: Path | None, environment: str) -> str | None:
    value = records.get("terraform_version")
    if isinstance(value, dict):
        value = value.get("terraform_version") or value.get("version")
    if value:
        return str(value)
    state = _state_json(work_dir, environment)
    return str(state["terraform_version"]) if state and state.get("terraform_version") else None


def _commit(nb: dict, records: dict) -> tuple[str | None, str]:
    """The commit the run used (recorded), else the checkout's that builds the site (said so)."""
    recorded = records.get("commit") or (nb.get("metadata", {}).get("runbook") or {}).get("commit")
    if recorded:
        return str(recorded)[:12], ""
    try:
        head = subprocess.run(["git", "-C", str(paths.ROOT), "rev-parse", "--short=12", "HEAD"],
                              capture_output=True, text=True, timeout=10)
        dirty = subprocess.run(["git", "-C", str(paths.ROOT), "status", "--porcelain", "--untracked-files=no"],
                               capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.SubprocessError):
        return None, ""
    if head.returncode != 0:
        return None, ""
    note = "of the checkout that built this site; the run did not record its own"
    if dirty.stdout.strip():
        note += "; uncommitted changes"
    return head.stdout.strip(), note


def _when(papermill: dict) -> str:
    from datetime import datetime

    start = papermill.get("start_time")
    if not start:
        return "not recorded"
    try:
        started = datetime.fromisoformat(str(start)).strftime("%Y-%m-%d %H:%M:%S UTC")
    except ValueError:
        started = str(start)
    duration = papermill.get("duration")
    return started + (f" (ran {float(duration):.0f} s)" if isinstance(duration, (int, float)) else "")


def _cell(text: Any) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def _code(text: Any) -> str:
    text = str(text)
    return f"`{text}`" if "`" not in text else f"`` {text} ``"


def _findings(records: dict) -> list[tuple[str, str]]:
    """What the run found, from the values its steps recorded (only those a reader asks about first)."""
    from .display import money, percent

    found: list[tuple[str, str]] = []
    if isinstance(records.get("setup_ok"), bool):
        found.append(("setup checks", "all passed" if records["setup_ok"] else "**some failed** (see the steps)"))
    drift = records.get("drift_summary")
    if isinstance(drift, dict):
        found.append(("drift and pending changes", ", ".join(f"{n} {kind}" for kind, n in drift.items() if n)
                      or "in sync"))
    status = records.get("table_status")
    if isinstance(status, dict) and status.get("table"):
        found.append(("table", f"{_code(status['table'])}: " + ("exists" if status.get("exists") else "absent")
                      + (", managed by Terraform" if status.get("managed") else
                         (", not in the state" if status.get("exists") else ""))))
    smoke = records.get("smoke")
    if isinstance(smoke, dict) and "ok" in smoke:
        found.append(("access-pattern smoke test", "passed" if smoke["ok"] else "**failed**"))
    if isinstance(records.get("problems"), list):
        found.append(("problems found", str(len(records["problems"])) if records["problems"] else "none"))
    if isinstance(records.get("total_monthly_usd"), (int, float)):
        total = money(records["total_monthly_usd"]).replace("$", "\\$")  # Markdown: money, never maths
        found.append(("monthly cost", f"{total} ({records.get('pricing', 'prices')})"))
    if isinstance(records.get("break_even_utilization"), (int, float)):
        found.append(("break-even utilisation (on-demand vs provisioned)",
                      percent(records["break_even_utilization"])))
    return found


def run_summary(nb: dict, records: dict | None = None, work_dir: Path | None = None) -> str:
    """The run record of an executed notebook, as Markdown: what ran, where, when, with what, and how it went."""
    from .display import sentence

    records = read_records(nb) if records is None else records
    papermill = nb.get("metadata", {}).get("papermill") or {}
    parameters = dict(papermill.get("parameters") or {})
    defaults = parameter_defaults(nb)
    environment = str(parameters.get("environment") or defaults.get("environment", "").strip("\"'") or "?")
    endpoint = str(parameters.get("aws_endpoint_url") or "")
    if records.get("target"):
        target = str(records["target"])
    elif endpoint:
        target = f"an AWS emulator at {_code(endpoint)}"
    else:
        target = "AWS through the usual credential chain (or `AWS_ENDPOINT_URL` when it was set)"
    if papermill.get("exception"):
        failed = next((c for c in nb.get("cells", []) if _cell_status(c) == "failed"), None)
        error = next((o for o in (failed or {}).get("outputs", []) if o.get("output_type") == "error"), None)
        result = "**failed**" + (f": {_code(error.get('ename', ''))} {_cell(error.get('evalue', ''))[:300]}"
                                 if error else "")
    else:
        result = "ok: every cell ran"
    commit, commit_note = _commit(nb, records)
    terraform = _terraform_version(records, work_dir, environment)
    providers = records.get("provider_versions") if isinstance(records.get("provider_versions"), dict) else None
    providers = providers or provider_versions(work_dir, environment)
    rows = [("result", result), ("environment", _code(environment)), ("target", target),
            ("started", _when(papermill)),
            ("commit", (_code(commit) + (f" ({commit_note})" if commit_note else "")) if commit else "not recorded")]
    if terraform or providers:
        parts = [f"Terraform {terraform}" if terraform else "Terraform (version not recorded)"]
        parts += [f"{_code(name)} {version}" for name, version in sorted(providers.items())]
        rows.append(("Terraform and providers", " · ".join(parts)))
    if records.get("tfvars_path"):
        rows.append(("working configuration", _code(records["tfvars_path"])))
    if "plan_summary" in records:
        rows.append(("plan", _cell(sentence(records.get("plan_summary")))))
    if records.get("plan_sha256"):
        rows.append(("reviewed plan (SHA-256)", _code(records["plan_sha256"])))
    if "applied" in records:
        rows.append(("applied", "yes" if records["applied"] else "no"))
    rows += _findings(records)
    lines = ["## Run record", "",
             f"This page is the executed notebook of one {_code(environment)} run, published as it ran (secrets, "
             "endpoints, account ids and machine paths masked). The steps cite the "
             "[configuration guide](../../guide/).", "",
             "| what | this run |", "| --- | --- |"]
    lines += [f"| {name} | {value} |" for name, value in rows]
    lines += ["", "**Parameters this run used** (papermill injected them; every other parameter kept the default "
              "of the cell marked *defaults* below):", "",
              "| parameter | this run | default |", "| --- | --- | --- |"]
    names = list(dict.fromkeys([*parameters, *defaults]))
    injected = [n for n in names if n in parameters]
    for name in injected:
        value = "<redacted>" if _SECRET_PARAMETER.search(name) else _python_literal(parameters[name])
        default = defaults.get(name, "")
        lines.append(f"| {_code(name)} | {_code(value)} | {_code(default) if default else '—'} |")
    if not injected:
        lines.append("| (none) | every parameter kept its default | |")
    steps = step_results(nb)
    if steps:
        lines += ["", "**Steps**", "", "| step | result | note |", "| --- | --- | --- |"]
        for step in steps:
            name = f"[{_cell(step['step'])}](#{step['id']})" if step["id"] else _cell(step["step"])
            lines.append(f"| {name} | {step['result']} | {_cell(step['note'])} |")
    return "\n".join(lines) + "\n"


_DEFAULTS_NOTE = ("*Defaults* — the notebook's parameters cell as written: what a run **without** parameters "
                  "would use. This run's values are in the next cell and in the run record above.")
_INJECTED_NOTE = "*This run's parameters* — the cell papermill injected: the values this run used."


def _work_dir_of(nb: dict) -> Path | None:
    parameters = (nb.get("metadata", {}).get("papermill") or {}).get("parameters") or {}
    environment = str(parameters.get("environment") or PUBLISHED_ENVIRONMENT)
    value = str(parameters.get("work_dir") or "").strip()
    path = paths.work_dir(environment, Path(value).expanduser() if value else None)  # work_dir: the base
    return path if path.is_absolute() else (paths.ROOT / path)


def machine_paths_of(nb: dict) -> dict[str, str]:
    """The run's own paths (its work directory, its output directory) to mask as placeholders."""
    from .masking import RUNS_DIR, WORK_DIR

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
    if isinstance(tfvars, str) and tfvars.startswith("/") and work is not None \
            and not tfvars.startswith(str(work)) and not tfvars.startswith(str(paths.ROOT)):
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
    title = next((i for i, c in enumerate(cells) if c.get("cell_type") == "markdown"
                  and _source(c).lstrip().startswith("# ")), -1)
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
                if _SECRET_PARAMETER.search(line.split("=", 1)[0]) and "=" in line else line
                for line in _source(cell).splitlines())
    return runnable_parameters(mask_notebook(nb, paths=extra_paths))


def runnable_parameters(nb: dict) -> dict:
    """``nb`` with no masking placeholder left where papermill or Python expects a parameter's value.

    Masking turns this run's endpoint or work directory into ``"<endpoint>"``: run again, that value would be
    used (and fail at once). Such a line of the injected-parameters cell becomes a comment saying the value is
    not published, so the default of the parameters cell applies and ``-p NAME VALUE`` gives your own.
    """
    from .masking import PLACEHOLDERS

    for cell in nb.get("cells", []):
        if "injected-parameters" not in _tags(cell):
            continue
        lines = []
        for line in _source(cell).splitlines():
            match = re.match(r"^(\s*)(\w+)\s*=", line)
            if match and any(p in line.split("=", 1)[1] for p in PLACEHOLDERS):
                line = (f"{match[1]}# {match[2]}: this run's value is not published (masked); the default above "
                        f"applies, pass yours with -p {match[2]} VALUE")
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


# -- the Terraform files on the site --------------------------------------------------------------------------
#: Files under ``infrastructure/`` published as pages (never an operator's terraform.tfvars or backend.hcl:
#: only what git tracks or would track, and only these kinds).
_SOURCE_SUFFIXES = (".tf", ".tfvars.example", ".hcl.example", ".tftest.hcl", ".tftpl", ".yml", ".yaml", ".md")
_NEVER_PUBLISHED = re.compile(
    r"(^|/)(terraform\.tfvars|backend\.hcl|\.terraform(\.lock\.hcl)?|[^/]*\.tfstate[^/]*|tfplan)(/|$)"
)
_LANGUAGES = {".tf": "hcl", ".hcl": "hcl", ".example": "hcl", ".tftpl": "json", ".yml": "yaml", ".yaml": "yaml"}


def source_files() -> list[str]:
    """Repository-relative paths of the Terraform files the site publishes (git's view of ``infrastructure/``)."""
    try:
        listed = subprocess.run(["git", "-C", str(paths.ROOT), "ls-files", "--cached", "--others",
                                 "--exclude-standard", "infrastructure"], capture_output=True, text=True, timeout=20)
        names = listed.stdout.split() if listed.returncode == 0 else []
    except (OSError, subprocess.SubprocessError):
        names = []
    if not names:
        names = [p.relative_to(paths.ROOT).as_posix() for p in paths.INFRASTRUCTURE.rglob("*") if p.is_file()]
    module_readme = (paths.MODULE_DIR / "README.md").relative_to(paths.ROOT).as_posix()
    return sorted(n for n in set(names) if n.endswith(_SOURCE_SUFFIXES) and not _NEVER_PUBLISHED.search(n)
                  and n != module_readme and (paths.ROOT / n).is_file())


def source_page_uri(path: str) -> str:
    """The site page of repository file ``path``: ``source/<path>.md``; a README is its folder's page."""
    if path.endswith("/README.md"):
        return f"{SOURCE_PAGES}{path}"
    return f"{SOURCE_PAGES}{path}.md"


SOURCE_PAGES = "source/"


def _repo_link(repo_url: str, path: str, tree: bool = False) -> str:
    return f"{repo_url.rstrip('/')}/{'tree' if tree else 'blob'}/{REPO_BRANCH}/{path}" if repo_url else ""


#: The branch repository links point at.
REPO_BRANCH = os.environ.get("RUNBOOK_REPO_BRANCH", "main")


def _fence(text: str) -> str:
    longest = max((len(m) for m in re.findall(r"`{3,}", text)), default=0)
    return "`" * max(3, longest + 1)


def source_pages(repo_url: str = "") -> dict[str, str]:
    """``{page src_uri: Markdown}`` for every published Terraform file: its text as a code block (READMEs as
    they are, their links pointing at these pages), with a link to the repository when ``repo_url`` is set."""
    published = source_files()
    pages = {}
    for path in published:
        text = (paths.ROOT / path).read_text(encoding="utf-8", errors="replace")
        uri = source_page_uri(path)
        repo = _repo_link(repo_url, path)
        header = "---\nsearch:\n  exclude: true\n---\n\n"
        if path.endswith(".md"):
            body = rewrite_links(text, paths.ROOT / path, uri, repo_url, published)
            if not re.search(r"^# ", body, re.MULTILINE):
                body = f"# `{Path(path).parent.as_posix()}`\n\n" + body
            pages[uri] = header + body + ("\n\n[This folder in the repository]"
                                          f"({_repo_link(repo_url, str(Path(path).parent), True)})\n" if repo else "")
            continue
        suffix = Path(path).suffix
        language = _LANGUAGES.get(suffix, "text")
        fence = _fence(text)
        folder = str(Path(path).parent)
        siblings = [p for p in published if str(Path(p).parent) == folder and p != path]
        lines = [f"# `{path}`", ""]
        if repo:
            lines += [f"[View in the repository]({repo})", ""]
        lines += [f"{fence}{language}", text.rstrip("\n"), fence, ""]
        if siblings:
            here = posixpath.dirname(uri)
            lines += ["In the same folder: " + ", ".join(
                f"[`{Path(p).name}`]({posixpath.relpath(source_page_uri(p), here)})" for p in siblings), ""]
        pages[uri] = header + "\n".join(lines)
    return pages


_LINK = re.compile(r"(?<!!)\[(?P<text>[^\]]*)\]\((?P<target>[^)\s#]+)(?P<anchor>#[^)\s]*)?\)")


def rewrite_links(markdown_text: str, source: Path, page_uri: str, repo_url: str = "",
                  published: list[str] | None = None) -> str:
    """Relative links of a repository Markdown file, made to work from site page ``page_uri``: to the page of a
    published file, to a folder's README or ``main.tf`` page, else to the repository (with ``repo_url``)."""
    published = source_files() if published is None else published
    here = posixpath.dirname(page_uri)

    def target_of(match: re.Match) -> str:
        target = match["target"]
        if re.match(r"^[a-z][a-z0-9+.-]*:", target, re.I) or target.startswith("/"):
            return match.group(0)
        resolved = (source.parent / target).resolve()
        try:
            relative = resolved.relative_to(paths.ROOT).as_posix()
        except ValueError:
            return match.group(0)
        candidates = [f"{relative}/README.md", f"{relative}/main.tf"] if resolved.is_dir() or target.endswith("/") \
            else [relative]
        for candidate in candidates:
            if candidate in published:
                link = posixpath.relpath(source_page_uri(candidate), here)
                return f"[{match['text']}]({link}{match['anchor'] or ''})"
        if repo_url:
            folder = resolved.is_dir() or target.endswith("/")
            return f"[{match['text']}]({_repo_link(repo_url, relative, folder)}{match['anchor'] or ''})"
        return match["text"] if not match["text"].startswith("`") else match["text"]

    out, index = [], 0
    for fence in re.finditer(r"^(```|~~~).*?^\1", markdown_text, flags=re.DOTALL | re.MULTILINE):
        out.append(_LINK.sub(target_of, markdown_text[index:fence.start()]))
        out.append(fence.group(0))
        index = fence.end()
    out.append(_LINK.sub(target_of, markdown_text[index:]))
    return "".join(out)


#: The README section the generated environment-differences table replaces on the site.
DIFFERENCES_HEADING = "Environment differences"
DIFFERENCES_MARKER = "<!-- runbook:environment-differences -->"


def included_readme(source: Path, page_uri: str, repo_url: str = "") -> str:
    """The module README as the configuration page includes it: its H1 dropped (the page has its own), every
    other heading one level down, relative links working from the page, and the body of its "Environment
    differences" section replaced by the generated table (so the page has that table once)."""
    text = source.read_text(encoding="utf-8")
    text = rewrite_links(text, source, page_uri, repo_url)
    out, in_fence, dropped_title = [], None, False
    for line in text.splitlines():
        fence = re.match(r"^(```|~~~)", line)
        if fence:
            in_fence = None if in_fence == fence.group(1) else (in_fence or fence.group(1))
        elif in_fence is None and re.match(r"^#{1,5} ", line):
            if line.startswith("# ") and not dropped_title:
                dropped_title = True
                continue
            line = "#" + line
        out.append(line)
    text = "\n".join(out) + "\n"
    section = re.search(rf"^(#+) {DIFFERENCES_HEADING}\s*\n(.*?)(?=^#{{1,3}} |\Z)", text, re.MULTILINE | re.DOTALL)
    if section:
        text = text[:section.start(2)] + "\n" + DIFFERENCES_MARKER + "\n\n" + text[section.end(2):]
    return text


# -- architecture -----------------------------------------------------------------------------------------------
def _runs_of(environment: str, runs_dir: Path) -> Path:
    """The executed notebooks of ``environment``: the published directory for the published environment, else
    its sibling ``<env>`` when the published one is named after its environment, else ``build/runs/<env>``."""
    if environment == PUBLISHED_ENVIRONMENT or runs_dir.name == environment:
        return runs_dir
    if runs_dir.name == PUBLISHED_ENVIRONMENT:
        return runs_dir.parent / environment
    return paths.runs_dir(environment)


#: Plans recorded by ``docs/architecture/record.py`` (``terraform show -json`` of each environment's plan from an
#: empty state): the diagram of an environment that was not run for this build.
RECORDED_PLANS = paths.DOCS / "architecture"


def recorded_plan(environment: str) -> Path:
    return RECORDED_PLANS / f"{environment}.plan.json"


def environment_graph(environment: str, runs_dir: Path):
    """What ``environment`` creates and what references what, from Terraform: the ``plan_graph`` its executed
    ``02-plan-and-apply`` recorded (the saved plan it reviewed), else the plan recorded in
    ``docs/architecture/``. Returns ``(graph or None, where it comes from)``."""
    from .architecture import Graph, plan_graph

    notebook = _runs_of(environment, runs_dir) / "02-plan-and-apply.ipynb"
    if notebook.is_file():
        recorded = read_records(json.loads(notebook.read_text(encoding="utf-8"))).get("plan_graph")
        if isinstance(recorded, dict) and recorded.get("resources"):
            return Graph.from_dict(recorded), ("the saved plan that this build's executed `02-plan-and-apply` "
                                               f"reviewed for {environment}")
    recording = recorded_plan(environment)
    if recording.is_file():
        plan = json.loads(recording.read_text(encoding="utf-8"))
        return plan_graph(plan), (f"`terraform show -json` of {environment}'s plan from an empty state, recorded "
                                  f"with Terraform {plan.get('terraform_version', '?')} by "
                                  f"`docs/architecture/record.py` (this build did not run {environment})")
    return None, (f"no executed `02-plan-and-apply` for {environment} and no recorded plan "
                  f"(`docs/architecture/{environment}.plan.json`): run `runbook run --env {environment}`")


def architecture_markdown(runs_dir: Path | None = None, environments: Iterable[str] = paths.ENVIRONMENTS) -> str:
    """The architecture page's generated part: per environment the diagram (inline SVG drawn here, from
    Terraform's plan) and the list of resources with what each references."""
    from .architecture import render_svg

    runs_dir = runs_dir or published_runs_dir()
    lines: list[str] = []
    for environment in environments:
        graph, source = environment_graph(environment, runs_dir)
        lines += [f"## {environment.capitalize()}", ""]
        if graph is None:
            lines += [f"No diagram for {environment} in this build: {source}.", ""]
            continue
        title = f"{environment}: {len(graph.resources)} resources and what references what"
        svg = render_svg(graph, title, element_id=f"architecture-{environment}")
        lines += [f"{len(graph.resources)} resources and {len(graph.edges)} references, from {source}.", "",
                  f'<div class="runbook-architecture-box" tabindex="0" role="group" aria-label="{title}">{svg}</div>',
                  "", f'??? note "The {len(graph.resources)} resources of {environment} and what each references"',
                  "", "    | resource | type | planned | references |", "    | --- | --- | --- | --- |"]
        references: dict[str, list[str]] = {}
        for a, b in graph.edges:
            references.setdefault(a, []).append(b)
        for resource in graph.resources:
            count = resource.get("count", 1)
            refs = ", ".join(f"`{r}`" for r in references.get(resource["address"], [])) or "—"
            lines.append(f"    | `{resource['address']}`{f' ×{count}' if count > 1 else ''} | "
                         f"`{resource.get('type', '')}` | {resource.get('action', '')} | {refs} |")
        lines.append("")
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
    command = [sys.executable, "-m", "runbook._mkdocs"]  # mkdocs, without a slow import nothing uses
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


# -- notebook pages as published (HTML, from the mkdocs hooks) -------------------------------------------------
_DIV = re.compile(r"<div\b|</div>")
_STYLE_BLOCK = re.compile(r"<style[^>]*>(.*?)</style>", re.DOTALL)
_SCRIPT_BLOCK = re.compile(r"<script\b([^>]*)>(.*?)</script>", re.DOTALL)
_MATHJAX_BLOCK = re.compile(r"<!-- Load mathjax -->.*?<!-- End of mathjax configuration -->", re.DOTALL)
_WRAPPER = '<div class="jupyter-wrapper">'


def _element_end(text: str, start: int) -> int:
    """The index just past the ``</div>`` that closes the ``<div`` opening at ``start``."""
    depth = 0
    for match in _DIV.finditer(text, start):
        depth += 1 if match.group(0) == "<div" else -1
        if depth == 0:
            return match.end()
    return len(text)


def split_notebook_assets(page_html: str) -> tuple[str, list[str], list[str]]:
    """A notebook page without the stylesheets and scripts mkdocs-jupyter puts before every notebook.

    Returns ``(html, stylesheets, scripts)``: JupyterLab's stylesheet and the code highlighting (served once,
    as a shared file), the copy button's script (likewise), and nothing of MathJax or Mermaid, which the
    template loads from a CDN (no page of the site loads anything from elsewhere; a ``$`` is money here).
    """
    start = page_html.find(_WRAPPER)
    if start < 0:
        return page_html, [], []
    head, body = page_html[:start], page_html[start:]
    head = _MATHJAX_BLOCK.sub("", head)
    styles = [m.group(1).strip() for m in _STYLE_BLOCK.finditer(head)]
    head = _STYLE_BLOCK.sub("", head)
    scripts = []
    for match in _SCRIPT_BLOCK.finditer(head):
        attributes, code = match.group(1), match.group(2)
        if "src=" in attributes or "mermaid" in code:
            continue  # a CDN script, or the loader of Mermaid from one
        scripts.append(code.strip())
    head = _SCRIPT_BLOCK.sub("", head)
    # Outputs' own <style> blocks (pandas' "scoped" table styles): invalid in a body, and the site styles tables.
    body = _STYLE_BLOCK.sub("", body)
    # The copy button: a custom element labelled for screen readers must say what it is.
    body = re.sub(r"<clipboard-copy\b(?![^>]*\brole=)([^>]*)>",
                  lambda m: '<clipboard-copy role="button" tabindex="0"' + re.sub(r'\s*,(="")?', "", m.group(1)) + ">",
                  body)
    return head.strip() + body, styles, scripts


_CODE_CELL = re.compile(r'<div\b[^>]*class="(jp-Cell jp-CodeCell[^"]*)"[^>]*>')
_INPUT_WRAPPER = re.compile(r'<div class="jp-Cell-inputWrapper"[^>]*>')
#: Cells whose code stays in view: the parameters a reader changes, the values this run was given.
_VISIBLE_INPUT_TAGS = ("celltag_parameters", "celltag_injected-parameters")


def _code_lines(fragment: str) -> int:
    pre = re.search(r"<pre[^>]*>(.*?)</pre>", fragment, re.DOTALL)
    return len(pre.group(1).strip("\n").splitlines()) if pre else 0


def fold_code_inputs(page_html: str) -> str:
    """Every code cell's input folded behind a ``<details>`` (keyboard-reachable, no script), except the
    parameters cells: the page leads with what the run did and found, the code is one press away."""
    out, index = [], 0
    for cell in _CODE_CELL.finditer(page_html):
        if cell.start() < index or any(tag in cell.group(1).split() for tag in _VISIBLE_INPUT_TAGS):
            continue
        wrapper = _INPUT_WRAPPER.search(page_html, cell.end())
        if wrapper is None:
            continue
        end = _element_end(page_html, wrapper.start())
        fragment = page_html[wrapper.start():end]
        lines = _code_lines(fragment)
        out.append(page_html[index:wrapper.start()])
        out.append(f'<details class="runbook-code"><summary data-search-exclude>Code ({lines} '
                   f'line{"s" if lines != 1 else ""})</summary>{fragment}</details>')
        index = end
    out.append(page_html[index:])
    return "".join(out)


_OUTPUT_CHILD = re.compile(r'<div class="jp-OutputArea-child[^"]*"[^>]*>')
#: A text output longer than this is folded (its first lines stay visible in the summary's count only).
NOISY_OUTPUT_LINES = 15


def fold_noisy_outputs(page_html: str, max_lines: int = NOISY_OUTPUT_LINES) -> str:
    """Long plain-text outputs (logs, Terraform's chatter) folded behind a ``<details>`` saying how long."""
    out, index = [], 0
    for child in _OUTPUT_CHILD.finditer(page_html):
        if child.start() < index:
            continue
        end = _element_end(page_html, child.start())
        fragment = page_html[child.start():end]
        if 'data-mime-type="text/plain"' not in fragment and "jp-RenderedText" not in fragment:
            continue
        if "<table" in fragment or "<img" in fragment or "<svg" in fragment:
            continue
        lines = _code_lines(fragment)
        if lines <= max_lines:
            continue
        out.append(page_html[index:child.start()])
        out.append(f'<details class="runbook-output"><summary data-search-exclude>Output ({lines} lines)</summary>'
                   f"{fragment}</details>")
        index = end
    out.append(page_html[index:])
    return "".join(out)


_OUTPUT_PRE = re.compile(r'(<div class="jp-RenderedText[^"]*"[^>]*>\s*)<pre(?![^>]*data-search-exclude)')
_OUTPUT_TABLE = re.compile(r"<table\b(?![^>]*data-search-exclude)")
_PRE_TAG = re.compile(r"<pre\b(?![^>]*tabindex)")
_IMG_NO_ALT = re.compile(r"<img\b(?![^>]*\balt=)([^>]*)>")
_EMPTY_TH = re.compile(r"<th\b([^>]*)>(?:\s|&nbsp;|&#160;)*</th>")
_SECTION_HEADING = re.compile(r"<h[1-6]\b[^>]*>(.*?)</h[1-6]>", re.DOTALL)


def accessible_notebook_html(page_html: str) -> str:
    """Notebook HTML a keyboard and a screen reader can use, and a search index of prose only.

    Code boxes that may scroll take keyboard focus (``tabindex="0"``); an empty table header becomes an
    ordinary cell; an image without alternative text gets one naming the section it illustrates (plots the
    runbooks draw carry their own); raw text outputs and tables are left out of the search index.
    """
    page_html = _OUTPUT_PRE.sub(r"\1<pre data-search-exclude", page_html)
    out, index = [], 0  # tables in outputs (not the run record's, a Markdown cell): out of the search index
    for wrapper in re.finditer(r'<div class="jp-Cell-outputWrapper"', page_html):
        if wrapper.start() < index:
            continue
        end = _element_end(page_html, wrapper.start())
        out += [page_html[index:wrapper.start()], _OUTPUT_TABLE.sub("<table data-search-exclude",
                                                                    page_html[wrapper.start():end])]
        index = end
    page_html = "".join(out) + page_html[index:]
    page_html = _PRE_TAG.sub('<pre tabindex="0"', page_html)
    page_html = re.sub(r'(<div class="jp-OutputArea-output[^"]*")(?![^>]*tabindex)([^>]*>\s*<table)',
                       r'\1 tabindex="0"\2', page_html)
    page_html = _EMPTY_TH.sub(r"<td\1></td>", page_html)
    out, index, heading = [], 0, ""
    for match in re.finditer(rf"{_SECTION_HEADING.pattern}|{_IMG_NO_ALT.pattern}", page_html, re.DOTALL):
        out.append(page_html[index:match.start()])
        text = match.group(0)
        if text.startswith("<h"):
            heading = html_text(match.group(1))
        else:
            label = f"Plot of the section {heading}" if heading else "Plot"
            text = f'<img alt="{html_escape(label)}"{match.group(2)}>'
        out.append(text)
        index = match.end()
    out.append(page_html[index:])
    return "".join(out)


def without_empty_headers(page_html: str) -> str:
    """A table header cell with nothing in it (a Markdown table's blank corner) as an ordinary cell."""
    return _EMPTY_TH.sub(r"<td\1></td>", page_html)


def html_text(fragment: str) -> str:
    """The visible text of an HTML fragment (tags and the permalink sign removed, entities decoded)."""
    import html as html_lib

    fragment = re.sub(r'<a class="headerlink".*?</a>', "", fragment, flags=re.DOTALL)
    return html_lib.unescape(re.sub(r"<[^>]+>", "", fragment)).strip()


def html_escape(text: str) -> str:
    import html as html_lib

    return html_lib.escape(text, quote=True)
