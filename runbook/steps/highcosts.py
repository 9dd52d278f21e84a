"""The configuration guide's "High Costs" checks, each a :class:`~runbook.steps.diagnostics.Finding`: scans in use,
TTL not deleting old items, hot partition keys, and on-demand billing at a steady load that provisioned capacity
would serve cheaper. TTL and hot keys share one bounded Scan of the items (:func:`sample_items`); 06 shows the same
TTL verdict (:func:`ttl_finding`).
"""

from __future__ import annotations

import statistics
import time
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path

from runbook import cost
from runbook.aws.apierrors import AWS_ERRORS, describe_error, probe
from runbook.aws.metrics import datapoints
from runbook.aws.target import Target
from runbook.spec import TableSpec
from runbook.steps.diagnostics import Finding

#: Below this coefficient of variation of the hourly consumption, the load counts as steady.
STEADY_LOAD_CV = 0.3


def high_costs(
    target: Target,
    table_name: str,
    spec: TableSpec,
    hours: float = 168,
    pricing: "str | Path | cost.Pricing" = cost.DEFAULT_PRICING,
    target_utilization: float | None = None,
) -> list[Finding]:
    """The guide's "High Costs" checks: scans in use, TTL not deleting old items (:func:`ttl_finding`), hot keys
    (:func:`hot_key_finding`), and on-demand billing at a steady load that provisioned capacity would serve cheaper
    (from CloudWatch consumed capacity). TTL and hot keys share one bounded Scan of the items (:func:`sample_items`).

    ``target_utilization`` (percent) sizes the provisioned alternative of an on-demand table: pass the
    configuration's autoscaling target as Terraform resolved it (the plan's
    ``variables["dynamodb_autoscaling_target_utilization"]``); a provisioned table's own comes from its spec.
    Without either, the alternative is sized at the observed peak (no headroom) and the finding says so."""
    table = {"TableName": table_name}
    try:
        reads = datapoints(target, "ConsumedReadCapacityUnits", table, "Sum", hours)
        writes = datapoints(target, "ConsumedWriteCapacityUnits", table, "Sum", hours)
        scans = datapoints(target, "SuccessfulRequestLatency", {**table, "Operation": "Scan"}, "SampleCount", hours)
        scanned = datapoints(target, "ReturnedItemCount", {**table, "Operation": "Scan"}, "Sum", hours)
        metrics_error = None
    except AWS_ERRORS as error:
        reads = writes = scans = scanned = []
        metrics_error = describe_error(error)
    no_data = metrics_error or (
        f"no CloudWatch metric data for {table_name} in the last {hours:g} h"
        " (an emulator publishes none; a new or idle table has none)"
    )
    has_data = bool(reads or writes or scans)
    sample = sample_items(target, spec)  # one bounded Scan: the TTL and hot-key checks' evidence
    return [
        _scan_finding(scans, scanned, has_data, no_data, hours),
        ttl_finding(target, spec, hours, sample),
        hot_key_finding(target, spec, hours, sample),
        _billing_finding(
            spec, reads, writes, no_data, hours, pricing, target_utilization or spec.autoscaling.target_utilization
        ),
    ]


def _scan_finding(scans: list[dict], scanned: list[dict], has_data: bool, no_data: str, hours: float) -> Finding:
    check = "high costs: scans"
    count = sum(d.get("SampleCount", 0) for d in scans)
    items = sum(d.get("Sum", 0) for d in scanned)
    if count:
        return Finding(
            check,
            "warning",
            f"{count:.0f} Scan requests returned {items:.0f} items in the last "
            f"{hours:g} h: a Scan reads (and bills) the whole table",
            "read a user's notifications with Query on user_id (ScanIndexForward=False for newest "
            "first); add a GSI for any other access pattern",
        )
    if not has_data:
        return Finding(check, "unavailable", no_data, "look again once the table has traffic")
    return Finding(check, "ok", f"no Scan requests in the last {hours:g} h")


#: The most items the TTL and hot-key checks read: one bounded Scan (keys and the TTL attribute only) shared by both.
#: On a larger table they see a sample (the first items of the Scan) and say so.
SAMPLE_ITEMS = 1000
#: DynamoDB deletes expired items in the background, typically within a few days of expiry (the guide: up to
#: 48 hours). An item still present longer than this after its TTL means TTL is not deleting it.
TTL_GRACE_HOURS = 48
#: A partition key holding at least this share of the sampled items (and at least HOT_KEY_MIN_ITEMS of them), or of
#: the accesses Contributor Insights counted, is hot: its reads and writes all land on one partition.
HOT_KEY_SHARE = 0.5
HOT_KEY_MIN_ITEMS = 100


