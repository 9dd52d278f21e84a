# Root inputs of staging. The names are the configuration guide's; each dynamodb_* variable feeds the input of
# module "dynamodb" without the prefix (dynamodb_prevent_destroy: deletion_protection_enabled, dynamodb_enable_alarms:
# alarms_enabled), the instance's go to module "app". Defaults and validation rules live in those modules only
# (modules/dynamodb/variables.tf, modules/app/variables.tf; the tables in modules/dynamodb/README.md): a variable
# here has its type, the description of the module input it feeds (tests/test_terraform_config.py keeps them equal)
# and, only where staging differs from the module, a default. null: the module's default.

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
  description = "AMI of the application's EC2 instance: ami- and 8 or 17 lowercase hex digits (the example's ami-xxxxx is a placeholder)."
  type        = string
}

variable "key_name" {
  description = "Name of an existing EC2 key pair for SSH access to the application instance: 1-255 printable ASCII characters (the example's your-key-pair is a placeholder)."
  type        = string
}

variable "instance_type" {
  description = "EC2 instance type of the application instance."
  type        = string
  default     = null
}

variable "instance_detailed_monitoring" {
  description = "1-minute CloudWatch metrics for the application instance (billed; basic monitoring is 5-minute)."
  type        = bool
  default     = null
}

variable "subnet_id" {
  description = "Subnet of the application instance (null: the default VPC's default subnet)."
  type        = string
  default     = null
}

variable "vpc_security_group_ids" {
  description = "Security groups of the application instance (empty: the VPC's default security group)."
  type        = list(string)
  default     = null
}

variable "root_volume_size" {
  description = "Size of the application instance's encrypted root volume, in GiB (at least the AMI's snapshot size)."
  type        = number
  default     = null
}

variable "dynamodb_vpc_endpoint_enabled" {
  description = "Create a gateway VPC endpoint for DynamoDB (needs vpc_id and vpc_route_table_ids)."
  type        = bool
  default     = null
}

variable "vpc_id" {
  description = "VPC of the DynamoDB gateway endpoint (with vpc_endpoint_enabled)."
  type        = string
  default     = null
}

variable "vpc_route_table_ids" {
  description = "Route tables that get the DynamoDB gateway endpoint's route (with vpc_endpoint_enabled)."
  type        = list(string)
  default     = null
}

# --- module "dynamodb": the notifications table -----------------------------------------------------------------

variable "dynamodb_notifications_table_name" {
  description = "Name of the DynamoDB table."
  type        = string
  default     = "staging-user-notifications"
}

variable "dynamodb_billing_mode" {
  description = "PAY_PER_REQUEST (on-demand) or PROVISIONED (read/write capacity, optionally autoscaled)."
  type        = string
  default     = null
}

variable "dynamodb_read_capacity" {
  description = "Read capacity units of the table (PROVISIONED only); the initial value when autoscaling is enabled."
  type        = number
  default     = null
}

variable "dynamodb_write_capacity" {
  description = "Write capacity units of the table (PROVISIONED only); the initial value when autoscaling is enabled."
  type        = number
  default     = null
}

variable "dynamodb_on_demand_throughput" {
  description = "Ceiling of a PAY_PER_REQUEST table's throughput, in request units per second (max_read_request_units, max_write_request_units); -1 lifts a ceiling, null leaves the table's own setting (none on a new table)."
  type = object({
    max_read_request_units  = optional(number)
    max_write_request_units = optional(number)
  })
  default = null
}

variable "dynamodb_autoscaling_enabled" {
  description = "Target-tracking autoscaling of read and write capacity for the table and every GSI (PROVISIONED only)."
  type        = bool
  default     = null
}

variable "dynamodb_autoscaling_read_min" {
  description = "Minimum read capacity the autoscaler may set (table and each GSI)."
  type        = number
  default     = null
}

variable "dynamodb_autoscaling_read_max" {
  description = "Maximum read capacity the autoscaler may set (table and each GSI)."
  type        = number
  default     = null
}

variable "dynamodb_autoscaling_write_min" {
  description = "Minimum write capacity the autoscaler may set (table and each GSI)."
  type        = number
  default     = null
}

variable "dynamodb_autoscaling_write_max" {
  description = "Maximum write capacity the autoscaler may set (table and each GSI)."
  type        = number
  default     = null
}

variable "dynamodb_autoscaling_target_utilization" {
  description = "Target utilisation of provisioned capacity, in percent, that the autoscaler keeps (20-90)."
  type        = number
  default     = null
}

