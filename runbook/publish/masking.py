"""Masking of secrets and environment details in anything published: executed notebooks, the site.

One function, :func:`mask`, decides what is sensitive; :func:`mask_notebook` applies it to every text of a
notebook (sources, outputs, metadata), :func:`mask_html` to a rendered page (the site's hook runs it on every
page). Replaced with stable placeholders:

| what | placeholder |
| --- | --- |
| access key ids (``AKIA…``, ``ASIA…`` and the other IAM unique-id prefixes) | ``<access-key-id>`` |
| secret access keys, after a secret-key name (``aws_secret_access_key = …``, ``"SecretAccessKey": "…"``), and any 40-character base64 word mixing cases and digits (their shape) | ``<secret-access-key>`` |
| session tokens, after a token name, and STS tokens by their shape | ``<session-token>`` |
| URLs with an explicit port, and any URL or ``host:port`` on loopback (an emulator) | ``<endpoint>`` |
| account ids in ARNs, after an account label, anywhere once seen in an ARN, and the emulator's ``123456789012`` | ``<account-id>`` |
| machine paths: the run's work directory (and every ``build/work/<env>``), the repository root, the Python environment, the Terraform binary, the provider mirror, the home directory | ``<work-dir>``, ``<repo>``, ``<python-env>``, ``<terraform>``, ``<provider-mirror>``, ``<home>`` |

The current process's own ``AWS_ACCESS_KEY_ID``/``AWS_SECRET_ACCESS_KEY``/``AWS_SESSION_TOKEN`` and
``AWS_ENDPOINT_URL*`` values are masked wherever they appear. Machine paths are replaced longest first (a work
directory inside the checkout becomes ``<work-dir>``, not ``<repo>/build/work/staging``), only as whole path
components (``/work/repo`` never masks ``/work/repo2``); further paths, such as a run's own work directory,
are added with :func:`add_machine_path` or the ``paths`` argument. ``mask`` is idempotent.
"""  # noqa: E501 (a Markdown table: its rows cannot wrap)

from __future__ import annotations

import copy
import os
import re
import shutil
import sys
from functools import lru_cache, partial
from pathlib import Path
from typing import Any, Iterable, Mapping

from runbook import paths as project

ACCESS_KEY_ID = "<access-key-id>"
SECRET_ACCESS_KEY = "<secret-access-key>"
SESSION_TOKEN = "<session-token>"
ENDPOINT = "<endpoint>"
ACCOUNT_ID = "<account-id>"
REPO = "<repo>"
WORK_DIR = "<work-dir>"
HOME = "<home>"
TERRAFORM = "<terraform>"
PROVIDER_MIRROR = "<provider-mirror>"
PYTHON_ENV = "<python-env>"
RUNS_DIR = "<runs-dir>"
PATH_PLACEHOLDERS = (REPO, WORK_DIR, HOME, TERRAFORM, PROVIDER_MIRROR, PYTHON_ENV, RUNS_DIR)
PLACEHOLDERS = (ACCESS_KEY_ID, SECRET_ACCESS_KEY, SESSION_TOKEN, ENDPOINT, ACCOUNT_ID, *PATH_PLACEHOLDERS)

#: moto's default account id; masked wherever it stands alone, labelled or not.
EMULATOR_ACCOUNT_ID = "123456789012"

# IAM unique-id prefixes: AKIA (long-term key), ASIA (temporary key), AIDA/AROA/… (users, roles, …).
_ACCESS_KEY = re.compile(
    r"(?<![A-Za-z0-9])(?:AKIA|ASIA|AGPA|AIDA|AROA|AIPA|ANPA|ANVA|APKA|ABIA|ACCA)[A-Z0-9]{12,124}(?![A-Za-z0-9])"
)
# A name, then either ':'/'='/'=>' and any value, or only blanks (a key/value table) and a secret-looking value.
_ASSIGNED = r"""["']?\s*(?:=>|[:=])\s*["']?(?!<|&lt;)[^\s"',;)}\]]+"""
_BLANKS = r"""["']?[ \t]+["']?[A-Za-z0-9/+=]{16,}(?![\w/+=])"""
_SECRET_NAMES = r"(?:aws_?secret_?access_?key|secret_?access_?key|aws_?secret_?key|secret_?key|secret)"
_TOKEN_NAMES = r"(?:aws_?session_?token|aws_?security_?token|session_?token|security_?token|x-amz-security-token)"
_SECRET = re.compile(rf"(?i)\b{_SECRET_NAMES}(?:{_ASSIGNED}|{_BLANKS})")
_TOKEN = re.compile(rf"(?i)\b{_TOKEN_NAMES}(?:{_ASSIGNED}|{_BLANKS})")
#: The part of a match kept: the name, the separator and an opening quote.
_HEAD = re.compile(r"""^[\w-]+["']?\s*(?:=>|[:=])?\s*["']?""")
# Secret access keys by shape: exactly 40 base64 characters, mixing upper case, lower case and digits.
_SECRET_SHAPE = re.compile(r"(?<![A-Za-z0-9/+=])[A-Za-z0-9/+]{40}(?![A-Za-z0-9/+=])")
# STS session tokens by shape: base64 starting with the protobuf/"origin" header AWS uses, or moto's "FQoG…".
_TOKEN_SHAPE = re.compile(
    r"(?<![A-Za-z0-9+/])(?:IQoJb3JpZ2lu|FwoGZXIvYXdz|FQoGZXIvYXdz|AQoD|AgoJb3JpZ2lu)[A-Za-z0-9+/=]{40,}"
)

