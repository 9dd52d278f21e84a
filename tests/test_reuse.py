"""Terraform's answers reused instead of asked twice (issue 18): each reuse is checked against Terraform's own answer,
and each is refused when what it was made from changed.

- ``init`` is skipped when the copy was initialised from the same inputs, and runs when one changes;
- an ``apply -json`` reports the outputs (no ``terraform output``), equal to what ``terraform output`` says;
- the state is the file the S3 backend holds, read from the bucket (no Terraform command), equal to what
  ``terraform state pull`` prints and to ``show -json``'s rendering; any other workspace asks Terraform;
- inside a ``runbook run``, 02 takes over the plan 01 made, only from the same run and the same inputs;
- the cost's table comes from the saved plan only while the configuration and tfvars are the ones it was made from.
"""

import json
import subprocess
import sys

import pytest

from runbook import paths
from runbook.aws.target import Target
from runbook.errors import TerraformUnavailable
from runbook.execution.kernels import notebook_imports
from runbook.terraform import planning
from runbook.terraform.command import Terraform
from runbook.terraform.invocation import TIMINGS_VARIABLE
from runbook.terraform.workspace import Workspace

TABLE = "module.dynamodb.aws_dynamodb_table.notifications"


def commands(log) -> list[str]:
    return [json.loads(line)["command"] for line in log.read_text().splitlines()] if log.exists() else []


@pytest.fixture
def deployed(tmp_path, monkeypatch):
    """The staging configuration initialised and planned inside a run (01's plan), on its own emulator."""
    from runbook.aws.emulator import Emulator
    from runbook.steps.preflight import emulator_ami

    base = tmp_path
    log = base / "timings.jsonl"
    monkeypatch.setenv(TIMINGS_VARIABLE, str(log))
    monkeypatch.setenv(planning.RUN_VARIABLE, "run-one")
    with Emulator() as emu:
        emu.reset()
        workspace = Workspace("staging", base / "work" / "staging")
        target = Target("us-east-1", emu.endpoint_url)
        example = paths.environment_dir("staging") / "terraform.tfvars.example"
        workspace.generated_tfvars.parent.mkdir(parents=True, exist_ok=True)
        workspace.generated_tfvars.write_text(emulator_ami(target, example.read_text())[0])
        terraform = Terraform(workspace, target, var_file=workspace.generated_tfvars)
        try:
            terraform.init()
        except TerraformUnavailable as error:
            pytest.skip(f"Terraform cannot install the AWS provider here: {error}")
        diagnostics, view = planning.plan_for_run(terraform)
        assert view is not None and not [d for d in diagnostics if d["severity"] == "error"]
        yield {"terraform": terraform, "log": log, "view": view, "patch": monkeypatch}


def check_init_is_skipped_for_the_same_inputs_and_runs_when_one_changes(deployed):
    terraform, log = deployed["terraform"], deployed["log"]
    before = commands(log).count("init")
    again = Terraform(terraform.workspace, terraform.target, var_file=terraform.var_file)
    assert again.init().stdout.startswith("already initialised")
    assert commands(log).count("init") == before, "no second init for the same configuration and backend"
    assert again.backend is not None and again.backend.key == terraform.backend.key
    extra = terraform.workspace.root / "runbook_reuse_probe.tf"
    extra.write_text("# a new file in the configuration\n")
    try:
        again.init()
        assert commands(log).count("init") == before + 1, "a changed configuration is initialised again"
    finally:
        extra.unlink()


def check_02_takes_over_01s_plan_only_from_the_same_run_and_inputs(deployed):
    terraform, log, patch = deployed["terraform"], deployed["log"], deployed["patch"]
    plans = commands(log).count("plan")
    taken = planning.make_plan(terraform)
    assert taken.origin == planning.FROM_SETUP
    assert commands(log).count("plan") == plans, "01's plan was taken over, not made again"
    assert taken.sha256 == planning.sha256_of(terraform.workspace.plan_file)
    assert taken.json.raw == deployed["view"].raw and taken.has_changes
    assert not (terraform.workspace.root / planning.RUN_PLAN).exists(), "moved to tfplan, taken once"

    planning.plan_for_run(terraform)  # 01 again; then the tfvars changes before 02
    tfvars = terraform.var_file
    text = tfvars.read_text()
    tfvars.write_text(text + "\n# edited between 01 and 02\n")
    try:
        assert planning.make_plan(terraform).origin == "made here"
    finally:
        tfvars.write_text(text)

    planning.plan_for_run(terraform)  # 01 of another run
    patch.setenv(planning.RUN_VARIABLE, "run-two")
    try:
        assert planning.make_plan(terraform).origin == "made here"
    finally:
        patch.setenv(planning.RUN_VARIABLE, "run-one")


