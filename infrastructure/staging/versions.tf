terraform {
  required_version = ">= 1.10.0" # the S3 backend's use_lockfile (team state, backend.tf.example) needs 1.10

  # No backend block: the guide's Quick Start (`terraform init`, `plan`, `apply` here) keeps local state in
  # terraform.tfstate. Team state in S3 with locking is one step away: copy backend.tf.example to backend.tf and
  # backend.hcl.example to backend.hcl, then `terraform init -backend-config=backend.hcl -migrate-state`.
  # The runbooks always use the S3 backend (they write their own backend override in their work directory).

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = "~> 5.100" # 5.100.x, the last 5.x; .terraform.lock.hcl holds every platform's checksums
    }
  }
}
