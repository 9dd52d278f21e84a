import pytest

from runbook import params
from runbook.errors import ConfirmationError, ParameterError


@pytest.mark.parametrize(
    "call, value, name",
    [
        (params.environment, "qa", "environment"),
        (params.region, "us_east_1", "aws_region"),
        (params.region, "", "aws_region"),
        (params.region, "us-east-9", "aws_region"),
        (params.endpoint_url, "localhost:5000", "aws_endpoint_url"),
        (params.endpoint_url, "ftp://127.0.0.1:21", "aws_endpoint_url"),
        (params.endpoint_url, "http://127.0.0.1:99999", "aws_endpoint_url"),
        (params.table_name, "ab", "table_name"),
        (params.table_name, "bad name!", "table_name"),
    ],
)
def test_bad_values_name_the_parameter_and_what_is_allowed(call, value, name):
    with pytest.raises(ParameterError) as error:
        call(value)
    assert error.value.parameter == name
    assert repr(value) in str(error.value) and "expected" in str(error.value)


def test_good_values_pass_through():
    assert params.environment("production") == "production"
    assert params.region("eu-west-2") == "eu-west-2"
    assert params.endpoint_url("") == ""
    assert params.endpoint_url("http://127.0.0.1:5000/") == "http://127.0.0.1:5000"
    assert params.table_name("staging-user-notifications") == "staging-user-notifications"


def test_a_region_botocore_does_not_know_is_refused_with_the_regions_allowed():
    """botocore's endpoint data decides (not a pattern): us-east-9 has the form of a region but is none."""
    import boto3

    with pytest.raises(ParameterError) as error:
        params.region("us-east-9")
    message = str(error.value)
    assert "'aws_region'" in message and "'us-east-9'" in message
    for region in boto3.session.Session().get_available_regions("dynamodb"):
        assert region in message
    assert params.region("us-gov-west-1") == "us-gov-west-1"  # another partition's region
    with pytest.raises(ParameterError, match="--region"):
        params.region("moon-1", "--region")


def test_booleans_and_numbers_are_typed():
    with pytest.raises(ParameterError, match="apply"):
        params.boolean("True", "apply")
    with pytest.raises(ParameterError, match="users"):
        params.integer(True, "users")
    with pytest.raises(ParameterError, match="from 1 to 10"):
        params.integer(11, "users", 1, 10)
    assert params.number(2, "x", 0, 5) == 2.0


def test_guard_plans_by_default_and_allows_staging_with_apply():
    assert not params.change_guard("staging", "staging-user-notifications", False, "").allowed
    assert params.change_guard("staging", "staging-user-notifications", True, "").allowed


def test_production_apply_needs_the_table_name():
    table = "production-user-notifications"
    with pytest.raises(ConfirmationError, match=f"confirm='{table}'"):
        params.change_guard("production", table, True, "")
    with pytest.raises(ConfirmationError, match="nothing was changed"):
        params.change_guard("production", table, True, "staging-user-notifications")
    assert params.change_guard("production", table, True, table).allowed
    assert not params.change_guard("production", table, False, "").allowed
