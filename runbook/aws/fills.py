"""Small, named fills for moto gaps the configuration hits, applied to moto's classes in the process that serves
the emulator (:mod:`runbook.aws.emulator` applies them with the first request that needs them).

Each fill is named after the moto behaviour it corrects; its test in ``tests/test_emulator.py`` fails on stock moto
(a separate, unpatched process) and passes here. AWS layer: imports moto only.
"""

from __future__ import annotations

import copy
import csv
import io
import json

from moto.applicationautoscaling.responses import ApplicationAutoScalingResponse
from moto.cloudtrail.responses import CloudTrailResponse
from moto.core.responses import ActionResult
from moto.core.utils import gzip_decompress
from moto.dynamodb.exceptions import MockValidationException, StreamAlreadyEnabledException
from moto.dynamodb.models import DynamoDBBackend, dynamodb_backends
from moto.dynamodb.models.table import Table
from moto.dynamodb.models.table_import import TableImport
from moto.dynamodb.responses import DynamoHandler
from moto.ec2.responses.monitoring import Monitoring


def fill_moto_gaps() -> None:
    """Apply every gap fill in :data:`GAP_FILLS` (idempotent: each patches moto's classes once per process).

    Each fill is small and named after the moto behaviour it corrects; its test in ``tests/test_emulator.py``
    fails on stock moto (a separate, unpatched process) and passes here.
    """
    for fill in GAP_FILLS:
        fill()


def _once(owner: type, name: str) -> bool:
    """True the first time ``name`` is claimed on ``owner`` (a moto class), False afterwards."""
    marker = f"_runbook_fill_{name}"
    if getattr(owner, marker, False):
        return False
    setattr(owner, marker, True)
    return True


def fill_ec2_monitor_instances_not_implemented() -> None:
    """moto 5.2 raises NotImplementedError (HTTP 500) for EC2 ``MonitorInstances``/``UnmonitorInstances``.

    An ``aws_instance`` with ``monitoring = true`` calls them; the provider retries the 500, then fails with "XML
    syntax error" and leaves the instance tainted. The fill sets the instance's monitoring state as AWS does.
    """
    if not _once(Monitoring, "monitor_instances"):
        return

    def change(self, state: str) -> ActionResult:
        self.error_on_dryrun()
        instances = []
        for instance_id in self._get_param("InstanceIds", []):
            instance = self.ec2_backend.get_instance(instance_id)
            instance.monitoring_state = state
            instances.append({"InstanceId": instance_id, "Monitoring": {"State": state}})
        return ActionResult({"InstanceMonitorings": instances})

    Monitoring.monitor_instances = lambda self: change(self, "enabled")
    Monitoring.unmonitor_instances = lambda self: change(self, "disabled")


def fill_autoscaling_tagging_not_implemented() -> None:
    """moto 5.2 does not implement Application Auto Scaling ``TagResource``/``UntagResource``/
    ``ListTagsForResource`` (HTTP 500), and drops the ``Tags`` of ``RegisterScalableTarget``.

    The provider reads a scalable target's tags after registering it and retries for ten minutes when that fails.
    The fill keeps tags per target ARN.
    """
    if not _once(ApplicationAutoScalingResponse, "tagging"):
        return

    def tag_store(self) -> dict:
        backend = self.applicationautoscaling_backend
        if not hasattr(backend, "runbook_tags"):
            backend.runbook_tags = {}
        return backend.runbook_tags

    def list_tags_for_resource(self) -> str:
        return json.dumps({"Tags": tag_store(self).get(self._get_param("ResourceARN"), {})})

    def tag_resource(self) -> str:
        tag_store(self).setdefault(self._get_param("ResourceARN"), {}).update(self._get_param("Tags") or {})
        return json.dumps({})

    def untag_resource(self) -> str:
        tags = tag_store(self).setdefault(self._get_param("ResourceARN"), {})
        for key in self._get_param("TagKeys") or []:
            tags.pop(key, None)
        return json.dumps({})

    original_register = ApplicationAutoScalingResponse.register_scalable_target

    def register_scalable_target(self) -> str:
        body = original_register(self)
        if self._get_param("Tags"):
            arn = json.loads(body)["ScalableTargetARN"]
            tag_store(self).setdefault(arn, {}).update(self._get_param("Tags"))
        return body

    ApplicationAutoScalingResponse.list_tags_for_resource = list_tags_for_resource
    ApplicationAutoScalingResponse.tag_resource = tag_resource
    ApplicationAutoScalingResponse.untag_resource = untag_resource
    ApplicationAutoScalingResponse.register_scalable_target = register_scalable_target


