"""Provisioning the table with boto3 when Terraform cannot run — on an emulator only.

Real infrastructure changes only through Terraform: :func:`provision` and :func:`deprovision` raise
:class:`~runbook.errors.RealAwsRefused` for a target without an endpoint, before any AWS call.

:func:`provision` makes the live table match a :class:`~runbook.spec.TableSpec` the way the Terraform module does:
the table (keys, billing mode, GSIs/LSIs, stream, SSE, table class, deletion protection, tags), TTL, PITR,
target-tracking autoscaling and CloudWatch alarms. It is idempotent: it reads first and changes only what differs,
so a second call returns no actions.

Names and definitions of the derived resources are the Terraform module's (``infrastructure/staging/modules/
dynamodb``), so a table provisioned here looks like one Terraform created:

* scalable targets: ``table/<table>`` and ``table/<table>/index/<index>`` with the ``dynamodb:table:*`` /
  ``dynamodb:index:*`` capacity dimensions (``autoscaling.tf``);
* target-tracking policies: ``<predefined metric>:<resource id>``, e.g.
  ``DynamoDBReadCapacityUtilization:table/<table>`` (the name the AWS console gives them, too);
* alarms: :meth:`TableSpec.alarm_names`, defined in :func:`expected_alarms` as in ``alarms.tf``;
* the customer managed key (``CUSTOMER_MANAGED`` without a key ARN): alias ``alias/dynamodb/<table>``, rotation on;
* tags: the spec's tags plus ``Name = <table>``, as the module merges them.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from .aws import Target
from .discovery import (AWS_ERRORS, LiveTable, describe_error, describe_table, is_unsupported, probe,
                        table_description)
from .errors import RealAwsRefused, RunbookError
from .spec import TableSpec

NAMESPACE = "AWS/DynamoDB"
#: Operations whose SystemErrors the ``<table>-system-errors`` alarm sums (a metric-math alarm allows 10 metrics):
#: DynamoDB publishes SystemErrors per TableName *and* Operation, so an alarm on TableName alone would see no data.
SYSTEM_ERROR_OPERATIONS = ("GetItem", "PutItem", "UpdateItem", "DeleteItem", "Query", "Scan",
                           "BatchGetItem", "BatchWriteItem", "TransactWriteItems")


class ProvisionResult(list):
    """The actions taken (a ``list[str]``; empty when nothing changed) plus ``skipped``: what the endpoint
    could not do (e.g. Contributor Insights on moto), said plainly."""

    def __init__(self, actions=(), skipped=()):
        super().__init__(actions)
        self.skipped: list[str] = list(skipped)


# -- desired derived resources (shared with the drift report) ----------------------------------------------------
@dataclass(frozen=True)
class ScalingPlan:
    """One autoscaled dimension: a scalable target and its target-tracking policy."""

    resource_id: str
    dimension: str
    min_capacity: int
    max_capacity: int
    policy_name: str
    metric_type: str
    target_value: float
    label: str


def scaling_plan(spec: TableSpec) -> list[ScalingPlan]:
    """The scalable targets and policies the spec asks for (empty unless PROVISIONED with autoscaling on)."""
    if not (spec.provisioned and spec.autoscaling.enabled):
        return []
    scaling = spec.autoscaling
    resources = [(f"table/{spec.name}", "table", "table")]
    resources += [(f"table/{spec.name}/index/{gsi.name}", "index", f"index {gsi.name}")
                  for gsi in spec.global_secondary_indexes]
    plan = []
    for resource_id, kind, label in resources:
        for mode, low, high, metric in (("read", scaling.read_min, scaling.read_max, "Read"),
                                        ("write", scaling.write_min, scaling.write_max, "Write")):
            plan.append(ScalingPlan(
                resource_id=resource_id, dimension=f"dynamodb:{kind}:{metric}CapacityUnits",
                min_capacity=low, max_capacity=high, policy_name=f"DynamoDB{metric}CapacityUtilization:{resource_id}",
                metric_type=f"DynamoDB{metric}CapacityUtilization", target_value=float(scaling.target_utilization),
                label=f"{label} {mode}"))
    return plan


def table_tags(spec: TableSpec) -> dict[str, str]:
    """The tags the module puts on the table: the spec's, plus ``Name``."""
    return {**spec.tags, "Name": spec.name}


