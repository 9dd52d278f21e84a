# The table in each billing mode, one address in every mode, the on-demand ceiling, the KMS key, tags and the
# preconditions (offline: a mocked AWS provider, plan only). Optional+computed attributes left unset (capacity of
# an on-demand table, an absent on_demand_throughput) are unknown in a plan, so runs assert what is configured.

mock_provider "aws" {
  mock_data "aws_region" {
    defaults = { name = "us-east-1" }
  }
  mock_data "aws_partition" {
    defaults = { partition = "aws" }
  }
  mock_data "aws_caller_identity" {
    defaults = { account_id = "123456789012" }
  }
  # No table exists yet: autoscaling mode reads no live capacity.
  mock_data "aws_dynamodb_tables" {
    defaults = { names = [] }
  }
}

variables {
  environment = "test"
  table_name  = "test-notifications"
}

run "on_demand_is_the_default" {
  command = plan

  assert {
    condition     = aws_dynamodb_table.notifications.billing_mode == "PAY_PER_REQUEST"
    error_message = "The default table is on-demand."
  }
  assert {
    condition     = aws_dynamodb_table.notifications.hash_key == "user_id" && aws_dynamodb_table.notifications.range_key == "notification_id"
    error_message = "Keys are user_id / notification_id."
  }
  assert {
    condition     = length(aws_appautoscaling_target.capacity) == 0 && length(aws_appautoscaling_policy.capacity) == 0
    error_message = "No autoscaling for an on-demand table."
  }
  assert {
    condition     = length(aws_kms_key.notifications) == 0 && length(aws_dynamodb_resource_policy.notifications) == 0
    error_message = "No KMS key and no resource policy by default."
  }
  assert {
    condition     = length(aws_cloudwatch_metric_alarm.simple) + length(aws_cloudwatch_metric_alarm.system_errors) + length(aws_cloudwatch_metric_alarm.capacity) == 0
    error_message = "No alarm unless alarms_enabled."
  }
}

run "on_demand_autoscaling_flag_is_ignored" {
  command = plan
  variables { autoscaling_enabled = true }

  assert {
    condition     = length(aws_appautoscaling_target.capacity) == 0 && length(data.aws_dynamodb_tables.all) == 0
    error_message = "autoscaling_enabled does nothing for a PAY_PER_REQUEST table."
  }
}

run "on_demand_throughput_on_table_and_gsi" {
  command = plan
  variables {
    on_demand_throughput     = { max_read_request_units = 1000, max_write_request_units = 200 }
    additional_attributes    = [{ name = "status", type = "S" }]
    global_secondary_indexes = [{ name = "status-index", hash_key = "status", on_demand_throughput = { max_read_request_units = 300 } }]
  }

  assert {
    condition     = aws_dynamodb_table.notifications.on_demand_throughput[0].max_read_request_units == 1000 && aws_dynamodb_table.notifications.on_demand_throughput[0].max_write_request_units == 200
    error_message = "The table's ceiling is the configured one."
  }
  assert {
    condition     = one([for i in aws_dynamodb_table.notifications.global_secondary_index : i.on_demand_throughput[0].max_read_request_units if i.name == "status-index"]) == 300
    error_message = "The GSI's ceiling is the configured one."
  }
}

run "provisioned_without_autoscaling" {
  command = plan
  variables {
    billing_mode             = "PROVISIONED"
    read_capacity            = 12
    write_capacity           = 7
    additional_attributes    = [{ name = "status", type = "S" }]
    global_secondary_indexes = [{ name = "status-index", hash_key = "status", write_capacity = 3 }]
  }

  assert {
    condition     = aws_dynamodb_table.notifications.read_capacity == 12 && aws_dynamodb_table.notifications.write_capacity == 7
    error_message = "A provisioned table gets the configured capacity."
  }
  assert {
    condition     = one([for i in aws_dynamodb_table.notifications.global_secondary_index : [i.read_capacity, i.write_capacity] if i.name == "status-index"]) == [12, 3]
    error_message = "A GSI takes its own capacity, else the table's."
  }
  assert {
    condition     = length(aws_appautoscaling_target.capacity) == 0 && length(aws_appautoscaling_policy.capacity) == 0
    error_message = "No autoscaling unless autoscaling_enabled."
  }
}

