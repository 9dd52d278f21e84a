"""The ``runbook`` command: its group of sub-commands (:mod:`runbook.clicommands`) and the entry point. Bad arguments
get one line on stderr and exit 2, never a traceback."""

from __future__ import annotations

import os
import sys

import click

from runbook.clicommands import infrastructure, local
from runbook.errors import RunbookError


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="notifications-runbook", prog_name="runbook")
def cli() -> None:
    """Operator's runbook for the user-notifications DynamoDB table (Terraform, notebooks, docs)."""


for _command in (
    local.run,
    infrastructure.cost,
    infrastructure.drift,
    infrastructure.destroy,
    local.emulator,
    local.lab,
    local.docs,
    infrastructure.recover,
):
    cli.add_command(_command)


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
        click.echo(
            f"runbook: internal error: {type(error).__name__}: {error} (RUNBOOK_DEBUG=1 shows the traceback)", err=True
        )
        return 1


def entry() -> None:
    """The ``runbook`` command: :func:`main`'s status, by a normal exit (every command has closed what it opened:
    kernels, emulator, files, child processes)."""
    sys.exit(main())


if __name__ == "__main__":
    entry()
