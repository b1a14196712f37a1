"""``ToPython``: the predicate as the ``filters=`` argument of a Python snippet.

The code evaluates back to filters that select the same rows: values are Python literals that
round-trip (``datetime.date(...)``, ``decimal.Decimal('1.10')``, ``float("inf")``), so the
snippet needs ``import datetime`` / ``import decimal`` when it mentions them.
"""

from __future__ import annotations

import decimal
from typing import Any

from neuralake.predicate.leaves import (
    Contains,
    EqualTo,
    GreaterThan,
    GreaterThanOrEqual,
    In,
    Includes,
    IncludesAll,
    IncludesAny,
    IsNotNull,
    IsNull,
    LessThan,
    LessThanOrEqual,
    NotEqualTo,
    NotIn,
)
from neuralake.predicate.tree import (
    AlwaysFalse,
    AlwaysTrue,
    And,
    Comparison,
    Leaf,
    NotRenderableError,
    Or,
    PolarsExpr,
    Predicate,
    SetLeaf,
    dnf,
)
from neuralake.predicate.visitor import PredicateVisitor


def py_str(text: str) -> str:
    """A Python string literal, double-quoted when that needs no escaping."""
    if '"' not in text and "\\" not in text and text.isprintable():
        return f'"{text}"'
    return repr(text)


def py_value(value: Any) -> str:
    """A Python literal for a filter value that evaluates back to the same value."""
    if isinstance(value, str):
        return py_str(value)
    if isinstance(value, tuple | list):
        return "[" + ", ".join(py_value(v) for v in value) + "]"
    if isinstance(value, decimal.Decimal):
        return f"decimal.Decimal({str(value)!r})"
    if isinstance(value, float) and (value != value or value in (float("inf"), float("-inf"))):
        return f'float("{value}")'
    return repr(value)


class _FilterCode(PredicateVisitor[str]):
    """``Filter(...)`` for one leaf; anything else has no Filter form."""

    def _none(self, node: Predicate) -> str:
        raise NotRenderableError(
            f"{node} has no Filter form; pass Filter objects or a SQL predicate string."
        )

    def _leaf(self, node: Leaf) -> str:
        args = [py_str(node.column), py_str(node.op)]
        if isinstance(node, Comparison):
            args.append(py_value(node.value))
        elif isinstance(node, SetLeaf):
            args.append(py_value(node.values))
        return f"Filter({', '.join(args)})"

    def visit_always_true(self, node: AlwaysTrue) -> str:
        return self._none(node)

    def visit_always_false(self, node: AlwaysFalse) -> str:
        return self._none(node)

    def visit_and(self, node: And) -> str:
        return self._none(node)

    def visit_or(self, node: Or) -> str:
        return self._none(node)

    def visit_polars_expr(self, node: PolarsExpr) -> str:
        return self._none(node)

    def visit_equal_to(self, node: EqualTo) -> str:
        return self._leaf(node)

    def visit_not_equal_to(self, node: NotEqualTo) -> str:
        return self._leaf(node)

    def visit_less_than(self, node: LessThan) -> str:
        return self._leaf(node)

    def visit_less_than_or_equal(self, node: LessThanOrEqual) -> str:
        return self._leaf(node)

    def visit_greater_than(self, node: GreaterThan) -> str:
        return self._leaf(node)

    def visit_greater_than_or_equal(self, node: GreaterThanOrEqual) -> str:
        return self._leaf(node)

    def visit_in(self, node: In) -> str:
        return self._leaf(node)

    def visit_not_in(self, node: NotIn) -> str:
        return self._leaf(node)

    def visit_contains(self, node: Contains) -> str:
        return self._leaf(node)

    def visit_includes(self, node: Includes) -> str:
        return self._leaf(node)

    def visit_includes_any(self, node: IncludesAny) -> str:
        return self._leaf(node)

    def visit_includes_all(self, node: IncludesAll) -> str:
        return self._leaf(node)

    def visit_is_null(self, node: IsNull) -> str:
        return self._leaf(node)

    def visit_is_not_null(self, node: IsNotNull) -> str:
        return self._leaf(node)


class ToPython(PredicateVisitor[str]):
    """Render a predicate as Python code for ``filters=``: a list of ``Filter`` (AND) or a list
    of lists (OR of ANDs); ``None`` when nothing filters, ``"FALSE"`` when nothing passes.

    Args:
        indent: When given, a list of several filters is written one filter per line, the
            lines indented twice this much and the closing bracket once (the snippet layout).

    Raises:
        NotRenderableError: For a ``pl.Expr`` given directly.

    Example:
        >>> from neuralake.filters import Filter
        >>> from neuralake.predicate import bind
        >>> print(bind(Filter("d", "in", ["a", "b"]), None).accept(ToPython()))
        [Filter("d", "in", ["a", "b"])]
    """

    def __init__(self, indent: str | None = None) -> None:
        self.indent = indent

    def _code(self, node: Predicate) -> str:
        branches = dnf(node)
        if branches is None:
            raise NotRenderableError(f"{node} is too large to write as Filter lists.")
        if not branches:
            return '"FALSE"'
        if branches == ((),):
            return "None"
        codes = [[leaf.accept(_FilterCode()) for leaf in b] for b in branches]
        if len(codes) == 1:
            return self._list(codes[0])
        return self._list(["[" + ", ".join(c) + "]" for c in codes])

    def _list(self, items: list[str]) -> str:
        if self.indent is None or len(items) == 1:
            return "[" + ", ".join(items) + "]"
        inner = self.indent * 2
        return "[\n" + "".join(f"{inner}{item},\n" for item in items) + self.indent + "]"

    def visit_polars_expr(self, node: PolarsExpr) -> str:
        if node.text is None:
            return _FilterCode().visit_polars_expr(node)
        return py_str(node.text)  # filters= takes the SQL predicate string as it was given

    visit_always_true = visit_always_false = visit_and = visit_or = _code
    visit_equal_to = visit_not_equal_to = visit_less_than = visit_less_than_or_equal = _code
    visit_greater_than = visit_greater_than_or_equal = visit_in = visit_not_in = _code
    visit_contains = visit_includes = visit_includes_any = visit_includes_all = _code
    visit_is_null = visit_is_not_null = _code
