"""The module README's reference tables in terraform-docs' layout, generated from the module's ``*.tf`` files.

Requirements, Providers, Modules, Resources, Inputs and Outputs, as ``terraform-docs markdown table`` writes them
(terraform-docs itself cannot be installed here), between ``<!-- BEGIN_TF_DOCS -->`` and ``<!-- END_TF_DOCS -->``::

    python -m runbook.publish.tfdocs           # rewrite the README's generated section
    python -m runbook.publish.tfdocs --check   # exit 1 when the README is stale

python-hcl2 reads the files (:func:`runbook.hcl.read`): documentation generation is one of the places where
Terraform cannot help.
A merge conflict inside the generated section is resolved by running the first command.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from runbook import hcl, paths

BEGIN = "<!-- BEGIN_TF_DOCS -->"
END = "<!-- END_TF_DOCS -->"
REGISTRY = "https://registry.terraform.io/providers"


@dataclass(frozen=True)
class _Variable:
    name: str
    type: str
    default: Any
    description: str
    required: bool


def _unwrap(expression: Any) -> Any:
    """``"${x}"`` → ``"x"`` for type expressions."""
    if isinstance(expression, str) and expression.startswith("${") and expression.endswith("}"):
        return expression[2:-1]
    return expression


def _tf_files(module_dir: Path) -> list[Path]:
    return sorted(p for p in module_dir.glob("*.tf") if not p.name.endswith("_override.tf"))


def _blocks(module_dir: Path, kind: str) -> list[tuple[Path, dict]]:
    found = []
    for path in _tf_files(module_dir):
        for block in hcl.read(path).get(kind, []) or []:
            found.append((path, block))
    return found


def _variables(module_dir: Path) -> dict[str, _Variable]:
    result = {}
    for _, block in _blocks(module_dir, "variable"):
        for name, body in block.items():
            result[name] = _Variable(
                name,
                str(_unwrap(body.get("type", "any"))),
                body.get("default"),
                str(body.get("description", "")),
                "default" not in body,
            )
    return result


def _hcl(value: Any) -> str:
    """A default value written as HCL."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float, str)):
        return json.dumps(value)
    if isinstance(value, list):
        return "[" + ", ".join(_hcl(item) for item in value) + "]"
    if isinstance(value, dict):
        if not value:
            return "{}"
        return "{ " + ", ".join(f"{key} = {_hcl(item)}" for key, item in value.items()) + " }"
    return str(value)


def _cell(text: str) -> str:
    """Text for one Markdown table cell: pipes escaped, on one line, ``<``/``>`` as entities (a description's
    ``<table>-alarms`` is a name pattern, not HTML)."""
    return str(text).replace("|", "\\|").replace("\n", " ").replace("<", "&lt;").replace(">", "&gt;")


def _anchor(kind: str, name: str) -> str:
    """A name in the first column (terraform-docs adds HTML anchors; plain code keeps the rows greppable)."""
    return f"`{name}`"


def _required_providers(module_dir: Path) -> tuple[str | None, dict[str, dict]]:
    version, providers = None, {}
    for _, block in _blocks(module_dir, "terraform"):
        version = block.get("required_version", version)
        for entry in block.get("required_providers", []) or []:
            for name, spec in entry.items():
                providers[name] = spec if isinstance(spec, dict) else {"version": spec}
    return version, providers


def _resource_docs_url(providers: dict[str, dict], rtype: str, data: bool) -> str:
    local = rtype.split("_", 1)[0]
    source = providers.get(local, {}).get("source", f"hashicorp/{local}")
    return f"{REGISTRY}/{source}/latest/docs/{'data-sources' if data else 'resources'}/{rtype.split('_', 1)[1]}"


