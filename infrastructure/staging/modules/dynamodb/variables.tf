# Inputs of the notifications table module. Defaults match runbook/spec.py (TableSpec), so a configuration that
# sets nothing gets the same table the runbooks expect.
#
# This file is the one place the inputs are described, defaulted and validated: the environment roots declare
# their variables with a type only and pass them through. Every input with a default is `nullable = false`, so a
# root variable left at null gets the default written here. Error messages name the input and the value given,
# because Terraform reports a module input's failure at the module call in the root (main.tf), not in tfvars.

variable "environment" {
  description = "Environment name (staging or production); used in IAM policy names and tags."
  type        = string
  nullable    = false

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{1,30}$", var.environment))
    error_message = "environment must be 2-31 lowercase letters, digits or hyphens, starting with a letter; got \"${var.environment}\"."
  }
}

variable "table_name" {
  description = "Name of the DynamoDB table."
  type        = string
  nullable    = false

  validation {
    condition     = can(regex("^[a-zA-Z0-9_.-]{3,255}$", var.table_name))
    error_message = "table_name must be 3-255 characters from a-z, A-Z, 0-9, '_', '-' and '.' (DynamoDB's naming rules); got \"${var.table_name}\"."
  }
}

variable "billing_mode" {
  description = "PAY_PER_REQUEST (on-demand) or PROVISIONED (read/write capacity, optionally autoscaled)."
  type        = string
  default     = "PAY_PER_REQUEST"
  nullable    = false

  validation {
    condition     = contains(["PAY_PER_REQUEST", "PROVISIONED"], var.billing_mode)
    error_message = "billing_mode must be PAY_PER_REQUEST or PROVISIONED; got \"${var.billing_mode}\"."
  }
}

variable "read_capacity" {
  description = "Read capacity units of the table (PROVISIONED only); the initial value when autoscaling is enabled."
  type        = number
  default     = 5
  nullable    = false

  validation {
    condition     = var.read_capacity >= 1 && floor(var.read_capacity) == var.read_capacity
    error_message = "read_capacity must be a whole number of at least 1; got ${var.read_capacity}."
  }
}

variable "write_capacity" {
  description = "Write capacity units of the table (PROVISIONED only); the initial value when autoscaling is enabled."
  type        = number
  default     = 5
  nullable    = false

  validation {
    condition     = var.write_capacity >= 1 && floor(var.write_capacity) == var.write_capacity
    error_message = "write_capacity must be a whole number of at least 1; got ${var.write_capacity}."
  }
}

variable "on_demand_throughput" {
  description = "Ceiling of a PAY_PER_REQUEST table's throughput, in request units per second (max_read_request_units, max_write_request_units); -1 lifts a ceiling, null leaves the table's own setting (none on a new table)."
  type = object({
    max_read_request_units  = optional(number)
    max_write_request_units = optional(number)
  })
  default = null

  validation {
    condition = var.on_demand_throughput == null || alltrue([
      for units in [try(var.on_demand_throughput.max_read_request_units, null), try(var.on_demand_throughput.max_write_request_units, null)] :
      units == null ? true : units == -1 || (units >= 1 && floor(units) == units)
    ])
    error_message = "on_demand_throughput.max_read_request_units and .max_write_request_units must be whole numbers of at least 1, or -1 to lift a ceiling set before (null: leave as is); got ${jsonencode(var.on_demand_throughput)}."
  }
}

variable "autoscaling_enabled" {
  description = "Target-tracking autoscaling of read and write capacity for the table and every GSI (PROVISIONED only)."
  type        = bool
  default     = false
  nullable    = false
}

variable "autoscaling_read_min" {
  description = "Minimum read capacity the autoscaler may set (table and each GSI)."
  type        = number
  default     = 5
  nullable    = false

  validation {
    condition     = var.autoscaling_read_min >= 1
    error_message = "autoscaling_read_min must be at least 1; got ${var.autoscaling_read_min}."
  }
}

variable "autoscaling_read_max" {
  description = "Maximum read capacity the autoscaler may set (table and each GSI)."
  type        = number
  default     = 100
  nullable    = false

  validation {
    condition     = var.autoscaling_read_max >= 1
    error_message = "autoscaling_read_max must be at least 1; got ${var.autoscaling_read_max}."
  }
}

variable "autoscaling_write_min" {
  description = "Minimum write capacity the autoscaler may set (table and each GSI)."
  type        = number
  default     = 5
  nullable    = false

  validation {
    condition     = var.autoscaling_write_min >= 1
    error_message = "autoscaling_write_min must be at least 1; got ${var.autoscaling_write_min}."
  }
}

