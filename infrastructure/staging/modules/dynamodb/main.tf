# The user-notifications table. One resource, one address in every mode
# (module.dynamodb.aws_dynamodb_table.notifications), so the seed's `terraform import` works as written.

locals {
  provisioned = var.billing_mode == "PROVISIONED"
  autoscaling = local.provisioned && var.autoscaling_enabled

  tags = merge(var.tags, { Name = var.table_name })

  key_attributes = concat(
    [{ name = var.hash_key, type = var.hash_key_type }],
    var.range_key == null ? [] : [{ name = var.range_key, type = var.range_key_type }],
  )
  attributes = concat(local.key_attributes, var.additional_attributes)

  # Keys every index needs declared as attributes (checked by a precondition on the table).
  index_key_names = distinct(compact(concat(
    [for i in var.global_secondary_indexes : i.hash_key],
    [for i in var.global_secondary_indexes : i.range_key == null ? "" : i.range_key],
    [for i in var.local_secondary_indexes : i.range_key],
  )))

  # The on-demand throughput ceiling applies to PAY_PER_REQUEST tables only; null fields mean no ceiling.
  on_demand_throughput = !local.provisioned && var.on_demand_throughput != null ? (
    var.on_demand_throughput.max_read_request_units != null || var.on_demand_throughput.max_write_request_units != null
  ) : false

  create_kms_key = var.encryption_type == "CUSTOMER_MANAGED" && var.kms_key_arn == null
  kms_key_arn = var.encryption_type != "CUSTOMER_MANAGED" ? null : (
    local.create_kms_key ? aws_kms_key.notifications[0].arn : var.kms_key_arn
  )
}

