# The production guard: Terraform itself refuses to destroy production.
#
# The configuration guide destroys staging only ("Destroy Resources (Staging Only)"). Deletion protection on the
# table stops a `terraform destroy` too late: AWS refuses the DeleteTable only after Terraform has already destroyed
# what does not depend on the table (the IAM policies and attachments, the alarms, the instance: the application's
# access). A resource with `prevent_destroy` makes every plan that would destroy it an error at plan time, before
# anything is destroyed, so `terraform destroy` (or `plan -destroy`) in this root fails and changes nothing, run by
# hand as through the runbook. `prevent_destroy` cannot take a variable, which is why the guard is its own resource
# in this root (staging has none: it can be torn down) rather than a setting of the module.
#
# The guard has no input and depends on nothing, so no change to the configuration ever replaces it: ordinary plans
# and applies leave it alone. It creates nothing outside Terraform's state (terraform_data is built into Terraform).
# To retire production deliberately, remove this file in its own reviewed change first.
resource "terraform_data" "production_guard" {
  lifecycle {
    prevent_destroy = true
  }
}
