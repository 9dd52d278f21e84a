# The seed's "CloudWatch Dashboard": one dashboard named after the table (CloudWatch > Dashboards, filter by the
# table name). Capacity, throttles, errors, latency and TTL deletions.

locals {
  dashboard_region = data.aws_region.current.name
  table_dimension  = ["TableName", var.table_name]

  dashboard_widgets = [
    {
      type = "metric", x = 0, y = 0, width = 12, height = 6
      properties = {
        title  = "Read capacity (units per second)"
        region = local.dashboard_region
        view   = "timeSeries"
        stat   = "Sum"
        period = 60
        metrics = [
          [{ expression = "consumed_r / PERIOD(consumed_r)", label = "Consumed", id = "read_rate" }],
          concat(["AWS/DynamoDB", "ConsumedReadCapacityUnits"], local.table_dimension, [{ id = "consumed_r", visible = false }]),
          concat(["AWS/DynamoDB", "ProvisionedReadCapacityUnits"], local.table_dimension, [{ stat = "Average", label = "Provisioned" }]),
        ]
      }
    },
    {
      type = "metric", x = 12, y = 0, width = 12, height = 6
      properties = {
        title  = "Write capacity (units per second)"
        region = local.dashboard_region
        view   = "timeSeries"
        stat   = "Sum"
        period = 60
        metrics = [
          [{ expression = "consumed_w / PERIOD(consumed_w)", label = "Consumed", id = "write_rate" }],
          concat(["AWS/DynamoDB", "ConsumedWriteCapacityUnits"], local.table_dimension, [{ id = "consumed_w", visible = false }]),
          concat(["AWS/DynamoDB", "ProvisionedWriteCapacityUnits"], local.table_dimension, [{ stat = "Average", label = "Provisioned" }]),
        ]
      }
    },
    {
      type = "metric", x = 0, y = 6, width = 12, height = 6
      properties = {
        title  = "Throttled requests"
        region = local.dashboard_region
        view   = "timeSeries"
        stat   = "Sum"
        period = 300
        metrics = [
          concat(["AWS/DynamoDB", "ReadThrottleEvents"], local.table_dimension),
          concat(["AWS/DynamoDB", "WriteThrottleEvents"], local.table_dimension),
        ]
      }
    },
    {
      type = "metric", x = 12, y = 6, width = 12, height = 6
      properties = {
        title  = "Errors"
        region = local.dashboard_region
        view   = "timeSeries"
        stat   = "Sum"
        period = 300
        metrics = concat(
          [["AWS/DynamoDB", "UserErrors", { label = "UserErrors (account and region)" }]],
          # SystemErrors of every operation the table reports, one line each (a dashboard may SEARCH).
          [[{ expression = "SEARCH('{AWS/DynamoDB,Operation,TableName} MetricName=\"SystemErrors\" TableName=\"${var.table_name}\"', 'Sum', 300)", id = "systemerrors", label = "SystemErrors" }]],
        )
      }
    },
    {
      type = "metric", x = 0, y = 12, width = 12, height = 6
      properties = {
        title  = "Latency of successful requests (ms, p99)"
        region = local.dashboard_region
        view   = "timeSeries"
        stat   = "p99"
        period = 300
        metrics = [
          for op in ["GetItem", "PutItem", "Query", "UpdateItem"] :
          concat(["AWS/DynamoDB", "SuccessfulRequestLatency"], local.table_dimension, ["Operation", op])
        ]
      }
    },
    {
      type = "metric", x = 12, y = 12, width = 12, height = 6
      properties = {
        title  = "Items deleted by TTL"
        region = local.dashboard_region
        view   = "timeSeries"
        stat   = "Sum"
        period = 3600
        metrics = [
          concat(["AWS/DynamoDB", "TimeToLiveDeletedItemCount"], local.table_dimension),
        ]
      }
    },
  ]
}

resource "aws_cloudwatch_dashboard" "notifications" {
  count = var.dashboard_enabled ? 1 : 0

  dashboard_name = var.table_name
  dashboard_body = jsonencode({ widgets = local.dashboard_widgets })
}
