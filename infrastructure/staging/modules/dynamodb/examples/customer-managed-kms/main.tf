# Encryption at rest with a customer managed KMS key the module creates (yearly rotation, alias
# alias/dynamodb/<table>); the IAM policies then grant the key only through DynamoDB. To use an existing key
# instead, set kms_key_arn. The resource-based policy limits item access to the listed roles.

provider "aws" {
  region = "us-east-1"
}

data "aws_caller_identity" "current" {}

module "dynamodb" {
  source = "../.."

  environment     = "production"
  table_name      = "example-cmk-notifications"
  encryption_type = "CUSTOMER_MANAGED"
  # kms_key_arn   = "arn:aws:kms:us-east-1:123456789012:key/..."   # an existing key instead of a new one

  kms_key_deletion_window_days = 30
  pitr_enabled                 = true
  deletion_protection_enabled  = true

  resource_policy_enabled                    = true
  resource_policy_full_access_principal_arns = ["arn:aws:iam::${data.aws_caller_identity.current.account_id}:role/production-notifications-app"]
  resource_policy_read_only_principal_arns   = ["arn:aws:iam::${data.aws_caller_identity.current.account_id}:role/analytics"]
}

output "kms_key_arn" {
  value = module.dynamodb.dynamodb_kms_key_arn
}
