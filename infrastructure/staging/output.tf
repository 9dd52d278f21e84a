output "dynamodb_notifications_table_name" {
  description = "Name of the notifications table (the application's DYNAMODB_NOTIFICATIONS_TABLE)."
  value       = module.dynamodb.dynamodb_notifications_table_name
}

output "dynamodb_notifications_table_arn" {
  description = "ARN of the notifications table."
  value       = module.dynamodb.dynamodb_notifications_table_arn
}

output "dynamodb_notifications_stream_arn" {
  description = "ARN of the table's stream (null when streams are disabled)."
  value       = module.dynamodb.dynamodb_notifications_stream_arn
}

output "dynamodb_access_policy_arn" {
  description = "ARN of the full-access policy (attached to the instance role; attach it to other roles too)."
  value       = module.dynamodb.dynamodb_access_policy_arn
}

output "dynamodb_read_only_policy_arn" {
  description = "ARN of the read-only policy (analytics)."
  value       = module.dynamodb.dynamodb_read_only_policy_arn
}

output "dynamodb_kms_key_arn" {
  description = "ARN of the customer managed KMS key (null unless CUSTOMER_MANAGED)."
  value       = module.dynamodb.dynamodb_kms_key_arn
}

output "dynamodb_alarm_names" {
  description = "CloudWatch alarms on the table (empty when alarms are disabled)."
  value       = module.dynamodb.dynamodb_alarm_names
}

output "dynamodb_dashboard_name" {
  description = "CloudWatch dashboard of the table (null when disabled)."
  value       = module.dynamodb.dynamodb_dashboard_name
}

output "dynamodb_vpc_endpoint_id" {
  description = "ID of the DynamoDB gateway VPC endpoint (null when disabled)."
  value       = one(aws_vpc_endpoint.dynamodb[*].id)
}

output "app_instance_id" {
  description = "ID of the application's EC2 instance."
  value       = aws_instance.app.id
}

output "app_role_name" {
  description = "IAM role of the application instance (attach further policies here)."
  value       = aws_iam_role.app.name
}

output "app_instance_profile_name" {
  description = "Instance profile of the application instance."
  value       = aws_iam_instance_profile.app.name
}
