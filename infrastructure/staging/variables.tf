# Root inputs of staging. The names are the configuration guide's; each dynamodb_* variable feeds the input of
# module "dynamodb" without the prefix (dynamodb_prevent_destroy: deletion_protection_enabled, dynamodb_enable_alarms:
# alarms_enabled), the instance's go to module "app". Descriptions, defaults and validation rules live in those
# modules only (modules/dynamodb/variables.tf, modules/app/variables.tf; the tables in modules/dynamodb/README.md):
# a variable here has its type and, only where staging differs from the module, a default. null: the module's default.

variable "aws_region" {
  description = "AWS region of every resource (the provider's region)."
  type        = string
  default     = "us-east-1"
}

variable "common_tags" {
  description = "Tags on every resource (the provider's default_tags): project, environment, owner, cost center."
  type        = map(string)
  default = {
    Project     = "Twitter Backend"
    Environment = "staging"
    ManagedBy   = "Terraform"
    CostCenter  = "Engineering"
  }
}

# --- module "app": the application's EC2 instance and role ----------------------------------------------------

variable "ami_id" {
  type = string
}

variable "key_name" {
  type = string
}

variable "instance_type" {
  type    = string
  default = null
}

variable "instance_detailed_monitoring" {
  type    = bool
  default = null
}

variable "subnet_id" {
  type    = string
  default = null
}

variable "vpc_security_group_ids" {
  type    = list(string)
  default = null
}

variable "root_volume_size" {
  type    = number
  default = null
}

variable "dynamodb_vpc_endpoint_enabled" {
  type    = bool
  default = null
}

variable "vpc_id" {
  type    = string
  default = null
}

variable "vpc_route_table_ids" {
  type    = list(string)
  default = null
}

# --- module "dynamodb": the notifications table -----------------------------------------------------------------

variable "dynamodb_notifications_table_name" {
  type    = string
  default = "staging-user-notifications"
}

variable "dynamodb_billing_mode" {
  type    = string
  default = null
}

variable "dynamodb_read_capacity" {
  type    = number
  default = null
}

variable "dynamodb_write_capacity" {
  type    = number
  default = null
}

variable "dynamodb_on_demand_throughput" {
  type = object({
    max_read_request_units  = optional(number)
    max_write_request_units = optional(number)
  })
  default = null
}

variable "dynamodb_autoscaling_enabled" {
  type    = bool
  default = null
}

variable "dynamodb_autoscaling_read_min" {
  type    = number
  default = null
}

variable "dynamodb_autoscaling_read_max" {
  type    = number
  default = null
}

variable "dynamodb_autoscaling_write_min" {
  type    = number
  default = null
}

variable "dynamodb_autoscaling_write_max" {
  type    = number
  default = null
}

variable "dynamodb_autoscaling_target_utilization" {
  type    = number
  default = null
}

variable "dynamodb_additional_attributes" {
  type = list(object({
    name = string
    type = string
  }))
  default = null
}

variable "dynamodb_global_secondary_indexes" {
  type = list(object({
    name               = string
    hash_key           = string
    range_key          = optional(string)
    projection_type    = optional(string, "ALL")
    non_key_attributes = optional(list(string), [])
    read_capacity      = optional(number)
    write_capacity     = optional(number)
    on_demand_throughput = optional(object({
      max_read_request_units  = optional(number)
      max_write_request_units = optional(number)
    }))
  }))
  default = null
}

variable "dynamodb_local_secondary_indexes" {
  type = list(object({
    name               = string
    range_key          = string
    projection_type    = optional(string, "ALL")
    non_key_attributes = optional(list(string), [])
  }))
  default = null
}

variable "dynamodb_stream_enabled" {
  type    = bool
  default = true
}

variable "dynamodb_stream_view_type" {
  type    = string
  default = null
}

variable "dynamodb_pitr_enabled" {
  type    = bool
  default = null
}

variable "dynamodb_pitr_recovery_period_days" {
  type    = number
  default = null
}

variable "dynamodb_prevent_destroy" {
  type    = bool
  default = null
}

variable "dynamodb_ttl_enabled" {
  type    = bool
  default = true
}

variable "dynamodb_ttl_attribute_name" {
  type    = string
  default = null
}

variable "dynamodb_encryption_type" {
  type    = string
  default = null
}

variable "dynamodb_kms_key_arn" {
  type    = string
  default = null
}

variable "dynamodb_table_class" {
  type    = string
  default = null
}

variable "dynamodb_resource_policy_enabled" {
  type    = bool
  default = null
}

variable "dynamodb_full_access_principal_arns" {
  description = "Principals the table's resource policy allows to read and write items besides the application role (e.g. the operator role that runs the runbooks' item checks)."
  type        = list(string)
  default     = []
  nullable    = false
}

variable "dynamodb_read_only_principal_arns" {
  type    = list(string)
  default = null
}

variable "dynamodb_enable_alarms" {
  type    = bool
  default = null
}

variable "dynamodb_alarm_sns_topic_arn" {
  type    = string
  default = null
}

variable "dynamodb_contributor_insights_enabled" {
  type    = bool
  default = null
}

variable "dynamodb_dashboard_enabled" {
  type    = bool
  default = null
}

variable "dynamodb_tags" {
  type    = map(string)
  default = null
}

# --- Growing tables (issue 31): replicas, autoscaling per index, scheduled scaling, import from S3 -------------------
# Described, defaulted and validated in modules/dynamodb/variables.tf (replicas, autoscaling_*, import_table); the
# types repeat the module's, optional attributes' defaults included.

variable "dynamodb_replicas" {
  type = list(object({
    region_name            = string
    kms_key_arn            = optional(string)
    point_in_time_recovery = optional(bool)
    propagate_tags         = optional(bool, true)
  }))
  default = null
}

variable "dynamodb_autoscaling_scale_in_cooldown" {
  type    = number
  default = null
}

variable "dynamodb_autoscaling_scale_out_cooldown" {
  type    = number
  default = null
}

variable "dynamodb_autoscaling_disable_scale_in" {
  type    = bool
  default = null
}

variable "dynamodb_autoscaling_indexes" {
  type = map(object({
    read_min           = optional(number)
    read_max           = optional(number)
    write_min          = optional(number)
    write_max          = optional(number)
    target_utilization = optional(number)
    scale_in_cooldown  = optional(number)
    scale_out_cooldown = optional(number)
    disable_scale_in   = optional(bool)
  }))
  default = null
}

variable "dynamodb_autoscaling_schedules" {
  type = list(object({
    name         = string
    schedule     = string
    timezone     = optional(string)
    target       = optional(string, "table")
    dimension    = optional(string, "write")
    min_capacity = optional(number)
    max_capacity = optional(number)
    start_time   = optional(string)
    end_time     = optional(string)
  }))
  default = null
}

variable "dynamodb_import_table" {
  type = object({
    bucket                 = string
    key_prefix             = optional(string)
    bucket_owner           = optional(string)
    input_format           = string
    input_compression_type = optional(string, "NONE")
    csv = optional(object({
      delimiter   = optional(string, ",")
      header_list = optional(list(string))
    }))
  })
  default = null
}