run "provisioned_with_autoscaling_covers_table_and_each_gsi" {
  command = plan
  variables {
    billing_mode          = "PROVISIONED"
    autoscaling_enabled   = true
    autoscaling_read_min  = 2
    autoscaling_read_max  = 40
    additional_attributes = [{ name = "status", type = "S" }, { name = "kind", type = "S" }]
    global_secondary_indexes = [
      { name = "status-index", hash_key = "status" },
      { name = "kind-index", hash_key = "kind" },
    ]
  }

  assert {
    condition = toset(keys(aws_appautoscaling_target.capacity)) == toset([
      "table/read", "table/write", "index/status-index/read", "index/status-index/write", "index/kind-index/read",
      "index/kind-index/write",
    ])
    error_message = "One scalable target per (table or GSI) x (read or write)."
  }
  assert {
    condition     = toset(keys(aws_appautoscaling_policy.capacity)) == toset(keys(aws_appautoscaling_target.capacity))
    error_message = "One target-tracking policy per scalable target."
  }
  assert {
    condition = (
      aws_appautoscaling_target.capacity["index/kind-index/read"].resource_id == "table/test-notifications/index/kind-index" &&
      aws_appautoscaling_target.capacity["index/kind-index/read"].scalable_dimension == "dynamodb:index:ReadCapacityUnits" &&
      aws_appautoscaling_target.capacity["table/write"].scalable_dimension == "dynamodb:table:WriteCapacityUnits"
    )
    error_message = "Targets name the table or the index and the right dimension."
  }
  assert {
    condition     = aws_appautoscaling_target.capacity["table/read"].min_capacity == 2 && aws_appautoscaling_target.capacity["table/read"].max_capacity == 40
    error_message = "Read targets carry autoscaling_read_min/max."
  }
  assert {
    condition     = alltrue([for p in aws_appautoscaling_policy.capacity : p.policy_type == "TargetTrackingScaling" && p.target_tracking_scaling_policy_configuration[0].target_value == 70])
    error_message = "Target tracking at 70% by default."
  }
  assert {
    condition     = aws_dynamodb_table.notifications.read_capacity == 5 && aws_dynamodb_table.notifications.write_capacity == 5
    error_message = "Without a live table the configured capacity is the starting value."
  }
}

run "autoscaling_keeps_the_live_capacity" {
  command = plan
  variables {
    billing_mode          = "PROVISIONED"
    autoscaling_enabled   = true
    additional_attributes = [{ name = "status", type = "S" }]
    global_secondary_indexes = [
      { name = "status-index", hash_key = "status" },
    ]
  }
  override_data {
    target = data.aws_dynamodb_tables.all[0]
    values = { names = ["test-notifications"] }
  }
  override_data {
    target = data.aws_dynamodb_table.live[0]
    values = {
      billing_mode           = "PROVISIONED"
      read_capacity          = 37
      write_capacity         = 21
      global_secondary_index = [{ name = "status-index", read_capacity = 17, write_capacity = 9, hash_key = "status", range_key = "", projection_type = "ALL", non_key_attributes = [], on_demand_throughput = [] }]
    }
  }

  assert {
    condition     = aws_dynamodb_table.notifications.read_capacity == 37 && aws_dynamodb_table.notifications.write_capacity == 21
    error_message = "With autoscaling, the table keeps the capacity the autoscaler set (no plan diff)."
  }
  assert {
    condition     = one([for i in aws_dynamodb_table.notifications.global_secondary_index : [i.read_capacity, i.write_capacity] if i.name == "status-index"]) == [17, 9]
    error_message = "With autoscaling, each GSI keeps its live capacity."
  }
}

run "customer_managed_key_is_created_without_an_arn" {
  command = plan
  variables { encryption_type = "CUSTOMER_MANAGED" }

  assert {
    condition     = length(aws_kms_key.notifications) == 1 && aws_kms_key.notifications[0].enable_key_rotation
    error_message = "CUSTOMER_MANAGED without kms_key_arn creates a rotating key."
  }
  assert {
    condition     = aws_kms_alias.notifications[0].name == "alias/dynamodb/test-notifications"
    error_message = "The key's alias is alias/dynamodb/<table>."
  }
  assert {
    condition     = aws_dynamodb_table.notifications.server_side_encryption[0].enabled
    error_message = "Server-side encryption with the KMS key is on."
  }
}

