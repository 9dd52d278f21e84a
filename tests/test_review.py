"""The plan review, the change gate, the plan hash and the failed-apply report, on plans recorded from the real
Terraform (tests/fixtures/terraform/, re-recorded by its record.py)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from runbook import params
from runbook.errors import ParameterError, RunbookError
from runbook.steps.attributes import KNOWN_AFTER_APPLY, SENSITIVE, attribute_changes
from runbook.steps.gate import (
    REVIEWED_PLAN_FILE,
    ApplyFailed,
    ChangeRefused,
    Decision,
    PlanMismatch,
    apply_reviewed,
    decide,
    plan_sha256,
)
from runbook.steps.livevalues import TableLive
from runbook.steps.recovery import explain_failed_apply, load_state, state_findings, text_diagnostics
from runbook.steps.review import review, table_conflict
from runbook.terraform.invocation import Result
from runbook.terraform.tfjson import PlanJson

FIXTURES = Path(__file__).parent / "fixtures" / "terraform"
TABLE = "module.dynamodb.aws_dynamodb_table.notifications"
ATTACHMENT = "aws_iam_role_policy_attachment.app_dynamodb"
POLICIES = ("module.dynamodb.aws_iam_policy.full_access", "module.dynamodb.aws_iam_policy.read_only")
NAME = "staging-user-notifications"


def plan(name: str) -> PlanJson:
    return PlanJson.from_file(FIXTURES / f"{name}.json")


def reviewed(name: str, **kwargs):
    return review(plan(name), **kwargs)


LIVE = {NAME: TableLive(NAME, 3, 2048)}


# --- the review ------------------------------------------------------------------------------------------------


def test_fixtures_are_real_terraform_output():
    for name in ("create", "no_change", "rename", "hash_key", "gsi_removed", "detach_policy", "import", "tainted_plan"):
        raw = plan(name).raw
        assert raw["terraform_version"].startswith("1.") and raw["format_version"]
        assert raw["resource_changes"]
        assert "configuration" not in raw
    import re

    for path in (p for p in FIXTURES.iterdir() if p.is_file() and p.suffix != ".py"):
        assert not re.search(r"127\.0\.0\.1:\d|/tmp/|review-fixtures-", path.read_text()), f"machine-specific: {path}"


def test_create_is_not_destructive():
    r = reviewed("create")
    assert r.summary == "7 to create"
    assert r.counts == {"create": 7}
    assert r.destructive == [] and r.change(TABLE).action == "create"


def test_no_change_plan():
    r = reviewed("no_change")
    assert not r.has_changes and r.summary == "no changes"
    assert "no changes" in r.to_markdown()
    assert r.to_frame().empty


def test_rename_replaces_the_table_and_the_access():
    r = reviewed("rename", live=LIVE)
    table = r.change(TABLE)
    assert table.action == "replace" and table.replace_paths == ["name"]
    assert table.destructive.startswith(f"the table {NAME}: data is lost")
    assert "staging-user-notifications-v2" in table.destructive and "3 items, 2.0 KB" in table.destructive
    name = next(a for a in table.attributes if a.path == "name")
    assert (name.before, name.after, name.forces_replacement) == (f'"{NAME}"', '"staging-user-notifications-v2"', True)
    assert table.attributes[0].forces_replacement, "what forces the replacement comes first"
    assert next(a for a in table.attributes if a.path == "arn").after == KNOWN_AFTER_APPLY
    # The policies' descriptions name the table: they are replaced too, and with them the role's attachment.
    assert r.destructive_addresses == sorted([ATTACHMENT, TABLE, *POLICIES])
    assert r.change(ATTACHMENT).replace_paths == ["policy_arn"]
    assert r.summary == (
        "4 to replace — the table: data is lost (3 items, 2.0 KB); the application role loses its "
        "access (3 IAM resources deleted and re-created)"
    )


def test_hash_key_change_is_a_replacement_with_its_own_cause():
    r = reviewed("hash_key", live=LIVE)
    table = r.change(TABLE)
    assert table.action == "replace" and table.replace_paths == ["hash_key"]
    assert any(a.path == "hash_key" and a.forces_replacement for a in table.attributes)
    assert r.destructive_addresses == [TABLE]
    assert r.summary == "2 to update, 1 to replace — the table: data is lost (3 items, 2.0 KB)"


def test_dropping_a_gsi_is_destructive():
    r = reviewed("gsi_removed")
    table = r.change(TABLE)
    assert table.action == "update"
    assert table.destructive.startswith("drops global secondary index status-index")
    assert r.destructive_addresses == [TABLE]
    assert r.table_loss == [], "an index dropped is not the table's data lost"
    assert r.summary == "1 to update — drops global secondary index status-index"


def test_detaching_the_application_policy_is_flagged():
    r = reviewed("detach_policy")
    change = r.change(ATTACHMENT)
    assert change.action == "delete" and change.reason == "no longer in the configuration"
    assert "the application role's access" in change.destructive
    assert r.summary == "1 to delete — the application role loses its access (1 IAM resource deleted)"


def test_live_values_in_any_form_and_no_call_when_absent():
    calls = []

    def reader(name):
        calls.append(name)
        return {"ItemCount": 10, "TableSizeBytes": 5 * 1024 * 1024}

    assert "10 items, 5.0 MB" in reviewed("rename", live=reader).summary
    assert calls == [NAME], "the callable is asked once, for the table being deleted"
    assert "1 item, 100 bytes" in reviewed("rename", live={"item_count": 1, "size_bytes": 100}).summary
    without = reviewed("rename")
    assert without.change(TABLE).lost is None
    assert "the table: data is lost;" in without.summary
    assert "live item count not read" in reviewed("rename", live=lambda name: None).summary


def test_sensitive_values_are_never_shown():
    change = {
        "actions": ["update"],
        "before": {"password": "hunter2", "tags": {"a": "1"}, "nested": [{"s": "old"}]},
        "after": {"password": "s3cret", "tags": {"a": "2"}, "nested": [{"s": "new"}]},
        "after_unknown": {},
        "before_sensitive": {"password": True, "nested": [{"s": True}]},
        "after_sensitive": {"password": True, "nested": [{"s": True}]},
    }
    rows = {r.path: r for r in attribute_changes(change)}
    assert (rows["password"].before, rows["password"].after) == (SENSITIVE, SENSITIVE)
    assert (rows["nested[0].s"].before, rows["nested[0].s"].after) == (SENSITIVE, SENSITIVE)
    assert rows["tags.a"].after == '"2"'
    assert "hunter2" not in json.dumps([r.__dict__ for r in rows.values()]) and "s3cret" not in str(rows)


def test_renderings():
    r = reviewed("rename", live=LIVE)
    frame = r.to_frame()
    assert list(frame.columns) == ["address", "action", "destructive", "forces replacement", "changes", "reason"]
    assert len(frame) == 4 and "<th>address</th>" in r.to_html() and "<th></th>" not in r.to_html()
    text = r.to_markdown()
    assert text.startswith("**Plan: 4 to replace — the table: data is lost")
    assert f'allow_destroy = "{",".join(r.destructive_addresses)}"' in text
    record = r.to_dict()
    assert json.loads(json.dumps(record)) == record
    assert record["destructive"] == r.destructive_addresses and record["counts"] == {"replace": 4}


def test_values_known_only_after_apply_are_one_line_in_the_markdown():
    r = reviewed("rename", live=LIVE)
    table = r.change(TABLE)
    later = [a for a in table.attributes if a.after == KNOWN_AFTER_APPLY and not a.forces_replacement]
    assert len(later) >= 3, "the fixture's replacement computes several attributes at apply"
    text = r.to_markdown()
    section = text.split(f"`{TABLE}` (replace):\n\n", 1)[1].split("\n\n", 1)[0]
    assert f"- {len(later)} attributes (known after apply): `{later[0].path}`" in section
    assert all(f"`{a.path}`: " not in section for a in later), "each one is no longer a line of its own"
    assert "`name`: " in section and "(forces replacement)" in section, "what changes is still listed"
    assert len(next(c for c in r.to_dict()["changes"] if c["address"] == TABLE)["attributes"]) == len(table.attributes)


def test_table_outside_terraform_is_a_conflict():
    r = reviewed("create")
    assert table_conflict(r, table_exists=False) is None and r.conflict is None
    conflict = table_conflict(r, table_exists=True)
    assert conflict.table == NAME and conflict.address == TABLE
    assert f"to = {TABLE}" in conflict.import_block and f'id = "{NAME}"' in conflict.import_block
    assert "03-import" in r.summary and "Table Already Exists" in r.to_markdown()
    assert "import {" in r.to_markdown()
    assert table_conflict(reviewed("rename"), table_exists=True) is None, "only a create of the table conflicts"


def test_import_plan_review():
    """03-import's plan: the import {} block for the existing table, reviewed like any change."""
    r = reviewed("import")
    table = r.change(TABLE)
    assert table.action in ("import", "import+update") and table.importing_id == NAME
    assert not table.destructive and TABLE not in r.destructive_addresses
    assert r.summary.startswith("1 to import")
    assert table_conflict(r, table_exists=True) is None, "an import is the fix, not a conflict"
    assert decide(r, "staging", NAME, apply=True).allowed


