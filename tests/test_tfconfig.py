"""runbook.terraform.tfconfig: the declared variable names, read from HCL only where Terraform cannot help."""

from __future__ import annotations

import pytest

from runbook import paths
from runbook.errors import ParameterError
from runbook.terraform.tfconfig import module_variables, root_variables


@pytest.mark.parametrize("environment", paths.ENVIRONMENTS)
def test_root_variables_carry_the_seeds_names(environment):
    variables = root_variables(environment)
    for name in (
        "aws_region",
        "ami_id",
        "key_name",
        "common_tags",
        "dynamodb_notifications_table_name",
        "dynamodb_billing_mode",
        "dynamodb_stream_enabled",
        "dynamodb_stream_view_type",
        "dynamodb_pitr_enabled",
        "dynamodb_prevent_destroy",
        "dynamodb_ttl_enabled",
        "dynamodb_ttl_attribute_name",
        "dynamodb_enable_alarms",
    ):
        assert name in variables, f"{environment} root lacks the seed's variable {name}"
    assert variables["ami_id"].required and variables["key_name"].required


@pytest.mark.slow  # parses the module's files with python-hcl2
def test_module_variables_are_read():
    variables = module_variables()
    assert variables["table_name"].required
    assert all(v.name == name for name, v in variables.items())


def test_bad_environment_name_is_refused():
    with pytest.raises(ParameterError, match="environment"):
        root_variables("prod")
    with pytest.raises(ParameterError):
        root_variables("../staging")