variable "dynamodb_additional_attributes" {
  description = "Attribute definitions beyond the table keys: every key attribute of a GSI or LSI must be listed here."
  type = list(object({
    name = string
    type = string
  }))
  default = null
}

variable "dynamodb_global_secondary_indexes" {
  description = "Global secondary indexes. Capacities apply to PROVISIONED tables (default: the table's), on_demand_throughput to PAY_PER_REQUEST tables; autoscaling covers each GSI."
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
  description = "Local secondary indexes (same partition key, another sort key). They can only be created with the table."
  type = list(object({
    name               = string
    range_key          = string
    projection_type    = optional(string, "ALL")
    non_key_attributes = optional(list(string), [])
  }))
  default = null
}

variable "dynamodb_stream_enabled" {
  description = "Enable DynamoDB Streams (change data capture for Lambda triggers, replication, audit)."
  type        = bool
  default     = true
}

variable "dynamodb_stream_view_type" {
  description = "What a stream record holds: KEYS_ONLY, NEW_IMAGE, OLD_IMAGE or NEW_AND_OLD_IMAGES (used when streams are enabled)."
  type        = string
  default     = null
}

variable "dynamodb_pitr_enabled" {
  description = "Point-in-time recovery (continuous backups)."
  type        = bool
  default     = null
}

variable "dynamodb_pitr_recovery_period_days" {
  description = "How many days back point-in-time recovery can restore (1-35)."
  type        = number
  default     = null
}

variable "dynamodb_prevent_destroy" {
  description = "Deletion protection: blocks DeleteTable from Terraform, the console and the CLI (the root's dynamodb_prevent_destroy)."
  type        = bool
  default     = null
}

variable "dynamodb_ttl_enabled" {
  description = "Time to live: DynamoDB deletes items whose TTL attribute (epoch seconds) is in the past."
  type        = bool
  default     = true
}

variable "dynamodb_ttl_attribute_name" {
  description = "Name of the TTL attribute (a number: expiry time in epoch seconds)."
  type        = string
  default     = null
}

variable "dynamodb_encryption_type" {
  description = "Encryption at rest: AWS_OWNED (DynamoDB's key, free), AWS_MANAGED (the aws/dynamodb KMS key) or CUSTOMER_MANAGED (a customer KMS key)."
  type        = string
  default     = null
}

variable "dynamodb_kms_key_arn" {
  description = "ARN of the customer managed KMS key (CUSTOMER_MANAGED only). Null: the module creates a key with rotation."
  type        = string
  default     = null
}

variable "dynamodb_table_class" {
  description = "STANDARD, or STANDARD_INFREQUENT_ACCESS (cheaper storage, dearer requests)."
  type        = string
  default     = null
}

variable "dynamodb_resource_policy_enabled" {
  description = "Attach a resource-based policy to the table that lets only the full-access and read-only principals use its items and indexes (and read-only principals only read)."
  type        = bool
  default     = null
}

variable "dynamodb_full_access_principal_arns" {
  description = "Principals the table's resource policy allows to read and write items besides the application role (e.g. the operator role that runs the runbooks' item checks)."
  type        = list(string)
  default     = []
  nullable    = false
}

variable "dynamodb_read_only_principal_arns" {
  description = "IAM role or user ARNs the resource-based policy allows to read items, indexes and nothing else (analytics)."
  type        = list(string)
  default     = null
}

variable "dynamodb_enable_alarms" {
  description = "Create the CloudWatch alarms (throttles, errors and, for PROVISIONED tables, consumed capacity)."
  type        = bool
  default     = null
}

variable "dynamodb_alarm_sns_topic_arn" {
  description = "SNS topic every alarm notifies when it fires and when it recovers. Null (with alarms_enabled): the module creates an encrypted topic, <table>-alarms, with alarm_subscriptions."
  type        = string
  default     = null
}

variable "dynamodb_alarm_subscriptions" {
  description = "Who the module-created alarm topic notifies: a list of { protocol, endpoint } with protocol email (endpoint: an address) or https (endpoint: an https:// URL); an email subscription waits for its recipient to confirm. Ignored when alarm_sns_topic_arn is given."
  type = list(object({
    protocol = string
    endpoint = string
  }))
  default = null
}

variable "dynamodb_contributor_insights_enabled" {
  description = "CloudWatch Contributor Insights for the table (most accessed and most throttled keys; billed per event)."
  type        = bool
  default     = null
}

variable "dynamodb_dashboard_enabled" {
  description = "Create a CloudWatch dashboard named after the table (capacity, throttles, errors, latency)."
  type        = bool
  default     = null
}

