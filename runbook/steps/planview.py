"""02's plan, as a reader takes it in: the review in one compact view, and the table as planned (or applied).

(The review itself, in one compact view, is :meth:`runbook.steps.review.PlanReview.to_markdown`.)

* :func:`table_panel` — the table's settings as Terraform plans them or the state holds them (name, billing,
  capacity or on-demand ceiling, PITR, stream, TTL, class, encryption, deletion protection, the alarms and where
  they notify), read from :class:`runbook.spec.TableSpec` (:func:`runbook.terraform.tfjson.table_spec`) and the alarms'
  own planned values: no module fact is restated here.
"""

from __future__ import annotations

from typing import Any, Iterable

from runbook.markdown import cell as _cell
from runbook.markdown import code as _code
from runbook.terraform.tfjson import PlanJson, table_spec


def _alarm_destinations(resources: Iterable[dict], address: str) -> str:
    """Where an alarm notifies: its planned ``alarm_actions`` (an SNS topic's ARN, or "known after apply")."""
    for resource in resources:
        if resource.get("address") != address:
            continue
        actions = (resource.get("values") or {}).get("alarm_actions")
        if actions is None:
            return "known after apply"
        return ", ".join(str(a) for a in actions) or "none (the alarm notifies nobody)"
    return "not in the plan"


def _on_off(flag: bool, detail: str = "") -> str:
    return ("on" + (f" ({detail})" if detail else "")) if flag else "off"


def table_rows(table: Any, resources: Iterable[dict] = ()) -> list[tuple[str, str]]:
    """``(setting, value)`` rows of :class:`runbook.spec.TableSpec` ``table``; ``resources`` (planned values or
    state, as given to ``table_spec``) add where each alarm notifies."""
    resources = list(resources)
    if table.provisioned:
        capacity = f"{table.read_capacity or 0:,} read / {table.write_capacity or 0:,} write units"
        scaling = table.autoscaling
        if scaling.enabled:
            target = f", target {scaling.target_utilization:g} %" if scaling.target_utilization is not None else ""
            capacity += (
                f"; autoscaling read {scaling.read_min}–{scaling.read_max}, "
                f"write {scaling.write_min}–{scaling.write_max}{target}"
            )
        capacity_row = ("provisioned capacity", capacity)
    else:
        limits = [
            f"{label} {value:,} units/s"
            for label, value in (("read", table.max_read_request_units), ("write", table.max_write_request_units))
            if value
        ]
        capacity_row = ("on-demand ceiling", ", ".join(limits) if limits else "none (no upper bound)")
    keys = _code(table.hash_key) + (f" + {_code(table.range_key)}" if table.range_key else "")
    encryption = {
        "AWS_OWNED": "AWS owned key",
        "AWS_MANAGED": "AWS managed key (aws/dynamodb)",
        "CUSTOMER_MANAGED": "customer managed KMS key",
    }.get(table.encryption, table.encryption)
    if table.kms_key_arn:
        encryption += f" {_code(table.kms_key_arn)}"
    rows = [
        ("name", _code(table.name)),
        ("keys", keys),
        ("billing", table.billing_mode),
        capacity_row,
        (
            "point-in-time recovery",
            _on_off(
                table.pitr_enabled, f"{table.pitr_recovery_period_days} days" if table.pitr_recovery_period_days else ""
            ),
        ),
        ("stream", _on_off(table.stream_enabled, table.stream_view_type or "")),
        (
            "TTL",
            _on_off(
                table.ttl_enabled, f"attribute {_code(table.ttl_attribute_name)}" if table.ttl_attribute_name else ""
            ),
        ),
        ("table class", table.table_class),
        ("encryption", encryption),
        ("deletion protection", _on_off(table.deletion_protection_enabled)),
    ]
    if table.global_secondary_indexes:
        rows.append(("global secondary indexes", ", ".join(_code(i.name) for i in table.global_secondary_indexes)))
    if not table.alarms:
        rows.append(("alarms", "none"))
    for alarm in table.alarms:
        rows.append(
            (
                f"alarm {_code(alarm.name)}",
                f"{', '.join(alarm.metrics) or 'metric math'} {alarm.comparison_operator or ''} "
                f"{alarm.threshold if alarm.threshold is not None else ''} → "
                f"{_alarm_destinations(resources, alarm.address)}".replace("  ", " "),
            )
        )
    return rows


def table_panel(plan: Any, state: str = "planned") -> str:
    """Markdown: "the table as planned" (or applied) from a saved plan's JSON
    (:class:`runbook.terraform.tfjson.PlanJson`
    or the raw ``show -json`` dict): its planned values, or for a plan that deletes the table, its prior state."""
    plan = plan if isinstance(plan, PlanJson) else PlanJson(plan)
    resources = plan.planned_resources()
    table = table_spec(resources)
    if table is None:
        resources = plan.prior_resources()
        table, state = table_spec(resources), "in the state (the plan removes it)"
    if table is None:
        return "No DynamoDB table in this plan or its prior state.\n"
    lines = [f"**The table as {state}** ({_code(table.address)}):", "", "| setting | value |", "| --- | --- |"]
    lines += [f"| {name} | {_cell(value)} |" for name, value in table_rows(table, resources)]
    return "\n".join(lines) + "\n"
