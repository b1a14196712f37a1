"""Turn one :class:`~neuralake.filters.Filter` into a validated leaf of the predicate tree."""

from __future__ import annotations

import datetime as dt
import decimal
from collections.abc import Iterable
from dataclasses import replace
from typing import Any

import polars as pl

from neuralake.errors import InvalidFilterError, did_you_mean
from neuralake.filters import Filter
from neuralake.predicate.leaves import LEAVES, IsNotNull, IsNull
from neuralake.predicate.tree import Comparison, Leaf, SetLeaf

_NULL_OPS = frozenset({"is null", "is not null"})


def where_clause(table: str) -> str:
    """`` on table 't'`` for error messages (empty without a table name)."""
    return f" on table {table!r}" if table else ""


def unknown_column(name: str, schema: pl.Schema, where: str) -> str:
    return (
        f"Unknown filter column {name!r}{where}.{did_you_mean(name, schema.names())} "
        f"Valid columns: {', '.join(schema.names())}."
    )


def check_roots(names: Iterable[str], schema: pl.Schema | None, where: str) -> None:
    """Refuse columns the schema does not have."""
    if schema is None:
        return
    for name in names:
        if name not in schema:
            raise InvalidFilterError(unknown_column(name, schema, where))


def bind_filter(f: Filter, schema: pl.Schema | None, where: str) -> Leaf:
    """The leaf for ``f``, its value checked against the column's type.

    Without a schema nothing is checked and the dtype is the one the value implies (for
    rendering documentation filters when no schema is at hand).
    """
    if schema is None:
        dtype = _implied_dtype(f)
    elif f.column not in schema:
        raise InvalidFilterError(unknown_column(f.column, schema, where))
    else:
        dtype = schema[f.column]
        f = _check(f, dtype, where)
    cls = LEAVES[f.op]
    if issubclass(cls, IsNull | IsNotNull):
        return cls(f.column, dtype)
    if issubclass(cls, SetLeaf):
        return cls(f.column, dtype, values=tuple(f.value))
    assert issubclass(cls, Comparison)
    return cls(f.column, dtype, value=f.value)


def _check(f: Filter, dtype: pl.DataType, where: str) -> Filter:
    """``f`` with its value checked, ISO strings for date/datetime columns parsed."""
    if f.op in _NULL_OPS:
        return f
    if f.op.startswith("includes"):
        if not isinstance(dtype, pl.List | pl.Array):
            raise InvalidFilterError(
                f"Filter {f.op!r} needs a list column, but {f.column!r}{where} is {dtype}; "
                "use '=', 'in' or 'contains' instead."
            )
        inner = dtype.inner
        assert inner is not None
        if f.op == "includes":
            return replace(f, value=_check_value(f, inner, f.value, where))
        return replace(f, value=tuple(_check_value(f, inner, v, where) for v in f.value))
    if f.op == "contains":
        if not isinstance(dtype, pl.String | pl.Categorical | pl.Enum) or not isinstance(
            f.value, str
        ):
            raise InvalidFilterError(
                f"Filter 'contains' needs a string column and a string value; "
                f"column {f.column!r}{where} is {dtype}, value is {f.value!r}."
            )
        return f
    if f.op in ("in", "not in"):
        return replace(f, value=tuple(_check_value(f, dtype, v, where) for v in f.value))
    return replace(f, value=_check_value(f, dtype, f.value, where))


def _accepts(dtype: Any, value: Any) -> bool:
    if isinstance(value, bool):
        return isinstance(dtype, pl.Boolean)
    if dtype.is_integer() or dtype.is_float() or isinstance(dtype, pl.Decimal):
        return isinstance(value, int | float | decimal.Decimal)
    if isinstance(dtype, pl.String | pl.Categorical | pl.Enum):
        return isinstance(value, str)
    if isinstance(dtype, pl.Datetime):
        return isinstance(value, dt.datetime)
    if isinstance(dtype, pl.Date):
        return isinstance(value, dt.date) and not isinstance(value, dt.datetime)
    if isinstance(dtype, pl.Time):
        return isinstance(value, dt.time)
    if isinstance(dtype, pl.Duration):
        return isinstance(value, dt.timedelta)
    if isinstance(dtype, pl.Binary):
        return isinstance(value, bytes)
    return False


def _check_value(f: Filter, dtype: Any, value: Any, where: str) -> Any:
    """``value`` if the column can hold it; an ISO string for a date/datetime column parsed
    here, once, so every renderer sees the typed value."""
    if isinstance(value, str) and isinstance(dtype, pl.Date | pl.Datetime):
        return _parse_iso(f, dtype, value, where)
    if not _accepts(dtype, value):
        raise InvalidFilterError(
            f"Filter {f.column!r} {f.op} {value!r}{where}: a {type(value).__name__} value does not "
            f"fit column {f.column!r} of type {dtype}. Pass a value of the column's type."
        )
    return value


def _parse_iso(f: Filter, dtype: Any, value: str, where: str) -> dt.date:
    is_date = isinstance(dtype, pl.Date)
    try:
        return dt.date.fromisoformat(value) if is_date else dt.datetime.fromisoformat(value)
    except ValueError:
        kind, example = (
            ("date", "datetime.date(1998, 7, 1) or '1998-07-01'")
            if is_date
            else ("datetime", "datetime.datetime(1998, 7, 1, 12, 0) or '1998-07-01T12:00:00'")
        )
        raise InvalidFilterError(
            f"Filter {f.column!r} {f.op} {value!r}{where}: column {f.column!r} is a {dtype} "
            f"column and {value!r} is not an ISO {kind}. Pass {example}."
        ) from None


def _implied_dtype(f: Filter) -> pl.DataType:
    if f.op in _NULL_OPS:
        return pl.Null()
    if f.op == "contains":
        return pl.String()
    values = list(f.value) if isinstance(f.value, tuple) else [f.value]
    try:
        inner = pl.Series(values, strict=False).dtype
    except Exception:  # values Polars cannot hold in one column: nothing to infer
        inner = pl.Object()
    return pl.List(inner) if f.op.startswith("includes") else inner
