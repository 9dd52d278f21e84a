output "bucket" {
  description = "The state bucket's name: the `bucket` of every environment's backend.hcl."
  value       = aws_s3_bucket.state.id
}

output "bucket_arn" {
  description = "The state bucket's ARN (for the IAM policy of whoever runs Terraform: CI's role, engineers)."
  value       = aws_s3_bucket.state.arn
}

output "region" {
  description = "The state bucket's region: the `region` of every environment's backend.hcl."
  value       = var.region
}
