"""runbook.drift on plans recorded from the real Terraform (tests/fixtures/terraform/drift/record.py).

The fixtures are ``terraform show -json tfplan`` of the staging root on the embedded emulator: before the first
apply (everything pending), right after it (in sync), after TTL and a tag were changed with boto3 (drift), and
after the working tfvars turned PITR on (pending only).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from runbook.drift import EXIT_DRIFT, EXIT_IN_SYNC, EXIT_PENDING, drift_report
from runbook.tfjson import PlanJson

FIXTURES = Path(__file__).parent / "fixtures" / "terraform" / "drift"
TABLE = "module.dynamodb.aws_dynamodb_table.notifications"


def report(name: str, **kwargs):
    return drift_report(PlanJson.from_file(FIXTURES / f"{name}.json"), **kwargs)


def test_nothing_applied_yet_is_pending_not_drift():
    result = report("create")
    assert result.exit_code == EXIT_PENDING
    assert not result.drifted
    assert {r.resource for r in result.pending} >= {TABLE, "aws_instance.app", "aws_iam_role.app"}
    assert all(r.attribute == "(resource)" and r.live == "absent" for r in result.pending)


def test_right_after_apply_everything_is_in_sync():
    """Computed attributes the first refresh fills in (arn, attachment_count…) are not changes outside Terraform."""
    result = report("in-sync")
    assert result.exit_code == EXIT_IN_SYNC, [r for r in result.rows if r.status != "in sync"]
    assert result.in_sync and result.ok
    assert TABLE in result.resources("in sync")
    assert "module.dynamodb.aws_iam_policy.full_access" in result.resources("in sync")


def test_a_change_made_with_boto3_is_drift_per_attribute():
    result = report("drift")
    assert result.exit_code == EXIT_DRIFT
    rows = {(r.resource, r.attribute): r for r in result.drifted}
    ttl = rows[(TABLE, "ttl[0].enabled")]
    assert (ttl.configured, ttl.live) == ("true", "false")
    assert "sets it back" in ttl.note
    tags = rows[(TABLE, "tags")]
    assert "someone-by-hand" in tags.live and "someone-by-hand" not in tags.configured
    assert {r.resource for r in result.drifted} == {TABLE}, "only the table was changed outside Terraform"
    assert "drift" in result.verdict


def test_an_unapplied_tfvars_edit_is_pending_with_before_and_after():
    result = report("pending")
    assert result.exit_code == EXIT_PENDING
    assert not result.drifted
    pitr = next(r for r in result.pending if r.attribute == "point_in_time_recovery[0].enabled")
    assert (pitr.resource, pitr.configured, pitr.live) == (TABLE, "true", "false")
    assert "pending" in result.verdict


def test_resources_the_endpoint_cannot_read_are_never_reported_ok():
    result = report("in-sync", not_readable={"aws_instance": "this emulator cannot read EC2 monitoring"})
    row = next(r for r in result.rows if r.resource == "aws_instance.app")
    assert row.status == "not readable" and "cannot read" in row.note
    assert "aws_instance.app" not in result.resources("in sync")


@pytest.mark.parametrize("name", ["create", "in-sync", "drift", "pending"])
def test_json_and_frame_carry_every_row(name):
    result = report(name)
    data = result.to_dict()
    assert data["exit_code"] == result.exit_code and len(data["rows"]) == len(result.rows)
    assert list(result.to_frame().columns) == ["resource", "attribute", "configured", "live", "status", "note"]
    assert sum(result.summary().values()) == len(result.rows)