variable "autoscaling_write_max" {
  description = "Maximum write capacity the autoscaler may set (table and each GSI)."
  type        = number
  default     = 100
  nullable    = false

  validation {
    condition     = var.autoscaling_write_max >= 1
    error_message = "autoscaling_write_max must be at least 1; got ${var.autoscaling_write_max}."
  }
}

variable "autoscaling_target_utilization" {
  description = "Target utilisation of provisioned capacity, in percent, that the autoscaler keeps (20-90)."
  type        = number
  default     = 70
  nullable    = false

  validation {
    condition     = var.autoscaling_target_utilization >= 20 && var.autoscaling_target_utilization <= 90
    error_message = "autoscaling_target_utilization must be between 20 and 90 (percent), DynamoDB's allowed range; got ${var.autoscaling_target_utilization}."
  }
}

variable "hash_key" {
  description = "Partition key attribute. user_id: every access pattern starts from one user's notifications."
  type        = string
  default     = "user_id"
  nullable    = false
}

variable "hash_key_type" {
  description = "Type of the partition key: S (string), N (number) or B (binary)."
  type        = string
  default     = "S"
  nullable    = false

  validation {
    condition     = contains(["S", "N", "B"], var.hash_key_type)
    error_message = "hash_key_type must be S, N or B; got \"${var.hash_key_type}\"."
  }
}

variable "range_key" {
  description = "Sort key attribute (null for none). notification_id is a ULID, so ScanIndexForward=false lists newest first."
  type        = string
  default     = "notification_id"
}

variable "range_key_type" {
  description = "Type of the sort key: S (string), N (number) or B (binary)."
  type        = string
  default     = "S"
  nullable    = false

  validation {
    condition     = contains(["S", "N", "B"], var.range_key_type)
    error_message = "range_key_type must be S, N or B; got \"${var.range_key_type}\"."
  }
}

variable "additional_attributes" {
  description = "Attribute definitions beyond the table keys: every key attribute of a GSI or LSI must be listed here."
  type = list(object({
    name = string
    type = string
  }))
  default  = []
  nullable = false

  validation {
    condition     = alltrue([for a in var.additional_attributes : contains(["S", "N", "B"], a.type)])
    error_message = "Each additional attribute type must be S, N or B; got ${jsonencode({ for a in var.additional_attributes : a.name => a.type if !contains(["S", "N", "B"], a.type) })}."
  }
}

variable "global_secondary_indexes" {
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
  default  = []
  nullable = false

  validation {
    condition     = alltrue([for i in var.global_secondary_indexes : contains(["ALL", "KEYS_ONLY", "INCLUDE"], i.projection_type)])
    error_message = "Each GSI projection_type must be ALL, KEYS_ONLY or INCLUDE; got ${jsonencode({ for i in var.global_secondary_indexes : i.name => i.projection_type if !contains(["ALL", "KEYS_ONLY", "INCLUDE"], i.projection_type) })}."
  }

  validation {
    condition     = length(distinct([for i in var.global_secondary_indexes : i.name])) == length(var.global_secondary_indexes)
    error_message = "GSI names must be unique; got ${jsonencode([for i in var.global_secondary_indexes : i.name])}."
  }

  validation {
    condition     = length(var.global_secondary_indexes) <= 20
    error_message = "DynamoDB allows at most 20 global secondary indexes per table; got ${length(var.global_secondary_indexes)}."
  }

  validation {
    condition = alltrue(flatten([
      for i in var.global_secondary_indexes : [
        for units in [try(i.on_demand_throughput.max_read_request_units, null), try(i.on_demand_throughput.max_write_request_units, null)] :
        units == null ? true : units == -1 || (units >= 1 && floor(units) == units)
      ]
    ]))
    error_message = "Each GSI's on_demand_throughput.max_read_request_units and .max_write_request_units must be whole numbers of at least 1, or -1 to lift a ceiling (null: leave as is); got ${jsonencode({ for i in var.global_secondary_indexes : i.name => i.on_demand_throughput if i.on_demand_throughput != null })}."
  }
}

variable "local_secondary_indexes" {
  description = "Local secondary indexes (same partition key, another sort key). They can only be created with the table."
  type = list(object({
    name               = string
    range_key          = string
    projection_type    = optional(string, "ALL")
    non_key_attributes = optional(list(string), [])
  }))
  default  = []
  nullable = false

  validation {
    condition     = alltrue([for i in var.local_secondary_indexes : contains(["ALL", "KEYS_ONLY", "INCLUDE"], i.projection_type)])
    error_message = "Each LSI projection_type must be ALL, KEYS_ONLY or INCLUDE; got ${jsonencode({ for i in var.local_secondary_indexes : i.name => i.projection_type if !contains(["ALL", "KEYS_ONLY", "INCLUDE"], i.projection_type) })}."
  }

  validation {
    condition     = length(var.local_secondary_indexes) <= 5
    error_message = "DynamoDB allows at most 5 local secondary indexes per table; got ${length(var.local_secondary_indexes)}."
  }
}

