"""Whether an object a plan would create already exists on the target, looked up with the AWS API of its type
under the identifier the plan gives it (its planned ``name``, ``alarm_name``, ``resource_id``…): what an interrupted
apply created outside the state (:mod:`runbook.terraform.interrupted`).

AWS API knowledge only: the identifiers come from the plan, never from Python. AWS layer: imports
:mod:`runbook.aws.target` and :mod:`runbook.aws.statebucket`.
"""

from __future__ import annotations

import shlex
from typing import Callable

from botocore.exceptions import ClientError

from runbook.aws.statebucket import bucket_exists
from runbook.aws.target import Target


def _missing(error: Exception) -> bool:
    code = getattr(error, "response", {}).get("Error", {}).get("Code", "")
    return code in (
        "ResourceNotFoundException",
        "NoSuchEntity",
        "NoSuchEntityException",
        "NotFoundException",
        "ResourceNotFound",
        "NotFound",
        "404",
        "NoSuchKey",
        "InvalidParameterValue",
    )


def _try(call: Callable[[], object]) -> object | None:

    try:
        return call()
    except ClientError as error:
        if _missing(error):
            return None
        raise


def _table(target: "Target", after: dict) -> tuple[str, str, str] | None:
    name = after.get("name")
    if not name or _try(lambda: target.client("dynamodb").describe_table(TableName=name)) is None:
        return None
    return name, name, f"aws dynamodb delete-table --table-name {shlex.quote(name)}"


def _role(target: "Target", after: dict) -> tuple[str, str, str] | None:
    name = after.get("name")
    if not name or _try(lambda: target.client("iam").get_role(RoleName=name)) is None:
        return None
    return name, name, f"aws iam delete-role --role-name {shlex.quote(name)}  (detach its policies first)"


def _policy(target: "Target", after: dict) -> tuple[str, str, str] | None:
    name, path = after.get("name"), after.get("path") or "/"
    if not name:
        return None
    pages = target.client("iam").get_paginator("list_policies").paginate(Scope="Local", PathPrefix=path)
    arn = next((p["Arn"] for page in pages for p in page["Policies"] if p["PolicyName"] == name), None)
    if arn is None:
        return None
    return name, arn, f"aws iam delete-policy --policy-arn {shlex.quote(arn)}  (detach it first)"


def _instance_profile(target: "Target", after: dict) -> tuple[str, str, str] | None:
    name = after.get("name")
    if not name or _try(lambda: target.client("iam").get_instance_profile(InstanceProfileName=name)) is None:
        return None
    return name, name, f"aws iam delete-instance-profile --instance-profile-name {shlex.quote(name)}"


def _attachment(target: "Target", after: dict) -> tuple[str, str, str] | None:
    role, arn = after.get("role"), after.get("policy_arn")
    if not role or not arn:  # the policy's ARN is known once the policy is in the state: the next plan
        return None
    found = _try(lambda: target.client("iam").list_attached_role_policies(RoleName=role))
    if not found or arn not in [p["PolicyArn"] for p in found["AttachedPolicies"]]:
        return None
    return (
        f"{role} ← {arn}",
        f"{role}/{arn}",
        (f"aws iam detach-role-policy --role-name {shlex.quote(role)} --policy-arn {shlex.quote(arn)}"),
    )


def _alarm(target: "Target", after: dict) -> tuple[str, str, str] | None:
    name = after.get("alarm_name")
    if not name:
        return None
    found = target.client("cloudwatch").describe_alarms(AlarmNames=[name])
    if not (found.get("MetricAlarms") or found.get("CompositeAlarms")):
        return None
    return name, name, f"aws cloudwatch delete-alarms --alarm-names {shlex.quote(name)}"


def _dashboard(target: "Target", after: dict) -> tuple[str, str, str] | None:
    name = after.get("dashboard_name")
    if not name or _try(lambda: target.client("cloudwatch").get_dashboard(DashboardName=name)) is None:
        return None
    return name, name, f"aws cloudwatch delete-dashboards --dashboard-names {shlex.quote(name)}"


def _scaling_key(after: dict) -> tuple[str, str, str] | None:
    values = (after.get("service_namespace"), after.get("resource_id"), after.get("scalable_dimension"))
    return values if all(values) else None  # type: ignore[return-value]


