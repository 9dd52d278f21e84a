"""The S3 backend: configuration files, validation, the bucket checks, the conditional-write probe, lock messages.

No Terraform here (see ``test_backend_terraform.py`` for init/apply/lock/migration with real Terraform).
"""

from __future__ import annotations

import json
import re
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from runbook import paths
from runbook.aws import statebucket
from runbook.aws.target import Target
from runbook.errors import ConfigurationError, ParameterError
from runbook.steps import backendcheck
from runbook.terraform import backend
from runbook.terraform import bootstrap as bucket_bootstrap
from runbook.terraform import command as terraform_command
from runbook.terraform import lock as state_lock
from runbook.terraform.command import Terraform
from runbook.terraform.invocation import _with_lock_timeout
from runbook.terraform.workspace import Workspace

#: Terraform 1.11.4's words for a held S3 lock, recorded against moto (plain and the ``-json`` diagnostic).
LOCKED_PLAIN = """Acquiring state lock. This may take a few moments...

Error: Error acquiring the state lock
Error message: operation error S3: PutObject, https response error
StatusCode: 412, RequestID: x, HostID: y, api error PreconditionFailed: At least one of the pre-conditions you
specified did not hold
Lock Info:
  ID:        9e293330-b402-bfa2-f439-a8a20778707c
  Path:      notifications-tfstate/notifications/staging.tfstate
  Operation: OperationTypeApply
  Who:       root@vm
  Version:   1.11.4
  Created:   2026-12-01 10:01:37.070989509 +0000 UTC
  Info:     \x20

Terraform acquires a state lock to protect the state from being written
by multiple users at the same time."""
LOCKED_JSON = json.dumps(
    {
        "@level": "error",
        "type": "diagnostic",
        "diagnostic": {
            "severity": "error",
            "summary": "Error acquiring the state lock",
            "detail": "Error message: operation error S3: PutObject, StatusCode: 412\n"
            "Lock Info:\n  ID:        abc-123\n"
            "  Path:      b/notifications/production.tfstate\n  Operation: OperationTypePlan\n"
            "  Who:       ci@runner\n  Version:   1.11.4\n"
            "  Created:   2026-12-01 10:01:37.070989509 +0000 UTC\n  Info:      \n\n\n"
            "Terraform acquires a state lock",
        },
    }
)


# --- the committed configuration ---------------------------------------------------------------------------------


@pytest.mark.parametrize("environment", paths.ENVIRONMENTS)
def test_each_root_ships_a_partial_s3_backend_example_and_its_config(environment):
    """Team state is one copy away (backend.tf.example: the partial ``backend "s3" {}``), the root itself keeps the
    guide's local state (tests/test_terraform_config.py checks that)."""
    versions = (paths.environment_dir(environment) / "versions.tf").read_text()
    example = (paths.environment_dir(environment) / "backend.tf.example").read_text()
    assert re.search(r'(?m)^\s*backend\s+"s3"\s*\{\s*\}', example), 'partial configuration: backend "s3" {}'
    required = re.search(r'required_version\s*=\s*">=\s*(\d+)\.(\d+)', versions)
    assert required and (int(required.group(1)), int(required.group(2))) >= (1, 10), "use_lockfile needs 1.10"
    values, lines = backend.read_file(backend.example_file(environment))
    assert values["key"] == f"notifications/{environment}.tfstate"
    assert values["encrypt"] is True and values["use_lockfile"] is True
    assert values["bucket"] and values["region"]
    assert backend.default_key(environment) == values["key"]


def test_the_environments_have_distinct_keys_and_the_operator_file_is_ignored():
    keys = {backend.default_key(env) for env in paths.ENVIRONMENTS}
    assert len(keys) == len(paths.ENVIRONMENTS)
    assert "backend.hcl" in (paths.ROOT / ".gitignore").read_text().split()
    assert backend.default_key("staging", "import-demo") == "notifications/staging-import-demo.tfstate"


