"""The gate with the real Terraform on the embedded emulator (staging): a table outside Terraform stops the apply
before anything is created; a rename (the table's replacement) with apply=True alone is refused and the table and
its items are intact; a wrong plan_sha256 is refused; with the exact allow_destroy and the reviewed hash it is
applied. Two applies (~30 s each)."""

from __future__ import annotations

import pytest

from runbook import paths
from runbook.errors import TerraformUnavailable
from runbook.steps.gate import ChangeRefused, PlanMismatch, apply_reviewed, decide, plan_and_review, review_saved_plan
from runbook.steps.importing import table_exists
from runbook.steps.livevalues import live_reader
from runbook.steps.preflight import emulator_ami
from runbook.terraform.command import Terraform
from runbook.terraform.workspace import Workspace

NAME = "staging-user-notifications"
RENAMED = "staging-user-notifications-v2"
TABLE = "module.dynamodb.aws_dynamodb_table.notifications"


@pytest.fixture
def terraform(target, tmp_path):
    workspace = Workspace("staging", tmp_path / "staging")
    example = (paths.environment_dir("staging") / "terraform.tfvars.example").read_text()
    var_file = workspace.generated_tfvars
    var_file.parent.mkdir(parents=True, exist_ok=True)
    var_file.write_text(emulator_ami(target, example)[0])  # as 01-setup writes it on an emulator
    tf = Terraform(workspace, target, var_file=var_file)
    try:
        tf.init()
    except TerraformUnavailable as error:
        pytest.skip(f"Terraform cannot install the AWS provider here: {error}")
    return tf


def items(target, table: str) -> int:
    return target.client("dynamodb").scan(TableName=table, Select="COUNT")["Count"]


@pytest.mark.terraform
def test_the_gate_on_real_plans(terraform, target):
    dynamodb = target.client("dynamodb")

    # A hand-made table with the configured name: 02 stops before any resource is created.
    dynamodb.create_table(
        TableName=NAME,
        BillingMode="PAY_PER_REQUEST",
        KeySchema=[{"AttributeName": "user_id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "user_id", "AttributeType": "S"}],
    )
    first = plan_and_review(terraform, table_exists=lambda name: table_exists(target, name)).review
    assert first.conflict and "03-import" in first.summary
    with pytest.raises(ChangeRefused, match="already exists outside Terraform"):
        decide(first, "staging", NAME, apply=True)
    assert terraform.state_addresses() == []
    assert target.client("iam").list_roles()["Roles"] == [], "nothing was created"
    dynamodb.delete_table(TableName=NAME)

    # The plain create: apply=True is enough in staging; the saved plan (same bytes) is applied.
    first = review_saved_plan(terraform, table_exists=table_exists(target, NAME))
    assert first.conflict is None and first.summary == "7 to create"
    applied = apply_reviewed(terraform, first, decide(first, "staging", NAME, apply=True))
    assert applied.plan_sha256 == first.plan_sha256 and TABLE in {c["address"] for c in applied.completed}
    for i in range(3):
        dynamodb.put_item(TableName=NAME, Item={"user_id": {"S": f"u{i}"}, "notification_id": {"S": f"n{i}"}})
    state_before = sorted(terraform.state_addresses())

    # The rename: a replacement. apply=True alone is refused; nothing changes.
    terraform.plan(f"-var=dynamodb_notifications_table_name={RENAMED}")
    rename = review_saved_plan(terraform, live=live_reader(target))
    assert rename.change(TABLE).action == "replace" and rename.change(TABLE).replace_paths == ["name"]
    assert "the table: data is lost (3 items" in rename.summary
    with pytest.raises(ChangeRefused, match="allow_destroy=") as error:
        decide(rename, "staging", NAME, apply=True)
    assert ",".join(rename.destructive_addresses) in str(error.value)
    assert items(target, NAME) == 3 and not table_exists(target, RENAMED)
    assert sorted(terraform.state_addresses()) == state_before

    # Production refuses it outright while deletion protection is on (the live table's value passed in).
    with pytest.raises(ChangeRefused, match="deletion protection is on"):
        decide(
            rename,
            "production",
            NAME,
            apply=True,
            confirm=NAME,
            allow_destroy=",".join(rename.destructive_addresses),
            deletion_protection=True,
        )

    # The right allow_destroy, but a plan_sha256 that is not this plan's: refused, nothing changed.
    decision = decide(rename, "staging", NAME, apply=True, allow_destroy=",".join(rename.destructive_addresses))
    assert decision.allowed
    with pytest.raises(PlanMismatch):
        apply_reviewed(terraform, rename, decision, expected_sha256="0" * 64)
    assert items(target, NAME) == 3 and not table_exists(target, RENAMED)

    # The next run, with the reviewed hash: no new plan; the saved plan is applied.
    again = plan_and_review(terraform, plan_sha256=rename.plan_sha256, live=live_reader(target)).review
    assert again.plan_sha256 == rename.plan_sha256
    decision = decide(again, "staging", NAME, apply=True, allow_destroy=",".join(again.destructive_addresses))
    apply_reviewed(terraform, again, decision, expected_sha256=rename.plan_sha256)
    assert table_exists(target, RENAMED) and not table_exists(target, NAME)
    assert items(target, RENAMED) == 0, "the replacement is a new, empty table: what the review said"
