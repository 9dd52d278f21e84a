"""Small display helpers for the runbooks: tables without meaningless index columns, dicts as two-column
tables, plan summaries as sentences, and pandas options that never cut a value short.

Importing this module sets the pandas options (:func:`configure`), so ``from runbook.execution.display import table``
in a notebook's first cell is enough::

    from runbook.execution.display import mapping, sentence, table

    table(planned.rows)                 # a list of dicts or a DataFrame, shown without the 0…n index
    mapping(stream.to_dict())           # a dict as a two-column table (nested values spelled out)
    print(sentence(planned.summary))    # "Plan: 7 to add, 0 to change, 0 to destroy."

Every helper returns an object Jupyter renders (a pandas ``Styler``): the last expression of a cell shows it,
``IPython.display.display(...)`` shows it anywhere. In HTML a table gets the ``runbook-table`` class, which
the site styles to wrap long values and scroll sideways inside its own box.
"""

from __future__ import annotations

import base64
import html as html_lib
import io
import json
import math
import re
from typing import Any, Iterable, Mapping

import pandas as pd

#: The CSS class every helper table carries (the site's stylesheet keys on it).
TABLE_CLASS = "runbook-table"
#: What a missing value looks like (instead of ``NaN`` or ``None``).
MISSING = "—"


def configure() -> None:
    """pandas display options for runbooks: every column and the whole of every value, no ``...``."""
    pd.set_option("display.max_columns", None)
    pd.set_option("display.max_colwidth", None)
    pd.set_option("display.width", None)
    pd.set_option("display.max_rows", 500)
    pd.set_option("styler.render.max_elements", 2**20)


def _frame(rows_or_frame: Any, columns: Iterable[str] | None = None):

    if isinstance(rows_or_frame, pd.Series):
        frame = rows_or_frame.to_frame()
    elif isinstance(rows_or_frame, pd.DataFrame):
        frame = rows_or_frame
    else:
        frame = pd.DataFrame(list(rows_or_frame or []))
    if columns is not None:
        frame = frame.reindex(columns=list(columns))
    return frame


def _meaningful_index(frame) -> bool:
    """An index worth showing: named, or anything but the default 0…n-1 positions."""
    index = frame.index
    if any(name is not None for name in index.names):
        return True
    return not (isinstance(index, pd.RangeIndex) and index.start == 0 and index.step == 1)


