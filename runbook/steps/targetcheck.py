"""What this configuration needs from an emulator that an emulator may lack, probed before anything changes.

Terraform's AWS provider calls some APIs only for some settings: EC2 ``MonitorInstances`` for an ``aws_instance``
with ``monitoring = true``, Application Auto Scaling's ``ListTagsForResource`` after registering each
``aws_appautoscaling_target``. An emulator that lacks one of them lets the apply start and fails it half-way (stock
moto: HTTP 500, the provider retries, then "XML syntax error", a tainted instance and a partial state).

:func:`check_target` reads the planned resources (``PlanJson.planned_resources()``: what Terraform will create),
works out which of these calls the configuration needs, and probes an emulator for each — with requests that
create nothing (an instance id that does not exist, a scalable-target ARN that does not exist). Real AWS is never
probed: it has every API, and probing it would mean writing to it.

Each answer is a :class:`runbook.checks.Check` that names the call, the setting that needs it, and the fix.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Callable, Iterable

from runbook.aws.apierrors import AWS_ERRORS, describe_error, error_code, is_unsupported, probe_client
from runbook.aws.target import Target
from runbook.checks import Check
from runbook.errors import TargetIncapable

if TYPE_CHECKING:
    from runbook.terraform.tfjson import PlanJson

#: An instance id no emulator or account has: ``MonitorInstances`` on it changes nothing.
PROBE_INSTANCE_ID = "i-00000000000000000"
#: A scalable-target id that does not exist (the ARN's account and region are the target's).
PROBE_SCALABLE_TARGET = "runbook0probe00000000000000000000"
EMULATOR_FIX = "run on the embedded emulator (`runbook emulator`, or `runbook run` / `runbook lab`, which start it)"


@dataclass(frozen=True)
class Need:
    """One API the planned configuration needs from the target, and why."""

    #: Service and operation, as AWS names them: ``EC2 MonitorInstances``.
    call: str
    #: The setting that makes the provider call it, in Terraform's words (resource type and attribute).
    setting: str
    #: The planned resources with that setting.
    addresses: tuple[str, ...]
    #: What to turn off to do without the call for one run.
    turn_off: str
    probe: Callable[[Target], None]


def _probe_monitor_instances(target: Target) -> None:
    probe_client(target, "ec2").monitor_instances(InstanceIds=[PROBE_INSTANCE_ID])


def _probe_autoscaling_tags(target: Target) -> None:
    account = "000000000000"
    try:
        account = probe_client(target, "sts").get_caller_identity()["Account"]
    except AWS_ERRORS:
        pass
    arn = f"arn:aws:application-autoscaling:{target.region}:{account}:scalable-target/{PROBE_SCALABLE_TARGET}"
    probe_client(target, "application-autoscaling").list_tags_for_resource(ResourceARN=arn)


def needs(resources: Iterable[dict]) -> list[Need]:
    """The calls these planned resources need that an emulator may lack (empty when none)."""
    resources = list(resources)
    found: list[Need] = []
    monitored = [
        r["address"]
        for r in resources
        if r.get("type") == "aws_instance" and (r.get("values") or {}).get("monitoring") is True
    ]
    if monitored:
        found.append(
            Need(
                "EC2 MonitorInstances",
                "aws_instance with monitoring = true (detailed monitoring)",
                tuple(monitored),
                "detailed monitoring (monitoring = false on the instance)",
                _probe_monitor_instances,
            )
        )
    targets = [r for r in resources if r.get("type") == "aws_appautoscaling_target"]
    if targets:
        tagged = [r for r in targets if (r.get("values") or {}).get("tags") or (r.get("values") or {}).get("tags_all")]
        setting = "aws_appautoscaling_target (autoscaling)" + (
            f", {len(tagged)} of {len(targets)} with tags" if tagged else ""
        )
        # The provider reads every scalable target's tags after creating it (tags_all), tagged or not.
        found.append(
            Need(
                "Application Auto Scaling ListTagsForResource",
                setting,
                tuple(r["address"] for r in targets),
                "autoscaling (no aws_appautoscaling_target planned)",
                _probe_autoscaling_tags,
            )
        )
    return found


def _answer(need: Need, target: Target) -> tuple[bool, str]:
    """``(supported, what the endpoint answered)``. Any answer but "not implemented" means supported: the probe's
    own resource does not exist, so a not-found error is the expected answer of an endpoint that has the call."""
    try:
        need.probe(target)
    except AWS_ERRORS as error:
        if is_unsupported(error):
            return False, describe_error(error)
        return True, f"answered {error_code(error)} for a resource that does not exist"
    return True, "answered"


def check_target(target: Target, resources: Iterable[dict], configuration: dict | None = None) -> list[Check]:
    """One :class:`Check` per call the planned ``resources`` need, probed on an emulator target.

    ``configuration`` (optional: ``PlanJson.raw["configuration"]``) lets the fix name the root variable behind a
    setting where Terraform's plan ties the two directly (:func:`setting_variables`). Real AWS is not probed: the
    checks then say so and pass.
    """
    resources = list(resources)
    wanted = needs(resources)
    if not wanted:
        return [Check("target capabilities", True, "this configuration needs no API that emulators commonly lack")]
    if not target.is_emulator:
        return [
            Check(f"target: {need.call}", True, f"needed by {need.setting}; real AWS has it (not probed)")
            for need in wanted
        ]
    variables = setting_variables(configuration, resources)
    checks = []
    for need in wanted:
        supported, answer = _answer(need, target)
        where = ", ".join(need.addresses[:3]) + (
            f" and {len(need.addresses) - 3} more" if len(need.addresses) > 3 else ""
        )
        if supported:
            checks.append(
                Check(
                    f"target: {need.call}", True, f"{target.endpoint_url} {answer}; needed by {need.setting} ({where})"
                )
            )
            continue
        names = sorted({variables[a] for a in need.addresses if a in variables})
        turn_off = (
            " or ".join(f"`-var {name}=false`" for name in names) + f" ({need.turn_off})" if names else need.turn_off
        )
        checks.append(
            Check(
                f"target: {need.call}",
                False,
                f"the emulator at {target.endpoint_url} does not implement {need.call} ({answer}), which "
                f"{need.setting} needs: {where}. An apply would fail half-way and leave a partial state.",
                f"{EMULATOR_FIX}; or turn off {turn_off} for this run",
            )
        )
    return checks


def setting_variables(configuration: dict | None, resources: Iterable[dict]) -> dict[str, str]:
    """``{address: root variable}`` for planned resources whose needing attribute Terraform's plan ``configuration``
    ties to a root variable: directly (``monitoring = var.instance_detailed_monitoring``) or through module calls
    whose argument is one variable (``module.app``: ``detailed_monitoring = var.instance_detailed_monitoring``).

    Read from ``terraform show -json``'s ``configuration`` (expressions and their references); a value computed
    through locals or functions is not followed.
    """
    attributes = {"aws_instance": "monitoring"}
    found: dict[str, str] = {}
    for resource in resources:
        attribute = attributes.get(resource.get("type", ""))
        if not attribute:
            continue
        variable = _root_variable(configuration, resource["address"], attribute)
        if variable:
            found[resource["address"]] = variable
    return found


def _single_variable(expression: dict | None) -> str | None:
    references = [ref for ref in (expression or {}).get("references", []) if ref.startswith("var.")]
    return references[0].removeprefix("var.") if len(set(references)) == 1 else None


def _root_variable(configuration: dict | None, address: str, attribute: str) -> str | None:
    """The root variable an attribute of ``address`` comes from, following one-variable module arguments up."""
    parts = re.sub(r"\[[^\]]*\]", "", address).split(".")
    calls = []
    module = (configuration or {}).get("root_module") or {}
    while len(parts) > 2 and parts[0] == "module":
        calls.append((module, parts[1]))
        module = ((module.get("module_calls") or {}).get(parts[1]) or {}).get("module") or {}
        parts = parts[2:]
    resource = next((r for r in module.get("resources", []) if r.get("address") == ".".join(parts)), None)
    variable = _single_variable(((resource or {}).get("expressions") or {}).get(attribute))
    for parent, call in reversed(calls):
        if variable is None:
            return None
        argument = (((parent.get("module_calls") or {}).get(call) or {}).get("expressions") or {}).get(variable)
        variable = _single_variable(argument)
    return variable


def check_plan(target: Target, plan: "PlanJson") -> list[Check]:
    """:func:`check_target` for a saved plan's JSON (its planned resources and configuration)."""
    return check_target(target, plan.planned_resources(), plan.raw.get("configuration"))


def require(checks: Iterable[Check]) -> None:
    """Stop before anything changes when the target lacks a call the plan needs (each named, with its fix)."""
    missing = [c for c in checks if not c.ok]
    if missing:
        raise TargetIncapable(" ".join(f"{c.detail} Fix: {c.fix}." for c in missing))
