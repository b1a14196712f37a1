"""SQL predicate strings: parsed by sqlglot, refused unless a plain predicate, then bound.

Comparisons, ``[NOT] IN`` lists, ``IS [NOT] NULL``, ``BETWEEN``, ``AND``/``OR``/``NOT`` and
literals become tree nodes (``NOT`` is pushed down to the leaves), so every renderer covers
them. Anything else that passed the safety check (``year(d) = 2024``, ``LIKE``) is handed to
``pl.sql_expr`` (as SQL regenerated from the checked tree) and kept as an opaque
:class:`~neuralake.predicate.tree.PolarsExpr`. Nothing here reads files or the network:
subqueries, tables, statements and functions outside the SQL sandbox's allow-list
(:mod:`neuralake.query.sandbox`) are refused before any engine sees the text.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

import polars as pl

from neuralake.errors import InvalidFilterError
from neuralake.filters import Filter
from neuralake.predicate.tree import AlwaysFalse, AlwaysTrue, PolarsExpr, Predicate, and_, or_
from neuralake.predicate.validate import bind_filter, check_roots

if TYPE_CHECKING:
    from sqlglot import exp

#: The dialect ``catalog.sql`` parses with: the closest to Polars' SQL.
DIALECT = "duckdb"
_NEGATED = {"=": "!=", "!=": "=", "<": ">=", ">=": "<", "<=": ">", ">": "<=",
            "in": "not in", "not in": "in", "is null": "is not null", "is not null": "is null"}  # fmt: skip
_FLIPPED = {"=": "=", "!=": "!=", "<": ">", ">": "<", "<=": ">=", ">=": "<="}


class _Untranslatable(Exception):
    """The expression is outside the subset the tree expresses (Polars may still take it)."""


def bind_sql(text: str, schema: pl.Schema | None, where: str) -> Predicate:
    """Bind the SQL predicate ``text``.

    Raises:
        InvalidFilterError: It does not parse, is not one plain predicate, names an unknown
            column or compares a column with a value of another type.
    """
    import sqlglot
    from sqlglot.errors import ParseError, SqlglotError

    from neuralake.errors import SQLError
    from neuralake.query.sandbox import check_nesting, check_predicate, engine_sql

    try:
        check_nesting(text, what="filter predicate")
        statements = [s for s in sqlglot.parse(text, read=DIALECT) if s is not None]
        if len(statements) != 1:
            raise InvalidFilterError(
                _cannot(text, where, f"it holds {len(statements)} statements, not one predicate")
            )
        tree = statements[0]
        check_predicate(tree)
        regenerated = engine_sql(tree)
    except SQLError as exc:  # refused, or nested past the limit
        raise InvalidFilterError(_cannot(text, where, str(exc))) from exc
    except RecursionError:
        raise InvalidFilterError(_cannot(text, where, "it nests too deeply to parse")) from None
    except SqlglotError as exc:
        reason = exc.errors[0].get("description") if isinstance(exc, ParseError) else None
        raise InvalidFilterError(_cannot(text, where, str(reason or exc))) from exc
    try:
        return _Translator(schema, where).predicate(tree, negate=False)
    except _Untranslatable:
        pass
    try:
        # The text regenerated from the checked tree: Polars parses exactly what was checked.
        expr = pl.sql_expr(regenerated)
    except Exception as exc:  # Polars raises several types for SQL it does not support
        raise InvalidFilterError(_cannot(text, where, str(exc))) from exc
    roots = frozenset(expr.meta.root_names())
    check_roots(sorted(roots), schema, where)
    return PolarsExpr(expr, roots, text)


def plain_predicate(node: exp.Expr, schema: pl.Schema) -> Predicate | None:
    """``node`` (a checked SQL expression) as a tree predicate over ``schema``'s bare columns,
    or ``None`` where it is not one (functions or casts of columns, qualified or unknown
    columns, subqueries): what part of a query's ``WHERE`` a scan can take."""
    try:
        return _Translator(schema, "").predicate(node, negate=False)
    except (_Untranslatable, InvalidFilterError):
        return None


def _cannot(text: str, where: str, reason: str) -> str:
    shown = text if len(text) <= 200 else text[:197] + "..."
    return (
        f"Cannot parse SQL predicate {shown!r}{where}: {reason}. A filter is one predicate over "
        "the table's columns and literals, e.g. \"o_orderkey < 10 AND o_status = 'F'\"."
    )