run "customer_managed_key_given_by_arn" {
  command = plan
  variables {
    encryption_type = "CUSTOMER_MANAGED"
    kms_key_arn     = "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
  }

  assert {
    condition     = length(aws_kms_key.notifications) == 0 && length(aws_kms_alias.notifications) == 0
    error_message = "A given key ARN creates no key."
  }
  assert {
    condition     = aws_dynamodb_table.notifications.server_side_encryption[0].kms_key_arn == "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
    error_message = "The table uses the given key."
  }
}

run "aws_managed_key_creates_no_key" {
  command = plan
  variables {
    encryption_type = "AWS_MANAGED"
    kms_key_arn     = "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
  }

  assert {
    condition     = length(aws_kms_key.notifications) == 0 && aws_dynamodb_table.notifications.server_side_encryption[0].enabled
    error_message = "AWS_MANAGED uses aws/dynamodb: encryption on, no key of ours."
  }
}

run "tags_are_merged_with_name" {
  command = plan
  variables {
    tags           = { Team = "notifications", Name = "overridden" }
    alarms_enabled = true
  }

  assert {
    condition     = aws_dynamodb_table.notifications.tags == tomap({ Team = "notifications", Name = "test-notifications" })
    error_message = "The module's tags plus Name = table name (Name wins)."
  }
  assert {
    condition     = aws_iam_policy.full_access.tags == aws_dynamodb_table.notifications.tags && aws_cloudwatch_metric_alarm.system_errors[0].tags == aws_dynamodb_table.notifications.tags
    error_message = "Every taggable resource carries the same tags."
  }
}

run "streams_pitr_ttl_and_protection" {
  command = plan
  variables {
    stream_enabled              = true
    stream_view_type            = "KEYS_ONLY"
    pitr_enabled                = true
    pitr_recovery_period_days   = 7
    ttl_enabled                 = true
    deletion_protection_enabled = true
  }

  assert {
    condition     = aws_dynamodb_table.notifications.stream_enabled && aws_dynamodb_table.notifications.stream_view_type == "KEYS_ONLY"
    error_message = "Streams with the chosen view type."
  }
  assert {
    condition     = aws_dynamodb_table.notifications.point_in_time_recovery[0].enabled && aws_dynamodb_table.notifications.point_in_time_recovery[0].recovery_period_in_days == 7
    error_message = "PITR with its recovery period."
  }
  assert {
    condition     = aws_dynamodb_table.notifications.ttl[0].enabled && aws_dynamodb_table.notifications.ttl[0].attribute_name == "ttl"
    error_message = "TTL on attribute ttl."
  }
  assert {
    condition     = aws_dynamodb_table.notifications.deletion_protection_enabled
    error_message = "deletion_protection_enabled reaches the table."
  }
}

# --- preconditions ----------------------------------------------------------------------------------------------

run "precondition_index_keys_must_be_declared" {
  command = plan
  variables {
    global_secondary_indexes = [{ name = "status-index", hash_key = "status" }]
  }
  expect_failures = [aws_dynamodb_table.notifications]
}

run "precondition_lsi_needs_a_sort_key" {
  command = plan
  variables {
    range_key               = null
    additional_attributes   = [{ name = "created_at", type = "N" }]
    local_secondary_indexes = [{ name = "created-index", range_key = "created_at" }]
  }
  expect_failures = [aws_dynamodb_table.notifications]
}

run "precondition_autoscaling_min_not_above_max" {
  command = plan
  variables {
    billing_mode         = "PROVISIONED"
    autoscaling_enabled  = true
    autoscaling_read_min = 50
    autoscaling_read_max = 10
  }
  expect_failures = [aws_dynamodb_table.notifications]
}

run "precondition_on_demand_throughput_only_on_demand" {
  command = plan
  variables {
    billing_mode         = "PROVISIONED"
    on_demand_throughput = { max_read_request_units = 100 }
  }
  expect_failures = [aws_dynamodb_table.notifications]
}
