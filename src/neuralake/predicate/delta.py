"""``ToDeltaPartitionFilters``: the predicate as delta-rs ``partition_filters``.

delta-rs selects files by ``(column, op, value)`` tuples on partition columns, comparing each
value with the partition value parsed to the column's type; ``''`` stands for a null partition
value. So a conjunction of tests on string, integer, date and boolean partition columns is
exact, as long as no string value is ``''`` (delta-rs cannot tell it from null). Float
partitions are never rendered: ``-0.0`` and ``0.0`` are different partition strings.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import polars as pl

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
from neuralake.predicate.tree import AlwaysFalse, AlwaysTrue, And, Comparison, Leaf, Or, PolarsExpr
from neuralake.predicate.visitor import PredicateVisitor

DeltaFilters = list[tuple[str, str, Any]]
_NULL = ""  # delta-rs' spelling of a null partition value


class ToDeltaPartitionFilters(PredicateVisitor[DeltaFilters | None]):
    """Render a conjunction on partition columns as delta-rs ``partition_filters``.

    Args:
        partition_columns: The table's partition columns.

    Returns (from ``accept``):
        The tuples (``[]`` when nothing filters), or ``None`` when the predicate is not a
        conjunction of tests delta-rs evaluates exactly on these partition columns.

    Example:
        >>> import polars as pl
        >>> from neuralake.filters import Filter
        >>> from neuralake.predicate import bind
        >>> pred = bind([Filter("year", "in", [2021, 2022]), Filter("kind", "is null")],
        ...             pl.Schema({"year": pl.Int64, "kind": pl.String}))
        >>> pred.accept(ToDeltaPartitionFilters(["year", "kind"]))
        [('year', 'in', [2021, 2022]), ('kind', '=', '')]
    """

    def __init__(self, partition_columns: Sequence[str]) -> None:
        self.partition_columns = frozenset(partition_columns)

    def _usable(self, node: Leaf) -> bool:
        d = node.dtype
        return node.column in self.partition_columns and (
            d.is_integer() or isinstance(d, pl.String | pl.Date | pl.Boolean)
        )

    def _value(self, node: Leaf, value: Any) -> Any:
        """The value delta-rs compares exactly, or ``None``."""
        if isinstance(value, str) and value == _NULL:
            return None
        if node.dtype.is_integer() and isinstance(value, float):
            return int(value) if not value % 1 else None
        return value

    def _compare(self, node: Comparison) -> DeltaFilters | None:
        if not self._usable(node) or (
            isinstance(node.dtype, pl.Boolean) and node.op not in ("=", "!=")
        ):
            return None
        value = self._value(node, node.value)
        if value is None:
            if node.op in ("=", "!=") and node.dtype.is_integer():  # 1.5 in an integer column
                return [(node.column, "in", [])] if node.op == "=" else self._not_null(node)
            return None
        return [(node.column, node.op, value)]

    def _not_null(self, node: Leaf) -> DeltaFilters | None:
        return [(node.column, "!=", _NULL)] if self._usable(node) else None

    def visit_always_true(self, node: AlwaysTrue) -> DeltaFilters | None:
        return []

    def visit_always_false(self, node: AlwaysFalse) -> DeltaFilters | None:
        return None

    def visit_and(self, node: And) -> DeltaFilters | None:
        out: DeltaFilters = []
        for child in node.children:
            part = child.accept(self)
            if part is None:
                return None
            out.extend(part)
        return out

    def visit_or(self, node: Or) -> DeltaFilters | None:
        return None

    def visit_polars_expr(self, node: PolarsExpr) -> DeltaFilters | None:
        return None

    def visit_equal_to(self, node: EqualTo) -> DeltaFilters | None:
        return self._compare(node)

    def visit_not_equal_to(self, node: NotEqualTo) -> DeltaFilters | None:
        return self._compare(node)

    def visit_less_than(self, node: LessThan) -> DeltaFilters | None:
        return self._compare(node)

    def visit_less_than_or_equal(self, node: LessThanOrEqual) -> DeltaFilters | None:
        return self._compare(node)

    def visit_greater_than(self, node: GreaterThan) -> DeltaFilters | None:
        return self._compare(node)

    def visit_greater_than_or_equal(self, node: GreaterThanOrEqual) -> DeltaFilters | None:
        return self._compare(node)

    def visit_in(self, node: In) -> DeltaFilters | None:
        if not self._usable(node) or any(v == _NULL for v in node.matchable):
            return None
        return [(node.column, "in", list(node.matchable))]

    def visit_not_in(self, node: NotIn) -> DeltaFilters | None:
        if not self._usable(node) or any(v == _NULL for v in node.matchable):
            return None
        if node.values and not node.matchable:  # no value the column can hold
            return self._not_null(node)
        return [(node.column, "not in", list(node.matchable))]

    def visit_contains(self, node: Contains) -> DeltaFilters | None:
        return None

    def visit_includes(self, node: Includes) -> DeltaFilters | None:
        return None

    def visit_includes_any(self, node: IncludesAny) -> DeltaFilters | None:
        return None

    def visit_includes_all(self, node: IncludesAll) -> DeltaFilters | None:
        return None

    def visit_is_null(self, node: IsNull) -> DeltaFilters | None:
        return [(node.column, "=", _NULL)] if self._usable(node) else None

    def visit_is_not_null(self, node: IsNotNull) -> DeltaFilters | None:
        return self._not_null(node)


class ToDeltaScanSql(PredicateVisitor[str | None]):
    """Render the predicate as a DataFusion SQL filter for delta-rs' own scan, never narrower
    than the predicate (``None``: nothing to push down).

    Only tests DataFusion evaluates exactly like Polars are rendered (``= < <= > >=``, ``in``,
    ``is [not] null`` on integer, string, date and boolean columns); other conjuncts are
    dropped, which only widens the scan, since the caller applies the full predicate to what
    the scan returns.

    Args:
        schema: The stored schema: its types decide how literals are written.

    Example:
        >>> import polars as pl
        >>> from neuralake.filters import Filter
        >>> from neuralake.predicate import bind
        >>> schema = pl.Schema({"p": pl.String, "v": pl.Float64})
        >>> bind([Filter("p", "=", "x"), Filter("v", ">", 0.5)], schema).accept(
        ...     ToDeltaScanSql(schema))
        '("p" = \\'x\\')'
    """

    def __init__(self, schema: pl.Schema) -> None:
        self.schema = schema

    def visit_always_true(self, node: AlwaysTrue) -> str | None:
        return None

    def visit_always_false(self, node: AlwaysFalse) -> str | None:
        return "FALSE"

    def visit_and(self, node: And) -> str | None:
        parts = [p for p in (c.accept(self) for c in node.children) if p is not None]
        return " AND ".join(f"({p})" for p in parts) if parts else None

    def visit_or(self, node: Or) -> str | None:
        either = [c.accept(self) for c in node.children]
        if not either or any(p is None for p in either):
            return None  # one unrenderable branch widens the whole OR to everything
        return " OR ".join(f"({p})" for p in either if p)

    def visit_polars_expr(self, node: PolarsExpr) -> str | None:
        return None

    def _column(self, node: Leaf) -> str | None:
        if node.column not in self.schema:
            return None
        return '"' + node.column.replace('"', '""') + '"'

    def _literal(self, value: Any, column: str) -> str | None:
        dtype = self.schema[column]
        if isinstance(dtype, pl.Boolean) and isinstance(value, bool):
            return "TRUE" if value else "FALSE"
        if dtype.is_integer() and isinstance(value, int) and not isinstance(value, bool):
            return str(value)
        if isinstance(dtype, pl.String) and isinstance(value, str):
            return "'" + value.replace("'", "''") + "'"
        if (
            isinstance(dtype, pl.Date)
            and hasattr(value, "isoformat")
            and not hasattr(value, "hour")
        ):
            return f"DATE '{value.isoformat()}'"
        return None

    def _compare(self, node: Comparison) -> str | None:
        col = self._column(node)
        value = None if col is None else self._literal(node.value, node.column)
        return None if value is None else f"{col} {node.op} {value}"

    visit_equal_to = visit_less_than = visit_less_than_or_equal = _compare
    visit_greater_than = visit_greater_than_or_equal = _compare

    def visit_in(self, node: In) -> str | None:
        col = self._column(node)
        if col is None:
            return None
        values = [self._literal(v, node.column) for v in node.matchable]
        if not values or any(v is None for v in values):
            return None
        return f"{col} IN ({', '.join(v for v in values if v)})"

    def visit_is_null(self, node: IsNull) -> str | None:
        col = self._column(node)
        return None if col is None else f"{col} IS NULL"

    def visit_is_not_null(self, node: IsNotNull) -> str | None:
        col = self._column(node)
        return None if col is None else f"{col} IS NOT NULL"

    def _widen(self, node: Any) -> str | None:
        return None

    visit_not_equal_to = visit_not_in = visit_contains = _widen
    visit_includes = visit_includes_any = visit_includes_all = _widen
