"""Reading live DynamoDB tables: everything the drift report, the import runbook and the diagnostics look at.

One :class:`LiveTable` per table holds the raw answers of the AWS APIs (``describe_table``, TTL, continuous backups,
tags, Application Auto Scaling targets and policies, CloudWatch alarms, Contributor Insights, the KMS key) plus
the reason for every setting that could not be read. :func:`describe_tables` reads many tables at once:

* per table (concurrently, in a thread pool — boto3 clients are thread-safe): ``DescribeTable``,
  ``DescribeTimeToLive``, ``DescribeContinuousBackups``, ``ListTagsOfResource``;
* once for all tables: one ``DescribeScalableTargets`` and one ``DescribeScalingPolicies`` listing of the
  ``dynamodb`` namespace, one ``DescribeAlarms`` listing (or a name-prefix query for a single table), one
  ``ListContributorInsights`` listing, and ``DescribeKey``/``ListAliases`` once per distinct KMS key.

A setting the endpoint cannot report (moto answers Contributor Insights with HTTP 500) is recorded in
:attr:`LiveTable.unsupported` with the reason; it is never reported as fine.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from typing import Any, Iterable

from botocore.exceptions import ClientError

from runbook.aws.apierrors import AWS_ERRORS, describe_error, error_code, probe
from runbook.aws.target import Target

#: The per-table reads :func:`describe_tables` can do (``include`` selects a subset; ``describe`` is always read).
PER_TABLE_READS = ("ttl", "continuous_backups", "tags")
#: The account-wide reads :func:`describe_tables` can do.
SHARED_READS = ("autoscaling", "alarms", "contributor_insights", "kms")
ALL_READS = frozenset(PER_TABLE_READS + SHARED_READS)


@dataclass
class LiveTable:
    """A live table as the AWS APIs describe it. Raw answers are kept; properties give the common views."""

    name: str
    #: ``DescribeTable``'s ``Table``.
    description: dict
    #: ``DescribeTimeToLive``'s ``TimeToLiveDescription`` (``None`` when not read).
    ttl: dict | None = None
    #: ``DescribeContinuousBackups``' ``ContinuousBackupsDescription``.
    continuous_backups: dict | None = None
    #: Tags as a ``{key: value}`` dict.
    tags: dict[str, str] | None = None
    #: Application Auto Scaling targets / policies whose resource is the table or one of its indexes.
    scalable_targets: list[dict] = field(default_factory=list)
    scaling_policies: list[dict] = field(default_factory=list)
    #: CloudWatch metric alarms on this table (by ``TableName`` dimension, or by ``<table>-`` name prefix).
    alarms: list[dict] = field(default_factory=list)
    #: ``{"table": status, "<index name>": status}`` from Contributor Insights (``ENABLED``, ``DISABLED``, ...).
    contributor_insights: dict[str, str] | None = None
    #: ``describe_key`` of the SSE key: ``{"arn", "key_manager", "aliases"}``.
    kms_key: dict | None = None
    #: Setting → why it could not be read (endpoint does not implement the API, access denied, ...).
    unsupported: dict[str, str] = field(default_factory=dict)

    # -- common views -------------------------------------------------------------------------------------------
    @property
    def arn(self) -> str:
        return self.description.get("TableArn", "")

    @property
    def status(self) -> str:
        return self.description.get("TableStatus", "")

    @property
    def billing_mode(self) -> str:
        summary = self.description.get("BillingModeSummary") or {}
        # Tables created PROVISIONED before billing modes existed carry no summary.
        return summary.get("BillingMode", "PROVISIONED")

    @property
    def key_schema(self) -> dict[str, str | None]:
        keys = {k["KeyType"]: k["AttributeName"] for k in self.description.get("KeySchema", [])}
        return {"hash_key": keys.get("HASH"), "range_key": keys.get("RANGE")}

    @property
    def attributes(self) -> dict[str, str]:
        return {a["AttributeName"]: a["AttributeType"] for a in self.description.get("AttributeDefinitions", [])}

    @property
    def read_capacity(self) -> int | None:
        return (self.description.get("ProvisionedThroughput") or {}).get("ReadCapacityUnits")

    @property
    def write_capacity(self) -> int | None:
        return (self.description.get("ProvisionedThroughput") or {}).get("WriteCapacityUnits")

    @property
    def global_secondary_indexes(self) -> dict[str, dict]:
        return {i["IndexName"]: i for i in self.description.get("GlobalSecondaryIndexes") or []}

    @property
    def local_secondary_indexes(self) -> dict[str, dict]:
        return {i["IndexName"]: i for i in self.description.get("LocalSecondaryIndexes") or []}

    @property
    def stream_enabled(self) -> bool:
        return bool((self.description.get("StreamSpecification") or {}).get("StreamEnabled"))

    @property
    def stream_view_type(self) -> str | None:
        spec = self.description.get("StreamSpecification") or {}
        return spec.get("StreamViewType") if spec.get("StreamEnabled") else None

    @property
    def pitr_enabled(self) -> bool | None:
        if self.continuous_backups is None:
            return None
        pitr = self.continuous_backups.get("PointInTimeRecoveryDescription") or {}
        return pitr.get("PointInTimeRecoveryStatus") in ("ENABLED", "ENABLING")

    @property
    def pitr_recovery_period_days(self) -> int | None:
        if self.continuous_backups is None:
            return None
        return (self.continuous_backups.get("PointInTimeRecoveryDescription") or {}).get("RecoveryPeriodInDays")

    @property
    def ttl_enabled(self) -> bool | None:
        if self.ttl is None:
            return None
        return self.ttl.get("TimeToLiveStatus") in ("ENABLED", "ENABLING")

    @property
    def encryption(self) -> str:
        """``AWS_OWNED``, ``AWS_MANAGED``, ``CUSTOMER_MANAGED`` or ``KMS`` (a KMS key whose owner is unknown)."""
        sse = self.description.get("SSEDescription") or {}
        if sse.get("Status") not in ("ENABLED", "ENABLING", "UPDATING"):
            return "AWS_OWNED"
        if self.kms_key is None:
            return "KMS"
        aliases = self.kms_key.get("aliases") or []
        if self.kms_key.get("key_manager") == "AWS" or "alias/aws/dynamodb" in aliases:
            return "AWS_MANAGED"
        return "CUSTOMER_MANAGED"

    @property
    def kms_key_arn(self) -> str | None:
        return (self.description.get("SSEDescription") or {}).get("KMSMasterKeyArn")

    @property
    def table_class(self) -> str | None:
        """The table class, or ``None`` when the endpoint does not report it (moto accepts but never returns it)."""
        return (self.description.get("TableClassSummary") or {}).get("TableClass")

    @property
    def deletion_protection(self) -> bool:
        return bool(self.description.get("DeletionProtectionEnabled"))

    @property
    def item_count(self) -> int | None:
        return self.description.get("ItemCount")

    def alarm(self, name: str) -> dict | None:
        return next((a for a in self.alarms if a.get("AlarmName") == name), None)


# -- listing ----------------------------------------------------------------------------------------------------
def list_tables(target: Target) -> list[str]:
    """Every table name in the target's region (``ListTables``, all pages), sorted."""
    names: list[str] = []
    for page in target.client("dynamodb").get_paginator("list_tables").paginate():
        names.extend(page.get("TableNames", []))
    return sorted(names)


