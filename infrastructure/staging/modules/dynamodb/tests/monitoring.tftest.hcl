# CloudWatch alarms: only when enabled, with the configuration guide's thresholds; the capacity alarms only for a
# PROVISIONED table (offline: a mocked AWS provider, plan only).

mock_provider "aws" {
  mock_data "aws_region" {
    defaults = { name = "us-east-1" }
  }
  mock_data "aws_dynamodb_tables" {
    defaults = { names = [] }
  }
}

variables {
  environment = "test"
  table_name  = "test-notifications"
}

run "no_alarms_unless_enabled" {
  command = plan
  variables { billing_mode = "PROVISIONED" }

  assert {
    condition     = length(aws_cloudwatch_metric_alarm.simple) + length(aws_cloudwatch_metric_alarm.system_errors) + length(aws_cloudwatch_metric_alarm.capacity) == 0
    error_message = "alarms_enabled = false creates no alarm."
  }
  assert {
    condition     = output.dynamodb_alarm_names == []
    error_message = "No alarm names without alarms."
  }
}

run "on_demand_alarms_use_the_guides_thresholds" {
  command = plan
  variables { alarms_enabled = true }

  assert {
    condition     = aws_cloudwatch_metric_alarm.simple["read-throttle-events"].threshold == 10 && aws_cloudwatch_metric_alarm.simple["read-throttle-events"].metric_name == "ReadThrottleEvents"
    error_message = "ReadThrottleEvents > 10."
  }
  assert {
    condition     = aws_cloudwatch_metric_alarm.simple["write-throttle-events"].threshold == 10 && aws_cloudwatch_metric_alarm.simple["write-throttle-events"].metric_name == "WriteThrottleEvents"
    error_message = "WriteThrottleEvents > 10."
  }
  assert {
    condition     = aws_cloudwatch_metric_alarm.simple["user-errors"].threshold == 50 && aws_cloudwatch_metric_alarm.simple["user-errors"].metric_name == "UserErrors"
    error_message = "UserErrors > 50."
  }
  assert {
    condition     = aws_cloudwatch_metric_alarm.system_errors[0].threshold == 5
    error_message = "SystemErrors > 5."
  }
  assert {
    condition     = alltrue([for a in concat(values(aws_cloudwatch_metric_alarm.simple), aws_cloudwatch_metric_alarm.system_errors) : a.comparison_operator == "GreaterThanThreshold" && a.evaluation_periods == 2 && a.treat_missing_data == "notBreaching"])
    error_message = "Every alarm: greater than the threshold, 2 periods, missing data not breaching."
  }
  assert {
    condition     = length(aws_cloudwatch_metric_alarm.capacity) == 0
    error_message = "No capacity alarm for an on-demand table."
  }
  assert {
    condition = output.dynamodb_alarm_names == [
      "test-notifications-read-throttle-events", "test-notifications-write-throttle-events",
      "test-notifications-user-errors", "test-notifications-system-errors",
    ]
    error_message = "Alarm names are <table>-<what>, in the documented order."
  }
}

run "provisioned_adds_capacity_alarms_at_80_percent" {
  command = plan
  variables {
    alarms_enabled      = true
    billing_mode        = "PROVISIONED"
    alarm_sns_topic_arn = "arn:aws:sns:us-east-1:123456789012:alerts"
  }

  assert {
    condition     = toset(keys(aws_cloudwatch_metric_alarm.capacity)) == toset(["consumed-read-capacity", "consumed-write-capacity"])
    error_message = "Read and write capacity alarms for a PROVISIONED table."
  }
  assert {
    condition     = alltrue([for a in aws_cloudwatch_metric_alarm.capacity : a.threshold == 80])
    error_message = "Consumed capacity > 80% of provisioned."
  }
  assert {
    condition     = alltrue([for a in concat(values(aws_cloudwatch_metric_alarm.simple), values(aws_cloudwatch_metric_alarm.capacity)) : a.alarm_actions == toset(["arn:aws:sns:us-east-1:123456789012:alerts"]) && a.ok_actions == toset(["arn:aws:sns:us-east-1:123456789012:alerts"])])
    error_message = "The SNS topic gets alarm and OK notifications."
  }
  assert {
    condition     = length(output.dynamodb_alarm_names) == 6
    error_message = "Six alarms for a PROVISIONED table."
  }
}