# --- parameters ------------------------------------------------------------------------------------------------


def test_allow_destroy_parameter():
    assert params.allow_destroy("") == ()
    assert params.allow_destroy(f" {TABLE} , {ATTACHMENT},,{TABLE}") == (TABLE, ATTACHMENT)
    for bad in (None, True, ["a.b"], 3):
        with pytest.raises(ParameterError, match="'allow_destroy'"):
            params.allow_destroy(bad)
    with pytest.raises(ParameterError, match="'allow_destroy'"):
        params.allow_destroy("module.dynamodb.aws_dynamodb_table.notifications aws_iam_role.app")


def test_plan_sha256_parameter():
    digest = "A" * 64
    assert params.plan_sha256("") == "" and params.plan_sha256(digest) == "a" * 64
    for bad in ("abc", "g" * 64, "a" * 63, "a" * 65, None, 1, " " + "a" * 64):
        with pytest.raises(ParameterError, match="'plan_sha256'"):
            params.plan_sha256(bad)


# --- the gate --------------------------------------------------------------------------------------------------


def test_plan_only_and_no_changes_are_not_refusals():
    d = decide(reviewed("rename"), "staging", NAME, apply=False)
    assert not d.allowed and "plan only" in d.reason
    assert d.to_pass == {"apply": True, "allow_destroy": ",".join(reviewed("rename").destructive_addresses)}
    d = decide(reviewed("no_change"), "production", NAME, apply=True, confirm="")
    assert not d.allowed and d.reason.startswith("no changes")


