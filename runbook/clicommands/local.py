"""``runbook run`` (the notebooks with papermill, and its summary) and the local tools: ``runbook emulator``,
``runbook lab`` and ``runbook docs``.

May import: :mod:`.common` and the base modules at the top; :mod:`runbook.execution`, :mod:`runbook.publish` and
:mod:`runbook.aws` only inside the command that needs them (CLI start-up).
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import click
from rich.console import Console
from rich.table import Table

from runbook import processes
from runbook.clicommands.common import ENV_CHOICES, ONE_ENV, WORK_DIR_HELP, UsageProblem
from runbook.errors import RunbookError


@click.command()
@click.option(
    "--env",
    "env",
    type=ENV_CHOICES,
    default="staging",
    show_default=True,
    help="Environment to run, or all (concurrently).",
)
@click.option(
    "--only", multiple=True, metavar="NAME", help="Run only this notebook (01-setup, setup or 01). Repeatable."
)
@click.option(
    "--endpoint-url", default=None, metavar="URL", help="An AWS emulator already running (instead of the embedded one)."
)
@click.option(
    "--target",
    type=click.Choice(["local", "aws"]),
    default="local",
    show_default=True,
    help="local: an emulator (embedded unless --endpoint-url); aws: real AWS, usual credentials.",
)
@click.option(
    "--output-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Where executed notebooks go (default build/runs), one folder per environment.",
)
@click.option("--work-dir", type=click.Path(file_okay=False, path_type=Path), default=None, help=WORK_DIR_HELP)
def run(
    env: str,
    only: tuple[str, ...],
    endpoint_url: str | None,
    target: str,
    output_dir: Path | None,
    work_dir: Path | None,
) -> None:
    """Execute the notebooks with papermill for an environment and summarise."""
    from runbook.execution import runner  # noqa: PLC0415 — CLI start-up: loaded only by the command that needs it

    console = Console(stderr=True)
    try:
        environments = runner.resolve_environments(env)
        notebooks = runner.select_notebooks(only)
    except RunbookError as error:
        raise UsageProblem(str(error)) from None
    where = endpoint_url or ("real AWS (usual credentials)" if target == "aws" else "the embedded emulator")
    console.print(f"Running {len(notebooks)} notebook(s) for {', '.join(environments)} on {where}")
    started = time.perf_counter()

    def progress(result) -> None:
        mark = {
            "ok": "[green]ok[/]",
            "failed": "[red]FAILED[/]",
            "skipped": "[yellow]skipped[/]",
            "interrupted": "[red]interrupted[/]",
        }[result.status]
        console.print(f"  {result.environment:<10} {result.notebook:<24} {mark} {result.seconds:6.1f}s")

    # SIGINT/SIGTERM/SIGHUP: the running notebook is interrupted (Terraform first), kept as far as it ran and
    # marked interrupted; the work-directory lock is released, kernels and the emulator stop; exit 128 + signal
    # A run that fails stops everything it started too (a kernel booting ahead, a Terraform of a notebook's thread)
    with processes.supervise(sweep=True) as supervisor:
        try:
            result = runner.run(
                environments, only, endpoint_url, target, output_dir, on_event=progress, work_dir=work_dir
            )
        except RunbookError as error:
            raise UsageProblem(str(error)) from None
        except processes.Interrupted:  # before any notebook ran (start-up)
            result = None
        if result is not None:
            _print_summary(result, time.perf_counter() - started)
    if supervisor.signum:
        console.print(f"runbook run: stopped by {processes.signal_name(supervisor.signum)}")
        sys.exit(processes.exit_status(supervisor.signum))
    sys.exit(0 if result.ok else 1)


def _print_summary(result, seconds: float) -> None:
    table = Table(title=f"runbook run: {seconds:.1f}s")
    for column in ("environment", "notebook", "status", "seconds", "details"):
        table.add_column(column)
    for r in result.results:
        detail = (
            f"{r.error}\n{r.output}" if r.status in ("failed", "interrupted") else ("" if r.status == "ok" else r.error)
        )
        style = {"ok": "green", "failed": "red", "skipped": "yellow", "interrupted": "red"}[r.status]
        table.add_row(r.environment, r.notebook, f"[{style}]{r.status}[/]", f"{r.seconds:.1f}", detail)
    console = Console()
    console.print(table)
    for env in dict.fromkeys(r.environment for r in result.results):
        outputs = [r.output for r in result.for_environment(env) if r.output]
        if outputs:
            console.print(f"Executed notebooks for {env}: {Path(outputs[0]).parent}")


@click.command()
@click.option("--port", type=click.IntRange(0, 65535), default=0, show_default=True, help="0 picks a free port.")
@click.option("--region", default="us-east-1", show_default=True)
def emulator(port: int, region: str) -> None:
    """Run the embedded AWS emulator (moto) on 127.0.0.1 in the foreground; Ctrl-C or SIGTERM stops it."""
    from runbook.aws.emulator import Emulator, export_lines  # noqa: PLC0415 — CLI start-up: loaded only by the command that needs it

    with processes.supervise(watchdog=False) as supervisor:  # a thread of this process: nothing to watch
        try:
            emu = Emulator(port=port, region=region).start()
        except OSError as error:
            raise UsageProblem(f"cannot listen on 127.0.0.1:{port}: {error.strerror or error}") from None
        try:
            click.echo(f"AWS emulator listening on {emu.endpoint_url}  (Ctrl-C to stop)")
            click.echo("Use it from another shell with:")
            for line in export_lines(emu.environment()):
                click.echo(f"  {line}")
            sys.stdout.flush()
            supervisor.wait()
            click.echo("stopping the emulator")
        finally:
            emu.stop()
    sys.exit(processes.exit_status(supervisor.signum))


@click.command()
@click.option(
    "--port", type=click.IntRange(0, 65535), default=0, show_default=True, help="JupyterLab port; 0 picks a free one."
)
@click.option(
    "--env",
    "env",
    type=ONE_ENV,
    default="staging",
    show_default=True,
    help="Environment whose parameters the working copies get.",
)
@click.option(
    "--refresh",
    "refresh",
    is_flag=False,
    flag_value="*",
    default=None,
    metavar="[NAME]",
    help="Re-create the working copy NAME (02 or 02-plan-and-apply) in build/lab/<env>/ from notebooks/, "
    "or every copy without NAME (discards your edits there).",
)
def lab(port: int, env: str, refresh: str | None) -> None:
    """Embedded emulator + JupyterLab on 127.0.0.1, on working copies of the runbooks (build/lab/<env>/)."""
    from runbook.execution.lab import lab as run_lab  # noqa: PLC0415 — CLI start-up: loaded only by the command that needs it

    sys.exit(run_lab(port=port, environment=env, refresh=True if refresh == "*" else [refresh] if refresh else False))


@click.command()
@click.option("--serve", is_flag=True, help="Serve the site on 127.0.0.1 instead of building it.")
def docs(serve: bool) -> None:
    """Build the site into site/ (or serve it), executing the notebooks first if needed."""
    from runbook.publish.docs import build  # noqa: PLC0415 — CLI start-up: loaded only by the command that needs it

    if not serve:
        sys.exit(build())
    with processes.supervise() as supervisor:
        status = build(serve=True)
    sys.exit(processes.exit_status(supervisor.signum) if supervisor.signum else status)
