# Growing tables (issue 31): global-table replicas, autoscaling per index with cooldowns, scheduled scaling and the
# import from S3, planned offline (a mocked AWS provider in us-east-1), and every validation rule of their inputs
# rejecting a bad value: one run per rule number, each breaking exactly that rule of every input it lists (the other
# rules of those inputs hold), so removing any one rule fails its run.

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
  mock_data "aws_dynamodb_tables" {
    defaults = { names = [] }
  }
}

variables {
  environment           = "test"
  table_name            = "test-notifications"
  stream_enabled        = true
  stream_view_type      = "NEW_AND_OLD_IMAGES"
  billing_mode          = "PROVISIONED"
  autoscaling_enabled   = true
  additional_attributes = [{ name = "status", type = "S" }, { name = "kind", type = "S" }]
  global_secondary_indexes = [
    { name = "status-index", hash_key = "status" },
    { name = "kind-index", hash_key = "kind" },
  ]
}

run "replicas_planned_with_their_settings" {
  command = plan
  variables {
    billing_mode        = "PAY_PER_REQUEST"
    autoscaling_enabled = false
    pitr_enabled        = true
    replicas = [
      { region_name = "us-west-2" },
      { region_name = "eu-west-1", kms_key_arn = "arn:aws:kms:eu-west-1:123456789012:key/abcd-1234", point_in_time_recovery = false, propagate_tags = false },
    ]
  }

  assert {
    condition     = toset([for r in aws_dynamodb_table.notifications.replica : r.region_name]) == toset(["us-west-2", "eu-west-1"])
    error_message = "One replica block per listed region."
  }
  assert {
    condition     = one([for r in aws_dynamodb_table.notifications.replica : r.point_in_time_recovery if r.region_name == "us-west-2"]) == true && one([for r in aws_dynamodb_table.notifications.replica : r.propagate_tags if r.region_name == "us-west-2"]) == true
    error_message = "A replica without its own PITR setting follows pitr_enabled; tags propagate by default."
  }
  assert {
    condition     = one([for r in aws_dynamodb_table.notifications.replica : r.kms_key_arn if r.region_name == "eu-west-1"]) == "arn:aws:kms:eu-west-1:123456789012:key/abcd-1234" && one([for r in aws_dynamodb_table.notifications.replica : r.point_in_time_recovery if r.region_name == "eu-west-1"]) == false
    error_message = "A replica's own key and PITR setting are planned as given."
  }
}

run "no_replicas_no_import_by_default" {
  command = plan
  variables {
    billing_mode        = "PAY_PER_REQUEST"
    autoscaling_enabled = false
  }

  assert {
    condition     = length(aws_dynamodb_table.notifications.replica) == 0 && length(aws_dynamodb_table.notifications.import_table) == 0
    error_message = "No replica and no import unless asked for."
  }
}

