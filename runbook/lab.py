"""``runbook lab``: the embedded emulator and JupyterLab on 127.0.0.1, on working copies of the runbooks.

JupyterLab serves ``build/lab/<env>/``: a working copy of each ``notebooks/NN-*.ipynb`` with an
``injected-parameters`` cell after its parameters cell, as papermill writes it (the environment's parameter file,
``environment``, this lab's emulator endpoint and the lab's own work directory ``build/lab/.work/<env>``), so the
operator sees the values in force. The templates in ``notebooks/`` are outside what JupyterLab serves: it never
opens them for editing and its autosave never writes them. ``infrastructure/`` and ``docs/`` are linked beside
the copies, read-only (:mod:`runbook.labserver`).

Copies are made when missing. At each start the injected cell is rewritten for this lab (the endpoint changes
with every start) and everything else in an existing copy is kept: an operator's edits survive restarts. A copy
nobody edited whose template changed is replaced; an edited one is kept with a note. ``--refresh`` re-creates
every copy from its template.

Start-up runs in parallel: JupyterLab (a child process) boots while this process starts the emulator on a port
chosen beforehand and writes the copies. Stopping (Ctrl-C, SIGTERM, SIGHUP) goes through
:mod:`runbook.processes`: a kernel's children (Terraform) get the signal first, then JupyterLab stops its kernels,
then the emulator stops::

    with running_lab() as lab:          # what tests use
        print(lab.url, lab.endpoint_url)
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import secrets
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

from . import paths, processes
from .emulator import LOOPBACK, Emulator

STARTUP_TIMEOUT = 90.0
STOP_TIMEOUT = 10.0
#: Where the working copies live; ``RUNBOOK_LAB_DIR`` overrides it (tests, a second lab beside the first).
LAB_DIR = Path(os.environ.get("RUNBOOK_LAB_DIR") or paths.BUILD / "lab")
#: Linked beside the copies, read-only.
READ_ONLY = ("infrastructure", "docs")
#: JupyterLab settings the lab ships (per run, in the lab's own settings directory, never in the venv).
OVERRIDES = {
    # no "Would you like to get notified about official Jupyter news?" prompt, no news or update fetching
    "@jupyterlab/apputils-extension:notification": {"fetchNews": "false", "checkForUpdates": False},
    # the name column gets the file browser's width: "02-plan-and-apply.ipynb" is not cut
    "@jupyterlab/filebrowser-extension:browser": {"showLastModifiedColumn": False},
}
INJECTED_TAG = "injected-parameters"


@dataclass
class Copies:
    """What :func:`prepare_copies` did."""

    directory: Path
    created: list[str] = field(default_factory=list)
    refreshed: list[str] = field(default_factory=list)
    kept: list[str] = field(default_factory=list)
    outdated: list[str] = field(default_factory=list)  # kept, edited, and their template changed since


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
    copies: Copies | None = None
    env_name: str = "staging"

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


# -- working copies -------------------------------------------------------------------------------------------
def _sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def _source(cell: dict) -> str:
    source = cell.get("source", "")
    return "".join(source) if isinstance(source, list) else source


def _tags(cell: dict) -> list[str]:
    return cell.get("metadata", {}).get("tags", [])


def declared_parameters(nb: dict) -> list[str]:
    """The names the ``parameters`` cell assigns (``name: type = default`` or ``name = default``)."""
    for cell in nb.get("cells", []):
        if "parameters" in _tags(cell):
            return re.findall(r"^(\w+)\s*(?::[^=]*)?=", _source(cell), flags=re.MULTILINE)
    return []


def _python_literal(value) -> str:
    """A value as papermill's Python translator writes it."""
    if isinstance(value, str):
        return '"{}"'.format(value.replace('"', r'\"'))
    if value is None or isinstance(value, (bool, int, float)):
        return repr(value)
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_python_literal(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{_python_literal(k)}: {_python_literal(v)}" for k, v in value.items()) + "}"
    return repr(value)


def injected_source(parameters: dict) -> str:
    """The ``injected-parameters`` cell's source, as ``papermill.translators.translate_parameters`` writes it
    for Python (without black installed)."""
    return "# Parameters\n" + "".join(f"{name} = {_python_literal(value)}\n" for name, value in parameters.items())


