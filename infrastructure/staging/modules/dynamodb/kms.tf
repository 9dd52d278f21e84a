# A customer managed key for the table, created only for encryption_type = CUSTOMER_MANAGED without kms_key_arn.
# Its policy delegates use to IAM in this account (the module's IAM policies then grant the table's users the
# few KMS actions DynamoDB needs, only through DynamoDB).

data "aws_caller_identity" "current" {
  count = local.create_kms_key ? 1 : 0
}

data "aws_partition" "current" {}

data "aws_region" "current" {}

resource "aws_kms_key" "notifications" {
  count = local.create_kms_key ? 1 : 0

  description             = "Encryption at rest of the DynamoDB table ${var.table_name}"
  enable_key_rotation     = true
  deletion_window_in_days = var.kms_key_deletion_window_days
  policy = templatefile("${path.module}/policies/kms-key.json.tftpl", {
    account_root_arn = "arn:${data.aws_partition.current.partition}:iam::${data.aws_caller_identity.current[0].account_id}:root"
  })

  tags = local.tags
}

resource "aws_kms_alias" "notifications" {
  count = local.create_kms_key ? 1 : 0

  name          = "alias/dynamodb/${replace(var.table_name, ".", "-")}"
  target_key_id = aws_kms_key.notifications[0].key_id
}
