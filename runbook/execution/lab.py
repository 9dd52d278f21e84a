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

import ast
import hashlib
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

import yaml

from runbook import paths, processes, workconfig
from runbook.aws.emulator import LOOPBACK, Emulator, emulator_environment
from runbook.errors import ParameterError, RunbookError
from runbook.params import ENVIRONMENT_VARIABLE
from runbook.steps import preflight
from runbook.steps.context import open_context

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
    # Markdown (the start page, docs/) opens rendered; "Open With > Editor" still edits it
    "@jupyterlab/docmanager-extension:plugin": {"defaultViewers": {"markdown": "Markdown Preview"}},
}
#: The start page, in the lab's root (written at each start).
START_PAGE = "START.md"
#: The environment's working tfvars, shown in the lab's root (a link to the file every step reads).
TFVARS_LINK = "terraform.tfvars"
#: The cell earlier versions of the lab added after the parameters cell; removed from copies.
INJECTED_TAG = "injected-parameters"
#: Change-making parameters: never armed across sessions (each start puts back the template's safe default).
ARMING = ("apply", "confirm", "allow_destroy", "plan_sha256", "destroy", "unlock_lock_id")
#: What the kernel reports about its language (ipykernel's ``language_info``): written into the copies so that
#: opening one and starting its kernel does not mark it modified.
LANGUAGE_INFO = {
    "codemirror_mode": {"name": "ipython", "version": 3}, "file_extension": ".py", "mimetype": "text/x-python",
    "name": "python", "nbconvert_exporter": "python", "pygments_lexer": "ipython3",
    "version": ".".join(map(str, sys.version_info[:3])),
}


@dataclass
class Copies:
    """What :func:`prepare_copies` did."""

    directory: Path
    created: list[str] = field(default_factory=list)
    refreshed: list[str] = field(default_factory=list)
    kept: list[str] = field(default_factory=list)
    outdated: list[str] = field(default_factory=list)  # kept, edited, and their template changed since
    reset: dict[str, list[str]] = field(default_factory=dict)  # copy -> ["apply = True -> False", ...]
    cleared: list[str] = field(default_factory=list)  # copies whose earlier outputs were removed
    broken: list[BrokenParameters] = field(default_factory=list)  # kept untouched: the parameters cell is broken
    tfvars: Path | None = None  # the working tfvars the lab's root shows (terraform.tfvars)
    tfvars_origin: str = ""
    tfvars_error: str = ""  # why it could not be shown


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


class BrokenParameters(ValueError):
    """A working copy's parameters cell is not valid Python any more (the operator broke it)."""

    def __init__(self, notebook: str, line: int | None, message: str):
        self.notebook, self.line, self.message = notebook, line, message
        super().__init__(f"{notebook}: the parameters cell does not parse (line {line} of the cell: {message})")


def _parameters_cell(nb: dict) -> dict | None:
    return next((c for c in nb.get("cells", []) if "parameters" in _tags(c)), None)


def _default_spans(source: str) -> dict[str, tuple[int, int]]:
    """Where each default of a parameters cell's source is: ``name -> (start, end)`` character offsets of the
    value in ``name: type = value  # help`` (or ``name = value``). Raises SyntaxError when it does not parse."""
    lines = source.splitlines(keepends=True)
    starts = [0]
    for line in lines:
        starts.append(starts[-1] + len(line))

    def offset(lineno: int, col: int) -> int:  # ast columns count UTF-8 bytes
        return starts[lineno - 1] + len(lines[lineno - 1].encode()[:col].decode(errors="ignore"))

    spans = {}
    for node in ast.parse(source).body:
        target = node.target if isinstance(node, ast.AnnAssign) else (
            node.targets[0] if isinstance(node, ast.Assign) and len(node.targets) == 1 else None)
        if isinstance(target, ast.Name) and node.value is not None:
            value = node.value
            spans[target.id] = (offset(value.lineno, value.col_offset), offset(value.end_lineno, value.end_col_offset))
    return spans


