"""The diagnosis of an interrupted apply, piece by piece (issue 32): no Terraform here, the session's emulator.

The plan is Terraform's own JSON (``tests/fixtures/terraform/create.json``, recorded by ``record.py``); the objects
"left behind" are made on the emulator with boto3 under the names that plan gives them.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path
from types import SimpleNamespace

import pytest

from runbook.aws.statebucket import LockInfo, read_lock
from runbook.execution import crashmarks
from runbook.steps import interrupted as recovery
from runbook.terraform import interrupted, stalelock
from runbook.terraform.backend import BackendConfig
from runbook.terraform.tfjson import PlanJson

FIXTURE = Path(__file__).parent / "fixtures" / "terraform" / "create.json"
BUCKET, KEY = "interrupted-state", "notifications/staging.tfstate"


@pytest.fixture
def plan() -> PlanJson:
    return PlanJson(json.loads(FIXTURE.read_text()))


def planned(plan: PlanJson, type_: str) -> list[dict]:
    return [rc["change"]["after"] for rc in interrupted.created(plan) if rc["type"] == type_]


def config(target) -> BackendConfig:
    return BackendConfig(Path("backend.hcl"), "generated", BUCKET, KEY, target.region, target.endpoint_url)


def fake_terraform(target, tmp_path) -> SimpleNamespace:
    """What the diagnosis reads of a Terraform: its target, its backend, its workspace."""
    return SimpleNamespace(
        target=target, backend=config(target), workspace=SimpleNamespace(environment="staging", root=tmp_path)
    )


def put_lock(target, who: str, created: datetime | None = None, lock_id: str = "1111-aaaa") -> str:
    from runbook.aws.statebucket import s3_client

    s3 = s3_client(target)
    s3.create_bucket(Bucket=BUCKET)
    body = {
        "ID": lock_id,
        "Operation": "OperationTypeApply",
        "Info": "",
        "Who": who,
        "Version": "1.11.4",
        "Created": (created or datetime.now(timezone.utc)).isoformat().replace("+00:00", "Z"),
        "Path": f"{BUCKET}/{KEY}",
    }
    s3.put_object(Bucket=BUCKET, Key=KEY + ".tflock", Body=json.dumps(body).encode())
    return lock_id


@pytest.mark.slow  # creates every object of a plan on the emulator, EC2 included
def test_every_object_the_plan_creates_that_exists_is_found_under_the_plan_s_names(target, plan):
    table = planned(plan, "aws_dynamodb_table")[0]["name"]
    role = planned(plan, "aws_iam_role")[0]["name"]
    policies = [p["name"] for p in planned(plan, "aws_iam_policy")]
    assert interrupted.find_orphans(target, plan) == []  # nothing exists yet

    target.client("dynamodb").create_table(
        TableName=table,
        BillingMode="PAY_PER_REQUEST",
        KeySchema=[{"AttributeName": "user_id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "user_id", "AttributeType": "S"}],
    )
    iam = target.client("iam")
    iam.create_role(RoleName=role, AssumeRolePolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": []}))
    arn = iam.create_policy(
        PolicyName=policies[0],
        PolicyDocument=json.dumps(
            {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "dynamodb:GetItem", "Resource": "*"}]}
        ),
    )["Policy"]["Arn"]

    found = {o.type: o for o in interrupted.find_orphans(target, plan)}
    assert set(found) == {"aws_dynamodb_table", "aws_iam_role", "aws_iam_policy"}
    assert found["aws_dynamodb_table"].import_id == table and found["aws_iam_role"].import_id == role
    assert found["aws_iam_policy"].import_id == arn and found["aws_iam_policy"].identifier == policies[0]
    blocks = interrupted.import_blocks(list(found.values()))
    assert blocks.count("import {") == 3 and f'id = "{arn}"' in blocks
    assert f"to = {found['aws_iam_role'].address}" in blocks


@pytest.mark.slow  # EC2 on the emulator (its image catalogue)
def test_an_instance_found_twice_by_its_name_is_listed_for_removal_not_imported(target, plan):
    after = planned(plan, "aws_instance")[0]
    ec2 = target.client("ec2")
    image = ec2.describe_images(Owners=["amazon"])["Images"][0]["ImageId"]
    tags = [{"ResourceType": "instance", "Tags": [{"Key": "Name", "Value": after["tags"]["Name"]}]}]
    ec2.run_instances(ImageId=image, MinCount=2, MaxCount=2, TagSpecifications=tags)
    (orphan,) = interrupted.find_orphans(target, plan)
    assert not orphan.importable and "terminate-instances" in orphan.remove_command
    assert orphan.remove_command.count("i-") == 2


def test_a_lock_of_this_operator_with_no_terraform_alive_is_stale_another_s_is_not(target):
    now = datetime.now(timezone.utc)
    mine = LockInfo(id="a", who=stalelock.this_operator(), created=now.isoformat())
    theirs = LockInfo(id="b", who="ci@runner-7", created=now.isoformat())
    old = LockInfo(id="c", who="ci@runner-7", created=(now - timedelta(hours=2)).isoformat())
    assert stalelock.judge_lock(mine, config(target)).stale
    assert not stalelock.judge_lock(theirs, config(target)).stale
    verdict = stalelock.judge_lock(old, config(target))
    assert verdict.stale and "older than 1 hour" in verdict.reason


STAND_IN = """
import ctypes, time
ctypes.CDLL(None, use_errno=True).prctl(15, b"terraform", 0, 0, 0)  # PR_SET_NAME: /proc/self/comm
print("renamed", flush=True)
time.sleep(30)
"""


def test_a_live_terraform_on_the_same_state_keeps_the_lock_held(target, tmp_path):
    """A Terraform process of this machine whose working directory uses this backend (bucket, key, endpoint)."""
    root = tmp_path / "root"
    (root / ".terraform").mkdir(parents=True)
    (root / ".terraform" / "terraform.tfstate").write_text(
        json.dumps(
            {
                "backend": {
                    "type": "s3",
                    "config": {"bucket": BUCKET, "key": KEY, "endpoints": {"s3": target.endpoint_url}},
                }
            }
        )
    )
    # a stand-in named terraform (its /proc/PID/comm): Python renaming itself, so that it works whatever `sleep` is
    # (a multi-call coreutils binary refuses to run under another name)
    process = subprocess.Popen([sys.executable, "-c", STAND_IN], cwd=root, stdout=subprocess.PIPE, text=True)
    try:
        assert process.stdout.readline().strip() == "renamed"
        assert stalelock.terraform_alive(config(target)) == [process.pid]
        production = BackendConfig(
            Path("backend.hcl"),
            "generated",
            BUCKET,
            "notifications/production.tfstate",
            target.region,
            target.endpoint_url,
        )
        assert stalelock.terraform_alive(production) == []  # another environment's state: not its run
        verdict = stalelock.judge_lock(
            LockInfo(id="a", who=stalelock.this_operator(), created=datetime.now(timezone.utc).isoformat()),
            config(target),
        )
        assert not verdict.stale and str(process.pid) in verdict.reason
    finally:
        process.kill()
        process.wait()
    assert stalelock.terraform_alive(config(target)) == []


def test_one_message_names_the_lock_every_orphan_and_the_next_step(target, plan, tmp_path):
    lock_id = put_lock(target, stalelock.this_operator())
    table = planned(plan, "aws_dynamodb_table")[0]["name"]
    target.client("dynamodb").create_table(
        TableName=table,
        BillingMode="PAY_PER_REQUEST",
        KeySchema=[{"AttributeName": "user_id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "user_id", "AttributeType": "S"}],
    )
    diagnosis = interrupted.diagnose(fake_terraform(target, tmp_path), plan)
    text = diagnosis.text
    assert diagnosis.found and lock_id in text and table in text and "apply" in text
    assert f"unlock_lock_id={lock_id!r}" in text and "03-import" in text
    assert (
        f"runbook recover --env staging --endpoint-url {target.endpoint_url} --unlock-lock-id {lock_id} --apply" in text
    )
    assert text.count("\n") >= 3  # the lock, the objects, the next step


def test_a_lock_id_that_is_not_the_current_one_is_refused_with_both_and_nothing_released(target, tmp_path):
    lock_id = put_lock(target, "someone@elsewhere")
    with pytest.raises(recovery.WrongLockId) as error:
        recovery.release_lock(fake_terraform(target, tmp_path), "2222-bbbb")
    assert "2222-bbbb" in str(error.value) and lock_id in str(error.value) and "someone@elsewhere" in str(error.value)
    assert read_lock(target, config(target)).id == lock_id  # still there


def test_nothing_to_recover_says_so_and_changes_nothing(target, plan, tmp_path, monkeypatch):
    from runbook.aws.statebucket import s3_client

    s3_client(target).create_bucket(Bucket=BUCKET)
    terraform = fake_terraform(target, tmp_path)
    monkeypatch.setattr(recovery, "diagnostic_plan", lambda tf: plan)  # Terraform's plan, recorded
    shown: list[str] = []
    context = SimpleNamespace(terraform=terraform, environment="staging")
    result = recovery.recover(context, "", apply=True, show=lambda text: shown.append(str(text)))
    assert result.nothing_to_recover and not result.rounds and not result.released
    assert shown == [
        f"staging: nothing to recover (no stale lock on s3://{BUCKET}/{KEY}, nothing the plan creates "
        "exists outside the state)"
    ]
    assert not (tmp_path / interrupted.IMPORT_FILE).exists()
    assert os.listdir(tmp_path) == []


def test_a_notebook_a_killed_run_left_half_written_is_marked_interrupted(tmp_path):
    """papermill started it and never wrote its end (the run was SIGKILLed): the next run marks it, names the
    cell that was running, and adds what its diagnosis found."""
    import nbformat
    from nbformat.v4 import new_code_cell, new_notebook

    from runbook.execution import runner
    from runbook.execution.record import MIME_TYPE

    nb = new_notebook(cells=[new_code_cell("print('init')"), new_code_cell("decision = deploy.gate_and_apply(ctx)")])
    nb.metadata["papermill"] = {"start_time": "2026-12-06T23:00:00", "end_time": None}
    nb.cells[0].metadata["papermill"] = {"status": "completed"}
    nb.cells[1].metadata["papermill"] = {"status": "running"}
    nbformat.write(nb, tmp_path / "02-plan-and-apply.ipynb")
    finished = new_notebook(cells=[new_code_cell("1")])
    finished.metadata["papermill"] = {"start_time": "2026-12-06T23:00:00", "end_time": "2026-12-06T23:00:09"}
    nbformat.write(finished, tmp_path / "01-setup.ipynb")

    (marked,) = crashmarks.mark_interrupted(tmp_path)
    assert marked.name == "02-plan-and-apply.ipynb" and crashmarks.mark_interrupted(tmp_path) == []  # once
    kept = json.loads(marked.read_text())
    assert kept["metadata"]["runbook"] == {"status": "interrupted", "interrupted_at_cell": 1}
    assert "**Interrupted.**" in kept["cells"][0]["source"] and "gate_and_apply" in kept["cells"][0]["source"]
    nb.cells[1].metadata["papermill"] = {"status": "pending"}  # killed between two cells: saved before its start
    nbformat.write(nb, tmp_path / "03-import.ipynb")
    (saved_earlier,) = crashmarks.mark_interrupted(tmp_path)
    assert "after cell 0 (`print('init')`) had finished" in json.loads(saved_earlier.read_text())["cells"][0]["source"]

    setup = new_notebook(cells=[new_code_cell("record('checks', …)")])
    setup.cells[0].outputs = [
        nbformat.v4.new_output(
            "display_data",
            data={
                MIME_TYPE: {
                    "name": "checks",
                    "value": [
                        {
                            "name": "interrupted apply",
                            "ok": False,
                            "detail": "An interrupted apply left … lock 1111 … table t",
                        }
                    ],
                }
            },
        )
    ]
    nbformat.write(setup, tmp_path / "rerun-01.ipynb")
    found = crashmarks.left_behind(
        runner.NotebookResult("staging", "01-setup", "failed", output=str(tmp_path / "rerun-01.ipynb"))
    )
    assert "lock 1111" in found
    crashmarks.add_left_behind(marked, found)
    kept = json.loads(marked.read_text())
    assert "Found by the next run" in kept["cells"][0]["source"] and "lock 1111" in kept["cells"][0]["source"]
