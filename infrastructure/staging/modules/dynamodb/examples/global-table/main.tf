# A global table: the notifications table in us-east-1 with replicas in us-west-2 and eu-west-1 (each a full,
# writable copy kept in sync through the table's stream). The eu-west-1 replica is encrypted with a customer key of
# its own region and keeps no PITR backups; us-west-2 follows the table (PITR on). Writes are billed as replicated
# writes in every region: `runbook cost` prices each region from the price set.

provider "aws" {
  region = "us-east-1"
}

module "dynamodb" {
  source = "../.."

  environment  = "production"
  table_name   = "example-global-notifications"
  billing_mode = "PAY_PER_REQUEST"

  # Global tables replicate through the stream: on, with both images.
  stream_enabled   = true
  stream_view_type = "NEW_AND_OLD_IMAGES"
  pitr_enabled     = true
  ttl_enabled      = true

  replicas = [
    { region_name = "us-west-2" },
    {
      region_name            = "eu-west-1"
      kms_key_arn            = "arn:aws:kms:eu-west-1:123456789012:key/11111111-2222-3333-4444-555555555555"
      point_in_time_recovery = false
    },
  ]
}

output "table_arn" {
  value = module.dynamodb.dynamodb_notifications_table_arn
}
