"""``ToSql``: the predicate as SQL for the catalog's SQL engine (Polars SQL, ``catalog.sql``).

Used by the site's SQL and command-line snippets. Values are rendered as literals (strings
with doubled quotes); ``contains`` becomes a regex match on the escaped needle, because Polars
SQL's ``STRPOS`` treats its needle as a pattern and its ``LIKE`` has no ``ESCAPE`` clause.
"""

from __future__ import annotations

import datetime as dt
import decimal
import functools
import re
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
from neuralake.predicate.tree import (
    AlwaysFalse,
    AlwaysTrue,
    And,
    Comparison,
    NotRenderableError,
    Or,
    PolarsExpr,
)
from neuralake.predicate.visitor import PredicateVisitor

# The characters Rust's regex::escape escapes (Polars' regex engine).
_REGEX_META = frozenset("\\.+*?()|[]{}^$#&-~")
_PLAIN = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def sql_ident(name: str) -> str:
    """An identifier for Polars SQL, double-quoted unless it is a plain, non-reserved name."""
    if _PLAIN.match(name) and name.lower() not in _reserved():
        return name
    return '"' + name.replace('"', '""') + '"'


@functools.cache
def _reserved() -> frozenset[str]:
    """The words sqlglot's DuckDB dialect (the catalog's SQL parser) quotes as identifiers."""
    from sqlglot.dialects.duckdb import DuckDB

    return frozenset(DuckDB.Generator.RESERVED_KEYWORDS)


def sql_literal(value: Any) -> str:
    """A Polars SQL literal for a filter value (strings quoted with doubled single quotes).

    Raises:
        NotRenderableError: A value with no literal form here (bytes, durations).
    """
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int | decimal.Decimal):
        return str(value)
    if isinstance(value, float):
        if value != value or value in (float("inf"), float("-inf")):
            return f"CAST('{value}' AS DOUBLE)"
        return repr(value)
    if isinstance(value, dt.datetime):
        return f"'{value.isoformat(sep=' ')}'::timestamp"
    if isinstance(value, dt.date):
        return f"DATE '{value.isoformat()}'"
    if isinstance(value, dt.time):
        return f"'{value.isoformat()}'::time"
    if isinstance(value, str):
        return "'" + value.replace("'", "''") + "'"
    raise NotRenderableError(f"Filter value {value!r} has no SQL literal form; filter in Python.")


def _regex_escape(text: str) -> str:
    return "".join("\\" + c if c in _REGEX_META else c for c in text)


class ToSql(PredicateVisitor[str]):
    """Render a predicate as a Polars SQL condition (the text after ``WHERE``).

    Raises:
        NotRenderableError: For a ``pl.Expr`` given directly (only Polars can run it).

    Example:
        >>> import polars as pl
        >>> from neuralake.filters import Filter
        >>> from neuralake.predicate import bind
        >>> schema = pl.Schema({"s": pl.String, "n": pl.Int64})
        >>> bind([Filter("s", "in", ["O'Neil"]), Filter("n", "<", 3)], schema).accept(ToSql())
        "s IN ('O''Neil') AND n < 3"
    """

    def visit_always_true(self, node: AlwaysTrue) -> str:
        return "TRUE"

    def visit_always_false(self, node: AlwaysFalse) -> str:
        return "FALSE"

    def visit_and(self, node: And) -> str:
        return " AND ".join(
            f"({c.accept(self)})" if isinstance(c, Or) else c.accept(self) for c in node.children
        )

    def visit_or(self, node: Or) -> str:
        return " OR ".join(
            f"({c.accept(self)})" if isinstance(c, And) else c.accept(self) for c in node.children
        )

    def visit_polars_expr(self, node: PolarsExpr) -> str:
        raise NotRenderableError(
            f"The Polars expression {node} has no SQL form; pass Filter objects or a SQL "
            "predicate string instead."
        )

    def _compare(self, node: Comparison) -> str:
        return f"{sql_ident(node.column)} {node.op} {sql_literal(node.value)}"

    def visit_equal_to(self, node: EqualTo) -> str:
        return self._compare(node)

    def visit_not_equal_to(self, node: NotEqualTo) -> str:
        return self._compare(node)

    def visit_less_than(self, node: LessThan) -> str:
        return self._compare(node)

    def visit_less_than_or_equal(self, node: LessThanOrEqual) -> str:
        return self._compare(node)

    def visit_greater_than(self, node: GreaterThan) -> str:
        return self._compare(node)

    def visit_greater_than_or_equal(self, node: GreaterThanOrEqual) -> str:
        return self._compare(node)

    def visit_in(self, node: In) -> str:
        if not node.matchable:
            return "FALSE"
        values = ", ".join(sql_literal(v) for v in node.matchable)
        return f"{sql_ident(node.column)} IN ({values})"

    def visit_not_in(self, node: NotIn) -> str:
        col = sql_ident(node.column)
        if not node.values:
            return "TRUE"
        if not node.matchable:  # no value the column can hold: every non-null cell passes
            return f"{col} IS NOT NULL"
        return f"{col} NOT IN ({', '.join(sql_literal(v) for v in node.matchable)})"

    def visit_contains(self, node: Contains) -> str:
        col = sql_ident(node.column)
        if not isinstance(node.dtype, pl.String):
            col = f"CAST({col} AS VARCHAR)"
        return f"REGEXP_LIKE({col}, {sql_literal(_regex_escape(node.value))})"

    def visit_includes(self, node: Includes) -> str:
        return f"ARRAY_CONTAINS({sql_ident(node.column)}, {sql_literal(node.value)})"

    def visit_includes_any(self, node: IncludesAny) -> str:
        if not node.values:
            return "FALSE"
        col = sql_ident(node.column)
        hits = [f"ARRAY_CONTAINS({col}, {sql_literal(v)})" for v in node.values]
        return hits[0] if len(hits) == 1 else "(" + " OR ".join(hits) + ")"

    def visit_includes_all(self, node: IncludesAll) -> str:
        col = sql_ident(node.column)
        if not node.values:
            return f"{col} IS NOT NULL"
        hits = [f"ARRAY_CONTAINS({col}, {sql_literal(v)})" for v in node.values]
        return hits[0] if len(hits) == 1 else "(" + " AND ".join(hits) + ")"

    def visit_is_null(self, node: IsNull) -> str:
        return f"{sql_ident(node.column)} IS NULL"

    def visit_is_not_null(self, node: IsNotNull) -> str:
        return f"{sql_ident(node.column)} IS NOT NULL"
