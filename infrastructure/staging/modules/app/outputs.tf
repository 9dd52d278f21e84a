output "role_name" {
  description = "IAM role of the application instance (attach further policies here)."
  value       = aws_iam_role.app.name
}

output "role_arn" {
  description = "ARN of the application instance's IAM role (the table's resource policy names it)."
  value       = aws_iam_role.app.arn
}

output "instance_id" {
  description = "ID of the application's EC2 instance."
  value       = aws_instance.app.id
}

output "instance_profile_name" {
  description = "Instance profile of the application instance."
  value       = aws_iam_instance_profile.app.name
}

output "vpc_endpoint_id" {
  description = "ID of the DynamoDB gateway VPC endpoint (null when disabled)."
  value       = one(aws_vpc_endpoint.dynamodb[*].id)
}
