"""One predicate, many renderers.

:func:`bind` normalises and validates filters (``Filter``, lists, ``pl.Expr``, SQL predicate
strings) against a schema once, into an immutable tree (:mod:`neuralake.predicate.tree`).
Every consumer is a :class:`PredicateVisitor`: Polars expressions for scans, SQL for
``catalog.sql`` and the API, Python snippets, the API's REST parameters, delta-rs
partition filters and Parquet partition pins, so every surface selects the same rows.

Example:
    >>> import polars as pl
    >>> from neuralake.filters import Filter
    >>> pred = bind(Filter("tags", "includes any", []), pl.Schema({"tags": pl.List(pl.String)}))
    >>> pred.accept(ToSql())
    'FALSE'
"""

from __future__ import annotations

from neuralake.predicate.bind import bind, filter_columns
from neuralake.predicate.delta import ToDeltaPartitionFilters, ToDeltaScanSql
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
from neuralake.predicate.partitions import PinnedPartitions, Pins, pinned_values
from neuralake.predicate.polars import ToPolars, to_expr
from neuralake.predicate.python import ToPython, py_value
from neuralake.predicate.rest import ToRest, parse_rest
from neuralake.predicate.sql import ToSql, sql_ident, sql_literal
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
    and_,
    dnf,
    or_,
)
from neuralake.predicate.visitor import PredicateVisitor

__all__ = [
    "AlwaysFalse",
    "AlwaysTrue",
    "And",
    "Comparison",
    "Contains",
    "EqualTo",
    "GreaterThan",
    "GreaterThanOrEqual",
    "In",
    "Includes",
    "IncludesAll",
    "IncludesAny",
    "IsNotNull",
    "IsNull",
    "Leaf",
    "LessThan",
    "LessThanOrEqual",
    "NotEqualTo",
    "NotIn",
    "NotRenderableError",
    "Or",
    "PinnedPartitions",
    "Pins",
    "PolarsExpr",
    "Predicate",
    "PredicateVisitor",
    "SetLeaf",
    "ToDeltaPartitionFilters",
    "ToDeltaScanSql",
    "ToPolars",
    "ToPython",
    "ToRest",
    "ToSql",
    "and_",
    "bind",
    "dnf",
    "filter_columns",
    "or_",
    "parse_rest",
    "pinned_values",
    "py_value",
    "sql_ident",
    "sql_literal",
    "to_expr",
]
