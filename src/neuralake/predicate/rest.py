"""The API's REST filters: ``filter[col]OP=value`` query parameters of ``/api/tables/db.table``.

``ToRest`` renders a predicate as such parameters and :func:`parse_rest` reads them back into
:class:`~neuralake.filters.Filter` objects, so a rendered snippet and the server agree by
construction. Values are written bare (``filter[o_orderdate]gt=1998-07-01``) and typed by the
table's schema when parsed: ISO dates and times, decimals, ``true``/``false``, numbers; a
string column takes the text as it is.
"""

from __future__ import annotations

import datetime as dt
import decimal
import re
from collections.abc import Iterable
from typing import Any

import polars as pl

from neuralake.errors import InvalidFilterError, did_you_mean
from neuralake.filters import Filter, Op
from neuralake.predicate.tree import (
    AlwaysFalse,
    AlwaysTrue,
    And,
    Comparison,
    Or,
    PolarsExpr,
)
from neuralake.predicate.visitor import PredicateVisitor

RestParams = list[tuple[str, str]]

#: Filter operators as ``filter[col]OP`` suffixes (no suffix is equality).
REST_OPS: dict[Op, str] = {"=": "", "!=": "ne", "<": "lt", "<=": "lte", ">": "gt", ">=": "gte"}
_FROM_SUFFIX: dict[str, Op] = {suffix: op for op, suffix in REST_OPS.items()} | {"eq": "="}
_PARAM = re.compile(r"filter\[([^\[\]]+)\]([a-z]*)")


def rest_value(value: Any) -> str | None:
    """A filter value as REST text, else ``None`` (no bare form parses back to it)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float | decimal.Decimal):
        return str(value)
    if isinstance(value, dt.date | dt.datetime | dt.time):
        return value.isoformat()
    if isinstance(value, str):
        return value
    return None


class ToRest(PredicateVisitor[RestParams | None]):
    """Render a conjunction of comparisons as REST query parameters; ``None`` when REST
    cannot express the predicate (the SQL endpoint takes it instead)."""

    def visit_always_true(self, node: AlwaysTrue) -> RestParams | None:
        return []

    def visit_always_false(self, node: AlwaysFalse) -> RestParams | None:
        return None

    def visit_and(self, node: And) -> RestParams | None:
        params: RestParams = []
        for child in node.children:
            part = child.accept(self)
            if part is None:
                return None
            params.extend(part)
        return params

    def visit_or(self, node: Or) -> RestParams | None:
        return None

    def visit_polars_expr(self, node: PolarsExpr) -> RestParams | None:
        return None

    def _param(self, node: Comparison) -> RestParams | None:
        value = rest_value(node.value)
        if value is None or not _PARAM.fullmatch(f"filter[{node.column}]"):
            return None
        if isinstance(node.value, float) and node.dtype.is_integer():
            return None  # 1.5 matches no integer, but the server would refuse "1.5" for one
        suffix = REST_OPS[node.op]  # type: ignore[index]  # comparison leaves carry a comparison op
        return [(f"filter[{node.column}]{suffix}", value)]

    visit_equal_to = visit_not_equal_to = _param
    visit_less_than = visit_less_than_or_equal = _param
    visit_greater_than = visit_greater_than_or_equal = _param

    def _none(self, node: Any) -> RestParams | None:
        return None

    visit_in = visit_not_in = visit_contains = _none
    visit_includes = visit_includes_any = visit_includes_all = _none
    visit_is_null = visit_is_not_null = _none


def parse_rest(params: Iterable[tuple[str, str]], schema: pl.Schema, table: str) -> list[Filter]:
    """The filters that ``filter[...]`` query parameters say (an AND), values typed by
    ``schema``; other parameters are ignored (the caller checks them).

    Raises:
        InvalidFilterError: An unknown column or operator, or a value the column's type cannot
            take (the message names the expected form).
    """
    filters = []
    for key, text in params:
        m = _PARAM.fullmatch(key)
        if m is None:
            if key.startswith("filter"):
                raise InvalidFilterError(
                    f"Bad parameter {key!r} on table {table!r}: write filter[column]=value or "
                    f"filter[column]OP=value with OP in {', '.join(sorted(_FROM_SUFFIX))}."
                )
            continue
        column, suffix = m.groups()
        if suffix not in _FROM_SUFFIX:
            raise InvalidFilterError(
                f"Unknown filter operator {suffix!r} in {key!r} on table {table!r}; use one of "
                f"{', '.join(sorted(_FROM_SUFFIX))}, or POST the query to /api/sql."
            )
        if column not in schema:
            raise InvalidFilterError(
                f"Unknown filter column {column!r} on table {table!r}."
                f"{did_you_mean(column, schema.names())} Valid columns: "
                f"{', '.join(schema.names())}."
            )
        filters.append(Filter(column, _FROM_SUFFIX[suffix], _typed(text, schema[column], key)))
    return filters


def _typed(text: str, dtype: pl.DataType, key: str) -> Any:
    try:
        if dtype.is_integer():
            return int(text)
        if dtype.is_float():
            return float(text)
        if isinstance(dtype, pl.Decimal):
            return decimal.Decimal(text)
        if dtype == pl.Boolean:
            return {"true": True, "false": False}[text.lower()]
        if dtype == pl.Date:
            return dt.date.fromisoformat(text)
        if isinstance(dtype, pl.Datetime):
            return dt.datetime.fromisoformat(text)
        if dtype == pl.Time:
            return dt.time.fromisoformat(text)
    except (ValueError, KeyError, decimal.InvalidOperation):
        raise InvalidFilterError(
            f"{key}={text!r}: the column is {dtype}; {_FORMS.get(_kind(dtype), 'a value of it')}"
            " is expected."
        ) from None
    return text


_FORMS = {
    "int": "an integer such as 42",
    "float": "a number such as 1.5",
    "decimal": "a decimal such as 12.50",
    "bool": "true or false",
    "date": "an ISO date such as 1998-07-01",
    "datetime": "an ISO timestamp such as 1998-07-01T12:00:00",
    "time": "an ISO time such as 12:00:00",
}


def _kind(dtype: pl.DataType) -> str:
    if dtype.is_integer():
        return "int"
    if dtype.is_float():
        return "float"
    if isinstance(dtype, pl.Decimal):
        return "decimal"
    if isinstance(dtype, pl.Datetime):
        return "datetime"
    names: dict[Any, str] = {pl.Boolean: "bool", pl.Date: "date", pl.Time: "time"}
    return names.get(dtype, "")
