"""Validation of notebook parameters, before any AWS call. Errors name the parameter, value and what is allowed."""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import urlparse

from .errors import ConfirmationError, ParameterError  # noqa: F401 (re-exported)
from .paths import ENVIRONMENTS

REGION_PATTERN = re.compile(r"^[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-\d$")
#: DynamoDB table names: 3-255 characters of a-z, A-Z, 0-9, '_', '-', '.'.
TABLE_NAME_PATTERN = re.compile(r"^[A-Za-z0-9_.-]{3,255}$")


def environment(value: object) -> str:
    if value not in ENVIRONMENTS:
        raise ParameterError("environment", value, f"one of {', '.join(ENVIRONMENTS)}")
    return value  # type: ignore[return-value]


def region(value: object, name: str = "aws_region") -> str:
    if not isinstance(value, str) or not REGION_PATTERN.match(value):
        raise ParameterError(name, value, "an AWS region such as 'us-east-1'")
    return value


def endpoint_url(value: object, name: str = "aws_endpoint_url") -> str:
    """'' (standard AWS resolution) or an http(s) URL with a host."""
    if value == "":
        return ""
    parsed = urlparse(value) if isinstance(value, str) else None
    if parsed is None or parsed.scheme not in ("http", "https") or not parsed.hostname:
        raise ParameterError(name, value, "'' for AWS, or an emulator URL such as 'http://127.0.0.1:5000'")
    try:
        parsed.port
    except ValueError:
        raise ParameterError(name, value, "a URL with a valid port") from None
    return value.rstrip("/")


def table_name(value: object, name: str = "table_name") -> str:
    if not isinstance(value, str) or not TABLE_NAME_PATTERN.match(value):
        raise ParameterError(name, value, "3-255 characters of letters, digits, '_', '-' or '.'")
    return value


def boolean(value: object, name: str) -> bool:
    if not isinstance(value, bool):
        raise ParameterError(name, value, "True or False (a boolean, not a string)")
    return value


def integer(value: object, name: str, minimum: int | None = None, maximum: int | None = None) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ParameterError(name, value, "a whole number")
    if (minimum is not None and value < minimum) or (maximum is not None and value > maximum):
        raise ParameterError(name, value, f"a whole number from {minimum} to {maximum}")
    return value


def number(value: object, name: str, minimum: float | None = None, maximum: float | None = None) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ParameterError(name, value, "a number")
    if (minimum is not None and value < minimum) or (maximum is not None and value > maximum):
        raise ParameterError(name, value, f"a number from {minimum} to {maximum}")
    return float(value)


def choice(value: object, name: str, allowed: tuple[str, ...]) -> str:
    if value not in allowed:
        raise ParameterError(name, value, f"one of {', '.join(allowed)}")
    return value  # type: ignore[return-value]


@dataclass(frozen=True)
class ChangeGuard:
    """Whether a notebook may change infrastructure: ``apply`` and, in production, ``confirm`` == table name."""

    environment: str
    table_name: str
    apply: bool
    confirm: str

    @property
    def allowed(self) -> bool:
        return self.apply and (self.environment != "production" or self.confirm == self.table_name)

    def check(self) -> bool:
        """True when changes are allowed; False for a plain read-only run (``apply=False``).

        Raises :class:`ConfirmationError` when ``apply=True`` in production without the right ``confirm``:
        an explicit request to change that cannot be honoured is an error, not a silent no-op.
        """
        if not self.apply:
            return False
        if not self.allowed:
            raise ConfirmationError(
                f"apply=True in {self.environment} needs confirm={self.table_name!r} "
                f"(got confirm={self.confirm!r}); nothing was changed"
            )
        return True


def change_guard(environment_name: str, table: str, apply: object, confirm: object) -> ChangeGuard:
    """Validate ``apply``/``confirm`` and return the guard (raises before any change)."""
    guard = ChangeGuard(environment(environment_name), table_name(table), boolean(apply, "apply"),
                        confirm if isinstance(confirm, str) else "")
    if not isinstance(confirm, str):
        raise ParameterError("confirm", confirm, "a string: the table name, to confirm a production change")
    guard.check()
    return guard


def text(value: object, name: str) -> str:
    """A string parameter (any text, '' allowed)."""
    if not isinstance(value, str):
        raise ParameterError(name, value, "a string")
    return value