def fill_pay_per_request_keeps_provisioned_throughput() -> None:
    """moto 5.2 keeps a table's (and its GSIs') old ``ProvisionedThroughput`` after ``UpdateTable`` switches it
    to ``BillingMode=PAY_PER_REQUEST``; AWS then reports 0 read and 0 write capacity units.

    The provider reads the old capacity back into the state, and every later plan of the on-demand table fails
    ("read_capacity can not be set when billing_mode is PAY_PER_REQUEST"). The fill zeroes both, as AWS does.
    """
    if not _once(DynamoDBBackend, "pay_per_request_throughput"):
        return
    original = DynamoDBBackend.update_table

    def update_table(self, name, *args, **kwargs):
        table = original(self, name, *args, **kwargs)
        if table.billing_mode == "PAY_PER_REQUEST":
            table.throughput = {"NumberOfDecreasesToday": 0, "ReadCapacityUnits": 0, "WriteCapacityUnits": 0}
            for index in table.global_indexes:
                index.throughput = {"NumberOfDecreasesToday": 0, "ReadCapacityUnits": 0, "WriteCapacityUnits": 0}
        return table

    DynamoDBBackend.update_table = update_table


def fill_stream_reenable_refused_after_disable() -> None:
    """moto 5.2 refuses to enable a table's stream once it has ever had one ("Cannot enable stream"): it tests
    the table's last stream label, which disabling keeps. AWS refuses only while a stream is enabled, and a
    re-enabled stream is a new stream (new label and ARN).

    The provider disables and re-enables the stream to change ``stream_view_type``, and re-enables it when
    ``stream_enabled`` goes back to true. The fill refuses only an enabled stream.
    """
    if not _once(DynamoDBBackend, "stream_reenable"):
        return

    def update_table_streams(self, table, stream_specification) -> None:
        enabling = stream_specification.get("StreamEnabled") or stream_specification.get("StreamViewType")
        if enabling and (table.stream_specification or {}).get("StreamEnabled"):
            raise StreamAlreadyEnabledException
        table.set_stream_specification(stream_specification)

    DynamoDBBackend.update_table_streams = update_table_streams


