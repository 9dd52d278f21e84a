"""The ``runbook`` command. Bad arguments get one line on stderr and exit 2, never a traceback."""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

import click
from botocore.exceptions import EndpointConnectionError, NoCredentialsError
from rich.console import Console
from rich.table import Table

from runbook import paths, processes
from runbook.errors import EndpointUnreachable, RunbookError
from runbook.terraform.stream import progress_to

ENV_CHOICES = click.Choice([*paths.ENVIRONMENTS, "all"])
ONE_ENV = click.Choice(list(paths.ENVIRONMENTS))
#: What ``--work-dir`` means in every command (and the notebooks' ``work_dir``): see :func:`paths.work_dir`.
WORK_DIR_HELP = "Base of the work directories (default build/work): the environment's is DIR/ENV."


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
@click.option("--work-dir", type=click.Path(file_okay=False, path_type=Path), default=None, help=WORK_DIR_HELP)
def run(env: str, only: tuple[str, ...], endpoint_url: str | None, target: str, output_dir: Path | None,
        work_dir: Path | None) -> None:
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
        mark = {"ok": "[green]ok[/]", "failed": "[red]FAILED[/]", "skipped": "[yellow]skipped[/]",
                "interrupted": "[red]interrupted[/]"}[result.status]
        console.print(f"  {result.environment:<10} {result.notebook:<24} {mark} {result.seconds:6.1f}s")

    # SIGINT/SIGTERM/SIGHUP: the running notebook is interrupted (Terraform first), kept as far as it ran and
    # marked interrupted; the work-directory lock is released, kernels and the emulator stop; exit 128 + signal
    # A run that fails stops everything it started too (a kernel booting ahead, a Terraform of a notebook's thread)
    with processes.supervise(sweep=True) as supervisor:
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
@click.option("--work-dir", default=None, metavar="DIR", help=WORK_DIR_HELP)
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
    from runbook.cost import cost_command  # noqa: PLC0415 — CLI start-up: loaded only by the command that needs it

    try:
        base = _work_base(work_dir)
        with progress_to(sys.stderr):  # stdout is the report (--format json): Terraform's progress goes to stderr
            report = cost_command(env, pricing, fmt, free_tier, tfvars=tfvars,
                                  work_dir=base and paths.work_dir(env, base), endpoint_url=endpoint_url)
        click.echo(report)
    except RunbookError as error:
        raise UsageProblem(str(error)) from None


@cli.command()
@click.option("--env", "env", type=ONE_ENV, required=True)
@click.option("--work-dir", "work_dir", default="", metavar="DIR", help=WORK_DIR_HELP)
@click.option("--tfvars", default="", metavar="FILE",
              help="The working tfvars (default: infrastructure/ENV/terraform.tfvars, else 01's copy).")
@click.option("--endpoint-url", default="", metavar="URL",
              help="Emulator endpoint; empty means AWS_ENDPOINT_URL or real AWS.")
@click.option("--region", default="", help="AWS region (default: the tfvars' aws_region).")
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True)
def drift(env: str, work_dir: str, tfvars: str, endpoint_url: str, region: str, fmt: str) -> None:
    """Drift and pending changes from Terraform's plan (with refresh) of the working configuration.

    Exit 0 in sync, 1 drift (live differs from the state; pending changes may also be listed), 3 pending only (the
    configuration differs from the state, nothing changed outside Terraform; also when nothing is applied yet),
    2 a usage, configuration, credential or connection problem (one line naming it).
    """
    from runbook.steps.drift import drift_report  # noqa: PLC0415 — CLI start-up: loaded only by the command that needs it
    from runbook.terraform.planning import environment_terraform, plan_environment  # noqa: PLC0415 — CLI start-up: loaded only by the command that needs it

    names = {"tfvars": "--tfvars", "endpoint_url": "--endpoint-url", "region": "--region"}
    base = _work_base(work_dir)
    try:
        terraform, _ = environment_terraform(env, tfvars, base and paths.work_dir(env, base), endpoint_url, region,
                                             names)  # every input, before any AWS call
        _check_credentials(terraform.target)
        with progress_to(sys.stderr):  # stdout is the report (--format json): Terraform's progress on stderr
            planned = plan_environment(env, tfvars, base and paths.work_dir(env, base), endpoint_url, region,
                                       option_names=names)
        report = drift_report(planned.result.json)
    except Exception as error:  # never 0/1/3: those are verdicts
        if os.environ.get("RUNBOOK_DEBUG"):
            raise
        raise UsageProblem(_problem(error)) from None
    if fmt == "json":
        click.echo(json.dumps({"environment": env, "tfvars": str(planned.working.path),
                               "target": planned.target.label, "state": planned.state, **report.to_dict()},
                              indent=2, default=str))
    else:
        click.echo(f"{env}: {planned.working.describe()} on {planned.target.label}; state {planned.state}")
        click.echo(report.to_frame().to_string(index=False))
        click.echo(report.verdict)
    sys.exit(report.exit_code)