_LOOPBACK_HOST = r"(?:localhost|127(?:\.\d{1,3}){3}|0\.0\.0\.0|\[::1?\]|::1)"
# Any http(s)/ws URL with an explicit port (an emulator's), or any URL to a loopback host with or without one.
_URL_WITH_PORT = re.compile(
    r"(?i)\b(?:https?|wss?)://(?:[A-Za-z0-9._~%-]+(?::[^@\s/]*)?@)?(?:\[[0-9a-f:]+\]|[A-Za-z0-9._-]+):\d{1,5}\b"
)
# (not when the port is a placeholder, as in documentation: ``http://127.0.0.1:<port>``)
_LOOPBACK_URL = re.compile(rf"(?i)\b(?:https?|wss?)://{_LOOPBACK_HOST}(?::\d{{1,5}})?\b(?!:(?:<|&lt;|\{{|PORT))")
_LOOPBACK_HOSTPORT = re.compile(rf"(?i)(?<![\w.:/-]){_LOOPBACK_HOST}:\d{{1,5}}\b")

_ARN_ACCOUNT = re.compile(r"(\barn:aws[a-z-]*:[a-z0-9-]*:[a-z0-9-]*:)(\d{12})(?=:|/)")
# An account label, then separators, quotes or markup (a table's </th><td>), then 12 digits.
_ACCOUNT_LABEL = re.compile(
    r"(?i)(\b(?:aws_?)?(?:account(?:[ _-]?id)?|owner(?:[ _-]?id)?)\b"
    r"(?:\s|\\n|<[^<>]{0,40}>|[\"':=|,\\])*)(\d{12})(?!\d)"
)
_EMULATOR_ACCOUNT = re.compile(rf"(?<!\d){EMULATOR_ACCOUNT_ID}(?!\d)")

_CREDENTIAL_VARIABLES = {
    "AWS_ACCESS_KEY_ID": ACCESS_KEY_ID,
    "AWS_SECRET_ACCESS_KEY": SECRET_ACCESS_KEY,
    "AWS_SESSION_TOKEN": SESSION_TOKEN,
    "AWS_SECURITY_TOKEN": SESSION_TOKEN,
}
#: Environment values shorter than this are not masked wherever they stand (moto's dummy key ``testing``
#: would mangle prose); they are still masked after a secret's name.
_MIN_LITERAL = 8


def _environment_literals() -> list[tuple[str, str]]:
    """The process's own credential and endpoint values, longest first."""
    literals: dict[str, str] = {}
    for name, placeholder in _CREDENTIAL_VARIABLES.items():
        value = os.environ.get(name, "")
        if len(value) >= _MIN_LITERAL:
            literals[value] = placeholder
    for name, value in os.environ.items():
        if name.startswith("AWS_ENDPOINT_URL") and value.strip():
            literals[value.strip().rstrip("/")] = ENDPOINT
    for name in ("AWS_ACCOUNT_ID", "MOTO_ACCOUNT_ID", "CDK_DEFAULT_ACCOUNT"):
        value = os.environ.get(name, "")
        if re.fullmatch(r"\d{12}", value):
            literals[value] = ACCOUNT_ID
    return sorted(literals.items(), key=lambda item: -len(item[0]))


#: Paths added at run time (a run's work directory, the directory of the executed notebooks).
_EXTRA_PATHS: dict[str, str] = {}
#: Terraform's implied local mirrors (and this project's usual one), as ``runbook.terraform.command`` looks for them.
_KNOWN_MIRRORS = (
    ".terraform.d/plugins",
    ".local/share/terraform/plugins",
    "/usr/local/share/terraform/plugins",
    "/usr/share/terraform/plugins",
    "/opt/tf-plugins",
)


