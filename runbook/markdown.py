"""Markdown text for the runbooks' reports (the plan review, the table panel): a table cell, inline code."""

from __future__ import annotations


def cell(value: object) -> str:
    """``value`` as one Markdown table cell: pipes escaped, on one line."""
    return str(value or "").replace("|", "\\|").replace("\n", " ")


def code(text: object) -> str:
    """``text`` as inline code, whatever backticks it holds."""
    text = str(text)
    return f"`{text}`" if "`" not in text else f"`` {text} ``"