def test_the_bootstrap_configuration_keeps_local_state_and_secures_the_bucket():
    bootstrap = paths.INFRASTRUCTURE / "bootstrap"
    text = "".join(p.read_text() for p in sorted(bootstrap.glob("*.tf")))
    assert not re.search(r"(?m)^\s*backend\s+\"", text), (
        "the bootstrap keeps local state: it creates the backend's bucket"
    )
    for resource in (
        "aws_s3_bucket_versioning",
        "aws_s3_bucket_server_side_encryption_configuration",
        "aws_s3_bucket_public_access_block",
        "aws_s3_bucket_policy",
    ):
        assert f'resource "{resource}"' in text
    assert "aws:SecureTransport" in text


# --- validating a backend.hcl --------------------------------------------------------------------------------------


@pytest.fixture
def operator_files(tmp_path, monkeypatch):
    """Point the operator's ``infrastructure/<env>/backend.hcl`` at files in tmp_path (the tree is never written)."""
    files = {env: tmp_path / env / "backend.hcl" for env in paths.ENVIRONMENTS}
    for file in files.values():
        file.parent.mkdir()
    monkeypatch.setattr(backend, "operator_file", lambda env: files[env])
    return files


GOOD = (
    'bucket = "team-tfstate"\nkey = "notifications/staging.tfstate"\nregion = "us-east-1"\nencrypt = true\n'
    "use_lockfile = true\n"
)


def test_a_valid_file_is_read_with_its_settings(operator_files):
    operator_files["staging"].write_text(GOOD)
    config = backend.validate(operator_files["staging"], "staging")
    assert (config.bucket, config.key, config.region, config.uses_lockfile) == (
        "team-tfstate",
        "notifications/staging.tfstate",
        "us-east-1",
        True,
    )
    assert config.init_args() == [f"-backend-config={operator_files['staging']}"]


@pytest.mark.parametrize(
    "text, message, line",
    [
        ('key = "notifications/staging.tfstate"\nuse_lockfile = true\n', "`bucket` is missing", None),
        ('bucket = "b"\nuse_lockfile = true\n', "`key` is missing", None),
        ('bucket = "b"\nkey = ""\nuse_lockfile = true\n', "`key` is empty", 2),
        ('bucket = "b"\nkey = "notifications/staging.tfstate"\nuse_lockfile = false\n', "locking is off", 3),
        ('bucket = "b"\nkey = "notifications/production.tfstate"\nuse_lockfile = true\n', "production's state key", 2),
        ('bucket = "b"\nkey = \n', "cannot parse", None),
    ],
)
def test_bad_input_names_the_file_and_line(operator_files, text, message, line):
    operator_files["staging"].write_text(text)
    with pytest.raises(ConfigurationError) as caught:
        backend.validate(operator_files["staging"], "staging")
    assert message in str(caught.value)
    assert caught.value.path == str(operator_files["staging"])
    if line:
        assert caught.value.line == line and f"backend.hcl:{line}:" in str(caught.value)


def test_a_key_shared_with_the_other_environment_is_refused_naming_both_files(operator_files):
    operator_files["staging"].write_text(GOOD.replace("staging.tfstate", "shared.tfstate"))
    operator_files["production"].write_text(GOOD.replace("staging.tfstate", "shared.tfstate"))
    with pytest.raises(ConfigurationError) as caught:
        backend.validate(operator_files["staging"], "staging")
    text = str(caught.value)
    assert f"{operator_files['staging']}:2:" in text and f"{operator_files['production']}:2" in text
    assert "also production's state" in text


def test_a_bucket_that_does_not_exist_is_reported_before_init(operator_files, target, tmp_path):
    operator_files["staging"].write_text(GOOD)
    real_aws_like = Target(target.region, target.endpoint_url)
    with pytest.raises(ConfigurationError) as caught:
        backend.validate(operator_files["staging"], "staging", real_aws_like)
    assert "bucket 'team-tfstate' does not exist" in str(caught.value)
    assert caught.value.line == 1 and "infrastructure/bootstrap" in str(caught.value)


