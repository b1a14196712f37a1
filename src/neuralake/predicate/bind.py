"""``bind``: the one place filters are normalised and validated against a schema."""

from __future__ import annotations

from collections.abc import Sequence
from typing import cast

import polars as pl

from neuralake.filters import Filter, FilterSpec, to_dnf
from neuralake.predicate.tree import AlwaysTrue, PolarsExpr, Predicate, and_, or_
from neuralake.predicate.validate import bind_filter, check_roots, where_clause


def bind(filters: FilterSpec, schema: pl.Schema | None, *, table: str = "") -> Predicate:
    """Normalise and validate ``filters`` against ``schema`` into one predicate tree.

    Args:
        filters: A :class:`~neuralake.filters.Filter`, a flat list of them (AND), a list of
            lists (OR of ANDs), a ``pl.Expr``, a SQL predicate string, ``None`` (no filter) or
            a predicate already bound (returned as it is once its columns are checked).
        schema: The table's schema. ``None`` skips validation (the leaves then carry the
            dtype their values imply): for rendering documentation filters without a schema.
        table: Table name for error messages.

    Returns:
        The predicate; :class:`~neuralake.predicate.tree.AlwaysTrue` when nothing filters.

    Raises:
        InvalidFilterError: Malformed filters, an unknown column (with close matches), a value
            of the wrong type, ``includes*`` on a non-list or ``contains`` on a non-string
            column, or a SQL string that is not one plain predicate.

    Example:
        >>> import polars as pl
        >>> from neuralake.filters import Filter
        >>> pred = bind([Filter("n", ">", 1), Filter("s", "in", ["a", "b"])],
        ...             pl.Schema({"n": pl.Int64, "s": pl.String}), table="db.t")
        >>> str(pred)
        "n > 1 AND s in ['a', 'b']"
        >>> bind("n > 1 OR s IS NULL", pl.Schema({"n": pl.Int64, "s": pl.String}))
        Or(children=(GreaterThan(column='n', dtype=Int64, value=1), IsNull(column='s', dtype=String)))
    """
    where = where_clause(table)
    if isinstance(filters, Predicate):
        check_roots(sorted(filters.columns), schema, where)
        return filters
    if filters is None:
        return AlwaysTrue()
    if isinstance(filters, str):
        from neuralake.predicate.sqlparse import bind_sql

        return bind_sql(filters, schema, where)
    if isinstance(filters, pl.Expr):
        names = filters.meta.root_names()
        check_roots(names, schema, where)
        return PolarsExpr(filters, frozenset(names))
    # Any other object is refused by to_dnf, with the shapes it accepts.
    branches = to_dnf(cast("Filter | Sequence[Filter] | Sequence[Sequence[Filter]]", filters))
    if not branches:
        return AlwaysTrue()
    return or_(*(and_(*(bind_filter(f, schema, where) for f in b)) for b in branches))


def filter_columns(filters: FilterSpec) -> set[str]:
    """The column names a filter reads (nothing is validated).

    Example:
        >>> sorted(filter_columns("a < 3 AND b IS NULL"))
        ['a', 'b']
    """
    return set(bind(filters, None).columns)
