"""Validation of notebook parameters, before any AWS call. Errors name the parameter, value and what is allowed."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from functools import lru_cache
from urllib.parse import urlparse

import boto3

from runbook.errors import ConfirmationError, ParameterError  # noqa: F401 (re-exported)
from runbook.paths import ENVIRONMENTS

#: The AWS service whose regions ``aws_region`` must be one of (botocore's endpoint data, per partition).
REGION_SERVICE = "dynamodb"
#: DynamoDB table names: 3-255 characters of a-z, A-Z, 0-9, '_', '-', '.'.
TABLE_NAME_PATTERN = re.compile(r"^[A-Za-z0-9_.-]{3,255}$")


def environment(value: object) -> str:
    if value not in ENVIRONMENTS:
        raise ParameterError("environment", value, f"one of {', '.join(ENVIRONMENTS)}")
    return value  # type: ignore[return-value]


@lru_cache(maxsize=1)
def known_regions() -> dict[str, tuple[str, ...]]:
    """DynamoDB's regions per AWS partition, from botocore's own endpoint data (what boto3 and the emulator know).

    The same list holds on an emulator: moto serves the regions botocore lists, and a region it does not know ends
    in an unparseable answer (botocore's "ResponseParserError … invalid XML") instead of an error naming it.
    """
    session = boto3.session.Session()
    return {
        partition: tuple(session.get_available_regions(REGION_SERVICE, partition_name=partition))
        for partition in session.get_available_partitions()
    }


def region(value: object, name: str = "aws_region") -> str:
    """An AWS region where DynamoDB is offered (:func:`known_regions`), checked before any AWS call."""
    regions = known_regions()
    if not isinstance(value, str) or not any(value in names for names in regions.values()):
        listed = "; ".join(f"{partition}: {', '.join(names)}" for partition, names in regions.items() if names)
        raise ParameterError(
            name, value, f"an AWS region where {REGION_SERVICE} is offered (botocore's endpoint data) — {listed}"
        )
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
    guard = ChangeGuard(
        environment(environment_name),
        table_name(table),
        boolean(apply, "apply"),
        confirm if isinstance(confirm, str) else "",
    )
    if not isinstance(confirm, str):
        raise ParameterError("confirm", confirm, "a string: the table name, to confirm a production change")
    guard.check()
    return guard


def text(value: object, name: str) -> str:
    """A string parameter (any text, '' allowed)."""
    if not isinstance(value, str):
        raise ParameterError(name, value, "a string")
    return value


#: A SHA-256 digest as ``sha256sum`` prints it: 64 hexadecimal characters.
SHA256_PATTERN = re.compile(r"^[0-9a-fA-F]{64}$")


def allow_destroy(value: object, name: str = "allow_destroy") -> tuple[str, ...]:
    """``allow_destroy``: comma-separated resource addresses ('' for none), as a tuple without blanks or repeats.

    Only the form is checked here (before any AWS call); whether the addresses are exactly the plan's destructive
    changes is the gate's decision (``runbook.steps.gate.decide``), which refuses with the list to pass.
    """
    if not isinstance(value, str):
        raise ParameterError(
            name,
            value,
            "a string: comma-separated resource addresses of the plan's destructive "
            "changes (e.g. 'module.dynamodb.aws_dynamodb_table.notifications'), or ''",
        )
    addresses = [part.strip() for part in value.split(",")]
    bad = [a for a in addresses if a and (any(c.isspace() for c in a) or "." not in a)]
    if bad:
        raise ParameterError(
            name,
            value,
            f"comma-separated resource addresses such as "
            f"'module.dynamodb.aws_dynamodb_table.notifications' ({bad[0]!r} is not one)",
        )
    return tuple(dict.fromkeys(a for a in addresses if a))


#: Terraform's state lock IDs: a UUID (8-4-4-4-12 hexadecimal digits), as "Lock Info: ID:" shows it.
LOCK_ID_PATTERN = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")


def lock_id(value: object, name: str = "unlock_lock_id") -> str:
    """``unlock_lock_id``: '' (release nothing) or the ID of the stale state lock to release (a UUID)."""
    text = value.strip() if isinstance(value, str) else value
    if text == "":
        return ""
    if not isinstance(text, str) or not LOCK_ID_PATTERN.match(text):
        raise ParameterError(
            name,
            value,
            "'' or the stale lock's ID as the diagnosis shows it: a UUID such as "
            "'3f1c0d5e-9a2b-4c7d-8e6f-0a1b2c3d4e5f'",
        )
    return text


def plan_sha256(value: object, name: str = "plan_sha256") -> str:
    """``plan_sha256``: '' (apply the plan reviewed in this run) or the 64-hex-character SHA-256 of a saved plan."""
    if value == "":
        return ""
    if not isinstance(value, str) or not SHA256_PATTERN.match(value):
        raise ParameterError(
            name,
            value,
            "'' or the saved plan's SHA-256: exactly 64 hexadecimal characters "
            "(as 02 shows and records it as plan_sha256)",
        )
    return value.lower()


# --- runbook lab: its kernels belong to one environment --------------------------------------------------------
#: The lab's environment, set by its kernelspec (:mod:`runbook.execution.lab`) in its kernels (not its terminals).
ENVIRONMENT_VARIABLE = "RUNBOOK_LAB_ENVIRONMENT"


def lab_environment() -> str:
    """The environment of the ``runbook lab`` this kernel belongs to ('' outside a lab)."""
    return os.environ.get(ENVIRONMENT_VARIABLE, "")


def lab_environment_check(environment: str) -> None:
    """In a lab's kernel, refuse another environment than the lab's (ParameterError naming ``environment``)."""
    lab = lab_environment()
    if lab and environment != lab:
        raise ParameterError(
            "environment",
            environment,
            f"{lab!r} in this lab: it was started for {lab} (its emulator, work directory and "
            f"terraform.tfvars are {lab}'s). To work on {environment}, run "
            f"`runbook lab --env {environment}` (nothing was called)",
        )