def parameterize(nb: dict, parameters: dict) -> dict:
    """``papermill.parameterize.parameterize_notebook`` for these notebooks, without importing papermill (about
    2 s): the declared parameters only, in an ``injected-parameters`` cell after the ``parameters`` cell (an
    existing injected cell is replaced); ``metadata.papermill.parameters`` records them."""
    declared = declared_parameters(nb)
    values = {name: parameters[name] for name in parameters if name in declared}
    cell = {"cell_type": "code", "execution_count": None, "id": secrets.token_hex(4),
            "metadata": {"tags": [INJECTED_TAG]}, "outputs": [], "source": injected_source(values)}
    cells = nb["cells"]
    injected = next((i for i, c in enumerate(cells) if INJECTED_TAG in _tags(c)), None)
    tagged = next((i for i, c in enumerate(cells) if "parameters" in _tags(c)), None)
    if injected is not None:
        cell["id"] = cells[injected].get("id", cell["id"])
        cells[injected] = cell
    else:
        cells.insert(tagged + 1 if tagged is not None else 0, cell)
    nb.setdefault("metadata", {}).setdefault("papermill", {})["parameters"] = values
    return nb


def _dump(nb: dict) -> str:
    return json.dumps(nb, indent=1, sort_keys=True, ensure_ascii=False) + "\n"


def _environment_values(environment: str) -> dict:
    import yaml

    values = yaml.safe_load((paths.ENVIRONMENT_FILES / f"{environment}.yaml").read_text()) or {}
    return values if isinstance(values, dict) else {}


def lab_parameters(environment: str, endpoint_url: str, lab_dir: Path | None = None) -> dict:
    """What the lab injects: the environment's parameter file, ``environment``, the endpoint, the work dir."""
    return {**_environment_values(environment), "environment": environment, "aws_endpoint_url": endpoint_url,
            "work_dir": str(work_dir(environment, lab_dir).parent)}  # the base: <work_dir>/<environment>


def copies_dir(environment: str, lab_dir: Path | None = None) -> Path:
    return (lab_dir or LAB_DIR) / environment


def work_dir(environment: str, lab_dir: Path | None = None) -> Path:
    """The lab's Terraform work directory: its own, beside (not inside) what JupyterLab serves."""
    return (lab_dir or LAB_DIR) / ".work" / environment


def _state_file(environment: str, lab_dir: Path | None) -> Path:
    return (lab_dir or LAB_DIR) / f".copies-{environment}.json"


def prepare_copies(environment: str, endpoint_url: str, refresh: bool = False, lab_dir: Path | None = None,
                   templates: Path | None = None) -> Copies:
    """Write the working copies of ``templates`` (``notebooks/``) for ``environment``; see the module docstring."""
    directory = copies_dir(environment, lab_dir)
    directory.mkdir(parents=True, exist_ok=True)
    state_path = _state_file(environment, lab_dir)
    try:
        state = json.loads(state_path.read_text())
    except (OSError, ValueError):
        state = {}
    parameters = lab_parameters(environment, endpoint_url, lab_dir)
    report = Copies(directory)
    for template in sorted((templates or paths.NOTEBOOKS).glob("[0-9][0-9]-*.ipynb")):
        template_text = template.read_text()
        copy = directory / template.name
        known = state.get(template.name, {})
        current = copy.read_text() if copy.exists() else None
        edited = current is not None and (known.get("edited", False) or _sha(current) != known.get("copy"))
        template_changed = known.get("template") != _sha(template_text)
        if current is None or refresh or (template_changed and not edited):
            nb = json.loads(template_text)
            (report.created if current is None else report.refreshed).append(template.name)
        else:
            try:
                nb = json.loads(current)
            except ValueError:  # not a notebook any more: keep the file, say so
                report.kept.append(template.name)
                report.outdated.append(template.name)
                continue
            report.kept.append(template.name)
            if template_changed:
                report.outdated.append(template.name)
        nb.setdefault("metadata", {})["runbook_lab"] = {"environment": environment, "template": template.name}
        text = _dump(parameterize(nb, parameters))
        if text != current:
            copy.write_text(text)
        outdated = bool(report.outdated) and report.outdated[-1] == template.name
        # an outdated copy keeps the old template's hash: it is reported again at the next start
        state[template.name] = {"template": known.get("template") if outdated else _sha(template_text),
                                "copy": _sha(text), "edited": edited and template.name in report.kept}
    for name in READ_ONLY:
        link, target = directory / name, paths.ROOT / name
        if target.is_dir() and not link.exists() and not link.is_symlink():
            link.symlink_to(target, target_is_directory=True)
    state_path.write_text(json.dumps(state, indent=1, sort_keys=True) + "\n")
    return report