def expected_alarms(spec: TableSpec) -> dict[str, dict]:
    """``{alarm name: put_metric_alarm arguments}`` for the spec's alarms, as the module's ``alarms.tf`` defines
    them, with the seed's thresholds."""
    alarms = spec.alarms
    if not alarms.enabled:
        return {}
    period, evaluations = alarms.period_seconds, alarms.evaluation_periods
    table_dimension = [{"Name": "TableName", "Value": spec.name}]
    actions = [alarms.sns_topic_arn] if alarms.sns_topic_arn else []
    common = {"ComparisonOperator": "GreaterThanThreshold", "EvaluationPeriods": evaluations,
              "TreatMissingData": "notBreaching", "AlarmActions": actions, "OKActions": actions,
              "Tags": [{"Key": key, "Value": value} for key, value in table_tags(spec).items()]}

    def simple(metric: str, threshold: float, description: str, dimensions=table_dimension) -> dict:
        return {**common, "MetricName": metric, "Namespace": NAMESPACE, "Statistic": "Sum", "Period": period,
                "Dimensions": dimensions, "Threshold": float(threshold), "AlarmDescription": description}

    def metric(query_id: str, name: str, stat: str, dimensions: list[dict]) -> dict:
        return {"Id": query_id, "ReturnData": False, "MetricStat": {
            "Metric": {"Namespace": NAMESPACE, "MetricName": name, "Dimensions": dimensions},
            "Period": period, "Stat": stat}}

    names = spec.alarm_names()
    operations = [f"op{i}" for i in range(len(SYSTEM_ERROR_OPERATIONS))]
    result = {
        names[0]: simple("ReadThrottleEvents", alarms.read_throttle_threshold,
                         f"Read requests to {spec.name} throttled (over provisioned capacity or partition limits)."),
        names[1]: simple("WriteThrottleEvents", alarms.write_throttle_threshold,
                         f"Write requests to {spec.name} throttled (over provisioned capacity or partition limits)."),
        # DynamoDB publishes UserErrors for the account and region only, without a TableName dimension.
        names[2]: simple("UserErrors", alarms.user_errors_threshold,
                         f"Client-side errors (validation, authorisation, conditional) in this account and region, "
                         f"watched for {spec.name}.", dimensions=[]),
        # SystemErrors are published per TableName and Operation: the alarm sums the operations the app uses.
        names[3]: {
            **common, "Threshold": float(alarms.system_errors_threshold),
            "AlarmDescription": f"Server-side errors (HTTP 500s) on {spec.name}, summed over its operations.",
            "Metrics": [{"Id": "errors", "Expression": f"SUM([{','.join(operations)}])", "Label": "SystemErrors",
                         "ReturnData": True}] + [
                metric(query_id, "SystemErrors", "Sum", table_dimension + [{"Name": "Operation", "Value": op}])
                for query_id, op in zip(operations, SYSTEM_ERROR_OPERATIONS)],
        },
    }
    if spec.provisioned:
        # Consumed capacity as a percentage of provisioned capacity: right while the autoscaler moves capacity.
        for name, mode in ((names[4], "Read"), (names[5], "Write")):
            result[name] = {
                **common, "Threshold": float(alarms.capacity_utilization_percent),
                "AlarmDescription": f"Consumed {mode.lower()} capacity of {spec.name} above "
                                    f"{alarms.capacity_utilization_percent:g}% of provisioned.",
                "Metrics": [
                    {"Id": "utilization", "Expression": "100 * (consumed / PERIOD(consumed)) / provisioned",
                     "Label": f"{mode}CapacityUtilization", "ReturnData": True},
                    metric("consumed", f"Consumed{mode}CapacityUnits", "Sum", table_dimension),
                    metric("provisioned", f"Provisioned{mode}CapacityUnits", "Average", table_dimension)],
            }
    return result


