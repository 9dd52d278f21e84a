"""The ``runbook`` command. Bad arguments get one line on stderr and exit 2, never a traceback."""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import click

from . import paths
from .errors import RunbookError

ENV_CHOICES = click.Choice([*paths.ENVIRONMENTS, "all"])
ONE_ENV = click.Choice(list(paths.ENVIRONMENTS))


class UsageProblem(click.UsageError):
    """Our own argument validation, reported like click's."""


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="notifications-runbook", prog_name="runbook")
def cli() -> None:
    """Operator's runbook for the user-notifications DynamoDB table (Terraform, notebooks, docs)."""


@cli.command()
@click.option("--env", "env", type=ENV_CHOICES, default="staging", show_default=True,
              help="Environment to run, or all (concurrently).")
@click.option("--only", multiple=True, metavar="NAME",
              help="Run only this notebook (01-setup, setup or 01). Repeatable.")
@click.option("--endpoint-url", default=None, metavar="URL",
              help="An AWS emulator already running (instead of the embedded one).")
@click.option("--target", type=click.Choice(["local", "aws"]), default="local", show_default=True,
              help="local: an emulator (embedded unless --endpoint-url); aws: real AWS, usual credentials.")
@click.option("--output-dir", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Where executed notebooks go (default build/runs), one folder per environment.")
@click.option("--work-dir", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Terraform work directories (default build/work), one folder per environment.")
def run(env: str, only: tuple[str, ...], endpoint_url: str | None, target: str, output_dir: Path | None,
        work_dir: Path | None) -> None:
    """Execute the notebooks with papermill for an environment and summarise."""
    from rich.console import Console

    from . import runner

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
        mark = {"ok": "[green]ok[/]", "failed": "[red]FAILED[/]", "skipped": "[yellow]skipped[/]",
                "interrupted": "[red]interrupted[/]"}[result.status]
        console.print(f"  {result.environment:<10} {result.notebook:<24} {mark} {result.seconds:6.1f}s")

    from . import processes

    # SIGINT/SIGTERM/SIGHUP: the running notebook is interrupted (Terraform first), kept as far as it ran and
    # marked interrupted; the work-directory lock is released, kernels and the emulator stop; exit 128 + signal
    with processes.supervise() as supervisor:
        try:
            result = runner.run(environments, only, endpoint_url, target, output_dir, on_event=progress,
                                work_dir=work_dir)
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
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"runbook run: {seconds:.1f}s")
    for column in ("environment", "notebook", "status", "seconds", "details"):
        table.add_column(column)
    for r in result.results:
        detail = (f"{r.error}\n{r.output}" if r.status in ("failed", "interrupted")
                  else ("" if r.status == "ok" else r.error))
        style = {"ok": "green", "failed": "red", "skipped": "yellow", "interrupted": "red"}[r.status]
        table.add_row(r.environment, r.notebook, f"[{style}]{r.status}[/]", f"{r.seconds:.1f}", detail)
    console = Console()
    console.print(table)
    for env in dict.fromkeys(r.environment for r in result.results):
        outputs = [r.output for r in result.for_environment(env) if r.output]
        if outputs:
            console.print(f"Executed notebooks for {env}: {Path(outputs[0]).parent}")


@cli.command()
@click.option("--env", "env", type=ONE_ENV, required=True, help="Environment whose configuration is priced.")
@click.option("--work-dir", default=None, metavar="DIR",
              help="The environment's work directory (default build/work/ENV), as for drift.")
@click.option("--tfvars", default="", metavar="FILE",
              help="The tfvars to price (default: the environment's working tfvars, the one 02 applies).")
@click.option("--pricing", default="us-east-1", show_default=True, metavar="NAME|FILE",
              help="Price set: us-east-1, us-east-1-legacy, or a YAML file.")
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True)
@click.option("--free-tier", is_flag=True, help="Subtract the AWS free tier.")
@click.option("--endpoint-url", default="", metavar="URL",
              help="Emulator endpoint for the plan; empty means AWS_ENDPOINT_URL or real AWS.")
def cost(env: str, work_dir: str | None, tfvars: str, pricing: str, fmt: str, free_tier: bool,
         endpoint_url: str) -> None:
    """Monthly cost of the working configuration's plan with the environment's usage profile."""
    from .cost import cost_command

    try:
        click.echo(cost_command(env, pricing, fmt, free_tier, tfvars=tfvars, work_dir=work_dir,
                                endpoint_url=endpoint_url))
    except RunbookError as error:
        raise UsageProblem(str(error)) from None


@cli.command()
@click.option("--env", "env", type=ONE_ENV, required=True)
@click.option("--work-dir", "work_dir", default="", metavar="DIR",
              help="The environment's work directory (default build/work/ENV).")
@click.option("--tfvars", default="", metavar="FILE",
              help="The working tfvars (default: infrastructure/ENV/terraform.tfvars, else 01's copy).")
