"""What a runbook page opens with: the run record (:func:`run_summary`): the steps and their status, when and by
whom, the Terraform and provider versions, what the run found.

Publish layer: imports the layers below it.
"""

from __future__ import annotations

import os
import re
import subprocess
import unicodedata
from datetime import datetime
from pathlib import Path
from typing import Any

from runbook import paths
from runbook.execution.display import money, percent, sentence
from runbook.execution.record import MIME_TYPE, read_records


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
            steps.append({"step": " / ".join(t for t, _ in pending_titles), "id": pending_titles[-1][1], "cells": []})
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
    found = re.findall(
        r'provider\s+"(?:registry\.terraform\.io/)?([^"]+)"\s*\{[^}]*?version\s*=\s*"([^"]+)"',
        lock.read_text(encoding="utf-8"),
        flags=re.DOTALL,
    )
    return dict(found)


def _terraform_version(records: dict) -> str | None:
    """The Terraform version the run recorded (02 records it)."""
    value = records.get("terraform_version")
    if isinstance(value, dict):
        value = value.get("terraform_version") or value.get("version")
    return str(value) if value else None


def _commit(nb: dict, records: dict) -> tuple[str | None, str]:
    """The commit the run used (recorded), else the checkout's that builds the site (said so)."""
    recorded = records.get("commit") or (nb.get("metadata", {}).get("runbook") or {}).get("commit")
    if recorded:
        return str(recorded)[:12], ""
    try:
        head = subprocess.run(
            ["git", "-C", str(paths.ROOT), "rev-parse", "--short=12", "HEAD"],
            capture_output=True,
            text=True,
            timeout=10,
        )
        dirty = subprocess.run(
            ["git", "-C", str(paths.ROOT), "status", "--porcelain", "--untracked-files=no"],
            capture_output=True,
            text=True,
            timeout=10,
        )
    except (OSError, subprocess.SubprocessError):
        return None, ""
    if head.returncode != 0:
        return None, ""
    note = "of the checkout that built this site; the run did not record its own"
    if dirty.stdout.strip():
        note += "; uncommitted changes"
    return head.stdout.strip(), note


def _when(papermill: dict) -> str:

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
    found: list[tuple[str, str]] = []
    if isinstance(records.get("setup_ok"), bool):
        found.append(("setup checks", "all passed" if records["setup_ok"] else "**some failed** (see the steps)"))
    drift = records.get("drift_summary")
    if isinstance(drift, dict):
        found.append(
            ("drift and pending changes", ", ".join(f"{n} {kind}" for kind, n in drift.items() if n) or "in sync")
        )
    status = records.get("table_status")
    if isinstance(status, dict) and status.get("table"):
        found.append(
            (
                "table",
                f"{_code(status['table'])}: "
                + ("exists" if status.get("exists") else "absent")
                + (
                    ", managed by Terraform"
                    if status.get("managed")
                    else (", not in the state" if status.get("exists") else "")
                ),
            )
        )
    smoke = records.get("smoke")
    if isinstance(smoke, dict) and "ok" in smoke:
        found.append(("access-pattern smoke test", "passed" if smoke["ok"] else "**failed**"))
    if isinstance(records.get("problems"), list):
        found.append(("problems found", str(len(records["problems"])) if records["problems"] else "none"))
    if isinstance(records.get("total_monthly_usd"), (int, float)):
        total = money(records["total_monthly_usd"]).replace("$", "\\$")  # Markdown: money, never maths
        found.append(("monthly cost", f"{total} ({records.get('pricing', 'prices')})"))
    if isinstance(records.get("break_even_utilization"), (int, float)):
        found.append(("break-even utilisation (on-demand vs provisioned)", percent(records["break_even_utilization"])))
    return found


def run_summary(nb: dict, records: dict | None = None, work_dir: Path | None = None) -> str:
    """The run record of an executed notebook, as Markdown: what ran, where, when, with what, and how it went."""
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
        result = "**failed**" + (
            f": {_code(error.get('ename', ''))} {_cell(error.get('evalue', ''))[:300]}" if error else ""
        )
    else:
        result = "ok: every cell ran"
    commit, commit_note = _commit(nb, records)
    terraform = _terraform_version(records)
    providers = records.get("provider_versions") if isinstance(records.get("provider_versions"), dict) else None
    providers = providers or provider_versions(work_dir, environment)
    rows = [
        ("result", result),
        ("environment", _code(environment)),
        ("target", target),
        ("started", _when(papermill)),
        ("commit", (_code(commit) + (f" ({commit_note})" if commit_note else "")) if commit else "not recorded"),
    ]
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
    lines = [
        "## Run record",
        "",
        f"This page is the executed notebook of one {_code(environment)} run, published as it ran (secrets, "
        "endpoints, account ids and machine paths masked). The steps cite the "
        "[configuration guide](../../guide/).",
        "",
        "| what | this run |",
        "| --- | --- |",
    ]
    lines += [f"| {name} | {value} |" for name, value in rows]
    lines += [
        "",
        "**Parameters this run used** (papermill injected them; every other parameter kept the default "
        "of the cell marked *defaults* below):",
        "",
        "| parameter | this run | default |",
        "| --- | --- | --- |",
    ]
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