variable "stream_enabled" {
  description = "Enable DynamoDB Streams (change data capture for Lambda triggers, replication, audit)."
  type        = bool
  default     = false
  nullable    = false
}

variable "stream_view_type" {
  description = "What a stream record holds: KEYS_ONLY, NEW_IMAGE, OLD_IMAGE or NEW_AND_OLD_IMAGES (used when streams are enabled)."
  type        = string
  default     = "NEW_AND_OLD_IMAGES"
  nullable    = false

  validation {
    condition     = contains(["KEYS_ONLY", "NEW_IMAGE", "OLD_IMAGE", "NEW_AND_OLD_IMAGES"], var.stream_view_type)
    error_message = "stream_view_type must be KEYS_ONLY, NEW_IMAGE, OLD_IMAGE or NEW_AND_OLD_IMAGES; got \"${var.stream_view_type}\"."
  }
}

variable "pitr_enabled" {
  description = "Point-in-time recovery (continuous backups)."
  type        = bool
  default     = false
  nullable    = false
}

variable "pitr_recovery_period_days" {
  description = "How many days back point-in-time recovery can restore (1-35)."
  type        = number
  default     = 35
  nullable    = false

  validation {
    condition     = var.pitr_recovery_period_days >= 1 && var.pitr_recovery_period_days <= 35 && floor(var.pitr_recovery_period_days) == var.pitr_recovery_period_days
    error_message = "pitr_recovery_period_days must be a whole number from 1 to 35; got ${var.pitr_recovery_period_days}."
  }
}

variable "ttl_enabled" {
  description = "Time to live: DynamoDB deletes items whose TTL attribute (epoch seconds) is in the past."
  type        = bool
  default     = false
  nullable    = false
}

variable "ttl_attribute_name" {
  description = "Name of the TTL attribute (a number: expiry time in epoch seconds)."
  type        = string
  default     = "ttl"
  nullable    = false

  validation {
    condition     = can(regex("^[^\\s]{1,255}$", var.ttl_attribute_name))
    error_message = "ttl_attribute_name must be 1-255 characters without spaces; got \"${var.ttl_attribute_name}\"."
  }
}

variable "encryption_type" {
  description = "Encryption at rest: AWS_OWNED (DynamoDB's key, free), AWS_MANAGED (the aws/dynamodb KMS key) or CUSTOMER_MANAGED (a customer KMS key)."
  type        = string
  default     = "AWS_OWNED"
  nullable    = false

  validation {
    condition     = contains(["AWS_OWNED", "AWS_MANAGED", "CUSTOMER_MANAGED"], var.encryption_type)
    error_message = "encryption_type must be AWS_OWNED, AWS_MANAGED or CUSTOMER_MANAGED; got \"${var.encryption_type}\"."
  }
}

variable "kms_key_arn" {
  description = "ARN of the customer managed KMS key (CUSTOMER_MANAGED only). Null: the module creates a key with rotation."
  type        = string
  default     = null

  validation {
    condition     = var.kms_key_arn == null || can(regex("^arn:aws[a-zA-Z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/.+$", var.kms_key_arn))
    error_message = "kms_key_arn must be a KMS key ARN (arn:aws:kms:<region>:<account>:key/<id>) or null; got \"${coalesce(var.kms_key_arn, "null")}\"."
  }
}

variable "kms_key_deletion_window_days" {
  description = "Waiting period before a module-created KMS key is deleted (7-30 days)."
  type        = number
  default     = 30
  nullable    = false

  validation {
    condition     = var.kms_key_deletion_window_days >= 7 && var.kms_key_deletion_window_days <= 30
    error_message = "kms_key_deletion_window_days must be between 7 and 30; got ${var.kms_key_deletion_window_days}."
  }
}

variable "table_class" {
  description = "STANDARD, or STANDARD_INFREQUENT_ACCESS (cheaper storage, dearer requests)."
  type        = string
  default     = "STANDARD"
  nullable    = false

  validation {
    condition     = contains(["STANDARD", "STANDARD_INFREQUENT_ACCESS"], var.table_class)
    error_message = "table_class must be STANDARD or STANDARD_INFREQUENT_ACCESS; got \"${var.table_class}\"."
  }
}

variable "deletion_protection_enabled" {
  description = "Deletion protection: blocks DeleteTable from Terraform, the console and the CLI (the root's dynamodb_prevent_destroy)."
  type        = bool
  default     = false
  nullable    = false
}