def check_apply_outputs_and_the_state_is_the_file_terraform_wrote(deployed):
    terraform, log, patch = deployed["terraform"], deployed["log"], deployed["patch"]
    planning.make_plan(terraform)
    terraform.apply_plan()
    reported = terraform.output()
    assert "output" not in commands(log), "the outputs came with the apply"
    raw = json.loads(terraform.run("output", "-json").stdout)
    assert reported == {name: item["value"] for name, item in raw.items()}

    ran = len(commands(log))
    first = terraform.show_json()
    listed = sorted(Terraform(terraform.workspace, terraform.target).state_addresses())
    assert len(commands(log)) == ran, "the state file is read from the bucket: no Terraform command"
    pulled = json.loads(terraform.run("state", "pull").stdout)  # what Terraform prints for the same state
    assert first == planning.tfjson.state_values(pulled), "the bucket's object is the state Terraform pulls"
    shown = json.loads(terraform.run("show", "-json").stdout)  # Terraform's own rendering of the same state
    assert _comparable(first) == _comparable(shown) and TABLE in _comparable(shown)["resources"]
    assert listed == sorted(terraform.run("state", "list").stdout.split()) and TABLE in listed

    terraform.run("state", "rm", "module.app.aws_instance.app")  # the state changes: the next reading sees it
    ran = len(commands(log))
    changed = terraform.show_json()
    assert len(commands(log)) == ran
    addresses = [r["address"] for r in planning.tfjson.flatten(changed["values"]["root_module"])]
    assert "module.app.aws_instance.app" not in addresses and TABLE in addresses

    patch.setenv("TF_WORKSPACE", "default")  # named explicitly: still the default workspace's object
    assert terraform.show_json() == changed and len(commands(log)) == ran
    patch.delenv("TF_WORKSPACE")
    selected = terraform.workspace.root / ".terraform" / "environment"
    selected.write_text("other")  # another workspace: its state is another object, so Terraform is asked
    try:
        try:
            terraform.show_json()
        except Exception:  # (Terraform may refuse a workspace that does not exist: it was asked all the same)
            pass
        assert commands(log)[ran:] == ["state"], "terraform state pull for any workspace but default"
    finally:
        selected.unlink()


def _comparable(state: dict) -> dict:
    """What the runbooks read of a state: every resource's fields but ``sensitive_values``, and the outputs."""
    values = state.get("values") or {}
    resources = {
        r["address"]: {k: v for k, v in r.items() if k != "sensitive_values"}
        for r in planning.tfjson.flatten(values.get("root_module"))
    }
    return {"resources": resources, "outputs": values.get("outputs")}


def check_the_cost_table_comes_from_the_saved_plan_only_for_the_same_configuration(deployed):
    terraform = deployed["terraform"]  # its last plan: the apply step's
    saved = planning.saved_plan_of_configuration(terraform)
    assert saved is not None and saved.raw == planning.saved_plan_json(terraform.workspace).raw
    tfvars = terraform.var_file
    text = tfvars.read_text()
    tfvars.write_text(text + "\n# edited\n")
    try:
        assert planning.saved_plan_of_configuration(terraform) is None, "another tfvars: plan again"
    finally:
        tfvars.write_text(text)


@pytest.mark.terraform
def test_terraforms_answers_are_reused_only_while_their_inputs_hold(deployed):
    """One deployment (one apply) for every step, in order: the steps build on each other's state."""
    check_init_is_skipped_for_the_same_inputs_and_runs_when_one_changes(deployed)
    check_02_takes_over_01s_plan_only_from_the_same_run_and_inputs(deployed)
    check_apply_outputs_and_the_state_is_the_file_terraform_wrote(deployed)
    check_the_cost_table_comes_from_the_saved_plan_only_for_the_same_configuration(deployed)


def test_a_warm_kernel_imports_what_its_notebook_imports():
    modules = notebook_imports(paths.NOTEBOOKS / "02-plan-and-apply.ipynb")
    assert {
        "IPython.display",
        "runbook",
        "runbook.steps.context",
        "runbook.steps.drift",
        "runbook.steps.deploy",
    } <= set(modules)
    assert notebook_imports(paths.NOTEBOOKS / "missing.ipynb") == ()


