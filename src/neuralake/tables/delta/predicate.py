"""SQL predicates handed to delta-rs, checked before delta-rs sees them.

delta-rs reports an unparsable predicate, an unknown column and rows outside an overwrite
predicate (or violating a ``CHECK`` constraint) with the same generic ``DeltaError`` it uses
for storage failures, so these are validated here first: parsed with sqlglot (in the dialect
delta-rs accepts: ``"..."`` and backticks quote identifiers), column references checked against
the schema, and the rows evaluated with Polars.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

import polars as pl
import sqlglot
from sqlglot import exp, tokens
from sqlglot.dialects.dialect import Dialect
from sqlglot.errors import SqlglotError

from neuralake.errors import InvalidParameterError, did_you_mean

if TYPE_CHECKING:
    from polars._typing import PolarsDataType

_REFUSED = (exp.Query, exp.Subquery, exp.DDL, exp.DML, exp.Command, exp.Placeholder)
_COMPARISONS = (exp.EQ, exp.NEQ, exp.GT, exp.GTE, exp.LT, exp.LTE)
_EXAMPLE = "\"day = '2024-01-01' AND region IN ('eu', 'us')\""


class DeltaSQL(Dialect):
    """The predicate syntax delta-rs' SQL parser accepts (DataFusion's generic dialect)."""

    class Tokenizer(tokens.Tokenizer):
        IDENTIFIERS = ['"', "`"]


def parse(text: object, *, label: str, what: str) -> exp.Expr:
    """Parse one boolean SQL expression; no statements, subqueries or parameters.

    Raises:
        InvalidParameterError: ``text`` is not a single SQL expression.
    """
    if not isinstance(text, str) or not text.strip():
        raise InvalidParameterError(
            f"Table {label!r}: {what} must be a non-empty SQL predicate such as {_EXAMPLE}, "
            f"got {text!r}."
        )
    try:
        trees = [t for t in sqlglot.parse(text, dialect=DeltaSQL) if t is not None]
    except SqlglotError as exc:
        where = getattr(exc, "errors", None) or [{}]
        line, col = where[0].get("line"), where[0].get("col")
        reason = f"at line {line}, column {col}" if line and col else type(exc).__name__
        raise InvalidParameterError(
            f"Table {label!r}: {what} {text!r} is not valid SQL ({reason}). "
            f"Write a boolean expression such as {_EXAMPLE}."
        ) from exc
    if len(trees) != 1 or any(isinstance(n, _REFUSED) for n in trees[0].walk()):
        raise InvalidParameterError(
            f"Table {label!r}: {what} {text!r} must be one boolean expression, without "
            f"statements or subqueries, such as {_EXAMPLE}."
        )
    return trees[0]


def _resolve(name: str, quoted: bool, columns: Sequence[str]) -> str | None:
    if name in columns:
        return name
    if quoted:
        return None
    folded = [c for c in columns if c.lower() == name.lower()]
    return folded[0] if len(folded) == 1 else None


def bind_columns(
    tree: exp.Expr,
    scopes: Mapping[str | None, Sequence[str]],
    *,
    label: str,
    what: str,
    text: str,
) -> exp.Expr:
    """Check every column reference and spell it as the schema does (quoted).

    Args:
        tree: A parsed predicate.
        scopes: Columns by table alias (``None``: unqualified names), e.g. ``{"t": [...]}``.
        label: The table's qualified name, for messages.
        what: What the predicate is for (``"predicate="``), for messages.
        text: The predicate as written, for messages.

    Raises:
        InvalidParameterError: An unknown alias or column.
    """
    bound = tree.copy()
    for column in list(bound.find_all(exp.Column)):
        alias = column.table or None
        if alias not in scopes:
            allowed = " or ".join(f"{a}.<column>" for a in scopes if a) or "column names"
            raise InvalidParameterError(
                f"Table {label!r}: {what} {text!r} refers to {column.sql(dialect=DeltaSQL)!r}; "
                f"use {allowed}."
            )
        names = scopes[alias]
        ident = column.this
        found = _resolve(column.name, bool(getattr(ident, "quoted", False)), names)
        if found is None:
            raise InvalidParameterError(
                f"Table {label!r}: {what} {text!r} names unknown column {column.name!r}."
                f"{did_you_mean(column.name, names)} Columns: {', '.join(names)}."
            )
        column.set("this", exp.to_identifier(found, quoted=True))
    return bound


def _temporal_type(node: exp.Expr, schema: pl.Schema) -> str | None:
    if not isinstance(node, exp.Column) or node.name not in schema:
        return None
    dtype: PolarsDataType = schema[node.name]
    if isinstance(dtype, pl.Date):
        return "DATE"
    if isinstance(dtype, pl.Datetime):
        return "TIMESTAMP"
    return None


def _as_time(node: exp.Expr, to: str) -> None:
    if isinstance(node, exp.Literal) and node.is_string:
        node.replace(exp.cast(node.copy(), to))


def _coerce_times(tree: exp.Expr, schema: pl.Schema) -> exp.Expr:
    """Cast string literals compared with date/time columns (DataFusion coerces them, Polars
    compares a date with a string as an error)."""
    out = tree.copy()
    for node in list(out.find_all(*_COMPARISONS)):
        for column, other in ((node.left, node.right), (node.right, node.left)):
            if to := _temporal_type(column, schema):
                _as_time(other, to)
    for ranged in list(out.find_all(exp.In, exp.Between)):
        if to := _temporal_type(ranged.this, schema):
            values = [*ranged.expressions, ranged.args.get("low"), ranged.args.get("high")]
            for value in values:
                if value is not None:
                    _as_time(value, to)
    return out


def rows_failing(df: pl.DataFrame, bound: exp.Expr) -> int | None:
    """How many rows of ``df`` the bound predicate does not hold for (null counts as failing,
    as in delta-rs' check); ``None`` when Polars cannot evaluate the expression."""
    tree = _coerce_times(bound, df.schema)
    try:
        expr = pl.sql_expr(tree.sql())
        failing = df.select(expr.fill_null(False).not_().sum()).item()
    except (pl.exceptions.PolarsError, SqlglotError, ValueError, TypeError):
        return None  # an expression only DataFusion knows: delta-rs checks it on write
    return int(failing)


def count_failing(df: pl.DataFrame, text: str, *, label: str, what: str) -> int | None:
    """Parse ``text``, check it names only columns of ``df`` and count the rows it fails.

    Returns:
        The number of failing rows, or ``None`` when Polars cannot evaluate the predicate.

    Raises:
        InvalidParameterError: ``text`` is not a predicate over the columns of ``df``.
    """
    tree = parse(text, label=label, what=what)
    bound = bind_columns(tree, {None: df.columns}, label=label, what=what, text=text)
    return rows_failing(df, bound)


CONSTRAINT_PREFIX = "delta.constraints."


def check_constraints(df: pl.DataFrame, configuration: Mapping[str, str], *, label: str) -> None:
    """Raise :class:`InvalidParameterError` if rows of ``df`` violate a ``CHECK`` constraint
    stored in the table's configuration (``delta.constraints.<name>``)."""
    for key, text in sorted(configuration.items()):
        if not key.startswith(CONSTRAINT_PREFIX) or not text:
            continue
        name = key.removeprefix(CONSTRAINT_PREFIX)
        what = f"constraint {name!r}"
        try:
            failing = count_failing(df, text, label=label, what=what)
        except InvalidParameterError:
            continue  # a constraint on columns this write does not carry: delta-rs checks it
        if failing:
            raise InvalidParameterError(
                f"Table {label!r}: {failing} of {df.height} rows violate {what} ({text}); "
                "fix or drop those rows before writing."
            )
