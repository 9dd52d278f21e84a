terraform {
  required_version = ">= 1.10.0" # the S3 backend's use_lockfile needs 1.10

  # State lives in S3, one key per environment, locked with a lock object (use_lockfile).
  # Partial configuration: `terraform init -backend-config=backend.hcl` (copy backend.hcl.example).
  backend "s3" {}

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = ">= 5.70, < 7.0"
    }
  }
}
