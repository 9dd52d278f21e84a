"""``runbook lab``: the embedded emulator and JupyterLab on 127.0.0.1, on working copies of the runbooks.

JupyterLab serves ``build/lab/<env>/`` and opens on its start page (``START.md``, rendered): what the lab is, the
runbooks in order, the working ``terraform.tfvars``, how to apply, links to the site's pages.

What the user edits runs: each working copy of ``notebooks/NN-*.ipynb`` has the lab's values (the environment's
parameter file, ``environment``, this lab's emulator endpoint, the lab's own work directory
``build/lab/.work/<env>``) as the defaults of its own parameters cell, rewritten in place at each start (the
endpoint changes with every start); no cell after it overrides anything, and papermill reads the same defaults
(``papermill.inspect_notebook``). Rewriting the defaults, not injecting a cell, is the simplest correct choice: a
parameter has one visible value, so editing it is what runs. The lab's kernels refuse a notebook edited to
another environment before any AWS call (:mod:`runbook.execution.labkernel`): the emulator, work directory and tfvars
are
this environment's; ``runbook lab --env ENV`` starts another. Papermill runs of ``notebooks/`` are unchanged.

Nothing stays armed: at each start ``apply``, ``confirm``, ``allow_destroy``, ``plan_sha256`` (and ``destroy``
where declared) go back to the template's safe defaults, and outputs are cleared (they were recorded against an
earlier session's emulator, whose state is gone); the start banner lists both. Everything else in an existing
copy is kept across restarts. A copy nobody edited whose template changed is replaced; an edited one is kept with
a note. A copy whose parameters cell no longer parses is kept untouched and named (file and line), with
``runbook lab --refresh NAME`` to re-create it; ``--refresh`` alone re-creates every copy.

The environment's working tfvars (:mod:`runbook.workconfig`) is ``terraform.tfvars`` in the lab's root: a link to
the operator's ``infrastructure/<env>/terraform.tfvars`` when it exists, else to the lab work directory's copy of
the example (made at start as 01 makes it). ``infrastructure/`` and ``docs/`` are linked beside the copies,
read-only (:mod:`runbook.execution.labserver`). The templates in ``notebooks/`` are outside what JupyterLab serves.

JupyterLab's own files are per environment under ``build/lab/<env>/.jupyter/`` (settings, workspaces, the
kernelspec, custom CSS, the terminals' rc file), never ``~/.jupyter``. Terminals get the project's virtual
environment on PATH and the emulator's AWS variables. Production is marked: the page title, a red menu bar with
"PRODUCTION", and a banner in each notebook's first output.

Start-up runs in parallel: JupyterLab (a child process) boots while this process starts the emulator on a port
chosen beforehand and writes the copies. Stopping (Ctrl-C, SIGTERM, SIGHUP) goes through
:mod:`runbook.processes`: a kernel's children (Terraform) get the signal first, then JupyterLab stops its kernels,
then the emulator stops::

    with running_lab() as lab:          # what tests use
        print(lab.url, lab.endpoint_url)
"""

from __future__ import annotations

import json
import os
import secrets
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
import webbrowser
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator

from runbook import paths, processes
from runbook.aws.emulator import LOOPBACK, Emulator, emulator_environment
from runbook.errors import RunbookError
from runbook.execution.labcopies import (
    LAB_DIR,
    OVERRIDES,
    READ_ONLY,
    START_PAGE,
    TFVARS_LINK,
    Copies,
    _environment_values,
    copies_dir,
    prepare_copies,
    refresh_names,
    work_dir,
)
from runbook.execution.labpage import _relative, _write, write_start_page
from runbook.params import ENVIRONMENT_VARIABLE
from runbook.steps import preflight
from runbook.steps.context import open_context

STARTUP_TIMEOUT = 90.0


STOP_TIMEOUT = 10.0


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
        """The address to open: JupyterLab on its start page, with its access token."""
        return f"{self.base_url}/lab/tree/{START_PAGE}?token={self.token}"

    def api(self, method: str, path: str, body: dict | None = None, timeout: float = 10.0):
        """Call JupyterLab's REST API (``/api/...``) with the token; returns the decoded JSON (or None)."""
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(
            f"{self.base_url}{path}",
            data=data,
            method=method,
            headers={"Authorization": f"token {self.token}", "Content-Type": "application/json"},
        )
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


# -- JupyterLab -----------------------------------------------------------------------------------------------
def jupyter_dir(environment: str, lab_dir: Path | None = None) -> Path:
    """JupyterLab's own files for this environment's lab (hidden in the lab's root): settings, workspaces,
    configuration, the kernelspec and the terminal's start-up file. Never ``~/.jupyter``."""
    return copies_dir(environment, lab_dir) / ".jupyter"