run "dashboard_and_contributor_insights_only_when_enabled" {
  command = plan
  variables {
    dashboard_enabled            = true
    contributor_insights_enabled = true
  }

  assert {
    condition     = aws_cloudwatch_dashboard.notifications[0].dashboard_name == "test-notifications" && length(aws_dynamodb_contributor_insights.notifications) == 1
    error_message = "Dashboard named after the table; Contributor Insights on the table."
  }
}

run "alarms_without_a_topic_get_an_encrypted_topic_of_the_module" {
  command = plan
  variables {
    alarms_enabled           = true
    additional_attributes    = [{ name = "status", type = "S" }]
    global_secondary_indexes = [{ name = "status-index", hash_key = "status" }]
    alarm_subscriptions = [
      { protocol = "email", endpoint = "oncall@example.org" },
      { protocol = "https", endpoint = "https://hooks.example.org/alarms" },
    ]
  }
  override_resource {
    target          = aws_sns_topic.alarms[0]
    override_during = plan
    values          = { arn = "arn:aws:sns:us-east-1:123456789012:test-notifications-alarms" }
  }
  override_resource {
    target          = aws_kms_key.alarms[0]
    override_during = plan
    values          = { arn = "arn:aws:kms:us-east-1:123456789012:key/00000000-0000-0000-0000-000000000001" }
  }

  assert {
    condition     = aws_sns_topic.alarms[0].name == "test-notifications-alarms" && aws_sns_topic.alarms[0].kms_master_key_id == aws_kms_key.alarms[0].arn && aws_kms_key.alarms[0].enable_key_rotation
    error_message = "A topic <table>-alarms, encrypted with a rotated key of the module's."
  }
  assert {
    condition     = strcontains(aws_kms_key.alarms[0].policy, "cloudwatch.amazonaws.com") && strcontains(aws_sns_topic_policy.alarms[0].policy, "cloudwatch.amazonaws.com")
    error_message = "CloudWatch may use the key and publish to the topic."
  }
  assert {
    condition     = toset([for s in aws_sns_topic_subscription.alarms : "${s.protocol}:${s.endpoint}"]) == toset(["email:oncall@example.org", "https:https://hooks.example.org/alarms"])
    error_message = "One subscription per alarm_subscriptions entry."
  }
  assert {
    condition = alltrue([for a in concat(values(aws_cloudwatch_metric_alarm.simple), aws_cloudwatch_metric_alarm.system_errors) :
    a.alarm_actions == toset([aws_sns_topic.alarms[0].arn]) && a.ok_actions == toset([aws_sns_topic.alarms[0].arn])])
    error_message = "Every alarm notifies the module's topic on alarm and on recovery."
  }
  assert {
    condition     = output.dynamodb_alarm_topic_arn == aws_sns_topic.alarms[0].arn
    error_message = "The topic's ARN is an output."
  }
}

run "gsi_throttles_are_watched_per_index" {
  command = plan
  variables {
    alarms_enabled           = true
    alarm_sns_topic_arn      = "arn:aws:sns:us-east-1:123456789012:alerts"
    additional_attributes    = [{ name = "status", type = "S" }, { name = "kind", type = "S" }]
    global_secondary_indexes = [{ name = "status-index", hash_key = "status" }, { name = "kind-index", hash_key = "kind" }]
  }

  assert {
    condition = alltrue([for index in ["status-index", "kind-index"] : alltrue([for kind in ["read", "write"] :
      aws_cloudwatch_metric_alarm.simple["gsi-${index}-${kind}-throttle-events"].dimensions == tomap({ TableName = "test-notifications", GlobalSecondaryIndexName = index })
      && aws_cloudwatch_metric_alarm.simple["gsi-${index}-${kind}-throttle-events"].metric_name == (kind == "read" ? "ReadThrottleEvents" : "WriteThrottleEvents")
      && aws_cloudwatch_metric_alarm.simple["gsi-${index}-${kind}-throttle-events"].threshold == 10
    ])])
    error_message = "A read and a write throttle alarm per GSI, on its GlobalSecondaryIndexName, with the table's thresholds."
  }
  assert {
    condition     = length(output.dynamodb_alarm_names) == 8 && contains(output.dynamodb_alarm_names, "test-notifications-gsi-kind-index-write-throttle-events")
    error_message = "Four table alarms and four GSI alarms, named <table>-gsi-<index>-<read|write>-throttle-events."
  }
  assert {
    condition     = length(aws_sns_topic.alarms) == 0 && length(aws_kms_key.alarms) == 0
    error_message = "No topic of the module's when one is given."
  }
}