variable "resource_policy_enabled" {
  description = "Attach a resource-based policy to the table that lets only the full-access and read-only principals use its items and indexes (and read-only principals only read)."
  type        = bool
  default     = false
  nullable    = false
}

variable "resource_policy_full_access_principal_arns" {
  description = "IAM role or user ARNs the resource-based policy allows to read and write items (the application role)."
  type        = list(string)
  default     = []
  nullable    = false

  validation {
    condition     = alltrue([for arn in var.resource_policy_full_access_principal_arns : can(regex("^arn:aws[a-zA-Z-]*:iam::[0-9]{12}:(role|user)/.+$", arn))])
    error_message = "resource_policy_full_access_principal_arns must hold IAM role or user ARNs (arn:aws:iam::<account>:role/<name>); got ${jsonencode(var.resource_policy_full_access_principal_arns)}."
  }
}

variable "resource_policy_read_only_principal_arns" {
  description = "IAM role or user ARNs the resource-based policy allows to read items, indexes and nothing else (analytics)."
  type        = list(string)
  default     = []
  nullable    = false

  validation {
    condition     = alltrue([for arn in var.resource_policy_read_only_principal_arns : can(regex("^arn:aws[a-zA-Z-]*:iam::[0-9]{12}:(role|user)/.+$", arn))])
    error_message = "resource_policy_read_only_principal_arns must hold IAM role or user ARNs (arn:aws:iam::<account>:role/<name>); got ${jsonencode(var.resource_policy_read_only_principal_arns)}."
  }
}

variable "alarms_enabled" {
  description = "Create the CloudWatch alarms (throttles, errors and, for PROVISIONED tables, consumed capacity)."
  type        = bool
  default     = false
  nullable    = false
}

variable "alarm_read_throttle_threshold" {
  description = "Alarm when ReadThrottleEvents in one period exceed this."
  type        = number
  default     = 10
  nullable    = false

  validation {
    condition     = var.alarm_read_throttle_threshold >= 0
    error_message = "alarm_read_throttle_threshold must not be negative; got ${var.alarm_read_throttle_threshold}."
  }
}

variable "alarm_write_throttle_threshold" {
  description = "Alarm when WriteThrottleEvents in one period exceed this."
  type        = number
  default     = 10
  nullable    = false

  validation {
    condition     = var.alarm_write_throttle_threshold >= 0
    error_message = "alarm_write_throttle_threshold must not be negative; got ${var.alarm_write_throttle_threshold}."
  }
}

variable "alarm_user_errors_threshold" {
  description = "Alarm when UserErrors (HTTP 400s; CloudWatch reports them per account and region) in one period exceed this."
  type        = number
  default     = 50
  nullable    = false

  validation {
    condition     = var.alarm_user_errors_threshold >= 0
    error_message = "alarm_user_errors_threshold must not be negative; got ${var.alarm_user_errors_threshold}."
  }
}

variable "alarm_system_errors_threshold" {
  description = "Alarm when SystemErrors (HTTP 500s) on the table in one period exceed this."
  type        = number
  default     = 5
  nullable    = false

  validation {
    condition     = var.alarm_system_errors_threshold >= 0
    error_message = "alarm_system_errors_threshold must not be negative; got ${var.alarm_system_errors_threshold}."
  }
}

variable "alarm_capacity_utilization_percent" {
  description = "Alarm when consumed capacity exceeds this percentage of provisioned capacity (PROVISIONED only)."
  type        = number
  default     = 80
  nullable    = false

  validation {
    condition     = var.alarm_capacity_utilization_percent > 0 && var.alarm_capacity_utilization_percent <= 100
    error_message = "alarm_capacity_utilization_percent must be greater than 0 and at most 100; got ${var.alarm_capacity_utilization_percent}."
  }
}

variable "alarm_period_seconds" {
  description = "Length of one alarm evaluation period, in seconds (a multiple of 60)."
  type        = number
  default     = 300
  nullable    = false

  validation {
    condition     = var.alarm_period_seconds >= 60 && var.alarm_period_seconds % 60 == 0
    error_message = "alarm_period_seconds must be a multiple of 60 and at least 60; got ${var.alarm_period_seconds}."
  }
}

variable "alarm_evaluation_periods" {
  description = "Consecutive periods over the threshold before an alarm fires."
  type        = number
  default     = 2
  nullable    = false

  validation {
    condition     = var.alarm_evaluation_periods >= 1
    error_message = "alarm_evaluation_periods must be at least 1; got ${var.alarm_evaluation_periods}."
  }
}

