"""The S3 backend with real Terraform on the embedded emulator: bootstrap, init, the lock, a local state refused.

One emulator for the module (no reset between tests: the bucket the first init bootstraps is shared, each test
uses its own state key or builds on the first one's state). Applies are targeted at the table to keep the cost
down (two in all: staging, production); the lock, the stale lock and the refused local state need no further apply.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import threading
import time
from datetime import datetime, timedelta, timezone

import pytest

from runbook import paths
from runbook.aws import statebucket
from runbook.aws.emulator import Emulator
from runbook.aws.target import Target
from runbook.errors import ConfigurationError, StateLocked, TerraformUnavailable
from runbook.steps.preflight import emulator_ami
from runbook.terraform import backend
from runbook.terraform import lock as state_lock
from runbook.terraform.command import Terraform
from runbook.terraform.workspace import Workspace

pytestmark = pytest.mark.terraform

TABLE = "module.dynamodb.aws_dynamodb_table.notifications"
APPLY_TABLE = ("apply", "-auto-approve", "-input=false", "-no-color", f"-target={TABLE}")


def _workspace(base, environment: str, target: Target, key: str | None = None) -> Terraform:
    workspace = Workspace(environment, base / environment)
    terraform = Terraform(workspace, target, var_file=workspace.generated_tfvars)
    terraform.state_key = key
    terraform.prepare()
    example = paths.environment_dir(environment) / "terraform.tfvars.example"
    workspace.generated_tfvars.write_text(emulator_ami(target, example.read_text())[0])
    return terraform


def _state_object(target: Target, key: str) -> dict:
    body = statebucket.s3_client(target).get_object(Bucket=backend.EMULATOR_BUCKET, Key=key)["Body"].read()
    return json.loads(body)


def _keys(target: Target) -> list[str]:
    listing = statebucket.s3_client(target).list_objects_v2(Bucket=backend.EMULATOR_BUCKET)
    return sorted(item["Key"] for item in listing.get("Contents", []))


@pytest.fixture(scope="module")
def target():
    with Emulator() as emu:
        emu.reset()  # moto's state is per process: earlier tests may have left resources
        yield Target("us-east-1", emu.endpoint_url)


@pytest.fixture(scope="module")
def race(target, tmp_path_factory):
    """Two engineers' work directories for staging, initialised, then the same apply started in both at once."""
    base = tmp_path_factory.mktemp("race")
    alice, bob = _workspace(base / "alice", "staging", target), _workspace(base / "bob", "staging", target)
    start = time.perf_counter()
    try:
        alice.init()  # bootstraps the bucket on the emulator (infrastructure/bootstrap, real Terraform)
    except TerraformUnavailable as error:
        pytest.skip(f"Terraform cannot install the AWS provider here: {error}")
    bootstrap_and_init = time.perf_counter() - start
    bob.init()
    outcomes: dict[str, object] = {}
    barrier = threading.Barrier(2)

    def apply(name: str, terraform: Terraform) -> None:
        terraform.lock_timeout = "0s"
        barrier.wait()
        try:
            outcomes[name] = terraform.run(*APPLY_TABLE, *terraform.var_args())
        except Exception as error:  # noqa: BLE001 - the test looks at what each got
            outcomes[name] = error

    threads = [threading.Thread(target=apply, args=(n, t)) for n, t in (("alice", alice), ("bob", bob))]
    start = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=600)
    return {
        "alice": alice,
        "bob": bob,
        "outcomes": outcomes,
        "bootstrap_and_init": bootstrap_and_init,
        "apply": time.perf_counter() - start,
    }


def test_on_the_emulator_the_bootstrap_creates_a_sound_bucket_and_the_probe_trusts_it(race, target):
    checks = statebucket.check_bucket(target, backend.EMULATOR_BUCKET)
    assert all(check.ok for check in checks), [c for c in checks if not c.ok]
    assert (
        race["alice"].workspace.base.parent / "bootstrap" / "infrastructure" / "bootstrap" / "terraform.tfstate"
    ).is_file(), "the bootstrap's local state is kept in the work directory"
    assert statebucket.probe_conditional_writes(target, backend.EMULATOR_BUCKET).ok
    assert race["alice"].backend.origin == "generated"
    assert paths.ROOT not in race["alice"].backend.path.parents, "generated in the work directory, not the tree"


def test_two_applies_at_once_one_proceeds_the_other_stops_on_the_lock(race, target):
    outcomes = race["outcomes"]
    locked = {name: o for name, o in outcomes.items() if isinstance(o, StateLocked)}
    applied = {name: o for name, o in outcomes.items() if not isinstance(o, Exception)}
    assert len(locked) == 1 and len(applied) == 1, outcomes
    error = next(iter(locked.values()))
    assert error.who.endswith("@" + socket.gethostname()), error.who
    assert error.operation == "apply" and error.lock_id and error.created
    assert f"force-unlock -force {error.lock_id}" in error.command
    assert "Nothing was changed" in str(error) and error.who in str(error)
    # The state is intact: one object for staging, holding the table; no lock left behind.
    state = _state_object(target, "notifications/staging.tfstate")
    tables = [r for r in state["resources"] if r["type"] == "aws_dynamodb_table"]
    assert len(tables) == 1 and tables[0]["instances"][0]["attributes"]["name"] == "staging-user-notifications"
    assert "notifications/staging.tfstate.tflock" not in _keys(target)
    loser = race[next(iter(locked))]
    assert TABLE in loser.state_addresses(), "the other work directory sees the same state"


