"""Running the plan-and-apply runbook twice on the same emulator: same result, nothing duplicated."""

import pytest

from runbook.aws.emulator import Emulator
from runbook.aws.target import Target
from runbook.execution import runner
from runbook.execution.record import read_records

pytestmark = pytest.mark.notebooks


def inventory(target: Target) -> dict:
    return {
        "tables": sorted(target.client("dynamodb").list_tables()["TableNames"]),
        "policies": sorted(p["PolicyName"] for p in target.client("iam").list_policies(Scope="Local")["Policies"]),
        "roles": sorted(r["RoleName"] for r in target.client("iam").list_roles()["Roles"]),
        "instances": sum(len(r["Instances"]) for r in target.client("ec2").describe_instances()["Reservations"]),
    }


def test_second_run_changes_nothing(tmp_path):
    with Emulator() as emu:
        emu.reset()
        target = Target("us-east-1", emu.endpoint_url)
        first = runner.run(
            ["staging"], ["01", "02"], emu.endpoint_url, output_dir=tmp_path / "a", work_dir=tmp_path / "work"
        )
        assert first.ok, [r.error for r in first.results]
        after_first = inventory(target)
        second = runner.run(
            ["staging"], ["01", "02"], emu.endpoint_url, output_dir=tmp_path / "b", work_dir=tmp_path / "work"
        )
        assert second.ok, [r.error for r in second.results]
        assert inventory(target) == after_first
    one = read_records(tmp_path / "a" / "staging" / "02-plan-and-apply.ipynb")
    two = read_records(tmp_path / "b" / "staging" / "02-plan-and-apply.ipynb")
    assert one["drift_exit_code"] == 3 and two["drift_exit_code"] == 0, "first all pending, then in sync"
    assert after_first["tables"] == ["staging-user-notifications"]
    assert after_first["instances"] == 1 and "staging-dynamodb-notifications-access" in after_first["policies"]
    assert one["plan_summary"] and two["plan_summary"] == {}, "the second plan must show no changes"
    assert one["outputs"]["dynamodb_notifications_table_arn"] == two["outputs"]["dynamodb_notifications_table_arn"]
