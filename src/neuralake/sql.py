"""``catalog.sql()``: SQL over catalog tables, planned lazily by Polars' SQL engine.

Tables are referenced as ``db.table`` (or by a bare name that only one database has). sqlglot
parses the query to find the tables it reads, so names inside string literals, comments,
column references and CTE names are never taken for tables. Only those tables are opened, each
once, through the same lazy read path as ``catalog.table``; the query text goes to Polars' SQL
parser as written and is never assembled from strings.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

import polars as pl
import sqlglot
from sqlglot import exp
from sqlglot.errors import ParseError, SqlglotError
from sqlglot.optimizer.normalize_identifiers import normalize_identifiers
from sqlglot.optimizer.scope import traverse_scope

from neuralake.errors import NeuralakeError, TableNotFoundError

if TYPE_CHECKING:
    from neuralake.catalog import Catalog

#: sqlglot's DuckDB dialect parses Polars' SQL best (``::`` casts, ``//``, ``~``, ``^@``,
#: ``EXCLUDE``/``REPLACE``/``RENAME``, ``GROUP BY ALL``); both match table names
#: case-insensitively, so identifiers are normalised to lower case before lookup.
DIALECT = "duckdb"


class SQLError(NeuralakeError, ValueError):
    """The SQL query could not be planned (syntax error, unknown column...)."""


def referenced_tables(catalog: Catalog, query: str) -> dict[str, str]:
    """``{SQL name: qualified name}`` for every catalog table the query reads.

    The SQL name is the reference in lower case (``db.table`` or a bare name), which is how the
    table is registered for Polars (whose table lookup ignores case).

    Raises:
        SQLError: The query does not parse.
        TableNotFoundError: A table it reads is not in the catalog, or a bare name is in several
            databases.
    """
    qualified = {q.lower(): q for q in catalog.list_tables(include_deprecated=True)}
    bare: dict[str, list[str]] = {}
    for key, q in qualified.items():
        bare.setdefault(key.split(".", 1)[1], []).append(q)
    try:
        tables = list(_read_tables(query))
    except SqlglotError as exc:
        raise SQLError(f"Cannot run SQL query: {_describe(exc)}") from exc
    found: dict[str, str] = {}
    for table in tables:
        if not table.name:  # a table function such as read_parquet(...)
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


def run_sql(catalog: Catalog, query: str) -> pl.LazyFrame:
    """Plan ``query`` over the catalog's tables; returns a LazyFrame (nothing is read)."""
    tables = referenced_tables(catalog, query)
    ctx = pl.SQLContext()
    frames: dict[str, pl.LazyFrame] = {}
    for sql_name, q in tables.items():
        if q not in frames:  # `customers` and `crm.customers` share one scan
            frames[q] = catalog.table(q)
        ctx.register(sql_name, frames[q])
    try:
        lf = ctx.execute(query, eager=False)
        lf.collect_schema()  # Polars resolves SQL lazily: surface unknown columns now
        return lf
    except pl.exceptions.PolarsError as exc:
        raise SQLError(f"Cannot run SQL query: {exc}") from exc


def _read_tables(query: str) -> Iterator[exp.Table]:
    """The tables each statement reads (CTE references and table aliases resolved away)."""
    for statement in sqlglot.parse(query, read=DIALECT):
        if isinstance(statement, exp.Command) and statement.name.upper() == "EXPLAIN":
            # sqlglot keeps EXPLAIN as raw text; Polars plans the statement it wraps.
            yield from _read_tables(statement.expression.name)
            continue
        if statement is None:
            continue
        tree = normalize_identifiers(statement, dialect=DIALECT)
        if isinstance(tree, exp.Query):
            for scope in traverse_scope(tree):
                yield from (s for s in scope.sources.values() if isinstance(s, exp.Table))
        else:  # statements without query scopes (e.g. SHOW) only name tables directly
            yield from tree.find_all(exp.Table)


def _describe(exc: SqlglotError) -> str:
    """sqlglot's error without its terminal highlighting."""
    if isinstance(exc, ParseError) and exc.errors:
        err = exc.errors[0]
        where = f" (line {err.get('line')}, column {err.get('col')})" if err.get("line") else ""
        return f"{err.get('description')}{where}"
    return str(exc)
