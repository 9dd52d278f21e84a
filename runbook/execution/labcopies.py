"""The working copies ``runbook lab`` serves (``build/lab/<env>/``): the runbooks with the lab's values in their own
parameters cell (what you edit is what runs), refreshed from the templates only when asked; the templates are never
written.

Why not papermill's ``parameterize_notebook``: it always puts the values in a cell of its own, tagged
``injected-parameters``, after the parameters cell (or replaces that cell); it has no way to rewrite the defaults in
the parameters cell itself. The lab needs exactly that: one visible value per parameter, so that editing it is what
runs, with no later cell overriding it. So the lab splices the values into the parameters cell itself
(:func:`set_defaults`: each default's span found with :mod:`ast`, the annotation and help comment kept), and writes
each value with papermill's own translator (``papermill.translators.PythonTranslator.translate``): a value reads as
papermill would inject it (strings in double quotes with escapes, ``True``, ``None``, lists, dicts), and papermill
(``inspect_notebook``, a later ``papermill`` run) reads it back as the same default. Importing papermill costs
``runbook lab`` 1-2.5 s of start-up (nbformat and jsonschema's format checkers): it is imported in
:func:`prepare_notebook`, after JupyterLab has been started, so that most of it overlaps JupyterLab's own boot.

Execution layer: imports the layers below it.
"""

from __future__ import annotations

import ast
import hashlib
import json
import os
import sys
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from runbook import paths
from runbook.errors import ParameterError

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
    "codemirror_mode": {"name": "ipython", "version": 3},
    "file_extension": ".py",
    "mimetype": "text/x-python",
    "name": "python",
    "nbconvert_exporter": "python",
    "pygments_lexer": "ipython3",
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
        target = (
            node.target
            if isinstance(node, ast.AnnAssign)
            else (node.targets[0] if isinstance(node, ast.Assign) and len(node.targets) == 1 else None)
        )
        if isinstance(target, ast.Name) and node.value is not None:
            value = node.value
            spans[target.id] = (offset(value.lineno, value.col_offset), offset(value.end_lineno, value.end_col_offset))
    return spans


def declared_parameters(nb: dict) -> list[str]:
    """The names the ``parameters`` cell assigns (``name: type = default`` or ``name = default``)."""
    cell = _parameters_cell(nb)
    return list(_default_spans(_source(cell))) if cell else []


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
        from papermill.translators import PythonTranslator  # noqa: PLC0415 — papermill's import (1-2.5 s: nbformat, jsonschema) overlaps JupyterLab's boot here

        values = {key: PythonTranslator.translate(value) for key, value in parameters.items() if key in current}
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
    return {
        **_environment_values(environment),
        "environment": environment,
        "aws_endpoint_url": endpoint_url,
        "work_dir": str(work_dir(environment, lab_dir).parent),
    }  # the base: <work_dir>/<environment>


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
    return any(
        wanted and (stem == wanted.removesuffix(".ipynb") or stem.split("-", 1)[0] == wanted)
        for wanted in (refresh or ())
    )


def refresh_names(refresh, templates: Path | None = None) -> list[str]:
    """The template names ``refresh`` selects; a name that matches no runbook is a ParameterError."""
    names = [p.name for p in sorted((templates or paths.NOTEBOOKS).glob("[0-9][0-9]-*.ipynb"))]
    for wanted in () if refresh in (True, False, None) else refresh:
        if not any(_selected([wanted], name) for name in names):
            raise ParameterError(
                "--refresh",
                wanted,
                "a runbook such as 02 or 02-plan-and-apply: " + ", ".join(n.removesuffix(".ipynb") for n in names),
            )
    return [name for name in names if _selected(refresh, name)]


def prepare_copies(
    environment: str, endpoint_url: str, refresh=False, lab_dir: Path | None = None, templates: Path | None = None
) -> Copies:
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
        state[template.name] = {
            "template": known.get("template") if outdated else _sha(template_text),
            "copy": _sha(text),
            "edited": edited and template.name in report.kept,
        }
    for name in READ_ONLY:
        link, target = directory / name, paths.ROOT / name
        if target.is_dir() and not link.exists() and not link.is_symlink():
            link.symlink_to(target, target_is_directory=True)
    state_path.write_text(json.dumps(state, indent=1, sort_keys=True) + "\n")
    return report
