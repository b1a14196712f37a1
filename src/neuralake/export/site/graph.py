"""A table's one-hop lineage graph as static inline SVG, rendered at build time.

Upstream tables sit in a left column, the table in the middle, downstream tables on the right.
Hand-written: a fixed three-column layout needs no graph library, and the page stays free of
client-side code and outside requests. Every label is escaped.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from types import SimpleNamespace
from typing import TYPE_CHECKING

from markupsafe import Markup, escape

if TYPE_CHECKING:
    from neuralake.metadata import Lineage

WIDTH = 600
NODE_W = 180
NODE_H = 28
GAP = 10
PAD = 8
X = (PAD, (WIDTH - NODE_W) // 2, WIDTH - NODE_W - PAD)
MAX_LABEL = 20


@dataclass(frozen=True)
class Node:
    """One box: its full ``label`` (shown shortened, whole in the tooltip) and optional link."""

    label: str
    href: str | None = None
    external: bool = False


def _short(label: str) -> str:
    return label if len(label) <= MAX_LABEL else "…" + label[-(MAX_LABEL - 1) :]


def _y(i: int, count: int, height: int) -> int:
    """Top of node ``i`` of ``count`` stacked and centred vertically."""
    block = count * NODE_H + (count - 1) * GAP
    return (height - block) // 2 + i * (NODE_H + GAP)


def _node(node: Node, x: int, y: int, cls: str) -> str:
    box = (
        f'<rect x="{x}" y="{y}" width="{NODE_W}" height="{NODE_H}" rx="5"/>'
        f'<text x="{x + NODE_W // 2}" y="{y + NODE_H // 2}">{escape(_short(node.label))}</text>'
    )
    kind = f"{cls} ext" if node.external else cls
    inner = f'<g class="node {kind}"><title>{escape(node.label)}</title>{box}</g>'
    if node.href:
        return f'<a href="{escape(node.href)}">{inner}</a>'
    return inner


def _edge(x1: int, y1: int, x2: int, y2: int) -> str:
    mid = (x1 + x2) // 2
    return (
        f'<path class="edge" d="M{x1},{y1} C{mid},{y1} {mid},{y2} {x2},{y2}" '
        'marker-end="url(#nl-arrow)"/>'
    )


def lineage_svg(name: str, upstream: Sequence[Node], downstream: Sequence[Node]) -> Markup:
    """The graph of ``name`` between its ``upstream`` and ``downstream`` nodes.

    Example:
        >>> "&lt;b&gt;" in lineage_svg("db.t", [Node("<b>")], [])
        True
    """
    rows = max(len(upstream), len(downstream), 1)
    height = rows * NODE_H + (rows - 1) * GAP + 2 * PAD
    mid_y = _y(0, 1, height)
    parts = [
        f'<svg class="lineage-graph" viewBox="0 0 {WIDTH} {height}" width="100%" '
        f'role="img" aria-label="Lineage of {escape(name)}" xmlns="http://www.w3.org/2000/svg">',
        '<defs><marker id="nl-arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="6" '
        'markerHeight="6" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z"/></marker>'
        "</defs>",
    ]
    for i, n in enumerate(upstream):
        y = _y(i, len(upstream), height)
        parts.append(_edge(X[0] + NODE_W, y + NODE_H // 2, X[1], mid_y + NODE_H // 2))
        parts.append(_node(n, X[0], y, "up"))
    for i, n in enumerate(downstream):
        y = _y(i, len(downstream), height)
        parts.append(_edge(X[1] + NODE_W, mid_y + NODE_H // 2, X[2], y + NODE_H // 2))
        parts.append(_node(n, X[2], y, "down"))
    parts.append(_node(Node(name), X[1], mid_y, "self"))
    parts.append("</svg>")
    return Markup("".join(parts))


def lineage_view(
    name: str, lineage: Lineage | None, href: Callable[[str, str, str | None], str | None]
) -> SimpleNamespace | None:
    """What ``_lineage.html`` shows for table ``name`` (``None``: no lineage computed).

    ``href(db, table, None)`` links a qualified name to its page (``None`` when not in the
    site); external paths are shown but never linked.
    """
    if lineage is None:
        return None

    def link(qualified: str) -> Node:
        db, _, table = qualified.partition(".")
        return Node(qualified, href(db, table, None))

    up = [link(q) for q in lineage.upstream] + [Node(p, None, True) for p in lineage.external]
    down = [link(q) for q in lineage.downstream]
    return SimpleNamespace(
        upstream=up,
        downstream=down,
        declared=set(lineage.declared),
        unknown=lineage.unknown,
        svg=lineage_svg(name, up, down) if up or down else None,
    )
