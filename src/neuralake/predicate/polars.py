"""``ToPolars``: the predicate as a Polars expression, the one every backend's scan applies."""

from __future__ import annotations

import polars as pl

from neuralake.filters import FilterSpec
from neuralake.predicate.bind import bind
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
from neuralake.predicate.tree import AlwaysFalse, AlwaysTrue, And, Or, PolarsExpr, SetLeaf
from neuralake.predicate.visitor import PredicateVisitor


class ToPolars(PredicateVisitor[pl.Expr]):
    """Render a predicate as a ``pl.Expr`` (Polars pushes it into the scan).

    Example:
        >>> import polars as pl
        >>> from neuralake.filters import Filter
        >>> from neuralake.predicate import bind
        >>> frame = pl.DataFrame({"n": [1, 2, 3], "s": ["a.", "a.b", "ab"]})
        >>> pred = bind([Filter("n", ">", 1), Filter("s", "contains", "a.")], frame.schema)
        >>> frame.filter(pred.accept(ToPolars()))["n"].to_list()
        [2]
    """

    def visit_always_true(self, node: AlwaysTrue) -> pl.Expr:
        return pl.lit(True)

    def visit_always_false(self, node: AlwaysFalse) -> pl.Expr:
        return pl.lit(False)

    def visit_and(self, node: And) -> pl.Expr:
        return pl.all_horizontal([c.accept(self) for c in node.children])

    def visit_or(self, node: Or) -> pl.Expr:
        return pl.any_horizontal([c.accept(self) for c in node.children])

    def visit_polars_expr(self, node: PolarsExpr) -> pl.Expr:
        return node.expr

    def visit_equal_to(self, node: EqualTo) -> pl.Expr:
        return pl.col(node.column).eq(node.value)

    def visit_not_equal_to(self, node: NotEqualTo) -> pl.Expr:
        return pl.col(node.column).ne(node.value)

    def visit_less_than(self, node: LessThan) -> pl.Expr:
        return pl.col(node.column).lt(node.value)

    def visit_less_than_or_equal(self, node: LessThanOrEqual) -> pl.Expr:
        return pl.col(node.column).le(node.value)

    def visit_greater_than(self, node: GreaterThan) -> pl.Expr:
        return pl.col(node.column).gt(node.value)

    def visit_greater_than_or_equal(self, node: GreaterThanOrEqual) -> pl.Expr:
        return pl.col(node.column).ge(node.value)

    def visit_in(self, node: In) -> pl.Expr:
        return _is_in(node)

    def visit_not_in(self, node: NotIn) -> pl.Expr:
        return ~_is_in(node)

    def visit_contains(self, node: Contains) -> pl.Expr:
        return pl.col(node.column).cast(pl.String).str.contains(node.value, literal=True)

    def visit_includes(self, node: Includes) -> pl.Expr:
        return pl.col(node.column).list.contains(node.value)

    def visit_includes_any(self, node: IncludesAny) -> pl.Expr:
        hits = [pl.col(node.column).list.contains(v) for v in node.values]
        return pl.any_horizontal(hits) if hits else pl.lit(False)

    def visit_includes_all(self, node: IncludesAll) -> pl.Expr:
        hits = [pl.col(node.column).list.contains(v) for v in node.values]
        return pl.all_horizontal(hits) if hits else pl.col(node.column).is_not_null()

    def visit_is_null(self, node: IsNull) -> pl.Expr:
        return pl.col(node.column).is_null()

    def visit_is_not_null(self, node: IsNotNull) -> pl.Expr:
        return pl.col(node.column).is_not_null()


def _is_in(node: SetLeaf) -> pl.Expr:
    if not node.values:
        return pl.lit(False)  # `not in []` therefore keeps every row, nulls included
    # Values the column cannot hold are dropped (see SetLeaf.matchable), not cast: the
    # membership test on a null cell stays null, so `not in [1.5]` still drops null rows.
    values = pl.Series(values=node.matchable, dtype=node.dtype, strict=False)
    return pl.col(node.column).is_in(values.implode())


def to_expr(filters: FilterSpec, schema: pl.Schema, *, table: str = "") -> pl.Expr | None:
    """Bind ``filters`` to ``schema`` and render them for Polars; ``None`` without a filter.

    Raises:
        InvalidFilterError: Unknown column, or a value whose type does not fit the column.
    """
    pred = bind(filters, schema, table=table)
    return None if isinstance(pred, AlwaysTrue) else pred.accept(ToPolars())
