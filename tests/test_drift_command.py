"""``runbook drift``'s exit codes as an operator (or a scheduled CI job) meets them, and ``--work-dir``.

0 in sync, 1 drift, 3 pending only (also when nothing is applied yet), 2 a usage, configuration, credential or
connection problem with one line naming it: never 0, 1 or 3 for those. The verdicts themselves are tested on
recorded plans in test_drift.py; the problems here are cheap (no Terraform plan is made). One end-to-end test with
real Terraform replays issue 34's scenario: the state key does not move with the work directory.
"""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from runbook import cli, paths
from runbook.clicommands import common
from runbook.steps import preflight
from runbook.terraform import backend
from runbook.terraform.command import Terraform
from runbook.terraform.workspace import Workspace

EXAMPLE = paths.environment_dir("staging") / "terraform.tfvars.example"


def drift(capsys, *args: str) -> tuple[int, str, str]:
    code = cli.main(["drift", "--env", "staging", *args])
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def real_aws(monkeypatch, tmp_path):
    """The real-AWS target (no endpoint anywhere), with no credentials but what a test sets."""
    for name in (
        "AWS_ENDPOINT_URL",
        "AWS_PROFILE",
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_SESSION_TOKEN",
        "AWS_DEFAULT_PROFILE",
        "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
        "AWS_WEB_IDENTITY_TOKEN_FILE",
    ):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-credentials"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-config"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    if backend.operator_file("staging").is_file():
        pytest.skip(f"{backend.operator_file('staging')} exists (an operator's backend config)")


def one_line_error(err: str) -> str:
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1, err
    assert lines[0].startswith("runbook drift: error: ")
    return lines[0]


def test_missing_credentials_exit_2_naming_them(capsys, real_aws):
    code, out, err = drift(capsys, "--tfvars", str(EXAMPLE), "--work-dir", "/nonexistent-never-made")
    assert code == 2 and not out
    assert "no AWS credentials" in one_line_error(err)


def test_a_missing_backend_config_exits_2_naming_the_file(capsys, real_aws, monkeypatch, tmp_path):
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIAEXAMPLE")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "example")
    code, out, err = drift(capsys, "--tfvars", str(EXAMPLE), "--work-dir", str(tmp_path / "work"))
    assert code == 2 and not out
    line = one_line_error(err)
    assert str(backend.operator_file("staging")) in line and "missing" in line and backend.EXAMPLE_FILE in line


def test_an_unreachable_endpoint_exits_2_with_its_url(capsys, tmp_path):
    with socket.socket() as sock:  # a port nothing listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    url = f"http://127.0.0.1:{port}"
    code, out, err = drift(capsys, "--tfvars", str(EXAMPLE), "--endpoint-url", url, "--work-dir", str(tmp_path))
    assert code == 2 and not out
    assert url in one_line_error(err)


def test_a_missing_tfvars_file_exits_2_naming_it(capsys, tmp_path):
    code, out, err = drift(capsys, "--tfvars", str(tmp_path / "nope.tfvars"), "--work-dir", str(tmp_path))
    assert code == 2 and "--tfvars" in one_line_error(err) and "nope.tfvars" in err


def test_work_dir_means_the_base_in_every_command():
    """One meaning: ``--work-dir DIR`` holds ``DIR/<env>`` for run, cost and drift alike (and the notebooks'
    ``work_dir``, which ``runbook run`` passes through)."""
    for command in ("run", "cost", "drift"):
        option = next(o for o in cli.cli.commands[command].params if o.name == "work_dir")
        assert option.help == common.WORK_DIR_HELP, command
    assert paths.work_dir("staging", Path("/x")) == Path("/x/staging")


@pytest.mark.terraform
def test_issue_34_scenario_drift_and_the_next_run_use_the_environments_state(capsys, target, tmp_path):
    """Issue 34: ``runbook run --work-dir X`` (01, 02), then ``runbook drift --work-dir X``, then ``runbook run
    --work-dir X`` again: the last used a new state (``notifications/staging-staging.tfstate``) and asked to import
    the table the real state manages. Replayed with what those commands do, on the emulator: 02's apply in
    ``X/staging``, ``runbook drift --work-dir X`` (exit 3 before the apply, 0 after), then the next run's plan in
    ``X/staging``: the same state key, no changes."""
    base = tmp_path / "X"
    workspace = Workspace.for_environment("staging", base)
    tfvars = workspace.generated_tfvars  # 01's copy of the example, in the environment's work directory
    tfvars.parent.mkdir(parents=True)
    tfvars.write_text(preflight.emulator_ami(target, EXAMPLE.read_text())[0])
    args = ("--work-dir", str(base), "--endpoint-url", target.endpoint_url)

    code, out, err = drift(capsys, *args)
    assert code == 3, err
    assert "nothing applied yet" in out

    applied = Terraform(workspace, target, var_file=tfvars)  # 02 in X/staging: applies the saved plan drift made there
    applied.init()
    applied.apply_plan()
    key = applied.backend.key
    assert key == backend.state_key("staging") == "notifications/staging.tfstate"

    code, out, err = drift(capsys, *args)
    assert code == 0, out + err  # in sync: the plan made in X/staging has no changes
    assert f"state s3://{backend.EMULATOR_BUCKET}/{key}" in out
    assert not (base / "infrastructure").exists(), "drift used X/staging, like runbook run"
    assert "staging-staging" not in out

    # the next `runbook run --work-dir X` works in X/staging: the same state, so the same (empty) plan; even a work
    # directory nested in another keeps the environment's state
    for again in (Workspace.for_environment("staging", base), Workspace("staging", base / "staging" / "staging")):
        assert backend.resolve(again, target, check_bucket_exists=False).key == key