def test_against_aws_a_missing_backend_hcl_is_an_error_with_the_fix(operator_files, tmp_path):
    workspace = Workspace("staging", tmp_path / "work" / "staging")
    with pytest.raises(ConfigurationError) as caught:
        backend.resolve(workspace, Target("us-east-1"), check_bucket_exists=False)
    assert "Copy backend.hcl.example to backend.hcl" in str(caught.value)
    assert not (tmp_path / "work").exists(), "nothing is written"


def test_a_key_given_on_top_of_the_operator_file_is_passed_after_it(operator_files, tmp_path):
    operator_files["staging"].write_text(GOOD)
    workspace = Workspace("staging", tmp_path / "import-demo")
    key = backend.default_key("staging", "import-demo")
    config = backend.resolve(workspace, Target("us-east-1"), key=key, check_bucket_exists=False)
    assert config.init_args() == [f"-backend-config={operator_files['staging']}", f"-backend-config=key={key}"]


def test_on_an_emulator_the_config_is_generated_in_the_work_directory(tmp_path):
    workspace = Workspace("production", tmp_path / "production")
    config = backend.resolve(workspace, Target("us-east-1", "http://127.0.0.1:4566"))
    assert config.origin == "generated" and config.path == tmp_path / "production" / "backend.hcl"
    values, _ = backend.read_file(config.path)
    assert values["key"] == "notifications/production.tfstate"
    assert values["endpoints"] == {"s3": "http://127.0.0.1:4566"}
    assert values["use_path_style"] is True and values["use_lockfile"] is True
    assert values["skip_credentials_validation"] is True and values["skip_requesting_account_id"] is True
    assert "access_key" not in values and "secret_key" not in values, "credentials come from the environment"


# --- the bucket and the probe ---------------------------------------------------------------------------------------


def test_a_bare_bucket_fails_the_checks_each_with_its_fix(target):
    s3 = statebucket.s3_client(target)
    s3.create_bucket(Bucket="bare-bucket")
    s3.delete_bucket_encryption(Bucket="bare-bucket")  # moto (like AWS since 2023) encrypts new buckets by default
    checks = {c.name: c for c in statebucket.check_bucket(target, "bare-bucket")}
    assert checks["state bucket bare-bucket"].ok
    assert not checks["state bucket versioning"].ok and "put-bucket-versioning" in checks["state bucket versioning"].fix
    assert not checks["state bucket encryption"].ok and "put-bucket-encryption" in checks["state bucket encryption"].fix
    assert (
        not checks["state bucket not public"].ok and "put-public-access-block" in checks["state bucket not public"].fix
    )
    missing = statebucket.check_bucket(target, "no-such-bucket")
    assert len(missing) == 1 and not missing[0].ok and "infrastructure/bootstrap" in missing[0].fix


def test_against_aws_the_bucket_is_never_created_unasked(target, monkeypatch, tmp_path):
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setattr(Target, "is_emulator", property(lambda self: False))  # as if it were AWS
    result = terraform_command.ensure_bucket(target, "team-tfstate", tmp_path)
    assert not result.created and "terraform -chdir=infrastructure/bootstrap" in result.command
    assert not result.as_check().ok and result.as_check().fix == result.command
    assert not statebucket.bucket_exists(target, "team-tfstate") and not (tmp_path / "bootstrap").exists()


