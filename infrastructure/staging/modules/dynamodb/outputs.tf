output "dynamodb_notifications_table_name" {
  description = "Name of the DynamoDB table."
  value       = aws_dynamodb_table.notifications.name
}

output "dynamodb_notifications_table_id" {
  description = "ID of the DynamoDB table (its name)."
  value       = aws_dynamodb_table.notifications.id
}

output "dynamodb_notifications_table_arn" {
  description = "ARN of the DynamoDB table."
  value       = aws_dynamodb_table.notifications.arn
}

output "dynamodb_notifications_stream_arn" {
  description = "ARN of the table's latest stream (null when streams are disabled)."
  value       = var.stream_enabled ? aws_dynamodb_table.notifications.stream_arn : null
}

output "dynamodb_notifications_stream_label" {
  description = "Timestamp label of the table's latest stream (null when streams are disabled)."
  value       = var.stream_enabled ? aws_dynamodb_table.notifications.stream_label : null
}

output "dynamodb_access_policy_arn" {
  description = "ARN of the full-access IAM policy (read/write items, query indexes, read the stream)."
  value       = aws_iam_policy.full_access.arn
}

output "dynamodb_access_policy_name" {
  description = "Name of the full-access IAM policy."
  value       = aws_iam_policy.full_access.name
}

output "dynamodb_read_only_policy_arn" {
  description = "ARN of the read-only IAM policy."
  value       = aws_iam_policy.read_only.arn
}

output "dynamodb_read_only_policy_name" {
  description = "Name of the read-only IAM policy."
  value       = aws_iam_policy.read_only.name
}

output "dynamodb_kms_key_arn" {
  description = "ARN of the customer managed KMS key encrypting the table (null unless encryption_type is CUSTOMER_MANAGED)."
  value       = local.kms_key_arn
}

output "dynamodb_alarm_names" {
  description = "Names of the CloudWatch alarms the module created (empty when alarms are disabled): the table's throttles and user errors, each GSI's read and write throttles, system errors, consumed capacity."
  value = concat(
    [for key in ["read-throttle-events", "write-throttle-events", "user-errors"] : aws_cloudwatch_metric_alarm.simple[key].alarm_name if contains(keys(aws_cloudwatch_metric_alarm.simple), key)],
    [for key in sort(keys(local.gsi_alarms)) : aws_cloudwatch_metric_alarm.simple[key].alarm_name],
    aws_cloudwatch_metric_alarm.system_errors[*].alarm_name,
    [for key in ["consumed-read-capacity", "consumed-write-capacity"] : aws_cloudwatch_metric_alarm.capacity[key].alarm_name if contains(keys(aws_cloudwatch_metric_alarm.capacity), key)],
  )
}

output "dynamodb_alarm_topic_arn" {
  description = "ARN of the SNS topic every alarm notifies (alarm and OK): alarm_sns_topic_arn, or the topic the module created (null when alarms are disabled)."
  value       = var.alarms_enabled ? local.alarm_topic_arn : null
}

output "dynamodb_dashboard_name" {
  description = "Name of the CloudWatch dashboard (null when disabled)."
  value       = one(aws_cloudwatch_dashboard.notifications[*].dashboard_name)
}

output "dynamodb_autoscaling_policy_arns" {
  description = "ARNs of the target-tracking policies, by dimension (empty unless PROVISIONED with autoscaling)."
  value       = { for key, policy in aws_appautoscaling_policy.capacity : key => policy.arn }
}

output "dynamodb_resource_policy" {
  description = "The table's resource-based policy document (JSON; null unless resource_policy_enabled)."
  value       = one(aws_dynamodb_resource_policy.notifications[*].policy)
}

output "dynamodb_audit_trail_arn" {
  description = "ARN of the CloudTrail trail recording the table's data events (null unless audit_logging_enabled)."
  value       = one(aws_cloudtrail.audit[*].arn)
}

output "dynamodb_audit_log_bucket" {
  description = "S3 bucket the audit trail writes to (null unless audit_logging_enabled)."
  value       = var.audit_logging_enabled ? local.audit_bucket_name : null
}
