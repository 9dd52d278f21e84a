"""``python -m runbook.publish._mkdocs ARGS``: mkdocs' own command line (``runbook docs`` runs it), with one start-up
cost
removed.

mkdocs-jupyter imports nbconvert, whose jsonschema imports ``rfc3987_syntax`` when it is installed (jupyter-events'
extra), only for the ``iri`` format, which no notebook schema uses; that module compiles a grammar at import (1.5 s
to 2.5 s of CPU, a quarter of a site build). As :mod:`runbook.execution.labserver` does, this process skips it.
"""

from __future__ import annotations

import sys

if __name__ == "__main__":  # before anything imports jsonschema
    sys.modules.setdefault("rfc3987_syntax", None)  # type: ignore[assignment]
    from mkdocs.__main__ import cli

    cli()
