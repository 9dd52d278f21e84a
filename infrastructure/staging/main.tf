# Staging: the user-notifications DynamoDB table, the application's EC2 instance with an IAM role that holds the
# table's full-access policy, and (optionally) a gateway VPC endpoint for DynamoDB.

locals {
  environment = "staging"
  name_prefix = "${local.environment}-notifications"
}

# The one provider configuration. Endpoints for an emulator come from a generated runbook_override.tf in the
# run's work directory, never from this file.
provider "aws" {
  region = var.aws_region

  default_tags {
    tags = var.common_tags
  }
}

module "dynamodb" {
  source = "./modules/dynamodb"

  environment = "staging"
  table_name  = var.dynamodb_notifications_table_name

  billing_mode                   = var.dynamodb_billing_mode
  read_capacity                  = var.dynamodb_read_capacity
  write_capacity                 = var.dynamodb_write_capacity
  autoscaling_enabled            = var.dynamodb_autoscaling_enabled
  autoscaling_read_min           = var.dynamodb_autoscaling_read_min
  autoscaling_read_max           = var.dynamodb_autoscaling_read_max
  autoscaling_write_min          = var.dynamodb_autoscaling_write_min
  autoscaling_write_max          = var.dynamodb_autoscaling_write_max
  autoscaling_target_utilization = var.dynamodb_autoscaling_target_utilization

  additional_attributes    = var.dynamodb_additional_attributes
  global_secondary_indexes = var.dynamodb_global_secondary_indexes
  local_secondary_indexes  = var.dynamodb_local_secondary_indexes

  stream_enabled              = var.dynamodb_stream_enabled
  stream_view_type            = var.dynamodb_stream_view_type
  pitr_enabled                = var.dynamodb_pitr_enabled
  pitr_recovery_period_days   = var.dynamodb_pitr_recovery_period_days
  deletion_protection_enabled = var.dynamodb_prevent_destroy
  ttl_enabled                 = var.dynamodb_ttl_enabled
  ttl_attribute_name          = var.dynamodb_ttl_attribute_name
  encryption_type             = var.dynamodb_encryption_type
  kms_key_arn                 = var.dynamodb_kms_key_arn
  table_class                 = var.dynamodb_table_class

  alarms_enabled               = var.dynamodb_enable_alarms
  alarm_sns_topic_arn          = var.dynamodb_alarm_sns_topic_arn
  contributor_insights_enabled = var.dynamodb_contributor_insights_enabled
  dashboard_enabled            = var.dynamodb_dashboard_enabled

  tags = var.dynamodb_tags
}

# --- The application's EC2 instance and its role ---------------------------------------------------------

resource "aws_iam_role" "app" {
  name        = "${local.name_prefix}-app"
  description = "Role of the ${local.environment} application instance (DynamoDB access through its policies)."
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
  policy_arn = module.dynamodb.dynamodb_access_policy_arn
}

resource "aws_iam_instance_profile" "app" {
  name = "${local.name_prefix}-app"
  role = aws_iam_role.app.name
}

resource "aws_instance" "app" {
  #checkov:skip=CKV_AWS_126:Detailed monitoring is an input (instance_detailed_monitoring): production turns it on, staging keeps free 5-minute metrics.
  ami                    = var.ami_id
  instance_type          = var.instance_type
  key_name               = var.key_name
  subnet_id              = var.subnet_id
  vpc_security_group_ids = length(var.vpc_security_group_ids) > 0 ? var.vpc_security_group_ids : null
  iam_instance_profile   = aws_iam_instance_profile.app.name
  monitoring             = var.instance_detailed_monitoring
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

# --- Optional gateway VPC endpoint for DynamoDB (the seed's "VPC Endpoints") -------------------------------

resource "aws_vpc_endpoint" "dynamodb" {
  count = var.dynamodb_vpc_endpoint_enabled ? 1 : 0

  vpc_id            = var.vpc_id
  service_name      = "com.amazonaws.${var.aws_region}.dynamodb"
  vpc_endpoint_type = "Gateway"
  route_table_ids   = var.vpc_route_table_ids

  tags = { Name = "${local.name_prefix}-dynamodb" }

  lifecycle {
    precondition {
      condition     = var.vpc_id != null && length(var.vpc_route_table_ids) > 0
      error_message = "dynamodb_vpc_endpoint_enabled needs vpc_id and at least one entry in vpc_route_table_ids."
    }
  }
}
