"""The commands on an environment's infrastructure, through Terraform: ``runbook cost``, ``runbook drift``,
``runbook destroy`` and ``runbook recover``.

May import: :mod:`.common`, the base modules and :mod:`runbook.terraform.stream` at the top; :mod:`runbook.cost`,
:mod:`runbook.steps` and the rest of :mod:`runbook.terraform` only inside the command that needs them (CLI start-up).
"""

from __future__ import annotations

import json
import os
import sys

import click

from runbook import paths
from runbook.clicommands.common import ONE_ENV, WORK_DIR_HELP, UsageProblem, check_credentials, problem_line, work_base
from runbook.errors import EndpointUnreachable, RunbookError
from runbook.terraform.stream import progress_to


def working_configuration_options(command):
    """``--tfvars``, ``--endpoint-url`` and ``--region``: the working configuration a plan of ``drift`` and
    ``destroy`` is made from."""
    options = [
        click.option(
            "--tfvars",
            default="",
            metavar="FILE",
            help="The working tfvars (default: infrastructure/ENV/terraform.tfvars, else 01's copy).",
        ),
        click.option(
            "--endpoint-url",
            default="",
            metavar="URL",
            help="Emulator endpoint; empty means AWS_ENDPOINT_URL or real AWS.",
        ),
        click.option("--region", default="", help="AWS region (default: the tfvars' aws_region)."),
    ]
    for option in reversed(options):
        command = option(command)
    return command


@click.command()
@click.option("--env", "env", type=ONE_ENV, required=True, help="Environment whose configuration is priced.")
@click.option("--work-dir", default=None, metavar="DIR", help=WORK_DIR_HELP)
@click.option(
    "--tfvars",
    default="",
    metavar="FILE",
    help="The tfvars to price (default: the environment's working tfvars, the one 02 applies).",
)
@click.option(
    "--pricing",
    default="us-east-1",
    show_default=True,
    metavar="NAME|FILE",
    help="Price set: us-east-1, us-east-1-legacy, or a YAML file.",
)
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True)
@click.option("--free-tier", is_flag=True, help="Subtract the AWS free tier.")
@click.option(
    "--endpoint-url",
    default="",
    metavar="URL",
    help="Emulator endpoint for the plan; empty means AWS_ENDPOINT_URL or real AWS.",
)
def cost(
    env: str, work_dir: str | None, tfvars: str, pricing: str, fmt: str, free_tier: bool, endpoint_url: str
) -> None:
    """Monthly cost of the working configuration's plan with the environment's usage profile."""
    from runbook.cost import cost_command  # noqa: PLC0415 — CLI start-up: loaded only by the command that needs it

    try:
        base = work_base(work_dir)
        with progress_to(sys.stderr):  # stdout is the report (--format json): Terraform's progress goes to stderr
            report = cost_command(
                env,
                pricing,
                fmt,
                free_tier,
                tfvars=tfvars,
                work_dir=base and paths.work_dir(env, base),
                endpoint_url=endpoint_url,
            )
        click.echo(report)
    except RunbookError as error:
        raise UsageProblem(str(error)) from None


@click.command()
@click.option("--env", "env", type=ONE_ENV, required=True)
@click.option("--work-dir", "work_dir", default="", metavar="DIR", help=WORK_DIR_HELP)
@working_configuration_options
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
    base = work_base(work_dir)
    try:
        terraform, _ = environment_terraform(
            env, tfvars, base and paths.work_dir(env, base), endpoint_url, region, names
        )  # every input, before any AWS call
        check_credentials(terraform.target)
        with progress_to(sys.stderr):  # stdout is the report (--format json): Terraform's progress on stderr
            planned = plan_environment(
                env, tfvars, base and paths.work_dir(env, base), endpoint_url, region, option_names=names
            )
        report = drift_report(planned.result.json)
    except Exception as error:  # never 0/1/3: those are verdicts
        if os.environ.get("RUNBOOK_DEBUG"):
            raise
        raise UsageProblem(problem_line(error)) from None
    if fmt == "json":
        click.echo(
            json.dumps(
                {
                    "environment": env,
                    "tfvars": str(planned.working.path),
                    "target": planned.target.label,
                    "state": planned.state,
                    **report.to_dict(),
                },
                indent=2,
                default=str,
            )
        )
    else:
        click.echo(f"{env}: {planned.working.describe()} on {planned.target.label}; state {planned.state}")
        click.echo(report.to_frame().to_string(index=False))
        click.echo(report.verdict)
    sys.exit(report.exit_code)


