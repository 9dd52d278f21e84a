# A PROVISIONED table whose write minimum rises before the daily notification burst and falls after it, with a GSI
# ("status-index") that scales on its own settings: a higher ceiling, a slower scale-in, never below 2 units.

provider "aws" {
  region = "us-east-1"
}

module "dynamodb" {
  source = "../.."

  environment  = "staging"
  table_name   = "example-scheduled-notifications"
  billing_mode = "PROVISIONED"

  read_capacity                  = 10
  write_capacity                 = 10
  autoscaling_enabled            = true
  autoscaling_read_min           = 5
  autoscaling_read_max           = 200
  autoscaling_write_min          = 5
  autoscaling_write_max          = 400
  autoscaling_target_utilization = 70
  autoscaling_scale_out_cooldown = 60
  autoscaling_scale_in_cooldown  = 300

  additional_attributes = [{ name = "status", type = "S" }]
  global_secondary_indexes = [{
    name            = "status-index"
    hash_key        = "status"
    range_key       = "notification_id"
    projection_type = "KEYS_ONLY"
  }]
  autoscaling_indexes = {
    "status-index" = { write_min = 2, write_max = 800, scale_in_cooldown = 900 }
  }

  # The burst: digests go out at 07:00 Berlin time. Raise the table's write minimum at 06:45, lower it at 10:00.
  autoscaling_schedules = [
    { name = "burst-up", schedule = "cron(45 6 * * ? *)", timezone = "Europe/Berlin", min_capacity = 100 },
    { name = "burst-down", schedule = "cron(0 10 * * ? *)", timezone = "Europe/Berlin", min_capacity = 5 },
  ]
}

output "autoscaling_policy_arns" {
  value = module.dynamodb.dynamodb_autoscaling_policy_arns
}