def _scaling_target(target: "Target", after: dict) -> tuple[str, str, str] | None:
    key = _scaling_key(after)
    if key is None:
        return None
    namespace, resource, dimension = key
    found = target.client("application-autoscaling").describe_scalable_targets(
        ServiceNamespace=namespace, ResourceIds=[resource], ScalableDimension=dimension
    )["ScalableTargets"]
    if not found:
        return None
    return (
        f"{resource} {dimension}",
        f"{namespace}/{resource}/{dimension}",
        f"aws application-autoscaling deregister-scalable-target --service-namespace {namespace} "
        f"--resource-id {shlex.quote(resource)} --scalable-dimension {dimension}",
    )


def _scaling_policy(target: "Target", after: dict) -> tuple[str, str, str] | None:
    key, name = _scaling_key(after), after.get("name")
    if key is None or not name:
        return None
    namespace, resource, dimension = key
    found = target.client("application-autoscaling").describe_scaling_policies(
        ServiceNamespace=namespace, ResourceId=resource, ScalableDimension=dimension, PolicyNames=[name]
    )
    if not found["ScalingPolicies"]:
        return None
    return (
        name,
        f"{namespace}/{resource}/{dimension}/{name}",
        f"aws application-autoscaling delete-scaling-policy --service-namespace {namespace} --resource-id "
        f"{shlex.quote(resource)} --scalable-dimension {dimension} --policy-name {shlex.quote(name)}",
    )


def _kms_alias(target: "Target", after: dict) -> tuple[str, str, str] | None:
    name = after.get("name")
    if not name:
        return None
    pages = target.client("kms").get_paginator("list_aliases").paginate()
    if not any(a["AliasName"] == name for page in pages for a in page["Aliases"]):
        return None
    return name, name, f"aws kms delete-alias --alias-name {shlex.quote(name)}"


def _topic(target: "Target", after: dict) -> tuple[str, str, str] | None:
    name = after.get("name")
    if not name:
        return None
    pages = target.client("sns").get_paginator("list_topics").paginate()
    arn = next(
        (t["TopicArn"] for page in pages for t in page["Topics"] if t["TopicArn"].rsplit(":", 1)[-1] == name), None
    )
    if arn is None:
        return None
    return name, arn, f"aws sns delete-topic --topic-arn {shlex.quote(arn)}"


def _instance(target: "Target", after: dict) -> tuple[str, str, str] | None:
    """An instance has no unique name: its ``Name`` tag (from the plan) finds candidates; exactly one is
    importable by its ID, several are listed for removal."""
    name = (after.get("tags") or {}).get("Name")
    if not name:
        return None
    reservations = target.client("ec2").describe_instances(
        Filters=[
            {"Name": "tag:Name", "Values": [name]},
            {"Name": "instance-state-name", "Values": ["pending", "running", "stopping", "stopped"]},
        ]
    )["Reservations"]
    ids = sorted(i["InstanceId"] for r in reservations for i in r["Instances"])
    if not ids:
        return None
    command = f"aws ec2 terminate-instances --instance-ids {' '.join(ids)}"
    return f"Name={name}: {', '.join(ids)}", ids[0] if len(ids) == 1 else "", command


def _bucket(target: "Target", after: dict) -> tuple[str, str, str] | None:
    name = after.get("bucket")
    if not name:
        return None

    if not bucket_exists(target, name):
        return None
    return name, name, f"aws s3 rb s3://{name}  (empty it first)"


#: Per resource type: ``(target, planned values) → (what it is called, import ID or '', removal command)`` when an
#: object with the planned identifier exists, else None. AWS API knowledge only: the identifiers come from the plan.
LOOKUPS: dict[str, Callable[["Target", dict], tuple[str, str, str] | None]] = {
    "aws_dynamodb_table": _table,
    "aws_iam_role": _role,
    "aws_iam_policy": _policy,
    "aws_iam_instance_profile": _instance_profile,
    "aws_iam_role_policy_attachment": _attachment,
    "aws_cloudwatch_metric_alarm": _alarm,
    "aws_cloudwatch_dashboard": _dashboard,
    "aws_appautoscaling_target": _scaling_target,
    "aws_appautoscaling_policy": _scaling_policy,
    "aws_kms_alias": _kms_alias,
    "aws_sns_topic": _topic,
    "aws_instance": _instance,
    "aws_s3_bucket": _bucket,
}
