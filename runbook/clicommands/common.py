"""What the sub-commands share: their option choices and help, the usage error they raise, and the one-line report
of a problem (a file, an endpoint, the credentials).

May import: the base modules (``runbook.paths``, ``errors``), click and botocore's exceptions. Never a sibling.
"""

from __future__ import annotations

from pathlib import Path

import click
from botocore.exceptions import EndpointConnectionError, NoCredentialsError

from runbook import paths
from runbook.errors import EndpointUnreachable, RunbookError

ENV_CHOICES = click.Choice([*paths.ENVIRONMENTS, "all"])
ONE_ENV = click.Choice(list(paths.ENVIRONMENTS))
#: What ``--work-dir`` means in every command (and the notebooks' ``work_dir``): see :func:`paths.work_dir`.
WORK_DIR_HELP = "Base of the work directories (default build/work): the environment's is DIR/ENV."


class UsageProblem(click.UsageError):
    """Our own argument validation, reported like click's."""


def work_base(value: str | Path | None) -> Path | None:
    """``--work-dir``: the base directory holding one work directory per environment (``DIR/<env>``)."""
    return Path(value).expanduser().resolve() if value else None


def check_credentials(target) -> None:
    """Real AWS: credentials must be found before Terraform or boto3 try (an emulator takes dummy ones)."""
    if not target.is_emulator and target.session.get_credentials() is None:
        raise RunbookError(
            "no AWS credentials found (AWS_PROFILE, aws sso login, AWS_ACCESS_KEY_ID…); or pass "
            "--endpoint-url for an emulator"
        )


def problem_line(error: BaseException) -> str:
    """One line naming what is wrong: the file, the endpoint (with its URL), the credentials."""
    if isinstance(error, EndpointUnreachable):
        text = (
            f"nothing answers at {error.endpoint} ({error.reason}): check --endpoint-url (or AWS_ENDPOINT_URL), "
            "or start the emulator (`runbook emulator`)"
        )
    elif isinstance(error, NoCredentialsError):
        text = "no AWS credentials found (AWS_PROFILE, aws sso login, AWS_ACCESS_KEY_ID…)"
    elif isinstance(error, EndpointConnectionError):
        text = f"cannot connect to {error.kwargs.get('endpoint_url', 'the endpoint')}: is it running?"
    elif isinstance(error, RunbookError):
        text = str(error)
    else:
        text = f"{type(error).__name__}: {error}"
    return " ".join(text.split())