class _Translator:
    def __init__(self, schema: pl.Schema | None, where: str) -> None:
        self.schema = schema
        self.where = where

    def predicate(self, node: exp.Expr, *, negate: bool) -> Predicate:
        from sqlglot import exp

        if isinstance(node, exp.Paren):
            return self.predicate(node.this, negate=negate)
        if isinstance(node, exp.Not):
            return self.predicate(node.this, negate=not negate)
        if isinstance(node, exp.And | exp.Or):
            parts = (self.predicate(node.left, negate=negate),
                     self.predicate(node.right, negate=negate))  # fmt: skip
            # De Morgan holds in SQL's three-valued logic, so NOT moves down to the leaves.
            return and_(*parts) if isinstance(node, exp.And) != negate else or_(*parts)
        if isinstance(node, exp.Boolean):
            return AlwaysTrue() if bool(node.this) != negate else AlwaysFalse()
        if isinstance(node, exp.Is) and isinstance(node.expression, exp.Null):
            return self.leaf(self.column(node.this), "is null", None, negate)
        if isinstance(node, exp.In):
            if node.args.get("query") or node.args.get("unnest") or node.args.get("field"):
                raise _Untranslatable
            column = self.column(node.this)
            values = tuple(self.value(v, column) for v in node.expressions)
            return self.leaf(column, "in", values, negate)
        if isinstance(node, exp.Between) and not node.args.get("symmetric"):
            column = self.column(node.this)
            low, high = self.value(node.args["low"], column), self.value(node.args["high"], column)
            if negate:
                return or_(self.leaf(column, "<", low), self.leaf(column, ">", high))
            return and_(self.leaf(column, ">=", low), self.leaf(column, "<=", high))
        ops: dict[type[exp.Expr], str] = {
            exp.EQ: "=", exp.NEQ: "!=", exp.LT: "<", exp.LTE: "<=", exp.GT: ">", exp.GTE: ">=",
        }  # fmt: skip
        op = ops.get(type(node))
        if op is None:
            raise _Untranslatable
        if isinstance(node.this, exp.Column):
            column = self.column(node.this)
            return self.leaf(column, op, self.value(node.expression, column), negate)
        column = self.column(node.expression)
        return self.leaf(column, _FLIPPED[op], self.value(node.this, column), negate)

    def leaf(self, column: str, op: str, value: Any, negate: bool = False) -> Predicate:
        op = _NEGATED[op] if negate else op
        return bind_filter(Filter(column, op, value), self.schema, self.where)  # type: ignore[arg-type]

    def column(self, node: exp.Expr) -> str:
        from sqlglot import exp

        if (
            not isinstance(node, exp.Column)
            or node.table
            or not isinstance(node.this, exp.Identifier)
        ):
            raise _Untranslatable
        return str(node.name)

    def value(self, node: exp.Expr, column: str) -> Any:
        value = _literal(node)
        dtype = self.schema.get(column) if self.schema is not None else None
        # SQL compares temporal columns with ISO strings ('2024-01-02'); so does this subset.
        if isinstance(value, str) and isinstance(dtype, pl.Date | pl.Datetime):
            try:
                if isinstance(dtype, pl.Date):
                    return dt.date.fromisoformat(value)
                return dt.datetime.fromisoformat(value)
            except ValueError:
                return value  # validation names the column and its type
        return value


def _literal(node: exp.Expr) -> Any:
    from sqlglot import exp

    if isinstance(node, exp.Neg):
        inner = _literal(node.this)
        if isinstance(inner, bool) or not isinstance(inner, int | float):
            raise _Untranslatable
        return -inner
    if isinstance(node, exp.Boolean):
        return bool(node.this)
    if isinstance(node, exp.Literal):
        text = str(node.this)
        if node.is_string:
            return text
        try:
            return int(text)
        except ValueError:
            try:
                return float(text)
            except ValueError:
                raise _Untranslatable from None
    if isinstance(node, exp.Cast) and isinstance(node.this, exp.Literal) and node.this.is_string:
        kind = node.to.this
        try:
            if kind == exp.DataType.Type.DATE:
                return dt.date.fromisoformat(str(node.this.this))
            if kind in (exp.DataType.Type.TIMESTAMP, exp.DataType.Type.TIMESTAMPNTZ,
                        exp.DataType.Type.DATETIME):  # fmt: skip
                return dt.datetime.fromisoformat(str(node.this.this))
        except ValueError:
            raise _Untranslatable from None
    raise _Untranslatable