def describe_table(target: Target, name: str, include: Iterable[str] | None = None) -> LiveTable | None:
    """One table (``None`` when it does not exist); see :func:`describe_tables`."""
    return describe_tables(target, [name], include=include)[name]


def describe_tables(
    target: Target, names: Iterable[str], max_workers: int = 8, include: Iterable[str] | None = None
) -> dict[str, LiveTable | None]:
    """Read ``names`` concurrently. Returns ``{name: LiveTable}``, with ``None`` for a table that does not exist.

    ``include`` limits the reads to a subset of :data:`ALL_READS` (``describe`` is always read), e.g. the import
    runbook needs only the descriptions; the default reads everything the drift report compares.
    """
    names = list(dict.fromkeys(names))
    reads = ALL_READS if include is None else frozenset(include) & ALL_READS
    if not names:
        return {}
    dynamodb = target.client("dynamodb")
    per_table_reads = [read for read in PER_TABLE_READS if read in reads]
    tables: dict[str, LiveTable | None] = {}

    with ThreadPoolExecutor(max_workers=max(1, max_workers), thread_name_prefix="discovery") as pool:
        # Account-wide listings run while the per-table reads proceed.
        shared = {
            read: pool.submit(_SHARED[read], target, names) for read in SHARED_READS if read in reads and read != "kms"
        }
        descriptions = {pool.submit(table_description, dynamodb, name): name for name in names}
        per_table: list[tuple[LiveTable, str, Any]] = []
        for future in as_completed(descriptions):
            name = descriptions[future]
            description = future.result()
            if description is None:
                tables[name] = None
                continue
            table = tables[name] = LiveTable(name=name, description=description)
            for read in per_table_reads:
                per_table.append((table, read, pool.submit(_PER_TABLE[read], dynamodb, table)))

        for table, read, future in per_table:
            try:
                setattr(table, read, future.result())
            except AWS_ERRORS as error:
                table.unsupported[read] = describe_error(error)

        present = {name: tables[name] for name in names if tables[name] is not None}
        for read, future in shared.items():
            try:
                assign = future.result()
            except AWS_ERRORS as error:
                for table in present.values():
                    table.unsupported[read] = describe_error(error)
            else:
                assign(present)

        if "kms" in reads:
            _read_kms_keys(target, present, pool)
    return {name: tables[name] for name in names}


# -- per-table reads --------------------------------------------------------------------------------------------
def table_description(dynamodb, name: str) -> dict | None:
    """DescribeTable's ``Table``, or ``None`` when the table does not exist (other errors propagate)."""
    try:
        return dynamodb.describe_table(TableName=name)["Table"]
    except ClientError as error:
        if error_code(error) == "ResourceNotFoundException":
            return None
        raise


def _ttl(dynamodb, table: LiveTable) -> dict:
    return dynamodb.describe_time_to_live(TableName=table.name)["TimeToLiveDescription"]


