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

run "alarm_subscriptions_need_an_email_or_https_endpoint" {
  command = plan
  variables {
    alarm_subscriptions = [{ protocol = "email", endpoint = "oncall" }, { protocol = "sms", endpoint = "+15555550100" }]
  }
  expect_failures = [var.alarm_subscriptions]
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
    alarm_subscriptions                = [{ protocol = "email", endpoint = "a@b.co" }, { protocol = "https", endpoint = "https://h.example.org/x" }]
  }
}

run "audit_inputs" {
  command = plan
  variables {
    audit_log_bucket_name    = "My_Audit_Bucket"
    audit_log_retention_days = 0
  }
  expect_failures = [var.audit_log_bucket_name, var.audit_log_retention_days]
}

# Restore: a valid source, exactly one source, exactly one point in time, inside the recovery window.
run "restore_source_name_is_a_table_name" {
  command = plan
  variables {
    restore_source_name    = "no spaces"
    restore_to_latest_time = true
  }
  expect_failures = [var.restore_source_name]
}

run "restore_source_table_arn_is_a_table_arn" {
  command = plan
  variables {
    restore_source_table_arn = "arn:aws:s3:::bucket"
    restore_to_latest_time   = true
  }
  expect_failures = [var.restore_source_table_arn]
}

run "restore_with_two_sources" {
  command = plan
  variables {
    restore_source_name      = "production-user-notifications"
    restore_source_table_arn = "arn:aws:dynamodb:us-east-1:123456789012:table/production-user-notifications"
    restore_to_latest_time   = true
  }
  expect_failures = [var.restore_source_name]
}

run "restore_time_must_be_rfc3339" {
  command = plan
  variables {
    restore_source_name = "production-user-notifications"
    restore_date_time   = "yesterday"
  }
  expect_failures = [var.restore_date_time]
}

run "restore_time_outside_the_window" {
  command = plan
  variables {
    restore_source_name       = "production-user-notifications"
    restore_date_time         = "2000-01-01T00:00:00Z"
    pitr_recovery_period_days = 35
  }
  expect_failures = [var.restore_date_time]
}

run "restore_time_without_a_source" {
  command = plan
  variables {
    restore_date_time = timeadd(timestamp(), "-1h")
  }
  expect_failures = [var.restore_date_time]
}

run "restore_latest_time_without_a_source" {
  command = plan
  variables {
    restore_to_latest_time = true
  }
  expect_failures = [var.restore_to_latest_time]
}

run "restore_with_two_points_in_time" {
  command = plan
  variables {
    restore_source_name    = "production-user-notifications"
    restore_date_time      = timeadd(timestamp(), "-1h")
    restore_to_latest_time = true
  }
  expect_failures = [var.restore_to_latest_time]
}

run "restore_source_without_a_point_in_time" {
  command = plan
  variables {
    restore_source_name = "production-user-notifications"
  }
  expect_failures = [var.restore_to_latest_time]
}

run "restore_inside_the_window_is_planned" {
  command = plan
  variables {
    restore_source_name = "production-user-notifications"
    restore_date_time   = timeadd(timestamp(), "-24h")
  }

  assert {
    condition     = aws_dynamodb_table.notifications.restore_source_name == "production-user-notifications" && aws_dynamodb_table.notifications.restore_date_time != null && aws_dynamodb_table.notifications.restore_to_latest_time == null
    error_message = "The table is created as a restore of the source at the given time."
  }
}

run "restore_from_an_arn_to_the_latest_time" {
  command = plan
  variables {
    restore_source_table_arn = "arn:aws:dynamodb:us-east-1:123456789012:table/production-user-notifications"
    restore_to_latest_time   = true
  }

  assert {
    condition     = aws_dynamodb_table.notifications.restore_source_table_arn == "arn:aws:dynamodb:us-east-1:123456789012:table/production-user-notifications" && aws_dynamodb_table.notifications.restore_to_latest_time
    error_message = "The table is created as a restore of the source ARN at its latest restorable time."
  }
}
