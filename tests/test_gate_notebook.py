"""02's gate, as an operator meets it: a rename of the table in the working tfvars replaces it (its items are lost).

Real Terraform on the embedded emulator. ``apply=True`` alone is refused and changes nothing (the table and its
items intact, no new table); the same run with ``allow_destroy`` listing exactly the destructive addresses (the
review recorded them) applies it.
"""

from __future__ import annotations

import re

import papermill
import pytest

from runbook import paths
from runbook.execution import runner
from runbook.execution.record import read_records
from runbook.steps import preflight

pytestmark = [pytest.mark.notebooks, pytest.mark.terraform]
NAME, RENAMED = "staging-user-notifications", "staging-user-notifications-v2"


def test_a_replacement_needs_allow_destroy(tmp_path, target):
    from runbook.terraform.binary import find_mirror

    if find_mirror() is None:
        pytest.skip("the AWS provider cannot be installed here (no filesystem mirror)")
    tfvars = tmp_path / "operator.tfvars"
    text, _ = preflight.emulator_ami(
        target, (paths.environment_dir("staging") / "terraform.tfvars.example").read_text()
    )
    tfvars.write_text(text)
    parameters = {
        "environment": "staging",
        "aws_region": "us-east-1",
        "aws_endpoint_url": target.endpoint_url,
        "work_dir": str(tmp_path / "work"),
        "tfvars": str(tfvars),
    }
    notebook = paths.NOTEBOOKS / "02-plan-and-apply.ipynb"
    runner.execute_notebook(notebook, tmp_path / "create.ipynb", {**parameters, "apply": True})
    dynamodb = target.client("dynamodb")
    for i in range(3):
        dynamodb.put_item(TableName=NAME, Item={"user_id": {"S": f"u{i}"}, "notification_id": {"S": f"n{i}"}})

    tfvars.write_text(
        re.sub(
            r"(?m)^dynamodb_notifications_table_name\s*=.*$", f'dynamodb_notifications_table_name = "{RENAMED}"', text
        )
    )
    refused = tmp_path / "refused.ipynb"
    with pytest.raises(papermill.PapermillExecutionError) as raised:
        runner.execute_notebook(notebook, refused, {**parameters, "apply": True})
    assert raised.value.ename == "ChangeRefused", raised.value.evalue
    assert "allow_destroy=" in raised.value.evalue
    review = read_records(refused)["plan_review"]
    destructive = review["destructive"]
    assert "module.dynamodb.aws_dynamodb_table.notifications" in destructive
    assert "data is lost (3 items" in review["summary"]
    assert dynamodb.scan(TableName=NAME)["Count"] == 3, "refused: the table and its items are intact"
    assert RENAMED not in dynamodb.list_tables()["TableNames"]

    applied = tmp_path / "applied.ipynb"
    runner.execute_notebook(notebook, applied, {**parameters, "apply": True, "allow_destroy": ",".join(destructive)})
    records = read_records(applied)
    assert records["applied"] is True and records["gate"]["allowed"] is True
    assert RENAMED in dynamodb.list_tables()["TableNames"] and NAME not in dynamodb.list_tables()["TableNames"]
