"""The embedded AWS emulator: moto's server mode on loopback and a free port.

Used by ``runbook run``, ``runbook emulator``, ``runbook lab`` and the tests::

    with Emulator() as emu:
        os.environ.update(emu.environment())
"""

from __future__ import annotations

import logging
import re
import threading
import urllib.request
from collections import OrderedDict

from moto.moto_server.werkzeug_app import DomainDispatcherApplication, MotoRequestHandler, create_backend_app
from werkzeug.serving import make_server

from runbook.aws.target import DUMMY_CREDENTIALS

LOOPBACK = "127.0.0.1"
#: How often the server's loop looks for a stop request: :meth:`Emulator.stop` waits up to this long (the
#: socketserver default, 0.5 s, was paid at the end of every run).
STOP_POLL = 0.05


class Emulator:
    """moto's server (its WSGI app, as ``ThreadedMotoServer`` serves it) on 127.0.0.1; ``port=0`` (the default)
    picks a free port.

    moto keeps its state per process: emulators started in one process share it (and ``reset`` wipes it for all).
    """

    def __init__(self, port: int = 0, region: str = "us-east-1"):
        self.port = port
        self.region = region
        self._server = None

    @property
    def endpoint_url(self) -> str:
        if self._server is None:
            raise RuntimeError("the emulator is not running")
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> "Emulator":
        """Serve at once; moto's gap fills (:func:`runbook.aws.fills.fill_moto_gaps`) are applied with the first
        request that needs them (:class:`_Preparation`)."""
        logging.getLogger("werkzeug").setLevel(logging.CRITICAL)  # no request log, no tracebacks for 500s
        self._prepared = _Preparation(_fill_moto_gaps)
        app = _after(self._prepared, DomainDispatcherApplication(create_backend_app))
        self._server = make_server(LOOPBACK, self.port, app, threaded=True, request_handler=MotoRequestHandler)
        threading.Thread(target=self._server.serve_forever, args=(STOP_POLL,), name="emulator", daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def reset(self) -> None:
        """Wipe every resource the emulator holds."""
        request = urllib.request.Request(f"{self.endpoint_url}/moto-api/reset", method="POST")
        urllib.request.urlopen(request, timeout=10).close()

    def environment(self) -> dict[str, str]:
        """The variables that point boto3, the AWS CLI and Terraform's provider at this emulator."""
        return emulator_environment(self.endpoint_url, self.region)

    def __enter__(self) -> "Emulator":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


#: The services whose requests need the gap fills (:data:`runbook.aws.fills.GAP_FILLS`), as SigV4 credential
#: scopes name them.
FILLED_SERVICES = ("ec2", "application-autoscaling", "dynamodb", "cloudtrail")
_SCOPE = re.compile(r"Credential=[^/,\s]*/[^/]*/[^/]*/([^/]+)/aws4_request")


class _Preparation:
    """The gap fills (about 1 s of imports), applied once, when the first request for a service they patch comes
    (the run's first EC2 call, well after start-up), while every other request is served at once."""

    def __init__(self, fill):
        self._fill = fill
        self._lock = threading.Lock()  # held while the fills run: a second request waits on it
        self._done = False
        self._error: BaseException | None = None

    def failure(self) -> str | None:
        """Once the fills are applied (applying them now if nobody has): None, or what they raised."""
        with self._lock:
            if not self._done:
                try:
                    self._fill()
                except BaseException as error:  # noqa: BLE001 (answered to every request that needs the fills)
                    self._error = error
                self._done = True
        return None if self._error is None else f"the emulator's gap fills failed: {self._error!r}"


def _needs_fills(environ: dict) -> bool:
    """Whether a request is for a service the fills patch (an unsigned request is assumed to be: moto's own
    ``/moto-api`` is not)."""
    if environ.get("PATH_INFO", "").startswith("/moto-api"):
        return False
    scope = _SCOPE.search(environ.get("HTTP_AUTHORIZATION", ""))
    return scope is None or scope.group(1) in FILLED_SERVICES


#: moto's backends are not safe for concurrent access (moto's documentation says so), and Terraform sends up to ten
#: requests at once. The backends are the process's, shared by every emulator it starts (a test's own and its
#: worker's, or the site build's), so the lock is too: one request at a time, whichever emulator it came to. The
#: GIL serialises moto's Python anyway; the lock keeps one request's changes from interleaving with another's.
_ONE_AT_A_TIME = threading.Lock()


def _after(prepared: _Preparation, app):
    """``app`` behind a gate: a request for a service the gap fills patch waits until they are applied (a failed
    fill answers 500 with its error); every other request passes at once.

    Then moto handles one request at a time (:data:`_ONE_AT_A_TIME`), and a retried write already carried out gets
    its first answer again (:class:`_Answers`). (A handler that waits, such as SQS long polling, would hold the
    others: none of the services the runbooks use has one.)"""
    answers = _Answers()

    def gated(environ, start_response):
        failure = prepared.failure() if _needs_fills(environ) else None
        if failure is not None:
            start_response("500 Internal Server Error", [("Content-Type", "text/plain")])
            return [failure.encode()]
        with _ONE_AT_A_TIME:
            return answers.answer(app, environ, start_response)

    return gated


_ATTEMPT = re.compile(r"attempt=(\d+)")


class _Answers:
    """The emulator's successful answers to writes (any method but GET and HEAD), by the SDK call that asked.

    An AWS SDK sends every attempt of one call with the same ``amz-sdk-invocation-id`` header and numbers them in
    ``amz-sdk-request`` (``attempt=2; max=3``); it tries again only when it did not get a usable answer. When the
    first attempt was carried out but its answer never reached the SDK, carrying out the retry as well turns that
    into a false failure: ``EntityAlreadyExists`` for the role the first attempt created, ``Cannot enable stream``
    for the stream it enabled, a 412 for the state lock it took (seen, rarely, in fresh runs on a loaded two-core
    machine). So a retry of a call already answered with success gets that answer again, and moto does not see it
    twice; a new call (a new invocation id) is carried out as before.
    """

    #: How many answers are kept (the newest): a retry comes within seconds of its first attempt.
    KEPT = 256

    def __init__(self):
        self._kept: OrderedDict[str, tuple[str, list, list[bytes]]] = OrderedDict()

    def answer(self, app, environ, start_response) -> list[bytes]:
        call = environ.get("HTTP_AMZ_SDK_INVOCATION_ID")
        if environ.get("REQUEST_METHOD") in ("GET", "HEAD") or not call:
            return list(app(environ, start_response))
        attempt = _ATTEMPT.search(environ.get("HTTP_AMZ_SDK_REQUEST", ""))
        if attempt and int(attempt.group(1)) > 1 and call in self._kept:
            status, headers, body = self._kept[call]
            start_response(status, headers)
            return body
        answered = {}

        def recording_start_response(status, headers, exc_info=None):
            answered.update(status=status, headers=list(headers))
            return start_response(status, headers, exc_info)

        body = list(app(environ, recording_start_response))
        if answered.get("status", "").startswith("2"):
            self._kept[call] = (answered["status"], answered["headers"], body)
            while len(self._kept) > self.KEPT:
                self._kept.popitem(last=False)
        return body


def emulator_environment(endpoint_url: str, region: str) -> dict[str, str]:
    """Environment variables for a client of the emulator at ``endpoint_url``: endpoint, dummy keys, region."""
    return {
        "AWS_ENDPOINT_URL": endpoint_url,
        **DUMMY_CREDENTIALS,
        "AWS_REGION": region,
        "AWS_DEFAULT_REGION": region,
    }


def export_lines(environment: dict[str, str]) -> list[str]:
    """Shell ``export`` lines for ``environment``."""
    return [f"export {name}={value}" for name, value in environment.items()]


def _fill_moto_gaps() -> None:
    """:func:`runbook.aws.fills.fill_moto_gaps`, imported when the first request that needs it comes."""
    from runbook.aws.fills import fill_moto_gaps  # noqa: PLC0415 — about 1 s of moto imports, paid only when needed

    fill_moto_gaps()
