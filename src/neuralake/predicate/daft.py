"""``ToDaft``: the predicate as a Daft expression, for reads with ``engine="daft"``.

Imported only by the Daft engine (``daft`` is an optional dependency). Temporal values are cast
to the column's type, so a date or a zoned timestamp compares exactly as in Polars; null cells
behave as in :class:`~neuralake.predicate.polars.ToPolars` (a comparison with a null
cell is null, so the row is dropped, ``not in`` included).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import daft
import polars as pl
from daft import col, lit
from daft import functions as fn

from neuralake.errors import InvalidFilterError
from neuralake.predicate.visitor import PredicateVisitor

if TYPE_CHECKING:
    from polars._typing import PolarsDataType

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
        Or,
        PolarsExpr,
        SetLeaf,
    )


def daft_dtype(dtype: PolarsDataType) -> daft.DataType:
    """The Daft type of a Polars type (through Arrow, which both speak)."""
    return daft.DataType.from_arrow_type(pl.Series([], dtype=dtype).to_arrow().type)


def _value(value: Any, dtype: PolarsDataType) -> daft.Expression:
    # Temporal values take the column's type (unit, zone). Numbers are compared as they are:
    # a cast would turn 1.5 into 1 for an integer column, where 1.5 must match nothing.
    if dtype.is_temporal():
        return lit(value).cast(daft_dtype(dtype))
    return lit(value)


class ToDaft(PredicateVisitor[daft.Expression]):
    """Render a predicate as a ``daft.Expression`` (Daft pushes it into its scans).

    Example:
        >>> import daft
        >>> from neuralake.filters import Filter
        >>> from neuralake.predicate import bind
        >>> frame = daft.from_pydict({"n": [1, 2, 3]})
        >>> pred = bind([Filter("n", ">", 1)], {"n": pl.Int64})
        >>> frame.where(pred.accept(ToDaft())).to_pydict()["n"]
        [2, 3]
    """

    def visit_always_true(self, node: AlwaysTrue) -> daft.Expression:
        return lit(True)

    def visit_always_false(self, node: AlwaysFalse) -> daft.Expression:
        return lit(False)

    def visit_and(self, node: And) -> daft.Expression:
        exprs = [c.accept(self) for c in node.children]
        out = exprs[0]
        for e in exprs[1:]:
            out = out & e
        return out

    def visit_or(self, node: Or) -> daft.Expression:
        exprs = [c.accept(self) for c in node.children]
        out = exprs[0]
        for e in exprs[1:]:
            out = out | e
        return out

    def visit_polars_expr(self, node: PolarsExpr) -> daft.Expression:
        raise InvalidFilterError(
            f"A Polars expression filter ({node.expr}) cannot run on the Daft engine; write it "
            "as Filter(...) or a SQL predicate string, or read with engine='polars'."
        )

    def _compare(self, node: Comparison) -> tuple[daft.Expression, daft.Expression]:
        return col(node.column), _value(node.value, node.dtype)

    def visit_equal_to(self, node: EqualTo) -> daft.Expression:
        c, v = self._compare(node)
        return c == v

    def visit_not_equal_to(self, node: NotEqualTo) -> daft.Expression:
        c, v = self._compare(node)
        return c != v

    def visit_less_than(self, node: LessThan) -> daft.Expression:
        c, v = self._compare(node)
        return c < v

    def visit_less_than_or_equal(self, node: LessThanOrEqual) -> daft.Expression:
        c, v = self._compare(node)
        return c <= v

    def visit_greater_than(self, node: GreaterThan) -> daft.Expression:
        c, v = self._compare(node)
        return c > v

    def visit_greater_than_or_equal(self, node: GreaterThanOrEqual) -> daft.Expression:
        c, v = self._compare(node)
        return c >= v

    def visit_in(self, node: In) -> daft.Expression:
        return _is_in(node)

    def visit_not_in(self, node: NotIn) -> daft.Expression:
        return ~_is_in(node)

    def visit_contains(self, node: Contains) -> daft.Expression:
        return fn.contains(col(node.column).cast(daft.DataType.string()), node.value)

    def visit_includes(self, node: Includes) -> daft.Expression:
        return fn.list_contains(col(node.column), _value(node.value, _inner(node.dtype)))

    def visit_includes_any(self, node: IncludesAny) -> daft.Expression:
        hits = [
            fn.list_contains(col(node.column), _value(v, _inner(node.dtype))) for v in node.values
        ]
        return _fold(hits, any_=True) if hits else lit(False)

    def visit_includes_all(self, node: IncludesAll) -> daft.Expression:
        hits = [
            fn.list_contains(col(node.column), _value(v, _inner(node.dtype))) for v in node.values
        ]
        return _fold(hits, any_=False) if hits else col(node.column).not_null()

    def visit_is_null(self, node: IsNull) -> daft.Expression:
        return col(node.column).is_null()

    def visit_is_not_null(self, node: IsNotNull) -> daft.Expression:
        return col(node.column).not_null()


def _inner(dtype: PolarsDataType) -> PolarsDataType:
    return dtype.inner if isinstance(dtype, pl.List | pl.Array) else dtype


def _fold(exprs: list[daft.Expression], *, any_: bool) -> daft.Expression:
    out = exprs[0]
    for e in exprs[1:]:
        out = (out | e) if any_ else (out & e)
    return out


def _is_in(node: SetLeaf) -> daft.Expression:
    if not node.values:
        return lit(False)  # `not in []` therefore keeps every row, nulls included
    # Typed like the column (through a Polars Series, as ToPolars does), so Daft compares
    # dates with dates and decimals with decimals.
    series = pl.Series(values=node.matchable, dtype=node.dtype, strict=False)
    typed = [v for v in series.to_list() if v is not None]
    if not typed:  # no value fits the column: false, and null on a null cell (as in Polars)
        cell = col(node.column)
        return fn.when(cell.is_null(), lit(None).cast(daft.DataType.bool())).otherwise(lit(False))
    return col(node.column).is_in(typed)
