"""An environment's Terraform configuration, read with python-hcl2: root variables, tfvars, the module call.

:func:`load_environment` resolves what Terraform would: the module's variable defaults, the root's variable
defaults, the tfvars file, and the arguments of ``module "dynamodb"`` in the root ``main.tf``. It returns an
:class:`EnvironmentConfig` whose ``table`` is the :class:`~runbook.spec.TableSpec` the configuration asks for.

:func:`validate_tfvars` checks a tfvars file the way ``terraform plan`` would, before Terraform runs: unknown
variables, wrong types, values the validation blocks reject (the allowed sets of ``contains([...], var.x)``,
``can(regex("...", var.x))`` and numeric bounds are read from ``variables.tf`` itself) and missing required
variables, each with the file and line.
"""

from __future__ import annotations

import difflib
import json
import operator
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import hcl2
from hcl2.utils import SerializationOptions

from . import paths
from .errors import ConfigurationError, ParameterError
from .spec import Alarms, Attribute, Autoscaling, GlobalSecondaryIndex, LocalSecondaryIndex, TableSpec

_OPTIONS = SerializationOptions(with_comments=False, explicit_blocks=False, strip_string_quotes=True,
                                preserve_heredocs=False)
_REFERENCE = re.compile(r"^\$\{(var|local)\.([A-Za-z_][A-Za-z0-9_-]*)\}$")


# --- data ------------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Variable:
    name: str
    type: str
    default: Any
    description: str
    required: bool
    validations: tuple[dict, ...] = ()


@dataclass(frozen=True)
class Problem:
    variable: str
    line: int | None
    message: str


@dataclass(frozen=True)
class EnvironmentConfig:
    environment: str
    root_dir: Path
    tfvars_path: Path
    variables: dict[str, Any]
    module_inputs: dict[str, Any]
    table: TableSpec
    variable_specs: dict[str, Variable] = field(default_factory=dict, repr=False)


# --- reading HCL -----------------------------------------------------------------------------------------------

def _load(path: Path) -> dict:
    try:
        with open(path, encoding="utf-8") as handle:
            return hcl2.load(handle, serialization_options=_OPTIONS)
    except FileNotFoundError:
        raise ConfigurationError(path, "file not found") from None
    except Exception as exc:  # lark's parse errors carry a line
        raise ConfigurationError(path, f"cannot parse: {str(exc).splitlines()[0]}", getattr(exc, "line", None)) from None


def _line_of(path: Path, name: str, block: str | None = None) -> int | None:
    """1-based line where ``name = …`` (or ``block "name"``) is written in ``path``."""
    pattern = re.compile(rf'^\s*{block}\s+"{re.escape(name)}"' if block else rf"^\s*{re.escape(name)}\s*=")
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if pattern.match(line):
            return number
    return None


def _unwrap(expression: Any) -> Any:
    """``"${x}"`` → ``"x"`` for type expressions and conditions."""
    if isinstance(expression, str) and expression.startswith("${") and expression.endswith("}"):
        return expression[2:-1]
    return expression


def _variables(directory: Path) -> dict[str, Variable]:
    path = directory / "variables.tf"
    result = {}
    for block in _load(path).get("variable", []):
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


# --- types: a small reader and converter for Terraform type constraints ------------------------------------------

_TOKEN = re.compile(r'\s*(?:(?P<str>"(?:[^"\\]|\\.)*")|(?P<num>-?\d+(?:\.\d+)?)|(?P<id>[A-Za-z_][A-Za-z0-9_]*)'
                    r"|(?P<p>[(){}\[\],=]))")


class _TypeReader:
    def __init__(self, text: str):
        self.tokens = [m.group(m.lastgroup) for m in _TOKEN.finditer(text)]
        self.pos = 0

    def _next(self) -> str:
        token = self.tokens[self.pos]
        self.pos += 1
        return token

    def _peek(self) -> str | None:
        return self.tokens[self.pos] if self.pos < len(self.tokens) else None

    def _expect(self, token: str) -> None:
        got = self._next()
        if got != token:
            raise ValueError(f"expected {token!r}, got {got!r}")

    def type(self) -> tuple:
        name = self._next()
        if name in ("string", "number", "bool", "any"):
            return (name,)
        self._expect("(")
        if name == "object":
            self._expect("{")
            attributes = {}
            while self._peek() != "}":
                key = self._next()
                self._expect("=")
                if self._peek() == "optional":
                    self._next()
                    self._expect("(")
                    inner = self.type()
                    default = None
                    if self._peek() == ",":
                        self._next()
                        default = self.literal()
                    self._expect(")")
                    attributes[key] = (inner, True, default)
                else:
                    attributes[key] = (self.type(), False, None)
                if self._peek() == ",":
                    self._next()
            self._expect("}")
            result: tuple = ("object", attributes)
        elif name in ("list", "set", "map"):
            result = (name, self.type())
        else:
            raise ValueError(f"unsupported type {name!r}")
        self._expect(")")
        return result

    def literal(self) -> Any:
        token = self._next()
        if token in ("[", "{"):
            close = "]" if token == "[" else "}"
            items = []
            while self._peek() != close:
                items.append(self.literal())
                if self._peek() == ",":
                    self._next()
            self._next()
            return items if token == "[" else {}
        if token.startswith('"'):
            return token[1:-1].replace('\\"', '"').replace("\\\\", "\\")
        if token in ("true", "false"):
            return token == "true"
        if token == "null":
            return None
        return float(token) if "." in token else int(token)