run "autoscaling_per_index_with_cooldowns" {
  command = plan
  variables {
    autoscaling_write_min          = 5
    autoscaling_write_max          = 50
    autoscaling_scale_in_cooldown  = 300
    autoscaling_scale_out_cooldown = 60
    autoscaling_indexes = {
      "status-index" = { write_min = 2, write_max = 400, target_utilization = 50, scale_in_cooldown = 900, disable_scale_in = true }
    }
  }

  assert {
    condition     = aws_appautoscaling_target.capacity["index/status-index/write"].min_capacity == 2 && aws_appautoscaling_target.capacity["index/status-index/write"].max_capacity == 400
    error_message = "The index's own minimum and maximum."
  }
  assert {
    condition = (
      aws_appautoscaling_policy.capacity["index/status-index/write"].target_tracking_scaling_policy_configuration[0].target_value == 50 &&
      aws_appautoscaling_policy.capacity["index/status-index/write"].target_tracking_scaling_policy_configuration[0].scale_in_cooldown == 900 &&
      aws_appautoscaling_policy.capacity["index/status-index/write"].target_tracking_scaling_policy_configuration[0].scale_out_cooldown == 60 &&
      aws_appautoscaling_policy.capacity["index/status-index/write"].target_tracking_scaling_policy_configuration[0].disable_scale_in == true
    )
    error_message = "The index's own target, scale-in cooldown and no-scale-in; its unset scale-out cooldown is the table-level one."
  }
  assert {
    condition = (
      aws_appautoscaling_target.capacity["index/kind-index/write"].min_capacity == 5 && aws_appautoscaling_target.capacity["index/kind-index/write"].max_capacity == 50 &&
      aws_appautoscaling_policy.capacity["index/kind-index/write"].target_tracking_scaling_policy_configuration[0].target_value == 70 &&
      aws_appautoscaling_policy.capacity["index/kind-index/write"].target_tracking_scaling_policy_configuration[0].scale_in_cooldown == 300 &&
      aws_appautoscaling_policy.capacity["index/kind-index/write"].target_tracking_scaling_policy_configuration[0].disable_scale_in == false
    )
    error_message = "An index without its own settings takes the table-level inputs."
  }
  assert {
    condition     = aws_appautoscaling_target.capacity["table/write"].max_capacity == 50 && aws_appautoscaling_policy.capacity["table/write"].target_tracking_scaling_policy_configuration[0].scale_out_cooldown == 60
    error_message = "The table keeps the table-level inputs."
  }
}

run "scheduled_scaling_before_the_daily_burst" {
  command = plan
  variables {
    autoscaling_schedules = [
      { name = "burst-up", schedule = "cron(45 6 * * ? *)", timezone = "Europe/Berlin", min_capacity = 40 },
      { name = "burst-down", schedule = "cron(0 10 * * ? *)", timezone = "Europe/Berlin", min_capacity = 5, max_capacity = 100 },
      { name = "index-reads", schedule = "rate(12 hours)", target = "index/status-index", dimension = "read", max_capacity = 20 },
    ]
  }

  assert {
    condition     = toset(keys(aws_appautoscaling_scheduled_action.capacity)) == toset(["burst-up", "burst-down", "index-reads"])
    error_message = "One scheduled action per schedule."
  }
  assert {
    condition = (
      aws_appautoscaling_scheduled_action.capacity["burst-up"].name == "test-notifications-burst-up" &&
      aws_appautoscaling_scheduled_action.capacity["burst-up"].schedule == "cron(45 6 * * ? *)" &&
      aws_appautoscaling_scheduled_action.capacity["burst-up"].timezone == "Europe/Berlin" &&
      aws_appautoscaling_scheduled_action.capacity["burst-up"].resource_id == "table/test-notifications" &&
      aws_appautoscaling_scheduled_action.capacity["burst-up"].scalable_dimension == "dynamodb:table:WriteCapacityUnits" &&
      tonumber(aws_appautoscaling_scheduled_action.capacity["burst-up"].scalable_target_action[0].min_capacity) == 40
    )
    error_message = "The burst schedule raises the table's write minimum at 06:45 Berlin time."
  }
  assert {
    condition     = aws_appautoscaling_scheduled_action.capacity["index-reads"].resource_id == "table/test-notifications/index/status-index" && aws_appautoscaling_scheduled_action.capacity["index-reads"].scalable_dimension == "dynamodb:index:ReadCapacityUnits"
    error_message = "A schedule on an index acts on that index's target."
  }
}

run "import_from_s3_csv" {
  command = plan
  variables {
    billing_mode        = "PAY_PER_REQUEST"
    autoscaling_enabled = false
    import_table = {
      bucket                 = "seed-notifications"
      key_prefix             = "exports/2026/"
      input_format           = "CSV"
      input_compression_type = "GZIP"
      csv                    = { delimiter = ";", header_list = ["user_id", "notification_id", "status"] }
    }
  }

  assert {
    condition = (
      aws_dynamodb_table.notifications.import_table[0].input_format == "CSV" &&
      aws_dynamodb_table.notifications.import_table[0].input_compression_type == "GZIP" &&
      aws_dynamodb_table.notifications.import_table[0].s3_bucket_source[0].bucket == "seed-notifications" &&
      aws_dynamodb_table.notifications.import_table[0].s3_bucket_source[0].key_prefix == "exports/2026/" &&
      aws_dynamodb_table.notifications.import_table[0].input_format_options[0].csv[0].delimiter == ";" &&
      toset(aws_dynamodb_table.notifications.import_table[0].input_format_options[0].csv[0].header_list) == toset(["user_id", "notification_id", "status"])
    )
    error_message = "The import source, format and CSV options are planned as given."
  }
}

