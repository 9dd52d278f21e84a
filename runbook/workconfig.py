"""The working configuration: one tfvars file per environment, read by every step.

Resolution, first match wins:

1. an explicit file (notebook parameter ``tfvars``, CLI ``--tfvars``);
2. ``infrastructure/<env>/terraform.tfvars``: the operator's own, made by the guide's Step 1
   (``cp terraform.tfvars.example terraform.tfvars``; gitignored);
3. the copy 01-setup makes from the example in the work directory (``<work_dir>/<env>/terraform.tfvars``);
   emulator conveniences (the AMI and key pair name swaps) are applied only there.

Terraform reads the resolved file with ``-var-file``; nothing else is auto-loaded (the work-directory copy of the
configuration never holds a ``terraform.tfvars``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from runbook import hcl, paths
from runbook.errors import ConfigurationError, ParameterError

Origin = Literal["parameter", "operator", "generated"]
#: Values of the committed example that only make sense once edited (the guide's Step 2); the modules refuse both at
#: plan (modules/app/variables.tf), the emulator copy 01 makes replaces them.
PLACEHOLDERS = {"ami_id": "ami-xxxxx", "key_name": "your-key-pair"}


@dataclass(frozen=True)
class WorkingTfvars:
    path: Path
    origin: Origin

    @property
    def exists(self) -> bool:
        return self.path.is_file()

    def describe(self) -> str:
        what = {
            "parameter": "given with the tfvars parameter",
            "operator": "the operator's (guide Step 1)",
            "generated": "the work directory's copy of terraform.tfvars.example",
        }[self.origin]
        return f"{self.path} ({what})"


def operator_file(environment: str) -> Path:
    return paths.environment_dir(environment) / "terraform.tfvars"


def example_file(environment: str) -> Path:
    return paths.environment_dir(environment) / "terraform.tfvars.example"


def generated_file(work_base: Path) -> Path:
    """Where 01-setup writes its copy of the example: the environment's work directory, outside the root."""
    return Path(work_base) / "terraform.tfvars"


def resolve(
    environment: str, tfvars: object = "", work_base: Path | None = None, parameter: str = "tfvars"
) -> WorkingTfvars:
    """The working tfvars of ``environment``. An explicit file must exist and parse (errors name ``parameter``)."""
    if not isinstance(tfvars, (str, Path)):
        raise ParameterError(parameter, tfvars, "a tfvars file path, or '' for the environment's working file")
    if str(tfvars):
        path = Path(tfvars).expanduser().resolve()
        check_file(path, parameter)
        return WorkingTfvars(path, "parameter")
    operator = operator_file(environment)
    if operator.is_file():
        return WorkingTfvars(operator, "operator")
    return WorkingTfvars(generated_file(work_base or paths.work_dir(environment)), "generated")


def check_file(path: Path, parameter: str = "tfvars") -> dict:
    """``path`` exists, is a file and is HCL; returns its values (read before Terraform can run)."""
    if path.is_dir():
        raise ParameterError(parameter, str(path), "a tfvars file, not a directory")
    if not path.is_file():
        raise ParameterError(parameter, str(path), "an existing tfvars file")
    return read_values(path)


def read_values(path: Path) -> dict:
    """The assignments of a tfvars file (:func:`runbook.hcl.read`; raises ConfigurationError with the line)."""
    data = hcl.read(path)
    if any(isinstance(v, list) and k in ("resource", "variable", "module", "provider") for k, v in data.items()):
        raise ConfigurationError(path, "holds Terraform blocks: a tfvars file has only name = value assignments")
    return data


def line_of(path: Path, name: str) -> int | None:
    """1-based line where ``name = …`` is assigned in a tfvars file."""
    pattern = re.compile(rf"^\s*{re.escape(name)}\s*=")
    for number, line in enumerate(Path(path).read_text(encoding="utf-8").splitlines(), start=1):
        if pattern.match(line):
            return number
    return None


def placeholders(path: Path) -> list[tuple[str, int | None, str]]:
    """The example's placeholders still in a tfvars file: ``(variable, line, value)``."""
    values = read_values(path)
    return [(name, line_of(path, name), value) for name, value in PLACEHOLDERS.items() if values.get(name) == value]


def check_environment(path: Path, environment: str) -> None:
    """Refuse a tfvars written for another environment (its table name or its ``Environment`` tag says so)."""
    values = read_values(path)
    table = values.get("dynamodb_notifications_table_name")
    tags = values.get("common_tags") if isinstance(values.get("common_tags"), dict) else {}
    for other in (e for e in paths.ENVIRONMENTS if e != environment):
        said = [
            f"{name} = {value!r}"
            for name, value in (
                ("dynamodb_notifications_table_name", table),
                ("common_tags.Environment", tags.get("Environment")),
                ("environment", values.get("environment")),
            )
            if isinstance(value, str) and (value.lower() == other or value.lower().startswith(f"{other}-"))
        ]
        if said:
            variable = said[0].split(" ", 1)[0].split(".")[0]
            raise ConfigurationError(
                path,
                f"written for {other}, not {environment}: {said[0]} "
                f"(pass {other}'s tfvars to {other}, or a {environment} file here)",
                line_of(path, variable),
            )


def missing_error(environment: str, working: WorkingTfvars) -> ConfigurationError:
    """The working tfvars does not exist yet: say how to make one."""
    return ConfigurationError(
        working.path,
        f"missing: run 01-setup for {environment} (it copies "
        f"{example_file(environment).name} there), or create "
        f"{operator_file(environment)} (the guide's Step 1), or pass a tfvars file",
    )


def named_table(environment: str, working: WorkingTfvars) -> str | None:
    """The table name the working tfvars sets (before 01 has copied it: the example it will copy).

    A hint for early checks only (``runbook run``'s emulator confirmation, a typo in ``confirm``); the table
    Terraform plans is the authority, and the gate checks against it.
    """
    source = working.path if working.exists else (example_file(environment) if working.origin == "generated" else None)
    value = read_values(source).get("dynamodb_notifications_table_name") if source else None
    return value if isinstance(value, str) else None