def alarm_metric_names(alarm: dict) -> set[str]:
    """The metric names an alarm (simple or metric math) watches."""
    if alarm.get("MetricName"):
        return {alarm["MetricName"]}
    return {m["MetricStat"]["Metric"]["MetricName"] for m in alarm.get("Metrics") or [] if m.get("MetricStat")}


def module_alarm_names(spec: TableSpec) -> list[str]:
    """Every alarm name the module could create for this table (whatever ``alarms.enabled`` says)."""
    suffixes = ("read-throttle-events", "write-throttle-events", "user-errors", "system-errors",
                "consumed-read-capacity", "consumed-write-capacity")
    return [f"{spec.name}-{suffix}" for suffix in suffixes]


def encryption_status(spec: TableSpec, live: LiveTable, kms_key_arn: str | None = None) -> str:
    """``ok``, ``drifted`` or ``unknown`` (a KMS key whose manager could not be read) for the table's SSE."""
    wanted_key = spec.kms_key_arn or kms_key_arn
    actual = live.encryption
    if spec.encryption == "AWS_OWNED" or actual == "AWS_OWNED":
        return "ok" if actual == spec.encryption else "drifted"
    if actual == "KMS":
        return "unknown"
    if actual != spec.encryption:
        return "drifted"
    if spec.encryption == "CUSTOMER_MANAGED" and wanted_key and live.kms_key_arn != wanted_key:
        return "drifted"
    return "ok"


# -- request builders --------------------------------------------------------------------------------------------
def _projection(index) -> dict:
    projection = {"ProjectionType": index.projection_type}
    if index.projection_type == "INCLUDE" and index.non_key_attributes:
        projection["NonKeyAttributes"] = list(index.non_key_attributes)
    return projection


def _key_schema(hash_key: str, range_key: str | None) -> list[dict]:
    keys = [{"AttributeName": hash_key, "KeyType": "HASH"}]
    if range_key:
        keys.append({"AttributeName": range_key, "KeyType": "RANGE"})
    return keys


def _table_throughput(spec: TableSpec) -> dict:
    if spec.autoscaling.enabled:
        read = spec.read_capacity or spec.autoscaling.read_min
        write = spec.write_capacity or spec.autoscaling.write_min
    else:
        read, write = spec.read_capacity or 5, spec.write_capacity or 5
    return {"ReadCapacityUnits": read, "WriteCapacityUnits": write}


def _gsi_throughput(spec: TableSpec, gsi) -> dict:
    table = _table_throughput(spec)
    return {"ReadCapacityUnits": gsi.read_capacity or table["ReadCapacityUnits"],
            "WriteCapacityUnits": gsi.write_capacity or table["WriteCapacityUnits"]}


def _gsi_definition(spec: TableSpec, gsi) -> dict:
    definition = {"IndexName": gsi.name, "KeySchema": _key_schema(gsi.hash_key, gsi.range_key),
                  "Projection": _projection(gsi)}
    if spec.provisioned:
        definition["ProvisionedThroughput"] = _gsi_throughput(spec, gsi)
    return definition


def sse_specification(spec: TableSpec, kms_key_arn: str | None = None) -> dict:
    if spec.encryption == "AWS_OWNED":
        return {"Enabled": False}
    sse = {"Enabled": True, "SSEType": "KMS"}
    if spec.encryption == "CUSTOMER_MANAGED":
        sse["KMSMasterKeyId"] = spec.kms_key_arn or kms_key_arn
    return sse


def create_table_arguments(spec: TableSpec, kms_key_arn: str | None = None) -> dict:
    """The ``CreateTable`` request for ``spec``."""
    args: dict = {
        "TableName": spec.name,
        "AttributeDefinitions": [{"AttributeName": a.name, "AttributeType": a.type} for a in spec.attributes],
        "KeySchema": _key_schema(spec.hash_key, spec.range_key),
        "BillingMode": spec.billing_mode,
        "TableClass": spec.table_class,
        "DeletionProtectionEnabled": spec.deletion_protection_enabled,
        "SSESpecification": sse_specification(spec, kms_key_arn),
    }
    if spec.provisioned:
        args["ProvisionedThroughput"] = _table_throughput(spec)
    if spec.global_secondary_indexes:
        args["GlobalSecondaryIndexes"] = [_gsi_definition(spec, g) for g in spec.global_secondary_indexes]
    if spec.local_secondary_indexes:
        args["LocalSecondaryIndexes"] = [
            {"IndexName": lsi.name, "KeySchema": _key_schema(spec.hash_key, lsi.range_key),
             "Projection": _projection(lsi)} for lsi in spec.local_secondary_indexes]
    if spec.stream_enabled:
        args["StreamSpecification"] = {"StreamEnabled": True,
                                       "StreamViewType": spec.stream_view_type or "NEW_AND_OLD_IMAGES"}
    args["Tags"] = [{"Key": key, "Value": value} for key, value in table_tags(spec).items()]
    return args