def declared_parameters(nb: dict) -> list[str]:
    """The names the ``parameters`` cell assigns (``name: type = default`` or ``name = default``)."""
    cell = _parameters_cell(nb)
    return list(_default_spans(_source(cell))) if cell else []


def _literal(value) -> str:
    """A default as Python source: strings in double quotes, as the notebooks write them."""
    return json.dumps(value, ensure_ascii=False) if isinstance(value, str) else repr(value)


def set_defaults(source: str, values: dict[str, str]) -> str:
    """``source`` (a parameters cell) with the defaults of ``values`` (name -> Python source) replaced in place:
    the line's type annotation and help comment are kept. Names the cell does not assign are ignored."""
    spans = _default_spans(source)
    for name, (start, end) in sorted(spans.items(), key=lambda item: -item[1][0]):
        if name in values:
            source = source[:start] + values[name] + source[end:]
    return source


def defaults(source: str) -> dict[str, str]:
    """The defaults of a parameters cell as written (name -> Python source)."""
    return {name: source[start:end] for name, (start, end) in _default_spans(source).items()}


@dataclass
class Prepared:
    """What preparing one working copy changed."""

    reset: list[str] = field(default_factory=list)  # "apply = True -> False"
    cleared: bool = False  # outputs of an earlier session removed


def prepare_notebook(nb: dict, template: dict, parameters: dict, name: str = "notebook") -> Prepared:
    """Make ``nb`` (a working copy, changed in place) right for this lab session:

    - its parameters cell gets this lab's values (``parameters``) as its defaults, where it declares them: what the
      operator sees is what runs, and no cell after it overrides anything (an injected-parameters cell that an
      earlier version of the lab wrote is removed);
    - the change-making parameters (:data:`ARMING`) go back to the template's safe defaults;
    - outputs are cleared: they were recorded against an earlier session's emulator, which is gone.

    Raises :class:`BrokenParameters` (nothing changed) when the copy's parameters cell does not parse.
    """
    cell = _parameters_cell(nb)
    report = Prepared()
    if cell is not None:
        source = _source(cell)
        try:
            current = defaults(source)
        except SyntaxError as error:
            raise BrokenParameters(name, error.lineno, error.msg) from None
        template_cell = _parameters_cell(template)
        safe = defaults(_source(template_cell)) if template_cell is not None else {}
        values = {key: _literal(value) for key, value in parameters.items() if key in current}
        for key in ARMING:
            if key in current and key in safe and current[key] != safe[key]:
                values[key] = safe[key]
                report.reset.append(f"{key} = {current[key]} -> {safe[key]}")
        cell["source"] = set_defaults(source, values)
    nb["cells"] = [c for c in nb.get("cells", []) if INJECTED_TAG not in _tags(c)]
    for each in nb["cells"]:
        if each.get("cell_type") == "code":
            if each.get("outputs") or each.get("execution_count") is not None:
                report.cleared = True
            each["outputs"], each["execution_count"] = [], None
    metadata = nb.setdefault("metadata", {})
    metadata.pop("papermill", None)
    metadata["language_info"] = {**metadata.get("language_info", {}), **LANGUAGE_INFO}
    return report


def _dump(nb: dict) -> str:
    return json.dumps(nb, indent=1, sort_keys=True, ensure_ascii=False) + "\n"


def _environment_values(environment: str) -> dict:

    values = yaml.safe_load((paths.ENVIRONMENT_FILES / f"{environment}.yaml").read_text()) or {}
    return values if isinstance(values, dict) else {}


def lab_parameters(environment: str, endpoint_url: str, lab_dir: Path | None = None) -> dict:
    """The defaults the lab writes into each copy's parameters cell: the environment's parameter file,
    ``environment``, the endpoint, the lab's work directory."""
    return {**_environment_values(environment), "environment": environment, "aws_endpoint_url": endpoint_url,
            "work_dir": str(work_dir(environment, lab_dir).parent)}  # the base: <work_dir>/<environment>


