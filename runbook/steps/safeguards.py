"""Production safeguards as troubleshooting findings: the table's alarms in ALARM (or missing), point-in-time
recovery off and deletion protection off in production. Each returns a :class:`~runbook.steps.diagnostics.Finding`.
"""

from __future__ import annotations

from runbook.aws.apierrors import AWS_ERRORS, describe_error
from runbook.aws.discovery import LiveTable
from runbook.aws.target import Target
from runbook.spec import TableSpec
from runbook.steps.diagnostics import Finding, FindingStatus


def throttling_alarms_in_alarm(target: Target, spec: TableSpec) -> Finding:
    """Are the table's alarms (throttling first) in ALARM? Missing alarms are a warning."""
    check = "alarms in ALARM"
    names = spec.alarm_names()
    if not names:
        status: FindingStatus = "warning" if spec.environment == "production" else "ok"
        return Finding(
            check,
            status,
            f"alarms are disabled for {spec.environment} (dynamodb_enable_alarms = false)"
            + ("" if status == "ok" else ": throttling would go unnoticed"),
            "" if status == "ok" else "set dynamodb_enable_alarms = true and terraform apply",
        )
    try:
        alarms = {
            a["AlarmName"]: a
            for page in target.client("cloudwatch").get_paginator("describe_alarms").paginate(AlarmNames=names)
            for a in page.get("MetricAlarms", [])
        }
    except AWS_ERRORS as error:
        return Finding(check, "unavailable", f"could not read alarms: {describe_error(error)}")
    firing = [name for name in names if alarms.get(name, {}).get("StateValue") == "ALARM"]
    missing = [name for name in names if name not in alarms]
    if firing:
        throttled = [
            name for name in firing if any("Throttle" in metric for metric in getattr(spec.alarm(name), "metrics", ()))
        ]
        fix = (
            "throttling: raise capacity or the autoscaling maximum (or use on-demand), and look for hot "
            "partition keys with Contributor Insights"
            if throttled
            else "read the alarm's reason and the table's metrics (06-operations)"
        )
        reasons = "; ".join(f"{name}: {alarms[name].get('StateReason', '')}" for name in firing)
        return Finding(check, "problem", f"{len(firing)} alarm(s) in ALARM — {reasons}", fix)
    if missing:
        return Finding(check, "warning", f"alarms missing: {', '.join(missing)}", "terraform apply")
    states = ", ".join(sorted({alarm["StateValue"] for alarm in alarms.values()}))
    return Finding(check, "ok", f"all {len(names)} alarms exist; none in ALARM (states: {states})")


def pitr_off_in_production(live: LiveTable | None, environment: str) -> Finding:
    check = "PITR off in production"
    if live is None:
        return Finding(check, "unavailable", "the table does not exist")
    if live.pitr_enabled is None:
        return Finding(
            check,
            "unavailable",
            f"continuous backups could not be read: {live.unsupported.get('continuous_backups', 'not read')}",
        )
    if live.pitr_enabled:
        return Finding(check, "ok", f"PITR is on ({live.pitr_recovery_period_days or '?'} days)")
    if environment == "production":
        return Finding(
            check,
            "problem",
            f"PITR is off on the production table {live.name}: no point-in-time restore after a bad write or delete",
            "set dynamodb_pitr_enabled = true in production and terraform apply",
        )
    return Finding(check, "ok", f"PITR is off in {environment} (the guide enables it in production only)")


def deletion_protection_off_in_production(live: LiveTable | None, environment: str) -> Finding:
    check = "deletion protection off in production"
    if live is None:
        return Finding(check, "unavailable", "the table does not exist")
    if live.deletion_protection:
        return Finding(check, "ok", "deletion protection is on")
    if environment == "production":
        return Finding(
            check,
            "problem",
            f"deletion protection is off on the production table {live.name}: one `delete-table` loses everything",
            "set dynamodb_prevent_destroy = true in production and terraform apply",
        )
    return Finding(check, "ok", f"deletion protection is off in {environment} (the guide protects production)")
