# Audit logging (the configuration guide's "Audit Logging"): CloudTrail data events of exactly this table (item
# reads and writes: GetItem, PutItem, Query, ...; control-plane calls are in every account's management events).
# A trail of the module's own carries them: an advanced event selector on AWS::DynamoDB::Table and the table's
# ARN. A trail's event selectors belong to that trail's configuration (PutEventSelectors replaces all of them), so
# the module never edits a trail it does not own; the logs go to a given bucket or to one it creates: encrypted
# with a KMS key of its own (the trail's log files too), versioned, public access blocked, TLS only.

locals {
  audit_trail_name    = "${replace(var.table_name, ".", "-")}-data-events"
  create_audit_bucket = var.audit_logging_enabled && var.audit_log_bucket_name == null
  audit_bucket_name   = var.audit_log_bucket_name != null ? var.audit_log_bucket_name : one(aws_s3_bucket.audit[*].id)
  # Known before the trail exists (the bucket policy and the key policy name it).
  audit_trail_arn = var.audit_logging_enabled ? "arn:${data.aws_partition.current.partition}:cloudtrail:${data.aws_region.current.name}:${data.aws_caller_identity.audit[0].account_id}:trail/${local.audit_trail_name}" : null
}

data "aws_caller_identity" "audit" {
  count = var.audit_logging_enabled ? 1 : 0
}

resource "aws_kms_key" "audit" {
  count = var.audit_logging_enabled ? 1 : 0

  description             = "Encryption of the CloudTrail data events of ${var.table_name} (trail ${local.audit_trail_name})"
  enable_key_rotation     = true
  deletion_window_in_days = var.kms_key_deletion_window_days
  policy = templatefile("${path.module}/policies/audit-key.json.tftpl", {
    account_root_arn = "arn:${data.aws_partition.current.partition}:iam::${data.aws_caller_identity.audit[0].account_id}:root"
    account_id       = data.aws_caller_identity.audit[0].account_id
    trail_arn        = local.audit_trail_arn
  })

  tags = local.tags
}

resource "aws_s3_bucket" "audit" {
  #checkov:skip=CKV_AWS_18:Access logging of the audit bucket needs another bucket; the trail's log file validation proves integrity.
  #checkov:skip=CKV2_AWS_62:Nothing consumes events of new log files; readers query the bucket (or Athena).
  #checkov:skip=CKV_AWS_144:Cross-region replication is an account decision (a second region, a second bucket).
  count = local.create_audit_bucket ? 1 : 0

  bucket_prefix = "${substr(lower(replace(var.table_name, "/[^a-zA-Z0-9-]/", "-")), 0, 28)}-audit-"
  force_destroy = false

  tags = local.tags
}

resource "aws_s3_bucket_public_access_block" "audit" {
  count = local.create_audit_bucket ? 1 : 0

  bucket                  = aws_s3_bucket.audit[0].id
  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

resource "aws_s3_bucket_ownership_controls" "audit" {
  count = local.create_audit_bucket ? 1 : 0

  bucket = aws_s3_bucket.audit[0].id
  rule {
    object_ownership = "BucketOwnerEnforced"
  }
}

resource "aws_s3_bucket_versioning" "audit" {
  count = local.create_audit_bucket ? 1 : 0

  bucket = aws_s3_bucket.audit[0].id
  versioning_configuration {
    status = "Enabled"
  }
}

resource "aws_s3_bucket_server_side_encryption_configuration" "audit" {
  count = local.create_audit_bucket ? 1 : 0

  bucket = aws_s3_bucket.audit[0].id
  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm     = "aws:kms"
      kms_master_key_id = aws_kms_key.audit[0].arn
    }
    bucket_key_enabled = true
  }
}

resource "aws_s3_bucket_lifecycle_configuration" "audit" {
  count = local.create_audit_bucket ? 1 : 0

  bucket = aws_s3_bucket.audit[0].id
  rule {
    id     = "expire-audit-logs"
    status = "Enabled"
    filter {}
    expiration {
      days = var.audit_log_retention_days
    }
    noncurrent_version_expiration {
      noncurrent_days = 30
    }
    abort_incomplete_multipart_upload {
      days_after_initiation = 7
    }
  }
}

resource "aws_s3_bucket_policy" "audit" {
  count = local.create_audit_bucket ? 1 : 0

  bucket = aws_s3_bucket.audit[0].id
  policy = templatefile("${path.module}/policies/audit-bucket.json.tftpl", {
    bucket_arn = aws_s3_bucket.audit[0].arn
    account_id = data.aws_caller_identity.audit[0].account_id
    trail_arn  = local.audit_trail_arn
  })

  depends_on = [aws_s3_bucket_public_access_block.audit]
}

resource "aws_cloudtrail" "audit" {
  #checkov:skip=CKV_AWS_67:The trail records one table's data events in the table's region; account-wide trails are the account's.
  #checkov:skip=CKV_AWS_252:Nothing subscribes to log file deliveries; the alarms topic is for alarms.
  #checkov:skip=CKV2_AWS_10:The log files in S3 are the record; CloudWatch Logs delivery is an account decision (a log group, a role).
  count = var.audit_logging_enabled ? 1 : 0

  name                          = local.audit_trail_name
  s3_bucket_name                = local.audit_bucket_name
  kms_key_id                    = aws_kms_key.audit[0].arn
  enable_log_file_validation    = true
  include_global_service_events = false
  is_multi_region_trail         = false

  advanced_event_selector {
    name = "DynamoDB data events of ${var.table_name}"

    field_selector {
      field  = "eventCategory"
      equals = ["Data"]
    }
    field_selector {
      field  = "resources.type"
      equals = ["AWS::DynamoDB::Table"]
    }
    field_selector {
      field  = "resources.ARN"
      equals = [aws_dynamodb_table.notifications.arn]
    }
  }

  tags = local.tags

  depends_on = [aws_s3_bucket_policy.audit]
}