@dataclass(frozen=True)
class ItemSample:
    """A bounded Scan of the table (``SAMPLE_ITEMS`` at most): each item's partition key and TTL attribute only."""

    table: str
    hash_key: str
    ttl_attribute: str | None
    items: tuple[dict, ...]
    #: True when the Scan reached the end of the table: the sample is every item.
    complete: bool
    #: Why the items could not be read ('' when they were).
    error: str = ""

    @property
    def scope(self) -> str:
        if self.complete:
            return f"all {len(self.items)} items of {self.table}"
        return f"a sample of {len(self.items)} items of {self.table} (the first a Scan returns; the table has more)"


def sample_items(target: Target, spec: TableSpec, limit: int = SAMPLE_ITEMS) -> ItemSample:
    """At most ``limit`` items of the table, projected on the partition key and the TTL attribute (one Scan,
    paginated until ``limit``): the evidence the TTL and hot-key checks share."""
    names = {"#k": spec.hash_key, **({"#t": spec.ttl_attribute_name} if spec.ttl_attribute_name else {})}
    request = {"TableName": spec.name, "ProjectionExpression": ", ".join(names), "ExpressionAttributeNames": names}
    items: list[dict] = []
    complete = False
    try:
        client = target.client("dynamodb")
        while len(items) < limit:
            page = client.scan(**request, Limit=limit - len(items))
            items.extend(page.get("Items", []))
            if "LastEvaluatedKey" not in page:
                complete = True
                break
            request["ExclusiveStartKey"] = page["LastEvaluatedKey"]
    except AWS_ERRORS as error:
        return ItemSample(
            spec.name,
            spec.hash_key,
            spec.ttl_attribute_name,
            (),
            False,
            f"could not read items of {spec.name}: {describe_error(error)}",
        )
    return ItemSample(spec.name, spec.hash_key, spec.ttl_attribute_name, tuple(items[:limit]), complete)


def _key_text(value: dict) -> str:
    return next(iter(value.values())) if value else "?"


def ttl_finding(
    target: Target, spec: TableSpec, hours: float = 168, sample: ItemSample | None = None, now: float | None = None
) -> Finding:
    """Is TTL deleting old items? One check for 04 ("High Costs") and 06 ("TTL"): TTL on, on the attribute the
    configuration names; the items themselves (a bounded sample, :func:`sample_items`): any expired more than
    ``TTL_GRACE_HOURS`` ago and still present, any without the attribute (they never expire); and CloudWatch's
    ``TimeToLiveDeletedItemCount``. "ok" only when the items could be read and none of that is wrong."""
    check = "high costs: TTL"
    table_name, wanted = spec.name, spec.ttl_attribute_name
    try:
        ttl = target.client("dynamodb").describe_time_to_live(TableName=table_name)["TimeToLiveDescription"]
    except AWS_ERRORS as error:
        return Finding(check, "unavailable", f"could not read TTL: {describe_error(error)}")
    enabled = ttl.get("TimeToLiveStatus") in ("ENABLED", "ENABLING")
    attribute = ttl.get("AttributeName")
    if not enabled:
        if spec.ttl_enabled:
            return Finding(
                check,
                "problem",
                f"TTL is off on {table_name} but the configuration enables it on "
                f"{wanted!r}: expired notifications are never deleted",
                "terraform apply (restores dynamodb_ttl_enabled = true)",
            )
        return Finding(
            check,
            "warning",
            "TTL is off: old notifications accumulate and storage grows",
            f"set dynamodb_ttl_enabled = true (attribute {wanted!r}) and write an epoch-seconds expiry on every item",
        )
    if attribute != wanted:
        return Finding(
            check,
            "problem",
            f"TTL is on attribute {attribute!r} but items carry {wanted!r}: nothing expires",
            f"set dynamodb_ttl_attribute_name = {wanted!r} and terraform apply "
            "(DynamoDB allows one TTL change per hour)",
        )
    try:
        deleted = sum(
            d.get("Sum", 0)
            for d in datapoints(target, "TimeToLiveDeletedItemCount", {"TableName": table_name}, "Sum", hours)
        )
        deletions = (
            f"{deleted:.0f} items deleted by TTL in the last {hours:g} h"
            if deleted
            else f"no TTL deletions in CloudWatch in the last {hours:g} h"
        )
    except AWS_ERRORS as error:
        deletions = f"TTL deletions not read ({describe_error(error)})"
    sample = sample if sample is not None else sample_items(target, spec)
    if sample.error:
        return Finding(
            check,
            "unavailable",
            f"TTL is on attribute {attribute!r}, but whether it deletes old items "
            f"could not be checked: {sample.error}; {deletions}",
            "allow dynamodb:Scan for this check, or look at TimeToLiveDeletedItemCount",
        )
    now = time.time() if now is None else now
    stale_before = now - TTL_GRACE_HOURS * 3600
    expiries, missing, not_numbers = [], 0, 0
    for item in sample.items:
        value = item.get(attribute)
        if value is None:
            missing += 1
        elif "N" in value:
            expiries.append(float(value["N"]))
        else:
            not_numbers += 1
    stale = [e for e in expiries if e < stale_before]
    recent = [e for e in expiries if stale_before <= e <= now]
    seen = f"checked: {sample.scope}; {deletions}"
    if stale:
        days = (now - min(stale)) / 86400
        emulator = " (an emulator never deletes expired items)" if target.is_emulator else ""
        return Finding(
            check,
            "problem",
            f"{len(stale)} items expired more than {TTL_GRACE_HOURS} h ago are still "
            f"in the table (the oldest {days:.0f} days ago){emulator}: TTL is not deleting old items ("
            f"{seen})",
            f"check that {attribute!r} holds epoch seconds (a Number, not milliseconds), that "
            "TTL has been on long enough, and filter reads on "
            f"{attribute} > now meanwhile; storage of these items is billed until they are gone",
        )
    if missing or not_numbers:
        parts = ([f"{missing} carry no {attribute!r}"] if missing else []) + (
            [f"{not_numbers} hold {attribute!r} as a non-Number (TTL ignores it)"] if not_numbers else []
        )
        return Finding(
            check,
            "warning",
            f"TTL is on attribute {attribute!r}, but of {len(sample.items)} items read "
            f"{' and '.join(parts)}: they never expire and storage grows ({seen})",
            f"write {attribute} (epoch seconds, a Number) on every item, e.g. 90 days ahead",
        )
    waiting = f"; {len(recent)} expired within {TTL_GRACE_HOURS} h, awaiting deletion" if recent else ""
    if not sample.items:
        return Finding(
            check, "ok", f"TTL is on attribute {attribute!r}; the table is empty: nothing to expire ({deletions})"
        )
    return Finding(
        check,
        "ok",
        f"TTL is on attribute {attribute!r}; no item expired more than {TTL_GRACE_HOURS} h "
        f"ago is present{waiting} ({seen})",
    )