def add_machine_path(path: str | os.PathLike, placeholder: str = WORK_DIR) -> None:
    """Mask ``path`` (and its resolved form) as ``placeholder`` from now on, in this process."""
    for form in {str(path), str(Path(path).expanduser().resolve())}:
        if len(form) > 1 and form.startswith("/"):
            _EXTRA_PATHS[form.rstrip("/")] = placeholder


def machine_paths(extra: Mapping[str, str] | None = None) -> list[tuple[str, str]]:
    """Every machine path to mask, with its placeholder, longest first."""
    key = tuple(os.environ.get(n, "") for n in ("HOME", "PATH", "RUNBOOK_TF_PLUGIN_MIRROR", "RUNBOOK_WORK_DIR"))
    return _machine_paths(key, tuple(sorted({**_EXTRA_PATHS, **(extra or {})}.items())))


@lru_cache(maxsize=64)
def _machine_paths(environment: tuple[str, ...], extra: tuple[tuple[str, str], ...]) -> list[tuple[str, str]]:

    found: dict[str, str] = {}

    def add(path: Any, placeholder: str) -> None:
        if not path:
            return
        for form in dict.fromkeys([str(path), str(Path(path).expanduser().resolve())]):
            form = form.rstrip("/")
            if len(form) >= 4 and form.startswith("/") and form not in found:
                found[form] = placeholder

    for path, placeholder in extra:  # explicit ones first: they win over the defaults below
        add(path, placeholder)
    if environment[3]:
        add(environment[3], WORK_DIR)
    for env_name in project.ENVIRONMENTS:
        add(project.work_dir(env_name), WORK_DIR)
    for name in ("terraform", "tofu"):
        binary = shutil.which(name)
        if binary:
            add(binary, TERRAFORM)
    mirrors = [environment[2]] + [m if m.startswith("/") else str(Path.home() / m) for m in _KNOWN_MIRRORS]
    for mirror in mirrors:
        if mirror and Path(mirror, "registry.terraform.io").is_dir():
            add(mirror, PROVIDER_MIRROR)
    add(sys.prefix, PYTHON_ENV)
    add(project.ROOT, REPO)
    add(Path.home(), HOME)
    return sorted(found.items(), key=lambda item: -len(item[0]))


def _mask_paths(text: str, extra: Mapping[str, str] | None = None) -> str:
    for path, placeholder in machine_paths(extra):
        if path in text:
            text = re.sub(rf"(?<![\w.-]){re.escape(path)}(?![\w.-])", placeholder, text)
    return text


def _keep_name(match: re.Match, placeholder: str) -> str:
    """``name = value`` → ``name = <placeholder>``."""
    return _HEAD.match(match.group(0)).group(0) + placeholder


def _secret_shaped(match: re.Match) -> str:
    value = match.group(0)
    if any(c.islower() for c in value) and any(c.isupper() for c in value) and any(c.isdigit() for c in value):
        return SECRET_ACCESS_KEY
    return value


def accounts_in_arns(text: str) -> set[str]:
    """The account ids that appear in ARNs in ``text``."""
    return {m.group(2) for m in _ARN_ACCOUNT.finditer(text or "")}


def mask(text: str, accounts: Iterable[str] = (), paths: Mapping[str, str] | None = None) -> str:
    """``text`` with access keys, secrets, session tokens, endpoints, account ids and machine paths replaced.

    An account id seen in an ARN (in ``text``, or one of ``accounts``: :func:`mask_notebook` passes those of the
    whole notebook) is masked wherever it stands, e.g. in the ``Account`` column of a caller-identity table.
    """
    if not text:
        return text
    text = _mask_paths(text, paths)
    for value, placeholder in _environment_literals():
        text = text.replace(value, placeholder)
    for account in sorted(accounts_in_arns(text) | set(accounts)):
        text = re.sub(rf"(?<!\d){account}(?!\d)", ACCOUNT_ID, text)
    text = _SECRET.sub(lambda m: _keep_name(m, SECRET_ACCESS_KEY), text)
    text = _TOKEN.sub(lambda m: _keep_name(m, SESSION_TOKEN), text)
    text = _TOKEN_SHAPE.sub(SESSION_TOKEN, text)
    text = _SECRET_SHAPE.sub(_secret_shaped, text)
    text = _ACCESS_KEY.sub(ACCESS_KEY_ID, text)
    text = _URL_WITH_PORT.sub(ENDPOINT, text)
    text = _LOOPBACK_URL.sub(ENDPOINT, text)
    text = _LOOPBACK_HOSTPORT.sub(ENDPOINT, text)
    text = _ARN_ACCOUNT.sub(lambda m: m.group(1) + ACCOUNT_ID, text)
    text = _ACCOUNT_LABEL.sub(lambda m: m.group(1) + ACCOUNT_ID, text)
    text = _EMULATOR_ACCOUNT.sub(ACCOUNT_ID, text)
    return text