def parse_type(text: str) -> tuple:
    """A Terraform type constraint (``list(object({a = string, b = optional(number, 1)}))``) as nested tuples."""
    return _TypeReader(text).type()


class _Mismatch(ValueError):
    pass


def convert(value: Any, type_: tuple, where: str = "value") -> Any:
    """``value`` converted the way Terraform converts a variable to its type (optional attributes filled in).

    Raises ValueError naming the offending element.
    """
    kind = type_[0]
    if value is None or kind == "any":
        return value
    if kind == "string":
        if isinstance(value, bool):
            return "true" if value else "false"
        if isinstance(value, (str, int, float)):
            return str(value)
        raise _Mismatch(f"{where}: a string is required, got {_describe(value)}")
    if kind == "number":
        if isinstance(value, bool):
            raise _Mismatch(f"{where}: a number is required, got a bool")
        if isinstance(value, (int, float)):
            return value
        if isinstance(value, str):
            try:
                number = float(value)
            except ValueError:
                raise _Mismatch(f"{where}: a number is required, got {value!r}") from None
            return int(number) if number.is_integer() else number
        raise _Mismatch(f"{where}: a number is required, got {_describe(value)}")
    if kind == "bool":
        if isinstance(value, bool):
            return value
        if value in ("true", "false"):
            return value == "true"
        raise _Mismatch(f"{where}: a bool (true or false) is required, got {_describe(value)}")
    if kind in ("list", "set"):
        if not isinstance(value, list):
            raise _Mismatch(f"{where}: a list is required, got {_describe(value)}")
        return [convert(item, type_[1], f"{where}[{index}]") for index, item in enumerate(value)]
    if kind == "map":
        if not isinstance(value, dict):
            raise _Mismatch(f"{where}: a map is required, got {_describe(value)}")
        return {key: convert(item, type_[1], f"{where}[{key!r}]") for key, item in value.items()}
    if kind == "object":
        if not isinstance(value, dict):
            raise _Mismatch(f"{where}: an object is required, got {_describe(value)}")
        attributes = type_[1]
        unknown = sorted(set(value) - set(attributes))
        if unknown:
            raise _Mismatch(f"{where}: unknown attribute {unknown[0]!r} (allowed: {', '.join(attributes)})")
        result = {}
        for key, (inner, optional, default) in attributes.items():
            if key in value:
                result[key] = convert(value[key], inner, f"{where}.{key}")
            elif optional:
                result[key] = convert(default, inner, f"{where}.{key}")
            else:
                raise _Mismatch(f"{where}: attribute {key!r} is required")
        return result
    raise _Mismatch(f"{where}: unsupported type {kind}")


def _describe(value: Any) -> str:
    return {bool: "a bool", str: "a string", int: "a number", float: "a number", list: "a list",
            dict: "a map/object"}.get(type(value), type(value).__name__)


# --- validation blocks -------------------------------------------------------------------------------------------

def _validation_problem(variable: Variable, value: Any) -> str | None:
    """The error message of the first validation block that rejects ``value`` (only simple forms are read)."""
    if value is None:
        return None
    ref = f"var.{variable.name}"
    for block in variable.validations:
        condition = _unwrap(block.get("condition", ""))
        message = block.get("error_message", "value not allowed")
        allowed = re.search(r"contains\(\[(.*?)\],\s*" + re.escape(ref) + r"\)", condition)
        if allowed:
            choices = [m.replace('\\"', '"') for m in re.findall(r'"((?:[^"\\]|\\.)*)"', allowed.group(1))]
            if value not in choices:
                return f"{value!r} is not allowed: {message}"
            continue
        pattern = re.search(r'can\(regex\("((?:[^"\\]|\\.)*)",\s*' + re.escape(ref) + r"\)\)", condition)
        if pattern and isinstance(value, str):
            regex = pattern.group(1).replace('\\"', '"').replace("\\\\", "\\")
            if not re.search(regex, value):
                return f"{value!r} is not allowed: {message}"
            continue
        bounds = re.findall(re.escape(ref) + r"\s*(>=|<=|>|<)\s*(-?\d+(?:\.\d+)?)", condition)
        if bounds and isinstance(value, (int, float)) and not isinstance(value, bool):
            ops = {">=": operator.ge, "<=": operator.le, ">": operator.gt, "<": operator.lt}
            if not all(ops[op](float(value), float(limit)) for op, limit in bounds):
                return f"{value!r} is not allowed: {message}"
    return None


