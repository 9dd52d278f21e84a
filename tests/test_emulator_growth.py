"""The global-table replica and CSV import fills (runbook.aws.emulator): each fails on stock moto
(xfail, strict), passes on the embedded emulator. Replicas are created, described and removed through UpdateTable,
each a table of its own region."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError
from test_emulator import _client, gap_target, stock_endpoint  # noqa: F401 (fixtures)

from runbook.aws.target import Target

NAME = "global-notifications"


def _table(dynamodb) -> None:
    dynamodb.create_table(
        TableName=NAME,
        BillingMode="PAY_PER_REQUEST",
        KeySchema=[{"AttributeName": "user_id", "KeyType": "HASH"}],
        AttributeDefinitions=[
            {"AttributeName": "user_id", "AttributeType": "S"},
            {"AttributeName": "status", "AttributeType": "S"},
        ],
        GlobalSecondaryIndexes=[
            {
                "IndexName": "by-status",
                "KeySchema": [{"AttributeName": "status", "KeyType": "HASH"}],
                "Projection": {"ProjectionType": "KEYS_ONLY"},
            }
        ],
        StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"},
    )
    dynamodb.put_item(TableName=NAME, Item={"user_id": {"S": "u1"}, "status": {"S": "unread"}})


def _regions(description: dict) -> dict[str, dict]:
    return {r["RegionName"]: r for r in description.get("Replicas", [])}


def test_fill_global_table_replicas_not_implemented(gap_target):  # noqa: F811
    home = _client(gap_target, "dynamodb")
    west = _client(Target("us-west-2", gap_target.endpoint_url), "dynamodb")
    europe = _client(Target("eu-west-1", gap_target.endpoint_url), "dynamodb")
    _table(home)
    key = "arn:aws:kms:eu-west-1:123456789012:key/11111111-2222-3333-4444-555555555555"
    home.update_table(TableName=NAME, ReplicaUpdates=[{"Create": {"RegionName": "us-west-2"}}])
    home.update_table(TableName=NAME, ReplicaUpdates=[{"Create": {"RegionName": "eu-west-1", "KMSMasterKeyId": key}}])

    described = home.describe_table(TableName=NAME)["Table"]
    replicas = _regions(described)
    assert set(replicas) == {"us-west-2", "eu-west-1"} and described["GlobalTableVersion"] == "2019.11.21"
    assert {r["ReplicaStatus"] for r in replicas.values()} == {"ACTIVE"}
    assert replicas["eu-west-1"]["KMSMasterKeyId"] == key

    # each replica is a table of its own region, as the provider reads it back (ARN, stream, key, PITR, tags)
    replica = west.describe_table(TableName=NAME)["Table"]
    assert replica["TableArn"].split(":")[3] == "us-west-2" and replica["LatestStreamArn"]
    assert [i["IndexName"] for i in replica["GlobalSecondaryIndexes"]] == ["by-status"]
    assert set(_regions(replica)) == {"us-east-1", "eu-west-1"}
    assert europe.describe_table(TableName=NAME)["Table"]["SSEDescription"]["KMSMasterKeyArn"] == key
    assert west.get_item(TableName=NAME, Key={"user_id": {"S": "u1"}})["Item"]["status"] == {"S": "unread"}
    west.update_continuous_backups(
        TableName=NAME, PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True}
    )
    assert (
        west.describe_continuous_backups(TableName=NAME)["ContinuousBackupsDescription"][
            "PointInTimeRecoveryDescription"
        ]["PointInTimeRecoveryStatus"]
        == "ENABLED"
    )
    west.tag_resource(ResourceArn=replica["TableArn"], Tags=[{"Key": "Environment", "Value": "production"}])
    assert west.list_tags_of_resource(ResourceArn=replica["TableArn"])["Tags"] == [
        {"Key": "Environment", "Value": "production"}
    ]

    # a second replica in the same region is refused; removing one deletes its table
    with pytest.raises(ClientError, match="already exist"):
        home.update_table(TableName=NAME, ReplicaUpdates=[{"Create": {"RegionName": "us-west-2"}}])
    home.update_table(TableName=NAME, ReplicaUpdates=[{"Delete": {"RegionName": "us-west-2"}}])
    assert set(_regions(home.describe_table(TableName=NAME)["Table"])) == {"eu-west-1"}
    with pytest.raises(ClientError) as gone:
        west.describe_table(TableName=NAME)
    assert gone.value.response["Error"]["Code"] == "ResourceNotFoundException"
    with pytest.raises(ClientError, match="was not found"):
        home.update_table(TableName=NAME, ReplicaUpdates=[{"Delete": {"RegionName": "us-west-2"}}])
    home.update_table(TableName=NAME, ReplicaUpdates=[{"Delete": {"RegionName": "eu-west-1"}}])
    assert "Replicas" not in home.describe_table(TableName=NAME)["Table"]


def test_fill_import_table_csv_not_implemented(gap_target):  # noqa: F811
    """A CSV in S3 imported into a new table: header from HeaderList, keys typed by the attribute definitions,
    every other attribute a string, an empty cell no attribute."""
    import time

    s3 = _client(gap_target, "s3")
    s3.create_bucket(Bucket="seed-notifications")
    s3.put_object(
        Bucket="seed-notifications",
        Key="exports/part-1.csv",
        Body=b"u1;100;unread;hello\nu1;101;read;\nu2;100;unread;bye\n",
    )
    dynamodb = _client(gap_target, "dynamodb")
    started = dynamodb.import_table(
        S3BucketSource={"S3Bucket": "seed-notifications", "S3KeyPrefix": "exports/"},
        InputFormat="CSV",
        InputFormatOptions={"Csv": {"Delimiter": ";", "HeaderList": ["user_id", "created_at", "status", "text"]}},
        InputCompressionType="NONE",
        TableCreationParameters={
            "TableName": "imported",
            "BillingMode": "PAY_PER_REQUEST",
            "KeySchema": [
                {"AttributeName": "user_id", "KeyType": "HASH"},
                {"AttributeName": "created_at", "KeyType": "RANGE"},
            ],
            "AttributeDefinitions": [
                {"AttributeName": "user_id", "AttributeType": "S"},
                {"AttributeName": "created_at", "AttributeType": "N"},
            ],
        },
    )
    arn = started["ImportTableDescription"]["ImportArn"]
    for _ in range(50):
        described = dynamodb.describe_import(ImportArn=arn)["ImportTableDescription"]
        if described["ImportStatus"] != "IN_PROGRESS":
            break
        time.sleep(0.1)
    assert described["ImportStatus"] == "COMPLETED" and described["ImportedItemCount"] == 3, described
    item = dynamodb.get_item(TableName="imported", Key={"user_id": {"S": "u1"}, "created_at": {"N": "101"}})["Item"]
    assert item == {"user_id": {"S": "u1"}, "created_at": {"N": "101"}, "status": {"S": "read"}}
    assert dynamodb.scan(TableName="imported")["Count"] == 3