def settings_dir(environment: str = "staging", lab_dir: Path | None = None) -> Path:
    """The lab's JupyterLab application settings (``overrides.json``), written at each start."""
    directory = jupyter_dir(environment, lab_dir) / "app-settings"
    overrides = {}
    system = Path(sys.prefix) / "share" / "jupyter" / "lab" / "settings" / "overrides.json"
    try:  # an administrator's overrides for this Python still apply, under ours
        overrides = json.loads(system.read_text())
    except (OSError, ValueError):
        pass
    for plugin, values in OVERRIDES.items():
        overrides[plugin] = {**overrides.get(plugin, {}), **values}
    _write(directory / "overrides.json", json.dumps(overrides, indent=1, sort_keys=True) + "\n")
    page_config = {}
    try:
        page_config = json.loads((system.parent / "page_config.json").read_text())
    except (OSError, ValueError):
        pass
    page_config["appName"] = lab_title(environment)  # the browser tab: "START.md - PRODUCTION · runbook lab"
    _write(directory / "page_config.json", json.dumps(page_config, indent=1, sort_keys=True) + "\n")
    return directory


def lab_title(environment: str) -> str:
    return "PRODUCTION · runbook lab" if environment == "production" else f"{environment} · runbook lab"


#: The production lab's look: a red bar across the top and a red frame, on every page of the lab.
PRODUCTION_CSS = """/* runbook lab: production */
#jp-top-panel, #jp-top-bar, #jp-menu-panel, #jp-menu-panel .lm-MenuBar, #jp-main-statusbar {
  background: #b71c1c !important;
}
#jp-menu-panel .lm-MenuBar-itemLabel, #jp-main-statusbar, #jp-main-statusbar * { color: #fff !important; }
#jp-top-bar { position: relative; }
#jp-top-bar::after {
  content: "PRODUCTION";
  color: #fff; font-weight: bold; letter-spacing: 0.12em; font-size: 14px;
  position: absolute; left: 50%; top: 50%; transform: translate(-50%, -50%); pointer-events: none;
}
body { box-shadow: inset 0 0 0 4px #b71c1c; }
"""


def kernelspec(environment: str) -> dict:
    """The lab's ``python3`` kernel: this Python, the lab's extension (:mod:`runbook.execution.labkernel`) and its
    environment; it replaces the default one inside the lab only (``JUPYTER_PATH``)."""
    return {
        "argv": [
            sys.executable,
            "-m",
            "ipykernel_launcher",
            "-f",
            "{connection_file}",
            "--IPKernelApp.extensions=runbook.execution.labkernel",
        ],
        "display_name": "Python 3",
        "language": "python",
        "metadata": {"debugger": True},
        "env": {ENVIRONMENT_VARIABLE: environment},
    }


def terminal_rc(client_environment: dict[str, str]) -> str:
    """The lab's terminals' start-up (bash ``--rcfile``): the user's ``~/.bashrc``, then the project's virtual
    environment first on PATH and this lab's emulator in the AWS variables (a login shell would reset PATH)."""
    exports = {"PATH": f"{Path(sys.executable).parent}:$PATH", **client_environment}
    lines = [
        "# runbook lab: written at each start",
        "[ -f ~/.bashrc ] && . ~/.bashrc",
        "unset JUPYTER_PATH  # the lab's kernelspec is for its notebooks, not for `runbook run` here",
    ]
    for name, value in exports.items():
        quoted = f'"{value}"' if name == "PATH" else shlex.quote(value)
        lines.append(f"export {name}={quoted}")
    lines.append(f"cd {shlex.quote(str(paths.ROOT))}")
    return "\n".join(lines) + "\n"


def lab_files(
    environment: str, client_environment: dict[str, str], lab_dir: Path | None = None
) -> tuple[dict[str, str], list[str]]:
    """Write JupyterLab's per-environment files; returns the environment variables that point JupyterLab at them
    and the terminals' shell command."""
    base = jupyter_dir(environment, lab_dir)
    config = base / "config"
    css = config / "custom" / "custom.css"
    _write(css, PRODUCTION_CSS if environment == "production" else "/* runbook lab: staging */\n")
    _write(base / "data" / "kernels" / "python3" / "kernel.json", json.dumps(kernelspec(environment), indent=1))
    (base / "user-settings").mkdir(parents=True, exist_ok=True)
    (base / "workspaces").mkdir(parents=True, exist_ok=True)
    _write(base / "bashrc", terminal_rc(client_environment))
    bash = shutil.which("bash")
    shell = [bash, "--rcfile", str(base / "bashrc"), "-i"] if bash else [os.environ.get("SHELL") or "sh"]
    return {
        "JUPYTER_CONFIG_DIR": str(config),
        "JUPYTERLAB_SETTINGS_DIR": str(base / "user-settings"),
        "JUPYTERLAB_WORKSPACES_DIR": str(base / "workspaces"),
        "JUPYTER_PATH": os.pathsep.join([str(base / "data"), *filter(None, [os.environ.get("JUPYTER_PATH")])]),
    }, shell


