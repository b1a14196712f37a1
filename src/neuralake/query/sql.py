"""``catalog.sql()``: sandboxed SQL over catalog tables, planned lazily by Polars' SQL engine.

Tables are referenced as ``db.table`` (or by a bare name that only one database has). The query
is checked by :func:`neuralake.query.sandbox.check_query` before anything is opened; sqlglot's
tree gives the tables it reads, so names inside string literals, comments, column references and
CTE names are never taken for tables. Only those tables are opened, each once, through the same
lazy read path as ``catalog.table``. Polars receives the SQL regenerated from the checked tree,
never the text as written, and never assembled from strings.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

import polars as pl
from sqlglot import exp
from sqlglot.errors import SqlglotError
from sqlglot.optimizer.normalize_identifiers import normalize_identifiers
from sqlglot.optimizer.scope import traverse_scope

from neuralake.errors import SQLError, SQLNotAllowedError, TableNotFoundError
from neuralake.query.sandbox import DIALECT, check_query, describe, engine_sql

if TYPE_CHECKING:
    from neuralake.catalog import Catalog

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

    Raises:
        SQLError: The query does not parse or cannot be planned (e.g. an unknown column).
        SQLNotAllowedError: The sandbox refuses the query.
        TableNotFoundError: It reads a table the catalog does not have.
    """
    tree = check_query(query, allow_files=allow_files)
    tables = referenced_tables(catalog, tree)
    text = engine_sql(tree)
    ctx = pl.SQLContext()
    frames: dict[str, pl.LazyFrame] = {}
    for sql_name, q in tables.items():
        if q not in frames:  # `customers` and `crm.customers` share one scan
            frames[q] = catalog.table(q)
        ctx.register(sql_name, frames[q])
    try:
        lf = ctx.execute(text, eager=False)
        lf.collect_schema()  # Polars resolves SQL lazily: surface unknown columns now
        return lf
    except pl.exceptions.PolarsError as exc:
        raise SQLError(f"Cannot run SQL query: {exc}") from exc


def _read_tables(tree: exp.Expr) -> Iterator[exp.Table]:
    """The tables the query reads (CTE references and table aliases resolved away)."""
    if isinstance(tree, exp.Command):  # EXPLAIN <checked query>
        tree = tree.expression
    # Normalise a copy: the tree itself is what the engine runs, with the user's spelling.
    tree = normalize_identifiers(tree.copy(), dialect=DIALECT)
    for scope in traverse_scope(tree):
        yield from (s for s in scope.sources.values() if isinstance(s, exp.Table))
