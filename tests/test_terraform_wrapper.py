"""runbook.terraform.command: the work-directory copy, the emulator override, and real Terraform runs on the
emulator."""

import subprocess

import pytest

from runbook import paths
from runbook.aws.target import Target
from runbook.errors import TerraformError, TerraformUnavailable
from runbook.terraform.binary import TERRAFORM_GOGC, Binary, base_environment, find_mirror
from runbook.terraform.command import Terraform
from runbook.terraform.stream import diagnostics_text, plan_changes, plan_summary, ui_messages
from runbook.terraform.workspace import OVERRIDE_FILE, Workspace, override_text


def git_status() -> str:
    return subprocess.run(
        ["git", "status", "--porcelain", "--untracked-files=all", "--", "infrastructure"],
        cwd=paths.ROOT,
        capture_output=True,
        text=True,
    ).stdout


def test_workspace_copies_configuration_and_keeps_local_state(tmp_path):
    workspace = Workspace("production", tmp_path / "production")
    root = workspace.sync()
    assert (root / "main.tf").is_file() and (workspace.tree / "staging" / "modules" / "dynamodb" / "main.tf").is_file()
    (root / "terraform.tfstate").write_text("{}")
    (root / "stale.tf").write_text("# removed upstream")
    (root / "terraform.tfvars").write_text('aws_region = "us-east-1"\n')  # where an earlier version generated it
    workspace.sync()
    assert (root / "terraform.tfstate").read_text() == "{}"
    assert not (root / "stale.tf").exists()
    assert not (root / "terraform.tfvars").exists(), "nothing in the root may be auto-loaded by Terraform"
    assert workspace.generated_tfvars.read_text() == 'aws_region = "us-east-1"\n', "moved, not lost"


def test_emulator_override_names_every_service():
    text = override_text("http://127.0.0.1:4566")
    for service in ("dynamodb", "iam", "sts", "applicationautoscaling", "cloudwatch"):
        assert f'{service} = "http://127.0.0.1:4566"' in text
    assert "skip_credentials_validation = true" in text


def test_override_only_for_emulator_targets(tmp_path):
    binary = Binary(("true",), "stub")
    emulated = Terraform(Workspace("staging", tmp_path / "s"), Target("us-east-1", "http://127.0.0.1:1"), binary)
    assert (emulated.prepare() / OVERRIDE_FILE).is_file()
    real = Terraform(Workspace("staging", tmp_path / "s"), Target("us-east-1"), binary)
    assert not (real.prepare() / OVERRIDE_FILE).exists()


def planned(address: str, action: str, importing: dict | None = None) -> dict:
    change = {"resource": {"addr": address, "resource_type": "t"}, "action": action}
    if importing:
        change["importing"] = importing
    return {"type": "planned_change", "change": change}


def test_terraform_runs_with_the_runbooks_gc_target_unless_the_environment_sets_one(monkeypatch):
    monkeypatch.delenv("GOGC", raising=False)
    assert base_environment()["GOGC"] == TERRAFORM_GOGC == "400"
    monkeypatch.setenv("GOGC", "150")
    assert base_environment()["GOGC"] == "150", "the user's own setting wins"


def test_plan_changes_marks_imports_and_replacements():
    messages = [
        {"type": "version", "terraform": "1.11.4"},
        planned("a", "create"),
        planned("b", "replace"),
        planned("c", "noop", {"id": "x"}),
        planned("d", "update", {"id": "y"}),
        planned("e", "noop"),
        {"type": "change_summary", "changes": {"add": 1, "change": 2, "import": 2, "remove": 0}},
    ]
    rows = plan_changes(messages)
    assert [r["action"] for r in rows] == ["create", "replace", "import", "import+update"]
    assert plan_summary(rows) == {"create": 1, "replace": 1, "import": 1, "import+update": 1}


