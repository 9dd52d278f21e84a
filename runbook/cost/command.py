"""``runbook cost``: the estimate of the working configuration's plan, as a table or as JSON."""

from __future__ import annotations

import json
from pathlib import Path

from runbook import paths
from runbook.cost.configured import priced_configuration
from runbook.cost.delta import plan_delta
from runbook.cost.estimate import estimate
from runbook.cost.pricing import DEFAULT_PRICING, load_pricing
from runbook.cost.render import render_table
from runbook.params import choice
from runbook.params import endpoint_url as check_endpoint
from runbook.params import environment as check_environment

FORMATS = ("table", "json")


def cost_command(
    environment: str,
    pricing: str = DEFAULT_PRICING,
    fmt: str = "table",
    free_tier: bool = False,
    tfvars: str | Path = "",
    work_dir: str | Path | None = None,
    endpoint_url: str = "",
) -> str:
    """The text ``runbook cost`` prints. Every argument is checked before Terraform or AWS is asked anything:
    a bad environment, format, price set, endpoint or ``--tfvars`` raises :class:`ParameterError` naming it.

    The JSON adds ``plan_delta`` (``before_usd``, ``after_usd``, ``components``: the plan's prior state and planned
    values priced alike, :func:`runbook.cost.plan_delta`) and the table a line saying the same. Where no plan can
    be made here there is no estimate: :class:`~runbook.cost.configured.NoPlanToPrice` says why (the CLI prints it
    as its one-line error, exit 2).

    ``work_dir`` is the environment's work directory (``--work-dir``, default ``build/work/<env>``), as for
    ``runbook drift``.
    """
    check_environment(environment)
    choice(fmt, "format", FORMATS)
    prices = load_pricing(pricing or DEFAULT_PRICING)
    endpoint = check_endpoint(endpoint_url or "", "--endpoint-url")
    work_base = Path(work_dir).expanduser().resolve() if work_dir else paths.work_dir(environment)
    priced = priced_configuration(environment, tfvars or "", work_base, endpoint, parameter="--tfvars")
    report = estimate(
        environment, prices, free_tier=bool(free_tier), table=priced.table, configuration=priced.configuration
    )
    delta = plan_delta(environment, priced.plan, prices, free_tier=bool(free_tier), region=priced.region)
    if fmt == "json":
        return json.dumps({**report.to_dict(), "plan_delta": delta.to_dict()}, indent=2)
    return render_table(report) + f"- {delta.markdown().replace('**', '')}\n"