def test_on_an_emulator_the_bucket_is_looked_for_once_a_bootstrap_in_flight_has_ended(target, monkeypatch, tmp_path):
    """``runbook run`` bootstraps its own emulator while the first kernel boots (runbook.execution.bucket_ahead): 01
    must not
    see the bucket half made, nor bootstrap it a second time."""
    monkeypatch.setenv("RUNBOOK_RUN_ID", "run-1")
    base = tmp_path / bucket_bootstrap.BOOTSTRAP_DIR
    taken, done = threading.Event(), []

    def in_flight():
        with bucket_bootstrap.bootstrap_lock(base):
            taken.set()
            threading.Event().wait(0.6)
            statebucket.s3_client(target).create_bucket(Bucket=backend.EMULATOR_BUCKET)
            record = {
                "bucket": backend.EMULATOR_BUCKET,
                "endpoint_url": target.endpoint_url,
                "run": "run-1",
                "outputs": {"bucket": backend.EMULATOR_BUCKET},
            }
            (base / bucket_bootstrap.AHEAD_RECORD).write_text(json.dumps(record))
            done.append(True)

    worker = threading.Thread(target=in_flight)
    worker.start()
    taken.wait(5)
    result = terraform_command.ensure_bucket(target, backend.EMULATOR_BUCKET, tmp_path, binary="no terraform runs here")
    worker.join()
    assert done, "ensure_bucket returned before the bootstrap in flight had ended"
    assert result.created and result.outputs == {"bucket": backend.EMULATOR_BUCKET}
    assert result.detail.startswith("created on emulator by infrastructure/bootstrap as this run started ")
    assert result.as_check().ok

    monkeypatch.setenv("RUNBOOK_RUN_ID", "run-2")  # the next run on the same emulator and work directory
    again = terraform_command.ensure_bucket(target, backend.EMULATOR_BUCKET, tmp_path, binary="no terraform runs here")
    assert not again.created and again.detail == "exists on emulator"
    monkeypatch.delenv("RUNBOOK_RUN_ID")
    assert bucket_bootstrap.made_ahead(base, target, backend.EMULATOR_BUCKET) is None  # outside a run: never
    monkeypatch.setenv("RUNBOOK_RUN_ID", "run-1")
    other = Target("us-east-1", "http://127.0.0.1:9")  # the record is of another emulator
    assert bucket_bootstrap.made_ahead(base, other, backend.EMULATOR_BUCKET) is None
    assert bucket_bootstrap.made_ahead(base, target, backend.EMULATOR_BUCKET) == {"bucket": backend.EMULATOR_BUCKET}


def test_the_emulator_enforces_conditional_writes(target):
    statebucket.s3_client(target).create_bucket(Bucket="probe-bucket")
    check = statebucket.probe_conditional_writes(target, "probe-bucket")
    assert check.ok, check.detail
    assert "412" in check.detail
    assert not statebucket.s3_client(target).list_object_versions(Bucket="probe-bucket").get("Versions"), "cleaned up"


class _IgnoresIfNoneMatch(BaseHTTPRequestHandler):
    """An S3 endpoint that accepts every PUT, whatever If-None-Match says."""

    def _ok(self, body: bytes = b"", status: int = 200):
        self.send_response(status)
        self.send_header("ETag", '"0"')
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_PUT(self):  # noqa: N802
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self.server.puts.append(self.headers.get("If-None-Match"))
        self._ok()

    def do_DELETE(self):  # noqa: N802
        self._ok(status=204)

    def do_GET(self):  # noqa: N802
        self._ok(b'<?xml version="1.0"?><ListVersionsResult></ListVersionsResult>')

    def log_message(self, *args):
        pass


def test_an_endpoint_that_ignores_if_none_match_is_reported_not_safe():
    server = ThreadingHTTPServer(("127.0.0.1", 0), _IgnoresIfNoneMatch)
    server.puts = []
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        fake = Target("us-east-1", f"http://127.0.0.1:{server.server_address[1]}")
        check = statebucket.probe_conditional_writes(fake, "state")
    finally:
        server.shutdown()
        server.server_close()
    assert server.puts == ["*", "*"], "both writes carried If-None-Match: *"
    assert not check.ok and check.detail.startswith("not safe")
    assert "accepted a second If-None-Match: * write" in check.detail and check.fix