def validate_tfvars(path: Path, environment: str) -> list[Problem]:
    """Problems of a tfvars file for ``environment``'s root variables (empty when Terraform would accept it)."""
    path = Path(path)
    specs = root_variables(environment)
    values = _load(path)
    problems = []
    for name, value in values.items():
        line = _line_of(path, name)
        spec = specs.get(name)
        if spec is None:
            close = difflib.get_close_matches(name, specs, n=1, cutoff=0.8)
            hint = f" (did you mean {', '.join(close)}?)" if close else ""
            problems.append(Problem(name, line, f"unknown variable {name!r}{hint}"))
            continue
        try:
            converted = convert(value, parse_type(spec.type), name)
        except ValueError as exc:
            expected = f" (type {spec.type})" if len(spec.type) <= 40 else ""
            problems.append(Problem(name, line, f"wrong type: {exc}{expected}"))
            continue
        message = _validation_problem(spec, converted)
        if message:
            problems.append(Problem(name, line, message))
    for name, spec in specs.items():
        if spec.required and name not in values:
            problems.append(Problem(name, None, f"required variable {name!r} is not set ({spec.description})"))
    return problems


def check_tfvars(path: Path, environment: str) -> None:
    """Raise ConfigurationError (file and line) for the first problem :func:`validate_tfvars` finds."""
    problems = validate_tfvars(path, environment)
    if problems:
        first = problems[0]
        raise ConfigurationError(path, first.message, first.line)


# --- resolution --------------------------------------------------------------------------------------------------

def _resolve(value: Any, scope: dict[str, dict], path: Path, argument: str) -> Any:
    """A module argument: a literal, or exactly one ``var.x`` / ``local.x`` reference."""
    if isinstance(value, str) and "${" in value:
        match = _REFERENCE.match(value)
        if not match or match.group(2) not in scope[match.group(1)]:
            raise ConfigurationError(path, f"module argument {argument} = {value!r}: only literals and "
                                           "var./local. references can be resolved", _line_of(path, argument))
        return scope[match.group(1)][match.group(2)]
    if isinstance(value, list):
        return [_resolve(item, scope, path, argument) for item in value]
    if isinstance(value, dict):
        return {key: _resolve(item, scope, path, argument) for key, item in value.items()}
    return value


def load_environment(environment: str, tfvars: Path | None = None) -> EnvironmentConfig:
    """Resolve ``environment``'s configuration the way Terraform would, with ``tfvars`` (default: the example)."""
    root = _check_environment(environment)
    tfvars_path = Path(tfvars) if tfvars else root / "terraform.tfvars.example"
    check_tfvars(tfvars_path, environment)

    specs = root_variables(environment)
    given = _load(tfvars_path)
    variables = {name: convert(given.get(name, spec.default), parse_type(spec.type), name)
                 for name, spec in specs.items()}

    main_path = root / "main.tf"
    main = _load(main_path)
    scope: dict[str, dict] = {"var": variables, "local": {}}
    for block in main.get("locals", []):
        for name, value in block.items():
            if not (isinstance(value, str) and "${" in value):
                scope["local"][name] = value
    calls = [block["dynamodb"] for block in main.get("module", []) if "dynamodb" in block]
    if len(calls) != 1:
        raise ConfigurationError(main_path, 'expected exactly one module "dynamodb" block')
    arguments = {name: _resolve(value, scope, main_path, name) for name, value in calls[0].items()
                 if name not in ("source", "providers", "depends_on", "count", "for_each")}

    module_specs = module_variables()
    module_inputs = {}
    for name, spec in module_specs.items():
        if name in arguments:
            try:
                module_inputs[name] = convert(arguments[name], parse_type(spec.type), name)
            except ValueError as exc:
                raise ConfigurationError(main_path, f"module argument {exc}", _line_of(main_path, name)) from None
        elif spec.required:
            raise ConfigurationError(main_path, f"module \"dynamodb\" needs argument {name!r}",
                                     _line_of(main_path, "dynamodb", block="module"))
        else:
            module_inputs[name] = convert(spec.default, parse_type(spec.type), name)
    for name in sorted(set(arguments) - set(module_specs)):
        raise ConfigurationError(main_path, f"module \"dynamodb\" has no variable {name!r}", _line_of(main_path, name))

    default_tags = {}
    for block in main.get("provider", []):
        for tags_block in (block.get("aws") or {}).get("default_tags", []) or []:
            default_tags.update(_resolve(tags_block.get("tags", {}), scope, main_path, "tags") or {})

    table = table_spec(module_inputs, region=variables.get("aws_region", "us-east-1"), default_tags=default_tags)
    return EnvironmentConfig(environment, root, tfvars_path, variables, module_inputs, table, specs)


