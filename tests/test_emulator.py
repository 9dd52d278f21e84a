import boto3
import pytest

from runbook.aws import Target, check_endpoint
from runbook.emulator import Emulator, export_lines
from runbook.errors import EndpointUnreachable


def test_emulator_listens_on_loopback_and_a_free_port():
    with Emulator() as first, Emulator() as second:
        assert first.endpoint_url.startswith("http://127.0.0.1:")
        assert first.endpoint_url != second.endpoint_url
        client = Target("us-east-1", first.endpoint_url).client("dynamodb")
        assert isinstance(client.list_tables()["TableNames"], list)


def test_environment_points_clients_at_the_emulator(monkeypatch):
    with Emulator() as emu:
        for name, value in emu.environment().items():
            monkeypatch.setenv(name, value)
        emu.reset()
        boto3.client("dynamodb").create_table(
            TableName="t1", BillingMode="PAY_PER_REQUEST",
            KeySchema=[{"AttributeName": "k", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "k", "AttributeType": "S"}])
        assert Target.resolve("us-east-1").client("dynamodb").list_tables()["TableNames"] == ["t1"]
        lines = export_lines(emu.environment())
        assert f"export AWS_ENDPOINT_URL={emu.endpoint_url}" in lines
        emu.reset()
        assert Target("us-east-1", emu.endpoint_url).client("dynamodb").list_tables()["TableNames"] == []


def test_unreachable_endpoint_fails_fast_naming_it():
    with Emulator() as emu:
        url = emu.endpoint_url
    with pytest.raises(EndpointUnreachable, match=url.replace(".", r"\.")):
        check_endpoint(url, timeout=2)


def test_application_autoscaling_tags_are_filled_in():
    with Emulator() as emu:
        target = Target("us-east-1", emu.endpoint_url)
        target.client("dynamodb").create_table(
            TableName="t2", BillingMode="PROVISIONED",
            ProvisionedThroughput={"ReadCapacityUnits": 5, "WriteCapacityUnits": 5},
            KeySchema=[{"AttributeName": "k", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "k", "AttributeType": "S"}])
        autoscaling = target.client("application-autoscaling")
        arn = autoscaling.register_scalable_target(
            ServiceNamespace="dynamodb", ResourceId="table/t2", ScalableDimension="dynamodb:table:ReadCapacityUnits",
            MinCapacity=5, MaxCapacity=50, Tags={"Team": "notifications"})["ScalableTargetARN"]
        assert autoscaling.list_tags_for_resource(ResourceARN=arn)["Tags"] == {"Team": "notifications"}
        autoscaling.untag_resource(ResourceARN=arn, TagKeys=["Team"])
        assert autoscaling.list_tags_for_resource(ResourceARN=arn)["Tags"] == {}