# --- lock messages and timeouts -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text, expected",
    [
        (LOCKED_PLAIN, ("9e293330-b402-bfa2-f439-a8a20778707c", "root@vm", "OperationTypeApply")),
        (LOCKED_JSON, ("abc-123", "ci@runner", "OperationTypePlan")),
    ],
)
def test_terraform_lock_info_is_read(text, expected):
    info = state_lock.parse_lock_info(text)
    assert (info.id, info.who, info.operation) == expected
    assert info.created_at is not None and info.created_at.year == 2026


def test_a_lock_error_names_the_holder_and_the_exact_unlock_command(tmp_path):
    terraform = Terraform(Workspace("staging", tmp_path / "staging"), Target("us-east-1", "http://127.0.0.1:1"))
    error = state_lock.lock_error(terraform, LOCKED_PLAIN)
    assert error.who == "root@vm" and error.operation == "apply"
    assert error.lock_id == "9e293330-b402-bfa2-f439-a8a20778707c"
    assert error.command.endswith(f"terraform -chdir={terraform.workspace.root} force-unlock -force {error.lock_id}")
    text = str(error)
    assert "locked by root@vm since 2026-12-01 10:01:37" in text and "for apply" in text and error.command in text


def test_locking_commands_get_a_short_configurable_lock_timeout(monkeypatch):
    monkeypatch.delenv(backend.LOCK_TIMEOUT_VARIABLE, raising=False)
    assert _with_lock_timeout(("plan", "-json"), None) == ("plan", "-lock-timeout=10s", "-json")
    assert _with_lock_timeout(("apply", "tfplan"), "0s") == ("apply", "-lock-timeout=0s", "tfplan")
    assert _with_lock_timeout(("output", "-json"), "0s") == ("output", "-json")
    assert _with_lock_timeout(("plan", "-lock-timeout=1m"), "0s") == ("plan", "-lock-timeout=1m")
    monkeypatch.setenv(backend.LOCK_TIMEOUT_VARIABLE, "30s")
    assert _with_lock_timeout(("apply",), None) == ("apply", "-lock-timeout=30s")
    monkeypatch.setenv(backend.LOCK_TIMEOUT_VARIABLE, "soon")
    with pytest.raises(ParameterError, match="RUNBOOK_LOCK_TIMEOUT"):
        _with_lock_timeout(("apply",), None)


def test_an_ages_reads_like_a_person_would_say_it():
    info = statebucket.LockInfo(id="x", created="2025-01-01T09:00:00.123456789Z")
    from datetime import datetime, timezone

    assert info.age(datetime(2025, 1, 1, 9, 5, 30, tzinfo=timezone.utc)) == "5m 29s"
    assert info.age(datetime(2025, 1, 4, 10, 0, tzinfo=timezone.utc)) == "3 days 0h"


def test_paths_of_the_generated_files_stay_out_of_the_tree(tmp_path):
    workspace = Workspace("staging", tmp_path / "staging")
    config = backend.resolve(workspace, Target("us-east-1", "http://127.0.0.1:4566"))
    assert paths.ROOT not in config.path.parents
    assert (
        not (paths.environment_dir("staging") / "backend.hcl").exists()
        or Path(paths.environment_dir("staging") / "backend.hcl") != config.path
    )


def test_init_against_aws_without_a_backend_file_stops_before_anything_changes(operator_files, tmp_path):
    terraform = Terraform(Workspace("staging", tmp_path / "work" / "staging"), Target("us-east-1"))
    with pytest.raises(ConfigurationError, match="backend.hcl: missing"):
        terraform.init()
    assert not (tmp_path / "work").exists(), "no copy, no .terraform, no state"


def test_01_lists_a_bad_backend_file_as_a_failed_check(operator_files, tmp_path):
    operator_files["staging"].write_text('bucket = "b"\nkey = ""\nuse_lockfile = true\n')
    checks = backendcheck.preflight_checks(Workspace("staging", tmp_path / "staging"), Target("us-east-1"))
    assert len(checks) == 1 and not checks[0].ok and "`key` is empty" in checks[0].detail
    assert checks[0].fix == f"edit {operator_files['staging']} line 2"


