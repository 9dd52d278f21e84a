# The configuration guide's staging table: on-demand, streams with new and old images, TTL, no PITR, no deletion
# protection, no alarms. `terraform init && terraform plan` here (region and credentials from the environment).

provider "aws" {
  region = "us-east-1"

  default_tags {
    tags = {
      Project     = "Twitter Backend"
      Environment = "staging"
      ManagedBy   = "Terraform"
      CostCenter  = "Engineering"
    }
  }
}

module "dynamodb" {
  source = "../.."

  environment  = "staging"
  table_name   = "staging-user-notifications"
  billing_mode = "PAY_PER_REQUEST"

  stream_enabled   = true
  stream_view_type = "NEW_AND_OLD_IMAGES"
  ttl_enabled      = true

  pitr_enabled                = false
  deletion_protection_enabled = false
  alarms_enabled              = false

  # A ceiling on the on-demand throughput (request units per second) caps a runaway client's bill.
  on_demand_throughput = { max_read_request_units = 1000, max_write_request_units = 500 }
}

output "table_name" {
  value = module.dynamodb.dynamodb_notifications_table_name
}

output "access_policy_arn" {
  value = module.dynamodb.dynamodb_access_policy_arn
}