# -- JupyterLab -----------------------------------------------------------------------------------------------
def settings_dir(lab_dir: Path | None = None) -> Path:
    """The lab's JupyterLab application settings (``overrides.json``), written at each start."""
    directory = (lab_dir or LAB_DIR) / ".jupyter" / "settings"
    directory.mkdir(parents=True, exist_ok=True)
    overrides = {}
    system = Path(sys.prefix) / "share" / "jupyter" / "lab" / "settings" / "overrides.json"
    try:  # an administrator's overrides for this Python still apply, under ours
        overrides = json.loads(system.read_text())
    except (OSError, ValueError):
        pass
    for plugin, values in OVERRIDES.items():
        overrides[plugin] = {**overrides.get(plugin, {}), **values}
    text = json.dumps(overrides, indent=1, sort_keys=True) + "\n"
    path = directory / "overrides.json"
    if not path.exists() or path.read_text() != text:
        path.write_text(text)
    return directory


def lab_command(port: int, token: str, root_dir: Path, app_settings_dir: Path | None = None) -> list[str]:
    """The JupyterLab command line: loopback, a fixed token, no browser, no calls home."""
    command = [
        sys.executable, "-m", "runbook.labserver",
        "--no-browser",
        f"--ServerApp.ip={LOOPBACK}",
        f"--ServerApp.port={port}",
        "--ServerApp.port_retries=0",
        f"--ServerApp.root_dir={root_dir}",
        f"--IdentityProvider.token={token}",
        "--ServerApp.open_browser=False",
        "--ServerApp.contents_manager_class=runbook.labserver.LabContentsManager",
        "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
        "--LabApp.news_url=None",
        # the language-server bridge has no language server to talk to here; jupytext is not used
        '--ServerApp.jpserver_extensions={"jupyter_lsp": False, "jupytext": False}',
    ]
    if app_settings_dir is not None:
        command.append(f"--LabApp.app_settings_dir={app_settings_dir}")
    if hasattr(os, "geteuid") and os.geteuid() == 0:  # containers and CI run as root
        command.append("--allow-root")
    return command


