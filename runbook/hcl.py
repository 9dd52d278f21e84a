"""The one HCL reader: a tfvars, backend config, ``.tf`` or ``.tftest.hcl`` file as python-hcl2 reads it.

python-hcl2 is used only where Terraform cannot help (DESIGN.md): a tfvars or backend config file before ``init``,
the declared variable names for a "did you mean", the documentation tables and the site's environment differences.
Every one of those reads goes through :func:`read`, with one option set (:data:`OPTIONS`):

- a string is its value: quotes removed and escapes decoded (``"a\\"b"`` → ``a"b``), in object keys too;
- an expression keeps its ``${…}`` wrapper (``var.x`` → ``"${var.x}"``, ``list(string)`` → ``"${list(string)}"``,
  a condition → ``"${length(var.x) > 0}"``; a bare name such as ``string`` stays ``"string"``);
- numbers, booleans and ``null`` are Python's; a list is a list, an object a dict;
- a block is a list of dicts, one per label (``{"variable": [{"name": {...}}, ...]}``), with no ``__is_block__``
  markers; no ``__comments__`` keys; a heredoc is an ordinary string.

Bad input is a :class:`~runbook.errors.ConfigurationError` naming the file (and the line, where the parser knows
it). Parses are cached by (path, modification time, size): several steps and tests read the same files, and parsing
the module's costs about a second. Each call returns its own copy, so a caller may change it.

Sits below the base modules that read tfvars (:mod:`runbook.workconfig`): imports only :mod:`runbook.errors`.
"""

from __future__ import annotations

import copy
from functools import lru_cache
from pathlib import Path

import hcl2
from hcl2.utils import SerializationOptions

from runbook.errors import ConfigurationError

OPTIONS = SerializationOptions(
    with_comments=False, explicit_blocks=False, strip_string_quotes=True, preserve_heredocs=False
)


def read(path: Path | str) -> dict:
    """The contents of the HCL file ``path`` as a dict (the module docstring gives its shape).

    Raises ConfigurationError naming ``path``: missing, a directory, not UTF-8 text, or not valid HCL (with the line).
    """
    path = Path(path)
    try:
        stat = path.stat()
    except FileNotFoundError:
        raise ConfigurationError(path, "file not found") from None
    if path.is_dir():
        raise ConfigurationError(path, "is a directory, not an HCL file")
    try:
        parsed = _parsed(path.resolve(), stat.st_mtime_ns, stat.st_size)
    except UnicodeDecodeError:
        raise ConfigurationError(path, 'not a text file (HCL is UTF-8 text, e.g. name = "value")') from None
    except Exception as exc:  # lark's parse errors (UnexpectedInput and its kinds) carry a line
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise ConfigurationError(path, f"cannot parse as HCL: {first}", getattr(exc, "line", None)) from None
    return copy.deepcopy(parsed)


@lru_cache(maxsize=64)
def _parsed(path: Path, mtime_ns: int, size: int) -> dict:
    """``path`` parsed; its modification time and size are in the cache key, so an edited file is parsed again."""
    return hcl2.loads(path.read_text(encoding="utf-8"), serialization_options=OPTIONS)
