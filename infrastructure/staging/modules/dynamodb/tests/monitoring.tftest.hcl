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
