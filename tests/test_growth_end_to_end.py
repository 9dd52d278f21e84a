"""Growing tables with the real Terraform on the embedded emulator (staging root, through the gate): a global table
with two replicas, a GSI with its own autoscaling and a scheduled minimum, a table loaded from a CSV in the
emulator's S3. Each is applied, re-planned clean (no change), then removed. About 7 minutes: the provider waits for
each replica to become active. Replicas and the CSV import need the
emulator's fills (runbook.aws.emulator: fill_global_table_replicas_not_implemented,
fill_import_table_csv_not_implemented).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from runbook import paths
from runbook.aws.target import Target
from runbook.errors import TerraformUnavailable
from runbook.steps.gate import apply_reviewed, decide, plan_and_review
from runbook.steps.preflight import emulator_ami
from runbook.terraform.command import Terraform
from runbook.terraform.workspace import Workspace

NAME = "staging-user-notifications"
TABLE = "module.dynamodb.aws_dynamodb_table.notifications"

GROWN = """dynamodb_replicas = [
  { region_name = "us-west-2" },
  { region_name = "eu-west-1", point_in_time_recovery = true },
]
dynamodb_billing_mode             = "PROVISIONED"
dynamodb_autoscaling_enabled      = true
dynamodb_additional_attributes    = [{ name = "status", type = "S" }]
dynamodb_global_secondary_indexes = [{ name = "by-status", hash_key = "status", range_key = "notification_id" }]
dynamodb_autoscaling_indexes      = { "by-status" = { write_min = 2, write_max = 40, scale_in_cooldown = 600 } }
dynamodb_autoscaling_schedules = [
  { name = "burst-up", schedule = "cron(45 6 * * ? *)", target = "index/by-status", min_capacity = 10 },
]
"""
IMPORT = """dynamodb_import_table = {
  bucket       = "seed-notifications"
  key_prefix   = "seed/"
  input_format = "CSV"
  csv          = { delimiter = "," }
}
"""


@pytest.fixture
def staging(target, tmp_path):
    """``configure(extra)``: a Terraform of the staging root whose tfvars is 01's emulator copy plus ``extra``."""
    workspace = Workspace("staging", tmp_path / "staging")
    example = emulator_ami(target, (paths.environment_dir("staging") / "terraform.tfvars.example").read_text())[0]

    def configure(extra: str = "") -> Terraform:
        var_file = Path(tmp_path / "growth.tfvars")
        names = {line.split("=")[0].strip() for line in extra.splitlines() if line[:1].isalpha()}
        kept = [line for line in example.splitlines() if line.split("=")[0].strip() not in names]
        var_file.write_text("\n".join(kept) + "\n" + extra)
        return Terraform(workspace, target, var_file=var_file)

    try:
        configure().init()
    except TerraformUnavailable as error:
        pytest.skip(f"Terraform cannot install the AWS provider here: {error}")
    return configure


def apply_through_the_gate(terraform: Terraform, destroy: bool = False):
    """Plan, review and apply through the gate (staging: apply=True, and allow_destroy naming exactly the
    destructive changes). Returns the review and the completed addresses."""
    reviewed = plan_and_review(terraform, plan_args=("-destroy",) if destroy else ()).review
    decision = decide(
        reviewed, "staging", NAME, apply=True, allow_destroy=",".join(reviewed.destructive_addresses), destroy=destroy
    )  # a teardown also needs its own parameter
    return reviewed, {c["address"] for c in apply_reviewed(terraform, reviewed, decision).completed}


def applied(terraform: Terraform, destroy: bool = False) -> set[str]:
    """:func:`apply_through_the_gate`, then the same configuration plans no change. Returns the completed
    addresses."""
    _, done = apply_through_the_gate(terraform, destroy)
    replan = terraform.plan(*(("-destroy",) if destroy else ()))
    assert not replan.has_changes, f"the plan after the apply is not clean: {replan.rows}"
    return done


def _exists(dynamodb, name: str) -> bool:
    return name in dynamodb.list_tables()["TableNames"]


