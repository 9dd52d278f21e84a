"""Reading the configuration's HCL where Terraform cannot help: declared variable names and descriptions
(:func:`runbook.hcl.read`).

Only two uses are allowed (DESIGN.md): the names a tfvars may set, for a "did you mean" before ``init``
(Terraform only warns about an undeclared one), and the documentation tables (``runbook.publish.tfdocs``). Nothing here
decides what the infrastructure is or whether a value is valid: Terraform does (``runbook.steps.preflight``), and what
it plans is read from its JSON (``runbook.terraform.tfjson``). The IAM policy templates are rendered as
``templatefile()``
does for the least-privilege checks of the templates themselves.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from runbook import hcl, paths
from runbook.errors import ConfigurationError, ParameterError

# --- data ------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Variable:
    name: str
    type: str
    default: Any
    description: str
    required: bool
    validations: tuple[dict, ...] = ()


# --- reading HCL -----------------------------------------------------------------------------------------------


def _unwrap(expression: Any) -> Any:
    """``"${x}"`` → ``"x"`` for type expressions and conditions."""
    if isinstance(expression, str) and expression.startswith("${") and expression.endswith("}"):
        return expression[2:-1]
    return expression


def _variables(directory: Path) -> dict[str, Variable]:
    path = directory / "variables.tf"
    result = {}
    for block in hcl.read(path).get("variable", []):
        for name, body in block.items():
            result[name] = Variable(
                name=name,
                type=_unwrap(body.get("type", "any")),
                default=body.get("default"),
                description=body.get("description", ""),
                required="default" not in body,
                validations=tuple(body.get("validation", [])),
            )
    return result


def _check_environment(environment: str) -> Path:
    if environment not in paths.ENVIRONMENTS:
        raise ParameterError("environment", environment, " or ".join(paths.ENVIRONMENTS))
    return paths.environment_dir(environment)


def root_variables(environment: str) -> dict[str, Variable]:
    """The root module's variables of ``environment``: name, type, default, description, required."""
    return _variables(_check_environment(environment))


def module_variables() -> dict[str, Variable]:
    """The DynamoDB module's variables."""
    return _variables(paths.MODULE_DIR)


# --- IAM policy templates ----------------------------------------------------------------------------------------

POLICY_TEMPLATES = {"full-access": "full-access.json.tftpl", "read-only": "read-only.json.tftpl"}
_IF_BLOCK = re.compile(r'%\{ if (\w+) != "" \}(.*?)%\{ endif \}', re.S)
_INTERPOLATION = re.compile(r"\$\{(\w+)\}")


def render_template(path: Path, variables: dict[str, str]) -> str:
    """Render a module template as Terraform's ``templatefile()`` does, for the subset the templates use:
    ``${name}`` interpolation and ``%{ if name != "" } … %{ endif }``. Anything else is refused."""
    text = Path(path).read_text(encoding="utf-8")
    text = _IF_BLOCK.sub(lambda m: m.group(2) if variables[m.group(1)] != "" else "", text)
    if "%{" in text:
        raise ConfigurationError(path, "template directive not supported by render_template")

    def value(match: re.Match) -> str:
        if match.group(1) not in variables:
            raise ConfigurationError(path, f"template variable {match.group(1)!r} is not set")
        return variables[match.group(1)]

    return _INTERPOLATION.sub(value, text)


def policy_documents(variables: dict[str, str]) -> dict[str, dict]:
    """The module's IAM policy documents rendered from the same templates with ``variables``, the values ``iam.tf``
    passes (``table_arns``, ``index_arns``, ``stream_arns``, ``kms_key_arns``, ``dynamodb_services``: each JSON,
    ``""`` for none)."""
    return {
        name: json.loads(render_template(paths.MODULE_DIR / "policies" / file, variables))
        for name, file in POLICY_TEMPLATES.items()
    }
