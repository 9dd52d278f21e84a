"""The lab's start page (``START.md`` in its working copies): the environment, its runbooks in order with what each
does, where the working tfvars is, and the site's pages.

Execution layer: imports the layers below it.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

from runbook import workconfig
from runbook.execution.labcopies import (
    START_PAGE,
    Copies,
    _source,
)

if TYPE_CHECKING:  # pragma: no cover
    from runbook.execution.lab import Lab


def _write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.exists() or path.read_text() != text:
        path.write_text(text)
    return path


#: The runbooks in one line each, for the start page (a runbook not listed gets its title).
RUNBOOK_LINES = {
    "01-setup": "checks the tools, the target and terraform.tfvars (Terraform's verdict, with file and line)",
    "02-plan-and-apply": "init, plan, the review of the saved plan, and apply of exactly that plan when you allow it",
    "03-import": "finds a table Terraform does not manage and imports it (a reviewed import block)",
    "04-troubleshooting": "each problem of the guide's Troubleshooting, checked live, with the fix",
    "05-cost-analysis": "what the planned table costs a month, and what the choices would save",
    "06-operations": "alarms, metrics, TTL, streams, a backup and restore drill, an access-pattern smoke test",
}


#: Pages of the documentation site (docs/, linked read-only in the lab; `runbook docs --serve` serves the site).
SITE_PAGES = (
    ("Getting started", "getting-started.md"),
    ("The configuration guide", "guide.md"),
    ("Safety: what changes what", "safety.md"),
    ("Troubleshooting", "troubleshooting.md"),
    ("Cost", "cost.md"),
    ("Command reference", "reference.md"),
)


def _title(notebook: Path) -> str:
    nb = json.loads(notebook.read_text())
    first = next((_source(c) for c in nb.get("cells", []) if c.get("cell_type") == "markdown"), "")
    return first.splitlines()[0].lstrip("# ").strip() if first else notebook.stem


def start_page(lab: "Lab") -> str:
    """The lab's welcome page (Markdown) for its environment."""
    environment, copies = lab.env_name, lab.copies or Copies(lab.root_dir)
    production = environment == "production"
    table = ""
    if copies.tfvars is not None:
        try:
            table = workconfig.read_values(copies.tfvars).get("dynamodb_notifications_table_name") or ""
        except Exception:  # a broken tfvars: 01 names the line
            table = ""
    lines = [f"# {'PRODUCTION' if production else environment.capitalize()} · runbook lab", ""]
    if production:
        lines += [
            "> **Production.** These runbooks work on production's configuration. Here they run against this "
            "lab's emulator, never real AWS; applying still needs `apply = True` **and** `confirm` set to the "
            "table name, as it would against AWS.",
            "",
        ]
    lines += [
        f"JupyterLab on working copies of the operator's runbooks for **{environment}**, with an AWS emulator "
        f"(moto, `{lab.endpoint_url}`, dummy credentials) started for this session: its resources are gone when "
        "the lab stops. Nothing here reaches real AWS.",
        "",
        "## 1 · Your configuration: `terraform.tfvars`",
        "",
        f"[terraform.tfvars](terraform.tfvars) (in this folder) is {environment}'s working configuration, the guide's "
        "Steps 1–2: open it, edit it, save it. Every runbook reads it.",
        "",
    ]
    if copies.tfvars is not None:
        if copies.tfvars_origin == "operator":
            lines.append(
                f"It is your `{_relative(copies.tfvars)}` (the guide's Step 1), the file `runbook run`, "
                f"`runbook cost --env {environment}` and plain `terraform plan -var-file=…` read too."
            )
        else:
            lines.append(
                f"It is the lab's copy of `terraform.tfvars.example`, `{_relative(copies.tfvars)}` (you "
                f"have no `infrastructure/{environment}/terraform.tfvars`; on the emulator `ami_id` is an "
                "image the emulator knows). From the lab's terminal (it opens in the checkout): "
                f"`runbook cost --env {environment} --tfvars {_relative(copies.tfvars)}`."
            )
        lines.append("")
    if copies.tfvars_error:
        lines += [f"**Not shown here:** {copies.tfvars_error}", ""]
    lines += ["## 2 · The runbooks, in order", ""]
    for number, notebook in enumerate(sorted(copies.directory.glob("[0-9][0-9]-*.ipynb")), start=1):
        line = RUNBOOK_LINES.get(notebook.stem) or _title(notebook)
        lines.append(f"{number}. [{notebook.stem}]({notebook.name}): {line}")
    lines += [
        "",
        "Open one and *Run → Run All Cells*. Each parameters cell (the second cell) holds this lab's values: "
        f"`environment = \"{environment}\"`, this emulator's `aws_endpoint_url`, the lab's `work_dir`. Edit any "
        "value there and run: what you see is what runs. A notebook set to another environment stops at its first "
        f"step, before any AWS call: this lab is {environment}'s (`runbook lab --env ENV` starts another).",
        "",
        "## 3 · How to apply",
        "",
        "Run 02 as it is first: it plans and shows the review (every change, before → after, what is destroyed) "
        "and changes nothing. To apply that plan, set `apply = True` in 02's parameters cell"
        + (f' and `confirm = "{table or "the table name"}"`' if production else "")
        + " and run it again. A destructive change also needs `allow_destroy` naming it (the review says which).",
        "",
        "Nothing stays armed: each `runbook lab` start puts `apply`, `confirm`, `allow_destroy` and `plan_sha256` "
        "back to their safe defaults and clears the outputs of the last session (its emulator is gone). Your other "
        "edits are kept; `runbook lab --refresh 02` re-creates one copy from `notebooks/`.",
        "",
        "## 4 · Terminal",
        "",
        "*File → New → Terminal* opens a shell in the checkout with the project's virtual environment on `PATH` and "
        "this emulator in `AWS_ENDPOINT_URL` and the dummy credentials: `runbook --help`, `runbook cost --env "
        f"{environment}`, `terraform -chdir=infrastructure/{environment} fmt -check`.",
        "",
        "## 5 · Read more",
        "",
        *[f"- [{title}](docs/{page})" for title, page in SITE_PAGES],
        f"- [The Terraform configuration](infrastructure/{environment}/) (read-only here; edit it in your editor)",
        "",
        "The site itself: `runbook docs --serve` in a terminal.",
        "",
        f"*This page is written by `runbook lab` at each start ({START_PAGE}); edits to it are not kept.*",
        "",
    ]
    return "\n".join(lines)


def write_start_page(lab: "Lab") -> Path:
    return _write(lab.root_dir / START_PAGE, start_page(lab))


def _relative(path: Path) -> str:
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)
