# A PROVISIONED table with target-tracking autoscaling of the table and a GSI ("status-index": a user's
# notifications by status), alarms including consumed capacity, notifications to an SNS topic.

provider "aws" {
  region = "us-east-1"
}

module "dynamodb" {
  source = "../.."

  environment  = "staging"
  table_name   = "example-provisioned-notifications"
  billing_mode = "PROVISIONED"

  read_capacity                  = 10
  write_capacity                 = 10
  autoscaling_enabled            = true
  autoscaling_read_min           = 5
  autoscaling_read_max           = 200
  autoscaling_write_min          = 5
  autoscaling_write_max          = 100
  autoscaling_target_utilization = 70

  additional_attributes = [{ name = "status", type = "S" }]
  global_secondary_indexes = [{
    name            = "status-index"
    hash_key        = "status"
    range_key       = "notification_id"
    projection_type = "KEYS_ONLY"
  }]

  stream_enabled = true
  ttl_enabled    = true
  pitr_enabled   = true

  alarms_enabled      = true
  alarm_sns_topic_arn = "arn:aws:sns:us-east-1:123456789012:notifications-alerts"
}

output "autoscaling_policy_arns" {
  value = module.dynamodb.dynamodb_autoscaling_policy_arns
}

output "alarm_names" {
  value = module.dynamodb.dynamodb_alarm_names
}
