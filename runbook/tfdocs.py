"""The module README's Inputs and Outputs tables, generated from ``variables.tf`` and ``outputs.tf``.

The tables sit between ``<!-- BEGIN_TF_DOCS -->`` and ``<!-- END_TF_DOCS -->``::

    python -m runbook.tfdocs           # rewrite the README's generated section
    python -m runbook.tfdocs --check   # exit 1 when the README is stale
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from . import paths
from .tfconfig import _load, _variables

BEGIN = "<!-- BEGIN_TF_DOCS -->"
END = "<!-- END_TF_DOCS -->"


def _hcl(value: Any) -> str:
    """A default value written as HCL."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return json.dumps(value)
    if isinstance(value, str):
        return json.dumps(value)
    if isinstance(value, list):
        return "[" + ", ".join(_hcl(item) for item in value) + "]"
    if isinstance(value, dict):
        if not value:
            return "{}"
        return "{ " + ", ".join(f"{key} = {_hcl(item)}" for key, item in value.items()) + " }"
    return str(value)


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def render(module_dir: Path = paths.MODULE_DIR) -> str:
    """The generated section (markers excluded): an Inputs table and an Outputs table."""
    lines = ["## Inputs", "", "| Name | Description | Type | Default | Required |", "| --- | --- | --- | --- | :---: |"]
    variables = _variables(module_dir)
    for name in sorted(variables, key=lambda n: (not variables[n].required, n)):
        var = variables[name]
        default = "n/a" if var.required else f"`{_cell(_hcl(var.default))}`"
        lines.append(f"| `{name}` | {_cell(var.description)} | `{_cell(var.type)}` | {default} | "
                     f"{'yes' if var.required else 'no'} |")
    lines += ["", "## Outputs", "", "| Name | Description |", "| --- | --- |"]
    outputs = {}
    for block in _load(module_dir / "outputs.tf").get("output", []):
        outputs.update(block)
    for name in sorted(outputs):
        lines.append(f"| `{name}` | {_cell(outputs[name].get('description', ''))} |")
    return "\n".join(lines) + "\n"


def updated(readme_text: str, section: str) -> str:
    """``readme_text`` with its generated section replaced by ``section``."""
    start, end = readme_text.find(BEGIN), readme_text.find(END)
    if start < 0 or end < start:
        raise ValueError(f"the README has no {BEGIN} … {END} section")
    return readme_text[: start + len(BEGIN)] + "\n" + section + readme_text[end:]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m runbook.tfdocs", description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="exit 1 when the README is stale; change nothing")
    parser.add_argument("--module-dir", type=Path, default=paths.MODULE_DIR)
    args = parser.parse_args(argv)
    readme = args.module_dir / "README.md"
    current = readme.read_text(encoding="utf-8")
    wanted = updated(current, render(args.module_dir))
    if current == wanted:
        print(f"{readme}: inputs and outputs are current")
        return 0
    if args.check:
        print(f"{readme}: inputs/outputs tables are stale; run: python -m runbook.tfdocs", file=sys.stderr)
        return 1
    readme.write_text(wanted, encoding="utf-8")
    print(f"{readme}: inputs and outputs rewritten")
    return 0


if __name__ == "__main__":
    sys.exit(main())