def lab_command(
    port: int, token: str, root_dir: Path, app_settings_dir: Path | None = None, shell: list[str] | None = None
) -> list[str]:
    """The JupyterLab command line: loopback, a fixed token, no browser, no calls home."""
    command = [
        sys.executable,
        "-m",
        "runbook.execution.labserver",
        "--no-browser",
        f"--ServerApp.ip={LOOPBACK}",
        f"--ServerApp.port={port}",
        "--ServerApp.port_retries=0",
        f"--ServerApp.root_dir={root_dir}",
        f"--IdentityProvider.token={token}",
        "--ServerApp.open_browser=False",
        "--ServerApp.contents_manager_class=runbook.execution.labserver.LabContentsManager",
        "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
        "--LabApp.news_url=None",
        "--LabApp.custom_css=True",
        # the language-server bridge has no language server to talk to here; jupytext is not used
        '--ServerApp.jpserver_extensions={"jupyter_lsp": False, "jupytext": False}',
    ]
    if shell:
        command.append("--ServerApp.terminado_settings=" + json.dumps({"shell_command": shell}))
    if app_settings_dir is not None:
        command.append(f"--LabApp.app_settings_dir={app_settings_dir}")
    if hasattr(os, "geteuid") and os.geteuid() == 0:  # containers and CI run as root
        command.append("--allow-root")
    return command


def link_tfvars(copies: Copies, environment: str, endpoint_url: str, region: str, lab_dir: Path | None = None) -> Path:
    """Show the environment's working tfvars in the lab's root as ``terraform.tfvars``: a link to the file every
    step of the lab reads (``runbook.workconfig``): the operator's ``infrastructure/<env>/terraform.tfvars`` when
    it exists, else the lab work directory's copy of the example, made now as 01 makes it (on the emulator with an
    image it knows). Nothing committed is written."""
    context = open_context(
        environment, region, endpoint_url, str(work_dir(environment, lab_dir).parent), check_endpoint=False
    )  # work_dir is the base, as in the copies' parameters cell
    if context.working.origin == "generated" and not context.working.exists:
        preflight.working_tfvars(context)
    link = copies_dir(environment, lab_dir) / TFVARS_LINK
    if link.is_symlink() and Path(os.readlink(link)) != context.tfvars:
        link.unlink()
    if not link.exists() and not link.is_symlink():
        link.symlink_to(context.tfvars)
    copies.tfvars, copies.tfvars_origin = context.tfvars, context.working.origin
    return link


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
    signum = signum or signal.SIGTERM
    if lab.process.poll() is None:
        processes.stop_workers_of(processes.children(lab.process.pid), signum)
    processes.stop_process(lab.process, signal.SIGTERM, STOP_TIMEOUT)