def test_a_plain_create_needs_only_apply_in_staging():
    d = decide(reviewed("create"), "staging", NAME, apply=True)
    assert d.allowed and d.to_pass == {"apply": True} and d.destructive == []


def test_production_needs_confirm():
    with pytest.raises(ChangeRefused, match=f"confirm='{NAME}'") as error:
        decide(reviewed("create"), "production", NAME, apply=True, confirm="nope")
    assert "Nothing was applied" in str(error.value) and isinstance(error.value, RunbookError)
    assert decide(reviewed("create"), "production", NAME, apply=True, confirm=NAME).allowed


def test_replacement_with_apply_alone_is_refused_with_the_list_to_pass():
    r = reviewed("rename", live=LIVE)
    expected = ",".join(r.destructive_addresses)
    with pytest.raises(ChangeRefused) as error:
        decide(r, "staging", NAME, apply=True)
    message = str(error.value)
    assert "4 destructive changes" in message and f"allow_destroy={expected!r}" in message
    assert "data is lost (3 items" in message and "Nothing was applied" in message
    assert decide(r, "staging", NAME, apply=True, allow_destroy=expected).allowed


@pytest.mark.parametrize(
    "allow, problem",
    [
        ("TABLE", "not listed: aws_iam_role_policy_attachment.app_dynamodb"),  # missing
        ("ALL,aws_iam_role.app", "not destructive changes of this plan: aws_iam_role.app"),  # extra
        ("ALL-TYPO", "not destructive changes of this plan: module.dynamodb.aws_dynamodb_table.notificatons"),
    ],
)
def test_allow_destroy_must_list_exactly_the_destructive_addresses(allow, problem):
    r = reviewed("rename")
    everything = ",".join(r.destructive_addresses)
    allow = (
        allow.replace("ALL-TYPO", everything.replace(TABLE, TABLE.replace("notifications", "notificatons")))
        .replace("ALL", everything)
        .replace("TABLE", TABLE)
    )
    with pytest.raises(ChangeRefused, match="does not list exactly") as error:
        decide(r, "staging", NAME, apply=True, allow_destroy=allow)
    assert problem in str(error.value) and f"allow_destroy={everything!r}" in str(error.value)