def copies_dir(environment: str, lab_dir: Path | None = None) -> Path:
    return (lab_dir or LAB_DIR) / environment


def work_dir(environment: str, lab_dir: Path | None = None) -> Path:
    """The lab's Terraform work directory: its own, beside (not inside) what JupyterLab serves."""
    return (lab_dir or LAB_DIR) / ".work" / environment


def _state_file(environment: str, lab_dir: Path | None) -> Path:
    return (lab_dir or LAB_DIR) / f".copies-{environment}.json"


def _selected(refresh, name: str) -> bool:
    """Does ``refresh`` (True: every copy; or names such as ``02``, ``02-plan-and-apply``) name this copy?"""
    if refresh is True:
        return True
    stem = name.removesuffix(".ipynb")
    return any(wanted and (stem == wanted.removesuffix(".ipynb") or stem.split("-", 1)[0] == wanted)
               for wanted in (refresh or ()))


def refresh_names(refresh, templates: Path | None = None) -> list[str]:
    """The template names ``refresh`` selects; a name that matches no runbook is a ParameterError."""
    names = [p.name for p in sorted((templates or paths.NOTEBOOKS).glob("[0-9][0-9]-*.ipynb"))]
    for wanted in (() if refresh in (True, False, None) else refresh):
        if not any(_selected([wanted], name) for name in names):
            raise ParameterError("--refresh", wanted, "a runbook such as 02 or 02-plan-and-apply: "
                                 + ", ".join(n.removesuffix(".ipynb") for n in names))
    return [name for name in names if _selected(refresh, name)]


def prepare_copies(environment: str, endpoint_url: str, refresh=False, lab_dir: Path | None = None,
                   templates: Path | None = None) -> Copies:
    """Write the working copies of ``templates`` (``notebooks/``) for ``environment``; see the module docstring.

    ``refresh``: True re-creates every copy from its template; a list of names (``02``, ``02-plan-and-apply``)
    only those.
    """
    directory = copies_dir(environment, lab_dir)
    directory.mkdir(parents=True, exist_ok=True)
    state_path = _state_file(environment, lab_dir)
    try:
        state = json.loads(state_path.read_text())
    except (OSError, ValueError):
        state = {}
    parameters = lab_parameters(environment, endpoint_url, lab_dir)
    report = Copies(directory)
    refreshed = set(refresh_names(refresh, templates))
    for template in sorted((templates or paths.NOTEBOOKS).glob("[0-9][0-9]-*.ipynb")):
        template_text = template.read_text()
        template_nb = json.loads(template_text)
        copy = directory / template.name
        known = state.get(template.name, {})
        current = copy.read_text() if copy.exists() else None
        edited = current is not None and (known.get("edited", False) or _sha(current) != known.get("copy"))
        template_changed = known.get("template") != _sha(template_text)
        outdated = False
        if current is None or template.name in refreshed or (template_changed and not edited):
            nb = json.loads(template_text)
            (report.created if current is None else report.refreshed).append(template.name)
        else:
            try:
                nb = json.loads(current)
            except ValueError:  # not a notebook any more: keep the file, say so
                report.kept.append(template.name)
                report.broken.append(BrokenParameters(template.name, None, "the file is not a notebook (JSON)"))
                continue
            report.kept.append(template.name)
            outdated = template_changed
            if outdated:
                report.outdated.append(template.name)
        nb.setdefault("metadata", {})["runbook_lab"] = {"environment": environment, "template": template.name}
        try:
            prepared = prepare_notebook(nb, template_nb, parameters, template.name)
        except BrokenParameters as broken:  # the operator's copy, kept as it is until they fix or refresh it
            report.broken.append(broken)
            continue
        if prepared.reset:
            report.reset[template.name] = prepared.reset
        if prepared.cleared:
            report.cleared.append(template.name)
        text = _dump(nb)
        if text != current:
            copy.write_text(text)
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
def jupyter_dir(environment: str, lab_dir: Path | None = None) -> Path:
    """JupyterLab's own files for this environment's lab (hidden in the lab's root): settings, workspaces,
    configuration, the kernelspec and the terminal's start-up file. Never ``~/.jupyter``."""
    return copies_dir(environment, lab_dir) / ".jupyter"


