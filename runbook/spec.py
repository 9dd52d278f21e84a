"""The table as Terraform plans or holds it: one model shared by drift, costs, diagnostics and operations.

A :class:`TableSpec` is never derived from HCL: :func:`runbook.terraform.tfjson.table_spec` builds it from Terraform's
own
JSON (the planned values of a saved plan, or the state), so every fact in it is one Terraform computed. The field
defaults are neutral (off, empty, ``None``), not the module's defaults: a missing resource means "not planned".
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

BillingMode = Literal["PAY_PER_REQUEST", "PROVISIONED"]
StreamViewType = Literal["KEYS_ONLY", "NEW_IMAGE", "OLD_IMAGE", "NEW_AND_OLD_IMAGES"]
AttributeType = Literal["S", "N", "B"]
ProjectionType = Literal["ALL", "KEYS_ONLY", "INCLUDE"]
TableClass = Literal["STANDARD", "STANDARD_INFREQUENT_ACCESS"]
#: AWS_OWNED: DynamoDB's own key (free); AWS_MANAGED: the ``aws/dynamodb`` KMS key; CUSTOMER_MANAGED: a customer
#: KMS key. Read from the table's ``server_side_encryption`` block as the provider plans it.
EncryptionType = Literal["AWS_OWNED", "AWS_MANAGED", "CUSTOMER_MANAGED"]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Attribute(_Model):
    name: str
    type: AttributeType


class GlobalSecondaryIndex(_Model):
    name: str
    hash_key: str
    range_key: str | None = None
    projection_type: ProjectionType = "ALL"
    non_key_attributes: tuple[str, ...] = ()
    #: Only for PROVISIONED tables.
    read_capacity: int | None = None
    write_capacity: int | None = None
    #: On-demand throughput ceiling of the index (request units per second); ``None``: unlimited.
    max_read_request_units: int | None = None
    max_write_request_units: int | None = None


class LocalSecondaryIndex(_Model):
    name: str
    range_key: str
    projection_type: ProjectionType = "ALL"
    non_key_attributes: tuple[str, ...] = ()


class Replica(_Model):
    """One global-table replica (a ``replica`` block of the table): a copy of the table in another region."""

    region: str
    kms_key_arn: str | None = None
    pitr_enabled: bool = False
    propagate_tags: bool = False


class Autoscaling(_Model):
    """Target-tracking autoscaling of the table's own capacity, as planned (``aws_appautoscaling_*``)."""

    enabled: bool = False
    read_min: int | None = None
    read_max: int | None = None
    write_min: int | None = None
    write_max: int | None = None
    #: Target utilisation in percent of provisioned capacity (the policies' ``target_value``).
    target_utilization: float | None = None


class Alarm(_Model):
    """One planned ``aws_cloudwatch_metric_alarm``: what the runbooks look up and price."""

    address: str
    name: str
    #: The metric of a single-metric alarm, or every metric a metric-math alarm queries.
    metrics: tuple[str, ...] = ()
    threshold: float | None = None
    comparison_operator: str | None = None
    period: int | None = None
    evaluation_periods: int | None = None
    statistic: str | None = None
    dimensions: dict[str, str] = Field(default_factory=dict)


class TableSpec(_Model):
    """Every setting of the notifications table that Terraform manages and the runbooks check."""

    name: str
    region: str = ""
    environment: str = ""
    billing_mode: BillingMode
    hash_key: str
    range_key: str | None = None
    attributes: tuple[Attribute, ...] = ()
    global_secondary_indexes: tuple[GlobalSecondaryIndex, ...] = ()
    local_secondary_indexes: tuple[LocalSecondaryIndex, ...] = ()
    #: Only for PROVISIONED tables (autoscaling then moves them between its min and max).
    read_capacity: int | None = None
    write_capacity: int | None = None
    #: On-demand throughput ceiling of the table (request units per second); ``None``: unlimited.
    max_read_request_units: int | None = None
    max_write_request_units: int | None = None
    autoscaling: Autoscaling = Autoscaling()
    stream_enabled: bool = False
    stream_view_type: StreamViewType | None = None
    pitr_enabled: bool = False
    pitr_recovery_period_days: int | None = None
    ttl_enabled: bool = False
    ttl_attribute_name: str | None = None
    encryption: EncryptionType = "AWS_OWNED"
    #: The customer KMS key; ``None`` when not customer-managed or not known until apply (a key the module creates).
    kms_key_arn: str | None = None
    table_class: TableClass = "STANDARD"
    deletion_protection_enabled: bool = False
    contributor_insights_enabled: bool = False
    dashboard_enabled: bool = False
    alarms: tuple[Alarm, ...] = ()
    #: Global-table replicas in other regions (``replica`` blocks), by region.
    replicas: tuple[Replica, ...] = ()
    #: What the live table shows: ``tags_all`` (the provider's default_tags merged with the resource's tags).
    tags: dict[str, str] = Field(default_factory=dict)
    #: The Terraform address of the table resource.
    address: str = ""

    @property
    def provisioned(self) -> bool:
        return self.billing_mode == "PROVISIONED"

    @property
    def alarms_enabled(self) -> bool:
        return bool(self.alarms)

    def alarm_names(self) -> list[str]:
        """The CloudWatch alarm names Terraform plans for this table (empty when alarms are off)."""
        return [alarm.name for alarm in self.alarms]

    def alarm(self, name: str) -> Alarm | None:
        return next((alarm for alarm in self.alarms if alarm.name == name), None)
