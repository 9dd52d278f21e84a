# Where the alarms go: the topic given in alarm_sns_topic_arn, or (alarms on, no topic given) an SNS topic this
# module creates, encrypted with a customer managed KMS key of its own. CloudWatch can publish to an encrypted topic
# only with a key whose policy lets it use the key (the AWS managed aws/sns key does not), so the module's key allows
# cloudwatch.amazonaws.com, and the topic's policy lets CloudWatch alarms of this account publish. Subscriptions
# (email, HTTPS) are an input; an email subscription stays "pending confirmation" until its recipient confirms.

locals {
  create_alarm_topic = var.alarms_enabled && var.alarm_sns_topic_arn == null
  alarm_topic_arn    = var.alarm_sns_topic_arn != null ? var.alarm_sns_topic_arn : one(aws_sns_topic.alarms[*].arn)
  alarm_topic_name   = "${replace(var.table_name, ".", "-")}-alarms"
}

data "aws_caller_identity" "alarms" {
  count = local.create_alarm_topic ? 1 : 0
}

resource "aws_kms_key" "alarms" {
  count = local.create_alarm_topic ? 1 : 0

  description             = "Encryption of the SNS topic ${local.alarm_topic_name} (CloudWatch alarms of ${var.table_name})"
  enable_key_rotation     = true
  deletion_window_in_days = var.kms_key_deletion_window_days
  policy = templatefile("${path.module}/policies/alarm-topic-key.json.tftpl", {
    account_root_arn = "arn:${data.aws_partition.current.partition}:iam::${data.aws_caller_identity.alarms[0].account_id}:root"
    account_id       = data.aws_caller_identity.alarms[0].account_id
  })

  tags = local.tags
}

resource "aws_sns_topic" "alarms" {
  count = local.create_alarm_topic ? 1 : 0

  name              = local.alarm_topic_name
  kms_master_key_id = aws_kms_key.alarms[0].arn

  tags = local.tags
}

resource "aws_sns_topic_policy" "alarms" {
  count = local.create_alarm_topic ? 1 : 0

  arn = aws_sns_topic.alarms[0].arn
  policy = templatefile("${path.module}/policies/alarm-topic.json.tftpl", {
    topic_arn        = aws_sns_topic.alarms[0].arn
    account_root_arn = "arn:${data.aws_partition.current.partition}:iam::${data.aws_caller_identity.alarms[0].account_id}:root"
    account_id       = data.aws_caller_identity.alarms[0].account_id
  })
}

resource "aws_sns_topic_subscription" "alarms" {
  for_each = local.create_alarm_topic ? { for s in var.alarm_subscriptions : "${s.protocol}:${s.endpoint}" => s } : {}

  topic_arn = aws_sns_topic.alarms[0].arn
  protocol  = each.value.protocol
  endpoint  = each.value.endpoint
}