def test_allow_destroy_for_a_plan_that_destroys_nothing_is_refused():
    with pytest.raises(ChangeRefused, match="pass allow_destroy=''"):
        decide(reviewed("create"), "staging", NAME, apply=True, allow_destroy=TABLE)


def test_the_gate_flags_a_detached_policy_and_a_dropped_index():
    with pytest.raises(ChangeRefused, match=f"allow_destroy='{ATTACHMENT}'"):
        decide(reviewed("detach_policy"), "staging", NAME, apply=True)
    with pytest.raises(ChangeRefused, match=f"allow_destroy='{TABLE}'"):
        decide(reviewed("gsi_removed"), "production", NAME, apply=True, confirm=NAME)
    assert decide(reviewed("gsi_removed"), "production", NAME, apply=True, confirm=NAME, allow_destroy=TABLE).allowed


def test_production_refuses_the_table_replacement_while_protection_is_on():
    r = reviewed("hash_key")
    with pytest.raises(ChangeRefused, match="deletion protection is on") as error:
        decide(r, "production", NAME, apply=True, confirm=NAME, allow_destroy=TABLE, deletion_protection=True)
    assert "turn protection off in its own reviewed change" in str(error.value)
    assert "No allow_destroy can override this" in str(error.value)
    plan_only = decide(r, "production", NAME, apply=False, deletion_protection=True)
    assert not plan_only.allowed and plan_only.blockers and plan_only.to_pass == {}
    # Without a value, the state the plan started from decides (this staging state has protection off).
    assert r.change(TABLE).deletion_protection is False
    assert decide(r, "production", NAME, apply=True, confirm=NAME, allow_destroy=TABLE).allowed


def test_a_table_outside_terraform_is_refused_before_apply():
    r = reviewed("create", table_exists=True)
    with pytest.raises(ChangeRefused, match="already exists outside Terraform") as error:
        decide(r, "staging", NAME, apply=True)
    assert "03-import" in str(error.value) and "import {" in str(error.value)
    assert decide(r, "staging", NAME, apply=False).blockers


def test_gate_parameters_are_validated():
    r = reviewed("create")
    with pytest.raises(ParameterError, match="'apply'"):
        decide(r, "staging", NAME, apply="yes")
    with pytest.raises(ParameterError, match="'allow_destroy'"):
        decide(r, "staging", NAME, apply=True, allow_destroy=[TABLE])
    with pytest.raises(ParameterError, match="'confirm'"):
        decide(r, "production", NAME, apply=True, confirm=None)
    with pytest.raises(ParameterError, match="'environment'"):
        decide(r, "prod", NAME, apply=True)


# --- the plan hash and apply_reviewed (a stub Terraform: no apply must happen) ----------------------------------


class StubWorkspace:
    def __init__(self, root: Path):
        self.root = root
        self.plan_file = root / "tfplan"


class StubTerraform:
    """Records the commands it is asked to run; ``apply`` answers with the given Result."""

    def __init__(self, root: Path, result: Result | None = None):
        self.workspace = StubWorkspace(root)
        self.calls: list[tuple] = []
        self.result = result or Result(
            [],
            0,
            '{"type":"change_summary","@message":"Apply complete! Resources: 1 '
            'added, 0 changed, 0 destroyed.","changes":{}}\n',
            "",
        )
        self.applied_bytes = b""
        self.shown = "create"

    def plan(self, *args):
        self.calls.append(("plan", *args))
        self.workspace.plan_file.write_bytes(b"a new plan " + repr(args).encode())

    def show_json(self, plan_file=None):
        return plan(self.shown).raw

    def inputs_digest(self, *extra):
        return "the stub's configuration"

    def run(self, *args, check=True, progress=False):
        self.calls.append(args)
        self.applied_bytes = (self.workspace.root / args[-1]).read_bytes()
        return self.result