def _continuous_backups(dynamodb, table: LiveTable) -> dict:
    return dynamodb.describe_continuous_backups(TableName=table.name)["ContinuousBackupsDescription"]


def _tags(dynamodb, table: LiveTable) -> dict[str, str]:
    tags: dict[str, str] = {}
    kwargs: dict = {"ResourceArn": table.arn}
    while True:
        page = dynamodb.list_tags_of_resource(**kwargs)
        tags.update({t["Key"]: t["Value"] for t in page.get("Tags", [])})
        if not page.get("NextToken"):
            return tags
        kwargs["NextToken"] = page["NextToken"]


_PER_TABLE = {"ttl": _ttl, "continuous_backups": _continuous_backups, "tags": _tags}


# -- account-wide reads: each returns a function that distributes the listing over the tables ------------------
def _resource_table(resource_id: str) -> str | None:
    """``table/<name>`` or ``table/<name>/index/<index>`` → ``<name>``."""
    parts = resource_id.split("/")
    return parts[1] if len(parts) >= 2 and parts[0] == "table" else None


def _autoscaling(target: Target, names: list[str]):
    client = target.client("application-autoscaling")
    scalable = [
        t
        for page in client.get_paginator("describe_scalable_targets").paginate(ServiceNamespace="dynamodb")
        for t in page.get("ScalableTargets", [])
    ]
    policies = [
        p
        for page in client.get_paginator("describe_scaling_policies").paginate(ServiceNamespace="dynamodb")
        for p in page.get("ScalingPolicies", [])
    ]

    def assign(tables: dict[str, LiveTable]) -> None:
        for item in scalable:
            table = tables.get(_resource_table(item["ResourceId"]) or "")
            if table is not None:
                table.scalable_targets.append(item)
        for item in policies:
            table = tables.get(_resource_table(item["ResourceId"]) or "")
            if table is not None:
                table.scaling_policies.append(item)

    return assign


def _alarms(target: Target, names: list[str]):
    client = target.client("cloudwatch")
    paginate = client.get_paginator("describe_alarms").paginate
    # One table: the module's alarms are named "<table>-..."; many tables: one listing of every alarm.
    kwargs = {"AlarmNamePrefix": f"{names[0]}-"} if len(names) == 1 else {}
    alarms = [
        alarm for page in paginate(AlarmTypes=["MetricAlarm"], **kwargs) for alarm in page.get("MetricAlarms", [])
    ]

    def assign(tables: dict[str, LiveTable]) -> None:
        for alarm in alarms:
            owner = alarm_table(alarm, tables)
            if owner is not None:
                tables[owner].alarms.append(alarm)

    return assign


def alarm_table(alarm: dict, tables: dict[str, Any]) -> str | None:
    """The table an alarm watches: its ``TableName`` dimension, else the longest table name it is prefixed with."""
    for dimension in alarm.get("Dimensions") or []:
        if dimension.get("Name") == "TableName":
            return dimension.get("Value") if dimension.get("Value") in tables else None
    name = alarm.get("AlarmName", "")
    matches = [table for table in tables if name.startswith(f"{table}-")]
    return max(matches, key=len) if matches else None


def _contributor_insights(target: Target, names: list[str]):
    summaries: list[dict] = []
    kwargs: dict = {}
    while True:
        page = probe(target, "dynamodb", "list_contributor_insights", **kwargs)
        summaries.extend(page.get("ContributorInsightsSummaries", []))
        if not page.get("NextToken"):
            break
        kwargs["NextToken"] = page["NextToken"]

    def assign(tables: dict[str, LiveTable]) -> None:
        for table in tables.values():
            table.contributor_insights = {"table": "DISABLED"}
        for summary in summaries:
            table = tables.get(summary.get("TableName", ""))
            if table is not None:
                key = summary.get("IndexName") or "table"
                table.contributor_insights[key] = summary.get("ContributorInsightsStatus", "DISABLED")

    return assign


_SHARED = {"autoscaling": _autoscaling, "alarms": _alarms, "contributor_insights": _contributor_insights}


def _read_kms_keys(target: Target, tables: dict[str, LiveTable], pool: ThreadPoolExecutor) -> None:
    """``DescribeKey`` and ``ListAliases`` once per distinct SSE key: who manages it (AWS or the customer)."""
    keys = {table.kms_key_arn for table in tables.values() if table.kms_key_arn}
    if not keys:
        return
    kms = target.client("kms")

    def read(arn: str) -> dict:
        metadata = kms.describe_key(KeyId=arn)["KeyMetadata"]
        aliases = [
            a["AliasName"]
            for page in kms.get_paginator("list_aliases").paginate(KeyId=metadata["KeyId"])
            for a in page.get("Aliases", [])
        ]
        return {"arn": arn, "key_manager": metadata.get("KeyManager"), "aliases": aliases}

    futures = {arn: pool.submit(read, arn) for arn in keys}
    for table in tables.values():
        arn = table.kms_key_arn
        if not arn:
            continue
        try:
            table.kms_key = futures[arn].result()
        except AWS_ERRORS as error:
            table.unsupported["kms"] = describe_error(error)
