"""runbook.tfconfig: resolving an environment's configuration and checking tfvars files (with file and line)."""

from __future__ import annotations

from pathlib import Path

import pytest

from runbook import paths
from runbook.errors import ConfigurationError, ParameterError
from runbook.spec import TableSpec
from runbook.tfconfig import (check_tfvars, convert, load_environment, module_variables, parse_type, root_variables,
                              validate_tfvars)

SEED_TAGS = {"Project": "Twitter Backend", "ManagedBy": "Terraform", "CostCenter": "Engineering"}


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "terraform.tfvars"
    path.write_text(text)
    return path


def test_staging_resolves_to_the_seed_settings():
    config = load_environment("staging")
    table = config.table
    assert config.tfvars_path == paths.environment_dir("staging") / "terraform.tfvars.example"
    assert (table.name, table.environment, table.region, table.billing_mode) == (
        "staging-user-notifications", "staging", "us-east-1", "PAY_PER_REQUEST")
    assert (table.hash_key, table.range_key) == ("user_id", "notification_id")
    assert table.stream_enabled and table.stream_view_type == "NEW_AND_OLD_IMAGES"
    assert table.ttl_enabled and table.ttl_attribute_name == "ttl"
    assert not table.pitr_enabled and not table.deletion_protection_enabled and not table.alarms.enabled
    assert table.alarm_names() == []
    assert table.read_capacity is None and not table.autoscaling.enabled
    assert table.tags == {**SEED_TAGS, "Environment": "staging", "Name": "staging-user-notifications"}
    assert config.variables["ami_id"] == "ami-xxxxx" and config.variables["key_name"] == "your-key-pair"
    assert config.module_inputs["deletion_protection_enabled"] is False


def test_production_turns_on_pitr_deletion_protection_and_alarms():
    table = load_environment("production").table
    assert table.name == "production-user-notifications" and table.environment == "production"
    assert table.pitr_enabled and table.pitr_recovery_period_days == 35
    assert table.deletion_protection_enabled
    assert table.alarms.enabled
    assert (table.alarms.read_throttle_threshold, table.alarms.write_throttle_threshold,
            table.alarms.user_errors_threshold, table.alarms.system_errors_threshold) == (10, 10, 50, 5)
    assert table.alarm_names() == [f"production-user-notifications-{suffix}" for suffix in
                                   ("read-throttle-events", "write-throttle-events", "user-errors", "system-errors")]
    assert table.stream_view_type == "NEW_AND_OLD_IMAGES" and table.ttl_enabled


def test_tfvars_values_win_over_defaults(tmp_path):
    tfvars = write(tmp_path, "\n".join([
        'ami_id = "ami-0123456789abcdef0"',
        'key_name = "ops"',
        'aws_region = "eu-west-1"',
        'dynamodb_notifications_table_name = "custom-notifications"',
        'dynamodb_billing_mode = "PROVISIONED"',
        "dynamodb_read_capacity = 20",
        "dynamodb_autoscaling_enabled = true",
        "dynamodb_enable_alarms = true",
        'dynamodb_encryption_type = "CUSTOMER_MANAGED"',
        'dynamodb_additional_attributes = [{ name = "status", type = "S" }]',
        'dynamodb_global_secondary_indexes = [{ name = "status-index", hash_key = "status" }]',
        'dynamodb_tags = { Team = "notifications" }',
    ]) + "\n")
    config = load_environment("staging", tfvars)
    table = config.table
    assert config.tfvars_path == tfvars
    assert (table.name, table.region, table.billing_mode) == ("custom-notifications", "eu-west-1", "PROVISIONED")
    assert (table.read_capacity, table.write_capacity) == (20, 5)
    assert table.autoscaling.enabled
    assert table.encryption == "CUSTOMER_MANAGED" and table.kms_key_arn is None
    (gsi,) = table.global_secondary_indexes
    assert (gsi.name, gsi.hash_key, gsi.range_key, gsi.projection_type) == ("status-index", "status", None, "ALL")
    assert (gsi.read_capacity, gsi.write_capacity) == (20, 5)
    assert [a.name for a in table.attributes] == ["user_id", "notification_id", "status"]
    assert table.tags["Team"] == "notifications" and table.tags["Name"] == "custom-notifications"
    assert table.alarm_names()[-2:] == ["custom-notifications-consumed-read-capacity",
                                        "custom-notifications-consumed-write-capacity"]
    # Unset variables keep staging's defaults.
    assert table.stream_enabled and not table.pitr_enabled