run "system_errors_cover_every_operation" {
  command = plan
  variables { alarms_enabled = true }

  assert {
    condition     = one(aws_cloudwatch_metric_alarm.system_errors[0].metric_query[*].expression) == "SELECT SUM(SystemErrors) FROM SCHEMA(\"AWS/DynamoDB\", Operation, TableName) WHERE TableName = 'test-notifications'"
    error_message = "One Metrics Insights query sums SystemErrors over every Operation of the table."
  }
  assert {
    condition     = alltrue([for q in aws_cloudwatch_metric_alarm.system_errors[0].metric_query : q.period == 300])
    error_message = "The query's period is set (the provider reads an unset one back as 0)."
  }
}

run "no_topic_without_alarms" {
  command = plan

  assert {
    condition     = length(aws_sns_topic.alarms) == 0 && output.dynamodb_alarm_topic_arn == null
    error_message = "No topic when alarms are disabled."
  }
}

run "audit_logging_records_this_tables_data_events" {
  command = plan
  variables { audit_logging_enabled = true }
  override_resource {
    target          = aws_dynamodb_table.notifications
    override_during = plan
    values          = { arn = "arn:aws:dynamodb:us-east-1:123456789012:table/test-notifications" }
  }

  assert {
    condition = aws_cloudtrail.audit[0].name == "test-notifications-data-events" && length(aws_cloudtrail.audit[0].advanced_event_selector) == 1 && toset([
      for s in aws_cloudtrail.audit[0].advanced_event_selector[0].field_selector : "${s.field}=${join(",", s.equals)}"
      ]) == toset([
      "eventCategory=Data", "resources.type=AWS::DynamoDB::Table",
      "resources.ARN=arn:aws:dynamodb:us-east-1:123456789012:table/test-notifications",
    ])
    error_message = "One advanced event selector: data events of AWS::DynamoDB::Table, this table's ARN only."
  }
  assert {
    condition     = aws_cloudtrail.audit[0].enable_log_file_validation && !aws_cloudtrail.audit[0].is_multi_region_trail
    error_message = "Log file validation on; one region."
  }
  assert {
    condition = (aws_s3_bucket_public_access_block.audit[0].block_public_acls && aws_s3_bucket_public_access_block.audit[0].block_public_policy
      && aws_s3_bucket_public_access_block.audit[0].ignore_public_acls && aws_s3_bucket_public_access_block.audit[0].restrict_public_buckets
      && one(one(aws_s3_bucket_server_side_encryption_configuration.audit[0].rule[*].apply_server_side_encryption_by_default[*].sse_algorithm)) == "aws:kms"
    && aws_s3_bucket_versioning.audit[0].versioning_configuration[0].status == "Enabled")
    error_message = "The module's bucket: public access blocked, SSE-KMS, versioned."
  }
}

run "audit_logging_into_a_given_bucket_creates_none" {
  command = plan
  variables {
    audit_logging_enabled = true
    audit_log_bucket_name = "org-cloudtrail-logs"
  }

  assert {
    condition     = length(aws_s3_bucket.audit) == 0 && aws_cloudtrail.audit[0].s3_bucket_name == "org-cloudtrail-logs"
    error_message = "The given bucket is used; no bucket is created."
  }
}

run "no_trail_unless_enabled" {
  command = plan

  assert {
    condition     = length(aws_cloudtrail.audit) == 0 && length(aws_s3_bucket.audit) == 0 && length(aws_kms_key.audit) == 0
    error_message = "Audit logging is off by default."
  }
}
