"""04's global-table and autoscaling readers (runbook.steps.replicas) on the embedded emulator: each replica as planned
and as DescribeTable reports it; the scheduled actions and scaling activities (moto has no
DescribeScalingActivities: the finding says so instead of reporting ok)."""

from __future__ import annotations

import pytest

from runbook.spec import Autoscaling, GlobalSecondaryIndex, Replica, TableSpec
from runbook.steps import replicas

NAME = "staging-user-notifications"


def _spec(**changes) -> TableSpec:
    return TableSpec(name=NAME, billing_mode="PROVISIONED", hash_key="user_id", **changes)


def _table(target) -> None:
    target.client("dynamodb").create_table(
        TableName=NAME,
        BillingMode="PAY_PER_REQUEST",
        KeySchema=[{"AttributeName": "user_id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "user_id", "AttributeType": "S"}],
        StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"},
    )


def test_replica_status_planned_and_live(target):
    finding, rows = replicas.replica_status(target, _spec(replicas=(Replica(region="us-west-2"),)))
    assert finding.status == "unavailable" and "does not exist" in finding.finding
    _table(target)
    finding, rows = replicas.replica_status(target, _spec())
    assert finding.status == "ok" and "single-region" in finding.finding and rows == []
    finding, rows = replicas.replica_status(target, _spec(replicas=(Replica(region="us-west-2"),)))
    assert finding.status == "problem" and "us-west-2" in finding.finding
    assert rows == [{"region": "us-west-2", "planned": True, "status": "absent"}]
    dynamodb = target.client("dynamodb")
    dynamodb.update_table(TableName=NAME, ReplicaUpdates=[{"Create": {"RegionName": "us-west-2"}}])
    dynamodb.update_table(TableName=NAME, ReplicaUpdates=[{"Create": {"RegionName": "eu-west-1"}}])
    finding, rows = replicas.replica_status(target, _spec(replicas=(Replica(region="us-west-2"),)))
    assert finding.status == "warning" and "eu-west-1" in finding.finding
    finding, rows = replicas.replica_status(
        target, _spec(replicas=(Replica(region="eu-west-1"), Replica(region="us-west-2")))
    )
    assert finding.status == "ok" and "2 replica(s) ACTIVE: eu-west-1, us-west-2 (2019.11.21)" == finding.finding
    assert [r["status"] for r in rows] == ["ACTIVE", "ACTIVE"]


@pytest.mark.slow  # application-autoscaling on the emulator
def test_scaling_activity_lists_scheduled_actions_and_says_what_it_cannot_read(target):
    finding, rows = replicas.scaling_activity(target, _spec())
    assert finding.status == "ok" and "no autoscaling" in finding.finding
    scaling = target.client("application-autoscaling")
    index = f"table/{NAME}/index/by-status"
    scaling.register_scalable_target(
        ServiceNamespace="dynamodb",
        ResourceId=index,
        ScalableDimension="dynamodb:index:WriteCapacityUnits",
        MinCapacity=2,
        MaxCapacity=40,
    )
    scaling.put_scheduled_action(
        ServiceNamespace="dynamodb",
        ScheduledActionName="burst-up",
        ResourceId=index,
        ScalableDimension="dynamodb:index:WriteCapacityUnits",
        Schedule="cron(45 6 * * ? *)",
        ScalableTargetAction={"MinCapacity": 10},
    )
    spec = _spec(
        autoscaling=Autoscaling(enabled=True),
        global_secondary_indexes=(GlobalSecondaryIndex(name="by-status", hash_key="status"),),
    )
    finding, rows = replicas.scaling_activity(target, spec)
    assert rows[0] == {
        "kind": "scheduled",
        "resource": index,
        "dimension": "dynamodb:index:WriteCapacityUnits",
        "when": "cron(45 6 * * ? *)",
        "what": "min 10, max -",
        "status": "",
    }
    # moto 5.2 does not implement DescribeScalingActivities: unavailable, with the scheduled actions it did read
    assert finding.status == "unavailable", finding
    assert "scheduled actions: 1" in finding.finding and "scaling activities unavailable" in finding.finding
