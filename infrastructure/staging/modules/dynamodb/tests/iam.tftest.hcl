# The IAM policy documents and the table's resource-based policy, as Terraform renders them. `command = apply`
# against the mocked provider (nothing leaves the machine) so the table ARN is known: a plan leaves it unknown.

mock_provider "aws" {
  mock_data "aws_region" {
    defaults = { name = "us-east-1" }
  }
  mock_data "aws_partition" {
    defaults = { partition = "aws" }
  }
  mock_data "aws_caller_identity" {
    defaults = { account_id = "123456789012" }
  }
  mock_resource "aws_dynamodb_table" {
    defaults = { arn = "arn:aws:dynamodb:us-east-1:123456789012:table/test-notifications" }
  }
  mock_resource "aws_kms_key" {
    defaults = { arn = "arn:aws:kms:us-east-1:123456789012:key/mock-key", key_id = "mock-key" }
  }
}

variables {
  environment = "test"
  table_name  = "test-notifications"
}

run "policies_are_scoped_to_the_table_its_indexes_and_stream" {
  command = apply

  assert {
    condition     = aws_iam_policy.full_access.name == "test-dynamodb-notifications-access" && aws_iam_policy.read_only.name == "test-dynamodb-notifications-read-only"
    error_message = "Policy names follow the configuration guide (<environment>-dynamodb-notifications-access)."
  }
  assert {
    condition = alltrue(flatten([
      for document in [aws_iam_policy.full_access.policy, aws_iam_policy.read_only.policy] : [
        for statement in jsondecode(document).Statement : [
          for resource in flatten([statement.Resource]) : contains([
            "arn:aws:dynamodb:us-east-1:123456789012:table/test-notifications",
            "arn:aws:dynamodb:us-east-1:123456789012:table/test-notifications/index/*",
            "arn:aws:dynamodb:us-east-1:123456789012:table/test-notifications/stream/*",
          ], resource)
        ]
      ]
    ]))
    error_message = "Every statement names the table, its indexes or its stream; never *."
  }
  assert {
    condition = alltrue(flatten([
      for statement in jsondecode(aws_iam_policy.read_only.policy).Statement : [
        for action in statement.Action : contains([
          "dynamodb:BatchGetItem", "dynamodb:DescribeTable", "dynamodb:DescribeTimeToLive", "dynamodb:GetItem",
          "dynamodb:PartiQLSelect", "dynamodb:Query", "dynamodb:Scan", "dynamodb:DescribeStream",
          "dynamodb:GetRecords", "dynamodb:GetShardIterator",
        ], action)
      ]
    ]))
    error_message = "The read-only policy has read and list actions only."
  }
  assert {
    condition = alltrue(flatten([
      for document in [aws_iam_policy.full_access.policy, aws_iam_policy.read_only.policy] : [
        for statement in jsondecode(document).Statement : [
          for action in statement.Action : startswith(action, "dynamodb:") && !strcontains(action, "*") && !contains(["dynamodb:CreateTable", "dynamodb:DeleteTable", "dynamodb:UpdateTable"], action)
        ]
      ]
    ]))
    error_message = "Without a customer managed key: DynamoDB item actions only, no wildcard, no table administration."
  }
  assert {
    condition     = contains(flatten([for s in jsondecode(aws_iam_policy.full_access.policy).Statement : s.Action]), "dynamodb:PutItem")
    error_message = "The full-access policy can write items."
  }
}

run "customer_managed_key_is_granted_only_through_dynamodb" {
  command = apply
  variables { encryption_type = "CUSTOMER_MANAGED" }

  assert {
    condition = alltrue([
      for statement in concat(jsondecode(aws_iam_policy.full_access.policy).Statement, jsondecode(aws_iam_policy.read_only.policy).Statement) :
      statement.Resource == "arn:aws:kms:us-east-1:123456789012:key/mock-key" && statement.Condition.StringEquals["kms:ViaService"] == "dynamodb.us-east-1.amazonaws.com"
      if anytrue([for action in statement.Action : startswith(action, "kms:")])
    ])
    error_message = "KMS actions name the table's key, only via DynamoDB."
  }
  assert {
    condition     = toset(one([for s in jsondecode(aws_iam_policy.read_only.policy).Statement : s.Action if s.Sid == "TableKeyDecryptThroughDynamoDB"])) == toset(["kms:Decrypt", "kms:DescribeKey"])
    error_message = "Read-only gets Decrypt and DescribeKey on the key, nothing else."
  }
  assert {
    condition     = jsondecode(aws_kms_key.notifications[0].policy).Statement[0].Principal.AWS == "arn:aws:iam::123456789012:root"
    error_message = "The key policy delegates to IAM in this account."
  }
}