# -- waiting ------------------------------------------------------------------------------------------------------
def wait_for_table(target: Target, name: str, timeout: float = 600, gone: bool = False) -> None:
    """Poll until the table (and its indexes) are ACTIVE, or until it is gone (``gone=True``)."""
    dynamodb = target.client("dynamodb")
    interval = 0.1 if target.is_emulator else 5.0
    deadline = time.monotonic() + timeout
    while True:
        table = table_description(dynamodb, name)
        if table is None and gone:
            return
        if table is not None and not gone and table.get("TableStatus") == "ACTIVE" and all(
                index.get("IndexStatus", "ACTIVE") == "ACTIVE" for index in table.get("GlobalSecondaryIndexes") or []):
            return
        if time.monotonic() > deadline:
            state = "deleted" if gone else "ACTIVE"
            raise RunbookError(f"table {name} did not become {state} within {timeout:.0f} s")
        time.sleep(interval)


# -- provision ----------------------------------------------------------------------------------------------------
def _refuse_real_aws(target: Target, what: str) -> None:
    if not target.is_emulator:
        raise RealAwsRefused(
            f"{what} with boto3 is for emulators only; real infrastructure changes only through Terraform "
            "(run notebook 02-plan-and-apply with apply=True, or `terraform apply`)")


def provision(spec: TableSpec, target: Target) -> ProvisionResult:
    """Create or update the table and its settings from ``spec`` on an emulator. Returns the actions taken.

    Raises :class:`RealAwsRefused` (before any AWS call) when ``target`` is real AWS.
    """
    _refuse_real_aws(target, "provisioning")
    result = ProvisionResult()
    dynamodb = target.client("dynamodb")
    live = describe_table(target, spec.name, include=("ttl", "continuous_backups", "tags", "kms"))
    kms_key_arn = _ensure_kms_key(spec, target, result) if spec.encryption == "CUSTOMER_MANAGED" else None

    if live is None:
        dynamodb.create_table(**create_table_arguments(spec, kms_key_arn))
        result.append(f"created table {spec.name} ({spec.billing_mode}, keys {spec.hash_key}"
                      f"{' + ' + spec.range_key if spec.range_key else ''}, "
                      f"{len(spec.global_secondary_indexes)} GSI, {len(spec.local_secondary_indexes)} LSI)")
        wait_for_table(target, spec.name)
        live = describe_table(target, spec.name, include=("ttl", "continuous_backups", "tags", "kms"))
        assert live is not None
    else:
        _update_table(spec, target, live, kms_key_arn, result)
        live = describe_table(target, spec.name, include=("ttl", "continuous_backups", "tags", "kms"))
        assert live is not None

    _sync_tags(spec, dynamodb, live, result)
    _sync_ttl(spec, dynamodb, live, result)
    _sync_pitr(spec, dynamodb, live, result)
    _sync_autoscaling(spec, target, result)
    _sync_alarms(spec, target, result)
    _sync_contributor_insights(spec, target, result)
    return result