variable "alarm_sns_topic_arn" {
  description = "SNS topic every alarm notifies when it fires and when it recovers. Null (with alarms_enabled): the module creates an encrypted topic, <table>-alarms, with alarm_subscriptions."
  type        = string
  default     = null

  validation {
    condition     = var.alarm_sns_topic_arn == null || can(regex("^arn:aws[a-zA-Z-]*:sns:[a-z0-9-]+:[0-9]{12}:[A-Za-z0-9_-]{1,256}(\\.fifo)?$", var.alarm_sns_topic_arn))
    error_message = "alarm_sns_topic_arn must be an SNS topic ARN (arn:aws:sns:<region>:<account>:<topic>) or null; got \"${coalesce(var.alarm_sns_topic_arn, "null")}\"."
  }
}

variable "alarm_subscriptions" {
  description = "Who the module-created alarm topic notifies: a list of { protocol, endpoint } with protocol email (endpoint: an address) or https (endpoint: an https:// URL); an email subscription waits for its recipient to confirm. Ignored when alarm_sns_topic_arn is given."
  type = list(object({
    protocol = string
    endpoint = string
  }))
  default  = []
  nullable = false

  validation {
    condition = alltrue([for s in var.alarm_subscriptions : (
      s.protocol == "email" ? can(regex("^[^@\\s]+@[^@\\s]+\\.[^@\\s]+$", s.endpoint)) :
      s.protocol == "https" ? can(regex("^https://[^\\s/]+", s.endpoint)) : false
    )])
    error_message = "Each alarm subscription must be { protocol = \"email\", endpoint = <an email address> } or { protocol = \"https\", endpoint = <an https:// URL> }; got ${jsonencode(var.alarm_subscriptions)}."
  }
}

variable "contributor_insights_enabled" {
  description = "CloudWatch Contributor Insights for the table (most accessed and most throttled keys; billed per event)."
  type        = bool
  default     = false
  nullable    = false
}

variable "dashboard_enabled" {
  description = "Create a CloudWatch dashboard named after the table (capacity, throttles, errors, latency)."
  type        = bool
  default     = false
  nullable    = false
}

variable "tags" {
  description = "Tags for every resource of the module (merged over the provider's default_tags; Name is set to the table name)."
  type        = map(string)
  default     = {}
  nullable    = false
}

# --- restore: create the table from another table's point-in-time backup ---------------------------------------
# The provider's restore arguments. A restore creates a new table (DynamoDB never restores in place): give exactly
# one source and exactly one point in time. See "Recovery procedure" in README.md.

variable "restore_source_name" {
  description = "Create the table as a point-in-time restore of this table (same account and region). Exactly one of restore_source_name and restore_source_table_arn; null: an empty new table."
  type        = string
  default     = null

  validation {
    condition     = var.restore_source_name == null || can(regex("^[a-zA-Z0-9_.-]{3,255}$", var.restore_source_name))
    error_message = "restore_source_name must be a DynamoDB table name (3-255 characters from a-z, A-Z, 0-9, '_', '-', '.'); got \"${coalesce(var.restore_source_name, "null")}\"."
  }

  validation {
    condition     = var.restore_source_name == null || var.restore_source_table_arn == null
    error_message = "Give one restore source: restore_source_name or restore_source_table_arn, not both (got \"${coalesce(var.restore_source_name, "null")}\" and \"${coalesce(var.restore_source_table_arn, "null")}\")."
  }
}

variable "restore_source_table_arn" {
  description = "Create the table as a point-in-time restore of the table with this ARN (another account or region too). Exactly one of restore_source_name and restore_source_table_arn."
  type        = string
  default     = null

  validation {
    condition     = var.restore_source_table_arn == null || can(regex("^arn:aws[a-zA-Z-]*:dynamodb:[a-z0-9-]+:[0-9]{12}:table/[a-zA-Z0-9_.-]{3,255}$", var.restore_source_table_arn))
    error_message = "restore_source_table_arn must be a DynamoDB table ARN (arn:aws:dynamodb:<region>:<account>:table/<name>); got \"${coalesce(var.restore_source_table_arn, "null")}\"."
  }
}

