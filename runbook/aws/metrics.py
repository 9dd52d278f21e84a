"""The one reader of CloudWatch metrics for the runbooks: cost (usage sync), diagnostics (04) and operations (06).

Everything goes through ``GetMetricData`` (many metrics in one paginated call), over a window whose end is
rounded **up** to a period boundary so the current, partial period is included. Readers get plain values:

* :func:`read` — ``{label: [(timestamp, value), ...]}`` sorted by time, one entry per metric with data;
* :func:`datapoints` — one metric as ``[{"Timestamp": t, <statistic>: value}, ...]`` (the shape of
  ``GetMetricStatistics``' datapoints);
* :func:`daily_totals` — sums per day over the last ``days`` (the cost estimate's measured usage);
* :func:`frame` — a pandas DataFrame, one column per metric (06's table), empty with ``attrs["reason"]`` when
  CloudWatch has nothing or cannot be read.

AWS errors propagate from :func:`read`, :func:`datapoints` and :func:`daily_totals` (callers decide what a failure
means); :func:`frame` turns them into its ``reason``. An emulator publishes no DynamoDB metrics by itself.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING, Iterable, Mapping, Sequence

from runbook.aws.apierrors import AWS_ERRORS, describe_error

if TYPE_CHECKING:  # pragma: no cover
    from runbook.aws.target import Target

NAMESPACE = "AWS/DynamoDB"
#: GetMetricData accepts at most 500 queries per call.
MAX_QUERIES = 500

Series = list[tuple[datetime, float]]


@dataclass(frozen=True)
class Metric:
    """One metric to read: name, statistic, dimensions, and the label the result is keyed by."""

    name: str
    statistic: str = "Sum"
    dimensions: Mapping[str, str] = field(default_factory=dict)
    label: str = ""

    @property
    def key(self) -> str:
        return self.label or self.name


def table_metric(
    table_name: str, name: str, statistic: str = "Sum", operation: str | None = None, label: str = ""
) -> Metric:
    """A DynamoDB table metric (``TableName``, and ``Operation`` for the per-operation ones)."""
    dimensions = {"TableName": table_name, **({"Operation": operation} if operation else {})}
    return Metric(name, statistic, dimensions, label or (name if operation is None else f"{name} ({operation})"))


def window(hours: float, period: int, now: datetime | None = None) -> tuple[datetime, datetime]:
    """``(start, end)``: the last ``hours``, the end rounded up to a period boundary (the partial period counts)."""
    now = now or datetime.now(timezone.utc)
    end = datetime.fromtimestamp((int(now.timestamp()) // period + 1) * period, tz=timezone.utc)
    return now - timedelta(hours=hours), end


def read(
    target: "Target", metrics: Sequence[Metric], start: datetime, end: datetime, period: int, namespace: str = NAMESPACE
) -> dict[str, Series]:
    """Every metric's datapoints between ``start`` and ``end`` at ``period`` seconds: ``{label: series}``.

    Metrics without data are left out. Duplicate timestamps (pages overlapping) are kept once.
    """
    client = target.client("cloudwatch")
    keys = [m.key for m in metrics]
    if len(set(keys)) != len(keys):
        raise ValueError(f"metric labels must be unique: {keys}")
    found: dict[str, dict[datetime, float]] = {}
    for offset in range(0, len(metrics), MAX_QUERIES):
        batch = metrics[offset : offset + MAX_QUERIES]
        ids = {f"m{offset + i}": metric.key for i, metric in enumerate(batch)}
        queries = [
            {
                "Id": query_id,
                "Label": ids[query_id],
                "ReturnData": True,
                "MetricStat": {
                    "Metric": {
                        "Namespace": namespace,
                        "MetricName": metric.name,
                        "Dimensions": [{"Name": k, "Value": v} for k, v in metric.dimensions.items()],
                    },
                    "Period": period,
                    "Stat": metric.statistic,
                },
            }
            for query_id, metric in zip(ids, batch)
        ]
        kwargs: dict = {"MetricDataQueries": queries, "StartTime": start, "EndTime": end}
        while True:
            page = client.get_metric_data(**kwargs)
            for result in page.get("MetricDataResults", []):
                points = found.setdefault(ids[result["Id"]], {})
                for timestamp, value in zip(result.get("Timestamps") or [], result.get("Values") or []):
                    points.setdefault(timestamp, float(value))
            if not page.get("NextToken"):
                break
            kwargs["NextToken"] = page["NextToken"]
    return {key: sorted(points.items()) for key, points in found.items() if points}


def datapoints(
    target: "Target",
    metric: str,
    dimensions: Mapping[str, str],
    statistic: str,
    hours: float,
    period: int = 3600,
    namespace: str = NAMESPACE,
) -> list[dict]:
    """One metric over the last ``hours``: ``[{"Timestamp": t, statistic: value}]``, oldest first."""
    start, end = window(hours, period)
    series = read(target, [Metric(metric, statistic, dict(dimensions))], start, end, period, namespace)
    return [{"Timestamp": t, statistic: v} for t, v in series.get(metric, [])]


def daily_totals(
    target: "Target", table_name: str, names: Iterable[str], days: int = 30, now: datetime | None = None
) -> dict[str, list[float]]:
    """Daily sums of table metrics over the last ``days`` whole hours: ``{metric: [sum of one day, ...]}``.

    Only metrics with data are returned; a day without a datapoint had no traffic (the list is shorter than
    ``days``: its length is the number of days with data).
    """
    end = (now or datetime.now(timezone.utc)).replace(minute=0, second=0, microsecond=0)
    series = read(target, [table_metric(table_name, name) for name in names], end - timedelta(days=days), end, 86_400)
    return {name: [value for _, value in points] for name, points in series.items()}


def auto_period(hours: float) -> int:
    """A period that keeps a chart readable: 1 minute up to 3 h, 5 minutes up to a day, else an hour."""
    return 60 if hours <= 3 else 300 if hours <= 24 else 3600


def frame(target: "Target", metrics: Sequence[Metric], hours: float = 3, period: int | None = None, subject: str = ""):
    """The metrics over the last ``hours`` as a DataFrame: one column per metric, one row per period.

    Empty (every column, no rows) with ``attrs["reason"]`` when there is no data, or when CloudWatch cannot be
    read (the reason then names the error); ``attrs["reason"]`` is ``""`` otherwise.
    """
    import pandas as pd  # noqa: PLC0415 — `runbook cost` imports this module and never needs pandas

    period = period or auto_period(hours)
    start, end = window(hours, period)
    labels = [m.key for m in metrics]
    try:
        series = read(target, metrics, start, end, period)
    except AWS_ERRORS as error:
        result = pd.DataFrame()
        result.attrs["reason"] = f"CloudWatch metrics could not be read: {describe_error(error)}"
        return result
    if not series:
        result = pd.DataFrame(columns=labels)
        result.attrs["reason"] = (
            f"no CloudWatch data{f' for {subject}' if subject else ''} in the last {hours:g} h "
            "(an emulator publishes no DynamoDB metrics; an idle table has none)"
        )
        return result
    result = pd.DataFrame(
        {
            label: pd.Series([v for _, v in points], index=pd.to_datetime([t for t, _ in points], utc=True))
            for label, points in series.items()
        }
    ).sort_index()
    result.index.name = "timestamp"
    result.attrs["reason"] = ""
    return result