def render(module_dir: Path = paths.MODULE_DIR) -> str:
    """The generated section (markers excluded), in terraform-docs' order and format."""
    version, providers = _required_providers(module_dir)
    lines = ["## Requirements", "", "| Name | Version |", "| --- | --- |"]
    if version:
        lines.append(f"| {_anchor('requirement', 'terraform')} | {_cell(version)} |")
    for name in sorted(providers):
        lines.append(f"| {_anchor('requirement', name)} | {_cell(providers[name].get('version', 'n/a'))} |")

    used = {
        rtype.split("_", 1)[0]
        for kind in ("resource", "data")
        for _, block in _blocks(module_dir, kind)
        for rtype in block
    }
    lines += ["", "## Providers", "", "| Name | Version |", "| --- | --- |"]
    for name in sorted(used | set(providers)):
        lines.append(f"| {_anchor('provider', name)} | {_cell(providers.get(name, {}).get('version', 'n/a'))} |")

    modules = [(name, body) for _, block in _blocks(module_dir, "module") for name, body in block.items()]
    lines += ["", "## Modules", ""]
    if modules:
        lines += ["| Name | Source | Version |", "| --- | --- | --- |"]
        lines += [
            f"| {_anchor('module', name)} | {_cell(body.get('source', ''))} | {_cell(body.get('version', 'n/a'))} |"
            for name, body in sorted(modules)
        ]
    else:
        lines.append("No modules.")

    resources = []
    for kind in ("resource", "data"):
        for _, block in _blocks(module_dir, kind):
            for rtype, named in block.items():
                for name in named:
                    prefix = "data." if kind == "data" else ""
                    resources.append((f"{prefix}{rtype}.{name}", rtype, kind))
    lines += ["", "## Resources", "", "| Name | Type |", "| --- | --- |"]
    for address, rtype, kind in sorted(set(resources), key=lambda r: (r[0].removeprefix("data."), r[0])):
        url = _resource_docs_url(providers, rtype, kind == "data")
        lines.append(
            f"| [{address.removeprefix('data.')}]({url}) | {'data source' if kind == 'data' else 'resource'} |"
        )

    variables = _variables(module_dir)
    lines += [
        "",
        "## Inputs",
        "",
        "| Name | Description | Type | Default | Required |",
        "| --- | --- | --- | --- | :---: |",
    ]
    for name in sorted(variables, key=lambda n: (not variables[n].required, n)):
        var = variables[name]
        default = "n/a" if var.required else f"`{_cell(_hcl(var.default))}`"
        lines.append(
            f"| {_anchor('input', name)} | {_cell(var.description)} | `{_cell(var.type)}` | {default} | "
            f"{'yes' if var.required else 'no'} |"
        )

    outputs = {name: body for _, block in _blocks(module_dir, "output") for name, body in block.items()}
    lines += ["", "## Outputs", "", "| Name | Description |", "| --- | --- |"]
    for name in sorted(outputs):
        lines.append(f"| {_anchor('output', name)} | {_cell(outputs[name].get('description', ''))} |")
    return "\n".join(lines) + "\n"


def updated(readme_text: str, section: str) -> str:
    """``readme_text`` with its generated section replaced by ``section``."""
    start, end = readme_text.find(BEGIN), readme_text.find(END)
    if start < 0 or end < start:
        raise ValueError(f"the README has no {BEGIN} … {END} section")
    return readme_text[: start + len(BEGIN)] + "\n" + section + readme_text[end:]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m runbook.publish.tfdocs", description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="exit 1 when the README is stale; change nothing")
    parser.add_argument("--module-dir", type=Path, default=paths.MODULE_DIR)
    args = parser.parse_args(argv)
    readme = args.module_dir / "README.md"
    current = readme.read_text(encoding="utf-8")
    wanted = updated(current, render(args.module_dir))  # a merge conflict inside the section goes with it
    if current == wanted:
        print(f"{readme}: the reference tables are current")
        return 0
    if args.check:
        print(f"{readme}: the reference tables are stale; run: python -m runbook.publish.tfdocs", file=sys.stderr)
        return 1
    readme.write_text(wanted, encoding="utf-8")
    print(f"{readme}: the reference tables rewritten")
    return 0


if __name__ == "__main__":
    sys.exit(main())