def test_module_defaults_match_the_table_spec_defaults():
    spec = TableSpec(name="x")
    defaults = {name: var.default for name, var in module_variables().items()}
    assert defaults["billing_mode"] == spec.billing_mode
    assert (defaults["hash_key"], defaults["range_key"]) == (spec.hash_key, spec.range_key)
    assert defaults["stream_enabled"] == spec.stream_enabled
    assert defaults["pitr_enabled"] == spec.pitr_enabled
    assert defaults["pitr_recovery_period_days"] == spec.pitr_recovery_period_days
    assert (defaults["ttl_enabled"], defaults["ttl_attribute_name"]) == (spec.ttl_enabled, spec.ttl_attribute_name)
    assert defaults["encryption_type"] == spec.encryption
    assert defaults["table_class"] == spec.table_class
    assert defaults["deletion_protection_enabled"] == spec.deletion_protection_enabled
    assert defaults["contributor_insights_enabled"] == spec.contributor_insights_enabled
    assert defaults["dashboard_enabled"] == spec.dashboard_enabled
    assert defaults["alarms_enabled"] == spec.alarms.enabled
    assert defaults["alarm_read_throttle_threshold"] == spec.alarms.read_throttle_threshold
    assert defaults["alarm_write_throttle_threshold"] == spec.alarms.write_throttle_threshold
    assert defaults["alarm_user_errors_threshold"] == spec.alarms.user_errors_threshold
    assert defaults["alarm_system_errors_threshold"] == spec.alarms.system_errors_threshold
    assert defaults["alarm_capacity_utilization_percent"] == spec.alarms.capacity_utilization_percent
    assert defaults["alarm_period_seconds"] == spec.alarms.period_seconds
    assert defaults["alarm_evaluation_periods"] == spec.alarms.evaluation_periods
    assert defaults["autoscaling_enabled"] == spec.autoscaling.enabled
    assert (defaults["autoscaling_read_min"], defaults["autoscaling_read_max"]) == (spec.autoscaling.read_min,
                                                                                    spec.autoscaling.read_max)
    assert (defaults["autoscaling_write_min"], defaults["autoscaling_write_max"]) == (spec.autoscaling.write_min,
                                                                                      spec.autoscaling.write_max)
    assert defaults["autoscaling_target_utilization"] == spec.autoscaling.target_utilization


def test_root_variables_report_type_default_and_required():
    variables = root_variables("production")
    assert variables["ami_id"].required and variables["key_name"].required
    assert not variables["dynamodb_billing_mode"].required
    assert variables["dynamodb_billing_mode"].type == "string"
    assert variables["common_tags"].type == "map(string)"
    assert variables["dynamodb_pitr_enabled"].default is True
    assert variables["dynamodb_notifications_table_name"].description


def test_validate_tfvars_finds_each_problem_with_its_line(tmp_path):
    tfvars = write(tmp_path, "\n".join([
        "# a comment",
        'aws_region = "us-east-1"',
        'key_name   = "your-key-pair"',
        'dynamodb_billing_mod = "PAY_PER_REQUEST"',          # 4: unknown (typo)
        'dynamodb_billing_mode = "ON_DEMAND"',               # 5: not allowed
        'dynamodb_stream_enabled = "yes"',                   # 6: wrong type
        'dynamodb_stream_view_type = "ALL"',                 # 7: not allowed
        'dynamodb_notifications_table_name = "no spaces"',   # 8: table name rules
        "dynamodb_pitr_recovery_period_days = 36",           # 9: out of range
    ]) + "\n")
    problems = {p.variable: p for p in validate_tfvars(tfvars, "staging")}
    assert problems["dynamodb_billing_mod"].line == 4
    assert "unknown variable" in problems["dynamodb_billing_mod"].message
    assert "dynamodb_billing_mode" in problems["dynamodb_billing_mod"].message  # the suggestion
    assert problems["dynamodb_billing_mode"].line == 5
    assert "PAY_PER_REQUEST or PROVISIONED" in problems["dynamodb_billing_mode"].message
    assert problems["dynamodb_stream_enabled"].line == 6 and "bool" in problems["dynamodb_stream_enabled"].message
    assert problems["dynamodb_stream_view_type"].line == 7
    assert problems["dynamodb_notifications_table_name"].line == 8
    assert problems["dynamodb_pitr_recovery_period_days"].line == 9
    assert problems["ami_id"].line is None and "required" in problems["ami_id"].message
    assert len(problems) == 7


def test_validate_tfvars_checks_object_attributes(tmp_path):
    tfvars = write(tmp_path, 'ami_id = "ami-1"\nkey_name = "k"\n'
                             'dynamodb_global_secondary_indexes = [{ name = "g", projection = "ALL" }]\n')
    (problem,) = validate_tfvars(tfvars, "staging")
    assert problem.line == 3 and "projection" in problem.message


def test_examples_are_valid():
    for environment in paths.ENVIRONMENTS:
        assert validate_tfvars(paths.environment_dir(environment) / "terraform.tfvars.example", environment) == []


def test_check_tfvars_raises_with_file_and_line(tmp_path):
    tfvars = write(tmp_path, 'ami_id = "ami-1"\nkey_name = "k"\ndynamodb_read_capacity = "lots"\n')
    with pytest.raises(ConfigurationError) as raised:
        check_tfvars(tfvars, "staging")
    assert raised.value.line == 3 and raised.value.path == str(tfvars)
    assert str(raised.value).startswith(f"{tfvars}:3: ")
    with pytest.raises(ConfigurationError, match="terraform.tfvars:3"):
        load_environment("staging", tfvars)


def test_unparsable_tfvars_is_a_configuration_error(tmp_path):
    with pytest.raises(ConfigurationError, match="cannot parse"):
        validate_tfvars(write(tmp_path, "ami_id = = \n"), "staging")


def test_bad_environment_name_is_refused():
    with pytest.raises(ParameterError, match="environment"):
        load_environment("prod")
    with pytest.raises(ParameterError):
        root_variables("../staging")


def test_type_reader_and_conversion():
    gsi = parse_type('list(object({name = string, projection_type = optional(string, "ALL"), '
                     'non_key_attributes = optional(list(string), []), read_capacity = optional(number)}))')
    assert convert([{"name": "g"}], gsi) == [{"name": "g", "projection_type": "ALL", "non_key_attributes": [],
                                             "read_capacity": None}]
    assert convert("5", ("number",)) == 5 and convert(True, ("string",)) == "true"
    with pytest.raises(ValueError, match="a list is required"):
        convert("x", parse_type("list(string)"))
    with pytest.raises(ValueError, match="'name' is required"):
        convert([{}], gsi)
