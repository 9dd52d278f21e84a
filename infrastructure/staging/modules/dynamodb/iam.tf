# IAM policies for the table: full (read/write items, read indexes and the stream) and read-only (analytics).
# Least privilege: every statement is scoped to the table, its indexes or its stream; no table administration
# (CreateTable, DeleteTable, UpdateTable) and no ListStreams (it needs Resource "*"; DescribeTable gives the
# stream ARN). KMS actions appear only with a customer managed key, and only through DynamoDB (kms:ViaService).
#
# The JSON lives in policies/*.json.tftpl so the Python tests render the same templates with the same variables.

locals {
  policy_variables = {
    table_arn        = aws_dynamodb_table.notifications.arn
    kms_key_arn      = local.kms_key_arn == null ? "" : local.kms_key_arn
    dynamodb_service = "dynamodb.${data.aws_region.current.name}.amazonaws.com"
  }
}

resource "aws_iam_policy" "full_access" {
  name        = "${var.environment}-dynamodb-notifications-access"
  path        = "/"
  description = "Read and write items of the DynamoDB table ${var.table_name}, query its indexes, read its stream."
  policy      = jsonencode(jsondecode(templatefile("${path.module}/policies/full-access.json.tftpl", local.policy_variables)))

  tags = local.tags
}

resource "aws_iam_policy" "read_only" {
  name        = "${var.environment}-dynamodb-notifications-read-only"
  path        = "/"
  description = "Read-only access (analytics) to the DynamoDB table ${var.table_name}, its indexes and its stream."
  policy      = jsonencode(jsondecode(templatefile("${path.module}/policies/read-only.json.tftpl", local.policy_variables)))

  tags = local.tags
}
