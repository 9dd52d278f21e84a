# The application's resources moved from the root into module "app": existing states follow without a plan change.

moved {
  from = aws_iam_role.app
  to   = module.app.aws_iam_role.app
}

moved {
  from = aws_iam_role_policy_attachment.app_dynamodb
  to   = module.app.aws_iam_role_policy_attachment.app_dynamodb
}

moved {
  from = aws_iam_instance_profile.app
  to   = module.app.aws_iam_instance_profile.app
}

moved {
  from = aws_instance.app
  to   = module.app.aws_instance.app
}

moved {
  from = aws_vpc_endpoint.dynamodb
  to   = module.app.aws_vpc_endpoint.dynamodb
}
