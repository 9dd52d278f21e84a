"""Values of a resource's setting compared as the AWS provider means them, and read at an attribute path.

``null`` = ``0`` = ``false`` = ``""`` = ``[]`` = ``{}`` = absent; lists compared regardless of order; JSON documents
(IAM and resource policies, dashboard bodies) compared as data; lists of blocks compared as sets, with the parts
Terraform leaves unknown matching anything. Used by :mod:`.drift` (see its docstring for why).

May import: the standard library only.
"""

from __future__ import annotations

import json
import re
from typing import Any

UNKNOWN = "(known after apply)"
SENSITIVE = "(sensitive)"
ABSENT = "null"
#: The tags on the resource (``tags`` + the provider's ``default_tags``): what tag drift is judged on.
TAGS_ALL = "tags_all"


def _canonical(value: Any) -> Any:
    """``value`` with the provider's spelling differences removed: empty forms → None, lists sorted, JSON parsed."""
    if value is None or value is False or value == "" or (isinstance(value, (int, float)) and value == 0):
        return None
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and value.lstrip().startswith(("{", "[")):
        try:
            return _canonical(json.loads(value))
        except ValueError:
            return value
    if isinstance(value, dict):
        out = {k: c for k, v in value.items() if (c := _canonical(v)) is not None}
        return out or None
    if isinstance(value, list):
        items = [_canonical(v) for v in value]
        return sorted(items, key=lambda v: json.dumps(v, sort_keys=True)) or None
    return value


def equivalent(a: Any, b: Any) -> bool:
    """Whether two values of an attribute mean the same (see the module docstring)."""
    return _canonical(a) == _canonical(b)


def shown(value: Any) -> str:
    if value is None:
        return ABSENT
    if isinstance(value, str):
        if value.lstrip().startswith(("{", "[")):
            try:  # a JSON document (an IAM policy, a dashboard body): shown as data, keys sorted
                return json.dumps(json.loads(value), sort_keys=True)
            except ValueError:
                pass
        return value
    return json.dumps(value, sort_keys=True)


def _child(mask: Any, key: Any) -> Any:
    if isinstance(mask, dict) and isinstance(key, str):
        return mask.get(key)
    if isinstance(mask, list) and isinstance(key, int) and key < len(mask):
        return mask[key]
    return None


def _join(prefix: str, key: Any) -> str:
    return f"{prefix}[{key}]" if isinstance(key, int) else (f"{prefix}.{key}" if prefix else str(key))


def differences(
    old: Any, new: Any, unknown: Any = None, sensitive: Any = None, prefix: str = ""
) -> list[tuple[str, str, str]]:
    """``(attribute, old, new)`` for each setting whose values differ in meaning, as deep as they can be told apart.

    ``unknown``/``sensitive`` are Terraform's masks of ``new`` (``after_unknown``, ``after_sensitive``).
    """
    if unknown is True:
        return [(prefix, shown(old), UNKNOWN)]
    if not _any_unknown(unknown) and equivalent(old, new):
        return []
    if sensitive is True:
        return [] if old == new else [(prefix, SENSITIVE, SENSITIVE)]
    if isinstance(old, str) and isinstance(new, str) and (document := _documents(old, new)):
        return differences(*document, prefix=prefix)  # an IAM policy, a dashboard body: the statement that differs
    if isinstance(old, dict) or isinstance(new, dict):
        if not (isinstance(old, (dict, type(None))) and isinstance(new, (dict, type(None)))):
            return [(prefix, shown(old), shown(new))]
        old, new = old or {}, new or {}
        rows = []
        keys = list(dict.fromkeys([*old, *new, *(unknown if isinstance(unknown, dict) else {})]))
        for key in keys:
            rows += differences(
                old.get(key), new.get(key), _child(unknown, key), _child(sensitive, key), _join(prefix, key)
            )
        return rows
    if (
        isinstance(old, list)
        and isinstance(new, list)
        and len(old) == len(new)
        and all(isinstance(v, dict) for v in old + new)
    ):
        rows = []
        for index, (a, b) in enumerate(zip(old, new)):
            rows += differences(a, b, _child(unknown, index), _child(sensitive, index), _join(prefix, index))
        return rows
    if equivalent(old, new):
        return []
    return [(prefix, shown(old), shown(new))]


