import urllib.request

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError
from stockmoto import stock_moto

from runbook.aws import fills
from runbook.aws.emulator import Emulator, export_lines
from runbook.aws.target import Target, check_endpoint
from runbook.errors import EndpointUnreachable


@pytest.mark.slow  # starts emulators of its own
def test_emulator_listens_on_loopback_and_a_free_port():
    with Emulator() as first, Emulator() as second:
        assert first.endpoint_url.startswith("http://127.0.0.1:")
        assert first.endpoint_url != second.endpoint_url
        client = Target("us-east-1", first.endpoint_url).client("dynamodb")
        assert isinstance(client.list_tables()["TableNames"], list)


@pytest.mark.slow  # starts emulators of its own
def test_environment_points_clients_at_the_emulator(monkeypatch):
    with Emulator() as emu:
        for name, value in emu.environment().items():
            monkeypatch.setenv(name, value)
        emu.reset()
        boto3.client("dynamodb").create_table(
            TableName="t1",
            BillingMode="PAY_PER_REQUEST",
            KeySchema=[{"AttributeName": "k", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "k", "AttributeType": "S"}],
        )
        assert Target.resolve("us-east-1").client("dynamodb").list_tables()["TableNames"] == ["t1"]
        lines = export_lines(emu.environment())
        assert f"export AWS_ENDPOINT_URL={emu.endpoint_url}" in lines
        emu.reset()
        assert Target("us-east-1", emu.endpoint_url).client("dynamodb").list_tables()["TableNames"] == []