def _ensure_kms_key(spec: TableSpec, target: Target, result: ProvisionResult) -> str | None:
    """The customer key: the given ARN, or a key the module creates (with rotation) named ``alias/<table>``."""
    if spec.kms_key_arn:
        return spec.kms_key_arn
    kms = target.client("kms")
    alias = f"alias/dynamodb/{spec.name.replace('.', '-')}"
    for page in kms.get_paginator("list_aliases").paginate():
        for item in page.get("Aliases", []):
            if item["AliasName"] == alias and item.get("TargetKeyId"):
                return kms.describe_key(KeyId=item["TargetKeyId"])["KeyMetadata"]["Arn"]
    key = kms.create_key(Description=f"Encryption at rest of the DynamoDB table {spec.name}",
                         Tags=[{"TagKey": k, "TagValue": v} for k, v in table_tags(spec).items()])["KeyMetadata"]
    kms.enable_key_rotation(KeyId=key["KeyId"])
    kms.create_alias(AliasName=alias, TargetKeyId=key["KeyId"])
    result.append(f"created KMS key {alias} (rotation enabled)")
    return key["Arn"]


def _update_table(spec: TableSpec, target: Target, live: LiveTable, kms_key_arn: str | None,
                  result: ProvisionResult) -> None:
    dynamodb = target.client("dynamodb")
    name = spec.name

    def update(description: str, **kwargs) -> None:
        dynamodb.update_table(TableName=name, **kwargs)
        result.append(description)
        wait_for_table(target, name)

    wanted_keys = {"hash_key": spec.hash_key, "range_key": spec.range_key}
    if live.key_schema != wanted_keys:
        raise RunbookError(f"table {name} has keys {live.key_schema}, the configuration wants {wanted_keys}: "
                           "keys cannot change in place; deprovision the emulator table and provision again")
    wanted_lsis = {lsi.name for lsi in spec.local_secondary_indexes}
    if set(live.local_secondary_indexes) != wanted_lsis:
        raise RunbookError(f"table {name} has LSIs {sorted(live.local_secondary_indexes)}, the configuration wants "
                           f"{sorted(wanted_lsis)}: LSIs cannot change in place; deprovision and provision again")

    autoscaled = spec.provisioned and spec.autoscaling.enabled
    if live.billing_mode != spec.billing_mode:
        kwargs: dict = {"BillingMode": spec.billing_mode}
        if spec.provisioned:
            kwargs["ProvisionedThroughput"] = _table_throughput(spec)
            existing = [g for g in spec.global_secondary_indexes if g.name in live.global_secondary_indexes]
            if existing:
                kwargs["GlobalSecondaryIndexUpdates"] = [
                    {"Update": {"IndexName": g.name, "ProvisionedThroughput": _gsi_throughput(spec, g)}}
                    for g in existing]
        update(f"changed billing mode {live.billing_mode} → {spec.billing_mode}", **kwargs)
    elif spec.provisioned and not autoscaled:
        wanted = _table_throughput(spec)
        if (live.read_capacity, live.write_capacity) != (wanted["ReadCapacityUnits"], wanted["WriteCapacityUnits"]):
            update(f"changed capacity to {wanted['ReadCapacityUnits']} RCU / {wanted['WriteCapacityUnits']} WCU",
                   ProvisionedThroughput=wanted)

    # GSIs: delete extra or changed ones, create missing ones, adjust fixed capacity.
    wanted_gsis = {g.name: g for g in spec.global_secondary_indexes}
    live_gsis = dict(live.global_secondary_indexes)
    for index_name, index in live_gsis.items():
        gsi = wanted_gsis.get(index_name)
        changed = gsi is not None and (
            index.get("KeySchema") != _key_schema(gsi.hash_key, gsi.range_key)
            or index.get("Projection", {}).get("ProjectionType") != gsi.projection_type
            or sorted(index.get("Projection", {}).get("NonKeyAttributes") or []) != sorted(gsi.non_key_attributes))
        if gsi is None or changed:
            update(f"deleted GSI {index_name}" + (" (definition changed)" if changed else ""),
                   GlobalSecondaryIndexUpdates=[{"Delete": {"IndexName": index_name}}])
            if changed:
                live_gsis[index_name] = None  # type: ignore[assignment]
    for gsi in spec.global_secondary_indexes:
        if live_gsis.get(gsi.name) is None:
            update(f"created GSI {gsi.name}",
                   AttributeDefinitions=[{"AttributeName": a.name, "AttributeType": a.type} for a in spec.attributes],
                   GlobalSecondaryIndexUpdates=[{"Create": _gsi_definition(spec, gsi)}])
        elif spec.provisioned and not autoscaled:
            wanted = _gsi_throughput(spec, gsi)
            current = live_gsis[gsi.name].get("ProvisionedThroughput") or {}
            if (current.get("ReadCapacityUnits"), current.get("WriteCapacityUnits")) != (
                    wanted["ReadCapacityUnits"], wanted["WriteCapacityUnits"]):
                update(f"changed capacity of GSI {gsi.name}",
                       GlobalSecondaryIndexUpdates=[{"Update": {"IndexName": gsi.name,
                                                                "ProvisionedThroughput": wanted}}])

    wanted_view = (spec.stream_view_type or "NEW_AND_OLD_IMAGES") if spec.stream_enabled else None
    if live.stream_view_type != wanted_view:
        if live.stream_enabled:
            update("disabled stream", StreamSpecification={"StreamEnabled": False})
        if wanted_view:
            update(f"enabled stream ({wanted_view})",
                   StreamSpecification={"StreamEnabled": True, "StreamViewType": wanted_view})

    if encryption_status(spec, live, kms_key_arn) == "drifted":
        update(f"changed encryption {live.encryption} → {spec.encryption}",
               SSESpecification=sse_specification(spec, kms_key_arn))

    if live.table_class is not None and live.table_class != spec.table_class:
        update(f"changed table class {live.table_class} → {spec.table_class}", TableClass=spec.table_class)
    elif live.table_class is None:
        result.skipped.append("table class: the endpoint does not report it, so it was not compared or changed")

    if live.deletion_protection != spec.deletion_protection_enabled:
        state = "enabled" if spec.deletion_protection_enabled else "disabled"
        update(f"{state} deletion protection", DeletionProtectionEnabled=spec.deletion_protection_enabled)