def test_ui_stream_errors_read_like_terraform():
    stdout = "\n".join(
        [
            '{"type": "version", "terraform": "1.11.4"}',
            "not json",
            '{"type": "diagnostic", "diagnostic": {"severity": "warning", "summary": "Deprecated"}}',
            (
                '{"type": "diagnostic", "diagnostic": {"severity": "error", "summary": "Invalid value", '
                '"detail": "must be > 0"}}'
            ),
        ]
    )
    messages = ui_messages(stdout)
    assert len(messages) == 3
    assert diagnostics_text(messages) == "Error: Invalid value: must be > 0"


@pytest.fixture(scope="module")
def terraform_on_emulator(tmp_path_factory):
    from runbook.aws.emulator import Emulator

    with Emulator() as emu:
        emu.reset()  # moto's state is per process: other tests in this worker may have left resources
        workspace = Workspace("staging", tmp_path_factory.mktemp("tf") / "staging")
        target = Target("us-east-1", emu.endpoint_url)
        example = paths.environment_dir("staging") / "terraform.tfvars.example"
        from runbook.steps.preflight import emulator_ami

        workspace.generated_tfvars.parent.mkdir(parents=True, exist_ok=True)
        workspace.generated_tfvars.write_text(emulator_ami(target, example.read_text())[0])
        terraform = Terraform(workspace, target, var_file=workspace.generated_tfvars)
        terraform.prepare()
        try:
            terraform.init()
        except TerraformUnavailable as error:
            pytest.skip(f"Terraform cannot install the AWS provider here: {error}")
        yield terraform


@pytest.mark.terraform
def test_plan_apply_replan_on_the_emulator(terraform_on_emulator):
    terraform = terraform_on_emulator
    before = git_status()
    assert terraform.validate()["valid"]
    plan = terraform.plan()
    assert plan.has_changes
    rows = plan.rows
    assert "module.dynamodb.aws_dynamodb_table.notifications" in {r["address"] for r in rows}
    assert {r["action"] for r in rows} == {"create"}
    terraform.apply_plan()
    assert "module.dynamodb.aws_dynamodb_table.notifications" in terraform.state_addresses()
    outputs = terraform.output()
    assert outputs["dynamodb_notifications_table_name"] == "staging-user-notifications"
    assert not terraform.plan().has_changes, "a second plan right after apply must show no changes (no perpetual diff)"
    assert git_status() == before, "Terraform must not write into the committed tree"


@pytest.mark.terraform
def test_a_failed_plan_names_terraforms_error(terraform_on_emulator):
    with pytest.raises(TerraformError, match="Invalid value for variable"):
        terraform_on_emulator.plan("-var=dynamodb_read_capacity=-1")


def test_find_mirror_honours_the_variable(monkeypatch, tmp_path):
    (tmp_path / "registry.terraform.io" / "hashicorp" / "aws").mkdir(parents=True)
    monkeypatch.setenv("RUNBOOK_TF_PLUGIN_MIRROR", str(tmp_path))
    assert find_mirror() == tmp_path
    monkeypatch.setenv("RUNBOOK_TF_PLUGIN_MIRROR", str(tmp_path / "nothing"))
    assert find_mirror() is None


def test_plan_and_apply_progress_streams_resource_by_resource(capsys, tmp_path):
    """A -json apply (recorded from the real Terraform) is printed line by line as it arrives: the resources
    starting, completing and failing, in Terraform's own words; the stdout is still returned whole."""
    import json
    import os
    import sys
    from pathlib import Path

    from runbook.terraform.stream import progress_line, run_streaming

    recorded = Path(__file__).parent / "fixtures" / "terraform" / "failed_apply.jsonl"
    lines = recorded.read_text().splitlines()
    script = "import sys, time\nfor line in open(sys.argv[1]):\n    print(line, end='', flush=True)\n"
    result = run_streaming([sys.executable, "-c", script, str(recorded)], tmp_path, dict(os.environ))
    assert result.returncode == 0 and result.stdout.splitlines() == lines
    printed = capsys.readouterr().out.splitlines()
    expected = [
        json.loads(line)["@message"]
        for line in lines
        if json.loads(line)["type"] in ("apply_start", "apply_complete", "apply_errored")
    ]
    assert printed == expected and len(printed) == 14
    assert any(line.endswith(": Creating...") for line in printed)
    assert progress_line(lines[1]) == "", "planned changes are the review's, not progress"
