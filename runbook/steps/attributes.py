"""A resource change attribute by attribute: before → after, masked where Terraform marks a value sensitive or
known only after apply, with what forces a replacement (from ``terraform show -json``'s ``before``, ``after``,
``after_unknown``, ``*_sensitive`` and ``replace_paths``).

Steps layer: imports the Terraform and AWS layers and the base modules.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Iterable

KNOWN_AFTER_APPLY = "(known after apply)"


SENSITIVE = "(sensitive value)"


@dataclass(frozen=True)
class AttributeChange:
    path: str
    before: str
    after: str
    forces_replacement: bool = False

    @property
    def text(self) -> str:
        return f"{self.path}: {self.before} → {self.after}" + (
            " (forces replacement)" if self.forces_replacement else ""
        )


def path_text(steps: Iterable[Any]) -> str:
    """``["global_secondary_index", 0, "name"]`` → ``global_secondary_index[0].name``."""
    text = ""
    for step in steps:
        text += f"[{step}]" if isinstance(step, int) else (f".{step}" if text else str(step))
    return text


def _sub(mask: Any, key: Any) -> Any:
    """The part of an ``after_unknown``/``*_sensitive`` mask at ``key`` (a mask is ``True``, or a nested value)."""
    if mask is True:
        return True
    if isinstance(mask, dict):
        return mask.get(key, False)
    if isinstance(mask, list) and isinstance(key, int) and key < len(mask):
        return mask[key]
    return False


def _masked(value: Any, sensitive: Any, unknown: Any = False) -> Any:
    """``value`` with sensitive parts replaced by ``(sensitive value)`` and unknown ones by ``(known after apply)``."""
    if sensitive is True:
        return SENSITIVE
    if unknown is True:
        return KNOWN_AFTER_APPLY
    if isinstance(value, dict):
        keys = set(value) | (set(unknown) if isinstance(unknown, dict) else set())
        return {k: _masked(value.get(k), _sub(sensitive, k), _sub(unknown, k)) for k in sorted(keys)}
    if isinstance(value, list):
        return [_masked(v, _sub(sensitive, i), _sub(unknown, i)) for i, v in enumerate(value)]
    return value


#: A rendered value longer than this is cut (an IAM policy document shown whole would drown the review).
MAX_VALUE_CHARS = 160


def _render(value: Any) -> str:
    if value in (KNOWN_AFTER_APPLY, SENSITIVE):
        return value
    text = json.dumps(value, sort_keys=True, separators=(", ", ": "))
    if len(text) > MAX_VALUE_CHARS:
        text = text[: MAX_VALUE_CHARS - 1] + f"…({len(text)} characters)"
    return text


def _json_document(value: Any) -> Any:
    """A JSON string attribute (an IAM policy) as the document it holds, else ``None``."""
    if isinstance(value, str) and value[:1] in "{[":
        try:
            return json.loads(value)
        except ValueError:
            return None
    return None


def attribute_changes(change: dict) -> list[AttributeChange]:
    """Attribute paths whose value differs between ``before`` and ``after`` (or is unknown after apply)."""
    replace = [path_text(p) for p in change.get("replace_paths") or []]
    rows: list[AttributeChange] = []

    def forces(path: str) -> bool:
        return any(
            path == r
            or path.startswith(r + ".")
            or path.startswith(r + "[")
            or r.startswith(path + ".")
            or r.startswith(path + "[")
            for r in replace
        )

    def emit(path: str, before: Any, after: Any) -> None:
        rows.append(AttributeChange(path, _render(before), _render(after), forces(path)))

    def walk(path: list, before: Any, after: Any, unknown: Any, b_sens: Any, a_sens: Any) -> None:
        here = path_text(path)
        if b_sens is True or a_sens is True:
            if before != after or unknown is True:
                emit(
                    here,
                    SENSITIVE if b_sens is True else _masked(before, b_sens),
                    KNOWN_AFTER_APPLY if unknown is True else (SENSITIVE if a_sens is True else _masked(after, a_sens)),
                )
            return
        if unknown is True:
            emit(here, _masked(before, b_sens), KNOWN_AFTER_APPLY)
            return
        if isinstance(before, dict) and isinstance(after, dict):
            for key in sorted(set(before) | set(after) | (set(unknown) if isinstance(unknown, dict) else set())):
                walk(
                    path + [key],
                    before.get(key),
                    after.get(key),
                    _sub(unknown, key),
                    _sub(b_sens, key),
                    _sub(a_sens, key),
                )
            return
        if isinstance(before, list) and isinstance(after, list) and len(before) == len(after):
            for i, (b, a) in enumerate(zip(before, after)):
                walk(path + [i], b, a, _sub(unknown, i), _sub(b_sens, i), _sub(a_sens, i))
            return
        documents = (_json_document(before), _json_document(after))
        if before != after and None not in documents:
            walk(path, documents[0], documents[1], False, False, False)
            return
        if before != after:
            emit(here, _masked(before, b_sens), _masked(after, a_sens, unknown))

    walk(
        [],
        change.get("before") or {},
        change.get("after") or {},
        change.get("after_unknown") or {},
        change.get("before_sensitive") or {},
        change.get("after_sensitive") or {},
    )
    # What forces the replacement first, then what the configuration changes, then values computed at apply.
    return sorted(rows, key=lambda r: (not r.forces_replacement, r.after == KNOWN_AFTER_APPLY, r.path))


#: From this many attributes on, those Terraform computes at apply are summarised in one line.
KNOWN_AFTER_APPLY_SUMMARY = 3


def known_after_apply(attributes: list[AttributeChange]) -> list[AttributeChange]:
    """The attributes Terraform only knows after apply and that force nothing, when there are enough of them to
    summarise (a replacement lists dozens: ids, ARNs, every nested block of the new resource)."""
    later = [a for a in attributes if a.after == KNOWN_AFTER_APPLY and not a.forces_replacement]
    return later if len(later) >= KNOWN_AFTER_APPLY_SUMMARY else []


def known_after_apply_line(attributes: list[AttributeChange], shown: int = 6) -> str:
    """One Markdown line for :func:`known_after_apply`'s attributes: their count and the first names."""
    names = ", ".join(f"`{a.path}`" for a in attributes[:shown])
    more = f" and {len(attributes) - shown} more" if len(attributes) > shown else ""
    return f"- {len(attributes)} attributes {KNOWN_AFTER_APPLY}: {names}{more}"
