"""The ``target`` fixture's reset waits for (then stops) any other process still talking to the emulator."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import time
from urllib.parse import urlparse

import conftest
import psutil


def test_a_process_still_talking_to_the_emulator_is_stopped_before_the_reset(emulator):
    port = urlparse(emulator.endpoint_url).port
    code = textwrap.dedent(f"""
        import socket, time
        connection = socket.create_connection(("127.0.0.1", {port}))
        time.sleep(60)
    """)
    straggler = subprocess.Popen([sys.executable, "-c", code])
    deadline = time.monotonic() + 10
    while not conftest._clients(port) and time.monotonic() < deadline:
        time.sleep(0.05)
    started = time.monotonic()
    found = conftest.wait_for_stragglers(port, grace=1)
    assert len(found) == 1 and f"pid {straggler.pid} " in found[0]
    assert not psutil.pid_exists(straggler.pid) or psutil.Process(straggler.pid).status() == psutil.STATUS_ZOMBIE
    assert time.monotonic() - started < 10
    assert conftest.wait_for_stragglers(port) == [], "nothing left to wait for"
