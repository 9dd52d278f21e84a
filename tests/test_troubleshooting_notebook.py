"""04-troubleshooting and 06-operations through papermill on the embedded emulator, asserting on recorded values."""

from __future__ import annotations

import json
import re
import time

import papermill
import pytest
from tables import create_table

from runbook import paths, workconfig
from runbook.aws.emulator import Emulator
from runbook.aws.target import Target
from runbook.errors import TerraformUnavailable
from runbook.execution.record import read_records
from runbook.steps.preflight import emulator_ami
from runbook.terraform import tfjson
from runbook.terraform.command import Terraform
from runbook.terraform.workspace import Workspace

pytestmark = pytest.mark.notebooks


def run(name: str, out, **parameters) -> dict:
    papermill.execute_notebook(
        str(paths.NOTEBOOKS / name), str(out), parameters=parameters, progress_bar=False, cwd=str(paths.NOTEBOOKS)
    )
    return read_records(out)


@pytest.fixture(scope="module")
def emu():
    with Emulator() as emulator:
        yield emulator


def working_tfvars(environment: str, target: Target, directory) -> str:
    """A copy of the environment's example (with an AMI the emulator knows), as 01-setup makes it."""
    path = directory / f"{environment}.tfvars"
    path.write_text(emulator_ami(target, workconfig.example_file(environment).read_text())[0])
    return str(path)


def test_each_problem_is_found_and_displayed_where_computed(emu, tmp_path):
    """A production table made by hand (no PITR, no deletion protection, not in any state), a throttling alarm in
    ALARM, no `terraform init` in the work directory: each problem is found, and every finding is displayed in
    the cell that computes it (the High Costs cell included), then summarised."""
    emu.reset()
    target = Target("us-east-1", emu.endpoint_url)
    tfvars = working_tfvars("production", target, tmp_path)
    name = workconfig.read_values(tfvars)["dynamodb_notifications_table_name"]
    dynamodb = target.client("dynamodb")
    dynamodb.create_table(
        TableName=name,
        BillingMode="PAY_PER_REQUEST",
        KeySchema=[
            {"AttributeName": "user_id", "KeyType": "HASH"},
            {"AttributeName": "notification_id", "KeyType": "RANGE"},
        ],
        AttributeDefinitions=[
            {"AttributeName": "user_id", "AttributeType": "S"},
            {"AttributeName": "notification_id", "AttributeType": "S"},
        ],
    )
    cloudwatch = target.client("cloudwatch")
    alarm = f"{name}-read-throttle-events"
    cloudwatch.put_metric_alarm(
        AlarmName=alarm,
        Namespace="AWS/DynamoDB",
        MetricName="ReadThrottleEvents",
        Dimensions=[{"Name": "TableName", "Value": name}],
        Statistic="Sum",
        Period=300,
        EvaluationPeriods=1,
        Threshold=10,
        ComparisonOperator="GreaterThanThreshold",
    )
    cloudwatch.set_alarm_state(AlarmName=alarm, StateValue="ALARM", StateReason="test: throttled")
    work = tmp_path / "work"
    records = run(
        "04-troubleshooting.ipynb",
        tmp_path / "04.ipynb",
        environment="production",
        aws_endpoint_url=emu.endpoint_url,
        work_dir=str(work),
        tfvars=tfvars,
    )
    if records["table_source"]["table"] is None and "provider" in records["table_source"]["source"]:
        pytest.skip(f"Terraform cannot plan here: {records['table_source']['source']}")
    assert records["table_source"]["table"] == name and "a plan of" in records["table_source"]["source"]
    assert not (work / "production" / "infrastructure" / "production" / ".terraform").exists(), (
        "04 planned in the work directory"
    )
    findings = records["findings"]
    assert findings["table exists but not in state"] == "problem"
    assert findings["module not found"] == "problem"
    assert findings["PITR off in production"] == "problem"
    assert findings["deletion protection off in production"] == "problem"
    assert findings["alarms in ALARM"] == "problem"
    assert findings["access denied"] == "unavailable"
    assert {"high costs: scans", "high costs: TTL", "high costs: hot keys", "high costs: billing mode"} <= set(findings)
    assert findings["high costs: scans"] == "unavailable", "no metric data on the emulator: said, never ok"
    # show() records what it displayed: every finding of the summary, each displayed by its own cell.
    # a single-region on-demand table: no replica planned or live, no autoscaling (runbook.steps.replicas)
    assert findings["global table replicas"] == "ok" and findings["autoscaling activity"] == "ok"
    assert records["replica_status"] == [] and records["scaling_activity"] == []
    assert sorted(records["displayed_findings"]) == sorted(findings) and len(findings) == 14
    # the hand-made alarm notifies no one: 04 lists it under "(none)"
    (silent,) = records["alarm_destinations"]
    assert silent["destination"] == "(none)" and silent["on_alarm"] == 1 and alarm in silent["subscriptions"]