variable "restore_date_time" {
  description = "The point in time to restore to (RFC 3339, e.g. 2026-12-06T21:30:00Z): within the source's point-in-time recovery window (the last pitr_recovery_period_days days, not in the future). Exactly one of restore_date_time and restore_to_latest_time with a restore source."
  type        = string
  default     = null

  validation {
    condition     = var.restore_date_time == null || can(timecmp(var.restore_date_time, "2000-01-01T00:00:00Z"))
    error_message = "restore_date_time must be an RFC 3339 time such as 2026-12-06T21:30:00Z; got \"${coalesce(var.restore_date_time, "null")}\"."
  }

  validation {
    condition = !can(timecmp(var.restore_date_time, plantimestamp())) ? true : ( # null or not a time: the rules above
      timecmp(var.restore_date_time, plantimestamp()) <= 0 &&
      timecmp(var.restore_date_time, timeadd(plantimestamp(), "-${var.pitr_recovery_period_days * 24}h")) >= 0
    )
    error_message = "restore_date_time must lie within the point-in-time recovery window: the last ${var.pitr_recovery_period_days} days (pitr_recovery_period_days) up to now (${plantimestamp()}); got \"${coalesce(var.restore_date_time, "null")}\"."
  }

  validation {
    condition     = var.restore_date_time == null || var.restore_source_name != null || var.restore_source_table_arn != null
    error_message = "restore_date_time needs a restore source: set restore_source_name or restore_source_table_arn (or remove restore_date_time for a new, empty table)."
  }
}

variable "restore_to_latest_time" {
  description = "Restore to the latest restorable time of the source (about 5 minutes ago) instead of restore_date_time."
  type        = bool
  default     = false
  nullable    = false

  validation {
    condition     = !var.restore_to_latest_time || var.restore_source_name != null || var.restore_source_table_arn != null
    error_message = "restore_to_latest_time needs a restore source: set restore_source_name or restore_source_table_arn."
  }

  validation {
    condition     = var.restore_date_time == null || !var.restore_to_latest_time
    error_message = "Give one point in time to restore to: restore_date_time or restore_to_latest_time = true, not both."
  }

  validation {
    condition     = (var.restore_source_name == null && var.restore_source_table_arn == null) || var.restore_to_latest_time || var.restore_date_time != null
    error_message = "A restore source needs a point in time: set restore_date_time (RFC 3339) or restore_to_latest_time = true."
  }
}

# --- audit logging: CloudTrail data events of this table ---------------------------------------------------------

variable "audit_logging_enabled" {
  description = "Record the table's data events (item reads and writes) with CloudTrail: a trail <table>-data-events of the module's, with an advanced event selector on this table only (billed per 100,000 events)."
  type        = bool
  default     = false
  nullable    = false
}

variable "audit_log_bucket_name" {
  description = "Existing S3 bucket the trail writes to (its policy must let CloudTrail write). Null: the module creates an encrypted, versioned, non-public bucket (<table>-audit-...)."
  type        = string
  default     = null

  validation {
    condition     = var.audit_log_bucket_name == null || (can(regex("^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$", var.audit_log_bucket_name)) && !can(regex("\\.\\.|^\\d+\\.\\d+\\.\\d+\\.\\d+$|^xn--|-s3alias$", var.audit_log_bucket_name)))
    error_message = "audit_log_bucket_name must be an S3 bucket name: 3-63 lowercase letters, digits, '.' and '-', starting and ending with a letter or digit, no '..', not an IP address; got \"${coalesce(var.audit_log_bucket_name, "null")}\"."
  }
}

variable "audit_log_retention_days" {
  description = "Days the module-created audit bucket keeps a log file before it expires."
  type        = number
  default     = 365
  nullable    = false

  validation {
    condition     = var.audit_log_retention_days >= 1 && floor(var.audit_log_retention_days) == var.audit_log_retention_days
    error_message = "audit_log_retention_days must be a whole number of at least 1; got ${var.audit_log_retention_days}."
  }
}

# ---------------------------------------------------------------------------------------------------------------------
# Growing tables (issue 31): global-table replicas, autoscaling per index with cooldowns, scheduled scaling, and a
# bulk load from S3 at creation. Resources: main.tf (dynamic "replica" and "import_table"), autoscaling.tf,
# scheduled-scaling.tf.
# ---------------------------------------------------------------------------------------------------------------------

