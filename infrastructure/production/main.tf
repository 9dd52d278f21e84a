# Production: the same composition as staging (module "dynamodb" and module "app", from staging/modules: one
# definition for both environments, never a copy). Only the environment name and the module paths differ here;
# what production sets differently is in its variables.tf defaults (PITR, deletion protection, alarms, monitoring).

# The one provider configuration. Endpoints for an emulator come from a generated runbook_override.tf in the
# run's work directory, never from this file.
provider "aws" {
  region = var.aws_region

  default_tags {
    tags = var.common_tags
  }
}

module "dynamodb" {
  source = "../staging/modules/dynamodb"

  environment = "production"
  table_name  = var.dynamodb_notifications_table_name

  billing_mode                   = var.dynamodb_billing_mode
  read_capacity                  = var.dynamodb_read_capacity
  write_capacity                 = var.dynamodb_write_capacity
  on_demand_throughput           = var.dynamodb_on_demand_throughput
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

  resource_policy_enabled                    = var.dynamodb_resource_policy_enabled
  resource_policy_full_access_principal_arns = concat([module.app.role_arn], var.dynamodb_full_access_principal_arns)
  resource_policy_read_only_principal_arns   = var.dynamodb_read_only_principal_arns

  alarms_enabled               = var.dynamodb_enable_alarms
  alarm_sns_topic_arn          = var.dynamodb_alarm_sns_topic_arn
  alarm_subscriptions          = var.dynamodb_alarm_subscriptions
  contributor_insights_enabled = var.dynamodb_contributor_insights_enabled
  dashboard_enabled            = var.dynamodb_dashboard_enabled

  restore_source_name      = var.dynamodb_restore_source_name
  restore_source_table_arn = var.dynamodb_restore_source_table_arn
  restore_date_time        = var.dynamodb_restore_date_time
  restore_to_latest_time   = var.dynamodb_restore_to_latest_time

  audit_logging_enabled    = var.dynamodb_audit_logging_enabled
  audit_log_bucket_name    = var.dynamodb_audit_log_bucket_name
  audit_log_retention_days = var.dynamodb_audit_log_retention_days

  tags = var.dynamodb_tags

  replicas                       = var.dynamodb_replicas
  autoscaling_scale_in_cooldown  = var.dynamodb_autoscaling_scale_in_cooldown
  autoscaling_scale_out_cooldown = var.dynamodb_autoscaling_scale_out_cooldown
  autoscaling_disable_scale_in   = var.dynamodb_autoscaling_disable_scale_in
  autoscaling_indexes            = var.dynamodb_autoscaling_indexes
  autoscaling_schedules          = var.dynamodb_autoscaling_schedules
  import_table                   = var.dynamodb_import_table
}

module "app" {
  source = "../staging/modules/app"

  environment                = "production"
  ami_id                     = var.ami_id
  key_name                   = var.key_name
  instance_type              = var.instance_type
  detailed_monitoring        = var.instance_detailed_monitoring
  subnet_id                  = var.subnet_id
  vpc_security_group_ids     = var.vpc_security_group_ids
  root_volume_size           = var.root_volume_size
  dynamodb_access_policy_arn = module.dynamodb.dynamodb_access_policy_arn

  vpc_endpoint_enabled = var.dynamodb_vpc_endpoint_enabled
  vpc_id               = var.vpc_id
  vpc_route_table_ids  = var.vpc_route_table_ids
}