variable "dynamodb_tags" {
  description = "Tags for every resource of the module (merged over the provider's default_tags; Name is set to the table name)."
  type        = map(string)
  default     = null
}

variable "dynamodb_restore_source_name" {
  description = "Create the table as a point-in-time restore of this table (same account and region). Exactly one of restore_source_name and restore_source_table_arn; null: an empty new table."
  type        = string
  default     = null
}

variable "dynamodb_restore_source_table_arn" {
  description = "Create the table as a point-in-time restore of the table with this ARN (another account or region too). Exactly one of restore_source_name and restore_source_table_arn."
  type        = string
  default     = null
}

variable "dynamodb_restore_date_time" {
  description = "The point in time to restore to (RFC 3339, e.g. 2026-12-06T21:30:00Z): within the source's point-in-time recovery window (the last pitr_recovery_period_days days, not in the future). Exactly one of restore_date_time and restore_to_latest_time with a restore source."
  type        = string
  default     = null
}

variable "dynamodb_restore_to_latest_time" {
  description = "Restore to the latest restorable time of the source (about 5 minutes ago) instead of restore_date_time."
  type        = bool
  default     = null
}

variable "dynamodb_audit_logging_enabled" {
  description = "Record the table's data events (item reads and writes) with CloudTrail: a trail <table>-data-events of the module's, with an advanced event selector on this table only (billed per 100,000 events)."
  type        = bool
  default     = null
}

variable "dynamodb_audit_log_bucket_name" {
  description = "Existing S3 bucket the trail writes to (its policy must let CloudTrail write). Null: the module creates an encrypted, versioned, non-public bucket (<table>-audit-...)."
  type        = string
  default     = null
}

variable "dynamodb_audit_log_retention_days" {
  description = "Days the module-created audit bucket keeps a log file before it expires."
  type        = number
  default     = null
}

# --- Growing tables (issue 31): replicas, autoscaling per index, scheduled scaling, import from S3 -------------------
# Described, defaulted and validated in modules/dynamodb/variables.tf (replicas, autoscaling_*, import_table); the
# types repeat the module's, optional attributes' defaults included.

variable "dynamodb_replicas" {
  description = "Global-table replicas, one per other region (the provider's replica blocks): region_name; kms_key_arn, a customer key in that region (null: DynamoDB's default key there); point_in_time_recovery (null: as pitr_enabled); propagate_tags copies the table's tags. Needs stream_enabled with NEW_AND_OLD_IMAGES; writes are then billed as replicated writes in every region."
  type = list(object({
    region_name            = string
    kms_key_arn            = optional(string)
    point_in_time_recovery = optional(bool)
    propagate_tags         = optional(bool, true)
  }))
  default = null
}

variable "dynamodb_autoscaling_scale_in_cooldown" {
  description = "Seconds after a scale-in before the autoscaler may scale in again (table, and each GSI without its own setting; null: Application Auto Scaling's default)."
  type        = number
  default     = null
}

variable "dynamodb_autoscaling_scale_out_cooldown" {
  description = "Seconds after a scale-out before the autoscaler may scale out again (table, and each GSI without its own setting; null: Application Auto Scaling's default)."
  type        = number
  default     = null
}

variable "dynamodb_autoscaling_disable_scale_in" {
  description = "Let the autoscaler only scale out, never in (table, and each GSI without its own setting)."
  type        = bool
  default     = null
}

variable "dynamodb_autoscaling_indexes" {
  description = "Autoscaling per GSI, by index name: read_min/read_max/write_min/write_max, target_utilization (percent), scale_in_cooldown/scale_out_cooldown (seconds), disable_scale_in. A field left null takes the table-level autoscaling_* input; an index not listed takes them all."
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
  description = "Scheduled scaling (aws_appautoscaling_scheduled_action), e.g. raise the write minimum before the daily notification burst: name; schedule, cron(...), at(yyyy-mm-ddThh:mm:ss) or rate(n unit); timezone (IANA, null: UTC); target, \"table\" or \"index/<gsi name>\"; dimension, read or write; min_capacity and/or max_capacity; start_time/end_time (RFC 3339). Needs autoscaling_enabled on a PROVISIONED table."
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
  description = "Bulk-load the table from S3 when it is created (the provider's import_table; only at creation: adding it to an existing table, or changing its S3 source, replaces the table, which the review names): bucket, key_prefix, bucket_owner; input_format CSV, DYNAMODB_JSON or ION; input_compression_type GZIP, ZSTD or NONE; csv options (delimiter, header_list), required for CSV and only for CSV; the provider passes header_list as a set, so its order is not kept: prefer a header row in the files. null: an empty table."
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
