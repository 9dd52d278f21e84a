"""04-troubleshooting through papermill on a production table broken on purpose."""

import papermill
import pytest

from runbook import paths
from runbook.emulator import Emulator
from runbook.record import read_records
from runbook.tfconfig import load_environment

pytestmark = pytest.mark.notebooks


def test_each_problem_is_found(tmp_path):
    spec = load_environment("production").table
    with Emulator() as emu:
        emu.reset()
        from runbook.aws import Target

        target = Target("us-east-1", emu.endpoint_url)
        dynamodb = target.client("dynamodb")
        dynamodb.create_table(  # created by hand: no PITR, no deletion protection, not in any state
            TableName=spec.name, BillingMode="PAY_PER_REQUEST",
            KeySchema=[{"AttributeName": "user_id", "KeyType": "HASH"},
                       {"AttributeName": "notification_id", "KeyType": "RANGE"}],
            AttributeDefinitions=[{"AttributeName": "user_id", "AttributeType": "S"},
                                  {"AttributeName": "notification_id", "AttributeType": "S"}])
        cloudwatch = target.client("cloudwatch")
        alarm = f"{spec.name}-read-throttle-events"
        cloudwatch.put_metric_alarm(AlarmName=alarm, Namespace="AWS/DynamoDB", MetricName="ReadThrottleEvents",
                                    Dimensions=[{"Name": "TableName", "Value": spec.name}], Statistic="Sum",
                                    Period=300, EvaluationPeriods=1, Threshold=10,
                                    ComparisonOperator="GreaterThanThreshold")
        cloudwatch.set_alarm_state(AlarmName=alarm, StateValue="ALARM", StateReason="test: throttled")
        out = tmp_path / "04.ipynb"
        papermill.execute_notebook(str(paths.NOTEBOOKS / "04-troubleshooting.ipynb"), str(out),
                                   parameters={"environment": "production", "aws_endpoint_url": emu.endpoint_url,
                                               "work_dir": str(tmp_path / "work")},
                                   progress_bar=False, cwd=str(paths.NOTEBOOKS))
    findings = read_records(out)["findings"]
    assert findings["table exists but not in state"] == "problem"
    assert findings["module not found"] == "problem"
    assert findings["PITR off in production"] == "problem"
    assert findings["deletion protection off in production"] == "problem"
    assert findings["alarms in ALARM"] == "problem"
    assert findings["access denied"] == "unavailable"
