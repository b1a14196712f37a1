"""Filters: one declarative form, one translation to Polars for every backend.

A filter is a :class:`Filter` ``(column, op, value)``. A flat list of filters is an AND; a list
of lists is an OR of ANDs (disjunctive normal form). ``filters=`` also accepts a ``pl.Expr`` or a
SQL predicate string, which is parsed by Polars (never pasted into SQL text).

Every backend turns filters into the same Polars expression with :func:`to_expr`, so results
never differ by backend; Parquet tables additionally read :func:`pinned_values` to prune
partitions before the scan.

Example:
    >>> import polars as pl
    >>> expr = to_expr([Filter("n", ">", 1), Filter("s", "contains", "a.")],
    ...                pl.Schema({"n": pl.Int64, "s": pl.String}))
    >>> pl.DataFrame({"n": [1, 2, 3], "s": ["a.", "a.b", "ab"]}).filter(expr)["n"].to_list()
    [2]
"""

from __future__ import annotations

import datetime as dt
import decimal
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal, TypeAlias, get_args

import polars as pl

from neuralake.errors import InvalidFilterError, did_you_mean

if TYPE_CHECKING:
    from polars._typing import PolarsDataType

Op = Literal[
    "=", "!=", "<", "<=", ">", ">=", "in", "not in", "contains",
    "includes", "includes any", "includes all", "is null", "is not null",
]  # fmt: skip
OPS: tuple[str, ...] = get_args(Op)
_COLLECTION_OPS = frozenset({"in", "not in", "includes any", "includes all"})
_NULL_OPS = frozenset({"is null", "is not null"})


@dataclass(frozen=True)
class Filter:
    """One predicate on one column.

    Args:
        column: Column name.
        op: One of ``= != < <= > >= in, not in, contains, includes, includes any, includes all,
            is null, is not null``. ``contains`` is a literal substring match (never a regex);
            the ``includes`` family tests list columns.
        value: The value to compare with; a collection for ``in``/``not in``/``includes any``/
            ``includes all``; omitted for the null checks.

    Example:
        >>> Filter("p_brand", "in", ["Brand#13", "Brand#21"])
        Filter(column='p_brand', op='in', value=('Brand#13', 'Brand#21'))
    """

    column: str
    op: Op
    value: Any = None

    def __post_init__(self) -> None:
        if not isinstance(self.column, str) or not self.column:
            raise InvalidFilterError(
                f"Filter column must be a non-empty string, got {self.column!r}."
            )
        if self.op not in OPS:
            raise InvalidFilterError(
                f"Unknown filter operator {self.op!r} on column {self.column!r}."
                f"{did_you_mean(str(self.op), OPS)} Valid operators: {', '.join(OPS)}."
            )
        if self.op in _COLLECTION_OPS:
            if isinstance(self.value, str | bytes) or not isinstance(
                self.value, Sequence | set | frozenset
            ):
                raise InvalidFilterError(
                    f"Filter {self.op!r} on column {self.column!r} needs a list of values, "
                    f"got {self.value!r}."
                )
            values = self.value if isinstance(self.value, Sequence) else sorted(self.value)
            object.__setattr__(self, "value", tuple(values))
        elif self.op in _NULL_OPS:
            if self.value is not None:
                raise InvalidFilterError(
                    f"Filter {self.op!r} on column {self.column!r} takes no value."
                )
        elif self.value is None:
            raise InvalidFilterError(
                f"Filter {self.op!r} on column {self.column!r} has no value; "
                "use 'is null' / 'is not null' to test for nulls."
            )

    def to_dict(self) -> dict[str, Any]:
        """JSON-friendly form: ``{"column", "op", "value"}``."""
        value = list(self.value) if isinstance(self.value, tuple) else self.value
        return {"column": self.column, "op": self.op, "value": _jsonable(value)}


FilterSpec: TypeAlias = (
    "Filter | Sequence[Filter] | Sequence[Sequence[Filter]] | pl.Expr | str | None"
)
DNF: TypeAlias = tuple[tuple[Filter, ...], ...]


