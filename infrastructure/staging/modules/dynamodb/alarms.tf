# CloudWatch alarms with the seed's thresholds. Names are "<table>-<what>", the list runbook/spec.py's
# TableSpec.alarm_names() gives (the runbooks look them up by name).

locals {
  # Every alarm notifies a topic, on alarm and on recovery: the given one, or the one sns.tf creates.
  alarm_actions = var.alarms_enabled ? [local.alarm_topic_arn] : []

  # Table-level metrics with a single TableName dimension.
  simple_alarms = var.alarms_enabled ? {
    "read-throttle-events" = {
      metric      = "ReadThrottleEvents"
      threshold   = var.alarm_read_throttle_threshold
      description = "Read requests to ${var.table_name} throttled (over provisioned capacity or partition limits)."
      dimensions  = { TableName = var.table_name }
    }
    "write-throttle-events" = {
      metric      = "WriteThrottleEvents"
      threshold   = var.alarm_write_throttle_threshold
      description = "Write requests to ${var.table_name} throttled (over provisioned capacity or partition limits)."
      dimensions  = { TableName = var.table_name }
    }
    # DynamoDB publishes UserErrors (HTTP 400s) for the account and region only, without a TableName dimension.
    "user-errors" = {
      metric      = "UserErrors"
      threshold   = var.alarm_user_errors_threshold
      description = "Client-side errors (validation, authorisation, conditional) in this account and region, watched for ${var.table_name}."
      dimensions  = {}
    }
  } : {}

  # Throttles on a GSI are reported under TableName + GlobalSecondaryIndexName (the table's own alarms miss them):
  # a read and a write alarm per index, with the table's thresholds.
  gsi_alarms = var.alarms_enabled ? merge([
    for index in var.global_secondary_indexes : {
      for kind in ["Read", "Write"] : "gsi-${index.name}-${lower(kind)}-throttle-events" => {
        metric      = "${kind}ThrottleEvents"
        threshold   = kind == "Read" ? var.alarm_read_throttle_threshold : var.alarm_write_throttle_threshold
        description = "${kind} requests to the GSI ${index.name} of ${var.table_name} throttled (over its capacity or partition limits)."
        dimensions  = { TableName = var.table_name, GlobalSecondaryIndexName = index.name }
      }
    }
  ]...) : {}

  capacity_alarms = var.alarms_enabled && local.provisioned ? {
    "consumed-read-capacity"  = "Read"
    "consumed-write-capacity" = "Write"
  } : {}
}

resource "aws_cloudwatch_metric_alarm" "simple" {
  for_each = merge(local.simple_alarms, local.gsi_alarms)

  alarm_name          = "${var.table_name}-${each.key}"
  alarm_description   = each.value.description
  namespace           = "AWS/DynamoDB"
  metric_name         = each.value.metric
  dimensions          = length(each.value.dimensions) > 0 ? each.value.dimensions : null
  statistic           = "Sum"
  period              = var.alarm_period_seconds
  evaluation_periods  = var.alarm_evaluation_periods
  comparison_operator = "GreaterThanThreshold"
  threshold           = each.value.threshold
  treat_missing_data  = "notBreaching"
  alarm_actions       = local.alarm_actions
  ok_actions          = local.alarm_actions

  tags = local.tags
}

# SystemErrors are published per TableName and Operation, one metric per operation (the item, batch, PartiQL and
# transaction calls, and the stream's GetRecords). A metric-math alarm takes at most 10 metrics and SEARCH
# expressions cannot be alarmed on; a CloudWatch Metrics Insights query can: it sums SystemErrors over every
# Operation the table reports, however many, in one series.
resource "aws_cloudwatch_metric_alarm" "system_errors" {
  count = var.alarms_enabled ? 1 : 0

  alarm_name          = "${var.table_name}-system-errors"
  alarm_description   = "Server-side errors (HTTP 500s) on ${var.table_name}, summed over every operation that reports them."
  evaluation_periods  = var.alarm_evaluation_periods
  comparison_operator = "GreaterThanThreshold"
  threshold           = var.alarm_system_errors_threshold
  treat_missing_data  = "notBreaching"
  alarm_actions       = local.alarm_actions
  ok_actions          = local.alarm_actions

  metric_query {
    id          = "errors"
    expression  = "SELECT SUM(SystemErrors) FROM SCHEMA(\"AWS/DynamoDB\", Operation, TableName) WHERE TableName = '${var.table_name}'"
    label       = "SystemErrors"
    period      = var.alarm_period_seconds
    return_data = true
  }

  tags = local.tags
}

# Consumed capacity as a percentage of provisioned capacity: right even while the autoscaler moves capacity.
resource "aws_cloudwatch_metric_alarm" "capacity" {
  for_each = local.capacity_alarms

  alarm_name          = "${var.table_name}-${each.key}"
  alarm_description   = "Consumed ${lower(each.value)} capacity of ${var.table_name} above ${var.alarm_capacity_utilization_percent}% of provisioned."
  evaluation_periods  = var.alarm_evaluation_periods
  comparison_operator = "GreaterThanThreshold"
  threshold           = var.alarm_capacity_utilization_percent
  treat_missing_data  = "notBreaching"
  alarm_actions       = local.alarm_actions
  ok_actions          = local.alarm_actions

  metric_query {
    id          = "utilization"
    expression  = "100 * (consumed / PERIOD(consumed)) / provisioned"
    label       = "${each.value}CapacityUtilization"
    period      = var.alarm_period_seconds # set, so a re-plan compares it with the value AWS reads back
    return_data = true
  }

  metric_query {
    id = "consumed"
    metric {
      namespace   = "AWS/DynamoDB"
      metric_name = "Consumed${each.value}CapacityUnits"
      dimensions  = { TableName = var.table_name }
      stat        = "Sum"
      period      = var.alarm_period_seconds
    }
  }

  metric_query {
    id = "provisioned"
    metric {
      namespace   = "AWS/DynamoDB"
      metric_name = "Provisioned${each.value}CapacityUnits"
      dimensions  = { TableName = var.table_name }
      stat        = "Average"
      period      = var.alarm_period_seconds
    }
  }

  tags = local.tags
}