def fill_global_table_replicas_not_implemented() -> None:
    """moto 5.2 has no global tables: ``UpdateTable`` ignores ``ReplicaUpdates`` and ``DescribeTable`` never lists
    ``Replicas``, so a table with ``replica`` blocks waits forever for replicas that never become ACTIVE.

    The fill keeps one replication group per global table. ``Create`` makes the replica: a table of the same name
    in the replica's region (key schema, attributes, indexes, billing, capacity and stream as the table's; the
    replica's own KMS key; the items the table holds then), which that region's ``DescribeTable``,
    ``DescribeContinuousBackups``, ``UpdateContinuousBackups`` and tagging calls find as any table; ``Update``
    changes a replica's key; ``Delete`` removes the replica's table. ``DescribeTable`` of every member lists the
    other members (``ReplicaStatus`` ACTIVE, ``GlobalTableVersion`` 2019.11.21); a deleted member leaves the group.
    Unlike AWS, later writes are not copied between the members.
    """
    if not _once(DynamoHandler, "replica_updates"):
        return
    not_found = "Replica specified in the Replica Update or Replica Delete action of the request was not found."

    def group_of(table) -> dict:
        if getattr(table, "runbook_replicas", None) is None:
            table.runbook_replicas = {table.region_name: {"RegionName": table.region_name}}
        return table.runbook_replicas

    def key_spec(key: str | None) -> dict | None:
        return {"Enabled": True, "SSEType": "KMS", "KMSMasterKeyId": key} if key else None

    def create(table, action: dict) -> None:
        region, key = action["RegionName"], action.get("KMSMasterKeyId")
        group = group_of(table)
        if region in group:
            raise MockValidationException(
                f"Failed to create a the new replica of table with name: '{table.name}' because one or more "
                f"replicas already existed as tables (region {region})."
            )
        backend = dynamodb_backends[table.account_id][region]
        indexes = [
            {
                "IndexName": i.name,
                "KeySchema": i.schema,
                "Projection": i.projection,
                **({"ProvisionedThroughput": dict(i.throughput)} if i.throughput else {}),
            }
            for i in table.global_indexes
        ]
        local = [{"IndexName": i.name, "KeySchema": i.schema, "Projection": i.projection} for i in table.indexes]
        throughput = {k: v for k, v in table.throughput.items() if k != "NumberOfDecreasesToday"}
        replica = backend.create_table(
            table.name,
            schema=table.schema,
            throughput=throughput if table.billing_mode != "PAY_PER_REQUEST" else None,
            attr=table.attr,
            global_indexes=indexes,
            indexes=local,
            streams=dict(table.stream_specification or {}) or None,
            billing_mode=table.billing_mode,
            sse_specification=key_spec(key),
            tags=[],
            deletion_protection_enabled=False,
            warm_throughput=None,
        )
        replica.items = copy.deepcopy(table.items)
        group[region] = {"RegionName": region, **({"KMSMasterKeyId": key} if key else {})}
        replica.runbook_replicas = group

    def update(table, action: dict) -> None:
        region, key = action["RegionName"], action.get("KMSMasterKeyId")
        group = group_of(table)
        if region not in group:
            raise MockValidationException(not_found)
        member = dynamodb_backends[table.account_id][region].get_table(table.name)
        if key:
            group[region]["KMSMasterKeyId"] = key
            member.sse_specification = key_spec(key)

    def delete(table, action: dict) -> None:
        region = action["RegionName"]
        group = group_of(table)
        if region not in group or region == table.region_name:
            raise MockValidationException(not_found)
        dynamodb_backends[table.account_id][region].tables.pop(table.name, None)
        group.pop(region)

    original_update = DynamoHandler.update_table

    def update_table(self):
        updates = self.body.get("ReplicaUpdates") or []
        if updates:
            table = self.dynamodb_backend.get_table(self.body["TableName"])
            for change in updates:
                for verb, apply in (("Create", create), ("Update", update), ("Delete", delete)):
                    if verb in change:
                        apply(table, change[verb])
        return original_update(self)

    original_describe = Table.describe

    def describe(self, base_key: str = "TableDescription") -> dict:
        result = original_describe(self, base_key)
        others = [
            dict(member, ReplicaStatus="ACTIVE")
            for region, member in (getattr(self, "runbook_replicas", None) or {}).items()
            if region != self.region_name
        ]
        if others:
            result[base_key]["Replicas"] = others
            result[base_key]["GlobalTableVersion"] = "2019.11.21"
        return result

    original_delete = DynamoDBBackend.delete_table

    def delete_table(self, name: str):
        table = original_delete(self, name)
        group = getattr(table, "runbook_replicas", None)
        if group is not None:
            group.pop(self.region_name, None)
        return table

    DynamoHandler.update_table = update_table
    Table.describe = describe
    DynamoDBBackend.delete_table = delete_table


