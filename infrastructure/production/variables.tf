# Root inputs of the production environment. Names with the dynamodb_ prefix are the seed's (configuration guide);
# defaults are production's settings, so terraform.tfvars only needs what differs.

variable "aws_region" {
  description = "AWS region of every resource."
  type        = string
  default     = "us-east-1"

  validation {
    condition     = can(regex("^[a-z]{2}(-[a-z]+)+-[0-9]$", var.aws_region))
    error_message = "aws_region must be a region name such as us-east-1."
  }
}

variable "ami_id" {
  description = "AMI of the application's EC2 instance."
  type        = string

  validation {
    condition     = can(regex("^ami-[0-9a-zA-Z]+$", var.ami_id))
    error_message = "ami_id must look like ami-0123456789abcdef0."
  }
}

variable "key_name" {
  description = "Name of the EC2 key pair for SSH access to the application instance."
  type        = string

  validation {
    condition     = length(var.key_name) >= 1 && length(var.key_name) <= 255
    error_message = "key_name must be 1-255 characters."
  }
}

variable "instance_type" {
  description = "EC2 instance type of the application instance."
  type        = string
  default     = "t3.micro"

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]*\\.[a-z0-9]+$", var.instance_type))
    error_message = "instance_type must look like t3.micro."
  }
}

variable "instance_detailed_monitoring" {
  description = "1-minute CloudWatch metrics for the application instance (billed; basic monitoring is 5-minute)."
  type        = bool
  default     = true
}

variable "subnet_id" {
  description = "Subnet of the application instance (null: the default VPC's default subnet)."
  type        = string
  default     = null
}

variable "vpc_security_group_ids" {
  description = "Security groups of the application instance (empty: the VPC's default security group)."
  type        = list(string)
  default     = []
}

variable "root_volume_size" {
  description = "Size of the application instance's encrypted root volume, in GiB (at least the AMI's snapshot size)."
  type        = number
  default     = 20

  validation {
    condition     = var.root_volume_size >= 8 && var.root_volume_size <= 16384
    error_message = "root_volume_size must be between 8 and 16384 GiB."
  }
}

variable "common_tags" {
  description = "Tags on every resource (the provider's default_tags): project, environment, owner, cost center."
  type        = map(string)
  default = {
    Project     = "Twitter Backend"
    Environment = "production"
    ManagedBy   = "Terraform"
    CostCenter  = "Engineering"
  }
}

variable "dynamodb_notifications_table_name" {
  description = "Name of the user-notifications DynamoDB table."
  type        = string
  default     = "production-user-notifications"

  validation {
    condition     = can(regex("^[a-zA-Z0-9_.-]{3,255}$", var.dynamodb_notifications_table_name))
    error_message = "dynamodb_notifications_table_name must be 3-255 characters from a-z, A-Z, 0-9, '_', '-' and '.'."
  }
}

variable "dynamodb_billing_mode" {
  description = "PAY_PER_REQUEST (on-demand) or PROVISIONED."
  type        = string
  default     = "PAY_PER_REQUEST"

  validation {
    condition     = contains(["PAY_PER_REQUEST", "PROVISIONED"], var.dynamodb_billing_mode)
    error_message = "dynamodb_billing_mode must be PAY_PER_REQUEST or PROVISIONED."
  }
}

variable "dynamodb_read_capacity" {
  description = "Read capacity units (PROVISIONED only; the starting value when autoscaling)."
  type        = number
  default     = 5

  validation {
    condition     = var.dynamodb_read_capacity >= 1
    error_message = "dynamodb_read_capacity must be at least 1."
  }
}

variable "dynamodb_write_capacity" {
  description = "Write capacity units (PROVISIONED only; the starting value when autoscaling)."
  type        = number
  default     = 5

  validation {
    condition     = var.dynamodb_write_capacity >= 1
    error_message = "dynamodb_write_capacity must be at least 1."
  }
}

variable "dynamodb_autoscaling_enabled" {
  description = "Target-tracking autoscaling of the table and its GSIs (PROVISIONED only)."
  type        = bool
  default     = false
}

variable "dynamodb_autoscaling_read_min" {
  description = "Minimum read capacity under autoscaling."
  type        = number
  default     = 5

  validation {
    condition     = var.dynamodb_autoscaling_read_min >= 1
    error_message = "dynamodb_autoscaling_read_min must be at least 1."
  }
}

variable "dynamodb_autoscaling_read_max" {
  description = "Maximum read capacity under autoscaling."
  type        = number
  default     = 100

  validation {
    condition     = var.dynamodb_autoscaling_read_max >= 1
    error_message = "dynamodb_autoscaling_read_max must be at least 1."
  }
}

variable "dynamodb_autoscaling_write_min" {
  description = "Minimum write capacity under autoscaling."
  type        = number
  default     = 5

  validation {
    condition     = var.dynamodb_autoscaling_write_min >= 1
    error_message = "dynamodb_autoscaling_write_min must be at least 1."
  }
}

variable "dynamodb_autoscaling_write_max" {
  description = "Maximum write capacity under autoscaling."
  type        = number
  default     = 100

  validation {
    condition     = var.dynamodb_autoscaling_write_max >= 1
    error_message = "dynamodb_autoscaling_write_max must be at least 1."
  }
}

variable "dynamodb_autoscaling_target_utilization" {
  description = "Target utilisation of provisioned capacity, in percent (20-90)."
  type        = number
  default     = 70

  validation {
    condition     = var.dynamodb_autoscaling_target_utilization >= 20 && var.dynamodb_autoscaling_target_utilization <= 90
    error_message = "dynamodb_autoscaling_target_utilization must be between 20 and 90."
  }
}