@contextmanager
def running_lab(
    port: int = 0,
    environment: str = "staging",
    refresh=False,
    lab_dir: Path | None = None,
    region: str | None = None,
    startup_timeout: float = STARTUP_TIMEOUT,
) -> Iterator[Lab]:
    """Start the emulator and JupyterLab on the working copies; stop both on exit, whatever happens."""
    lab_dir = Path(lab_dir or LAB_DIR).resolve()
    refresh_names(refresh)  # a --refresh NAME that names no runbook: before anything starts
    root_dir = copies_dir(environment, lab_dir)
    root_dir.mkdir(parents=True, exist_ok=True)
    region = region or str(_environment_values(environment).get("aws_region") or "us-east-1")
    token = secrets.token_hex(24)
    emulator = Emulator(port=free_port(), region=region)  # the port is chosen now: JupyterLab needs the endpoint
    endpoint_url = f"http://{LOOPBACK}:{emulator.port}"

    client_environment = emulator_environment(endpoint_url, region)
    jupyter_environment, shell = lab_files(environment, client_environment, lab_dir)
    environment_variables = {
        **os.environ,
        **client_environment,
        **jupyter_environment,
        "PYTHONUNBUFFERED": "1",
        "RUNBOOK_LAB_READ_ONLY": os.pathsep.join(READ_ONLY),
    }
    environment_variables.pop("AWS_PROFILE", None)  # the emulator's dummy keys, never a real profile
    environment_variables.pop("AWS_SESSION_TOKEN", None)
    log_file = tempfile.NamedTemporaryFile(prefix="runbook-lab-", suffix=".log", delete=False)
    lab_port = port or free_port()
    command = lab_command(lab_port, token, root_dir, settings_dir(environment, lab_dir), shell)
    process = processes.popen(
        command,
        cwd=root_dir,
        env=environment_variables,
        stdin=subprocess.DEVNULL,
        stdout=log_file,
        stderr=subprocess.STDOUT,
    )  # its own session: we stop it in order
    log_file.close()
    lab = Lab(
        lab_port, token, endpoint_url, root_dir, process, Path(log_file.name), client_environment, env_name=environment
    )
    started = False
    try:
        emulator.start()  # while JupyterLab boots
        started = True
        lab.copies = prepare_copies(environment, endpoint_url, refresh=refresh, lab_dir=lab_dir)
        try:
            link_tfvars(lab.copies, environment, endpoint_url, region, lab_dir)
        except RunbookError as error:  # e.g. your tfvars names another environment: 01 says so too; the lab starts
            lab.copies.tfvars_error = str(error)
        write_start_page(lab)
        _wait_until_ready(lab, startup_timeout)
        yield lab
    finally:
        supervisor = processes.current()
        _stop(lab, supervisor.signum if supervisor is not None else None)
        if started:
            emulator.stop()
        Path(log_file.name).unlink(missing_ok=True)


def startup_message(lab: Lab) -> str:
    copies = lab.copies or Copies(lab.root_dir)
    marker = "PRODUCTION" if lab.env_name == "production" else lab.env_name
    lines = [
        f"AWS emulator:  {lab.endpoint_url}  (dummy credentials, region {lab.environment.get('AWS_REGION', '')})",
        f"JupyterLab:    {lab.url}",
        f"Lab:           {marker}: working copies of the runbooks in {_relative(copies.directory)}/, each with this "
        "lab's environment, endpoint and work directory in its parameters cell; it opens on "
        f"{START_PAGE}. The templates in notebooks/ are never opened for editing nor written.",
    ]
    if copies.tfvars is not None:
        lines.append(
            f"terraform.tfvars: {_relative(copies.tfvars)} ({copies.tfvars_origin}), shown in the lab as {TFVARS_LINK}"
        )
    if copies.tfvars_error:
        lines.append(f"terraform.tfvars: NOT SHOWN: {copies.tfvars_error}")
    if copies.created or copies.refreshed:
        lines.append(f"               new copies: {', '.join(copies.created + copies.refreshed)}")
    for name, changes in copies.reset.items():
        lines.append(f"Reset:         {name}: {'; '.join(changes)} (nothing stays armed across sessions)")
    if copies.cleared:
        lines.append(
            f"Cleared:       outputs of {', '.join(copies.cleared)} (recorded against an earlier session's "
            "emulator, which is gone)"
        )
    for broken in copies.broken:
        stem = broken.notebook.removesuffix(".ipynb")
        lines.append(
            f"NOT READY:     {broken} - kept as you left it (not reset); fix it in the lab, or "
            f"`runbook lab --refresh {stem}` re-creates it from notebooks/"
        )
    if copies.outdated:
        lines.append(f"               kept your edited {', '.join(copies.outdated)} although the template changed")
    lines += [
        "               Your edits in the copies are kept across restarts; `runbook lab --refresh NAME` re-creates "
        "one copy from notebooks/ (`--refresh` alone: every copy), discarding its edits.",
        f"Read-only:     {', '.join(name + '/' for name in READ_ONLY)} (your checkout, for reference)",
        "Kernels and terminals have AWS_ENDPOINT_URL and the dummy credentials; terminals have the project's "
        "virtual environment on PATH. Nothing is applied unless you set apply = True in a runbook.",
        "Ctrl-C (or SIGTERM) stops JupyterLab, its kernels and the emulator.",
    ]
    return "\n".join(lines)


def lab(port: int = 0, environment: str = "staging", refresh=False, open_browser: bool = False) -> int:
    """``runbook lab``: run until a signal (or JupyterLab exits), printing where to go; returns the status."""
    print("Starting the AWS emulator and JupyterLab (on 127.0.0.1 only) ...", flush=True)
    with processes.supervise() as supervisor:
        try:
            with running_lab(port=port, environment=environment, refresh=refresh) as running:
                print(startup_message(running), flush=True)
                if open_browser:
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