def _escape_placeholders(text: str) -> str:
    for placeholder in PLACEHOLDERS:
        text = text.replace(placeholder, placeholder.replace("<", "&lt;").replace(">", "&gt;"))
    return text


def mask_html(text: str, accounts: Iterable[str] = (), paths: Mapping[str, str] | None = None) -> str:
    """:func:`mask` for HTML: placeholders escaped so a browser shows them instead of taking them for tags."""
    return _escape_placeholders(mask(text, accounts, paths))


#: Code in Markdown: fenced blocks and inline code spans, where placeholders show as they are.
_MARKDOWN_CODE = re.compile(r"(```.*?```|~~~.*?~~~|(`+)[^`].*?\2)", re.DOTALL)


def _markdown(text: str, accounts: Iterable[str] = (), paths: Mapping[str, str] | None = None) -> str:
    """Masked Markdown: placeholders escaped outside code (where they would be taken for HTML tags)."""
    masked = mask(text, accounts, paths)
    out, index = [], 0
    for match in _MARKDOWN_CODE.finditer(masked):
        out.append(_escape_placeholders(masked[index : match.start()]))
        out.append(match.group(0))
        index = match.end()
    out.append(_escape_placeholders(masked[index:]))
    return "".join(out)


def _mask_value(value: Any, masker=mask) -> Any:
    """Mask every string inside a JSON-like value (strings, lists, dicts); keys too, since tables use them."""
    if isinstance(value, str):
        return masker(value)
    if isinstance(value, list):
        return [_mask_value(item, masker) for item in value]
    if isinstance(value, dict):
        return type(value)((masker(k) if isinstance(k, str) else k, _mask_value(v, masker)) for k, v in value.items())
    return value


def _mask_source(source: Any, masker=mask) -> Any:
    """A cell source or multiline output: a string or a list of lines (masked joined, then split again)."""
    if isinstance(source, list):
        joined = masker("".join(source))
        return joined.splitlines(keepends=True)
    return masker(source) if isinstance(source, str) else source


def _mask_output(output: dict, masker, html_masker) -> dict:
    if "text" in output:
        output["text"] = _mask_source(output["text"], masker)
    if output.get("output_type") == "error":
        output["ename"] = masker(output.get("ename", ""))
        output["evalue"] = masker(output.get("evalue", ""))
        output["traceback"] = [masker(line) for line in output.get("traceback", [])]
    data = output.get("data")
    if isinstance(data, dict):
        for mimetype, value in list(data.items()):
            if mimetype.startswith("image/") and not mimetype.startswith("image/svg"):
                continue  # base64: nothing readable to mask
            if mimetype == "text/html" or mimetype.startswith("image/svg"):
                data[mimetype] = _mask_source(value, html_masker)
            elif mimetype == "text/markdown":
                data[mimetype] = _mask_source(value, partial(_markdown, **masker.keywords))
            elif isinstance(value, (str, list)) and not mimetype.endswith("json"):
                data[mimetype] = _mask_source(value, masker)
            else:
                data[mimetype] = _mask_value(value, masker)
    if "metadata" in output:
        output["metadata"] = _mask_value(output["metadata"], masker)
    return output


def _texts(value: Any):
    """Every string inside a JSON-like value."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, list):
        for item in value:
            yield from _texts(item)
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from _texts(key)
            yield from _texts(item)


def mask_notebook(nb: Any, paths: Mapping[str, str] | None = None) -> Any:
    """A masked copy of notebook ``nb`` (nbformat node or plain dict): sources, outputs and metadata.

    Account ids found in any ARN of the notebook are masked everywhere in it; ``paths`` adds machine paths
    (``{path: placeholder}``) to the usual ones.
    """
    nb = copy.deepcopy(nb)
    accounts: set[str] = set()
    for cell in nb.get("cells", []):
        for text in _texts([cell.get("source", ""), cell.get("outputs", [])]):
            if "arn:" in text:
                accounts |= accounts_in_arns(text if isinstance(text, str) else "")
    masker = partial(mask, accounts=accounts, paths=paths)
    html_masker = partial(mask_html, accounts=accounts, paths=paths)
    markdown_masker = partial(_markdown, accounts=accounts, paths=paths)
    nb["metadata"] = _mask_value(nb.get("metadata", {}), masker)
    for cell in nb.get("cells", []):
        source_masker = markdown_masker if cell.get("cell_type") == "markdown" else masker
        cell["source"] = _mask_source(cell.get("source", ""), source_masker)
        if "metadata" in cell:
            cell["metadata"] = _mask_value(cell["metadata"], masker)
        for output in cell.get("outputs", []) or []:
            _mask_output(output, masker, html_masker)
    return nb