def saved(tmp_path: Path, data: bytes = b"the saved plan") -> tuple[StubTerraform, str]:
    terraform = StubTerraform(tmp_path)
    terraform.workspace.plan_file.write_bytes(data)
    return terraform, plan_sha256(terraform.workspace.plan_file)


def test_plan_sha256_is_the_files_digest(tmp_path):
    import hashlib

    path = tmp_path / "tfplan"
    path.write_bytes(b"\x00plan")
    assert plan_sha256(path) == hashlib.sha256(b"\x00plan").hexdigest()


def test_apply_reviewed_applies_exactly_the_reviewed_bytes(tmp_path):
    terraform, digest = saved(tmp_path)
    r = reviewed("create", plan_sha256=digest)
    applied = apply_reviewed(terraform, r, decide(r, "staging", NAME, apply=True), expected_sha256=digest.upper())
    assert applied.plan_sha256 == digest and applied.summary.startswith("Apply complete!")
    (call,) = terraform.calls
    assert call[:2] == ("apply", "-input=false") and call[-1] == REVIEWED_PLAN_FILE and "-json" in call
    assert terraform.applied_bytes == b"the saved plan"
    assert not (tmp_path / REVIEWED_PLAN_FILE).exists()


def test_a_wrong_hash_is_refused_and_nothing_applied(tmp_path):
    terraform, digest = saved(tmp_path)
    r = reviewed("create", plan_sha256=digest)
    decision = decide(r, "staging", NAME, apply=True)
    with pytest.raises(PlanMismatch, match="not the plan that was reviewed"):
        apply_reviewed(terraform, r, decision, expected_sha256="0" * 64)
    terraform.workspace.plan_file.write_bytes(b"another plan")  # re-planned after the review
    with pytest.raises(PlanMismatch, match="changed after it was reviewed"):
        apply_reviewed(terraform, r, decision)
    with pytest.raises(ParameterError, match="'plan_sha256'"):
        apply_reviewed(terraform, r, decision, expected_sha256="abc")
    assert terraform.calls == []


def test_apply_reviewed_refuses_what_the_gate_did_not_allow(tmp_path):
    terraform, digest = saved(tmp_path)
    r = reviewed("rename", plan_sha256=digest)
    with pytest.raises(ChangeRefused, match="plan only"):
        apply_reviewed(terraform, r, decide(r, "staging", NAME, apply=False))
    with pytest.raises(ChangeRefused):
        apply_reviewed(terraform, r, Decision(False, "no"))
    unhashed = reviewed("create")
    with pytest.raises(PlanMismatch, match="cannot be checked"):
        apply_reviewed(terraform, unhashed, decide(unhashed, "staging", NAME, apply=True))
    assert terraform.calls == []


def test_plan_and_review_plans_or_keeps_the_reviewed_plan(tmp_path):
    from runbook.steps.gate import plan_and_review

    terraform = StubTerraform(tmp_path)
    asked = []
    r = plan_and_review(terraform, live=LIVE, table_exists=lambda name: asked.append(name) or True).review
    assert terraform.calls == [("plan",)] and asked == [NAME] and r.conflict is not None
    assert r.plan_sha256 == plan_sha256(terraform.workspace.plan_file)
    # With plan_sha256: no new plan (it would be new bytes); the saved plan must have that hash.
    kept = plan_and_review(terraform, plan_sha256=r.plan_sha256).review
    assert terraform.calls == [("plan",)] and kept.plan_sha256 == r.plan_sha256
    with pytest.raises(PlanMismatch, match="not the plan that was reviewed"):
        plan_and_review(terraform, plan_sha256="f" * 64)
    terraform.workspace.plan_file.unlink()
    with pytest.raises(PlanMismatch, match="no saved plan"):
        plan_and_review(terraform, plan_sha256=r.plan_sha256)
    assert terraform.calls == [("plan",)]


