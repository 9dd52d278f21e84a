terraform {
  required_version = ">= 1.9.0" # validation rules that refer to other inputs (replicas, autoscaling_*) need 1.9

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = ">= 5.70, < 7.0"
    }
  }
}
