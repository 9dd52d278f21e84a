# Every validation rule of variables.tf rejects a bad value (offline: a mocked AWS provider, plan only).
#
# Inputs with one rule are grouped by concern, one bad value each: a run passes only if every variable listed in
# expect_failures fails, so removing any one rule fails its run. A variable with several rules gets one run per
# rule. tests/test_module_terraform_test.py checks that each validation block of variables.tf is exercised here.

mock_provider "aws" {
  mock_data "aws_region" {
    defaults = { name = "us-east-1" }
  }
}

variables {
  environment = "test"
  table_name  = "test-notifications"
}

run "valid_inputs_plan" {
  command = plan
}

run "table_inputs" {
  command = plan
  variables {
    environment               = "Staging!"
    table_name                = "no spaces allowed"
    billing_mode              = "ONDEMAND"
    hash_key_type             = "STRING"
    range_key_type            = "X"
    stream_view_type          = "BOTH"
    pitr_recovery_period_days = 36
    ttl_attribute_name        = "expires at"
    table_class               = "INFREQUENT"
  }
  expect_failures = [
    var.environment, var.table_name, var.billing_mode, var.hash_key_type, var.range_key_type, var.stream_view_type,
    var.pitr_recovery_period_days, var.ttl_attribute_name, var.table_class,
  ]
}

run "capacity_inputs" {
  command = plan
  variables {
    read_capacity                  = 2.5
    write_capacity                 = 0
    on_demand_throughput           = { max_read_request_units = 0 }
    autoscaling_read_min           = 0
    autoscaling_read_max           = 0
    autoscaling_write_min          = 0
    autoscaling_write_max          = 0
    autoscaling_target_utilization = 95
  }
  expect_failures = [
    var.read_capacity, var.write_capacity, var.on_demand_throughput, var.autoscaling_read_min,
    var.autoscaling_read_max, var.autoscaling_write_min, var.autoscaling_write_max, var.autoscaling_target_utilization,
  ]
}

run "encryption_inputs" {
  command = plan
  variables {
    encryption_type              = "KMS"
    kms_key_arn                  = "alias/my-key"
    kms_key_deletion_window_days = 6
  }
  expect_failures = [var.encryption_type, var.kms_key_arn, var.kms_key_deletion_window_days]
}

run "alarm_inputs" {
  command = plan
  variables {
    alarm_read_throttle_threshold      = -1
    alarm_write_throttle_threshold     = -1
    alarm_user_errors_threshold        = -1
    alarm_system_errors_threshold      = -1
    alarm_capacity_utilization_percent = 0
    alarm_period_seconds               = 90
    alarm_evaluation_periods           = 0
    alarm_sns_topic_arn                = "my-topic"
  }
  expect_failures = [
    var.alarm_read_throttle_threshold, var.alarm_write_throttle_threshold, var.alarm_user_errors_threshold,
    var.alarm_system_errors_threshold, var.alarm_capacity_utilization_percent, var.alarm_period_seconds,
    var.alarm_evaluation_periods, var.alarm_sns_topic_arn,
  ]
}

run "resource_policy_inputs" {
  command = plan
  variables {
    resource_policy_full_access_principal_arns = ["*"]
    resource_policy_read_only_principal_arns   = ["arn:aws:iam::123456789012:group/analysts"]
  }
  expect_failures = [var.resource_policy_full_access_principal_arns, var.resource_policy_read_only_principal_arns]
}

# Attribute and index types: additional_attributes, and the first rule of each index list (projection types).
run "attribute_and_projection_types" {
  command = plan
  variables {
    additional_attributes    = [{ name = "status", type = "BOOL" }, { name = "created_at", type = "N" }]
    global_secondary_indexes = [{ name = "status-index", hash_key = "status", projection_type = "SOME" }]
    local_secondary_indexes  = [{ name = "created-index", range_key = "created_at", projection_type = "SOME" }]
  }
  expect_failures = [var.additional_attributes, var.global_secondary_indexes, var.local_secondary_indexes]
}

# The second rule of each index list: unique GSI names, at most 5 LSIs.
run "gsi_unique_names_and_lsi_at_most_5" {
  command = plan
  variables {
    additional_attributes = [{ name = "status", type = "S" }, { name = "created_at", type = "N" }]
    global_secondary_indexes = [
      { name = "status-index", hash_key = "status" },
      { name = "status-index", hash_key = "status" },
    ]
    local_secondary_indexes = [for i in range(6) : { name = "lsi-${i}", range_key = "created_at" }]
  }
  expect_failures = [var.global_secondary_indexes, var.local_secondary_indexes]
}

run "gsi_at_most_20" {
  command = plan
  variables {
    additional_attributes    = [{ name = "status", type = "S" }]
    global_secondary_indexes = [for i in range(21) : { name = "index-${i}", hash_key = "status" }]
  }
  expect_failures = [var.global_secondary_indexes]
}

run "gsi_on_demand_throughput" {
  command = plan
  variables {
    additional_attributes    = [{ name = "status", type = "S" }]
    global_secondary_indexes = [{ name = "status-index", hash_key = "status", on_demand_throughput = { max_write_request_units = 1.5 } }]
  }
  expect_failures = [var.global_secondary_indexes]
}

# Values at the edges of the rules are accepted.
run "edge_values_are_valid" {
  command = plan
  variables {
    table_name                         = "a.b"
    read_capacity                      = 1
    autoscaling_target_utilization     = 90
    pitr_recovery_period_days          = 1
    kms_key_deletion_window_days       = 7
    alarm_capacity_utilization_percent = 100
    alarm_period_seconds               = 60
    on_demand_throughput               = { max_read_request_units = -1, max_write_request_units = 1 }
    kms_key_arn                        = "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
    alarm_sns_topic_arn                = "arn:aws:sns:us-east-1:123456789012:alerts"
  }
}