def _wait_until_ready(lab: Lab, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    supervisor = processes.current()
    while time.monotonic() < deadline:
        if supervisor is not None:
            supervisor.check()
        if lab.process.poll() is not None:
            raise RuntimeError(f"JupyterLab exited with status {lab.process.returncode}:\n{lab.log()[-3000:]}")
        try:
            lab.api("GET", "/api/status", timeout=2)
            return
        except (urllib.error.URLError, ConnectionError, OSError):
            time.sleep(0.05)
    raise RuntimeError(f"JupyterLab did not answer on {lab.base_url} within {timeout:.0f}s:\n{lab.log()[-3000:]}")


def _stop(lab: Lab, signum: int | None = None) -> None:
    """Terraform (a kernel's child) first, then JupyterLab (it stops its kernels), then whatever is left."""
    import signal

    signum = signum or signal.SIGTERM
    if lab.process.poll() is None:
        processes.stop_workers_of(processes.children(lab.process.pid), signum)
    processes.stop_process(lab.process, signal.SIGTERM, STOP_TIMEOUT)


@contextmanager
def running_lab(port: int = 0, environment: str = "staging", refresh: bool = False, lab_dir: Path | None = None,
                region: str | None = None, startup_timeout: float = STARTUP_TIMEOUT) -> Iterator[Lab]:
    """Start the emulator and JupyterLab on the working copies; stop both on exit, whatever happens."""
    lab_dir = Path(lab_dir or LAB_DIR).resolve()
    root_dir = copies_dir(environment, lab_dir)
    root_dir.mkdir(parents=True, exist_ok=True)
    region = region or str(_environment_values(environment).get("aws_region") or "us-east-1")
    token = secrets.token_hex(24)
    emulator = Emulator(port=free_port(), region=region)  # the port is chosen now: JupyterLab needs the endpoint
    endpoint_url = f"http://{LOOPBACK}:{emulator.port}"
    from .emulator import emulator_environment

    client_environment = emulator_environment(endpoint_url, region)
    environment_variables = {**os.environ, **client_environment, "PYTHONUNBUFFERED": "1",
                             "RUNBOOK_LAB_READ_ONLY": os.pathsep.join(READ_ONLY)}
    environment_variables.pop("AWS_PROFILE", None)  # the emulator's dummy keys, never a real profile
    environment_variables.pop("AWS_SESSION_TOKEN", None)
    log_file = tempfile.NamedTemporaryFile(prefix="runbook-lab-", suffix=".log", delete=False)
    lab_port = port or free_port()
    process = processes.popen(lab_command(lab_port, token, root_dir, settings_dir(lab_dir)), cwd=root_dir,
                              env=environment_variables, stdin=subprocess.DEVNULL, stdout=log_file,
                              stderr=subprocess.STDOUT)  # its own session: Ctrl-C reaches us, we stop it in order
    log_file.close()
    lab = Lab(lab_port, token, endpoint_url, root_dir, process, Path(log_file.name), client_environment,
              env_name=environment)
    started = False
    try:
        emulator.start()  # while JupyterLab boots
        started = True
        lab.copies = prepare_copies(environment, endpoint_url, refresh=refresh, lab_dir=lab_dir)
        _wait_until_ready(lab, startup_timeout)
        yield lab
    finally:
        supervisor = processes.current()
        _stop(lab, supervisor.signum if supervisor is not None else None)
        if started:
            emulator.stop()
        Path(log_file.name).unlink(missing_ok=True)


def _relative(path: Path) -> str:
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def startup_message(lab: Lab) -> str:
    copies = lab.copies or Copies(lab.root_dir)
    lines = [
        f"AWS emulator:  {lab.endpoint_url}  (dummy credentials, region {lab.environment.get('AWS_REGION', '')})",
        f"JupyterLab:    {lab.url}",
        f"Runbooks:      {_relative(copies.directory)}/ - working copies for {lab.env_name}, with its parameters and "
        "this emulator injected (the injected-parameters cell, rewritten at every start); the templates in "
        "notebooks/ are never opened for editing nor written.",
    ]
    if copies.created or copies.refreshed:
        lines.append(f"               new copies: {', '.join(copies.created + copies.refreshed)}")
    if copies.outdated:
        lines.append(f"               kept your edited {', '.join(copies.outdated)} although the template changed")
    lines += [
        "               Your edits in the copies are kept across restarts; `runbook lab --refresh` re-creates "
        "every copy from notebooks/ (and discards them).",
        f"Read-only:     {', '.join(name + '/' for name in READ_ONLY)} (your checkout, for reference)",
        "Every kernel also has AWS_ENDPOINT_URL and the dummy credentials. Nothing is applied unless you set "
        "apply = True in a runbook.",
        "Ctrl-C (or SIGTERM) stops JupyterLab, its kernels and the emulator.",
    ]
    return "\n".join(lines)


def lab(port: int = 0, environment: str = "staging", refresh: bool = False, open_browser: bool = False) -> int:
    """``runbook lab``: run until a signal (or JupyterLab exits), printing where to go; returns the status."""
    print("Starting the AWS emulator and JupyterLab (on 127.0.0.1 only) ...", flush=True)
    with processes.supervise() as supervisor:
        try:
            with running_lab(port=port, environment=environment, refresh=refresh) as running:
                print(startup_message(running), flush=True)
                if open_browser:
                    import webbrowser

                    webbrowser.open(running.url)
                while running.process.poll() is None and not supervisor.wait(0.5):
                    pass
                if not supervisor.requested:
                    print(f"JupyterLab exited with status {running.process.returncode}", flush=True)
                    return running.process.returncode or 1
        except processes.Interrupted:  # a signal during start-up: running_lab has stopped what it started
            pass
        signum = supervisor.signum
    print("Stopped.", flush=True)
    return processes.exit_status(signum) if signum else 0
