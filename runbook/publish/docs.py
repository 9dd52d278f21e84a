"""The documentation site: ``runbook docs [--serve]``.

* :func:`build` runs the staging notebooks first when ``build/runs/staging/`` is missing or older than
  ``notebooks/``, then ``mkdocs build --strict`` (or ``mkdocs serve`` on 127.0.0.1).
* :func:`architecture_markdown` is the architecture page: the graphs drawn from Terraform's recorded plans.

What the mkdocs hooks (``docs/hooks/``) publish: the run record (:mod:`runbook.publish.runsummary`), the notebooks'
published copies (:mod:`runbook.publish.notebookcopies`), the generated pages (:mod:`runbook.publish.sitepages`) and
the notebook pages' HTML (:mod:`runbook.publish.pagehtml`).
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path
from typing import Iterable

from runbook import paths, processes
from runbook.execution import runner
from runbook.execution.record import read_records
from runbook.publish.architecture import Graph, plan_graph, render_svg
from runbook.publish.masking import mask

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
    notebook = _runs_of(environment, runs_dir) / "02-plan-and-apply.ipynb"
    if notebook.is_file():
        recorded = read_records(json.loads(notebook.read_text(encoding="utf-8"))).get("plan_graph")
        if isinstance(recorded, dict) and recorded.get("resources"):
            return Graph.from_dict(recorded), (
                f"the saved plan that this build's executed `02-plan-and-apply` reviewed for {environment}"
            )
    recording = recorded_plan(environment)
    if recording.is_file():
        plan = json.loads(recording.read_text(encoding="utf-8"))
        return plan_graph(plan), (
            f"`terraform show -json` of {environment}'s plan from an empty state, recorded "
            f"with Terraform {plan.get('terraform_version', '?')} by "
            f"`docs/architecture/record.py` (this build did not run {environment})"
        )
    return None, (
        f"no executed `02-plan-and-apply` for {environment} and no recorded plan "
        f"(`docs/architecture/{environment}.plan.json`): run `runbook run --env {environment}`"
    )


def architecture_markdown(runs_dir: Path | None = None, environments: Iterable[str] = paths.ENVIRONMENTS) -> str:
    """The architecture page's generated part: per environment the diagram (inline SVG drawn here, from
    Terraform's plan) and the list of resources with what each references."""
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
        lines += [
            f"{len(graph.resources)} resources and {len(graph.edges)} references, from {source}.",
            "",
            f'<div class="runbook-architecture-box" tabindex="0" role="group" aria-label="{title}">{svg}</div>',
            "",
            f'??? note "The {len(graph.resources)} resources of {environment} and what each references"',
            "",
            "    | resource | type | planned | references |",
            "    | --- | --- | --- | --- |",
        ]
        references: dict[str, list[str]] = {}
        for a, b in graph.edges:
            references.setdefault(a, []).append(b)
        for resource in graph.resources:
            count = resource.get("count", 1)
            refs = ", ".join(f"`{r}`" for r in references.get(resource["address"], [])) or "—"
            lines.append(
                f"    | `{resource['address']}`{f' ×{count}' if count > 1 else ''} | "
                f"`{resource.get('type', '')}` | {resource.get('action', '')} | {refs} |"
            )
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


def build(
    serve: bool = False,
    strict: bool = True,
    site_dir: str | Path | None = None,
    runs_dir: str | Path | None = None,
    run_first: bool = True,
) -> int:
    """Build the site into ``site_dir`` (default ``site/``) or serve it on 127.0.0.1; returns an exit status.

    The staging notebooks are executed first (``runbook.execution.runner.run``) when ``run_first`` and their executed
    copies are missing or older than ``notebooks/``. A failed run still publishes (the failed notebook shows
    its error), and the status is then 1. ``runs_dir`` (or ``$RUNBOOK_DOCS_RUNS``) publishes the executed
    notebooks of that directory instead, as they are, without running anything.
    """
    status = 0
    override = runs_dir or os.environ.get(RUNS_VARIABLE, "").strip()
    runs = Path(override).resolve() if override else None  # an explicit directory is published as it is
    if run_first and runs is None and runs_are_stale():
        print(
            f"Executing the {PUBLISHED_ENVIRONMENT} notebooks first (build/runs/{PUBLISHED_ENVIRONMENT} is missing "
            "or older than notebooks/) ...",
            file=sys.stderr,
            flush=True,
        )
        result = runner.run(environments=(PUBLISHED_ENVIRONMENT,))
        for r in result.results:
            print(f"  {r.notebook:<24} {r.status} {r.seconds:6.1f}s {r.error}", file=sys.stderr, flush=True)
        if not result.ok:
            print("Some notebooks failed: their pages show the error.", file=sys.stderr, flush=True)
            status = 1
    command = [sys.executable, "-m", "runbook.publish._mkdocs"]  # mkdocs, without a slow import nothing uses
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
