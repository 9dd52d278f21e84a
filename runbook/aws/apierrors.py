"""What a failed AWS call means: its error code, whether the endpoint does not implement the API at all (an
emulator's HTTP 500, an unparseable answer) or refused it, a one-line reason for it, and probing an API an endpoint
may lack (:func:`probe`: no retries against an emulator, and an operation it answered as unimplemented is not asked
again).

May import: :mod:`.target` and botocore. Never a sibling that reads AWS (:mod:`.discovery`, :mod:`.metrics` …).
"""

from __future__ import annotations

from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError
from botocore.parsers import ResponseParserError

from runbook.aws.target import Target

#: One retry at most (botocore's ``max_attempts`` counts retries: two attempts in all): used against emulators to
#: probe APIs they may not implement, so that an unimplemented API (HTTP 500) costs two requests instead of a full
#: round of retries with backoff, and one lost answer is not taken for "unimplemented" (:func:`probe` remembers that).
ONE_RETRY = Config(retries={"mode": "standard", "max_attempts": 1})

#: What a failed AWS call raises: an error answer, a client-side failure, or an answer botocore cannot parse.
AWS_ERRORS = (ClientError, BotoCoreError, ResponseParserError)

#: HTTP statuses and error codes that mean "this endpoint does not implement the API".
_UNSUPPORTED_CODES = {
    "500",
    "501",
    "NotImplemented",
    "NotImplementedException",
    "UnknownOperationException",
    "InternalFailure",
    "InvalidAction",
}


def error_code(error: BaseException) -> str:
    if isinstance(error, ClientError):
        return str(error.response.get("Error", {}).get("Code", ""))
    return type(error).__name__


def is_unsupported(error: BaseException) -> bool:
    """True when ``error`` means the endpoint does not implement the API (not a permission or input problem)."""
    if isinstance(error, UnsupportedOperation):
        return True
    if isinstance(error, ClientError):
        status = error.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
        return error_code(error) in _UNSUPPORTED_CODES or status in (500, 501)
    # moto answers some XML APIs (IAM policy simulation) with an HTML error page: botocore cannot parse it.
    return isinstance(error, ResponseParserError)


def describe_error(error: BaseException) -> str:
    """A one-line reason for a failed read, saying plainly when the endpoint does not support the API."""
    if isinstance(error, ClientError):
        status = error.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
        operation = getattr(error, "operation_name", "the call")
        if is_unsupported(error):
            return f"unsupported by this endpoint ({operation} answered HTTP {status})"
        message = error.response.get("Error", {}).get("Message", "")
        return f"{operation} failed: {error_code(error)}: {message}".strip()
    if isinstance(error, UnsupportedOperation):
        return str(error)
    if is_unsupported(error):
        return "unsupported by this endpoint (unparseable error response)"
    return f"{type(error).__name__}: {error}"


def probe_client(target: Target, service: str):
    """A client for APIs an endpoint may lack: no retries against an emulator, standard retries against AWS."""
    return target.client(service, ONE_RETRY) if target.is_emulator else target.client(service)


#: (emulator endpoint, operation) → why the endpoint does not support it. An emulator that lacks an API lacks it
#: for the life of the process; remembering it saves a failing request (and the emulator's error log) per read.
_UNSUPPORTED_BY_ENDPOINT: dict[tuple[str, str], str] = {}


def probe(target: Target, service: str, operation: str, **kwargs) -> dict:
    """Call ``operation`` (snake_case) on ``service`` through :func:`probe_client`. On an emulator, an operation
    it answered as unimplemented once raises :class:`UnsupportedOperation` without another request."""
    key = (target.endpoint_url or "", f"{service}.{operation}")
    if target.is_emulator and key in _UNSUPPORTED_BY_ENDPOINT:
        raise UnsupportedOperation(_UNSUPPORTED_BY_ENDPOINT[key])
    try:
        return getattr(probe_client(target, service), operation)(**kwargs)
    except AWS_ERRORS as error:
        if target.is_emulator and is_unsupported(error):
            _UNSUPPORTED_BY_ENDPOINT[key] = describe_error(error)
        raise


class UnsupportedOperation(BotoCoreError):
    """An emulator already answered this operation as unimplemented (the message is its earlier answer)."""

    fmt = "{reason}"

    def __init__(self, reason: str):
        super().__init__(reason=reason)