run "import_dynamodb_json_needs_no_options" {
  command = plan
  variables {
    billing_mode        = "PAY_PER_REQUEST"
    autoscaling_enabled = false
    import_table        = { bucket = "seed-notifications", input_format = "DYNAMODB_JSON" }
  }

  assert {
    condition     = aws_dynamodb_table.notifications.import_table[0].input_format == "DYNAMODB_JSON" && length(aws_dynamodb_table.notifications.import_table[0].input_format_options) == 0
    error_message = "DynamoDB JSON needs no format options."
  }
}

# --- every rule rejects a bad value ---------------------------------------------------------------------------------

run "growth_rule_1_formats" {
  command = plan
  variables {
    replicas                       = [{ region_name = "mars" }]
    autoscaling_scale_in_cooldown  = -1
    autoscaling_scale_out_cooldown = 1.5
    autoscaling_indexes            = { "no-such-index" = { write_min = 1 } }
    autoscaling_schedules          = [{ name = "burst", schedule = "cron(45 6 * * *)", min_capacity = 10 }]
    import_table                   = { bucket = "seed-notifications", input_format = "PARQUET" }
  }
  expect_failures = [
    var.replicas, var.autoscaling_scale_in_cooldown, var.autoscaling_scale_out_cooldown, var.autoscaling_indexes,
    var.autoscaling_schedules, var.import_table,
  ]
}

run "growth_rule_2_duplicates_and_min_over_max" {
  command = plan
  variables {
    replicas              = [{ region_name = "us-west-2" }, { region_name = "us-west-2" }]
    autoscaling_indexes   = { "status-index" = { write_min = 60, write_max = 50 } }
    autoscaling_schedules = [{ name = "burst", schedule = "at(2026-12-24T06:00:00)", min_capacity = 80, max_capacity = 40 }]
    import_table          = { bucket = "seed-notifications", input_format = "CSV" }
  }
  expect_failures = [var.replicas, var.autoscaling_indexes, var.autoscaling_schedules, var.import_table]
}

run "growth_rule_3_own_region_and_ranges" {
  command = plan
  variables {
    replicas              = [{ region_name = "us-east-1" }]
    autoscaling_indexes   = { "status-index" = { target_utilization = 95 } }
    autoscaling_schedules = [{ name = "burst", schedule = "rate(1 day)", target = "index/no-such-index", min_capacity = 10 }]
    import_table          = { bucket = "Not_A_Bucket", input_format = "ION" }
  }
  expect_failures = [var.replicas, var.autoscaling_indexes, var.autoscaling_schedules, var.import_table]
}

run "growth_rule_4_replica_key_region_and_schedule_names" {
  command = plan
  variables {
    replicas = [{ region_name = "us-west-2", kms_key_arn = "arn:aws:kms:us-east-1:123456789012:key/abcd-1234" }]
    autoscaling_schedules = [
      { name = "burst", schedule = "rate(1 day)", min_capacity = 10 },
      { name = "burst", schedule = "rate(2 days)", min_capacity = 20 },
    ]
  }
  expect_failures = [var.replicas, var.autoscaling_schedules]
}

run "growth_rule_5_replicas_need_the_stream_schedules_need_autoscaling" {
  command = plan
  variables {
    stream_view_type      = "NEW_IMAGE"
    replicas              = [{ region_name = "us-west-2" }]
    billing_mode          = "PAY_PER_REQUEST"
    autoscaling_schedules = [{ name = "burst", schedule = "rate(1 day)", min_capacity = 10 }]
  }
  expect_failures = [var.replicas, var.autoscaling_schedules]
}