def test_operations_without_a_table_say_why_each_step_is_skipped(emu, tmp_path):
    records = run(
        "06-operations.ipynb",
        tmp_path / "06.ipynb",
        environment="staging",
        aws_endpoint_url=emu.endpoint_url,
        work_dir=str(tmp_path / "work"),
        apply=True,
    )
    assert records["table_exists"] is False
    drill = records["drill"]
    assert drill["status"] == "skipped: no table" and not drill["ok"]
    assert any("no state or saved plan" in note and "02-plan-and-apply" in note for note in drill["notes"])
    assert "demo" not in records and "smoke" not in records


@pytest.fixture(scope="module")
def planned_staging(emu, tmp_path_factory):
    """A staging work directory with Terraform's saved plan, and the planned table made on the emulator."""
    emu.reset()
    base = tmp_path_factory.mktemp("ops")
    target = Target("us-east-1", emu.endpoint_url)
    tfvars = working_tfvars("staging", target, base)
    terraform = Terraform(Workspace.for_environment("staging", base / "work"), target, var_file=tfvars)
    try:
        terraform.init()
    except TerraformUnavailable as error:
        pytest.skip(f"Terraform cannot install the AWS provider here: {error}")
    terraform.plan()
    spec = tfjson.table_spec(tfjson.load_plan(terraform).planned_resources())
    create_table(target, spec)
    return base, tfvars, spec


def test_operations_rerun_reports_the_same_counts(emu, planned_staging, tmp_path):
    """06 twice with apply=True: 50 demo items stay 50, the drill restores the same count, and the checks leave
    nothing behind (same smoke and TTL figures, no drill tables)."""
    base, tfvars, spec = planned_staging
    parameters = dict(
        environment="staging", aws_endpoint_url=emu.endpoint_url, work_dir=str(base / "work"), tfvars=tfvars, apply=True
    )
    first = run("06-operations.ipynb", tmp_path / "first.ipynb", **parameters)
    second = run("06-operations.ipynb", tmp_path / "second.ipynb", **parameters)
    for records in (first, second):
        assert records["table_exists"] is True
        assert records["demo"]["present"] == records["demo"]["written"] == 50
        assert records["drill"]["ok"] and records["drill"]["source_items"] == 50
        assert records["drill"]["backup_items"] == 50 and records["drill"]["remaining_drill_tables"] == []
    assert first["smoke"]["written"] == second["smoke"]["written"] and second["smoke"]["ok"]
    assert (
        first["ttl"]["written"] == second["ttl"]["written"]
        and first["ttl"]["cleaned_up"] == second["ttl"]["cleaned_up"]
    )
    dynamodb = Target("us-east-1", emu.endpoint_url).client("dynamodb")
    assert dynamodb.list_tables()["TableNames"] == [spec.name]
    assert dynamodb.scan(TableName=spec.name, Select="COUNT")["Count"] == 50


def test_ttl_and_hot_keys_verdicts_follow_the_items_in_04_and_06(emu, planned_staging, tmp_path):
    """The issue's scenario: a staging table with 600 items whose TTL expired 10 days ago, 500 of them on one
    partition key. 04's High Costs: TTL is a problem (expired items still present) and the hot key is found; 06
    (reading only) shows the same TTL verdict: one check."""
    base, tfvars, spec = planned_staging
    dynamodb = Target("us-east-1", emu.endpoint_url).client("dynamodb")
    expired = str(int(time.time()) - 10 * 86400)
    keys = [
        {"user_id": {"S": "hot-user" if i < 500 else f"user-{i % 4}"}, "notification_id": {"S": f"n{i:04d}"}}
        for i in range(600)
    ]
    for i in range(0, len(keys), 25):
        dynamodb.batch_write_item(
            RequestItems={
                spec.name: [{"PutRequest": {"Item": {**key, "ttl": {"N": expired}}}} for key in keys[i : i + 25]]
            }
        )
    try:
        parameters = dict(
            environment="staging", aws_endpoint_url=emu.endpoint_url, work_dir=str(base / "work"), tfvars=tfvars
        )
        four = run("04-troubleshooting.ipynb", tmp_path / "04.ipynb", **parameters)
        six = run("06-operations.ipynb", tmp_path / "06.ipynb", **parameters)
    finally:
        for i in range(0, len(keys), 25):
            dynamodb.batch_write_item(
                RequestItems={spec.name: [{"DeleteRequest": {"Key": key}} for key in keys[i : i + 25]]}
            )
    assert four["findings"]["high costs: TTL"] == "problem"
    assert four["findings"]["high costs: hot keys"] == "warning"
    assert six["ttl_verdict"]["status"] == "problem"
    assert "600 items expired more than 48 h ago are still in the table" in six["ttl_verdict"]["finding"]


@pytest.mark.parametrize("name", ["04-troubleshooting", "06-operations"])
def test_dollar_signs_in_markdown_are_escaped(name):
    """JupyterLab and the site render text between two `$` as LaTeX: money is written `\\$1.25`."""
    nb = json.loads((paths.NOTEBOOKS / f"{name}.ipynb").read_text())
    for cell in nb["cells"]:
        if cell["cell_type"] == "markdown":
            text = re.sub(r"`[^`]*`", "", "".join(cell["source"]))  # code spans are not typeset
            assert not re.search(r"(?<!\\)\$", text), f"{name}: unescaped $ in {text!r}"