def _documents(old: str, new: str) -> tuple[Any, Any] | None:
    """Both values parsed, when both are JSON documents (objects or arrays)."""
    try:
        parsed = json.loads(old), json.loads(new)
    except ValueError:
        return None
    return parsed if all(isinstance(v, (dict, list)) for v in parsed) else None


def _any_unknown(mask: Any) -> bool:
    if isinstance(mask, dict):
        return any(_any_unknown(v) for v in mask.values())
    if isinstance(mask, list):
        return any(_any_unknown(v) for v in mask)
    return mask is True


def value_at(value: Any, attribute: str) -> Any:
    """The value at an attribute path (``point_in_time_recovery[0].enabled``) of a resource value."""

    for step in re.findall(r"[^.\[\]]+|\[\d+\]", attribute):
        if isinstance(value, str) and value.lstrip().startswith(("{", "[")):
            try:  # into a JSON document (a policy)
                value = json.loads(value)
            except ValueError:
                return None
        if step.startswith("["):
            index = int(step[1:-1])
            value = value[index] if isinstance(value, list) and index < len(value) else None
        else:
            value = value.get(step) if isinstance(value, dict) else None
    return value


def unknown_at(mask: Any, attribute: str) -> bool:
    return unknown_mask_at(mask, attribute) is True


def unknown_mask_at(mask: Any, attribute: str) -> Any:
    """Terraform's ``after_unknown`` mask at an attribute path (``True`` when the whole value is unknown)."""

    for step in re.findall(r"[^.\[\]]+|\[\d+\]", attribute):
        if mask is True:
            return True
        mask = _child(mask, int(step[1:-1]) if step.startswith("[") else step)
    return mask


def matches_where_known(configured: Any, value: Any, unknown: Any) -> bool:
    """Whether ``configured`` means ``value`` wherever it is known: the parts Terraform leaves unknown (a replica's
    ARN, stream and key until it exists again) match anything. Lists of blocks are compared as sets (the provider
    keeps ``replica``, ``global_secondary_index`` … as sets)."""
    if unknown is True:
        return True
    if isinstance(configured, dict) and isinstance(value, dict):
        return all(
            matches_where_known(configured.get(key), value.get(key), _child(unknown, key))
            for key in {*configured, *value}
        )
    if (
        isinstance(configured, list)
        and isinstance(value, list)
        and len(configured) == len(value)
        and all(isinstance(v, dict) for v in configured + value)
    ):
        left = list(value)
        for index, block in enumerate(configured):
            match = next((v for v in left if matches_where_known(block, v, _child(unknown, index))), None)
            if match is None:
                return False
            left.remove(match)
        return True
    return equivalent(configured, value)


#: Keys that name a block of a set (a replica by its region, an index or an alarm by its name).
_BLOCK_NAMES = ("region_name", "name", "index_name")


def blocks_changed(old: Any, new: Any) -> str:
    """For two lists of named blocks: which were removed and which added (``replica us-west-2 removed``)."""

    def names(blocks: Any) -> list[str]:
        if not isinstance(blocks, list) or not all(isinstance(b, dict) for b in blocks):
            return []
        found = [next((str(b[key]) for key in _BLOCK_NAMES if b.get(key)), None) for b in blocks]
        return [] if None in found else found

    before, after = names(old), names(new)
    if not before and not after:
        return ""
    removed = [n for n in before if n not in after]
    added = [n for n in after if n not in before]
    return "; ".join(
        part
        for part in (f"{', '.join(removed)} removed" if removed else "", f"{', '.join(added)} added" if added else "")
        if part
    )


def tags_beside_tags_all(attribute: str, values: tuple) -> bool:
    """Whether ``attribute`` is (in) a ``tags`` map that has a ``tags_all`` beside it (the resource's, or a nested
    block's such as an instance's ``root_block_device``): the provider derives such ``tags`` from the current
    ``default_tags``, so they are judged on ``tags_all``."""

    match = re.match(r"^(?:(.*)\.)?tags(?:\.|$)", attribute)
    while match:
        parent = match.group(1) or ""
        if any(
            isinstance(v := (value_at(value, parent) if parent else value), dict) and TAGS_ALL in v for value in values
        ):
            return True
        match = re.match(r"^(?:(.*)\.)?tags(?:\.|$)", parent) if parent else None
    return False


def top_attribute(attribute: str) -> str:
    return attribute.split(".", 1)[0].split("[", 1)[0]


def path_text(path: list) -> str:
    text = ""
    for step in path:
        text = _join(text, step)
    return text