def _contributor_rules(target: Target, table_name: str) -> list[str]:
    """The table's Contributor Insights rules for partition keys (most accessed), when enabled and readable."""
    answer = probe(target, "dynamodb", "describe_contributor_insights", TableName=table_name)
    if answer.get("ContributorInsightsStatus") != "ENABLED":
        return []
    return [name for name in answer.get("ContributorInsightsRuleList", []) if "-PKC-" in name]


def hot_key_finding(target: Target, spec: TableSpec, hours: float = 168, sample: ItemSample | None = None) -> Finding:
    """Hot partition keys (the guide's "Review CloudWatch metrics for hot keys"): from Contributor Insights (the most
    accessed keys over ``hours``) where the table has it; else from a bounded sample of items (:func:`sample_items`:
    how many items each partition key holds, said to be a sample); else "unavailable" with the reason."""
    check = "high costs: hot keys"
    fix = (
        "spread the key's load (write sharding: a suffix on the partition key, merged on read), cache its "
        "hot reads, or on provisioned capacity raise it with autoscaling"
    )
    insights_note = ""
    if spec.contributor_insights_enabled:
        try:
            rules = _contributor_rules(target, spec.name)
            end = datetime.now(timezone.utc)
            reports = [
                probe(
                    target,
                    "cloudwatch",
                    "get_insight_rule_report",
                    RuleName=rule,
                    StartTime=end - timedelta(hours=hours),
                    EndTime=end,
                    Period=3600,
                    MaxContributorCount=10,
                )
                for rule in rules
            ]
        except AWS_ERRORS as error:
            insights_note = f"Contributor Insights could not be read ({describe_error(error)}); "
        else:
            for rule, report in zip(rules, reports):
                total = float(report.get("AggregateValue") or 0)
                contributors = report.get("Contributors") or []
                if not total or not contributors:
                    continue
                top = max(contributors, key=lambda c: c.get("ApproximateAggregateValue", 0))
                share = float(top.get("ApproximateAggregateValue", 0)) / total
                key = ", ".join(top.get("Keys") or ["?"])
                where = f"Contributor Insights ({rule}, last {hours:g} h)"
                if share >= HOT_KEY_SHARE:
                    return Finding(
                        check,
                        "warning",
                        f"partition key {key!r} took {share:.0%} of the {total:,.0f} accesses counted by {where}",
                        fix,
                    )
                return Finding(
                    check,
                    "ok",
                    f"the most accessed partition key ({key!r}) took {share:.0%} of the "
                    f"{total:,.0f} accesses counted by {where}",
                )
            insights_note = (
                "Contributor Insights is on but has no data for the last "
                f"{hours:g} h (or not enabled on the table yet); "
            )
    else:
        insights_note = "Contributor Insights is off (dynamodb_contributor_insights_enabled); "
    sample = sample if sample is not None else sample_items(target, spec)
    if sample.error:
        return Finding(
            check,
            "unavailable",
            f"{insights_note}and the items could not be sampled: {sample.error}",
            "enable Contributor Insights (dynamodb_contributor_insights_enabled = true) to see the most accessed keys",
        )
    if not sample.items:
        return Finding(check, "ok", f"{insights_note}the table is empty: no partition key holds any items")
    counts: dict[str, int] = {}
    for item in sample.items:
        key = _key_text(item.get(sample.hash_key, {}))
        counts[key] = counts.get(key, 0) + 1
    key, top = max(counts.items(), key=lambda kv: kv[1])
    share = top / len(sample.items)
    measured = (
        f"{insights_note}counted: items per {sample.hash_key} in {sample.scope}, {len(counts)} keys "
        "(items held, not traffic)"
    )
    measured = measured[0].upper() + measured[1:]
    if top >= HOT_KEY_MIN_ITEMS and share >= HOT_KEY_SHARE:
        return Finding(
            check,
            "warning",
            f"{sample.hash_key} {key!r} holds {top} of {len(sample.items)} items read "
            f"({share:.0%}): its reads and writes land on one partition. {measured}",
            fix + "; enable Contributor Insights to see which keys take the traffic",
        )
    return Finding(
        check,
        "ok",
        f"no hot key: the largest, {sample.hash_key} {key!r}, holds {top} of "
        f"{len(sample.items)} items read ({share:.0%}). {measured}",
    )