@pytest.mark.terraform
def test_replicas_scaling_schedule_and_import_apply_replan_clean_and_go(staging, target):
    home = target.client("dynamodb")
    west = Target("us-west-2", target.endpoint_url).client("dynamodb")
    europe = Target("eu-west-1", target.endpoint_url).client("dynamodb")
    scaling = target.client("application-autoscaling")

    # 1. a global table with two replicas, a GSI with its own autoscaling and a scheduled minimum: applied, then
    #    destroyed through the gate (replicas first, as the provider does)
    done = applied(staging(GROWN))
    assert TABLE in done and 'module.dynamodb.aws_appautoscaling_scheduled_action.capacity["burst-up"]' in done
    replicas = {r["RegionName"]: r["ReplicaStatus"] for r in home.describe_table(TableName=NAME)["Table"]["Replicas"]}
    assert replicas == {"us-west-2": "ACTIVE", "eu-west-1": "ACTIVE"}
    assert _exists(west, NAME) and _exists(europe, NAME)
    assert (
        europe.describe_continuous_backups(TableName=NAME)["ContinuousBackupsDescription"][
            "PointInTimeRecoveryDescription"
        ]["PointInTimeRecoveryStatus"]
        == "ENABLED"
    )
    assert (
        west.describe_continuous_backups(TableName=NAME)["ContinuousBackupsDescription"][
            "PointInTimeRecoveryDescription"
        ]["PointInTimeRecoveryStatus"]
        == "DISABLED"
    )  # follows pitr_enabled (off)
    action = scaling.describe_scheduled_actions(ServiceNamespace="dynamodb")["ScheduledActions"]
    assert [
        (a["ResourceId"], a["ScalableDimension"], a["Schedule"], a["ScalableTargetAction"]["MinCapacity"])
        for a in action
    ] == [(f"table/{NAME}/index/by-status", "dynamodb:index:WriteCapacityUnits", "cron(45 6 * * ? *)", 10)]
    index_target = scaling.describe_scalable_targets(
        ServiceNamespace="dynamodb",
        ResourceIds=[f"table/{NAME}/index/by-status"],
        ScalableDimension="dynamodb:index:WriteCapacityUnits",
    )["ScalableTargets"]
    assert [(t["MinCapacity"], t["MaxCapacity"]) for t in index_target] == [(2, 40)]
    applied(staging(GROWN), destroy=True)
    assert not _exists(home, NAME) and not _exists(west, NAME) and not _exists(europe, NAME)
    assert scaling.describe_scheduled_actions(ServiceNamespace="dynamodb")["ScheduledActions"] == []

    # 3. a new table loaded from a CSV in the emulator's S3; then destroyed
    s3 = target.client("s3")
    s3.create_bucket(Bucket="seed-notifications")
    s3.put_object(
        Bucket="seed-notifications",
        Key="seed/part-1.csv",
        Body=b"user_id,notification_id,status\nu1,n1,unread\nu1,n2,read\nu2,n1,unread\n",
    )
    _, done = apply_through_the_gate(staging(IMPORT))
    assert TABLE in done
    # The provider's import path creates the table without its stream and tags (hashicorp/terraform-provider-aws
    # #41639, on AWS as here): the next plan adds exactly those, and after that apply the plan is clean.
    follow_up, _ = apply_through_the_gate(staging(IMPORT))
    change = follow_up.change(TABLE)
    assert [c.address for c in follow_up.changes] == [TABLE] and change.action == "update"
    changed = {a.path.split(".")[0].split("[")[0] for a in change.attributes}
    assert (
        {"stream_enabled", "tags"}
        <= changed
        <= {"stream_enabled", "stream_view_type", "tags", "tags_all", "stream_arn", "stream_label"}
    ), changed
    assert not staging(IMPORT).plan().has_changes
    assert home.scan(TableName=NAME, Select="COUNT")["Count"] == 3
    assert home.get_item(TableName=NAME, Key={"user_id": {"S": "u1"}, "notification_id": {"S": "n2"}})["Item"][
        "status"
    ] == {"S": "read"}
    applied(staging(IMPORT), destroy=True)
    assert not _exists(home, NAME)
