"""What an estimate prices: the working configuration's plan, or — where no plan can be made — its tfvars.

The working tfvars is the one every step uses (:func:`runbook.workconfig.resolve`). Its plan is Terraform's
(:func:`configured_table`: ``runbook.terraform.planning.configured_table``, the planned values of that tfvars read by
:func:`runbook.terraform.tfjson.table_spec`). Without Terraform or a target, :func:`table_from_tfvars` prices the tfvars
as written: only the values the file sets, under the root's variable names; whatever only a plan can tell (a
default the file leaves to the configuration, how many alarms the module creates) is listed as not priced or
assumed, never guessed silently.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from runbook import paths, workconfig
from runbook.cost.estimate import describe_configuration
from runbook.cost.render import priced_line
from runbook.errors import ConfigurationError, ParameterError
from runbook.params import environment as check_environment
from runbook.spec import Autoscaling, GlobalSecondaryIndex, TableSpec
from runbook.terraform.planning import configured_plan as planned
from runbook.terraform.tfjson import PlanJson, table_spec


def configured_table(environment: str, tfvars: Path, work_base: Path,
                     endpoint_url: str = "") -> tuple[TableSpec | None, str]:
    """The table Terraform plans for ``tfvars`` in the environment's work directory ``work_base`` (no refresh):
    :func:`configured_plan`'s planned values. ``(None, reason)`` when no plan can be made here."""
    plan, region, note = configured_plan(environment, tfvars, work_base, endpoint_url)
    return (table_spec(plan.planned_resources(), region, environment) if plan else None), note


def configured_plan(environment: str, tfvars: Path, work_base: Path,
                    endpoint_url: str = "") -> tuple[PlanJson | None, str, str]:
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
    #: Terraform's plan the table was read from (``None`` when priced from the tfvars): its prior state and planned
    #: values give the plan's monthly delta (:func:`runbook.cost.plan_delta`).
    plan: PlanJson | None = None
    #: The region the plan targets.
    region: str = ""

    @property
    def source(self) -> str:
        return self.configuration["source"]

    def describe(self) -> str:

        return priced_line(self.configuration)


def working_tfvars(environment: str, tfvars: Any = "", work_base: Path | None = None,
                   parameter: str = "tfvars") -> tuple[workconfig.WorkingTfvars, Path, str]:
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
    return working, example, (f"{working.path} does not exist yet (01-setup creates it from the example): "
                              f"read {example}")


def _get(values: dict, name: str, assumed: list[str], default: Any, why: str = "") -> Any:
    if name in values and values[name] is not None:
        return values[name]
    assumed.append(f"{name} not set in the tfvars: priced as {default!r}{why} (a plan would apply the "
                   "configuration's default)")
    return default


def _ceiling(block: Any) -> tuple[int | None, int | None]:
    block = block if isinstance(block, dict) else {}
    return block.get("max_read_request_units"), block.get("max_write_request_units")


def table_from_tfvars(environment: str, path: Path) -> tuple[TableSpec, list[str]]:
    """The table as the tfvars file writes it (no Terraform), and what could not be priced from it."""
    values = workconfig.check_file(Path(path))
    missing: list[str] = []
    billing_mode = _get(values, "dynamodb_billing_mode", missing, "PAY_PER_REQUEST")
    provisioned = billing_mode == "PROVISIONED"
    scaling = Autoscaling()
    if provisioned and values.get("dynamodb_autoscaling_enabled"):
        scaling = Autoscaling(enabled=True, read_min=values.get("dynamodb_autoscaling_read_min"),
                              read_max=values.get("dynamodb_autoscaling_read_max"),
                              write_min=values.get("dynamodb_autoscaling_write_min"),
                              write_max=values.get("dynamodb_autoscaling_write_max"),
                              target_utilization=values.get("dynamodb_autoscaling_target_utilization"))
    table_read, table_write = _ceiling(values.get("dynamodb_on_demand_throughput"))
    indexes = []
    for index in values.get("dynamodb_global_secondary_indexes") or []:
        read, write = _ceiling(index.get("on_demand_throughput"))
        indexes.append(GlobalSecondaryIndex(
            name=index.get("name", ""), hash_key=index.get("hash_key", ""), range_key=index.get("range_key"),
            read_capacity=index.get("read_capacity") if provisioned else None,
            write_capacity=index.get("write_capacity") if provisioned else None,
            max_read_request_units=None if provisioned else read,
            max_write_request_units=None if provisioned else write))
    if provisioned:
        for name in ("dynamodb_read_capacity", "dynamodb_write_capacity"):
            if name not in values and not scaling.enabled:
                missing.append(f"{name} not set in the tfvars: capacity sized for the usage profile's load")
    pitr = bool(_get(values, "dynamodb_pitr_enabled", missing, False))
    streams = bool(_get(values, "dynamodb_stream_enabled", missing, False))
    dashboard = bool(_get(values, "dynamodb_dashboard_enabled", missing, False))
    insights = bool(values.get("dynamodb_contributor_insights_enabled"))
    if _get(values, "dynamodb_enable_alarms", missing, False):
        missing.append("alarms: dynamodb_enable_alarms = true, but how many alarms the module creates is known "
                       "only from a plan")
    if insights:
        missing.append("contributor insights rules assume a table without a sort key (the key schema comes "
                       "from the plan)")
    spec = TableSpec(
        name=values.get("dynamodb_notifications_table_name") or "", environment=environment,
        billing_mode=billing_mode, hash_key="",
        read_capacity=values.get("dynamodb_read_capacity") if provisioned else None,
        write_capacity=values.get("dynamodb_write_capacity") if provisioned else None,
        max_read_request_units=None if provisioned else table_read,
        max_write_request_units=None if provisioned else table_write,
        autoscaling=scaling, global_secondary_indexes=tuple(indexes), stream_enabled=streams, pitr_enabled=pitr,
        table_class=values.get("dynamodb_table_class") or "STANDARD", dashboard_enabled=dashboard,
        contributor_insights_enabled=insights)
    return spec, missing


def priced_configuration(environment: str, tfvars: Any = "", work_dir: Path | str | None = None,
                         endpoint_url: str = "", parameter: str = "tfvars", plan: bool = True) -> PricedConfiguration:
    """The working configuration of ``environment`` as the estimate should price it.

    ``work_dir``: the environment's work directory (default ``build/work/<env>``). With ``plan`` (the default) the
    table is Terraform's plan (:func:`configured_table`); where no plan can be made, the tfvars as written. The
    ``configuration`` object names the file, the source (``plan`` or ``tfvars``) and why.
    """
    check_environment(environment)
    work_base = Path(work_dir).expanduser().resolve() if work_dir else paths.work_dir(environment)
    working, path, note = working_tfvars(environment, tfvars, work_base, parameter)
    planned, region, why = (configured_plan(environment, path, work_base, endpoint_url) if plan
                            else (None, "", "no plan: not asked for (plan=False)"))
    spec = table_spec(planned.planned_resources(), region, environment) if planned else None
    if spec is not None:
        configuration = describe_configuration(spec, source="plan", tfvars=path, origin=working.origin,
                                               note="; ".join(n for n in (note, why) if n))
        return PricedConfiguration(spec, configuration, working, planned, region)
    why = why if planned is None else f"{why}: it plans no table"
    spec, not_priced = table_from_tfvars(environment, path)
    configuration = describe_configuration(
        spec, source="tfvars", tfvars=path, origin=working.origin,
        note="; ".join(n for n in (note, why or "no plan") if n), not_priced=tuple(not_priced))
    return PricedConfiguration(spec, configuration, working)