def test_01_against_aws_shows_the_bootstrap_command_for_a_missing_bucket(operator_files, target, monkeypatch, tmp_path):
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setattr(Target, "is_emulator", property(lambda self: False))  # as if it were AWS
    operator_files["staging"].write_text(GOOD)
    checks = backendcheck.preflight_checks(Workspace("staging", tmp_path / "staging"), target)
    assert [c.ok for c in checks] == [True, False]
    assert checks[1].fix.startswith("terraform -chdir=infrastructure/bootstrap init")
    assert not statebucket.bucket_exists(target, "team-tfstate")


def test_01_checks_an_existing_bucket_and_probes_under_the_state_key(operator_files, target, monkeypatch, tmp_path):
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setattr(Target, "is_emulator", property(lambda self: False))
    operator_files["staging"].write_text(GOOD)
    s3 = statebucket.s3_client(target)
    s3.create_bucket(Bucket="team-tfstate")
    s3.put_bucket_versioning(Bucket="team-tfstate", VersioningConfiguration={"Status": "Enabled"})
    checks = {c.name: c for c in backendcheck.preflight_checks(Workspace("staging", tmp_path / "staging"), target)}
    assert checks["state bucket versioning"].ok and not checks["state bucket not public"].ok
    assert not checks["state bucket TLS only"].ok, "against AWS a TLS-only policy is expected"
    assert checks["state lock (conditional writes)"].ok
    assert not s3.list_object_versions(Bucket="team-tfstate").get("Versions"), "the probe cleaned up"


def test_the_state_key_never_depends_on_where_the_work_directory_lies(tmp_path):
    """Issue 34: a work directory nested in another (``X/staging`` beside ``X/infrastructure``) silently got
    ``notifications/staging-staging.tfstate``. The environment's key is its backend config's wherever the work
    directory lies; another key only when the caller chooses it, and the plan's header then says so."""
    emulator = Target("us-east-1", "http://127.0.0.1:4566")
    main = Workspace("staging", tmp_path / "staging")
    main.root.mkdir(parents=True)
    own = backend.resolve(main, emulator)
    assert own.key == "notifications/staging.tfstate" == backend.state_key("staging")
    assert backend.key_note("staging", own) == ""
    for nested in (
        tmp_path / "staging" / "import-demo",
        tmp_path / "staging" / "staging",
        tmp_path / "staging" / "diagnostics-plan",
    ):
        assert backend.resolve(Workspace("staging", nested), emulator).key == "notifications/staging.tfstate"
    demo = backend.resolve(
        Workspace("staging", tmp_path / "staging" / "import-demo"),
        emulator,
        key=backend.default_key("staging", "import-demo"),
    )
    assert demo.key == "notifications/staging-import-demo.tfstate"
    assert "chosen explicitly" in backend.key_note(
        "staging", demo
    ) and "notifications/staging.tfstate" in backend.key_note("staging", demo)


def test_a_scratch_state_can_be_discarded_but_never_the_environments(target, tmp_path):
    s3 = statebucket.s3_client(target)
    s3.create_bucket(Bucket=backend.EMULATOR_BUCKET)
    demo = Terraform(Workspace("staging", tmp_path / "import-demo"), target)
    demo.state_key = backend.default_key("staging", "import-demo")
    s3.put_object(Bucket=backend.EMULATOR_BUCKET, Key=demo.state_key, Body=b"{}")
    assert backend.discard_scratch_state(demo) is True
    assert backend.discard_scratch_state(demo) is False
    main = Terraform(Workspace("staging", tmp_path / "staging"), target)
    with pytest.raises(ConfigurationError, match="not a scratch one"):
        backend.discard_scratch_state(main)
