"""runbook.steps.drift on plans recorded from the real Terraform on the emulator (tests/fixtures/drift/record.py).

Each fixture is ``terraform show -json`` of the plan ``runbook drift`` makes (with refresh): staging with fixed
provisioned capacity, production with every optional feature the emulator runs (alarms, dashboard, autoscaling,
a customer-managed KMS key, the resource policy, the VPC endpoint). What each fixture holds is in record.py.

Drift = the live value differs from the state; pending = the configuration differs from the state; values compared
as the provider means them (null = 0, ordering, JSON documents, ``tags`` derived from ``default_tags``).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from runbook.steps.drift import EXIT_DRIFT, EXIT_IN_SYNC, EXIT_PENDING, drift_report
from runbook.steps.providervalues import blocks_changed, differences, equivalent, matches_where_known
from runbook.terraform.tfjson import PlanJson

FIXTURES = Path(__file__).parent / "fixtures" / "drift"
EARLIER = Path(__file__).parent / "fixtures" / "terraform" / "drift"  # the plain staging example, recorded before
TABLE = "module.dynamodb.aws_dynamodb_table.notifications"
FULL_ACCESS = "module.dynamodb.aws_iam_policy.full_access"
SYSTEM_ERRORS = "module.dynamodb.aws_cloudwatch_metric_alarm.system_errors[0]"


def plan(name: str) -> PlanJson:
    return PlanJson.from_file(FIXTURES / f"{name}.json")


def report(name: str, **kwargs):
    return drift_report(plan(name), **kwargs)


def settings(result, status: str) -> set[tuple[str, str]]:
    return {(r.resource, r.attribute) for r in result.rows if r.status == status}


# --- in sync ----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["staging-applied", "production-applied"])
def test_right_after_an_apply_every_managed_resource_is_in_sync(name):
    recorded = plan(name)
    result = drift_report(recorded)
    assert result.exit_code == EXIT_IN_SYNC, [r for r in result.rows if r.status != "in sync"]
    managed = {c["address"] for c in recorded.resource_changes if c.get("mode") == "managed"}
    assert result.resources("in sync") == sorted(managed)


def test_production_with_every_feature_covers_each_optional_resource():
    types = {c["type"] for c in plan("production-applied").resource_changes if c.get("mode") == "managed"}
    assert {
        "aws_cloudwatch_metric_alarm",
        "aws_cloudwatch_dashboard",
        "aws_appautoscaling_target",
        "aws_appautoscaling_policy",
        "aws_kms_key",
        "aws_dynamodb_resource_policy",
        "aws_vpc_endpoint",
    } <= types, types


def test_the_system_errors_alarms_period_read_back_as_0_is_not_drift():
    """Issue 34: after a production apply the provider reads ``metric_query[*].period`` back as 0 where the
    configuration sets none; it was reported as "10 settings changed outside Terraform"."""
    recorded = plan("production-applied")
    drift = next(d for d in recorded.resource_drift if d["address"] == SYSTEM_ERRORS)
    raw = differences(drift["change"]["before"], drift["change"]["after"])
    assert raw == [], "compared by meaning, null and 0 are the same"
    before = [q.get("period") for q in drift["change"]["before"]["metric_query"]]
    after = [q.get("period") for q in drift["change"]["after"]["metric_query"]]
    assert before != after and set(after) <= {0, None}, "the recording holds the null → 0 read-back"
    assert report("production-applied").row(SYSTEM_ERRORS, "(all)", "in sync")


def test_the_earlier_plain_staging_recordings_agree():
    assert drift_report(PlanJson.from_file(EARLIER / "in-sync.json")).exit_code == EXIT_IN_SYNC
    earlier = drift_report(PlanJson.from_file(EARLIER / "drift.json"))
    assert settings(earlier, "drift") == {(TABLE, "ttl[0].enabled"), (TABLE, "tags_all.Owner")}


# --- drift --------------------------------------------------------------------------------------------------------


def test_changes_made_by_hand_are_drift_named_by_resource_and_setting():
    result = report("staging-out-of-band")
    assert result.exit_code == EXIT_DRIFT
    assert settings(result, "drift") == {
        (TABLE, "point_in_time_recovery[0].enabled"),  # PITR turned on in the console
        (TABLE, "read_capacity"),  # capacity changed by hand (no autoscaling)
        (TABLE, "tags_all.Owner"),  # a tag added by hand
        (FULL_ACCESS, "policy.Statement[0].Action"),  # the IAM policy edited (a new default version)
    }
    assert not result.pending, "the plan only sets them back: nothing of the configuration is pending"
    capacity = result.row(TABLE, "read_capacity")
    assert (capacity.state, capacity.live, capacity.configured) == ("5", "7", "5")
    assert "sets it back" in capacity.note
    tag = result.row(TABLE, "tags_all.Owner")
    assert (tag.state, tag.live) == ("null", "someone-by-hand")
    policy = result.row(FULL_ACCESS, "policy.Statement[0].Action")
    assert json.loads(policy.live) == ["dynamodb:*"] and policy.configured == policy.state
    assert result.verdict.startswith("drift: 4 setting(s) of 2 resource(s)")


def test_a_deleted_alarm_and_pitr_turned_off_are_drift():
    result = report("production-out-of-band")
    assert result.exit_code == EXIT_DRIFT
    deleted = result.row(SYSTEM_ERRORS, "(resource)", "drift")
    assert deleted.live == "deleted outside Terraform" and "creates it again" in deleted.note
    assert settings(result, "drift") == {
        (SYSTEM_ERRORS, "(resource)"),
        (TABLE, "point_in_time_recovery[0].enabled"),
        (TABLE, "point_in_time_recovery[0].recovery_period_in_days"),
    }
    pitr = result.row(TABLE, "point_in_time_recovery[0].enabled")
    assert (pitr.state, pitr.live, pitr.configured) == ("true", "false", "true")


def test_with_autoscaling_the_capacity_the_autoscaler_set_is_not_drift():
    """The module configures the live capacity when autoscaling is on: a refreshed value equal to the configuration
    is in sync, even though it differs from the state."""
    recorded = plan("production-out-of-band")
    drift = next(d for d in recorded.resource_drift if d["address"] == TABLE)
    assert drift["change"]["before"]["read_capacity"] != drift["change"]["after"]["read_capacity"]
    assert report("production-out-of-band").row(TABLE, "read_capacity") is None


# --- pending ------------------------------------------------------------------------------------------------------


def test_a_common_tags_edit_not_applied_is_pending_not_drift():
    """Issue 34: editing ``common_tags`` (``default_tags``) was reported as drift on the IAM policies and the table.
    The provider computes the refreshed ``tags`` as live tags minus the *new* default_tags; ``tags_all`` did not
    move: the configuration changed, nothing outside Terraform."""
    recorded = plan("staging-common-tags")
    refreshed_tags = {
        d["address"]
        for d in recorded.resource_drift
        if d["change"]["before"].get("tags") != d["change"]["after"].get("tags")
    }
    assert FULL_ACCESS in refreshed_tags, "the recording holds the refreshed tags the provider derived"
    result = drift_report(recorded)
    assert result.exit_code == EXIT_PENDING and not result.drifted
    assert {a for _, a in settings(result, "pending")} == {"tags_all.CostCenter"}
    assert {TABLE, FULL_ACCESS, "module.dynamodb.aws_iam_policy.read_only"} <= set(result.resources("pending"))
    row = result.row(FULL_ACCESS, "tags_all.CostCenter")
    assert (row.state, row.live, row.configured) == ("Engineering", "Engineering", "Platform")


def test_tfvars_edits_not_applied_are_pending_and_named():
    result = report("staging-tfvars-edit")
    assert result.exit_code == EXIT_PENDING and not result.drifted
    pending = settings(result, "pending")
    assert {
        (TABLE, "point_in_time_recovery[0].enabled"),
        (TABLE, "tags_all.Team"),
        (TABLE, "tags_all.CostCenter"),
    } <= pending
    pitr = result.row(TABLE, "point_in_time_recovery[0].enabled")
    assert (pitr.state, pitr.live, pitr.configured) == ("false", "false", "true")
    assert "pending" in result.verdict and "no drift" in result.verdict


def test_an_alarm_setting_edited_in_the_tfvars_is_pending_on_every_alarm():
    result = report("production-tfvars-edit")
    assert result.exit_code == EXIT_PENDING and not result.drifted
    alarms = {r for r, a in settings(result, "pending") if a.startswith(("alarm_actions", "ok_actions"))}
    assert SYSTEM_ERRORS in alarms and len(alarms) >= 5, alarms
    assert all(r.resource.startswith("module.dynamodb.aws_cloudwatch_metric_alarm") for r in result.pending)


def test_nothing_applied_yet_is_pending():
    result = report("staging-nothing-applied")
    assert result.exit_code == EXIT_PENDING and result.nothing_applied
    assert "nothing applied yet" in result.verdict
    assert all(r.attribute == "(resource)" and r.live == "absent" for r in result.pending)
    assert TABLE in result.resources("pending")


# --- both ---------------------------------------------------------------------------------------------------------


def test_drift_and_pending_at_once_are_both_reported():
    result = report("staging-both")
    assert result.exit_code == EXIT_DRIFT, "drift wins the exit code; pending is listed too"
    assert settings(result, "drift") == {(TABLE, "ttl[0].enabled")}
    assert (TABLE, "point_in_time_recovery[0].enabled") in settings(result, "pending")
    assert "also pending" in result.verdict


# --- comparison rules and output ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "a,b",
    [
        (None, 0),
        (None, ""),
        ([], None),
        ({}, None),
        (False, None),
        (1.0, 1),
        ([{"id": "b"}, {"id": "a"}], [{"id": "a"}, {"id": "b"}]),
        ('{"b": 1, "a": [2, 1]}', '{"a": [1, 2], "b": 1}'),
    ],
)
def test_equivalent_forms_are_equal(a, b):
    assert equivalent(a, b) and differences({"x": a}, {"x": b}) == []


@pytest.mark.parametrize("a,b", [(0, 5), (True, False), ("x", "y"), ({"k": "v"}, {"k": "w"}), ([1], [1, 2])])
def test_different_values_differ(a, b):
    assert not equivalent(a, b) and differences({"x": a}, {"x": b})


def test_resources_the_endpoint_cannot_read_are_never_reported_in_sync():
    result = report("staging-applied", not_readable={"aws_instance": "this emulator cannot read EC2 monitoring"})
    row = result.row("module.app.aws_instance.app", "(all)")
    assert row.status == "not readable" and "cannot read" in row.note
    assert "module.app.aws_instance.app" not in result.resources("in sync")


@pytest.mark.parametrize("name", ["staging-nothing-applied", "staging-applied", "staging-out-of-band", "staging-both"])
def test_json_and_frame_carry_every_row(name):
    result = report(name)
    data = result.to_dict()
    assert data["exit_code"] == result.exit_code and len(data["rows"]) == len(result.rows)
    assert list(result.to_frame().columns) == ["resource", "attribute", "state", "live", "configured", "status", "note"]
    assert sum(result.summary().values()) == len(result.rows)


# --- growing tables (issue 31): replicas, scheduled scaling, an imported table ------------------------------------
# Recorded by record.py's growth and imported groups. moto has no global tables: the replicas are the package's
# emulator fill (runbook.aws.emulator.fill_global_table_replicas_not_implemented), as is the CSV import.

SCHEDULE = 'module.dynamodb.aws_appautoscaling_scheduled_action.capacity["burst-up"]'


def test_a_global_table_with_a_scheduled_minimum_is_in_sync_after_its_apply():
    recorded = plan("growth-applied")
    result = drift_report(recorded)
    assert result.exit_code == EXIT_IN_SYNC, [r for r in result.rows if r.status != "in sync"]
    table = next(c for c in recorded.resource_changes if c["address"] == TABLE)
    assert sorted(r["region_name"] for r in table["change"]["before"]["replica"]) == ["eu-west-1", "us-west-2"]
    assert SCHEDULE in result.resources("in sync")


def test_replica_blocks_are_dynamic_so_the_configuration_expressions_do_not_list_them():
    """Why the classifier also asks the plan: ``expressions`` leaves out dynamic blocks (replica, GSIs, import)."""
    attributes = plan("growth-applied").configured_attributes(TABLE)
    assert "replica" not in attributes and "global_secondary_index" not in attributes
    assert "billing_mode" in attributes


def test_a_replica_deleted_and_a_schedule_edited_by_hand_are_drift():
    result = report("growth-out-of-band")
    assert result.exit_code == EXIT_DRIFT
    assert settings(result, "drift") == {(TABLE, "replica"), (SCHEDULE, "scalable_target_action[0].min_capacity")}
    assert not result.pending, "the plan only sets them back"
    replica = result.row(TABLE, "replica")
    assert replica.note == "us-west-2 removed outside Terraform; the next apply sets it back"
    assert "us-west-2" in replica.state and "us-west-2" not in replica.live and "us-west-2" in replica.configured
    schedule = result.row(SCHEDULE, "scalable_target_action[0].min_capacity")
    assert (schedule.state, schedule.live, schedule.configured) == ("10", "20", "10")


def test_a_replica_and_a_schedule_edited_in_the_tfvars_are_pending():
    result = report("growth-tfvars-edit")
    assert result.exit_code == EXIT_PENDING and not result.drifted
    assert result.row(TABLE, "replica").note == "ap-southeast-2 added by the configuration"
    schedule = result.row(SCHEDULE, "scalable_target_action[0].min_capacity")
    assert (schedule.state, schedule.live, schedule.configured) == ("10", "10", "15")
    # the IAM policies follow the replicas (issue 31): the new region's table is added to both
    policies = {r.resource for r in result.pending if r.resource.startswith("module.dynamodb.aws_iam_policy")}
    assert policies == {FULL_ACCESS, "module.dynamodb.aws_iam_policy.read_only"}
    tables = json.loads(result.row(FULL_ACCESS, "policy.Statement[0].Resource").configured)
    assert "arn:aws:dynamodb:ap-southeast-2:123456789012:table/staging-growth-notifications" in tables


def test_an_imported_table_is_pending_its_stream_and_tags_then_in_sync():
    """The provider creates a table loaded from S3 without its stream and tags (hashicorp/terraform-provider-aws
    #41639): the first plan after the import adds them; that is the configuration, not drift."""
    follow_up = report("imported-follow-up")
    assert follow_up.exit_code == EXIT_PENDING and not follow_up.drifted
    assert {"stream_enabled", "tags_all"} <= {a.split(".")[0] for r, a in settings(follow_up, "pending") if r == TABLE}
    applied = report("imported-applied")
    assert applied.exit_code == EXIT_IN_SYNC, [r for r in applied.rows if r.status != "in sync"]
    table = next(c for c in plan("imported-applied").resource_changes if c["address"] == TABLE)
    assert table["change"]["before"]["import_table"][0]["input_format"] == "CSV", "the import is in the state"


def test_blocks_are_compared_as_sets_with_unknown_parts_matching():
    state = [{"region_name": "eu-west-1", "arn": "a"}, {"region_name": "us-west-2", "arn": "b"}]
    configured = [{"region_name": "us-west-2"}, {"region_name": "eu-west-1", "arn": "a"}]
    assert matches_where_known(configured, state, [{"arn": True}, {}])
    assert not matches_where_known(configured, state, [{}, {}]), "a known value that differs does not match"
    assert not matches_where_known(configured[:1], state, None)
    assert blocks_changed(state, state[:1]) == "us-west-2 removed"
    assert blocks_changed(state[:1], state) == "us-west-2 added"
    assert blocks_changed([{"arn": "a"}], []) == "" and blocks_changed("x", "y") == ""
