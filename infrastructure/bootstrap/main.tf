# The S3 bucket the environments' S3 backends keep their state (and lock objects) in.
# Versioned (every earlier state recoverable), encrypted at rest, never public, reachable only over TLS.
# Superseded versions are kept (state objects are small); add a lifecycle rule to expire them if you wish.

resource "aws_s3_bucket" "state" {
  #checkov:skip=CKV_AWS_18:Access logging needs a second bucket per account; CloudTrail data events audit state access instead.
  #checkov:skip=CKV2_AWS_62:Nothing consumes events of state writes; Terraform's lock object serialises the writers.
  #checkov:skip=CKV2_AWS_61:Superseded state versions are kept on purpose (small, the recovery path); add a rule to expire them.
  #checkov:skip=CKV_AWS_144:Cross-region replication is an account decision (a second region, a second bucket); versioning covers recovery.
  #checkov:skip=CKV_AWS_145:SSE-S3 (AES256) keeps the state readable without a KMS key policy; use aws:kms where policy requires it.
  bucket        = var.bucket_name
  force_destroy = var.force_destroy
  tags          = var.tags
}

resource "aws_s3_bucket_versioning" "state" {
  bucket = aws_s3_bucket.state.id

  versioning_configuration {
    status = "Enabled"
  }
}

resource "aws_s3_bucket_server_side_encryption_configuration" "state" {
  bucket = aws_s3_bucket.state.id

  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm = "AES256"
    }
    bucket_key_enabled = true
  }
}

resource "aws_s3_bucket_public_access_block" "state" {
  bucket = aws_s3_bucket.state.id

  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

resource "aws_s3_bucket_ownership_controls" "state" {
  bucket = aws_s3_bucket.state.id

  rule {
    object_ownership = "BucketOwnerEnforced"
  }
}

data "aws_iam_policy_document" "tls_only" {
  count = var.require_tls ? 1 : 0

  statement {
    sid     = "DenyInsecureTransport"
    effect  = "Deny"
    actions = ["s3:*"]
    resources = [
      aws_s3_bucket.state.arn,
      "${aws_s3_bucket.state.arn}/*",
    ]

    principals {
      type        = "*"
      identifiers = ["*"]
    }

    condition {
      test     = "Bool"
      variable = "aws:SecureTransport"
      values   = ["false"]
    }
  }
}

resource "aws_s3_bucket_policy" "tls_only" {
  count = var.require_tls ? 1 : 0

  bucket = aws_s3_bucket.state.id
  policy = data.aws_iam_policy_document.tls_only[0].json

  # A bucket policy is refused while the public access block is being created.
  depends_on = [aws_s3_bucket_public_access_block.state]
}
