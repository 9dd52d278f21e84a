"""Provisioning with boto3 on the emulator: complete, idempotent, refused for real AWS."""

from __future__ import annotations

import pytest

from runbook.aws import Target
from runbook.discovery import describe_table
from runbook.errors import RealAwsRefused
from runbook.provision import deprovision, expected_alarms, provision, scaling_plan
from runbook.spec import (Alarms, Attribute, Autoscaling, GlobalSecondaryIndex, LocalSecondaryIndex, TableSpec)

FULL = TableSpec(
    name="production-user-notifications", environment="production", billing_mode="PROVISIONED",
    read_capacity=10, write_capacity=10, autoscaling=Autoscaling(enabled=True, read_max=50, write_max=40),
    attributes=(Attribute(name="user_id", type="S"), Attribute(name="notification_id", type="S"),
                Attribute(name="status", type="S"), Attribute(name="created_at", type="N")),
    global_secondary_indexes=(GlobalSecondaryIndex(name="status-index", hash_key="status",
                                                   range_key="notification_id", projection_type="INCLUDE",
                                                   non_key_attributes=("message",)),),
    local_secondary_indexes=(LocalSecondaryIndex(name="created-index", range_key="created_at",
                                                 projection_type="KEYS_ONLY"),),
    stream_enabled=True, stream_view_type="NEW_IMAGE", pitr_enabled=True, pitr_recovery_period_days=14,
    ttl_enabled=True, ttl_attribute_name="expires_at", encryption="CUSTOMER_MANAGED",
    deletion_protection_enabled=True, contributor_insights_enabled=True, alarms=Alarms(enabled=True),
    tags={"Project": "Twitter Backend", "Environment": "production", "ManagedBy": "Terraform"})


def test_provision_creates_everything(target):
    actions = provision(FULL, target)
    assert actions[0] == "created KMS key alias/dynamodb/production-user-notifications (rotation enabled)"
    assert actions[1].startswith("created table production-user-notifications")
    live = describe_table(target, FULL.name)
    assert live.billing_mode == "PROVISIONED" and live.deletion_protection
    assert set(live.global_secondary_indexes) == {"status-index"}
    assert set(live.local_secondary_indexes) == {"created-index"}
    assert live.stream_view_type == "NEW_IMAGE"
    assert live.pitr_enabled and live.pitr_recovery_period_days == 14
    assert live.ttl_attribute == "expires_at"
    assert live.encryption == "CUSTOMER_MANAGED"
    assert live.tags == {**FULL.tags, "Name": FULL.name}  # the module adds Name
    assert {a["AlarmName"] for a in live.alarms} >= set(FULL.alarm_names())
    assert len(live.scalable_targets) == 4 == len(scaling_plan(FULL))
    assert {p["PolicyName"] for p in live.scaling_policies} == {  # the module's names
        "DynamoDBReadCapacityUtilization:table/production-user-notifications",
        "DynamoDBWriteCapacityUtilization:table/production-user-notifications",
        "DynamoDBReadCapacityUtilization:table/production-user-notifications/index/status-index",
        "DynamoDBWriteCapacityUtilization:table/production-user-notifications/index/status-index"}
    # moto does not implement Contributor Insights: said plainly, not pretended.
    assert any("Contributor Insights" in s and "unsupported" in s for s in actions.skipped)


def test_provision_is_idempotent(target):
    first = provision(FULL, target)
    alarms_after_first = len(target.client("cloudwatch").describe_alarms()["MetricAlarms"])
    second = provision(FULL, target)
    assert len(first) > 10
    assert list(second) == []
    assert len(target.client("cloudwatch").describe_alarms()["MetricAlarms"]) == alarms_after_first
    assert target.client("kms").list_aliases(KeyId=describe_table(target, FULL.name).kms_key_arn)["Aliases"]
    assert len([a for a in target.client("kms").list_aliases()["Aliases"]
                if a["AliasName"] == f"alias/dynamodb/{FULL.name}"]) == 1


def test_provision_repairs_out_of_band_changes(target):
    spec = TableSpec(name="staging-user-notifications", ttl_enabled=True, stream_enabled=True,
                     stream_view_type="NEW_AND_OLD_IMAGES", tags={"Environment": "staging"})
    provision(spec, target)
    dynamodb = target.client("dynamodb")
    dynamodb.update_time_to_live(TableName=spec.name,
                                 TimeToLiveSpecification={"Enabled": True, "AttributeName": "other"})
    dynamodb.update_continuous_backups(TableName=spec.name,
                                       PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True})
    dynamodb.update_table(TableName=spec.name, DeletionProtectionEnabled=True)
    actions = provision(spec, target)
    assert "disabled PITR" in actions and "disabled deletion protection" in actions
    assert "enabled TTL on attribute 'ttl'" in actions
    assert list(provision(spec, target)) == []


def test_provision_changes_billing_mode_and_capacity(target):
    spec = TableSpec(name="staging-user-notifications")
    provision(spec, target)
    provisioned = spec.model_copy(update={"billing_mode": "PROVISIONED", "read_capacity": 7, "write_capacity": 3})
    assert "changed billing mode PAY_PER_REQUEST → PROVISIONED" in provision(provisioned, target)
    more = provisioned.model_copy(update={"read_capacity": 9})
    assert provision(more, target) == ["changed capacity to 9 RCU / 3 WCU"]
    live = describe_table(target, spec.name)
    assert (live.read_capacity, live.write_capacity) == (9, 3)


def test_expected_alarms_follow_the_seed_thresholds():
    alarms = expected_alarms(FULL)
    assert list(alarms) == FULL.alarm_names()
    assert alarms[f"{FULL.name}-read-throttle-events"]["Threshold"] == 10
    assert alarms[f"{FULL.name}-user-errors"]["Threshold"] == 50
    assert alarms[f"{FULL.name}-system-errors"]["Threshold"] == 5
    # Consumed as a percentage of provisioned capacity (metric math, as the module's alarms.tf).
    capacity = alarms[f"{FULL.name}-consumed-read-capacity"]
    assert capacity["Threshold"] == 80
    assert {m["Id"] for m in capacity["Metrics"]} == {"utilization", "consumed", "provisioned"}
    assert expected_alarms(FULL.model_copy(update={"alarms": Alarms(enabled=False)})) == {}


def test_deprovision_removes_everything(target):
    provision(FULL, target)
    actions = deprovision(FULL, target)
    assert "disabled deletion protection" in actions and actions[-1] == f"deleted table {FULL.name}"
    assert target.client("dynamodb").list_tables()["TableNames"] == []
    assert target.client("application-autoscaling").describe_scalable_targets(
        ServiceNamespace="dynamodb")["ScalableTargets"] == []
    assert not [a for a in target.client("cloudwatch").describe_alarms()["MetricAlarms"]
                if a["AlarmName"] in FULL.alarm_names()]
    assert deprovision(FULL, target) == []


def test_real_aws_is_refused_before_any_call(monkeypatch):
    real = Target(region="us-east-1", endpoint_url=None)
    calls = []
    monkeypatch.setattr(Target, "client", lambda self, *a, **k: calls.append(a) or pytest.fail("AWS call"))
    monkeypatch.setattr(Target, "resource", lambda self, *a, **k: calls.append(a) or pytest.fail("AWS call"))
    with pytest.raises(RealAwsRefused, match="Terraform"):
        provision(FULL, real)
    with pytest.raises(RealAwsRefused):
        deprovision(FULL, real)
    assert calls == [] and real._clients == {}
    assert "session" not in real.__dict__  # not even a boto3 session (no credential lookup)