def test_the_emulator_ami_is_an_amazon_linux_image_for_the_example_instance(target):
    from runbook.steps.preflight import emulator_ami

    text, note = emulator_ami(target, 'ami_id = "ami-xxxxx"\n')
    image = text.split('"')[1]
    described = target.client("ec2").describe_images(ImageIds=[image])["Images"][0]
    assert described["Name"].startswith("amzn2-ami-hvm-") and described["Architecture"] == "x86_64"
    assert note == f"ami-xxxxx → {image}"


def test_clients_are_cached_by_their_options_not_by_object_identity():
    from botocore.config import Config

    target = Target("us-east-1", "http://127.0.0.1:9")
    path_style = target.client("s3", Config(s3={"addressing_style": "path"}))
    assert target.client("s3", Config(s3={"addressing_style": "path"})) is path_style
    assert target.client("s3") is not path_style
    assert target.client("s3", Config(s3={"addressing_style": "virtual"})) is not path_style
    assert target.client("s3", Config(retries={"mode": "standard", "max_attempts": 1})) is not target.client("s3")


def test_the_state_bucket_client_is_path_style_and_a_probe_retries_once_on_an_emulator():
    from runbook.aws.apierrors import probe_client
    from runbook.aws.statebucket import s3_client

    emulator = Target("us-east-1", "http://127.0.0.1:9")
    assert s3_client(emulator) is s3_client(emulator)
    assert s3_client(emulator).meta.config.s3 == {"addressing_style": "path"}
    assert probe_client(emulator, "ec2").meta.config.retries["total_max_attempts"] == 2, "one retry at most"
    assert probe_client(Target("us-east-1"), "ec2").meta.config.retries["total_max_attempts"] == 9


def test_the_command_exits_with_mains_status():
    proc = subprocess.run(
        [sys.executable, "-m", "runbook.cli", "cost", "--env", "qa"], capture_output=True, text=True, cwd=paths.ROOT
    )
    assert proc.returncode == 2 and "--env" in proc.stderr


# -- the state file laid out as show -json lays it out (no Terraform needed) --------------------------------------
def _pulled(*resources, outputs=None):
    return {
        "version": 4,
        "terraform_version": "1.11.0",
        "serial": 3,
        "lineage": "x",
        "outputs": outputs or {},
        "resources": list(resources),
    }


def test_state_values_addresses_modules_keys_and_data_sources():
    from runbook.terraform.tfjson import flatten, state_values

    provider = 'provider["registry.terraform.io/hashicorp/aws"]'
    state = state_values(
        _pulled(
            {
                "mode": "managed",
                "type": "aws_a",
                "name": "one",
                "provider": provider,
                "instances": [{"schema_version": 1, "attributes": {"id": "1"}, "dependencies": ["aws_b.x"]}],
            },
            {
                "module": "module.m",
                "mode": "data",
                "type": "aws_region",
                "name": "here",
                "provider": provider + ".west",
                "instances": [{"schema_version": 0, "attributes": {"name": "us-east-1"}}],
            },
            {
                "module": "module.m[0].module.n",
                "mode": "managed",
                "type": "aws_c",
                "name": "each",
                "provider": provider,
                "instances": [
                    {"index_key": "k", "attributes": {"id": "c"}},
                    {"index_key": 2, "attributes": {"id": "d"}},
                ],
            },
            outputs={
                "name": {"value": "t", "type": "string"},
                "secret": {"value": "s", "type": "string", "sensitive": True},
            },
        )
    )
    root = state["values"]["root_module"]
    assert [r["address"] for r in flatten(root)] == [
        "aws_a.one",
        "module.m.data.aws_region.here",
        'module.m[0].module.n.aws_c.each["k"]',
        "module.m[0].module.n.aws_c.each[2]",
    ]
    first = root["resources"][0]
    assert first == {
        "address": "aws_a.one",
        "mode": "managed",
        "type": "aws_a",
        "name": "one",
        "provider_name": "registry.terraform.io/hashicorp/aws",
        "schema_version": 1,
        "values": {"id": "1"},
        "depends_on": ["aws_b.x"],
    }
    assert root["child_modules"][0]["resources"][0]["provider_name"] == "registry.terraform.io/hashicorp/aws"
    nested = root["child_modules"][1]
    assert nested["address"] == "module.m[0]" and nested["child_modules"][0]["address"] == "module.m[0].module.n"
    assert [r["index"] for r in nested["child_modules"][0]["resources"]] == ["k", 2]
    assert state["values"]["outputs"] == {
        "name": {"sensitive": False, "value": "t", "type": "string"},
        "secret": {"sensitive": True, "value": "s", "type": "string"},
    }


