"""``catalog.sql()``: sandboxed SQL over catalog tables, planned lazily by Polars' SQL engine.

Tables are referenced as ``db.table`` (or by a bare name that only one database has). The query
is checked by :func:`neuralake.query.sandbox.check_query` before anything is opened; sqlglot's
tree gives the tables it reads, so names inside string literals, comments, column references and
CTE names are never taken for tables. Only those tables are opened, each once, through the same
lazy read path as ``catalog.table``. Polars receives the SQL regenerated from the checked tree,
never the text as written, and never assembled from strings; before that, string literals
compared with table columns are checked against the columns' types and unaliased function
columns are given their SQL names.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any, TypeVar

import polars as pl
from sqlglot import exp
from sqlglot.errors import SqlglotError
from sqlglot.optimizer.normalize_identifiers import normalize_identifiers
from sqlglot.optimizer.scope import Scope, traverse_scope

from neuralake.errors import SQLError, SQLNotAllowedError, TableNotFoundError
from neuralake.query.sandbox import DIALECT, check_query, describe, engine_sql, name_columns

if TYPE_CHECKING:
    from neuralake.catalog import Catalog

_F = TypeVar("_F")

__all__ = ["DIALECT", "SQLError", "SQLNotAllowedError", "referenced_tables", "run_sql"]


def referenced_tables(catalog: Catalog, query: str | exp.Expr) -> dict[str, str]:
    """``{SQL name: qualified name}`` for every catalog table the query reads.

    The SQL name is the reference in lower case (``db.table`` or a bare name), which is how the
    table is registered for Polars (whose table lookup ignores case).

    Args:
        catalog: The catalog whose tables are looked up.
        query: The SQL text (checked by the sandbox first, without file functions) or a tree
            :func:`~neuralake.query.sandbox.check_query` returned.

    Raises:
        SQLError: The query does not parse.
        SQLNotAllowedError: The sandbox refuses the query.
        TableNotFoundError: A table it reads is not in the catalog, or a bare name is in several
            databases.
    """
    tree = check_query(query) if isinstance(query, str) else query
    qualified = {q.lower(): q for q in catalog.list_tables(include_deprecated=True)}
    bare: dict[str, list[str]] = {}
    for key, q in qualified.items():
        bare.setdefault(key.split(".", 1)[1], []).append(q)
    try:
        tables = list(_read_tables(tree))
    except RecursionError:
        raise SQLError(
            "Cannot run SQL query: it nests too deeply to plan; flatten it (e.g. with WITH clauses)"
        ) from None
    except SqlglotError as exc:
        raise SQLError(f"Cannot run SQL query: {describe(exc)}") from exc
    found: dict[str, str] = {}
    for table in tables:
        if not table.name:  # a file function allowed with allow_files=True
            continue
        sql_name = ".".join(p.name.lower() for p in table.parts)
        if sql_name in qualified:
            found[sql_name] = qualified[sql_name]
        elif len(table.parts) == 1 and len(bare.get(sql_name, ())) == 1:
            found[sql_name] = bare[sql_name][0]
        elif len(table.parts) == 1 and sql_name in bare:
            raise TableNotFoundError(
                f"Table name {table.name!r} is in several databases; use one of: "
                f"{', '.join(sorted(bare[sql_name]))}."
            )
        else:
            raise TableNotFoundError(
                f"No table {table.sql(dialect=DIALECT)!r} in catalog {catalog.name!r}. Tables "
                f"are named db.table; known tables: {', '.join(catalog.list_tables())}."
            )
    return found


def run_sql(catalog: Catalog, query: str, *, allow_files: bool = False) -> pl.LazyFrame:
    """Check ``query`` with the sandbox and plan it over the catalog's tables.

    Returns a LazyFrame; nothing is read. ``allow_files=True`` also lets the ``read_*`` file
    table functions through (local use only).

    A string literal compared with a catalog table's column (``=``, ``<``..., ``IN``,
    ``BETWEEN``) must read as the column's type; it is then passed to Polars in that type
    (``o_orderyear = '1998'`` compares with 1998, a date in ISO form with a date column).
    One that does not (``c_acctbal > 'lots'``, ``o_orderdate > '1998-13-01'``) raises
    :class:`SQLError` here rather than a Polars error at collect or no rows. Columns the
    checker cannot trace to a table column (expressions, set operations, correlated references)
    are left to Polars, as are casts of literals written out (``CAST('x' AS INT)``): those may
    still fail at collect.

    Unaliased output columns that call a function are named by their SQL text (``count(*)``,
    ``sum(l_quantity)``), not by Polars' default (``len``, the first input column).

    Raises:
        SQLError: The query does not parse or cannot be planned (e.g. an unknown column, or a
            string literal that does not fit the column it is compared with).
        SQLNotAllowedError: The sandbox refuses the query.
        TableNotFoundError: It reads a table the catalog does not have.
    """
    tree, tables, frames = prepare(
        catalog, query, catalog.table, pl.LazyFrame.collect_schema, allow_files=allow_files
    )
    ctx = pl.SQLContext()
    for sql_name, q in tables.items():
        ctx.register(sql_name, frames[q])
    text = engine_sql(tree)
    try:
        lf = ctx.execute(text, eager=False)
        lf.collect_schema()  # Polars resolves SQL lazily: surface unknown columns now
        return lf
    except pl.exceptions.PolarsError as exc:
        raise SQLError(f"Cannot run SQL query: {exc}") from exc


def prepare(
    catalog: Catalog,
    query: str,
    read: Callable[[str], _F],
    schema_of: Callable[[_F], pl.Schema],
    *,
    allow_files: bool = False,
) -> tuple[exp.Expr, dict[str, str], dict[str, _F]]:
    """What every engine runs a catalog query from: the checked tree (literals typed against
    the columns, function columns named), ``{SQL name: qualified name}`` and one frame per
    table, opened once by ``read`` (``customers`` and ``crm.customers`` share it).

    Raises:
        SQLError, SQLNotAllowedError, TableNotFoundError: As :func:`run_sql`.
    """
    tree = check_query(query, allow_files=allow_files)
    tables = referenced_tables(catalog, tree)
    frames = {q: read(q) for q in dict.fromkeys(tables.values())}
    try:
        schemas = {q: schema_of(frame) for q, frame in frames.items()}
    except pl.exceptions.PolarsError as exc:
        raise SQLError(f"Cannot run SQL query: {exc}") from exc
    type_literals(tree, {sql_name: schemas[q] for sql_name, q in tables.items()})
    return name_columns(tree), tables, frames


def _read_tables(tree: exp.Expr) -> Iterator[exp.Table]:
    """The tables the query reads (CTE references and table aliases resolved away)."""
    if isinstance(tree, exp.Command):  # EXPLAIN <checked query>
        tree = tree.expression
    # Normalise a copy: the tree itself is what the engine runs, with the user's spelling.
    tree = normalize_identifiers(tree.copy(), dialect=DIALECT)
    for scope in traverse_scope(tree):
        yield from (s for s in scope.sources.values() if isinstance(s, exp.Table))


_COMPARISONS = (exp.EQ, exp.NEQ, exp.GT, exp.GTE, exp.LT, exp.LTE)
_NUMBER = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?")
_INTEGER = re.compile(r"[+-]?\d+")


def type_literals(tree: exp.Expr, schemas: dict[str, pl.Schema]) -> None:
    """Check and convert, in place, string literals compared with catalog table columns.

    Args:
        tree: A tree from :func:`~neuralake.query.sandbox.check_query`.
        schemas: ``{SQL name: schema}`` of the tables it reads (as from
            :func:`referenced_tables`).

    Raises:
        SQLError: A literal does not read as its column's type (the message names the column,
            its type and the literal form to write).
    """
    query = tree.expression if isinstance(tree, exp.Command) else tree
    try:
        scopes = list(traverse_scope(query))
    except (SqlglotError, RecursionError):  # planning reports it
        return
    for scope in scopes:
        for column in scope.columns:
            for literal in _compared_strings(column):
                dtype = _column_dtype(scope, column, schemas, depth=0)
                if dtype is not None:
                    literal.replace(_typed(literal, column.name, dtype))


def _compared_strings(column: exp.Column) -> list[exp.Literal]:
    """The string literals ``column`` is compared with by its parent node."""
    parent = column.parent
    if isinstance(parent, _COMPARISONS):
        other = parent.expression if parent.this is column else parent.this
        values = [other]
    elif isinstance(parent, exp.In) and parent.this is column and not parent.args.get("query"):
        values = list(parent.expressions)
    elif isinstance(parent, exp.Between) and parent.this is column:
        values = [parent.args.get("low"), parent.args.get("high")]
    else:
        return []
    return [v for v in values if isinstance(v, exp.Literal) and v.is_string]


def _source(
    scope: Scope, column: exp.Column, schemas: dict[str, pl.Schema]
) -> exp.Table | Scope | None:
    """The source a column reads in ``scope`` (by its qualifier, else the one source that has
    a column of that name); ``None`` when that cannot be told."""
    sources = {k.lower(): v for k, v in scope.sources.items()}
    if column.table:
        found = sources.get(column.table.lower())
        return found if isinstance(found, exp.Table | Scope) else None
    if len(sources) == 1:
        only = next(iter(sources.values()))
        return only if isinstance(only, exp.Table | Scope) else None
    having = [s for s in sources.values() if _has_column(s, column.name, schemas)]
    return having[0] if len(having) == 1 else None


def _has_column(source: object, name: str, schemas: dict[str, pl.Schema]) -> bool:
    if isinstance(source, exp.Table):
        schema = schemas.get(".".join(p.name.lower() for p in source.parts))
        return schema is not None and _lookup(schema, name) is not None
    if isinstance(source, Scope) and isinstance(source.expression, exp.Select):
        names = [n.lower() for n in source.expression.named_selects]
        return name.lower() in names or "*" in names  # a star may hold it: cannot tell
    return True  # unknown sources may hold it: the column stays ambiguous


def _column_dtype(
    scope: Scope, column: exp.Column, schemas: dict[str, pl.Schema], depth: int
) -> pl.DataType | None:
    """The type of the catalog table column ``column`` stands for, if it can be traced."""
    source = _source(scope, column, schemas)
    if source is None or depth > 32:
        return None
    if isinstance(source, exp.Table):
        schema = schemas.get(".".join(p.name.lower() for p in source.parts))
        return None if schema is None else _lookup(schema, column.name)
    select = source.expression
    if not isinstance(select, exp.Select):  # a set operation: its branches may differ
        return None
    for projection in select.expressions:
        if projection.alias_or_name.lower() == column.name.lower():
            inner = projection.unalias()
            if isinstance(inner, exp.Column):
                return _column_dtype(source, inner, schemas, depth + 1)
            return None
    if any(isinstance(p, exp.Star) for p in select.expressions):
        return _column_dtype(source, exp.column(column.name), schemas, depth + 1)
    return None


def _lookup(schema: pl.Schema, name: str) -> pl.DataType | None:
    if name in schema:
        return schema[name]
    matches = [n for n in schema.names() if n.lower() == name.lower()]
    return schema[matches[0]] if len(matches) == 1 else None


def _typed(literal: exp.Literal, column: str, dtype: pl.DataType) -> exp.Expr:
    """``literal`` as a literal of ``dtype``; :class:`SQLError` when it is not one."""
    text = literal.this.strip()
    value: Any
    if dtype.is_integer():
        if _INTEGER.fullmatch(text):
            return exp.Literal.number(int(text))
        raise SQLError(_misfit(column, dtype, literal.this, "an integer", "1998 (no quotes)"))
    if dtype.is_float() or isinstance(dtype, pl.Decimal):
        if _NUMBER.fullmatch(text):
            return exp.Literal.number(text)
        raise SQLError(_misfit(column, dtype, literal.this, "a number", "1234.5 (no quotes)"))
    if isinstance(dtype, pl.Boolean):
        if text.lower() in ("true", "false"):
            return exp.Boolean(this=text.lower() == "true")
        raise SQLError(_misfit(column, dtype, literal.this, "a boolean", "TRUE or FALSE"))
    if isinstance(dtype, pl.Date):
        try:
            value = dt.date.fromisoformat(text)
        except ValueError:
            raise SQLError(
                _misfit(column, dtype, literal.this, "a date", "DATE '1998-07-01' or '1998-07-01'")
            ) from None
        return exp.Literal.string(value.isoformat())
    if isinstance(dtype, pl.Datetime):
        try:
            value = dt.datetime.fromisoformat(text)
        except ValueError:
            raise SQLError(
                _misfit(
                    column,
                    dtype,
                    literal.this,
                    "a timestamp",
                    "TIMESTAMP '1998-07-01 12:00:00' or '1998-07-01 12:00:00'",
                )
            ) from None
        return exp.Literal.string(value.isoformat(sep=" "))
    return literal


def _misfit(column: str, dtype: pl.DataType, text: str, kind: str, form: str) -> str:
    return (
        f"Cannot run SQL query: column {column!r} is {dtype}, and the string {text!r} it is "
        f"compared with is not {kind}; write {form}."
    )
