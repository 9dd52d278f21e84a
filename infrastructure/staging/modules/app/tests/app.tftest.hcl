# The application module: its validation rules, the VPC endpoint's precondition, the role and instance
# (offline: a mocked AWS provider, plan only).

mock_provider "aws" {
  mock_data "aws_region" {
    defaults = { name = "us-east-1" }
  }
}

variables {
  environment                = "test"
  ami_id                     = "ami-0123456789abcdef0"
  key_name                   = "test-key"
  dynamodb_access_policy_arn = "arn:aws:iam::123456789012:policy/test-dynamodb-notifications-access"
}

run "instance_role_and_policy" {
  command = plan

  assert {
    condition     = aws_iam_role.app.name == "test-notifications-app" && aws_iam_instance_profile.app.name == "test-notifications-app"
    error_message = "Role and instance profile are <environment>-notifications-app."
  }
  assert {
    condition     = aws_iam_role_policy_attachment.app_dynamodb.policy_arn == "arn:aws:iam::123456789012:policy/test-dynamodb-notifications-access"
    error_message = "The table's full-access policy is attached to the role."
  }
  assert {
    condition     = aws_instance.app.metadata_options[0].http_tokens == "required" && aws_instance.app.root_block_device[0].encrypted && !aws_instance.app.monitoring
    error_message = "IMDSv2 only, encrypted root volume, basic monitoring by default."
  }
  assert {
    condition     = length(aws_vpc_endpoint.dynamodb) == 0
    error_message = "No VPC endpoint unless enabled."
  }
}

run "vpc_endpoint_in_the_providers_region" {
  command = plan
  variables {
    vpc_endpoint_enabled = true
    vpc_id               = "vpc-0123"
    vpc_route_table_ids  = ["rtb-0123"]
  }

  assert {
    condition     = aws_vpc_endpoint.dynamodb[0].service_name == "com.amazonaws.us-east-1.dynamodb" && aws_vpc_endpoint.dynamodb[0].vpc_endpoint_type == "Gateway"
    error_message = "A gateway endpoint for DynamoDB in the provider's region."
  }
}

run "inputs_are_validated" {
  command = plan
  variables {
    environment      = "Prod"
    ami_id           = "ubuntu"
    key_name         = ""
    instance_type    = "micro"
    root_volume_size = 4
  }
  expect_failures = [var.environment, var.ami_id, var.key_name, var.instance_type, var.root_volume_size]
}

# The example's placeholders (terraform.tfvars.example) fail at plan, before anything is created.
run "example_placeholders_are_rejected" {
  command = plan
  variables {
    ami_id   = "ami-xxxxx"
    key_name = "your-key-pair"
  }
  expect_failures = [var.ami_id, var.key_name]
}

run "ami_id_of_8_hex_digits_is_valid" {
  command = plan
  variables { ami_id = "ami-12c6146b" }
}

run "precondition_vpc_endpoint_needs_vpc_and_route_tables" {
  command = plan
  variables { vpc_endpoint_enabled = true }
  expect_failures = [aws_vpc_endpoint.dynamodb]
}