def test_unreachable_endpoint_fails_fast_naming_it():
    import socket

    with socket.socket() as reserved:  # bound, never listening: refused, and no other process can take the port
        reserved.bind(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{reserved.getsockname()[1]}"
        with pytest.raises(EndpointUnreachable, match=url.replace(".", r"\.")) as caught:
            check_endpoint(url, timeout=2)
    message = str(caught.value)
    assert "\n" not in message and "`runbook lab`" in message and "`runbook emulator`" in message
    remote = str(EndpointUnreachable("http://emulator.internal:4566", "timed out"))
    assert "Start the emulator at emulator.internal" in remote and "runbook emulator" in remote


@pytest.mark.notebooks
def test_unreachable_endpoint_in_a_notebook_is_one_paragraph(tmp_path):
    """IPython prints the paragraph, not a traceback through the package (``_render_traceback_``)."""
    import nbclient
    import nbformat

    with Emulator() as emu:
        url = emu.endpoint_url
    notebook = nbformat.v4.new_notebook(
        cells=[
            nbformat.v4.new_code_cell(
                "from runbook.steps.context import open_context\n"
                f"open_context('staging', 'us-east-1', {url!r}, {str(tmp_path)!r})"
            )
        ]
    )
    with pytest.raises(nbclient.exceptions.CellExecutionError):
        nbclient.NotebookClient(notebook, timeout=60, kernel_name="python3").execute()
    error = notebook.cells[0].outputs[-1]
    assert error["ename"] == "EndpointUnreachable"
    assert len(error["traceback"]) == 1 and "restart" in error["traceback"][0].lower()
    assert url in error["traceback"][0]


# -- gap fills: each test fails on stock moto (xfail, strict: a moto that fixes the gap makes it fail, and the fill
# -- can go) and passes on the embedded emulator -------------------------------------------------------------------
@pytest.fixture(scope="module")
def stock_endpoint():
    with stock_moto() as url:
        yield url


@pytest.fixture(params=["embedded", pytest.param("stock", marks=pytest.mark.xfail(strict=True, reason="moto gap"))])
def gap_target(request) -> Target:
    """A target on the embedded emulator (gap fills applied; emptied once no earlier test's process still talks to
    it: the ``target`` fixture) or on stock moto (its own process), emptied."""
    if request.param == "embedded":
        return request.getfixturevalue("target")
    url = request.getfixturevalue("stock_endpoint")
    urllib.request.urlopen(urllib.request.Request(f"{url}/moto-api/reset", method="POST"), timeout=10).close()
    return Target("us-east-1", url)


def _client(target: Target, service: str):
    """No retries: stock moto's HTTP 500s fail at once."""
    return target.client(service, Config(retries={"mode": "standard", "max_attempts": 1}))


def _provisioned_table(dynamodb, name: str, **extra) -> None:
    dynamodb.create_table(
        TableName=name,
        BillingMode="PROVISIONED",
        ProvisionedThroughput={"ReadCapacityUnits": 5, "WriteCapacityUnits": 5},
        KeySchema=[{"AttributeName": "k", "KeyType": "HASH"}],
        AttributeDefinitions=[
            {"AttributeName": "k", "AttributeType": "S"},
            {"AttributeName": "g", "AttributeType": "S"},
        ],
        GlobalSecondaryIndexes=[
            {
                "IndexName": "by-g",
                "KeySchema": [{"AttributeName": "g", "KeyType": "HASH"}],
                "Projection": {"ProjectionType": "ALL"},
                "ProvisionedThroughput": {"ReadCapacityUnits": 3, "WriteCapacityUnits": 3},
            }
        ],
        **extra,
    )


def _capacity(throughput: dict) -> tuple[int, int]:
    return throughput["ReadCapacityUnits"], throughput["WriteCapacityUnits"]


def test_fill_pay_per_request_keeps_provisioned_throughput(gap_target):
    """PROVISIONED → PAY_PER_REQUEST reports 0/0 on the table and its GSIs (as AWS does); back to PROVISIONED
    reports the new capacity."""
    dynamodb = _client(gap_target, "dynamodb")
    _provisioned_table(dynamodb, "billing-switch")
    dynamodb.update_table(TableName="billing-switch", BillingMode="PAY_PER_REQUEST")
    table = dynamodb.describe_table(TableName="billing-switch")["Table"]
    assert table["BillingModeSummary"]["BillingMode"] == "PAY_PER_REQUEST"
    assert _capacity(table["ProvisionedThroughput"]) == (0, 0)
    assert _capacity(table["GlobalSecondaryIndexes"][0]["ProvisionedThroughput"]) == (0, 0)

    dynamodb.update_table(
        TableName="billing-switch",
        BillingMode="PROVISIONED",
        ProvisionedThroughput={"ReadCapacityUnits": 7, "WriteCapacityUnits": 6},
        GlobalSecondaryIndexUpdates=[
            {
                "Update": {
                    "IndexName": "by-g",
                    "ProvisionedThroughput": {"ReadCapacityUnits": 4, "WriteCapacityUnits": 2},
                }
            }
        ],
    )
    table = dynamodb.describe_table(TableName="billing-switch")["Table"]
    assert _capacity(table["ProvisionedThroughput"]) == (7, 6)
    assert _capacity(table["GlobalSecondaryIndexes"][0]["ProvisionedThroughput"]) == (4, 2)


def test_fill_stream_reenable_refused_after_disable(gap_target):
    """A stream disabled and enabled again (here with another view type) is a new stream; enabling an enabled
    stream is still refused."""
    dynamodb = _client(gap_target, "dynamodb")
    _provisioned_table(
        dynamodb, "stream-toggle", StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"}
    )
    first = dynamodb.describe_table(TableName="stream-toggle")["Table"]["LatestStreamArn"]
    dynamodb.update_table(TableName="stream-toggle", StreamSpecification={"StreamEnabled": False})
    assert not dynamodb.describe_table(TableName="stream-toggle")["Table"].get("StreamSpecification")

    dynamodb.update_table(
        TableName="stream-toggle", StreamSpecification={"StreamEnabled": True, "StreamViewType": "KEYS_ONLY"}
    )
    table = dynamodb.describe_table(TableName="stream-toggle")["Table"]
    assert table["StreamSpecification"] == {"StreamEnabled": True, "StreamViewType": "KEYS_ONLY"}
    assert table["LatestStreamArn"] != first
    with pytest.raises(ClientError):
        dynamodb.update_table(
            TableName="stream-toggle", StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_IMAGE"}
        )


@pytest.mark.slow  # EC2 on the emulator (its image catalogue)
def test_fill_ec2_monitor_instances_not_implemented(gap_target):
    """Detailed monitoring on and off: MonitorInstances / UnmonitorInstances set the instance's state."""
    ec2 = _client(gap_target, "ec2")
    image = sorted(i["ImageId"] for i in ec2.describe_images(Owners=["amazon"])["Images"])[0]
    instance = ec2.run_instances(ImageId=image, MinCount=1, MaxCount=1)["Instances"][0]["InstanceId"]
    answer = ec2.monitor_instances(InstanceIds=[instance])["InstanceMonitorings"]
    assert answer == [{"InstanceId": instance, "Monitoring": {"State": "enabled"}}]

    def state() -> str:
        return ec2.describe_instances(InstanceIds=[instance])["Reservations"][0]["Instances"][0]["Monitoring"]["State"]

    assert state() == "enabled"
    ec2.unmonitor_instances(InstanceIds=[instance])
    assert state() == "disabled"


def test_fill_autoscaling_tagging_not_implemented(gap_target):
    dynamodb = _client(gap_target, "dynamodb")
    _provisioned_table(dynamodb, "t2")
    autoscaling = _client(gap_target, "application-autoscaling")
    arn = autoscaling.register_scalable_target(
        ServiceNamespace="dynamodb",
        ResourceId="table/t2",
        ScalableDimension="dynamodb:table:ReadCapacityUnits",
        MinCapacity=5,
        MaxCapacity=50,
        Tags={"Team": "notifications"},
    )["ScalableTargetARN"]
    assert autoscaling.list_tags_for_resource(ResourceARN=arn)["Tags"] == {"Team": "notifications"}
    autoscaling.tag_resource(ResourceARN=arn, Tags={"Owner": "ops"})
    autoscaling.untag_resource(ResourceARN=arn, TagKeys=["Team"])
    assert autoscaling.list_tags_for_resource(ResourceARN=arn)["Tags"] == {"Owner": "ops"}


def test_fill_cloudtrail_short_target_not_routed(gap_target):
    """A CloudTrail call with the Go SDK's short ``X-Amz-Target`` (the Terraform provider's) reaches CreateTrail."""
    s3 = _client(gap_target, "s3")
    s3.create_bucket(Bucket="audit-logs")
    cloudtrail = _client(gap_target, "cloudtrail")

    def short_target(request, **_):
        request.headers["X-Amz-Target"] = "CloudTrail_20131101." + request.headers["X-Amz-Target"].rsplit(".", 1)[1]

    cloudtrail.meta.events.register("before-sign.cloudtrail.*", short_target)
    arn = cloudtrail.create_trail(Name="table-data-events", S3BucketName="audit-logs")["TrailARN"]
    assert arn.endswith(":trail/table-data-events")
    assert cloudtrail.get_trail(Name="table-data-events")["Trail"]["S3BucketName"] == "audit-logs"


def _signed(service: str) -> dict:
    return {
        "PATH_INFO": "/",
        "HTTP_AUTHORIZATION": "AWS4-HMAC-SHA256 Credential=testing/20261201/us-east-1/"
        f"{service}/aws4_request, SignedHeaders=host, Signature=0",
    }


def test_requests_for_filled_services_wait_for_the_fills_and_a_failed_fill_is_their_500():
    import threading

    from runbook.aws.emulator import _after, _Preparation

    release, served = threading.Event(), []

    def app(environ, start_response):
        start_response("200 OK", [])
        return [b"served"]

    def call(gated, environ):
        statuses = []
        body = gated(environ, lambda status, headers: statuses.append(status))
        served.append(
            (
                environ["HTTP_AUTHORIZATION"].split("/")[3]
                if "HTTP_AUTHORIZATION" in environ
                else environ["PATH_INFO"],
                statuses[0],
                b"".join(body),
            )
        )

    slow = _after(_Preparation(release.wait), app)  # fills that take until `release`
    first = threading.Thread(target=call, args=(slow, _signed("ec2")))  # the first EC2 request applies them
    first.start()
    call(slow, _signed("s3"))  # S3 (the state bucket) and moto's own API are served meanwhile
    call(slow, {"PATH_INFO": "/moto-api/reset"})
    first.join(0.3)
    assert first.is_alive() and served == [("s3", "200 OK", b"served"), ("/moto-api/reset", "200 OK", b"served")]
    release.set()
    first.join(5)
    call(slow, _signed("dynamodb"))
    assert served[2:] == [("ec2", "200 OK", b"served"), ("dynamodb", "200 OK", b"served")]

    def broken():
        raise ImportError("no moto.ec2")

    call(_after(_Preparation(broken), app), _signed("dynamodb"))
    assert served[-1][1].startswith("500") and b"gap fills failed" in served[-1][2] and b"no moto.ec2" in served[-1][2]


def _retried_once_after_success(client, operation: str) -> None:
    """Make ``client`` try ``operation`` a second time after its first attempt succeeded, as an SDK does when that
    attempt's answer is lost on the way back: botocore resends it with the same ``amz-sdk-invocation-id`` and
    ``amz-sdk-request: attempt=2``."""

    def retry_the_first_attempt(attempts, **_):
        return 0 if attempts == 1 else None

    client.meta.events.register(
        f"needs-retry.{client.meta.service_model.endpoint_prefix}.{operation}", retry_the_first_attempt
    )


def test_a_retried_write_already_carried_out_gets_its_first_answer_again(target):
    iam = target.client("iam", Config(retries={"mode": "standard", "max_attempts": 3}))
    _retried_once_after_success(iam, "CreateRole")
    policy = '{"Version": "2012-10-17", "Statement": []}'
    created = iam.create_role(RoleName="app", AssumeRolePolicyDocument=policy)["Role"]  # two attempts, one role
    assert iam.get_role(RoleName="app")["Role"]["RoleId"] == created["RoleId"]
    assert [r["RoleName"] for r in iam.list_roles()["Roles"]] == ["app"]

    fresh = target.client("iam", Config(retries={"mode": "standard", "max_attempts": 1}))
    with pytest.raises(ClientError, match="EntityAlreadyExists"):  # a new call for the same role is still refused
        fresh.create_role(RoleName="app", AssumeRolePolicyDocument=policy)

    dynamodb = target.client("dynamodb", Config(retries={"mode": "standard", "max_attempts": 3}))
    _retried_once_after_success(dynamodb, "CreateTable")
    table = dynamodb.create_table(
        TableName="t",
        BillingMode="PAY_PER_REQUEST",
        KeySchema=[{"AttributeName": "k", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "k", "AttributeType": "S"}],
    )
    assert table["TableDescription"]["TableName"] == "t"  # not "Table already exists"


def test_fills_are_applied_once():

    fills.fill_moto_gaps()
    from moto.dynamodb.models import DynamoDBBackend

    patched = DynamoDBBackend.update_table
    fills.fill_moto_gaps()
    assert DynamoDBBackend.update_table is patched
    assert [f.__name__ for f in fills.GAP_FILLS] == [
        "fill_ec2_monitor_instances_not_implemented",
        "fill_autoscaling_tagging_not_implemented",
        "fill_pay_per_request_keeps_provisioned_throughput",
        "fill_stream_reenable_refused_after_disable",
        "fill_global_table_replicas_not_implemented",
        "fill_import_table_csv_not_implemented",
        "fill_cloudtrail_short_target_not_routed",
    ]


# -- the billing-mode and stream round trip with real Terraform --------------------------------------------------
TABLE = "module.dynamodb.aws_dynamodb_table.notifications"
GSI_VARS = (
    '-var=dynamodb_additional_attributes=[{name="type",type="S"}]',
    '-var=dynamodb_global_secondary_indexes=[{name="by-type",hash_key="type",range_key="notification_id"}]',
)


def _settings(billing: str, stream: bool) -> list[str]:
    """The table alone (``-target``): the round trip is the table's; the rest of staging (the application's
    instance, with the provider's fixed waits, and IAM) would only be planned and refreshed again each time."""
    return [
        f"-target={TABLE}",
        f"-var=dynamodb_billing_mode={billing}",
        f"-var=dynamodb_stream_enabled={str(stream).lower()}",
        *GSI_VARS,
    ]


@pytest.mark.terraform
def test_billing_mode_round_trip_applies_and_replans_clean(target, tmp_path):
    """PROVISIONED → PAY_PER_REQUEST (stream off) → PROVISIONED (stream on again), each applied to the table with
    Terraform and followed by a plan that shows no change. On stock moto the plan after the switch to
    PAY_PER_REQUEST fails (the old capacity is read back) and re-enabling the stream is refused."""
    from runbook import paths
    from runbook.errors import TerraformUnavailable
    from runbook.steps.preflight import emulator_ami
    from runbook.terraform import tfjson
    from runbook.terraform.command import Terraform
    from runbook.terraform.workspace import Workspace

    tfvars = tmp_path / "staging.tfvars"
    example = paths.environment_dir("staging") / "terraform.tfvars.example"
    tfvars.write_text(emulator_ami(target, example.read_text())[0])
    terraform = Terraform(Workspace("staging", tmp_path / "staging"), target, var_file=tfvars)
    try:
        terraform.init()
    except TerraformUnavailable as error:
        pytest.skip(f"Terraform cannot install the AWS provider here: {error}")
    dynamodb = target.client("dynamodb")
    streams = []
    for billing, stream in (("PROVISIONED", True), ("PAY_PER_REQUEST", False), ("PROVISIONED", True)):
        assert terraform.plan(*_settings(billing, stream)).has_changes
        terraform.apply_plan()
        replan = terraform.plan(*_settings(billing, stream))
        assert not replan.has_changes, f"after {billing}, stream {stream}: {replan.rows}"
        live = dynamodb.describe_table(TableName="staging-user-notifications")["Table"]
        capacity = [live["ProvisionedThroughput"]] + [
            i["ProvisionedThroughput"] for i in live["GlobalSecondaryIndexes"]
        ]
        expected = (5, 5) if billing == "PROVISIONED" else (0, 0)
        assert [(c["ReadCapacityUnits"], c["WriteCapacityUnits"]) for c in capacity] == [expected, expected]
        assert bool((live.get("StreamSpecification") or {}).get("StreamEnabled")) is stream
        streams.append(live.get("LatestStreamArn"))
        spec = tfjson.table_spec(tfjson.state_resources(terraform))
        assert (spec.billing_mode, spec.stream_enabled) == (billing, stream)
    assert streams[2] and streams[2] != streams[0], "a re-enabled stream is a new stream"
