terraform {
  # Local state on purpose: this configuration creates the bucket the other roots keep their state in.
  # Run once per account (see docs/team.md); keep its terraform.tfstate safe or re-import the bucket later.
  required_version = ">= 1.10.0"

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = "~> 5.100"
    }
  }
}

provider "aws" {
  region = var.region
}