run "resource_policy_limits_the_table_to_the_listed_principals" {
  command = apply
  variables {
    resource_policy_enabled                    = true
    resource_policy_full_access_principal_arns = ["arn:aws:iam::123456789012:role/test-notifications-app"]
    resource_policy_read_only_principal_arns   = ["arn:aws:iam::123456789012:role/analytics"]
  }

  assert {
    condition     = aws_dynamodb_resource_policy.notifications[0].resource_arn == "arn:aws:dynamodb:us-east-1:123456789012:table/test-notifications"
    error_message = "The policy is attached to the table."
  }
  assert {
    condition = one([for s in jsondecode(aws_dynamodb_resource_policy.notifications[0].policy).Statement : s if s.Sid == "NoItemAccessForOtherPrincipals"]).Condition.ArnNotEquals["aws:PrincipalArn"] == [
      "arn:aws:iam::123456789012:role/test-notifications-app", "arn:aws:iam::123456789012:role/analytics",
    ]
    error_message = "Everyone but the application role and the read-only principals is denied item access."
  }
  assert {
    condition     = one([for s in jsondecode(aws_dynamodb_resource_policy.notifications[0].policy).Statement : s if s.Sid == "AnalyticsNeverWrites"]).Principal.AWS == ["arn:aws:iam::123456789012:role/analytics"]
    error_message = "Read-only principals are denied every write."
  }
  assert {
    condition = alltrue(flatten([
      for s in jsondecode(aws_dynamodb_resource_policy.notifications[0].policy).Statement : [
        for resource in s.Resource : contains([
          "arn:aws:dynamodb:us-east-1:123456789012:table/test-notifications",
          "arn:aws:dynamodb:us-east-1:123456789012:table/test-notifications/index/*",
        ], resource)
      ]
    ]))
    error_message = "The resource policy names only the table and its indexes."
  }
  assert {
    condition = alltrue(flatten([
      for s in jsondecode(aws_dynamodb_resource_policy.notifications[0].policy).Statement : [
        for action in s.Action : contains([
          "dynamodb:BatchGetItem", "dynamodb:DescribeTable", "dynamodb:DescribeTimeToLive", "dynamodb:GetItem",
          "dynamodb:PartiQLSelect", "dynamodb:Query", "dynamodb:Scan",
        ], action)
      ] if s.Sid == "AnalyticsRead"
    ]))
    error_message = "The read-only principals are allowed read actions only."
  }
}

run "resource_policy_without_read_only_principals" {
  command = apply
  variables {
    resource_policy_enabled                    = true
    resource_policy_full_access_principal_arns = ["arn:aws:iam::123456789012:role/test-notifications-app"]
  }

  assert {
    condition     = [for s in jsondecode(aws_dynamodb_resource_policy.notifications[0].policy).Statement : s.Sid] == ["ApplicationReadWrite", "NoItemAccessForOtherPrincipals"]
    error_message = "No read-only statements without read-only principals."
  }
}

run "precondition_resource_policy_needs_a_full_access_principal" {
  command = plan
  variables { resource_policy_enabled = true }
  expect_failures = [aws_dynamodb_resource_policy.notifications]
}

run "precondition_resource_policy_principal_in_one_list_only" {
  command = plan
  variables {
    resource_policy_enabled                    = true
    resource_policy_full_access_principal_arns = ["arn:aws:iam::123456789012:role/app"]
    resource_policy_read_only_principal_arns   = ["arn:aws:iam::123456789012:role/app"]
  }
  expect_failures = [aws_dynamodb_resource_policy.notifications]
}
