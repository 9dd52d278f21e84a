# IAM policies for the table: full (read/write items, read indexes and the stream) and read-only (analytics).
# Least privilege: every statement is scoped to the table, its indexes or its stream; no table administration
# (CreateTable, DeleteTable, UpdateTable) and no ListStreams (it needs Resource "*"; DescribeTable gives the
# stream ARN). KMS actions appear only with a customer managed key, and only through DynamoDB (kms:ViaService).
#
# A global table (var.replicas) is one table per region with the same name: each statement also names every
# replica's table, indexes and stream, and the KMS statement every replica's own customer key (through DynamoDB in
# that key's region). A replica's ARN is the table's with the replica's region.
#
# The JSON lives in policies/*.json.tftpl so the Python tests render the same templates with the same variables.
# Each Resource (and kms:ViaService) is one string when there is one value, as the policies were before replicas.

locals {
  table_arn_parts = split(":", aws_dynamodb_table.notifications.arn)
  policy_table_arns = concat([aws_dynamodb_table.notifications.arn], [
    for replica in var.replicas : join(":", concat(slice(local.table_arn_parts, 0, 3), [replica.region_name], slice(local.table_arn_parts, 4, length(local.table_arn_parts))))
  ])

  # Customer managed keys by region: the table's own (if any) and those replicas name.
  policy_kms_keys = merge(
    local.kms_key_arn == null ? {} : { (data.aws_region.current.name) = local.kms_key_arn },
    { for replica in var.replicas : replica.region_name => replica.kms_key_arn if replica.kms_key_arn != null },
  )

  policy_resources = {
    table_arns        = local.policy_table_arns
    index_arns        = [for arn in local.policy_table_arns : "${arn}/index/*"]
    stream_arns       = [for arn in local.policy_table_arns : "${arn}/stream/*"]
    kms_key_arns      = values(local.policy_kms_keys)
    dynamodb_services = [for region in keys(local.policy_kms_keys) : "dynamodb.${region}.amazonaws.com"]
  }
  # The templates' variables: JSON, one string for one value, a list for more, "" for none (no KMS statement).
  policy_variables = {
    for name, list in local.policy_resources : name => (
      length(list) == 0 ? "" : length(list) == 1 ? jsonencode(list[0]) : jsonencode(list)
    )
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