def _write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.exists() or path.read_text() != text:
        path.write_text(text)
    return path


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
    return {"argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}",
                     "--IPKernelApp.extensions=runbook.execution.labkernel"],
            "display_name": "Python 3", "language": "python", "metadata": {"debugger": True},
            "env": {ENVIRONMENT_VARIABLE: environment}}


def terminal_rc(client_environment: dict[str, str]) -> str:
    """The lab's terminals' start-up (bash ``--rcfile``): the user's ``~/.bashrc``, then the project's virtual
    environment first on PATH and this lab's emulator in the AWS variables (a login shell would reset PATH)."""
    exports = {"PATH": f"{Path(sys.executable).parent}:$PATH", **client_environment}
    lines = ["# runbook lab: written at each start", "[ -f ~/.bashrc ] && . ~/.bashrc",
             "unset JUPYTER_PATH  # the lab's kernelspec is for its notebooks, not for `runbook run` here"]
    for name, value in exports.items():
        quoted = f'"{value}"' if name == "PATH" else shlex.quote(value)
        lines.append(f"export {name}={quoted}")
    lines.append(f"cd {shlex.quote(str(paths.ROOT))}")
    return "\n".join(lines) + "\n"


def lab_files(environment: str, client_environment: dict[str, str],
              lab_dir: Path | None = None) -> tuple[dict[str, str], list[str]]:
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
    return {"JUPYTER_CONFIG_DIR": str(config), "JUPYTERLAB_SETTINGS_DIR": str(base / "user-settings"),
            "JUPYTERLAB_WORKSPACES_DIR": str(base / "workspaces"),
            "JUPYTER_PATH": os.pathsep.join([str(base / "data"), *filter(None, [os.environ.get("JUPYTER_PATH")])]),
            }, shell


