"""The table as the configuration wants it: one model shared by drift, provisioning, costs and diagnostics.

``runbook.tfconfig`` builds a :class:`TableSpec` from an environment's Terraform configuration (module defaults,
root variables, tfvars); ``runbook.drift`` compares it with the live table; ``runbook.provision`` creates it on an
emulator when Terraform cannot; ``runbook.cost`` prices it.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

BillingMode = Literal["PAY_PER_REQUEST", "PROVISIONED"]
StreamViewType = Literal["KEYS_ONLY", "NEW_IMAGE", "OLD_IMAGE", "NEW_AND_OLD_IMAGES"]
AttributeType = Literal["S", "N", "B"]
ProjectionType = Literal["ALL", "KEYS_ONLY", "INCLUDE"]
TableClass = Literal["STANDARD", "STANDARD_INFREQUENT_ACCESS"]
#: AWS_OWNED: DynamoDB's own key (free, the default); AWS_MANAGED: the ``aws/dynamodb`` KMS key;
#: CUSTOMER_MANAGED: a customer KMS key (given, or created by the module with rotation).
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


class LocalSecondaryIndex(_Model):
    name: str
    range_key: str
    projection_type: ProjectionType = "ALL"
    non_key_attributes: tuple[str, ...] = ()


class Autoscaling(_Model):
    """Target-tracking autoscaling of a PROVISIONED table (and its GSIs)."""

    enabled: bool = False
    read_min: int = 5
    read_max: int = 100
    write_min: int = 5
    write_max: int = 100
    #: Target utilisation in percent of provisioned capacity.
    target_utilization: float = 70.0


class Alarms(_Model):
    """CloudWatch alarms on the table, with the seed's thresholds."""

    enabled: bool = False
    read_throttle_threshold: float = 10
    write_throttle_threshold: float = 10
    user_errors_threshold: float = 50
    system_errors_threshold: float = 5
    #: Consumed capacity alarm, percent of provisioned (PROVISIONED tables only).
    capacity_utilization_percent: float = 80
    period_seconds: int = 300
    evaluation_periods: int = 2
    sns_topic_arn: str | None = None


class TableSpec(_Model):
    """Every setting of the notifications table that Terraform manages and the runbooks check."""

    name: str
    region: str = "us-east-1"
    environment: str = "staging"
    billing_mode: BillingMode = "PAY_PER_REQUEST"
    hash_key: str = "user_id"
    range_key: str | None = "notification_id"
    attributes: tuple[Attribute, ...] = Field(
        default=(Attribute(name="user_id", type="S"), Attribute(name="notification_id", type="S"))
    )
    global_secondary_indexes: tuple[GlobalSecondaryIndex, ...] = ()
    local_secondary_indexes: tuple[LocalSecondaryIndex, ...] = ()
    #: Only for PROVISIONED tables (autoscaling then moves them between its min and max).
    read_capacity: int | None = None
    write_capacity: int | None = None
    autoscaling: Autoscaling = Autoscaling()
    stream_enabled: bool = False
    stream_view_type: StreamViewType | None = None
    pitr_enabled: bool = False
    pitr_recovery_period_days: int = 35
    ttl_enabled: bool = False
    ttl_attribute_name: str = "ttl"
    encryption: EncryptionType = "AWS_OWNED"
    kms_key_arn: str | None = None
    table_class: TableClass = "STANDARD"
    #: ``dynamodb_prevent_destroy`` maps here: Terraform cannot take a variable in ``lifecycle.prevent_destroy``.
    deletion_protection_enabled: bool = False
    contributor_insights_enabled: bool = False
    dashboard_enabled: bool = False
    alarms: Alarms = Alarms()
    tags: dict[str, str] = Field(default_factory=dict)

    @property
    def provisioned(self) -> bool:
        return self.billing_mode == "PROVISIONED"

    def alarm_names(self) -> list[str]:
        """The CloudWatch alarm names the module creates for this table (empty when alarms are off)."""
        if not self.alarms.enabled:
            return []
        names = [f"{self.name}-{suffix}" for suffix in
                 ("read-throttle-events", "write-throttle-events", "user-errors", "system-errors")]
        if self.provisioned:
            names += [f"{self.name}-consumed-read-capacity", f"{self.name}-consumed-write-capacity"]
        return names