def _sync_tags(spec: TableSpec, dynamodb, live: LiveTable, result: ProvisionResult) -> None:
    current = live.tags or {}
    changed = {k: v for k, v in table_tags(spec).items() if current.get(k) != v}
    if changed:
        dynamodb.tag_resource(ResourceArn=live.arn, Tags=[{"Key": k, "Value": v} for k, v in changed.items()])
        result.append(f"tagged table: {', '.join(f'{k}={v}' for k, v in changed.items())}")


def _sync_ttl(spec: TableSpec, dynamodb, live: LiveTable, result: ProvisionResult) -> None:
    enabled, attribute = bool(live.ttl_enabled), live.ttl_attribute
    if spec.ttl_enabled and enabled and attribute == spec.ttl_attribute_name:
        return
    if not spec.ttl_enabled and not enabled:
        return
    if enabled:
        # DynamoDB refuses to switch the TTL attribute directly: disable, then enable on the new one.
        dynamodb.update_time_to_live(TableName=spec.name,
                                     TimeToLiveSpecification={"Enabled": False, "AttributeName": attribute})
        result.append(f"disabled TTL on attribute {attribute!r}")
    if spec.ttl_enabled:
        dynamodb.update_time_to_live(TableName=spec.name, TimeToLiveSpecification={
            "Enabled": True, "AttributeName": spec.ttl_attribute_name})
        result.append(f"enabled TTL on attribute {spec.ttl_attribute_name!r}")


def _sync_pitr(spec: TableSpec, dynamodb, live: LiveTable, result: ProvisionResult) -> None:
    enabled = bool(live.pitr_enabled)
    period = live.pitr_recovery_period_days
    if enabled == spec.pitr_enabled and (not enabled or period in (None, spec.pitr_recovery_period_days)):
        return
    specification: dict = {"PointInTimeRecoveryEnabled": spec.pitr_enabled}
    if spec.pitr_enabled:
        specification["RecoveryPeriodInDays"] = spec.pitr_recovery_period_days
    dynamodb.update_continuous_backups(TableName=spec.name, PointInTimeRecoverySpecification=specification)
    result.append(f"enabled PITR ({spec.pitr_recovery_period_days} days)" if spec.pitr_enabled else "disabled PITR")