def test_state_values_tainted_deposed_empty_and_unknown_versions():
    from runbook.steps.recovery import state_findings
    from runbook.terraform.tfjson import flatten, state_values

    state = state_values(
        _pulled(
            {
                "mode": "managed",
                "type": "aws_a",
                "name": "t",
                "provider": "p",
                "instances": [
                    {"status": "tainted", "attributes": {"id": "new"}},
                    {"deposed": "0a1b2c3d", "attributes": {"id": "old"}},
                ],
            }
        )
    )
    current, deposed = flatten(state["values"]["root_module"])
    assert current["tainted"] is True and "deposed_key" not in current
    assert deposed["deposed_key"] == "0a1b2c3d" and "tainted" not in deposed
    assert not state_findings(state).ok, "04 sees what a failed apply left"
    assert state_values({}) == {}
    with pytest.raises(ValueError, match="version 3"):
        state_values({"version": 3, "modules": []})


# -- when the state file is read from the bucket, and when Terraform is asked (no Terraform run needed to tell) ----
def _recorded(tmp_path, target, bucket="runbook-reuse-state", key="notifications/staging.tfstate"):
    """A work directory initialised (as Terraform records it) for an S3 backend on the emulator, and that config."""
    from runbook.terraform.backend import BackendConfig

    workspace = Workspace("staging", tmp_path / "work")
    dot = workspace.root / ".terraform"
    dot.mkdir(parents=True)
    (dot / "terraform.tfstate").write_text(
        json.dumps(
            {
                "backend": {
                    "type": "s3",
                    "config": {"bucket": bucket, "key": key, "endpoints": {"s3": target.endpoint_url}},
                }
            }
        )
    )
    config = BackendConfig(tmp_path / "backend.hcl", "generated", bucket, key, "us-east-1", target.endpoint_url)
    s3 = target.client("s3")
    s3.create_bucket(Bucket=bucket)
    return Terraform(workspace, target), config, lambda body: s3.put_object(Bucket=bucket, Key=key, Body=body)


def test_the_state_file_is_read_from_the_bucket_only_when_terraform_would_read_that_object(
    target, tmp_path, monkeypatch
):
    terraform, config, put = _recorded(tmp_path, target)
    monkeypatch.delenv("TF_WORKSPACE", raising=False)
    assert terraform._backend_state(config) == {}, "no object yet: an empty state"
    state = _pulled(
        {
            "mode": "managed",
            "type": "aws_dynamodb_table",
            "name": "notifications",
            "provider": 'provider["registry.terraform.io/hashicorp/aws"]',
            "instances": [{"attributes": {"name": "t"}}],
        }
    )
    put(json.dumps(state))
    assert terraform._backend_state(config) == state

    put(json.dumps({**state, "version": 3}))
    assert terraform._backend_state(config) is None, "an older format: terraform state pull upgrades it"
    put(b"{not json")
    assert terraform._backend_state(config) is None, "not a state file: Terraform says what it is"
    put(json.dumps(state))

    monkeypatch.setenv("TF_WORKSPACE", "blue")
    assert terraform._backend_state(config) is None, "another workspace's state is another object"
    monkeypatch.delenv("TF_WORKSPACE")
    (terraform.workspace.root / "terraform.tfstate").write_text(json.dumps({**state, "serial": 99}))
    # initialised for the S3 backend, Terraform reads the bucket's object, not a stray local file (which init
    # refuses: runbook.terraform.initialised.refuse_local_state)
    assert terraform._backend_state(config) == state, "a local terraform.tfstate is not the backend's state"
    (terraform.workspace.root / "terraform.tfstate").unlink()
    moved = type(config)(
        config.path, config.origin, config.bucket, "notifications/other.tfstate", config.region, config.endpoint_url
    )
    assert terraform._backend_state(moved) is None, "the directory is initialised for another key"
    assert terraform._backend_state(config) == state