variable "replicas" {
  description = "Global-table replicas, one per other region (the provider's replica blocks): region_name; kms_key_arn, a customer key in that region (null: DynamoDB's default key there); point_in_time_recovery (null: as pitr_enabled); propagate_tags copies the table's tags. Needs stream_enabled with NEW_AND_OLD_IMAGES; writes are then billed as replicated writes in every region."
  type = list(object({
    region_name            = string
    kms_key_arn            = optional(string)
    point_in_time_recovery = optional(bool)
    propagate_tags         = optional(bool, true)
  }))
  default  = []
  nullable = false

  validation {
    condition     = alltrue([for r in var.replicas : can(regex("^[a-z]{2}(-gov)?-[a-z]+-[0-9]$", r.region_name))])
    error_message = "Each replicas[*].region_name must be an AWS region such as us-west-2; got ${jsonencode([for r in var.replicas : r.region_name])}."
  }

  validation {
    condition     = length(distinct([for r in var.replicas : r.region_name])) == length(var.replicas)
    error_message = "replicas lists a region more than once (one replica per region); got ${jsonencode([for r in var.replicas : r.region_name])}."
  }

  validation {
    condition     = !contains([for r in var.replicas : r.region_name], data.aws_region.current.name)
    error_message = "replicas must not include the table's own region (${data.aws_region.current.name}): the table itself is the replica there; got ${jsonencode([for r in var.replicas : r.region_name])}."
  }

  validation {
    condition     = alltrue([for r in var.replicas : r.kms_key_arn == null || can(regex("^arn:aws[a-zA-Z-]*:kms:${r.region_name}:[0-9]{12}:key/.+$", r.kms_key_arn))])
    error_message = "Each replicas[*].kms_key_arn must be null or a KMS key ARN in the replica's own region (arn:aws:kms:<region_name>:<account>:key/<id>); got ${jsonencode([for r in var.replicas : { region_name = r.region_name, kms_key_arn = r.kms_key_arn } if r.kms_key_arn != null])}."
  }

  validation {
    condition     = length(var.replicas) == 0 || (var.stream_enabled && var.stream_view_type == "NEW_AND_OLD_IMAGES")
    error_message = "replicas need the table's stream on with NEW_AND_OLD_IMAGES (global tables replicate through it); got stream_enabled = ${var.stream_enabled}, stream_view_type = ${var.stream_view_type}."
  }
}

variable "autoscaling_scale_in_cooldown" {
  description = "Seconds after a scale-in before the autoscaler may scale in again (table, and each GSI without its own setting; null: Application Auto Scaling's default)."
  type        = number
  default     = null

  validation {
    condition     = var.autoscaling_scale_in_cooldown == null || try(var.autoscaling_scale_in_cooldown >= 0 && floor(var.autoscaling_scale_in_cooldown) == var.autoscaling_scale_in_cooldown, false)
    error_message = "autoscaling_scale_in_cooldown must be a whole number of seconds, 0 or more (or null); got ${coalesce(var.autoscaling_scale_in_cooldown, "null")}."
  }
}

variable "autoscaling_scale_out_cooldown" {
  description = "Seconds after a scale-out before the autoscaler may scale out again (table, and each GSI without its own setting; null: Application Auto Scaling's default)."
  type        = number
  default     = null

  validation {
    condition     = var.autoscaling_scale_out_cooldown == null || try(var.autoscaling_scale_out_cooldown >= 0 && floor(var.autoscaling_scale_out_cooldown) == var.autoscaling_scale_out_cooldown, false)
    error_message = "autoscaling_scale_out_cooldown must be a whole number of seconds, 0 or more (or null); got ${coalesce(var.autoscaling_scale_out_cooldown, "null")}."
  }
}

variable "autoscaling_disable_scale_in" {
  description = "Let the autoscaler only scale out, never in (table, and each GSI without its own setting)."
  type        = bool
  default     = false
  nullable    = false
}

variable "autoscaling_indexes" {
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
  default  = {}
  nullable = false

  validation {
    condition     = alltrue([for name in keys(var.autoscaling_indexes) : contains([for i in var.global_secondary_indexes : i.name], name)])
    error_message = "autoscaling_indexes keys must be names of global_secondary_indexes (${jsonencode([for i in var.global_secondary_indexes : i.name])}); got ${jsonencode(keys(var.autoscaling_indexes))}."
  }

  validation {
    condition = alltrue([for name, s in var.autoscaling_indexes :
      coalesce(s.read_min, var.autoscaling_read_min) <= coalesce(s.read_max, var.autoscaling_read_max) &&
      coalesce(s.write_min, var.autoscaling_write_min) <= coalesce(s.write_max, var.autoscaling_write_max) &&
      alltrue([for v in [s.read_min, s.read_max, s.write_min, s.write_max] : v == null ? true : v >= 1])
    ])
    error_message = "Each autoscaling_indexes entry needs capacities of at least 1 and min <= max (a null field takes the table-level autoscaling_* value); got ${jsonencode({ for name, s in var.autoscaling_indexes : name => { read = [coalesce(s.read_min, var.autoscaling_read_min), coalesce(s.read_max, var.autoscaling_read_max)], write = [coalesce(s.write_min, var.autoscaling_write_min), coalesce(s.write_max, var.autoscaling_write_max)] } })}."
  }

  validation {
    condition = alltrue([for name, s in var.autoscaling_indexes :
      (s.target_utilization == null ? true : s.target_utilization >= 20 && s.target_utilization <= 90) &&
      alltrue([for v in [s.scale_in_cooldown, s.scale_out_cooldown] : v == null ? true : v >= 0 && floor(v) == v])
    ])
    error_message = "Each autoscaling_indexes entry's target_utilization must be 20-90 (percent) and its cooldowns whole seconds, 0 or more; got ${jsonencode({ for name, s in var.autoscaling_indexes : name => { target_utilization = s.target_utilization, scale_in_cooldown = s.scale_in_cooldown, scale_out_cooldown = s.scale_out_cooldown } })}."
  }
}