def _text(value: Any) -> str:
    """One cell's text: missing values as a dash, containers spelled out, never truncated."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return MISSING
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, Mapping):
        return ", ".join(f"{k}: {_text(v)}" for k, v in value.items()) or MISSING
    if isinstance(value, (list, tuple, set)):
        return ", ".join(_text(v) for v in value) or MISSING
    if value is pd.NA or value is pd.NaT:
        return MISSING
    if isinstance(value, float):
        if value.is_integer():
            return f"{int(value):,}"
        return f"{value:,.2f}" if abs(value) >= 1 else f"{value:.4g}"
    if isinstance(value, int):
        return f"{value:,}" if abs(value) >= 10_000 else str(value)
    return str(value)


def table(
    rows_or_frame: Any, columns: Iterable[str] | None = None, caption: str | None = None, index: bool | None = None
):
    """A table of ``rows_or_frame`` (list of dicts, DataFrame or Series): all columns, whole values.

    The index is shown only when it means something (named, or not the default 0…n-1), unless ``index`` says
    otherwise; missing values show as a dash. Returns a pandas ``Styler``.
    """
    frame = _frame(rows_or_frame, columns)
    show_index = _meaningful_index(frame) if index is None else index
    styler = frame.style.format(_text).format_index(_text, axis=0)
    if not show_index:
        styler = styler.hide(axis="index")
    styler = styler.set_table_attributes(f'class="{TABLE_CLASS}"')
    if caption:
        styler = styler.set_caption(caption)
    return styler


def mapping(values: Mapping[str, Any], key: str = "name", value: str = "value", caption: str | None = None):
    """A dict as a two-column table (``key`` | ``value``); nested dicts and lists spelled out."""
    rows = [{key: str(k), value: _text(v)} for k, v in (values or {}).items()]
    return table(rows or [{key: MISSING, value: MISSING}], columns=[key, value], caption=caption, index=False)


#: Terraform's words for the actions of a plan, in the order its "Plan:" line gives them.
_PLAN_WORDS = (("import", "to import"), ("add", "to add"), ("change", "to change"), ("remove", "to destroy"))
_ACTION_KEYS = {
    "create": "add",
    "add": "add",
    "update": "change",
    "change": "change",
    "delete": "remove",
    "remove": "remove",
    "destroy": "remove",
    "import": "import",
    "replace": "replace",
    "move": "move",
    "forget": "forget",
}


def sentence(plan_summary: Mapping[str, Any] | str | None) -> str:
    """A plan summary as Terraform says it: ``Plan: 7 to add, 0 to change, 0 to destroy.``

    Takes the counts by action (``{"create": 7}``, ``{"update": 1, "replace": 1}``), Terraform's
    ``change_summary`` (``{"add": 7, "change": 0, "remove": 0, "import": 0}``), a string (returned as it
    is) or nothing (``No changes.``). A replacement counts as one to add and one to destroy, as Terraform counts it.
    """
    if isinstance(plan_summary, str):
        return plan_summary
    counts = {"import": 0, "add": 0, "change": 0, "remove": 0}
    for action, count in (plan_summary or {}).items():
        if not isinstance(count, (int, float)) or isinstance(count, bool):
            continue
        key = _ACTION_KEYS.get(str(action).lower().replace("-", "_"))
        if key == "replace":
            counts["add"] += int(count)
            counts["remove"] += int(count)
        elif key in counts:
            counts[key] += int(count)
    if not any(counts.values()):
        return "No changes. Your infrastructure matches the configuration."
    parts = [f"{counts[k]} {words}" for k, words in _PLAN_WORDS if k != "import" or counts["import"]]
    return "Plan: " + ", ".join(parts) + "."


def dumps(value: Any) -> str:
    """``value`` as indented JSON text (for a value that really is a document, such as a policy)."""
    return json.dumps(value, indent=2, sort_keys=False, default=str)


# -- figures for people: labels, money, percentages ------------------------------------------------------------
#: Words a label spells differently from its snake_case name (``usd`` is said by the value: ``$``).
_WORDS = {
    "usd": "",
    "wcu": "WCU",
    "rcu": "RCU",
    "gb": "GB",
    "kb": "KB",
    "ttl": "TTL",
    "pitr": "PITR",
    "gsi": "GSI",
    "sse": "SSE",
    "ia": "IA",
    "kms": "KMS",
}
_PHRASES = {"on_demand": "on-demand", "break_even": "break-even"}


def label(name: Any) -> str:
    """``on_demand_monthly_usd`` → ``On-demand monthly``; a name that is already prose is kept as it is."""
    text = str(name)
    if " " in text:  # already words: only the unit goes (the values say "$")
        text = re.sub(r"\s+usd$", "", text, flags=re.IGNORECASE)
        return text[:1].upper() + text[1:]
    if "_" not in text:
        return _WORDS.get(text, text[:1].upper() + text[1:] if text.islower() else text) or text
    for phrase, words in _PHRASES.items():
        text = text.replace(phrase, words)
    spelled = " ".join(w for w in (_WORDS.get(part, part) for part in text.split("_")) if w)
    return spelled[:1].upper() + spelled[1:]


def money(value: Any) -> str:
    """``1234.5`` → ``$1,234.50`` (a missing value as a dash; tiny non-zero amounts keep their digits)."""
    if _missing(value):
        return MISSING
    number = float(value)
    if 0 < abs(number) < 0.01:
        return f"${number:.4g}"
    return f"-${abs(number):,.2f}" if number < 0 else f"${number:,.2f}"


def percent(fraction: Any, digits: int = 1) -> str:
    """``0.28887`` → ``28.9%``: the one way a fraction is shown (tables, plot labels, sentences)."""
    if _missing(fraction):
        return MISSING
    return f"{float(fraction) * 100:.{digits}f}%"


def _missing(value: Any) -> bool:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return True
    if isinstance(value, (list, tuple, set, dict, str)) and not value:
        return True
    return False


def _people_value(name: str, value: Any) -> str:
    key = str(name).lower()
    if _missing(value):
        return MISSING
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        if re.search(r"(^|[\s_])usd$", key) or "price" in key or "cost" in key:
            return money(value)
        if "utiliz" in key or "utilis" in key or key.endswith("fraction") or key.endswith("share"):
            return percent(value)
        if isinstance(value, float) and not value.is_integer():
            return f"{value:,.2f}"
        return f"{int(value):,}"
    return _text(value)


def people(rows_or_frame: Any, index: str | None = None, caption: str | None = None):
    """A table for people: labels instead of snake_case names, money as ``$1,234.50``, fractions named
    ``*utilization*`` as percentages, thousands separators, no ``None``/``NaN``/``[]``. Numbers are told apart by
    the column (or, for a two-column ``mapping``, the row) name: ``*_usd`` is money.

    ``index``: a column to show first as the row label. The table carries ``tex2jax_ignore``, so no ``$`` in it
    is ever typeset as maths (JupyterLab).
    """
    frame = _frame(rows_or_frame)
    if _meaningful_index(frame):
        frame = frame.reset_index()
    if index and index in frame.columns:
        frame = frame[[index] + [c for c in frame.columns if c != index]]
    rows = []
    for record_ in frame.to_dict(orient="records"):
        rows.append({label(k): _people_value(k, v) for k, v in record_.items()})
    return _numbers_kept_whole(
        table(rows, caption=caption, index=False).set_table_attributes(f'class="{TABLE_CLASS} tex2jax_ignore"')
    )


#: A cell that is one figure (``$1,234.50``, ``28.9%``, ``10,000``): kept on one line.
_FIGURE = re.compile(r"^[-+]?\$?[\d,]+(\.\d+)?%?$")


def _numbers_kept_whole(styler):
    """Cells holding one figure get the ``runbook-number`` class (the site keeps them on one line)."""
    classes = styler.data.map(lambda v: "runbook-number" if isinstance(v, str) and _FIGURE.match(v) else "")
    return styler.set_td_classes(classes)


def settings(values: Mapping[str, Any], key: str = "Setting", value: str = "Value", caption: str | None = None):
    """A dict for people as a two-column table: each name a label, each value formatted by its name."""
    rows = [{key: label(k), value: _people_value(k, v)} for k, v in (values or {}).items()]
    return _numbers_kept_whole(
        table(
            rows or [{key: MISSING, value: MISSING}], columns=[key, value], caption=caption, index=False
        ).set_table_attributes(f'class="{TABLE_CLASS} tex2jax_ignore"')
    )


class Figure:
    """A matplotlib figure as crisp SVG in an ``<img>`` with real alternative text (the site and JupyterLab).

    ``display(Figure(fig, "what the plot shows"))``; the figure is closed, so the inline backend does not
    show it a second time.
    """

    def __init__(self, fig: Any, alt: str):

        import matplotlib.pyplot as plt  # noqa: PLC0415 — pyplot costs a second; only a figure needs it

        buffer = io.BytesIO()
        with plt.rc_context({"svg.fonttype": "none"}):
            fig.savefig(buffer, format="svg", bbox_inches="tight")
        plt.close(fig)
        self.alt = alt
        self.svg = buffer.getvalue()
        self._data = base64.b64encode(self.svg).decode("ascii")

    def _repr_html_(self) -> str:

        return (
            f'<img class="runbook-figure" alt="{html_lib.escape(self.alt, quote=True)}" '
            f'src="data:image/svg+xml;base64,{self._data}">'
        )

    def __repr__(self) -> str:
        return f"<figure: {self.alt}>"


configure()