def to_dnf(filters: Filter | Sequence[Filter] | Sequence[Sequence[Filter]] | None) -> DNF:
    """Normalise ``Filter`` input to disjunctive normal form: a tuple of AND-branches.

    ``()`` means "no filter". Tuples such as ``("a", "=", 1)`` are refused: they are ambiguous
    between a filter and a list of filters; use :class:`Filter`.
    """
    if filters is None:
        return ()
    if isinstance(filters, Filter):
        return ((filters,),)
    if isinstance(filters, str | bytes) or not isinstance(filters, Sequence):
        raise InvalidFilterError(_bad_shape(filters))
    if not filters:
        return ()
    if all(isinstance(f, Filter) for f in filters):
        return (tuple(filters),)  # type: ignore[arg-type]
    branches: list[tuple[Filter, ...]] = []
    for branch in filters:
        if isinstance(branch, Filter):
            branches.append((branch,))
        elif (
            isinstance(branch, Sequence)
            and not isinstance(branch, str | bytes)
            and all(isinstance(f, Filter) for f in branch)
        ):
            branches.append(tuple(branch))
        else:
            raise InvalidFilterError(_bad_shape(branch))
    if not all(branches):
        return ()  # an empty AND-branch is always true, and so is the OR containing it
    return tuple(branches)


def _bad_shape(obj: object) -> str:
    return (
        f"Cannot use {obj!r} as a filter. Pass Filter(column, op, value), a list of Filters "
        "(AND), a list of lists of Filters (OR of ANDs), a polars expression, or a SQL "
        'predicate string such as "o_orderkey < 10".'
    )


def to_expr(filters: FilterSpec, schema: pl.Schema, *, table: str = "") -> pl.Expr | None:
    """Translate and validate ``filters`` against ``schema``; ``None`` when there is no filter.

    Raises:
        InvalidFilterError: unknown column, or a value whose type does not fit the column.
    """
    where = f" on table {table!r}" if table else ""
    if filters is None:
        return None
    if isinstance(filters, str):
        try:
            expr = pl.sql_expr(filters)
        except Exception as exc:
            raise InvalidFilterError(
                f"Cannot parse SQL predicate {filters!r}{where}: {exc}"
            ) from exc
        _check_roots(expr, schema, where)
        return expr
    if isinstance(filters, pl.Expr):
        _check_roots(filters, schema, where)
        return filters
    dnf = to_dnf(filters)
    if not dnf:
        return None
    ors = []
    for branch in dnf:
        ands = [_filter_expr(f, schema, where) for f in branch]
        ors.append(pl.all_horizontal(ands) if len(ands) > 1 else ands[0])
    return pl.any_horizontal(ors) if len(ors) > 1 else ors[0]


def filter_columns(filters: FilterSpec) -> set[str]:
    """The column names a filter reads."""
    if filters is None:
        return set()
    if isinstance(filters, str):
        filters = pl.sql_expr(filters)
    if isinstance(filters, pl.Expr):
        return set(filters.meta.root_names())
    return {f.column for branch in to_dnf(filters) for f in branch}


def describe(filters: FilterSpec) -> str:
    """A short human-readable summary for logs, e.g. ``(a = 1 AND b in [2, 3]) OR (c is null)``."""
    if filters is None:
        return "none"
    if isinstance(filters, str | pl.Expr):
        return str(filters)
    dnf = to_dnf(filters)
    if not dnf:
        return "none"
    parts = [
        " AND ".join(
            f"{f.column} {f.op}" + ("" if f.op in _NULL_OPS else f" {_short(f.value)}") for f in b
        )
        for b in dnf
    ]
    return parts[0] if len(parts) == 1 else " OR ".join(f"({p})" for p in parts)