@click.command()
@click.option("--env", "env", type=ONE_ENV, required=True, help="staging (production is refused).")
@click.option("--work-dir", "work_dir", default="", metavar="DIR", help=WORK_DIR_HELP)
@working_configuration_options
@click.option(
    "--allow-destroy",
    "allow_destroy",
    default="",
    metavar="ADDRESSES",
    help="Comma-separated destructive addresses you allow (the review lists them).",
)
@click.option(
    "--plan-sha256",
    "plan_sha256",
    default="",
    metavar="SHA256",
    help="Apply only the saved teardown plan with this hash (from an earlier review); no new plan.",
)
@click.option("--apply", "apply", is_flag=True, help="Destroy (with --allow-destroy); without it: plan, review.")
def destroy(
    env: str,
    work_dir: str,
    tfvars: str,
    endpoint_url: str,
    region: str,
    allow_destroy: str,
    plan_sha256: str,
    apply: bool,
) -> None:
    """The guide's "Destroy Resources (Staging Only)": a reviewed `terraform plan -destroy`, applied only through
    02's gate. Exit 0 planned or destroyed, 1 refused by the gate or failed, 2 usage (production is refused)."""
    from runbook.steps.deploy import teardown  # noqa: PLC0415 — CLI start-up: loaded only by the command that needs it
    from runbook.steps.gate import ChangeRefused, TeardownRefused  # noqa: PLC0415 — CLI start-up: loaded only by the command that needs it

    names = {
        "tfvars": "--tfvars",
        "endpoint_url": "--endpoint-url",
        "region": "--region",
        "allow_destroy": "--allow-destroy",
        "plan_sha256": "--plan-sha256",
    }
    try:
        base = work_base(work_dir)
        decision = teardown(
            env,
            tfvars,
            base and paths.work_dir(env, base),
            endpoint_url,
            region,
            apply,
            allow_destroy,
            plan_sha256,
            option_names=names,
            echo=click.echo,
        )
    except (TeardownRefused, ValueError, EndpointUnreachable) as error:  # ParameterError, ConfigurationError
        raise UsageProblem(str(error)) from None
    except ChangeRefused as error:
        click.echo(f"runbook destroy: {error}", err=True)
        sys.exit(1)
    if not decision.allowed and decision.to_pass:
        flags = [
            f"--env {env}",
            *([f"--work-dir {work_dir}"] if work_dir else []),
            *([f"--tfvars {tfvars}"] if tfvars else []),
            *([f"--endpoint-url {endpoint_url}"] if endpoint_url else []),
            "--apply",
            *([f"--allow-destroy {decision.to_pass['allow_destroy']}"] if "allow_destroy" in decision.to_pass else []),
            f"--plan-sha256 {decision.plan_sha256}",
        ]
        click.echo("To destroy exactly this plan: runbook destroy " + " ".join(flags))
    sys.exit(0)


@click.command()
@click.option("--env", "env", type=ONE_ENV, default="staging", show_default=True)
@click.option("--work-dir", default="", help="Terraform work directory (default build/work/<env>).")
@click.option("--tfvars", default="", help="The working tfvars (default: as every step resolves it).")
@click.option("--endpoint-url", default="", metavar="URL", help="An AWS emulator (default: AWS).")
@click.option("--region", default="us-east-1", show_default=True)
@click.option(
    "--unlock-lock-id",
    default="",
    metavar="ID",
    help="Release the stale state lock with this ID (the diagnosis shows it); never automatic.",
)
@click.option("--apply", "apply", is_flag=True, help="Apply the import plan (after its review) through the gate.")
@click.option("--confirm", default="", help="Production: the table name, to confirm.")
def recover(
    env: str, work_dir: str, tfvars: str, endpoint_url: str, region: str, unlock_lock_id: str, apply: bool, confirm: str
) -> None:
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
