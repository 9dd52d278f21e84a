"""Monthly cost of the notifications table: the configuration guide's "Cost Estimation", kept honest.

Three inputs, each from its own place, the way Infracost prices a plan:

* **the configuration**: the table Terraform plans for the working tfvars (:func:`priced_configuration`; a
  :class:`~runbook.spec.TableSpec` from :func:`runbook.terraform.tfjson.table_spec`). It decides what applies: PITR and
  alarms only where planned, provisioned or on-demand, the table class, GSIs, an on-demand throughput ceiling;
* **prices**: a price set shipped as data (``runbook/data/pricing/<name>.yaml``) with its sources and effective date
  (:func:`load_pricing`); ``us-east-1`` is today's list, ``us-east-1-legacy`` the list the guide used;
* **usage**: the environment's profile (``infrastructure/<env>/usage.yml``, the guide's assumptions), optionally
  overridden, or replaced by what CloudWatch measured (:func:`sync_usage`).

Modules: :mod:`.pricing` (price sets, money), :mod:`.usage` (profile, CloudWatch sync), :mod:`.quantities` (what
the usage bills: request units, storage, capacity), :mod:`.estimate` (the estimate, what was priced), :mod:`.compare`
(billing modes, table classes, the guide's figures, what-ifs, "High Costs" savings), :mod:`.render` (text),
:mod:`.configured` (what to price), :mod:`.delta` (what a plan changes in the monthly bill), :mod:`.command`
(``runbook cost``).
"""

from runbook.cost.ceiling import Ceiling, CeilingComponent, on_demand_ceiling
from runbook.cost.command import FORMATS, cost_command
from runbook.cost.compare import (
    SEED_FIGURES,
    BillingComparison,
    Saving,
    compare_billing_modes,
    compare_measured_load,
    compare_table_classes,
    cost_by_users,
    high_costs_savings,
    seed_comparison,
)
from runbook.cost.configured import (
    NoPlanToPrice,
    PricedConfiguration,
    configured_plan,
    priced_configuration,
    working_tfvars,
)
from runbook.cost.delta import ComponentDelta, PlanDelta, plan_delta
from runbook.cost.estimate import describe_configuration, estimate
from runbook.cost.model import Component, CostReport
from runbook.cost.pricing import (
    DEFAULT_PRICING,
    LEGACY_PRICING,
    PRICING_DIR,
    TABLE_CLASSES,
    Pricing,
    known_pricing,
    load_pricing,
)
from runbook.cost.regions import region_costs
from runbook.cost.render import render_ceiling, render_table
from runbook.cost.usage import UsageInputs, UsageProfile, load_usage, sync_usage, usage_from_cloudwatch
from runbook.paths import ENVIRONMENTS

__all__ = [
    "BillingComparison",
    "Ceiling",
    "CeilingComponent",
    "Component",
    "ComponentDelta",
    "CostReport",
    "DEFAULT_PRICING",
    "ENVIRONMENTS",
    "FORMATS",
    "LEGACY_PRICING",
    "NoPlanToPrice",
    "PRICING_DIR",
    "PlanDelta",
    "PricedConfiguration",
    "Pricing",
    "SEED_FIGURES",
    "Saving",
    "TABLE_CLASSES",
    "UsageInputs",
    "UsageProfile",
    "compare_billing_modes",
    "compare_measured_load",
    "compare_table_classes",
    "configured_plan",
    "cost_by_users",
    "cost_command",
    "describe_configuration",
    "estimate",
    "high_costs_savings",
    "known_pricing",
    "load_pricing",
    "load_usage",
    "on_demand_ceiling",
    "plan_delta",
    "priced_configuration",
    "region_costs",
    "render_ceiling",
    "render_table",
    "seed_comparison",
    "sync_usage",
    "usage_from_cloudwatch",
    "working_tfvars",
]