resource "aws_dynamodb_table" "notifications" {
  #checkov:skip=CKV_AWS_28:PITR is an input (pitr_enabled); production turns it on, the seed's staging keeps it off to save cost.
  #checkov:skip=CKV_AWS_119:Encryption is an input (encryption_type); AWS_OWNED is the free default, CUSTOMER_MANAGED is supported for compliance.
  name         = var.table_name
  billing_mode = var.billing_mode
  hash_key     = var.hash_key
  range_key    = var.range_key
  table_class  = var.table_class

  # Capacity: the configured value, or (autoscaling) the live value the autoscaler set. See autoscaling.tf.
  read_capacity  = local.provisioned ? local.table_read_capacity : null
  write_capacity = local.provisioned ? local.table_write_capacity : null

  # dynamodb_prevent_destroy lands here: lifecycle.prevent_destroy cannot take a variable, deletion protection
  # can, and it also blocks DeleteTable from the console, the CLI and SDKs.
  deletion_protection_enabled = var.deletion_protection_enabled

  # Maximum request units per second of an on-demand table (a cost and runaway-client ceiling).
  dynamic "on_demand_throughput" {
    for_each = local.on_demand_throughput ? [var.on_demand_throughput] : []
    content {
      max_read_request_units  = on_demand_throughput.value.max_read_request_units
      max_write_request_units = on_demand_throughput.value.max_write_request_units
    }
  }

  stream_enabled   = var.stream_enabled
  stream_view_type = var.stream_enabled ? var.stream_view_type : null

  # A point-in-time restore of another table (variables.tf, "Recovery procedure" in README.md); null: a new table.
  restore_source_name      = var.restore_source_name
  restore_source_table_arn = var.restore_source_table_arn
  restore_date_time        = var.restore_date_time
  restore_to_latest_time   = var.restore_to_latest_time ? true : null

  dynamic "attribute" {
    for_each = local.attributes
    content {
      name = attribute.value.name
      type = attribute.value.type
    }
  }

  dynamic "global_secondary_index" {
    for_each = var.global_secondary_indexes
    iterator = gsi
    content {
      name               = gsi.value.name
      hash_key           = gsi.value.hash_key
      range_key          = gsi.value.range_key
      projection_type    = gsi.value.projection_type
      non_key_attributes = gsi.value.projection_type == "INCLUDE" ? gsi.value.non_key_attributes : null
      read_capacity      = local.provisioned ? local.gsi_read_capacity[gsi.value.name] : null
      write_capacity     = local.provisioned ? local.gsi_write_capacity[gsi.value.name] : null

      dynamic "on_demand_throughput" {
        for_each = !local.provisioned && gsi.value.on_demand_throughput != null ? [gsi.value.on_demand_throughput] : []
        content {
          max_read_request_units  = on_demand_throughput.value.max_read_request_units
          max_write_request_units = on_demand_throughput.value.max_write_request_units
        }
      }
    }
  }

  dynamic "local_secondary_index" {
    for_each = var.local_secondary_indexes
    iterator = lsi
    content {
      name               = lsi.value.name
      range_key          = lsi.value.range_key
      projection_type    = lsi.value.projection_type
      non_key_attributes = lsi.value.projection_type == "INCLUDE" ? lsi.value.non_key_attributes : null
    }
  }

  point_in_time_recovery {
    enabled                 = var.pitr_enabled
    recovery_period_in_days = var.pitr_enabled ? var.pitr_recovery_period_days : null
  }

  ttl {
    enabled        = var.ttl_enabled
    attribute_name = var.ttl_enabled ? var.ttl_attribute_name : ""
  }

  # Global-table replicas (variables "replicas"): a copy of the table in each listed region, kept in sync through
  # the stream. Each replica's PITR follows pitr_enabled unless it sets its own.
  dynamic "replica" {
    for_each = var.replicas
    content {
      region_name            = replica.value.region_name
      kms_key_arn            = replica.value.kms_key_arn
      point_in_time_recovery = coalesce(replica.value.point_in_time_recovery, var.pitr_enabled)
      propagate_tags         = replica.value.propagate_tags
    }
  }

  # Bulk load from S3 when the table is created (variable "import_table"; CSV needs its csv options).
  dynamic "import_table" {
    for_each = var.import_table == null ? [] : [var.import_table]
    iterator = source
    content {
      input_format           = source.value.input_format
      input_compression_type = source.value.input_compression_type

      s3_bucket_source {
        bucket       = source.value.bucket
        key_prefix   = source.value.key_prefix
        bucket_owner = source.value.bucket_owner
      }

      dynamic "input_format_options" {
        for_each = source.value.csv == null ? [] : [source.value.csv]
        content {
          csv {
            delimiter   = input_format_options.value.delimiter
            header_list = input_format_options.value.header_list
          }
        }
      }
    }
  }

  # AWS_OWNED: encryption with DynamoDB's own key (always on, free). AWS_MANAGED: the aws/dynamodb KMS key.
  # CUSTOMER_MANAGED: the given key, or the one this module creates (kms.tf).
  server_side_encryption {
    enabled     = var.encryption_type != "AWS_OWNED"
    kms_key_arn = local.kms_key_arn
  }

  tags = local.tags

  lifecycle {
    precondition {
      condition     = alltrue([for name in local.index_key_names : contains([for a in local.attributes : a.name], name)])
      error_message = "Every GSI/LSI key attribute must be declared: add ${jsonencode([for name in local.index_key_names : name if !contains([for a in local.attributes : a.name], name)])} to additional_attributes."
    }
    precondition {
      condition     = length(var.local_secondary_indexes) == 0 || var.range_key != null
      error_message = "Local secondary indexes need a table sort key (range_key); range_key is null."
    }
    precondition {
      condition     = !local.autoscaling || (var.autoscaling_read_min <= var.autoscaling_read_max && var.autoscaling_write_min <= var.autoscaling_write_max)
      error_message = "Autoscaling minimums must not exceed the maximums; got read ${var.autoscaling_read_min}-${var.autoscaling_read_max}, write ${var.autoscaling_write_min}-${var.autoscaling_write_max}."
    }
    precondition {
      condition = !local.provisioned || (var.on_demand_throughput == null && alltrue([
        for i in var.global_secondary_indexes : i.on_demand_throughput == null
      ]))
      error_message = "on_demand_throughput (table or GSI) applies to PAY_PER_REQUEST tables only; billing_mode is PROVISIONED: use read_capacity/write_capacity (or autoscaling_*_max) instead."
    }
  }
}

resource "aws_dynamodb_contributor_insights" "notifications" {
  count      = var.contributor_insights_enabled ? 1 : 0
  table_name = aws_dynamodb_table.notifications.name
}

resource "aws_dynamodb_contributor_insights" "gsi" {
  for_each   = var.contributor_insights_enabled ? toset([for i in var.global_secondary_indexes : i.name]) : toset([])
  table_name = aws_dynamodb_table.notifications.name
  index_name = each.value
}
