"""Filters: the declarative form users write, normalised to disjunctive normal form.

A filter is a :class:`Filter` ``(column, op, value)``. A flat list of filters is an AND; a list
of lists is an OR of ANDs (disjunctive normal form). ``filters=`` also accepts a ``pl.Expr``, a
SQL predicate string (parsed, never pasted into SQL text) or a predicate already bound.

:func:`neuralake.predicate.bind` validates filters against a table's schema once, into the
predicate tree every backend and renderer reads, so results never differ by backend.

Example:
    >>> to_dnf([Filter("n", ">", 1), Filter("s", "contains", "a.")])
    ((Filter(column='n', op='>', value=1), Filter(column='s', op='contains', value='a.')),)
"""

from __future__ import annotations

import datetime as dt
import decimal
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal, Protocol, TypeAlias, get_args

import polars as pl

from neuralake.errors import InvalidFilterError, did_you_mean

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


class BoundFilter(Protocol):
    """A filter already bound to a schema (a :class:`neuralake.predicate.Predicate`).

    ``filters=`` takes one as it is: the table reads it without validating it again.
    """

    @property
    def columns(self) -> frozenset[str]: ...

    def accept(self, visitor: Any) -> Any: ...


FilterSpec: TypeAlias = (
    "Filter | Sequence[Filter] | Sequence[Sequence[Filter]] | pl.Expr | str | BoundFilter | None"
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


def describe(filters: FilterSpec) -> str:
    """A short human-readable summary for logs, e.g. ``(a = 1 AND b in [2, 3]) OR (c is null)``."""
    if filters is None:
        return "none"
    if isinstance(filters, str | pl.Expr) or hasattr(filters, "accept"):
        return str(filters)  # SQL text, an expression or a bound predicate
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
