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

# A global table: every replica is a table of the same name in its own region, with its own indexes and stream. The
# policies name each one there (built by iam.tf from the replica regions), and each replica's own customer key
# only through DynamoDB in that key's region.
run "policies_cover_every_replica_in_its_region" {
  command = apply
  variables {
    stream_enabled   = true
    stream_view_type = "NEW_AND_OLD_IMAGES"
    replicas = [
      { region_name = "us-west-2" },
      { region_name = "eu-west-1", kms_key_arn = "arn:aws:kms:eu-west-1:123456789012:key/replica-key" },
    ]
  }

  assert {
    condition = alltrue([
      for document in [aws_iam_policy.full_access.policy, aws_iam_policy.read_only.policy] :
      one([for s in jsondecode(document).Statement : s.Resource if contains(["TableReadWrite", "TableRead"], s.Sid)]) == [
        "arn:aws:dynamodb:us-east-1:123456789012:table/test-notifications",
        "arn:aws:dynamodb:us-west-2:123456789012:table/test-notifications",
        "arn:aws:dynamodb:eu-west-1:123456789012:table/test-notifications",
      ]
    ])
    error_message = "Both policies name the table in its region and in every replica region."
  }
  assert {
    condition = alltrue([
      for document in [aws_iam_policy.full_access.policy, aws_iam_policy.read_only.policy] :
      one([for s in jsondecode(document).Statement : s.Resource if s.Sid == "IndexRead"]) == [
        "arn:aws:dynamodb:us-east-1:123456789012:table/test-notifications/index/*",
        "arn:aws:dynamodb:us-west-2:123456789012:table/test-notifications/index/*",
        "arn:aws:dynamodb:eu-west-1:123456789012:table/test-notifications/index/*",
      ]
    ])
    error_message = "Both policies name every replica's indexes."
  }
  assert {
    condition = alltrue([
      for document in [aws_iam_policy.full_access.policy, aws_iam_policy.read_only.policy] :
      one([for s in jsondecode(document).Statement : s.Resource if s.Sid == "StreamRead"]) == [
        "arn:aws:dynamodb:us-east-1:123456789012:table/test-notifications/stream/*",
        "arn:aws:dynamodb:us-west-2:123456789012:table/test-notifications/stream/*",
        "arn:aws:dynamodb:eu-west-1:123456789012:table/test-notifications/stream/*",
      ]
    ])
    error_message = "Both policies name every replica's stream."
  }
  assert {
    condition = alltrue([
      for document in [aws_iam_policy.full_access.policy, aws_iam_policy.read_only.policy] : [
        for s in jsondecode(document).Statement : s if anytrue([for action in s.Action : startswith(action, "kms:")])
        ] == [for s in jsondecode(document).Statement : s if startswith(s.Sid, "TableKey")] && one([
          for s in jsondecode(document).Statement : s if startswith(s.Sid, "TableKey")
          ]).Resource == "arn:aws:kms:eu-west-1:123456789012:key/replica-key" && one([
          for s in jsondecode(document).Statement : s if startswith(s.Sid, "TableKey")
      ]).Condition.StringEquals["kms:ViaService"] == "dynamodb.eu-west-1.amazonaws.com"
    ])
    error_message = "A replica's own customer key is granted, only through DynamoDB in the replica's region; replicas on DynamoDB's default key need no grant."
  }
}

run "policies_with_the_tables_key_and_a_replica_key" {
  command = apply
  variables {
    encryption_type  = "CUSTOMER_MANAGED"
    stream_enabled   = true
    stream_view_type = "NEW_AND_OLD_IMAGES"
    replicas         = [{ region_name = "eu-west-1", kms_key_arn = "arn:aws:kms:eu-west-1:123456789012:key/replica-key" }]
  }

  assert {
    condition = alltrue([
      for document in [aws_iam_policy.full_access.policy, aws_iam_policy.read_only.policy] :
      toset(one([for s in jsondecode(document).Statement : s.Resource if startswith(s.Sid, "TableKey")])) == toset([
        "arn:aws:kms:us-east-1:123456789012:key/mock-key", "arn:aws:kms:eu-west-1:123456789012:key/replica-key",
        ]) && toset(one([for s in jsondecode(document).Statement : s.Condition.StringEquals["kms:ViaService"] if startswith(s.Sid, "TableKey")])) == toset([
        "dynamodb.us-east-1.amazonaws.com", "dynamodb.eu-west-1.amazonaws.com",
      ])
    ])
    error_message = "The table's key and the replica's key, each only through DynamoDB (in their regions)."
  }
}

run "without_replicas_each_resource_is_one_arn" {
  command = apply

  assert {
    condition = alltrue([
      for document in [aws_iam_policy.full_access.policy, aws_iam_policy.read_only.policy] : alltrue([
        for s in jsondecode(document).Statement : can(regex("^arn:aws:dynamodb:us-east-1:123456789012:table/test-notifications", s.Resource))
      ])
    ])
    error_message = "Without replicas every Resource is one ARN string in the table's region (the documents are unchanged by the replica support)."
  }
}