def _work_base(value: str | Path | None) -> Path | None:
    """``--work-dir``: the base directory holding one work directory per environment (``DIR/<env>``)."""
    return Path(value).expanduser().resolve() if value else None


def _check_credentials(target) -> None:
    """Real AWS: credentials must be found before Terraform or boto3 try (an emulator takes dummy ones)."""
    if not target.is_emulator and target.session.get_credentials() is None:
        raise RunbookError("no AWS credentials found (AWS_PROFILE, aws sso login, AWS_ACCESS_KEY_ID…); or pass "
                           "--endpoint-url for an emulator")


def _problem(error: BaseException) -> str:
    """One line naming what is wrong: the file, the endpoint (with its URL), the credentials."""
    if isinstance(error, EndpointUnreachable):
        text = (f"nothing answers at {error.endpoint} ({error.reason}): check --endpoint-url (or AWS_ENDPOINT_URL), "
                "or start the emulator (`runbook emulator`)")
    elif isinstance(error, NoCredentialsError):
        text = "no AWS credentials found (AWS_PROFILE, aws sso login, AWS_ACCESS_KEY_ID…)"
    elif isinstance(error, EndpointConnectionError):
        text = f"cannot connect to {error.kwargs.get('endpoint_url', 'the endpoint')}: is it running?"
    elif isinstance(error, RunbookError):
        text = str(error)
    else:
        text = f"{type(error).__name__}: {error}"
    return " ".join(text.split())


@cli.command()
@click.option("--env", "env", type=ONE_ENV, required=True, help="staging (production is refused).")
@click.option("--work-dir", "work_dir", default="", metavar="DIR", help=WORK_DIR_HELP)
@click.option("--tfvars", default="", metavar="FILE",
              help="The working tfvars (default: infrastructure/ENV/terraform.tfvars, else 01's copy).")
@click.option("--endpoint-url", default="", metavar="URL",
              help="Emulator endpoint; empty means AWS_ENDPOINT_URL or real AWS.")
@click.option("--region", default="", help="AWS region (default: the tfvars' aws_region).")
@click.option("--allow-destroy", "allow_destroy", default="", metavar="ADDRESSES",
              help="Comma-separated destructive addresses you allow (the review lists them).")
@click.option("--plan-sha256", "plan_sha256", default="", metavar="SHA256",
              help="Apply only the saved teardown plan with this hash (from an earlier review); no new plan.")