def test_a_failed_apply_raises_its_report(tmp_path, monkeypatch):
    stream = (FIXTURES / "failed_apply.jsonl").read_text()
    terraform, digest = saved(tmp_path)
    terraform.result = Result([], 1, stream, "")
    r = reviewed("failed_apply_plan", plan_sha256=digest)
    from runbook.steps import recovery
    from runbook.terraform import tfjson

    state = load_state(FIXTURES / "failed_apply_state.json")
    monkeypatch.setattr(
        recovery,
        "state_resources",  # what explains the failed apply reads
        lambda tf: tfjson.managed(tfjson.flatten(state["values"]["root_module"])),
    )
    with pytest.raises(ApplyFailed) as error:
        apply_reviewed(terraform, r, decide(r, "staging", NAME, apply=True))
    assert "collecting instance settings: couldn't find resource" in str(error.value)
    assert "Traceback" not in str(error.value)
    assert {d["address"] for d in error.value.report.done} >= {TABLE, "aws_iam_role.app"}


# --- the failed apply and the state it leaves ------------------------------------------------------------------


def test_failed_apply_from_terraforms_json_stream():
    report = explain_failed_apply(
        None,
        (FIXTURES / "failed_apply.jsonl").read_text(),
        reviewed("failed_apply_plan"),
        state=load_state(FIXTURES / "failed_apply_state.json"),
    )
    assert report.error.summary == "collecting instance settings: couldn't find resource"
    assert report.error.address == "aws_instance.app" and (report.error.filename, report.error.line) == ("main.tf", 84)
    assert {d["address"]: d["outcome"] for d in report.done} == {
        "aws_iam_instance_profile.app": "created",
        "aws_iam_role.app": "created",
        ATTACHMENT: "created",
        TABLE: "created",
        POLICIES[0]: "created",
        POLICIES[1]: "created",
    }
    assert report.not_done == [{"address": "aws_instance.app", "action": "create", "outcome": "failed: not created"}]
    assert "Terraform resumes from the state" in report.text and "re-run" in report.next_step
    assert json.loads(json.dumps(report.to_dict()))["error"]["address"] == "aws_instance.app"
    assert "| aws_instance.app | create | failed: not created |" in report.to_markdown()


def test_failed_apply_from_terraforms_text_output():
    from runbook.errors import TerraformError

    text = (FIXTURES / "failed_apply.txt").read_text()
    error = TerraformError(["apply", "tfplan"], 1, text)
    report = explain_failed_apply(
        None, error, reviewed("failed_apply_plan"), state=load_state(FIXTURES / "failed_apply_state.json")
    )
    assert report.error.text == (
        "Error: collecting instance settings: couldn't find resource (aws_instance.app, main.tf line 84)"
    )
    assert {d["address"] for d in report.done} == {
        "aws_iam_instance_profile.app",
        "aws_iam_role.app",
        ATTACHMENT,
        TABLE,
        *POLICIES,
    }
    boxed = "\n".join("│ " + line for line in text.splitlines())
    assert text_diagnostics(boxed) == text_diagnostics(text)


def test_failed_apply_on_an_existing_table_points_to_import():
    report = explain_failed_apply(None, (FIXTURES / "conflict_apply.jsonl").read_text(), reviewed("create"), state=[])
    assert "Table already exists" in report.error.summary and report.error.address == TABLE
    assert len(report.diagnostics) == 2 and report.done == []
    assert "03-import" in report.hint
    assert report.not_done[0]["address"] in (TABLE, "aws_iam_role.app"), "what failed is listed first"


def test_state_findings_tainted_table():
    findings = state_findings(load_state(FIXTURES / "tainted_state.json"), plan("tainted_plan"))
    assert not findings.ok
    kinds = {f.kind: f for f in findings.findings}
    assert kinds["tainted"].address == TABLE and "replace planned" in kinds["tainted"].message
    assert f"terraform untaint {TABLE}" in kinds["tainted"].message
    assert kinds["partial"].address == "aws_instance.app" and "partial create" in kinds["partial"].message
    assert findings.next_plan == "1 to create, 2 to update, 1 to replace — the table: data is lost"
    assert "Next plan: 1 to create" in findings.to_markdown()
    assert list(findings.to_frame().columns) == ["kind", "address", "message"]


def test_state_findings_raw_state_status_and_clean_state():
    raw = [{"address": "aws_iam_role.app", "mode": "managed", "type": "aws_iam_role", "status": "tainted"}]
    assert state_findings(raw).findings[0].kind == "tainted"
    clean = state_findings(load_state(FIXTURES / "failed_apply_state.json"), plan("no_change"))
    assert clean.ok and clean.next_plan == "no changes" and "no failed apply" in clean.to_markdown()
