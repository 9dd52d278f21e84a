"""What an estimate prices: Terraform's plan of the working configuration.

The working tfvars is the one every step uses (:func:`runbook.workconfig.resolve`). Its plan is Terraform's
(:func:`configured_plan`: ``runbook.terraform.planning.configured_plan``, the planned values of that tfvars read by
:func:`runbook.terraform.tfjson.table_spec`). Only a plan says what the module makes of a tfvars (its defaults, how
many alarms it creates, the key schema): where no plan can be made here (no Terraform or AWS provider, no reachable
target) there is no estimate, and :class:`NoPlanToPrice` says why and what to do, instead of a guess from the file.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from runbook import paths, workconfig
from runbook.cost.estimate import describe_configuration
from runbook.cost.render import priced_line
from runbook.errors import ConfigurationError, ParameterError, RunbookError
from runbook.params import environment as check_environment
from runbook.spec import TableSpec
from runbook.terraform.planning import configured_plan as planned
from runbook.terraform.tfjson import PlanJson, table_spec


def configured_plan(
    environment: str, tfvars: Path, work_base: Path, endpoint_url: str = ""
) -> tuple[PlanJson | None, str, str]:
    """Terraform's plan of ``tfvars`` in ``work_base`` (no refresh), its region and a note:
    :func:`runbook.terraform.planning.configured_plan`. ``(None, region, reason)`` when no plan can be made here.

    Kept as this module's name so tests can stand recorded plans in for Terraform.
    """
    return planned(environment, str(tfvars), work_base, endpoint_url)


@dataclass(frozen=True)
class PricedConfiguration:
    """The table an estimate prices and the ``configuration`` object that names it."""

    table: TableSpec
    configuration: dict
    tfvars: workconfig.WorkingTfvars
    #: Terraform's plan the table was read from: its prior state and planned values give the plan's monthly delta
    #: (:func:`runbook.cost.plan_delta`).
    plan: PlanJson
    #: The region the plan targets.
    region: str = ""

    @property
    def source(self) -> str:
        return self.configuration["source"]

    def describe(self) -> str:
        return priced_line(self.configuration)


def working_tfvars(
    environment: str, tfvars: Any = "", work_base: Path | None = None, parameter: str = "tfvars"
) -> tuple[workconfig.WorkingTfvars, Path, str]:
    """The working tfvars (:func:`runbook.workconfig.resolve`), the file to read, and a note.

    A bad explicit file is a :class:`ParameterError` naming ``parameter`` and the file. When the working file does
    not exist yet (01-setup makes it from the example), the committed example is what would be applied: it is read
    instead, and the note says so.
    """
    try:
        working = workconfig.resolve(environment, tfvars, work_base, parameter=parameter)
    except ConfigurationError as error:  # an explicit file that is not HCL: name the option and the file
        raise ParameterError(parameter, error.path, f"a tfvars file of name = value assignments ({error})") from None
    if working.origin != "parameter" and working.exists:
        workconfig.check_file(working.path)  # the operator's or 01's file: ConfigurationError names file and line
    if working.exists:
        workconfig.check_environment(working.path, environment)  # not another environment's file
        return working, working.path, ""
    example = workconfig.example_file(environment)
    return (
        working,
        example,
        (f"{working.path} does not exist yet (01-setup creates it from the example): read {example}"),
    )


def priced_configuration(
    environment: str,
    tfvars: Any = "",
    work_dir: Path | str | None = None,
    endpoint_url: str = "",
    parameter: str = "tfvars",
) -> PricedConfiguration:
    """The working configuration of ``environment`` as Terraform plans it, for the estimate to price.

    ``work_dir``: the environment's work directory (default ``build/work/<env>``). The ``configuration`` object
    names the file, the source (``plan``) and the plan's note. Raises :class:`NoPlanToPrice` where no plan can be
    made here, or the plan has no table.
    """
    check_environment(environment)
    work_base = Path(work_dir).expanduser().resolve() if work_dir else paths.work_dir(environment)
    working, path, note = working_tfvars(environment, tfvars, work_base, parameter)
    planned, region, why = configured_plan(environment, path, work_base, endpoint_url)
    spec = table_spec(planned.planned_resources(), region, environment) if planned else None
    if spec is None:
        raise NoPlanToPrice(
            path, why.removeprefix("no plan: ") if planned is None else f"{why}: it plans no DynamoDB table"
        )
    configuration = describe_configuration(
        spec, source="plan", tfvars=path, origin=working.origin, note="; ".join(n for n in (note, why) if n)
    )
    return PricedConfiguration(spec, configuration, working, planned, region)


class NoPlanToPrice(RunbookError):
    """No estimate: Terraform could not plan the working tfvars here, and only its plan says what to price."""

    def __init__(self, tfvars: Path | str, reason: str):
        self.tfvars = str(tfvars)
        self.reason = reason
        super().__init__(
            f"no cost estimate: Terraform could not plan {tfvars} here ({reason.rstrip('.')}). The estimate prices "
            "Terraform's plan, never the tfvars on its own (the module's defaults and what it creates are "
            "Terraform's): make a plan possible (Terraform with the AWS provider, and credentials or an emulator's "
            "--endpoint-url / aws_endpoint_url), then run it again."
        )
