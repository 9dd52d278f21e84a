"""Stock moto, for tests that show a gap: moto's ThreadedMotoServer on loopback in its own process.

The embedded emulator patches moto's classes in the process that starts it
(:func:`runbook.aws.emulator.fill_moto_gaps`),
so an unpatched server needs a process of its own: this one imports moto only, never ``runbook``.
"""

from __future__ import annotations

import subprocess
import sys
from contextlib import contextmanager
from typing import Iterator

_SERVER = """
import logging, sys
logging.getLogger("werkzeug").setLevel(logging.CRITICAL)
from moto.server import ThreadedMotoServer
server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
server.start()
assert "runbook" not in sys.modules
print(server.get_host_and_port()[1], flush=True)
sys.stdin.read()  # until the test closes stdin
server.stop()
"""


@contextmanager
def stock_moto() -> Iterator[str]:
    """The endpoint URL of a stock moto server (127.0.0.1, a free port), stopped on exit."""
    process = subprocess.Popen(
        [sys.executable, "-c", _SERVER], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    try:
        line = process.stdout.readline()
        if not line.strip().isdigit():
            raise RuntimeError(f"stock moto did not start (exit {process.poll()})")
        yield f"http://127.0.0.1:{int(line)}"
    finally:
        process.stdin.close()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
