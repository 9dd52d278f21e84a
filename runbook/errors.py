"""Typed errors. Each carries the context a user needs to fix the problem."""

from __future__ import annotations

from typing import Any, Iterable


class RunbookError(Exception):
    """Base class for every error this package raises on purpose."""


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
    """The AWS endpoint (real or emulator) did not answer."""

    def __init__(self, endpoint: str, reason: str):
        self.endpoint = endpoint
        super().__init__(f"AWS endpoint {endpoint} is unreachable: {reason}")


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