def test_a_stale_lock_is_diagnosed_and_cleared_with_the_printed_command(race, target):
    terraform = race["alice"]
    since = (datetime.now(timezone.utc) - timedelta(hours=3)).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    lock = {
        "ID": "5f1c7c0e-0d3b-4bd7-9d55-3a2f6c1e9b10",
        "Operation": "OperationTypeApply",
        "Info": "",
        "Who": "alice@old-laptop",
        "Version": "1.11.4",
        "Created": since,
        "Path": f"{backend.EMULATOR_BUCKET}/notifications/staging.tfstate",
    }
    statebucket.s3_client(target).put_object(
        Bucket=backend.EMULATOR_BUCKET, Key="notifications/staging.tfstate.tflock", Body=json.dumps(lock).encode()
    )
    before = _state_object(target, "notifications/staging.tfstate")

    check = backend.lock_check(terraform)  # what 04 shows
    assert not check.ok and "alice@old-laptop" in check.detail and "3h 0" in check.detail
    assert "for apply" in check.detail and lock["ID"] in check.fix

    terraform.lock_timeout = "0s"
    with pytest.raises(StateLocked) as caught:
        terraform.plan(f"-target={TABLE}")
    assert caught.value.who == "alice@old-laptop" and caught.value.lock_id == lock["ID"]
    command = caught.value.command
    assert command == state_lock.force_unlock_command(terraform, lock["ID"])

    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env["TF_CLI_CONFIG_FILE"] = terraform.environment()["TF_CLI_CONFIG_FILE"]
    done = subprocess.run(command, shell=True, env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr + done.stdout
    assert backend.lock_check(terraform).ok
    assert _state_object(target, "notifications/staging.tfstate") == before, "the state is untouched"
    assert not terraform.plan(f"-target={TABLE}").has_changes, "Terraform proceeds once the lock is released"


def test_a_local_state_in_the_work_directory_is_refused_with_the_command(race, target, tmp_path):
    key = "notifications/staging-local.tfstate"
    terraform = _workspace(tmp_path / "old", "staging", target, key=key)
    local = terraform.workspace.root / "terraform.tfstate"
    stray = {
        "version": 4,
        "serial": 3,
        "lineage": "00000000-0000-0000-0000-000000000000",
        "resources": [],
        "outputs": {},
    }
    local.write_text(json.dumps(stray))  # a by-hand apply in the work directory, without the backend

    with pytest.raises(ConfigurationError) as caught:
        terraform.init()
    message = str(caught.value)
    assert str(local) in message and f"s3://{backend.EMULATOR_BUCKET}/{key}" in message
    assert f"terraform -chdir={terraform.workspace.root} init -migrate-state -backend-config=" in message
    assert json.loads(local.read_text()) == stray, "the local state is left as it was"
    assert not (terraform.workspace.root / ".terraform").exists(), "Terraform did not run"
    assert key not in _keys(target), "nothing was written to the bucket"


def test_a_scratch_key_keeps_the_import_demo_apart_from_the_environment(race, target, tmp_path):
    demo = _workspace(tmp_path / "import-demo", "staging", target, key=backend.default_key("staging", "import-demo"))
    assert demo.state_addresses() == [], "no state object yet: no Terraform run needed to say so"
    demo.init()
    assert demo.backend.key == "notifications/staging-import-demo.tfstate"
    assert demo.state_addresses() == []
    assert TABLE in race["alice"].state_addresses()


def test_two_environments_leave_two_state_objects(race, target, tmp_path):
    production = _workspace(tmp_path, "production", target)
    production.init()
    production.run(*APPLY_TABLE, *production.var_args())
    keys = _keys(target)
    assert {"notifications/staging.tfstate", "notifications/production.tfstate"} <= set(keys)
    names = {
        key: [
            r["instances"][0]["attributes"]["name"]
            for r in _state_object(target, key)["resources"]
            if r["type"] == "aws_dynamodb_table"
        ]
        for key in ("notifications/staging.tfstate", "notifications/production.tfstate")
    }
    assert names["notifications/staging.tfstate"] != names["notifications/production.tfstate"]
    assert not [k for k in keys if k.endswith(".tflock")]


def test_validate_needs_no_backend(tmp_path):
    """``init(backend=False)``: providers and modules only, for validate — no bucket, no credentials."""
    terraform = Terraform(Workspace("production", tmp_path / "production"), Target("us-east-1"))
    terraform.init(backend=False)
    assert terraform.backend is None and not (terraform.workspace.root / ".terraform" / "terraform.tfstate").exists()
    assert terraform.validate()["valid"]