@click.option("--apply", "apply", is_flag=True, help="Destroy (with --allow-destroy); without it: plan, review.")
def destroy(env: str, work_dir: str, tfvars: str, endpoint_url: str, region: str, allow_destroy: str,
            plan_sha256: str, apply: bool) -> None:
    """The guide's "Destroy Resources (Staging Only)": a reviewed `terraform plan -destroy`, applied only through
    02's gate. Exit 0 planned or destroyed, 1 refused by the gate or failed, 2 usage (production is refused)."""
    from runbook.steps.deploy import teardown  # noqa: PLC0415 — CLI start-up: loaded only by the command that needs it
    from runbook.steps.gate import ChangeRefused, TeardownRefused  # noqa: PLC0415 — CLI start-up: loaded only by the command that needs it

    names = {"tfvars": "--tfvars", "endpoint_url": "--endpoint-url", "region": "--region",
             "allow_destroy": "--allow-destroy", "plan_sha256": "--plan-sha256"}
    try:
        base = _work_base(work_dir)
        decision = teardown(env, tfvars, base and paths.work_dir(env, base), endpoint_url, region, apply,
                            allow_destroy, plan_sha256, option_names=names, echo=click.echo)
    except (TeardownRefused, ValueError, EndpointUnreachable) as error:  # ParameterError, ConfigurationError
        raise UsageProblem(str(error)) from None
    except ChangeRefused as error:
        click.echo(f"runbook destroy: {error}", err=True)
        sys.exit(1)
    if not decision.allowed and decision.to_pass:
        flags = [f"--env {env}", *([f"--work-dir {work_dir}"] if work_dir else []),
                 *([f"--tfvars {tfvars}"] if tfvars else []),
                 *([f"--endpoint-url {endpoint_url}"] if endpoint_url else []), "--apply",
                 *([f"--allow-destroy {decision.to_pass['allow_destroy']}"] if "allow_destroy" in decision.to_pass
                   else []), f"--plan-sha256 {decision.plan_sha256}"]
        click.echo("To destroy exactly this plan: runbook destroy " + " ".join(flags))
    sys.exit(0)


@cli.command()
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
    from runbook.execution.lab import lab as run_lab  # noqa: PLC0415 — CLI start-up: loaded only by the command that needs it

    sys.exit(run_lab(port=port, environment=env, refresh=True if refresh == "*" else [refresh] if refresh else False))


@cli.command()
@click.option("--serve", is_flag=True, help="Serve the site on 127.0.0.1 instead of building it.")
def docs(serve: bool) -> None:
    """Build the site into site/ (or serve it), executing the notebooks first if needed."""
    from runbook.publish.docs import build  # noqa: PLC0415 — CLI start-up: loaded only by the command that needs it

    if not serve:
        sys.exit(build())
    with processes.supervise() as supervisor:
        status = build(serve=True)
    sys.exit(processes.exit_status(supervisor.signum) if supervisor.signum else status)


@cli.command()
@click.option("--env", "env", type=ONE_ENV, default="staging", show_default=True)
@click.option("--work-dir", default="", help="Terraform work directory (default build/work/<env>).")
@click.option("--tfvars", default="", help="The working tfvars (default: as every step resolves it).")
@click.option("--endpoint-url", default="", metavar="URL", help="An AWS emulator (default: AWS).")
@click.option("--region", default="us-east-1", show_default=True)
@click.option("--unlock-lock-id", default="", metavar="ID",
              help="Release the stale state lock with this ID (the diagnosis shows it); never automatic.")
@click.option("--apply", "apply", is_flag=True, help="Apply the import plan (after its review) through the gate.")
@click.option("--confirm", default="", help="Production: the table name, to confirm.")
def recover(env: str, work_dir: str, tfvars: str, endpoint_url: str, region: str, unlock_lock_id: str, apply: bool,
            confirm: str) -> None:
    """After an interrupted apply: what it left (the stale lock, objects outside the state) and the way back
    (03-import's recovery step): exit 0 when recovered or nothing to recover."""
    from runbook.steps import context, deploy, interrupted  # noqa: PLC0415 — CLI start-up: loaded only by the command that needs it

    try:
        ctx = context.open_context(env, region, endpoint_url, work_dir, tfvars=tfvars)
        deploy.check_confirmation(ctx, apply, confirm)
    except RunbookError as error:
        raise UsageProblem(str(error)) from None
    deploy.init(ctx)
    interrupted.recover(ctx, unlock_lock_id, apply, confirm, show=lambda text: click.echo(str(text)))


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
    """The ``runbook`` command: :func:`main`'s status, by a normal exit (every command has closed what it opened:
    kernels, emulator, files, child processes)."""
    sys.exit(main())


if __name__ == "__main__":
    entry()
