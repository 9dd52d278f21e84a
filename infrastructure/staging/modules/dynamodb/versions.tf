terraform {
  required_version = ">= 1.9.0" # validation rules that refer to other inputs (restore_*, replicas, autoscaling_*)

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = "~> 5.100"
    }
  }
}
