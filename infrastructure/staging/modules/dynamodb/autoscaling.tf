# Target-tracking autoscaling of a PROVISIONED table and each of its GSIs: the table-level autoscaling_* inputs,
# per GSI overridden field by field by autoscaling_indexes (minimum, maximum, target, cooldowns, no scale-in).
# Scheduled changes of the minimum/maximum: scheduled-scaling.tf.
#
# Terraform must not fight the autoscaler, and the table must keep one address whether autoscaling is on or off.
# `lifecycle.ignore_changes` cannot be conditional, and ignoring `global_secondary_index` would also hide every
# later GSI change. Instead, with autoscaling on, the table's (and each GSI's) configured capacity is the capacity
# the table has now, read back at plan time: the plan then never shows the autoscaler's moves. On the first apply
# (no table yet) the configured read_capacity/write_capacity are used. With autoscaling off, the configured
# values are applied as usual. Toggling autoscaling only adds or removes the aws_appautoscaling_* resources.

data "aws_dynamodb_tables" "all" {
  count = local.autoscaling ? 1 : 0
}

data "aws_dynamodb_table" "live" {
  count = local.autoscaling && contains(local.existing_tables, var.table_name) ? 1 : 0
  name  = var.table_name
}

locals {
  # The data source returns null, not an empty list, when the account has no table at all.
  existing_tables = try(coalescelist(data.aws_dynamodb_tables.all[0].names, []), [])
  live            = one(data.aws_dynamodb_table.live[*])
  # A live table that is still PAY_PER_REQUEST reports 0: keep the configured values then.
  live_provisioned = local.live != null ? try(local.live.billing_mode, "") == "PROVISIONED" : false
  live_gsi         = local.live_provisioned ? { for i in local.live.global_secondary_index : i.name => i } : {}

  table_read_capacity  = local.live_provisioned ? local.live.read_capacity : var.read_capacity
  table_write_capacity = local.live_provisioned ? local.live.write_capacity : var.write_capacity

  gsi_read_capacity = {
    for i in var.global_secondary_indexes : i.name => (
      contains(keys(local.live_gsi), i.name) ? local.live_gsi[i.name].read_capacity : coalesce(i.read_capacity, var.read_capacity)
    )
  }
  gsi_write_capacity = {
    for i in var.global_secondary_indexes : i.name => (
      contains(keys(local.live_gsi), i.name) ? local.live_gsi[i.name].write_capacity : coalesce(i.write_capacity, var.write_capacity)
    )
  }

  # One scalable dimension per (table or GSI) x (read or write).
  scaling_subjects = concat(
    [{ key = "table", resource_id = "table/${aws_dynamodb_table.notifications.name}", kind = "table" }],
    [for i in var.global_secondary_indexes : {
      key         = "index/${i.name}"
      resource_id = "table/${aws_dynamodb_table.notifications.name}/index/${i.name}"
      kind        = "index"
    }],
  )
  # The settings of each subject: the table-level autoscaling_* inputs, and for a GSI its autoscaling_indexes
  # entry field by field (a null field, or an index not listed, takes the table-level value).
  table_scaling = {
    read_min           = var.autoscaling_read_min
    read_max           = var.autoscaling_read_max
    write_min          = var.autoscaling_write_min
    write_max          = var.autoscaling_write_max
    target_utilization = var.autoscaling_target_utilization
    scale_in_cooldown  = var.autoscaling_scale_in_cooldown
    scale_out_cooldown = var.autoscaling_scale_out_cooldown
    disable_scale_in   = var.autoscaling_disable_scale_in
  }
  scaling_settings = merge({ table = local.table_scaling }, {
    for i in var.global_secondary_indexes : "index/${i.name}" => {
      read_min           = coalesce(try(var.autoscaling_indexes[i.name].read_min, null), var.autoscaling_read_min)
      read_max           = coalesce(try(var.autoscaling_indexes[i.name].read_max, null), var.autoscaling_read_max)
      write_min          = coalesce(try(var.autoscaling_indexes[i.name].write_min, null), var.autoscaling_write_min)
      write_max          = coalesce(try(var.autoscaling_indexes[i.name].write_max, null), var.autoscaling_write_max)
      target_utilization = coalesce(try(var.autoscaling_indexes[i.name].target_utilization, null), var.autoscaling_target_utilization)
      scale_in_cooldown  = try(coalesce(try(var.autoscaling_indexes[i.name].scale_in_cooldown, null), var.autoscaling_scale_in_cooldown), null)
      scale_out_cooldown = try(coalesce(try(var.autoscaling_indexes[i.name].scale_out_cooldown, null), var.autoscaling_scale_out_cooldown), null)
      disable_scale_in   = coalesce(try(var.autoscaling_indexes[i.name].disable_scale_in, null), var.autoscaling_disable_scale_in)
    }
  })

  scaling_dimensions = local.autoscaling ? {
    for pair in setproduct(local.scaling_subjects, ["Read", "Write"]) : "${pair[0].key}/${lower(pair[1])}" => {
      resource_id        = pair[0].resource_id
      dimension          = "dynamodb:${pair[0].kind}:${pair[1]}CapacityUnits"
      metric             = "DynamoDB${pair[1]}CapacityUtilization"
      min                = pair[1] == "Read" ? local.scaling_settings[pair[0].key].read_min : local.scaling_settings[pair[0].key].write_min
      max                = pair[1] == "Read" ? local.scaling_settings[pair[0].key].read_max : local.scaling_settings[pair[0].key].write_max
      target_utilization = local.scaling_settings[pair[0].key].target_utilization
      scale_in_cooldown  = local.scaling_settings[pair[0].key].scale_in_cooldown
      scale_out_cooldown = local.scaling_settings[pair[0].key].scale_out_cooldown
      disable_scale_in   = local.scaling_settings[pair[0].key].disable_scale_in
    }
  } : {}
}

resource "aws_appautoscaling_target" "capacity" {
  for_each = local.scaling_dimensions

  service_namespace  = "dynamodb"
  resource_id        = each.value.resource_id
  scalable_dimension = each.value.dimension
  min_capacity       = each.value.min
  max_capacity       = each.value.max

  tags = local.tags
}

resource "aws_appautoscaling_policy" "capacity" {
  for_each = local.scaling_dimensions

  name               = "${each.value.metric}:${each.value.resource_id}"
  policy_type        = "TargetTrackingScaling"
  service_namespace  = aws_appautoscaling_target.capacity[each.key].service_namespace
  resource_id        = aws_appautoscaling_target.capacity[each.key].resource_id
  scalable_dimension = aws_appautoscaling_target.capacity[each.key].scalable_dimension

  target_tracking_scaling_policy_configuration {
    target_value       = each.value.target_utilization
    scale_in_cooldown  = each.value.scale_in_cooldown
    scale_out_cooldown = each.value.scale_out_cooldown
    disable_scale_in   = each.value.disable_scale_in

    predefined_metric_specification {
      predefined_metric_type = each.value.metric
    }
  }
}
