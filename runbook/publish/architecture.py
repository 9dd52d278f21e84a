"""The architecture diagram: what a Terraform plan creates and what references what, drawn as inline SVG.

Everything comes from ``terraform show -json`` of a saved plan (or of the state): the resources from
``resource_changes`` (``values`` of the state), the edges from the ``configuration`` section, whose expressions
list the ``references`` Terraform itself resolved. A reference through a module's input variable or output is
followed to the resource behind it, so an edge crosses module boundaries the way the value does. Locals are not
in Terraform's JSON: a value passed only through a local is not drawn.

:func:`plan_graph` reads the JSON into a small :class:`Graph` (JSON-friendly: 02 records it, the site reads it);
:func:`render_svg` lays it out in layers (a resource right of everything it references) and writes the SVG,
readable without any script: no request leaves the page.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass, field
from typing import Any, Iterable

from runbook.terraform.tfjson import flatten, managed

_INDEX = re.compile(r"\[[^\]]*\]")


def _plain(address: str) -> str:
    """``module.m["a"].aws_x.y[0]`` → ``module.m.aws_x.y`` (one node per configured resource)."""
    return _INDEX.sub("", address)


@dataclass
class Graph:
    """Resources (``address``, ``type``, ``action``, ``count``) and edges ``(from, to)``: *from* references *to*."""

    resources: list[dict] = field(default_factory=list)
    edges: list[tuple[str, str]] = field(default_factory=list)

    def to_dict(self) -> dict:
        return {"resources": self.resources, "edges": [list(e) for e in self.edges]}

    @classmethod
    def from_dict(cls, data: dict) -> "Graph":
        return cls(
            resources=[dict(r) for r in data.get("resources", [])],
            edges=[(str(a), str(b)) for a, b in data.get("edges", [])],
        )

    def module_of(self, address: str) -> str:
        parts = address.split(".")
        prefix: list[str] = []
        while len(parts) > 2 and parts[0] == "module":
            prefix += parts[:2]
            parts = parts[2:]
        return ".".join(prefix)


def _references(expression: Any) -> Iterable[str]:
    """Every ``references`` entry inside a configuration expression (blocks nest as dicts and lists)."""
    if isinstance(expression, dict):
        for reference in expression.get("references", []) or []:
            if isinstance(reference, str):
                yield reference
        for key, value in expression.items():
            if key != "references" and isinstance(value, (dict, list)):
                yield from _references(value)
    elif isinstance(expression, list):
        for item in expression:
            yield from _references(item)


class _Configuration:
    """The ``configuration`` section, indexed by module path (``""``, ``module.dynamodb``, …)."""

    def __init__(self, configuration: dict):
        self.modules: dict[str, dict] = {}
        self.calls: dict[str, tuple[str, dict]] = {}  # module path -> (parent path, the module_call)

        def walk(prefix: str, module: dict) -> None:
            self.modules[prefix] = module
            for name, call in (module.get("module_calls") or {}).items():
                child = f"{prefix}.module.{name}" if prefix else f"module.{name}"
                self.calls[child] = (prefix, call)
                walk(child, call.get("module") or {})

        walk("", (configuration or {}).get("root_module") or {})
        self.resources = {
            self._full(prefix, r["address"]): (prefix, r)
            for prefix, module in self.modules.items()
            for r in module.get("resources", []) or []
            if r.get("mode", "managed") == "managed"
        }
        #: Data sources (``data.aws_iam_policy_document.x``): a reference to one stands for what it references.
        self.data = {
            self._full(prefix, r["address"]): (prefix, r)
            for prefix, module in self.modules.items()
            for r in module.get("resources", []) or []
            if r.get("mode") == "data"
        }

    @staticmethod
    def _full(prefix: str, address: str) -> str:
        return f"{prefix}.{address}" if prefix else address

    def resolve(self, prefix: str, reference: str, seen: frozenset = frozenset()) -> set[str]:
        """The managed resources (full addresses, no index) a reference in module ``prefix`` stands for."""
        key = (prefix, reference)
        if key in seen:
            return set()
        seen = seen | {key}
        parts = _INDEX.sub("", reference).split(".")
        if parts[0] in ("count", "each", "path", "terraform", "self", "local") or len(parts) < 2:
            return set()
        if parts[0] == "data":
            data = self.data.get(self._full(prefix, ".".join(parts[:3])))
            found = set()
            for ref in _references((data or (prefix, {}))[1].get("expressions")) if data else ():
                found |= self.resolve(prefix, ref, seen)
            return found
        if parts[0] == "var":
            if prefix not in self.calls:
                return set()
            parent, call = self.calls[prefix]
            found: set[str] = set()
            for ref in _references((call.get("expressions") or {}).get(parts[1])):
                found |= self.resolve(parent, ref, seen)
            return found
        if parts[0] == "module":
            if len(parts) < 3:
                return set()  # ``module.m`` alone: Terraform lists ``module.m.output`` beside it
            child = self._full(prefix, f"module.{parts[1]}")
            output = ((self.modules.get(child) or {}).get("outputs") or {}).get(parts[2]) or {}
            found = set()
            for ref in _references(output.get("expression")):
                found |= self.resolve(child, ref, seen)
            return found
        address = self._full(prefix, f"{parts[0]}.{parts[1]}")
        return {address} if address in self.resources else set()

    def edges(self) -> set[tuple[str, str]]:
        found = set()
        for address, (prefix, resource) in self.resources.items():
            references = list(_references(resource.get("expressions")))
            references += list(_references(resource.get("count_expression")))
            references += list(_references(resource.get("for_each_expression")))
            references += [r for r in resource.get("depends_on", []) or [] if isinstance(r, str)]
            for reference in references:
                for target in self.resolve(prefix, reference):
                    if target != address:
                        found.add((address, target))
        return found


def plan_graph(plan: dict) -> Graph:
    """The graph of ``terraform show -json`` output (a saved plan's, or the state's ``values``).

    Nodes: the managed resources the plan has (a resource it deletes included, marked so), one per configured
    resource (``count``/``for_each`` instances counted); edges: what references what, from ``configuration``.
    """
    nodes: dict[str, dict] = {}
    changes = plan.get("resource_changes")
    if changes is not None:
        for change in changes:
            if change.get("mode", "managed") != "managed":
                continue
            actions = [a for a in (change.get("change") or {}).get("actions", []) if a]
            action = "replace" if set(actions) == {"create", "delete"} else ",".join(actions) or "no-op"
            _add_node(nodes, change["address"], change.get("type", ""), action)
    else:
        for resource in managed(flatten(((plan.get("values") or {}).get("root_module")))):
            _add_node(nodes, resource["address"], resource.get("type", ""), "in state")
    edges = {(a, b) for a, b in _Configuration(plan.get("configuration") or {}).edges() if a in nodes and b in nodes}
    return Graph(resources=list(nodes.values()), edges=sorted(edges))


def _add_node(nodes: dict[str, dict], address: str, type_: str, action: str) -> None:
    plain = _plain(address)
    if plain in nodes:
        nodes[plain]["count"] += 1
        return
    nodes[plain] = {"address": plain, "type": type_, "action": action, "count": 1}


# -- layout and SVG --------------------------------------------------------------------------------------------
NODE_WIDTH = 250
NODE_HEIGHT = 46
COLUMN_GAP = 70
ROW_GAP = 16
MARGIN = 12
LEGEND_HEIGHT = 26


def layers(graph: Graph) -> list[list[str]]:
    """Columns of addresses: a resource sits right of everything it references (longest path), each column
    ordered to keep edges short (two barycentre sweeps)."""
    addresses = [r["address"] for r in graph.resources]
    targets: dict[str, list[str]] = {a: [] for a in addresses}
    sources: dict[str, list[str]] = {a: [] for a in addresses}
    for a, b in graph.edges:
        targets[a].append(b)
        sources[b].append(a)
    depth: dict[str, int] = {}

    def level(address: str, stack: frozenset = frozenset()) -> int:
        if address in depth:
            return depth[address]
        if address in stack:  # a cycle (Terraform refuses them; be safe)
            return 0
        depth[address] = 1 + max((level(t, stack | {address}) for t in targets[address]), default=-1)
        return depth[address]

    for address in addresses:
        level(address)
    columns: list[list[str]] = [[] for _ in range(max(depth.values(), default=-1) + 1)]
    module_of = graph.module_of
    for address in sorted(addresses, key=lambda a: (module_of(a), a)):
        columns[depth[address]].append(address)
    position = {a: i for column in columns for i, a in enumerate(column)}

    def sweep(order: Iterable[int], neighbours: dict[str, list[str]]) -> None:
        for index in order:
            column = columns[index]
            column.sort(
                key=lambda a: (
                    sum(position[n] for n in neighbours[a]) / len(neighbours[a]) if neighbours[a] else position[a],
                    module_of(a),
                    a,
                )
            )
            position.update({a: i for i, a in enumerate(column)})

    for _ in range(2):
        sweep(range(1, len(columns)), targets)
        sweep(range(len(columns) - 2, -1, -1), sources)
    return columns


_PALETTE = ("runbook-arch-m0", "runbook-arch-m1", "runbook-arch-m2", "runbook-arch-m3")


def render_svg(graph: Graph, title: str, element_id: str = "architecture") -> str:
    """The graph as an inline SVG (``role="img"``, a title and a description that lists every edge in words)."""
    columns = layers(graph)
    by_address = {r["address"]: r for r in graph.resources}
    modules = list(dict.fromkeys(sorted(graph.module_of(r["address"]) for r in graph.resources)))
    style_of = {m: _PALETTE[i % len(_PALETTE)] for i, m in enumerate(modules)}
    tallest = max((len(c) for c in columns), default=0)
    width = 2 * MARGIN + len(columns) * NODE_WIDTH + max(len(columns) - 1, 0) * COLUMN_GAP
    height = 2 * MARGIN + LEGEND_HEIGHT + tallest * NODE_HEIGHT + max(tallest - 1, 0) * ROW_GAP
    box: dict[str, tuple[float, float]] = {}
    for index, column in enumerate(columns):
        x = MARGIN + index * (NODE_WIDTH + COLUMN_GAP)
        used = len(column) * NODE_HEIGHT + max(len(column) - 1, 0) * ROW_GAP
        top = MARGIN + LEGEND_HEIGHT + (height - 2 * MARGIN - LEGEND_HEIGHT - used) / 2
        for row, address in enumerate(column):
            box[address] = (x, top + row * (NODE_HEIGHT + ROW_GAP))
    esc = html.escape
    title_id, desc_id = f"{element_id}-title", f"{element_id}-desc"
    words = "; ".join(f"{a} references {b}" for a, b in graph.edges) or "no resource references another"
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="runbook-architecture" id="{esc(element_id)}" '
        f'role="img" aria-labelledby="{title_id} {desc_id}" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}">',
        f'<title id="{title_id}">{esc(title)}</title>',
        f'<desc id="{desc_id}">{len(graph.resources)} resources, {len(graph.edges)} references: {esc(words)}.</desc>',
        '<defs><marker id="{0}-arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" '
        'orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" class="runbook-arch-arrowhead"/></marker>'
        "</defs>".format(esc(element_id)),
    ]
    legend_x = MARGIN
    for module in modules:
        label = module or "root module"
        out.append(
            f'<rect x="{legend_x}" y="{MARGIN}" width="14" height="14" rx="3" '
            f'class="runbook-arch-node {style_of[module]}"/>'
            f'<text x="{legend_x + 20}" y="{MARGIN + 11}" class="runbook-arch-legend">{esc(label)}</text>'
        )
        legend_x += 40 + 8 * len(label)
    for a, b in graph.edges:  # a references b: b is to the left
        (ax, ay), (bx, by) = box[a], box[b]
        x1, y1 = ax, ay + NODE_HEIGHT / 2
        x2, y2 = bx + NODE_WIDTH, by + NODE_HEIGHT / 2
        bend = max((x1 - x2) / 2, 20)
        out.append(
            f'<path d="M{x1:.0f},{y1:.0f} C{x1 - bend:.0f},{y1:.0f} {x2 + bend:.0f},{y2:.0f} {x2:.0f},{y2:.0f}" '
            f'class="runbook-arch-edge" marker-end="url(#{esc(element_id)}-arrow)">'
            f"<title>{esc(a)} references {esc(b)}</title></path>"
        )
    for address, (x, y) in box.items():
        resource = by_address[address]
        module = graph.module_of(address)
        short = address[len(module) + 1 :] if module else address
        rtype, _, name = short.partition(".")
        count = resource.get("count", 1)
        action = resource.get("action", "")
        note = " ".join(
            p
            for p in (f"×{count}" if count > 1 else "", action if action not in ("no-op", "in state", "") else "")
            if p
        )
        out.append(
            f'<g class="runbook-arch-resource"><title>{esc(address)}</title>'
            f'<rect x="{x}" y="{y:.0f}" width="{NODE_WIDTH}" height="{NODE_HEIGHT}" rx="6" '
            f'class="runbook-arch-node {style_of[module]}"/>'
            f'<text x="{x + 10}" y="{y + 18:.0f}" class="runbook-arch-type">{esc(rtype)}</text>'
            f'<text x="{x + 10}" y="{y + 36:.0f}" class="runbook-arch-name">{esc(name)}'
            + (f' <tspan class="runbook-arch-note">{esc(note)}</tspan>' if note else "")
            + "</text></g>"
        )
    out.append("</svg>")
    return "".join(out)