def _sync_autoscaling(spec: TableSpec, target: Target, result: ProvisionResult) -> None:
    client = target.client("application-autoscaling")
    plan = scaling_plan(spec)
    resources = {f"table/{spec.name}"} | {f"table/{spec.name}/index/{g}" for g in
                                           [i.name for i in spec.global_secondary_indexes]}
    live_targets = [t for page in client.get_paginator("describe_scalable_targets").paginate(
        ServiceNamespace="dynamodb", ResourceIds=sorted(resources)) for t in page.get("ScalableTargets", [])]
    live_policies = [p for page in client.get_paginator("describe_scaling_policies").paginate(
        ServiceNamespace="dynamodb") for p in page.get("ScalingPolicies", []) if p["ResourceId"] in resources]

    wanted = {(item.resource_id, item.dimension) for item in plan}
    for policy in live_policies:
        if (policy["ResourceId"], policy["ScalableDimension"]) not in wanted:
            client.delete_scaling_policy(PolicyName=policy["PolicyName"], ServiceNamespace="dynamodb",
                                         ResourceId=policy["ResourceId"],
                                         ScalableDimension=policy["ScalableDimension"])
            result.append(f"deleted scaling policy {policy['PolicyName']}")
    for item in live_targets:
        if (item["ResourceId"], item["ScalableDimension"]) not in wanted:
            client.deregister_scalable_target(ServiceNamespace="dynamodb", ResourceId=item["ResourceId"],
                                              ScalableDimension=item["ScalableDimension"])
            result.append(f"deregistered scalable target {item['ResourceId']} {item['ScalableDimension']}")

    for item in plan:
        current = next((t for t in live_targets if (t["ResourceId"], t["ScalableDimension"]) ==
                        (item.resource_id, item.dimension)), None)
        if current is None or (current["MinCapacity"], current["MaxCapacity"]) != (item.min_capacity,
                                                                                     item.max_capacity):
            client.register_scalable_target(ServiceNamespace="dynamodb", ResourceId=item.resource_id,
                                            ScalableDimension=item.dimension, MinCapacity=item.min_capacity,
                                            MaxCapacity=item.max_capacity)
            verb = "registered" if current is None else "updated"
            result.append(f"{verb} scalable target {item.label} ({item.min_capacity}-{item.max_capacity})")
        policy = next((p for p in live_policies if p["PolicyName"] == item.policy_name
                       and p["ResourceId"] == item.resource_id), None)
        config = (policy or {}).get("TargetTrackingScalingPolicyConfiguration") or {}
        metric = (config.get("PredefinedMetricSpecification") or {}).get("PredefinedMetricType")
        if policy is None or config.get("TargetValue") != item.target_value or metric != item.metric_type:
            # Only when missing or different: moto creates four new CloudWatch alarms on every PutScalingPolicy.
            client.put_scaling_policy(
                PolicyName=item.policy_name, ServiceNamespace="dynamodb", ResourceId=item.resource_id,
                ScalableDimension=item.dimension, PolicyType="TargetTrackingScaling",
                TargetTrackingScalingPolicyConfiguration={
                    "TargetValue": item.target_value,
                    "PredefinedMetricSpecification": {"PredefinedMetricType": item.metric_type}})
            verb = "created" if policy is None else "updated"
            result.append(f"{verb} scaling policy {item.policy_name} (target {item.target_value:g}%)")


_ALARM_FIELDS = ("MetricName", "Namespace", "Statistic", "Period", "EvaluationPeriods", "Threshold",
                 "ComparisonOperator", "TreatMissingData", "AlarmActions", "OKActions")


def _alarm_differs(live: dict, wanted: dict) -> bool:
    for key in _ALARM_FIELDS:
        if key in wanted and live.get(key) != wanted[key]:
            return True
    if "Dimensions" in wanted and sorted((d["Name"], d["Value"]) for d in live.get("Dimensions") or []) != sorted(
            (d["Name"], d["Value"]) for d in wanted["Dimensions"]):
        return True
    return "Metrics" in wanted and alarm_metric_names(live) != alarm_metric_names(wanted)


