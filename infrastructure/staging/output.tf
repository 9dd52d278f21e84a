# Outputs of the environment (the configuration guide's names first); each is described where it is defined, in
# modules/dynamodb/outputs.tf or modules/app/outputs.tf.

output "dynamodb_notifications_table_name" {
  value = module.dynamodb.dynamodb_notifications_table_name
}

output "dynamodb_notifications_table_arn" {
  value = module.dynamodb.dynamodb_notifications_table_arn
}

output "dynamodb_notifications_stream_arn" {
  value = module.dynamodb.dynamodb_notifications_stream_arn
}

output "dynamodb_access_policy_arn" {
  value = module.dynamodb.dynamodb_access_policy_arn
}

output "dynamodb_read_only_policy_arn" {
  value = module.dynamodb.dynamodb_read_only_policy_arn
}

output "dynamodb_kms_key_arn" {
  value = module.dynamodb.dynamodb_kms_key_arn
}

output "dynamodb_alarm_names" {
  value = module.dynamodb.dynamodb_alarm_names
}

output "dynamodb_dashboard_name" {
  value = module.dynamodb.dynamodb_dashboard_name
}

output "dynamodb_vpc_endpoint_id" {
  value = module.app.vpc_endpoint_id
}

output "app_instance_id" {
  value = module.app.instance_id
}

output "app_role_name" {
  value = module.app.role_name
}

output "app_instance_profile_name" {
  value = module.app.instance_profile_name
}
