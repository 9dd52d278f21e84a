"""Typed errors. Each carries the context a user needs to fix the problem."""

from __future__ import annotations

from typing import Any, Iterable
from urllib.parse import urlparse


class RunbookError(Exception):
    """Base class for every error this package raises on purpose.

    In a notebook IPython shows only the error's name and message (:meth:`_render_traceback_`): each message says
    what went wrong and what to do, and a traceback through the package says nothing an operator can act on.
    """

    def _render_traceback_(self) -> list[str]:
        return [f"{type(self).__name__}: {self}"]


class ParameterError(RunbookError, ValueError):
    """A notebook parameter or CLI option has a value that is not allowed.

    The message names the parameter, the value given and what is allowed.
    """

    def __init__(self, parameter: str, value: Any, expected: str):
        self.parameter = parameter
        self.value = value
        self.expected = expected
        super().__init__(f"parameter {parameter!r}: got {value!r}; expected {expected}")


class ConfigurationError(RunbookError, ValueError):
    """A Terraform file or tfvars value is missing or invalid (names the file and, where known, the line)."""

    def __init__(self, path: Any, message: str, line: int | None = None):
        self.path = str(path)
        self.line = line
        where = f"{self.path}:{line}" if line else self.path
        super().__init__(f"{where}: {message}")


class ConfirmationError(RunbookError):
    """A change was requested without the confirmation this environment requires. Nothing was changed."""


class EndpointUnreachable(RunbookError, ConnectionError):
    """The AWS endpoint (real or emulator) did not answer.

    The message is one paragraph that says what to run. In a notebook, IPython prints only that paragraph (see
    :meth:`_render_traceback_`): the traceback through the package says nothing an operator can act on.
    """

    def __init__(self, endpoint: str, reason: str):
        self.endpoint = endpoint
        self.reason = reason
        super().__init__(unreachable_message(endpoint, reason))


def unreachable_message(endpoint: str, reason: str) -> str:
    """One paragraph: which endpoint, why, and what to run (an emulator on this machine, or elsewhere)."""
    host = urlparse(endpoint).hostname or ""
    where = (
        f"Nothing answers at {endpoint} ({reason}), the AWS endpoint this run uses (the aws_endpoint_url "
        "parameter, else AWS_ENDPOINT_URL)."
    )
    if host in ("127.0.0.1", "localhost", "::1"):
        return (
            f"{where} The emulator on this machine is not running: it stops with the `runbook lab` or "
            "`runbook emulator` that started it, and its tables go with it. Restart `runbook lab` and run the "
            "notebook again from the top (the lab injects its new endpoint), or start `runbook emulator` in a "
            "terminal and pass the "
            "endpoint it prints as aws_endpoint_url; leave aws_endpoint_url empty (and unset "
            "AWS_ENDPOINT_URL) to use real AWS."
        )
    return (
        f"{where} Start the emulator at {host or endpoint} (or check the address and port), or use "
        "`runbook emulator` on this machine and pass the endpoint it prints as aws_endpoint_url; leave "
        "aws_endpoint_url empty (and unset AWS_ENDPOINT_URL) to use real AWS."
    )


class TerraformUnavailable(RunbookError):
    """Terraform, or the AWS provider it needs, cannot be used on this machine (the reason says which)."""


class TerraformError(RunbookError):
    """A Terraform command failed. ``stderr`` holds Terraform's own words."""

    def __init__(self, args: Iterable[str], returncode: int, stderr: str, diagnostics: list[dict] | None = None):
        self.args_list = list(args)
        self.returncode = returncode
        self.stderr = stderr
        #: Terraform's ``-json`` diagnostics, when the command produced them.
        self.diagnostics = list(diagnostics or [])
        first = next((line for line in stderr.splitlines() if line.strip(" │╷╵")), "").strip(" │")
        super().__init__(f"terraform {' '.join(self.args_list)} exited {returncode}: {first}")


class RealAwsRefused(RunbookError):
    """An emulator-only action (demo data, the import demo's hand-made table) was asked of real AWS."""


class TargetIncapable(RunbookError):
    """The target (an emulator) lacks a call the planned configuration needs. Nothing was changed."""


class StateLocked(RunbookError):
    """The environment's Terraform state is locked by another run: who holds it, since when, how to release it.

    Nothing was changed. ``command`` is the exact ``terraform force-unlock`` to run once the operator has checked
    that the holder (a colleague, a CI job, a crashed run) is gone.
    """

    def __init__(
        self,
        lock_id: str,
        who: str,
        created: str,
        operation: str,
        state: str,
        age: str = "",
        version: str = "",
        command: str = "",
        command_args: list[str] | None = None,
    ):
        self.lock_id = lock_id
        self.who = who
        self.created = created
        self.operation = operation
        self.state = state
        self.age = age
        self.version = version
        self.command = command
        self.command_args = list(command_args or [])
        since = f"since {created}" + (f" ({age} ago)" if age and age != "unknown" else "") if created else "since ?"
        message = (
            f"the state {state} is locked by {who or 'an unknown holder'} {since} for {operation or '?'}"
            + (f" (Terraform {version})" if version else "")
            + f", lock ID {lock_id or '?'}. Nothing was "
            "changed. If that run is still going, wait for it and try again; once you have checked the holder "
            "is gone, release the lock"
        )
        message += f": {command}" if command else " (delete the lock object next to the state)"
        super().__init__(message)