def pinned_values(branch: Sequence[Filter], column: str) -> tuple[Any, ...] | None:
    """Values an AND-branch pins ``column`` to with ``=``/``in`` (``None`` if unpinned)."""
    pinned: set[Any] | None = None
    order: list[Any] = []
    for f in branch:
        if f.column != column or f.op not in ("=", "in"):
            continue
        values = (f.value,) if f.op == "=" else f.value
        order.extend(v for v in values if v not in order)
        pinned = set(values) if pinned is None else pinned & set(values)
    if pinned is None:
        return None
    return tuple(v for v in order if v in pinned)


def _check_roots(expr: pl.Expr, schema: pl.Schema, where: str) -> None:
    for name in expr.meta.root_names():
        if name not in schema:
            raise InvalidFilterError(_unknown_column(name, schema, where))


def _unknown_column(name: str, schema: pl.Schema, where: str) -> str:
    return (
        f"Unknown filter column {name!r}{where}.{did_you_mean(name, schema.names())} "
        f"Valid columns: {', '.join(schema.names())}."
    )


def _filter_expr(f: Filter, schema: pl.Schema, where: str) -> pl.Expr:
    if f.column not in schema:
        raise InvalidFilterError(_unknown_column(f.column, schema, where))
    dtype = schema[f.column]
    col = pl.col(f.column)
    if f.op == "is null":
        return col.is_null()
    if f.op == "is not null":
        return col.is_not_null()
    if f.op.startswith("includes"):
        if not isinstance(dtype, pl.List | pl.Array):
            raise InvalidFilterError(
                f"Filter {f.op!r} needs a list column, but {f.column!r}{where} is {dtype}; "
                "use '=', 'in' or 'contains' instead."
            )
        inner = dtype.inner
        assert inner is not None
        if f.op == "includes":
            _check_value(f, inner, f.value, where)
            return col.list.contains(f.value)
        for v in f.value:
            _check_value(f, inner, v, where)
        hits = [col.list.contains(v) for v in f.value]
        if f.op == "includes any":
            return pl.any_horizontal(hits) if hits else pl.lit(False)
        return pl.all_horizontal(hits) if hits else col.is_not_null()
    if f.op == "contains":
        if not isinstance(dtype, pl.String | pl.Categorical | pl.Enum) or not isinstance(
            f.value, str
        ):
            raise InvalidFilterError(
                f"Filter 'contains' needs a string column and a string value; "
                f"column {f.column!r}{where} is {dtype}, value is {f.value!r}."
            )
        return col.cast(pl.String).str.contains(f.value, literal=True)
    if f.op in ("in", "not in"):
        for v in f.value:
            _check_value(f, dtype, v, where)
        # A value the column cannot hold (1.5 in an integer column) matches nothing, as with
        # '='; the cast below would otherwise truncate it to 1.
        kept = [
            v
            for v in f.value
            if not (dtype.is_integer() and isinstance(v, float | decimal.Decimal) and v % 1)
        ]
        values = pl.Series(values=kept, dtype=dtype, strict=False).implode()
        hit = col.is_in(values) if f.value else pl.lit(False)
        return hit if f.op == "in" else ~hit
    _check_value(f, dtype, f.value, where)
    return {
        "=": col.__eq__, "!=": col.__ne__, "<": col.__lt__,
        "<=": col.__le__, ">": col.__gt__, ">=": col.__ge__,
    }[f.op](f.value)  # fmt: skip


def _accepts(dtype: PolarsDataType, value: Any) -> bool:
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


def _check_value(f: Filter, dtype: PolarsDataType, value: Any, where: str) -> None:
    if not _accepts(dtype, value):
        raise InvalidFilterError(
            f"Filter {f.column!r} {f.op} {value!r}{where}: a {type(value).__name__} value does not "
            f"fit column {f.column!r} of type {dtype}. Pass a value of the column's type."
        )


def _short(value: Any) -> str:
    text = repr(list(value) if isinstance(value, tuple) else value)
    return text if len(text) <= 60 else text[:57] + "..."


def _jsonable(value: Any) -> Any:
    if isinstance(value, list):
        return [_jsonable(v) for v in value]
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, dt.timedelta | decimal.Decimal | bytes):
        return str(value)
    return value
