"""Copy-paste ``curl`` commands for the read-only API (used by the catalog site).

Example:
    >>> from neuralake import Filter
    >>> print(curl_snippet("http://127.0.0.1:8080", "tpch", "part",
    ...                    [Filter("p_brand", "=", "Brand#13"), Filter("p_size", "<", 10)]))
    curl -sG 'http://127.0.0.1:8080/api/tables/tpch.part' \\
      --data-urlencode 'filter[p_brand]=Brand#13' \\
      --data-urlencode 'filter[p_size]lt=10' \\
      --data-urlencode 'limit=100'
"""

from __future__ import annotations

import shlex
from collections.abc import Sequence
from typing import TYPE_CHECKING

from neuralake.filters import FilterSpec
from neuralake.predicate import AlwaysTrue, ToRest, ToSql, bind, sql_ident

if TYPE_CHECKING:
    import polars as pl


def rest_params(
    filters: FilterSpec, schema: pl.Schema | None = None
) -> list[tuple[str, str]] | None:
    """``filter[...]`` query parameters for ``filters``; ``None`` if REST cannot express them.

    ``schema`` validates the filters when given.
    """
    return bind(filters, schema).accept(ToRest())


def sql_for(
    database: str,
    table: str,
    filters: FilterSpec,
    limit: int,
    schema: pl.Schema | None = None,
    *,
    columns: Sequence[str] | None = None,
) -> str:
    """``SELECT ... FROM db.table WHERE ... LIMIT n`` in the catalog's SQL (``catalog.sql`` and
    the API's ``/api/sql`` run the same text)."""
    cols = ", ".join(sql_ident(c) for c in columns) if columns else "*"
    query = f"SELECT {cols} FROM {sql_ident(database)}.{sql_ident(table)}"
    pred = bind(filters, schema, table=f"{database}.{table}")
    if not isinstance(pred, AlwaysTrue):
        query += " WHERE " + pred.accept(ToSql())
    return f"{query} LIMIT {limit}"


def shell_quote(text: str) -> str:
    """Quote for POSIX shells, preferring readable ``'...'`` or ``"..."`` forms."""
    if "'" not in text:
        return f"'{text}'"
    if not any(c in text for c in '"$`\\!'):
        return f'"{text}"'
    return shlex.quote(text)


def curl_snippet(
    api_base_url: str,
    db: str,
    table: str,
    docs_filters: FilterSpec = (),
    *,
    columns: Sequence[str] | None = None,
    limit: int = 100,
    token_env: str | None = None,
    schema: pl.Schema | None = None,
) -> str:
    """A ``curl`` command that reads ``db.table`` through the API with its docs filters.

    Conjunctions of comparisons become ``filter[col]OP=value`` parameters on
    ``/api/tables/db.table``; any other filter posts the equivalent SELECT to ``/api/sql``.

    Args:
        api_base_url: Where the API is served, e.g. ``https://data.example.com``.
        db: Database name.
        table: Table name.
        docs_filters: The table's example filters (an AND).
        columns: Columns to return.
        limit: Rows to ask for.
        token_env: Environment variable holding the bearer token, if the API requires one.
        schema: The table's schema, to validate the filters.
    """
    base = api_base_url.rstrip("/")
    auth = [f'-H "Authorization: Bearer ${token_env}"'] if token_env else []
    pred = bind(docs_filters, schema, table=f"{db}.{table}")
    params = pred.accept(ToRest())
    if params is not None:
        if columns:
            params.append(("columns", ",".join(columns)))
        params.append(("limit", str(limit)))
        lines = [f"curl -sG {shell_quote(f'{base}/api/tables/{db}.{table}')}", *auth]
        lines += [f"--data-urlencode {shell_quote(f'{k}={v}')}" for k, v in params]
    else:
        sql = sql_for(db, table, pred, limit, columns=columns)
        lines = [f"curl -s {shell_quote(f'{base}/api/sql')}", *auth,
                 f"--data-binary {shell_quote(sql)}"]  # fmt: skip
    return " \\\n  ".join(lines)