def fill_import_table_csv_not_implemented() -> None:
    """moto 5.2's ``ImportTable`` reads every S3 object as DynamoDB JSON whatever ``InputFormat`` says, so a CSV
    import fails (``ImportStatus`` FAILED) and the provider's ``import_table`` never gets its table.

    The fill reads ``InputFormat=CSV`` as AWS does: rows split with ``InputFormatOptions.Csv.Delimiter`` (default
    ``,``), attribute names from ``Csv.HeaderList`` or else the first row, key attributes typed by the table's
    attribute definitions and every other attribute a string; an empty cell is no attribute. DynamoDB JSON goes
    to moto as before (ION is still not read).
    """
    if not _once(DynamoHandler, "import_csv"):
        return
    pending: dict = {}  # the request's format, handed to the TableImport its handler creates (one request at a time)

    original_handler = DynamoHandler.import_table

    def import_table(self):
        pending["format"] = (self.body.get("InputFormat") or "DYNAMODB_JSON", self.body.get("InputFormatOptions") or {})
        try:
            return original_handler(self)
        finally:
            pending.clear()

    original_init = TableImport.__init__

    def __init__(self, *args, **kwargs):
        original_init(self, *args, **kwargs)
        self.runbook_format = pending.get("format", ("DYNAMODB_JSON", {}))

    original_process = TableImport._process_s3_files

    def _process_s3_files(self, s3_backend, bucket) -> None:
        input_format, options = self.runbook_format
        if input_format != "CSV":
            return original_process(self, s3_backend, bucket)

        self.table = dynamodb_backends[self.account_id][self.region_name].create_table(
            name=self.table_name,
            billing_mode=self.billing_mode,
            throughput=self.throughput,
            schema=self.key_schema,
            global_indexes=self.global_indexes,
            indexes=None,
            attr=self.attrs,
            sse_specification=None,
            streams=None,
            tags=[],
            deletion_protection_enabled=False,
            warm_throughput=None,
        )
        types = {a["AttributeName"]: a["AttributeType"] for a in self.attrs}
        keys = {k["AttributeName"] for k in self.key_schema}
        delimiter = (options.get("Csv") or {}).get("Delimiter") or ","
        header = list((options.get("Csv") or {}).get("HeaderList") or [])
        objects, _, _, _ = s3_backend.list_objects(
            bucket, prefix=self.s3_source.get("S3KeyPrefix"), delimiter=None, marker=None, max_keys=None
        )
        for obj in objects:
            raw = gzip_decompress(obj.value) if self.compression_type == "GZIP" else obj.value
            rows = list(csv.reader(io.StringIO(raw.decode("utf-8")), delimiter=delimiter))
            names = header or (rows.pop(0) if rows else [])
            for row in rows:
                self.processed_count += 1
                self.processed_bytes += len(delimiter.join(row))
                item = {
                    name: {types.get(name, "S") if name in keys else "S": value}
                    for name, value in zip(names, row)
                    if value != ""
                }
                try:
                    self.table.put_item(item_attrs=item)
                    self.imported_count += 1
                except Exception as error:  # noqa: BLE001 (counted, as moto counts a bad JSON item)
                    self.failure_message = str(error)
                    self.error_count += 1
        self.status = "COMPLETED" if self.error_count == 0 else "FAILED"

    DynamoHandler.import_table = import_table
    TableImport.__init__ = __init__
    TableImport._process_s3_files = _process_s3_files


def fill_cloudtrail_short_target_not_routed() -> None:
    """moto 5.2 answers HTTP 404 to every CloudTrail request whose ``X-Amz-Target`` is the short form
    ``CloudTrail_20131101.<Action>``, which the AWS SDK for Go v2 (the Terraform provider's) sends; it routes only
    botocore's ``com.amazonaws.cloudtrail.v20131101.CloudTrail_20131101.<Action>``. AWS accepts both.

    ``aws_cloudtrail`` (the module's audit trail) then fails at ``CreateTrail``. The fill takes the action from
    the short form when moto's router finds none.
    """
    if not _once(CloudTrailResponse, "short_target"):
        return
    original = CloudTrailResponse._get_action_from_request
    short = "CloudTrail_20131101."

    def _get_action_from_request(self, request) -> str:
        action = original(self, request)
        target = request.headers.get("X-Amz-Target", "") or ""
        if action is None and target.startswith(short):
            return target[len(short) :]
        return action

    CloudTrailResponse._get_action_from_request = _get_action_from_request


#: The fills :func:`fill_moto_gaps` applies, in order.
GAP_FILLS = (
    fill_ec2_monitor_instances_not_implemented,
    fill_autoscaling_tagging_not_implemented,
    fill_pay_per_request_keeps_provisioned_throughput,
    fill_stream_reenable_refused_after_disable,
    fill_global_table_replicas_not_implemented,
    fill_import_table_csv_not_implemented,
    fill_cloudtrail_short_target_not_routed,
)