def _sync_alarms(spec: TableSpec, target: Target, result: ProvisionResult) -> None:
    cloudwatch = target.client("cloudwatch")
    wanted = expected_alarms(spec)
    names = module_alarm_names(spec)
    live = {a["AlarmName"]: a for page in cloudwatch.get_paginator("describe_alarms").paginate(
        AlarmNames=names, AlarmTypes=["MetricAlarm"]) for a in page.get("MetricAlarms", [])}
    for name, arguments in wanted.items():
        if name not in live or _alarm_differs(live[name], arguments):
            cloudwatch.put_metric_alarm(AlarmName=name, **arguments)
            result.append(f"{'created' if name not in live else 'updated'} alarm {name} "
                          f"(threshold {arguments['Threshold']:g})")
    extra = [name for name in live if name not in wanted]
    if extra:
        cloudwatch.delete_alarms(AlarmNames=extra)
        result.append(f"deleted alarms {', '.join(extra)}")


def _sync_contributor_insights(spec: TableSpec, target: Target, result: ProvisionResult) -> None:
    if not spec.contributor_insights_enabled:
        return
    for index in [None] + [gsi.name for gsi in spec.global_secondary_indexes]:
        where = {"TableName": spec.name, **({"IndexName": index} if index else {})}
        label = f"index {index}" if index else "table"
        try:
            status = probe(target, "dynamodb", "describe_contributor_insights", **where).get(
                "ContributorInsightsStatus")
            if status not in ("ENABLED", "ENABLING"):
                probe(target, "dynamodb", "update_contributor_insights", ContributorInsightsAction="ENABLE", **where)
                result.append(f"enabled Contributor Insights ({label})")
        except AWS_ERRORS as error:
            if not is_unsupported(error):
                raise
            result.skipped.append(f"Contributor Insights not enabled ({label}): {describe_error(error)}")
            return


# -- deprovision --------------------------------------------------------------------------------------------------
def deprovision(spec: TableSpec, target: Target) -> list[str]:
    """Remove the table, its autoscaling and its alarms from an emulator (for tests and drills).

    Turns deletion protection off first. Raises :class:`RealAwsRefused` (before any AWS call) for real AWS.
    """
    _refuse_real_aws(target, "deprovisioning")
    actions: list[str] = []
    dynamodb = target.client("dynamodb")
    autoscaling = target.client("application-autoscaling")
    resources = [f"table/{spec.name}"] + [f"table/{spec.name}/index/{g.name}" for g in spec.global_secondary_indexes]
    for page in autoscaling.get_paginator("describe_scaling_policies").paginate(ServiceNamespace="dynamodb"):
        for policy in page.get("ScalingPolicies", []):
            if policy["ResourceId"] in resources:
                autoscaling.delete_scaling_policy(PolicyName=policy["PolicyName"], ServiceNamespace="dynamodb",
                                                  ResourceId=policy["ResourceId"],
                                                  ScalableDimension=policy["ScalableDimension"])
                actions.append(f"deleted scaling policy {policy['PolicyName']}")
    for page in autoscaling.get_paginator("describe_scalable_targets").paginate(ServiceNamespace="dynamodb",
                                                                                 ResourceIds=resources):
        for item in page.get("ScalableTargets", []):
            autoscaling.deregister_scalable_target(ServiceNamespace="dynamodb", ResourceId=item["ResourceId"],
                                                   ScalableDimension=item["ScalableDimension"])
            actions.append(f"deregistered scalable target {item['ResourceId']} {item['ScalableDimension']}")
    cloudwatch = target.client("cloudwatch")
    existing = [a["AlarmName"] for page in cloudwatch.get_paginator("describe_alarms").paginate(
        AlarmNames=module_alarm_names(spec)) for a in page.get("MetricAlarms", [])]
    if existing:
        cloudwatch.delete_alarms(AlarmNames=existing)
        actions.append(f"deleted alarms {', '.join(existing)}")
    table = table_description(dynamodb, spec.name)
    if table is None:
        return actions
    if table.get("DeletionProtectionEnabled"):
        dynamodb.update_table(TableName=spec.name, DeletionProtectionEnabled=False)
        actions.append("disabled deletion protection")
    dynamodb.delete_table(TableName=spec.name)
    wait_for_table(target, spec.name, gone=True)
    actions.append(f"deleted table {spec.name}")
    return actions