def table_spec(inputs: dict[str, Any], region: str, default_tags: dict[str, str] | None = None) -> TableSpec:
    """The TableSpec the module builds from its (resolved) inputs; mirrors the module's locals."""
    provisioned = inputs["billing_mode"] == "PROVISIONED"
    attributes = [Attribute(name=inputs["hash_key"], type=inputs["hash_key_type"])]
    if inputs["range_key"] is not None:
        attributes.append(Attribute(name=inputs["range_key"], type=inputs["range_key_type"]))
    attributes += [Attribute(**a) for a in inputs["additional_attributes"]]

    gsis = tuple(
        GlobalSecondaryIndex(
            name=i["name"], hash_key=i["hash_key"], range_key=i["range_key"], projection_type=i["projection_type"],
            non_key_attributes=tuple(i["non_key_attributes"]) if i["projection_type"] == "INCLUDE" else (),
            read_capacity=(i["read_capacity"] or inputs["read_capacity"]) if provisioned else None,
            write_capacity=(i["write_capacity"] or inputs["write_capacity"]) if provisioned else None,
        )
        for i in inputs["global_secondary_indexes"]
    )
    lsis = tuple(
        LocalSecondaryIndex(
            name=i["name"], range_key=i["range_key"], projection_type=i["projection_type"],
            non_key_attributes=tuple(i["non_key_attributes"]) if i["projection_type"] == "INCLUDE" else (),
        )
        for i in inputs["local_secondary_indexes"]
    )
    encryption = inputs["encryption_type"]
    return TableSpec(
        name=inputs["table_name"],
        region=region,
        environment=inputs["environment"],
        billing_mode=inputs["billing_mode"],
        hash_key=inputs["hash_key"],
        range_key=inputs["range_key"],
        attributes=tuple(attributes),
        global_secondary_indexes=gsis,
        local_secondary_indexes=lsis,
        read_capacity=inputs["read_capacity"] if provisioned else None,
        write_capacity=inputs["write_capacity"] if provisioned else None,
        autoscaling=Autoscaling(
            enabled=provisioned and inputs["autoscaling_enabled"],
            read_min=inputs["autoscaling_read_min"], read_max=inputs["autoscaling_read_max"],
            write_min=inputs["autoscaling_write_min"], write_max=inputs["autoscaling_write_max"],
            target_utilization=inputs["autoscaling_target_utilization"],
        ),
        stream_enabled=inputs["stream_enabled"],
        stream_view_type=inputs["stream_view_type"] if inputs["stream_enabled"] else None,
        pitr_enabled=inputs["pitr_enabled"],
        pitr_recovery_period_days=inputs["pitr_recovery_period_days"],
        ttl_enabled=inputs["ttl_enabled"],
        ttl_attribute_name=inputs["ttl_attribute_name"],
        encryption=encryption,
        kms_key_arn=inputs["kms_key_arn"] if encryption == "CUSTOMER_MANAGED" else None,
        table_class=inputs["table_class"],
        deletion_protection_enabled=inputs["deletion_protection_enabled"],
        contributor_insights_enabled=inputs["contributor_insights_enabled"],
        dashboard_enabled=inputs["dashboard_enabled"],
        alarms=Alarms(
            enabled=inputs["alarms_enabled"],
            read_throttle_threshold=inputs["alarm_read_throttle_threshold"],
            write_throttle_threshold=inputs["alarm_write_throttle_threshold"],
            user_errors_threshold=inputs["alarm_user_errors_threshold"],
            system_errors_threshold=inputs["alarm_system_errors_threshold"],
            capacity_utilization_percent=inputs["alarm_capacity_utilization_percent"],
            period_seconds=inputs["alarm_period_seconds"],
            evaluation_periods=inputs["alarm_evaluation_periods"],
            sns_topic_arn=inputs["alarm_sns_topic_arn"],
        ),
        # What the live table shows: the provider's default_tags, then the module's tags, then Name.
        tags={**(default_tags or {}), **inputs["tags"], "Name": inputs["table_name"]},
    )


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


def policy_documents(table_arn: str, region: str, kms_key_arn: str | None = None) -> dict[str, dict]:
    """The module's IAM policy documents for a table, as Terraform renders them (same templates, same variables)."""
    variables = {"table_arn": table_arn, "kms_key_arn": kms_key_arn or "",
                 "dynamodb_service": f"dynamodb.{region}.amazonaws.com"}
    return {name: json.loads(render_template(paths.MODULE_DIR / "policies" / file, variables))
            for name, file in POLICY_TEMPLATES.items()}
