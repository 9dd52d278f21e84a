# Inputs of the application module: described, defaulted and validated here only (the roots pass them through).
# Inputs with a default are `nullable = false`: a root variable left at null gets the default written here.

variable "environment" {
  description = "Environment name (staging or production); prefixes the role, profile and instance names."
  type        = string
  nullable    = false

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{1,30}$", var.environment))
    error_message = "environment must be 2-31 lowercase letters, digits or hyphens, starting with a letter; got \"${var.environment}\"."
  }
}

variable "ami_id" {
  description = "AMI of the application's EC2 instance: ami- and 8 or 17 lowercase hex digits (the example's ami-xxxxx is a placeholder)."
  type        = string
  nullable    = false

  validation {
    condition     = can(regex("^ami-[0-9a-f]{8}([0-9a-f]{9})?$", var.ami_id))
    error_message = "ami_id must be an AMI ID: ami- and 8 or 17 lowercase hex digits, e.g. ami-0123456789abcdef0 (set your image's; ami-xxxxx is the example's placeholder); got \"${var.ami_id}\"."
  }
}

variable "key_name" {
  description = "Name of an existing EC2 key pair for SSH access to the application instance: 1-255 printable ASCII characters (the example's your-key-pair is a placeholder)."
  type        = string
  nullable    = false

  validation {
    condition     = can(regex("^[ -~]{1,255}$", var.key_name)) && trimspace(var.key_name) == var.key_name
    error_message = "key_name must be an EC2 key pair name: 1-255 printable ASCII characters, no leading or trailing space; got \"${var.key_name}\"."
  }

  validation {
    condition     = var.key_name != "your-key-pair"
    error_message = "key_name is still the example's placeholder \"your-key-pair\": set the name of your EC2 key pair (aws ec2 describe-key-pairs)."
  }
}

variable "instance_type" {
  description = "EC2 instance type of the application instance."
  type        = string
  default     = "t3.micro"
  nullable    = false

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]*\\.[a-z0-9]+$", var.instance_type))
    error_message = "instance_type must look like t3.micro; got \"${var.instance_type}\"."
  }
}

variable "detailed_monitoring" {
  description = "1-minute CloudWatch metrics for the application instance (billed; basic monitoring is 5-minute)."
  type        = bool
  default     = false
  nullable    = false
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
  nullable    = false
}

variable "root_volume_size" {
  description = "Size of the application instance's encrypted root volume, in GiB (at least the AMI's snapshot size)."
  type        = number
  default     = 20
  nullable    = false

  validation {
    condition     = var.root_volume_size >= 8 && var.root_volume_size <= 16384
    error_message = "root_volume_size must be between 8 and 16384 GiB; got ${var.root_volume_size}."
  }
}

variable "dynamodb_access_policy_arn" {
  description = "ARN of the table's full-access policy, attached to the instance role (module.dynamodb.dynamodb_access_policy_arn)."
  type        = string
  nullable    = false
}

variable "vpc_endpoint_enabled" {
  description = "Create a gateway VPC endpoint for DynamoDB (needs vpc_id and vpc_route_table_ids)."
  type        = bool
  default     = false
  nullable    = false
}

variable "vpc_id" {
  description = "VPC of the DynamoDB gateway endpoint (with vpc_endpoint_enabled)."
  type        = string
  default     = null
}

variable "vpc_route_table_ids" {
  description = "Route tables that get the DynamoDB gateway endpoint's route (with vpc_endpoint_enabled)."
  type        = list(string)
  default     = []
  nullable    = false
}