def lab_command(port: int, token: str, root_dir: Path, app_settings_dir: Path | None = None,
                shell: list[str] | None = None) -> list[str]:
    """The JupyterLab command line: loopback, a fixed token, no browser, no calls home."""
    command = [
        sys.executable, "-m", "runbook.execution.labserver",
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
    context = open_context(environment, region, endpoint_url, str(work_dir(environment, lab_dir).parent),
                           check_endpoint=False)  # work_dir is the base, as in the copies' parameters cell
    if context.working.origin == "generated" and not context.working.exists:
        preflight.working_tfvars(context)
    link = copies_dir(environment, lab_dir) / TFVARS_LINK
    if link.is_symlink() and Path(os.readlink(link)) != context.tfvars:
        link.unlink()
    if not link.exists() and not link.is_symlink():
        link.symlink_to(context.tfvars)
    copies.tfvars, copies.tfvars_origin = context.tfvars, context.working.origin
    return link


#: The runbooks in one line each, for the start page (a runbook not listed gets its title).
RUNBOOK_LINES = {
    "01-setup": "checks the tools, the target and terraform.tfvars (Terraform's verdict, with file and line)",
    "02-plan-and-apply": "init, plan, the review of the saved plan, and apply of exactly that plan when you allow it",
    "03-import": "finds a table Terraform does not manage and imports it (a reviewed import block)",
    "04-troubleshooting": "each problem of the guide's Troubleshooting, checked live, with the fix",
    "05-cost-analysis": "what the planned table costs a month, and what the choices would save",
    "06-operations": "alarms, metrics, TTL, streams, a backup and restore drill, an access-pattern smoke test",
}
#: Pages of the documentation site (docs/, linked read-only in the lab; `runbook docs --serve` serves the site).
SITE_PAGES = (("Getting started", "getting-started.md"), ("The configuration guide", "guide.md"),
              ("Safety: what changes what", "safety.md"), ("Troubleshooting", "troubleshooting.md"),
              ("Cost", "cost.md"), ("Command reference", "reference.md"))


def _title(notebook: Path) -> str:
    nb = json.loads(notebook.read_text())
    first = next((_source(c) for c in nb.get("cells", []) if c.get("cell_type") == "markdown"), "")
    return first.splitlines()[0].lstrip("# ").strip() if first else notebook.stem


def start_page(lab: "Lab") -> str:
    """The lab's welcome page (Markdown) for its environment."""
    environment, copies = lab.env_name, lab.copies or Copies(lab.root_dir)
    production = environment == "production"
    table = ""
    if copies.tfvars is not None:

        try:
            table = workconfig.read_values(copies.tfvars).get("dynamodb_notifications_table_name") or ""
        except Exception:  # a broken tfvars: 01 names the line
            table = ""
    lines = [f"# {'PRODUCTION' if production else environment.capitalize()} · runbook lab", ""]
    if production:
        lines += ["> **Production.** These runbooks work on production's configuration. Here they run against this "
                  "lab's emulator, never real AWS; applying still needs `apply = True` **and** `confirm` set to the "
                  "table name, as it would against AWS.", ""]
    lines += [
        f"JupyterLab on working copies of the operator's runbooks for **{environment}**, with an AWS emulator "
        f"(moto, `{lab.endpoint_url}`, dummy credentials) started for this session: its resources are gone when "
        "the lab stops. Nothing here reaches real AWS.", "",
        "## 1 · Your configuration: `terraform.tfvars`", "",
        f"[terraform.tfvars](terraform.tfvars) (in this folder) is {environment}'s working configuration, the guide's "
        "Steps 1–2: open it, edit it, save it. Every runbook reads it.", ""]
    if copies.tfvars is not None:
        if copies.tfvars_origin == "operator":
            lines.append(f"It is your `{_relative(copies.tfvars)}` (the guide's Step 1), the file `runbook run`, "
                         f"`runbook cost --env {environment}` and plain `terraform plan -var-file=…` read too.")
        else:
            lines.append(f"It is the lab's copy of `terraform.tfvars.example`, `{_relative(copies.tfvars)}` (you "
                         f"have no `infrastructure/{environment}/terraform.tfvars`; on the emulator `ami_id` is an "
                         "image the emulator knows). From the lab's terminal (it opens in the checkout): "
                         f"`runbook cost --env {environment} --tfvars {_relative(copies.tfvars)}`.")
        lines.append("")
    if copies.tfvars_error:
        lines += [f"**Not shown here:** {copies.tfvars_error}", ""]
    lines += ["## 2 · The runbooks, in order", ""]
    for number, notebook in enumerate(sorted(copies.directory.glob("[0-9][0-9]-*.ipynb")), start=1):
        line = RUNBOOK_LINES.get(notebook.stem) or _title(notebook)
        lines.append(f"{number}. [{notebook.stem}]({notebook.name}): {line}")
    lines += [
        "", "Open one and *Run → Run All Cells*. Each parameters cell (the second cell) holds this lab's values: "
        f"`environment = \"{environment}\"`, this emulator's `aws_endpoint_url`, the lab's `work_dir`. Edit any "
        "value there and run: what you see is what runs. A notebook set to another environment stops at its first "
        f"step, before any AWS call: this lab is {environment}'s (`runbook lab --env ENV` starts another).", "",
        "## 3 · How to apply", "",
        "Run 02 as it is first: it plans and shows the review (every change, before → after, what is destroyed) "
        "and changes nothing. To apply that plan, set `apply = True` in 02's parameters cell"
        + (f" and `confirm = \"{table or 'the table name'}\"`" if production else "")
        + " and run it again. A destructive change also needs `allow_destroy` naming it (the review says which).", "",
        "Nothing stays armed: each `runbook lab` start puts `apply`, `confirm`, `allow_destroy` and `plan_sha256` "
        "back to their safe defaults and clears the outputs of the last session (its emulator is gone). Your other "
        "edits are kept; `runbook lab --refresh 02` re-creates one copy from `notebooks/`.", "",
        "## 4 · Terminal", "",
        "*File → New → Terminal* opens a shell in the checkout with the project's virtual environment on `PATH` and "
        "this emulator in `AWS_ENDPOINT_URL` and the dummy credentials: `runbook --help`, `runbook cost --env "
        f"{environment}`, `terraform -chdir=infrastructure/{environment} fmt -check`.", "",
        "## 5 · Read more", "",
        *[f"- [{title}](docs/{page})" for title, page in SITE_PAGES],
        f"- [The Terraform configuration](infrastructure/{environment}/) (read-only here; edit it in your editor)",
        "", "The site itself: `runbook docs --serve` in a terminal.", "",
        f"*This page is written by `runbook lab` at each start ({START_PAGE}); edits to it are not kept.*", ""]
    return "\n".join(lines)


def write_start_page(lab: "Lab") -> Path:
    return _write(lab.root_dir / START_PAGE, start_page(lab))


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
def running_lab(port: int = 0, environment: str = "staging", refresh=False, lab_dir: Path | None = None,
                region: str | None = None, startup_timeout: float = STARTUP_TIMEOUT) -> Iterator[Lab]:
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
    environment_variables = {**os.environ, **client_environment, **jupyter_environment, "PYTHONUNBUFFERED": "1",
                             "RUNBOOK_LAB_READ_ONLY": os.pathsep.join(READ_ONLY)}
    environment_variables.pop("AWS_PROFILE", None)  # the emulator's dummy keys, never a real profile
    environment_variables.pop("AWS_SESSION_TOKEN", None)
    log_file = tempfile.NamedTemporaryFile(prefix="runbook-lab-", suffix=".log", delete=False)
    lab_port = port or free_port()
    command = lab_command(lab_port, token, root_dir, settings_dir(environment, lab_dir), shell)
    process = processes.popen(command, cwd=root_dir, env=environment_variables, stdin=subprocess.DEVNULL,
                              stdout=log_file, stderr=subprocess.STDOUT)  # its own session: we stop it in order
    log_file.close()
    lab = Lab(lab_port, token, endpoint_url, root_dir, process, Path(log_file.name), client_environment,
              env_name=environment)
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


def _relative(path: Path) -> str:
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)


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
        lines.append(f"terraform.tfvars: {_relative(copies.tfvars)} ({copies.tfvars_origin}), shown in the lab as "
                     f"{TFVARS_LINK}")
    if copies.tfvars_error:
        lines.append(f"terraform.tfvars: NOT SHOWN: {copies.tfvars_error}")
    if copies.created or copies.refreshed:
        lines.append(f"               new copies: {', '.join(copies.created + copies.refreshed)}")
    for name, changes in copies.reset.items():
        lines.append(f"Reset:         {name}: {'; '.join(changes)} (nothing stays armed across sessions)")
    if copies.cleared:
        lines.append(f"Cleared:       outputs of {', '.join(copies.cleared)} (recorded against an earlier session's "
                     "emulator, which is gone)")
    for broken in copies.broken:
        stem = broken.notebook.removesuffix(".ipynb")
        lines.append(f"NOT READY:     {broken} - kept as you left it (not reset); fix it in the lab, or "
                     f"`runbook lab --refresh {stem}` re-creates it from notebooks/")
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
