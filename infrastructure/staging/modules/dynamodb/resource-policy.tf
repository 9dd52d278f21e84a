# An optional resource-based policy on the table (aws_dynamodb_resource_policy): only the full-access principals
# (the application role) and the read-only principals may use its items and indexes; read-only principals may
# never write. Table administration (DescribeTable aside, UpdateTable, the policy itself) is not restricted, so the
# identity that runs Terraform keeps managing the table; its item access is denied like anyone else's unless it
# is listed. The JSON lives in policies/resource-policy.json.tftpl, in the same template style as the IAM policies
# (only ${...} and %{ if x != "" }), so the Python tests render the same document.

locals {
  resource_policy_variables = {
    table_arn              = aws_dynamodb_table.notifications.arn
    full_access_principals = jsonencode(var.resource_policy_full_access_principal_arns)
    read_only_principals   = length(var.resource_policy_read_only_principal_arns) > 0 ? jsonencode(var.resource_policy_read_only_principal_arns) : ""
    allowed_principals     = jsonencode(concat(var.resource_policy_full_access_principal_arns, var.resource_policy_read_only_principal_arns))
  }
}

resource "aws_dynamodb_resource_policy" "notifications" {
  count = var.resource_policy_enabled ? 1 : 0

  resource_arn = aws_dynamodb_table.notifications.arn
  policy       = jsonencode(jsondecode(templatefile("${path.module}/policies/resource-policy.json.tftpl", local.resource_policy_variables)))

  lifecycle {
    precondition {
      condition     = length(var.resource_policy_full_access_principal_arns) > 0
      error_message = "resource_policy_enabled needs at least one ARN in resource_policy_full_access_principal_arns (the application role); otherwise the policy would deny every item access."
    }
    precondition {
      condition     = length(setintersection(var.resource_policy_full_access_principal_arns, var.resource_policy_read_only_principal_arns)) == 0
      error_message = "A principal cannot be both full-access and read-only in the resource policy; in both lists: ${jsonencode(setintersection(var.resource_policy_full_access_principal_arns, var.resource_policy_read_only_principal_arns))}."
    }
  }
}
