# Outputs of the environment (the configuration guide's four first). Each carries the description of the module
# output it passes on (modules/dynamodb/outputs.tf, modules/app/outputs.tf; tests/test_terraform_config.py keeps
# them equal).

output "dynamodb_notifications_table_name" {
  description = "Name of the DynamoDB table."
  value       = module.dynamodb.dynamodb_notifications_table_name
}

output "dynamodb_notifications_table_arn" {
  description = "ARN of the DynamoDB table."
  value       = module.dynamodb.dynamodb_notifications_table_arn
}

output "dynamodb_notifications_stream_arn" {
  description = "ARN of the table's latest stream (null when streams are disabled)."
  value       = module.dynamodb.dynamodb_notifications_stream_arn
}

output "dynamodb_access_policy_arn" {
  description = "ARN of the full-access IAM policy (read/write items, query indexes, read the stream)."
  value       = module.dynamodb.dynamodb_access_policy_arn
}

output "dynamodb_read_only_policy_arn" {
  description = "ARN of the read-only IAM policy."
  value       = module.dynamodb.dynamodb_read_only_policy_arn
}

output "dynamodb_kms_key_arn" {
  description = "ARN of the customer managed KMS key encrypting the table (null unless encryption_type is CUSTOMER_MANAGED)."
  value       = module.dynamodb.dynamodb_kms_key_arn
}

output "dynamodb_alarm_names" {
  description = "Names of the CloudWatch alarms the module created (empty when alarms are disabled): the table's throttles and user errors, each GSI's read and write throttles, system errors, consumed capacity."
  value       = module.dynamodb.dynamodb_alarm_names
}

output "dynamodb_dashboard_name" {
  description = "Name of the CloudWatch dashboard (null when disabled)."
  value       = module.dynamodb.dynamodb_dashboard_name
}

output "dynamodb_vpc_endpoint_id" {
  description = "ID of the DynamoDB gateway VPC endpoint (null when disabled)."
  value       = module.app.vpc_endpoint_id
}

output "app_instance_id" {
  description = "ID of the application's EC2 instance."
  value       = module.app.instance_id
}

output "app_role_name" {
  description = "IAM role of the application instance (attach further policies here)."
  value       = module.app.role_name
}

output "app_instance_profile_name" {
  description = "Instance profile of the application instance."
  value       = module.app.instance_profile_name
}

output "dynamodb_alarm_topic_arn" {
  description = "ARN of the SNS topic every alarm notifies (alarm and OK): alarm_sns_topic_arn, or the topic the module created (null when alarms are disabled)."
  value       = module.dynamodb.dynamodb_alarm_topic_arn
}

output "dynamodb_audit_trail_arn" {
  description = "ARN of the CloudTrail trail recording the table's data events (null unless audit_logging_enabled)."
  value       = module.dynamodb.dynamodb_audit_trail_arn
}
