variable "bucket_name" {
  description = "Name of the S3 bucket that holds the Terraform state of every environment (globally unique)."
  type        = string

  validation {
    condition     = can(regex("^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$", var.bucket_name))
    error_message = "bucket_name must be a valid S3 bucket name: 3-63 lowercase letters, digits, dots and hyphens."
  }
}

variable "region" {
  description = "AWS region of the state bucket (the backend.hcl files name the same region)."
  type        = string
  default     = "us-east-1"
}

variable "require_tls" {
  description = "Deny every request that does not use TLS (bucket policy on aws:SecureTransport). Only an emulator served over plain HTTP needs false."
  type        = bool
  default     = true
}

variable "force_destroy" {
  description = "Allow `terraform destroy` to delete the bucket with the state objects in it. Keep false outside throwaway accounts."
  type        = bool
  default     = false
}

variable "tags" {
  description = "Tags for the bucket."
  type        = map(string)
  default = {
    Purpose   = "terraform-state"
    ManagedBy = "terraform"
  }
}