variable "autoscaling_schedules" {
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
  default  = []
  nullable = false

  validation {
    condition = alltrue([for s in var.autoscaling_schedules : can(regex(
      "^(cron\\(([^ ()]+ ){5}[^ ()]+\\)|at\\([0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\\)|rate\\([1-9][0-9]* (minute|minutes|hour|hours|day|days)\\))$",
    s.schedule))])
    error_message = "Each autoscaling_schedules[*].schedule must be cron(<6 fields>), at(yyyy-mm-ddThh:mm:ss) or rate(<n> minute(s)|hour(s)|day(s)); got ${jsonencode([for s in var.autoscaling_schedules : s.schedule])}."
  }

  validation {
    condition = alltrue([for s in var.autoscaling_schedules :
      (s.min_capacity != null || s.max_capacity != null) &&
      alltrue([for v in [s.min_capacity, s.max_capacity] : v == null ? true : v >= 1 && floor(v) == v]) &&
      (s.min_capacity == null || s.max_capacity == null ? true : s.min_capacity <= s.max_capacity)
    ])
    error_message = "Each autoscaling_schedules entry sets min_capacity and/or max_capacity, whole numbers of at least 1, with min_capacity <= max_capacity; got ${jsonencode([for s in var.autoscaling_schedules : { name = s.name, min_capacity = s.min_capacity, max_capacity = s.max_capacity }])}."
  }

  validation {
    condition = alltrue([for s in var.autoscaling_schedules :
      contains(["read", "write"], s.dimension) &&
      contains(concat(["table"], [for i in var.global_secondary_indexes : "index/${i.name}"]), s.target)
    ])
    error_message = "Each autoscaling_schedules entry's dimension must be read or write and its target \"table\" or \"index/<name of a global_secondary_indexes entry>\"; got ${jsonencode([for s in var.autoscaling_schedules : { name = s.name, target = s.target, dimension = s.dimension }])}."
  }

  validation {
    condition     = length(distinct([for s in var.autoscaling_schedules : s.name])) == length(var.autoscaling_schedules) && alltrue([for s in var.autoscaling_schedules : can(regex("^[a-zA-Z0-9_-]{1,64}$", s.name))])
    error_message = "autoscaling_schedules names must be unique, 1-64 letters, digits, _ or -; got ${jsonencode([for s in var.autoscaling_schedules : s.name])}."
  }

  validation {
    condition     = length(var.autoscaling_schedules) == 0 || (var.billing_mode == "PROVISIONED" && var.autoscaling_enabled)
    error_message = "autoscaling_schedules act on autoscaling targets: they need billing_mode = \"PROVISIONED\" and autoscaling_enabled = true; got ${var.billing_mode}, autoscaling_enabled = ${var.autoscaling_enabled}."
  }
}

variable "import_table" {
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

  validation {
    condition     = var.import_table == null || try(contains(["CSV", "DYNAMODB_JSON", "ION"], var.import_table.input_format) && contains(["GZIP", "ZSTD", "NONE"], var.import_table.input_compression_type), false)
    error_message = "import_table.input_format must be CSV, DYNAMODB_JSON or ION and input_compression_type GZIP, ZSTD or NONE; got ${jsonencode(var.import_table == null ? null : { input_format = var.import_table.input_format, input_compression_type = var.import_table.input_compression_type })}."
  }

  validation {
    condition     = var.import_table == null || try((var.import_table.input_format == "CSV") == (var.import_table.csv != null), false)
    error_message = "import_table.csv (delimiter, header_list) is required when input_format is CSV and allowed only then; got input_format = ${jsonencode(try(var.import_table.input_format, null))}, csv = ${jsonencode(try(var.import_table.csv, null))}."
  }

  validation {
    condition     = var.import_table == null || try(can(regex("^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$", var.import_table.bucket)) && (var.import_table.csv == null ? true : length(var.import_table.csv.delimiter) == 1), false)
    error_message = "import_table.bucket must be an S3 bucket name and import_table.csv.delimiter a single character; got bucket = ${jsonencode(try(var.import_table.bucket, null))}, delimiter = ${jsonencode(try(var.import_table.csv.delimiter, null))}."
  }
}