def _billing_finding(
    spec: TableSpec,
    reads: list[dict],
    writes: list[dict],
    no_data: str,
    hours: float,
    pricing: "str | Path | cost.Pricing" = cost.DEFAULT_PRICING,
    target_utilization: float | None = None,
) -> Finding:
    check = "high costs: billing mode"
    if spec.provisioned:
        return Finding(
            check,
            "ok",
            "the table uses provisioned capacity" + (" with autoscaling" if spec.autoscaling.enabled else ""),
        )
    if not reads and not writes:
        return Finding(
            check,
            "unavailable",
            f"{no_data}: the on-demand vs provisioned comparison needs consumed capacity metrics",
            "look again after a week of traffic",
        )
    hourly_reads = [d.get("Sum", 0.0) for d in reads]
    hourly_writes = [d.get("Sum", 0.0) for d in writes]
    observed = max(len(hourly_reads), len(hourly_writes))
    if observed < 24:
        return Finding(
            check,
            "unavailable",
            f"only {observed} hours of consumed-capacity data: at least 24 "
            "are needed to judge whether the load is steady",
        )
    # Hours without a datapoint had no traffic: count them as zero so bursty loads do not look steady.
    window = max(observed, int(hours))
    reads_full = hourly_reads + [0.0] * (window - len(hourly_reads))
    writes_full = hourly_writes + [0.0] * (window - len(hourly_writes))
    mean_reads, mean_writes = statistics.fmean(reads_full), statistics.fmean(writes_full)
    # One billing model: the cost package's (same price sets, same 30-day month and 720 h as 05 and runbook cost).
    modes = cost.compare_measured_load(
        spec, reads_full, writes_full, pricing, target_utilization=(target_utilization or 100) / 100
    )
    on_demand, provisioned = float(modes.on_demand_monthly_usd), float(modes.provisioned_monthly_usd)
    rcu, wcu, target_utilisation = int(modes.rcu), int(modes.wcu), float(modes.target_utilization)
    dominant = writes_full if mean_writes * 5 >= mean_reads else reads_full
    mean = statistics.fmean(dominant)
    cv = statistics.pstdev(dominant) / mean if mean else float("inf")
    # "USD", not "$": JupyterLab and the site typeset text between two dollar signs as LaTeX, outputs included.
    figures = (
        f"on-demand ≈ USD {on_demand:,.2f}/month at the observed load; provisioned {rcu} RCU / {wcu} WCU "
        f"(peak hour at {target_utilisation:.0%} utilisation"
        + ("" if target_utilization else ", no autoscaling target given: no headroom")
        + f") ≈ USD {provisioned:,.2f}/month; "
        f"hourly variation (CV) {cv:.2f}"
    )
    if cv <= STEADY_LOAD_CV and provisioned < on_demand:
        return Finding(
            check,
            "warning",
            f"steady load on on-demand billing: {figures}",
            f'consider dynamodb_billing_mode = "PROVISIONED" with autoscaling (min {rcu} RCU / '
            f"{wcu} WCU) — see the cost runbook",
        )
    reason = "the load varies too much for fixed capacity" if cv > STEADY_LOAD_CV else "on-demand is cheaper"
    return Finding(check, "ok", f"on-demand fits: {reason}; {figures}")