@click.option("--endpoint-url", default="", metavar="URL",
              help="Emulator endpoint; empty means AWS_ENDPOINT_URL or real AWS.")
@click.option("--region", default="", help="AWS region (default: the tfvars' aws_region).")
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True)
def drift(env: str, work_dir: str, tfvars: str, endpoint_url: str, region: str, fmt: str) -> None:
    """Terraform's plan of the working configuration: exit 0 in sync, 1 drift, 3 pending changes only, 2 usage error."""
    import json

    from .drift import drift_report
    from .planning import environment_terraform, plan_environment

    names = {"tfvars": "--tfvars", "endpoint_url": "--endpoint-url", "region": "--region"}
    try:
        environment_terraform(env, tfvars, work_dir or None, endpoint_url, region, names)  # every input, before AWS
    except RunbookError as error:
        raise UsageProblem(str(error)) from None
    planned = plan_environment(env, tfvars, work_dir or None, endpoint_url, region, option_names=names)
    report = drift_report(planned.result.json)
    if fmt == "json":
        click.echo(json.dumps({"environment": env, "tfvars": str(planned.working.path),
                               "target": planned.target.label, **report.to_dict()}, indent=2, default=str))
    else:
        click.echo(f"{env}: {planned.working.describe()} on {planned.target.label}")
        click.echo(report.to_frame().to_string(index=False))
        click.echo(report.verdict)
    sys.exit(report.exit_code)


@cli.command()
@click.option("--port", type=click.IntRange(0, 65535), default=0, show_default=True, help="0 picks a free port.")
@click.option("--region", default="us-east-1", show_default=True)
def emulator(port: int, region: str) -> None:
    """Run the embedded AWS emulator (moto) on 127.0.0.1 in the foreground; Ctrl-C or SIGTERM stops it."""
    from . import processes
    from .emulator import Emulator, export_lines

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


@cli.command()
@click.option("--port", type=click.IntRange(0, 65535), default=0, show_default=True,
              help="JupyterLab port; 0 picks a free one.")
@click.option("--env", "env", type=ONE_ENV, default="staging", show_default=True,
              help="Environment whose parameters the working copies get.")
@click.option("--refresh", "refresh", is_flag=False, flag_value="*", default=None, metavar="[NAME]",
              help="Re-create the working copy NAME (02 or 02-plan-and-apply) in build/lab/<env>/ from notebooks/, "
                   "or every copy without NAME (discards your edits there).")
def lab(port: int, env: str, refresh: str | None) -> None:
    """Embedded emulator + JupyterLab on 127.0.0.1, on working copies of the runbooks (build/lab/<env>/)."""
    from .lab import lab as run_lab

    sys.exit(run_lab(port=port, environment=env, refresh=True if refresh == "*" else [refresh] if refresh else False))


@cli.command()
@click.option("--serve", is_flag=True, help="Serve the site on 127.0.0.1 instead of building it.")
def docs(serve: bool) -> None:
    """Build the site into site/ (or serve it), executing the notebooks first if needed."""
    from .docs import build

    if not serve:
        sys.exit(build())
    from . import processes

    with processes.supervise() as supervisor:
        status = build(serve=True)
    sys.exit(processes.exit_status(supervisor.signum) if supervisor.signum else status)


def main(argv: list[str] | None = None) -> int:
    """Entry point: click without its standalone error handling, so usage errors are one line and exit 2."""
    try:
        result = cli.main(args=argv, prog_name="runbook", standalone_mode=False)
        return result if isinstance(result, int) else 0
    except click.exceptions.Exit as exit_:
        return exit_.exit_code
    except SystemExit as exit_:  # a command's own exit status (drift: 0/1/3)
        return exit_.code if isinstance(exit_.code, int) else (0 if exit_.code is None else 1)
    except click.UsageError as error:
        command = f"runbook {error.ctx.command.name}" if error.ctx and error.ctx.command.name != "cli" else "runbook"
        click.echo(f"{command}: error: {error.format_message()}", err=True)
        return 2
    except click.Abort:
        click.echo("aborted", err=True)
        return 130
    except RunbookError as error:
        click.echo(f"runbook: error: {error}", err=True)
        return 1
    except Exception as error:  # a bug: one line, and the traceback on request
        if os.environ.get("RUNBOOK_DEBUG"):
            raise
        click.echo(f"runbook: internal error: {type(error).__name__}: {error} (RUNBOOK_DEBUG=1 shows the traceback)",
                   err=True)
        return 1


def entry() -> None:
    """The ``runbook`` command: :func:`main`, then leave without the interpreter's teardown.

    By the time ``main`` returns, every command has closed what it opened (kernels, emulator, files, child
    processes). What is left is garbage: after a run, the embedded emulator's objects (moto's EC2 images and the
    rest), which Python would take up to a second to collect at exit, after the table is printed.
    """
    code = main()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


if __name__ == "__main__":
    entry()
