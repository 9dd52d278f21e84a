# The application's part of an environment: the EC2 instance, its IAM role and instance profile with the table's
# full-access policy attached, and (optionally) a gateway VPC endpoint for DynamoDB. Both environment roots call
# this one module (`module "app"`); what differs between them is only what they pass in.

locals {
  name_prefix = "${var.environment}-notifications"
}

data "aws_region" "current" {}

resource "aws_iam_role" "app" {
  name        = "${local.name_prefix}-app"
  description = "Role of the ${var.environment} application instance (DynamoDB access through its policies)."
  assume_role_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Sid       = "EC2AssumesRole"
      Effect    = "Allow"
      Principal = { Service = "ec2.amazonaws.com" }
      Action    = "sts:AssumeRole"
    }]
  })
}

resource "aws_iam_role_policy_attachment" "app_dynamodb" {
  role       = aws_iam_role.app.name
  policy_arn = var.dynamodb_access_policy_arn
}

resource "aws_iam_instance_profile" "app" {
  name = "${local.name_prefix}-app"
  role = aws_iam_role.app.name
}

resource "aws_instance" "app" {
  #checkov:skip=CKV_AWS_126:Detailed monitoring is an input (detailed_monitoring): production turns it on, staging keeps free 5-minute metrics.
  ami                    = var.ami_id
  instance_type          = var.instance_type
  key_name               = var.key_name
  subnet_id              = var.subnet_id
  vpc_security_group_ids = length(var.vpc_security_group_ids) > 0 ? var.vpc_security_group_ids : null
  iam_instance_profile   = aws_iam_instance_profile.app.name
  monitoring             = var.detailed_monitoring
  ebs_optimized          = true

  metadata_options {
    http_endpoint               = "enabled"
    http_tokens                 = "required"
    http_put_response_hop_limit = 1
  }

  root_block_device {
    encrypted   = true
    volume_type = "gp3"
    volume_size = var.root_volume_size
  }

  tags = { Name = "${local.name_prefix}-app" }
}

# --- Optional gateway VPC endpoint for DynamoDB (the configuration guide's "VPC Endpoints") ---------------------

resource "aws_vpc_endpoint" "dynamodb" {
  count = var.vpc_endpoint_enabled ? 1 : 0

  vpc_id            = var.vpc_id
  service_name      = "com.amazonaws.${data.aws_region.current.name}.dynamodb"
  vpc_endpoint_type = "Gateway"
  route_table_ids   = var.vpc_route_table_ids

  tags = { Name = "${local.name_prefix}-dynamodb" }

  lifecycle {
    precondition {
      condition     = var.vpc_id != null && length(var.vpc_route_table_ids) > 0
      error_message = "The DynamoDB VPC endpoint (dynamodb_vpc_endpoint_enabled) needs vpc_id and at least one entry in vpc_route_table_ids; got vpc_id = ${coalesce(var.vpc_id, "null")}, ${length(var.vpc_route_table_ids)} route table(s)."
    }
  }
}
