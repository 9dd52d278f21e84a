# Scheduled scaling (variable "autoscaling_schedules"): Application Auto Scaling changes a scalable target's
# minimum and/or maximum on a schedule, e.g. raising the table's write minimum before the daily notification burst
# and lowering it after. Each action acts on one of the targets autoscaling.tf creates ("table/write",
# "index/<gsi>/read" …), so schedules need autoscaling_enabled on a PROVISIONED table (validated).

resource "aws_appautoscaling_scheduled_action" "capacity" {
  for_each = local.autoscaling ? { for s in var.autoscaling_schedules : s.name => s } : {}

  name               = "${var.table_name}-${each.key}"
  service_namespace  = aws_appautoscaling_target.capacity["${each.value.target}/${each.value.dimension}"].service_namespace
  resource_id        = aws_appautoscaling_target.capacity["${each.value.target}/${each.value.dimension}"].resource_id
  scalable_dimension = aws_appautoscaling_target.capacity["${each.value.target}/${each.value.dimension}"].scalable_dimension
  schedule           = each.value.schedule
  timezone           = each.value.timezone
  start_time         = each.value.start_time
  end_time           = each.value.end_time

  scalable_target_action {
    min_capacity = each.value.min_capacity
    max_capacity = each.value.max_capacity
  }
}
