"""``catalog.sql()``: SQL over catalog tables, planned lazily by Polars' SQL engine.

Tables are referenced as ``db.table`` (or by a bare name that only one database has). Only the
tables a query names are opened, each through the same lazy read path as ``catalog.table``; the
query text goes to Polars' SQL parser as written and is never assembled from strings.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

import polars as pl

from neuralake.errors import NeuralakeError, TableNotFoundError

if TYPE_CHECKING:
    from neuralake.catalog import Catalog

_IDENT = r'(?:"[^"]+"|[A-Za-z_][A-Za-z0-9_]*)'
_QUALIFIED = re.compile(rf"({_IDENT})\s*\.\s*({_IDENT})|({_IDENT})")
# A bare name is a table only where a table can stand: after FROM, JOIN or a comma.
_TABLE_POSITION = re.compile(r"(?:\bFROM|\bJOIN|,)\s*$", re.IGNORECASE)


class SQLError(NeuralakeError, ValueError):
    """The SQL query could not be planned (syntax error, unknown column...)."""


def referenced_tables(catalog: Catalog, query: str) -> dict[str, str]:
    """``{name as written in SQL: qualified name}`` for every catalog table the query names."""
    qualified = set(catalog.list_tables(include_deprecated=True))
    bare: dict[str, list[str]] = {}
    for q in qualified:
        bare.setdefault(q.split(".", 1)[1], []).append(q)
    found: dict[str, str] = {}
    for m in _QUALIFIED.finditer(query):
        if m.group(1):
            db, name = m.group(1).strip('"'), m.group(2).strip('"')
            if f"{db}.{name}" in qualified:
                found[f"{db}.{name}"] = f"{db}.{name}"
        elif (
            (word := m.group(3).strip('"')) in bare
            and len(bare[word]) == 1
            and _TABLE_POSITION.search(query, 0, m.start())
        ):
            found[word] = bare[word][0]
    return found


def run_sql(catalog: Catalog, query: str) -> pl.LazyFrame:
    """Plan ``query`` over the catalog's tables; returns a LazyFrame (nothing is read)."""
    tables = referenced_tables(catalog, query)
    ctx = pl.SQLContext()
    for sql_name, qualified in tables.items():
        ctx.register(sql_name, catalog.table(qualified))
    try:
        lf = ctx.execute(query, eager=False)
        lf.collect_schema()  # Polars resolves SQL lazily: surface unknown tables now, not at collect
        return lf
    except pl.exceptions.PolarsError as exc:
        message = str(exc)
        lower = message.lower()
        if "not found" in lower and ("table" in lower or "relation" in lower):
            raise TableNotFoundError(
                f"{message}. Tables are named db.table; known tables: "
                f"{', '.join(catalog.list_tables())}."
            ) from exc
        raise SQLError(f"Cannot run SQL query: {message}") from exc