variable "dynamodb_additional_attributes" {
  description = "Attribute definitions beyond user_id and notification_id (the keys of any GSI or LSI)."
  type = list(object({
    name = string
    type = string
  }))
  default = []
}

variable "dynamodb_global_secondary_indexes" {
  description = "Global secondary indexes (see the module's global_secondary_indexes)."
  type = list(object({
    name               = string
    hash_key           = string
    range_key          = optional(string)
    projection_type    = optional(string, "ALL")
    non_key_attributes = optional(list(string), [])
    read_capacity      = optional(number)
    write_capacity     = optional(number)
  }))
  default = []
}

variable "dynamodb_local_secondary_indexes" {
  description = "Local secondary indexes (only at table creation; see the module's local_secondary_indexes)."
  type = list(object({
    name               = string
    range_key          = string
    projection_type    = optional(string, "ALL")
    non_key_attributes = optional(list(string), [])
  }))
  default = []
}

variable "dynamodb_stream_enabled" {
  description = "Enable DynamoDB Streams."
  type        = bool
  default     = true
}

variable "dynamodb_stream_view_type" {
  description = "Stream record contents: KEYS_ONLY, NEW_IMAGE, OLD_IMAGE or NEW_AND_OLD_IMAGES."
  type        = string
  default     = "NEW_AND_OLD_IMAGES"

  validation {
    condition     = contains(["KEYS_ONLY", "NEW_IMAGE", "OLD_IMAGE", "NEW_AND_OLD_IMAGES"], var.dynamodb_stream_view_type)
    error_message = "dynamodb_stream_view_type must be KEYS_ONLY, NEW_IMAGE, OLD_IMAGE or NEW_AND_OLD_IMAGES."
  }
}

variable "dynamodb_pitr_enabled" {
  description = "Point-in-time recovery (continuous backups); recommended for production."
  type        = bool
  default     = true
}

variable "dynamodb_pitr_recovery_period_days" {
  description = "Days point-in-time recovery reaches back (1-35)."
  type        = number
  default     = 35

  validation {
    condition     = var.dynamodb_pitr_recovery_period_days >= 1 && var.dynamodb_pitr_recovery_period_days <= 35
    error_message = "dynamodb_pitr_recovery_period_days must be from 1 to 35."
  }
}

variable "dynamodb_prevent_destroy" {
  description = "Block deletion of the table (sets deletion protection, which Terraform, the console and the CLI respect)."
  type        = bool
  default     = true
}

variable "dynamodb_ttl_enabled" {
  description = "Time to live: expired items are deleted automatically."
  type        = bool
  default     = true
}

variable "dynamodb_ttl_attribute_name" {
  description = "Name of the TTL attribute (epoch seconds)."
  type        = string
  default     = "ttl"

  validation {
    condition     = can(regex("^[^\\s]{1,255}$", var.dynamodb_ttl_attribute_name))
    error_message = "dynamodb_ttl_attribute_name must be 1-255 characters without spaces."
  }
}

variable "dynamodb_encryption_type" {
  description = "Encryption at rest: AWS_OWNED, AWS_MANAGED or CUSTOMER_MANAGED."
  type        = string
  default     = "AWS_OWNED"

  validation {
    condition     = contains(["AWS_OWNED", "AWS_MANAGED", "CUSTOMER_MANAGED"], var.dynamodb_encryption_type)
    error_message = "dynamodb_encryption_type must be AWS_OWNED, AWS_MANAGED or CUSTOMER_MANAGED."
  }
}

variable "dynamodb_kms_key_arn" {
  description = "Customer managed KMS key ARN (CUSTOMER_MANAGED only; null: the module creates one with rotation)."
  type        = string
  default     = null
}

variable "dynamodb_table_class" {
  description = "STANDARD or STANDARD_INFREQUENT_ACCESS."
  type        = string
  default     = "STANDARD"

  validation {
    condition     = contains(["STANDARD", "STANDARD_INFREQUENT_ACCESS"], var.dynamodb_table_class)
    error_message = "dynamodb_table_class must be STANDARD or STANDARD_INFREQUENT_ACCESS."
  }
}

variable "dynamodb_enable_alarms" {
  description = "CloudWatch alarms on throttles, errors and (PROVISIONED) consumed capacity."
  type        = bool
  default     = true
}

variable "dynamodb_alarm_sns_topic_arn" {
  description = "SNS topic for alarm and recovery notifications (null: none)."
  type        = string
  default     = null
}

variable "dynamodb_contributor_insights_enabled" {
  description = "CloudWatch Contributor Insights on the table (billed per event)."
  type        = bool
  default     = false
}

variable "dynamodb_dashboard_enabled" {
  description = "CloudWatch dashboard named after the table."
  type        = bool
  default     = false
}

variable "dynamodb_tags" {
  description = "Extra tags for the DynamoDB module's resources (on top of common_tags)."
  type        = map(string)
  default     = {}
}

variable "dynamodb_vpc_endpoint_enabled" {
  description = "Create a gateway VPC endpoint for DynamoDB (needs vpc_id and vpc_route_table_ids)."
  type        = bool
  default     = false
}

variable "vpc_id" {
  description = "VPC of the DynamoDB gateway endpoint (with dynamodb_vpc_endpoint_enabled)."
  type        = string
  default     = null
}

variable "vpc_route_table_ids" {
  description = "Route tables that get the DynamoDB gateway endpoint's route (with dynamodb_vpc_endpoint_enabled)."
  type        = list(string)
  default     = []
}
