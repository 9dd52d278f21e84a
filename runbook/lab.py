"""``runbook lab``: the embedded emulator and JupyterLab on 127.0.0.1, ready for a newcomer.

JupyterLab runs as a child process (``python -m jupyterlab``) opened on ``notebooks/``, with the emulator's
endpoint, dummy credentials and region in its environment, so every kernel it starts inherits them and each
notebook runs with its defaults. Both listen on loopback only, on free ports; the URL is printed with a fresh
token. Ctrl-C stops JupyterLab (its kernels with it) and the emulator::

    with running_lab() as lab:          # what tests use
        print(lab.url, lab.endpoint_url)
"""

from __future__ import annotations

import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator

from . import paths
from .emulator import LOOPBACK, Emulator

STARTUP_TIMEOUT = 90.0
STOP_TIMEOUT = 20.0


@dataclass
class Lab:
    """A running JupyterLab and its emulator."""

    port: int
    token: str
    endpoint_url: str
    root_dir: Path
    process: subprocess.Popen
    log_path: Path
    environment: dict[str, str] = field(default_factory=dict)

    @property
    def base_url(self) -> str:
        return f"http://{LOOPBACK}:{self.port}"

    @property
    def url(self) -> str:
        """The address to open: JupyterLab with its access token."""
        return f"{self.base_url}/lab?token={self.token}"

    def api(self, method: str, path: str, body: dict | None = None, timeout: float = 10.0):
        """Call JupyterLab's REST API (``/api/...``) with the token; returns the decoded JSON (or None)."""
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(f"{self.base_url}{path}", data=data, method=method, headers={
            "Authorization": f"token {self.token}", "Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=timeout) as response:
            payload = response.read()
        return json.loads(payload) if payload else None

    def log(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")
        except OSError:
            return ""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((LOOPBACK, 0))
        return sock.getsockname()[1]


def lab_command(port: int, token: str, root_dir: Path) -> list[str]:
    """The JupyterLab command line: loopback, a fixed token, no browser, no calls home."""
    command = [
        sys.executable, "-m", "jupyterlab",
        "--no-browser",
        f"--ServerApp.ip={LOOPBACK}",
        f"--ServerApp.port={port}",
        "--ServerApp.port_retries=0",
        f"--ServerApp.root_dir={root_dir}",
        f"--IdentityProvider.token={token}",
        "--ServerApp.open_browser=False",
        "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
        "--LabApp.news_url=None",
    ]
    if hasattr(os, "geteuid") and os.geteuid() == 0:  # containers and CI run as root
        command.append("--allow-root")
    return command


def _wait_until_ready(lab: Lab, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if lab.process.poll() is not None:
            raise RuntimeError(f"JupyterLab exited with status {lab.process.returncode}:\n{lab.log()[-3000:]}")
        try:
            lab.api("GET", "/api/status", timeout=2)
            return
        except (urllib.error.URLError, ConnectionError, OSError):
            time.sleep(0.25)
    raise RuntimeError(f"JupyterLab did not answer on {lab.base_url} within {timeout:.0f}s:\n{lab.log()[-3000:]}")


def _stop(lab: Lab) -> None:
    """Shut JupyterLab down through its API (it stops its kernels), then by signal if it lingers."""
    process = lab.process
    if process.poll() is None:
        try:
            lab.api("POST", "/api/shutdown", timeout=5)
        except Exception:
            pass
        try:
            process.wait(timeout=STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            pass
    for sig in (signal.SIGTERM, signal.SIGKILL):
        if process.poll() is not None:
            break
        try:
            os.killpg(process.pid, sig)
        except ProcessLookupError:
            break
        try:
            process.wait(timeout=STOP_TIMEOUT / 2)
        except subprocess.TimeoutExpired:
            continue


@contextmanager
def running_lab(port: int = 0, root_dir: Path | None = None, region: str = "us-east-1",
                startup_timeout: float = STARTUP_TIMEOUT) -> Iterator[Lab]:
    """Start the emulator and JupyterLab; stop both on exit, whatever happens."""
    root_dir = Path(root_dir or paths.NOTEBOOKS).resolve()
    token = secrets.token_hex(24)
    with Emulator(region=region) as emulator:
        environment = {**os.environ, **emulator.environment(), "PYTHONUNBUFFERED": "1"}
        environment.pop("AWS_PROFILE", None)  # the emulator's dummy keys, never a real profile
        environment.pop("AWS_SESSION_TOKEN", None)
        log_file = tempfile.NamedTemporaryFile(prefix="runbook-lab-", suffix=".log", delete=False)
        lab_port = port or free_port()
        process = subprocess.Popen(lab_command(lab_port, token, root_dir), cwd=root_dir, env=environment,
                                   stdin=subprocess.DEVNULL, stdout=log_file, stderr=subprocess.STDOUT,
                                   start_new_session=True)  # Ctrl-C reaches us, and we stop it cleanly
        log_file.close()
        lab = Lab(lab_port, token, emulator.endpoint_url, root_dir, process, Path(log_file.name),
                  emulator.environment())
        try:
            _wait_until_ready(lab, startup_timeout)
            yield lab
        finally:
            _stop(lab)
            Path(log_file.name).unlink(missing_ok=True)


def lab(port: int = 0, open_browser: bool = False) -> int:
    """``runbook lab``: run until Ctrl-C, printing where to go."""
    print("Starting the AWS emulator and JupyterLab (on 127.0.0.1 only) ...", flush=True)
    try:  # around everything: a Ctrl-C right after the ready message must stop both cleanly too
        with running_lab(port=port) as running:
            print(f"AWS emulator:  {running.endpoint_url}  (dummy credentials, region "
                  f"{running.environment.get('AWS_REGION', '')})")
            print(f"JupyterLab:    {running.url}")
            print(f"Notebooks:     {running.root_dir}")
            print("Every kernel has AWS_ENDPOINT_URL and the dummy credentials: run each notebook with its "
                  "defaults.")
            print("Ctrl-C stops both.", flush=True)
            if open_browser:
                import webbrowser

                webbrowser.open(running.url)
            while running.process.poll() is None:
                time.sleep(0.5)
            print(f"JupyterLab exited with status {running.process.returncode}", flush=True)
            return running.process.returncode or 0
    except KeyboardInterrupt:  # running_lab has stopped JupyterLab and the emulator on the way out
        print()
    print("Stopped.", flush=True)
    return 0
