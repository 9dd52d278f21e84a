"""Global-table replicas and autoscaling activity, as 04-troubleshooting reports them (reads only).

What Terraform plans (a :class:`~runbook.spec.TableSpec` read from the state or the plan: its ``replicas`` and
``autoscaling``) is compared with what the target says: ``DescribeTable``'s ``Replicas`` (each replica's status)
and Application Auto Scaling's scaling activities and scheduled actions for the table and its indexes.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from runbook.aws.apierrors import AWS_ERRORS, describe_error, error_code, is_unsupported
from runbook.steps.diagnostics import Finding

if TYPE_CHECKING:
    from runbook.aws.target import Target
    from runbook.spec import TableSpec


def replica_status(target: "Target", spec: "TableSpec") -> tuple[Finding, list[dict]]:
    """Each region's replica as planned and as DescribeTable reports it: ``(finding, rows)``."""
    planned = {r.region for r in spec.replicas}
    try:
        table = target.client("dynamodb").describe_table(TableName=spec.name)["Table"]
    except AWS_ERRORS as error:
        if error_code(error) == "ResourceNotFoundException":
            return Finding(
                "global table replicas",
                "unavailable",
                f"table {spec.name} does not exist",
                "run 02-plan-and-apply with apply=True",
            ), []
        return Finding("global table replicas", "unavailable", f"DescribeTable: {describe_error(error)}"), []
    live = {r["RegionName"]: r.get("ReplicaStatus", "") for r in table.get("Replicas") or []}
    rows = [
        {"region": region, "planned": region in planned, "status": live.get(region, "absent")}
        for region in sorted(planned | set(live))
    ]
    missing = sorted(planned - set(live))
    extra = sorted(set(live) - planned)
    not_active = sorted(region for region, status in live.items() if status != "ACTIVE")
    if not planned and not live:
        return Finding("global table replicas", "ok", "no replica planned or live: a single-region table"), rows
    if missing:
        return Finding(
            "global table replicas",
            "problem",
            f"planned but not live: {', '.join(missing)}",
            "run 02-plan-and-apply: its plan adds the missing replicas",
        ), rows
    if extra:
        return Finding(
            "global table replicas",
            "warning",
            f"live but not in the configuration: {', '.join(extra)} (the next apply removes them)",
            "add them to dynamodb_replicas, or let the next apply remove them",
        ), rows
    if not_active:
        return Finding(
            "global table replicas",
            "warning",
            f"not ACTIVE yet: {', '.join(f'{r} ({live[r]})' for r in not_active)}",
            "wait: a new replica is copied from the table before it becomes ACTIVE",
        ), rows
    return Finding(
        "global table replicas",
        "ok",
        f"{len(live)} replica(s) ACTIVE: {', '.join(sorted(live))}"
        + (f" ({table.get('GlobalTableVersion')})" if table.get("GlobalTableVersion") else ""),
    ), rows


def _resource_ids(spec: "TableSpec") -> list[str]:
    return [f"table/{spec.name}"] + [f"table/{spec.name}/index/{i.name}" for i in spec.global_secondary_indexes]


def scaling_activity(target: "Target", spec: "TableSpec", limit: int = 10) -> tuple[Finding, list[dict]]:
    """The latest autoscaling activities and the scheduled actions of the table and its indexes:
    ``(finding, rows)``; ``unavailable`` where the endpoint lacks the API."""
    if not spec.autoscaling.enabled:
        return Finding("autoscaling activity", "ok", "no autoscaling planned (on-demand, or autoscaling off)"), []
    client = target.client("application-autoscaling")
    rows: list[dict] = []
    try:
        for resource_id in _resource_ids(spec):
            for action in client.describe_scheduled_actions(ServiceNamespace="dynamodb", ResourceId=resource_id)[
                "ScheduledActions"
            ]:
                target_action = action.get("ScalableTargetAction") or {}
                rows.append(
                    {
                        "kind": "scheduled",
                        "resource": resource_id,
                        "dimension": action.get("ScalableDimension"),
                        "when": action.get("Schedule"),
                        "what": f"min {target_action.get('MinCapacity', '-')}, "
                        f"max {target_action.get('MaxCapacity', '-')}",
                        "status": "",
                    }
                )
    except AWS_ERRORS as error:
        why = describe_error(error)
        return Finding("autoscaling activity", "unavailable", f"DescribeScheduledActions: {why}"), rows
    try:
        for resource_id in _resource_ids(spec):
            activities = client.describe_scaling_activities(
                ServiceNamespace="dynamodb", ResourceId=resource_id, MaxResults=limit
            )["ScalingActivities"]
            for activity in activities:
                rows.append(
                    {
                        "kind": "activity",
                        "resource": resource_id,
                        "dimension": activity.get("ScalableDimension"),
                        "when": str(activity.get("StartTime")),
                        "what": activity.get("Description", ""),
                        "status": activity.get("StatusCode", ""),
                    }
                )
    except AWS_ERRORS as error:
        why = describe_error(error)
        detail = f"scheduled actions: {len(rows)}; scaling activities unavailable: {why}"
        return Finding("autoscaling activity", "unavailable" if is_unsupported(error) else "warning", detail), rows
    failed = [r for r in rows if r["kind"] == "activity" and r["status"] in ("Failed", "Unfulfilled")]
    scheduled = sum(r["kind"] == "scheduled" for r in rows)
    activities = sum(r["kind"] == "activity" for r in rows)
    if failed:
        return Finding(
            "autoscaling activity",
            "problem",
            f"failed scaling activities: {len(failed)} (latest: {failed[0]['what']})",
            "read the activity's cause; check the table's limits and IAM",
        ), rows
    return Finding(
        "autoscaling activity", "ok", f"recent scaling activities: {activities}; scheduled actions: {scheduled}"
    ), rows
