"""Copy-paste ``curl`` commands for the read-only API (used by the catalog site).

Example:
    >>> from neuralake import Filter
    >>> print(curl_snippet("http://127.0.0.1:8080", "tpch", "part",
    ...                    [Filter("p_brand", "=", "Brand#13"), Filter("p_size", "<", 10)]))
    curl -sG 'http://127.0.0.1:8080/api/tables/tpch_part' \\
      --data-urlencode "filter[p_brand]='Brand#13'" \\
      --data-urlencode 'filter[p_size]lt=10' \\
      --data-urlencode 'limit=100'
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Sequence
from typing import TYPE_CHECKING

from neuralake.filters import FilterSpec
from neuralake.predicate import AlwaysTrue, ToDataFusionSql, ToRest, bind

if TYPE_CHECKING:
    import polars as pl

_PLAIN = re.compile(r"^[a-z_][a-z0-9_]*$")  # DataFusion folds unquoted names to lower case


def rest_params(
    filters: FilterSpec, schema: pl.Schema | None = None
) -> list[tuple[str, str]] | None:
    """``filter[...]`` query parameters for ``filters``; ``None`` if REST cannot express them.

    ``schema`` validates the filters when given.
    """
    return bind(filters, schema).accept(ToRest())


def sql_for(
    name: str,
    filters: FilterSpec,
    limit: int,
    schema: pl.Schema | None = None,
    *,
    columns: Sequence[str] | None = None,
) -> str:
    """A DataFusion SELECT over API table ``name`` with ``filters`` (values as SQL literals)."""
    from sqlglot import exp

    cols = [exp.column(c, quoted=not _PLAIN.match(c)) for c in columns] if columns else ["*"]
    query = exp.select(*cols).from_(exp.to_identifier(name))
    pred = bind(filters, schema)
    if not isinstance(pred, AlwaysTrue):
        query = query.where(pred.accept(ToDataFusionSql()))
    return str(query.limit(limit).sql())


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
    name: str | None = None,
    columns: Sequence[str] | None = None,
    limit: int = 100,
    token_env: str | None = None,
    schema: pl.Schema | None = None,
) -> str:
    """A ``curl`` command that reads ``db.table`` through the API with its docs filters.

    Filters ROAPI's REST endpoint supports (``= < <= > >=`` on strings, numbers, dates) become
    ``filter[col]OP=value`` parameters on ``/api/tables/db_table``; otherwise the command posts
    the equivalent SELECT to ``/api/sql``.

    Args:
        api_base_url: Where the API is served, e.g. ``https://data.example.com``.
        db: Database name.
        table: Table name.
        docs_filters: The table's example filters (an AND).
        name: The table's API name if overridden (``extra["roapi_name"]``); default ``db_table``.
        columns: Columns to return.
        limit: Rows to ask for.
        token_env: Environment variable holding the bearer token, if the API requires one.
        schema: The table's schema, to validate the filters.
    """
    api_name = name or f"{db}_{table}"
    base = api_base_url.rstrip("/")
    auth = [f'-H "Authorization: Bearer ${token_env}"'] if token_env else []
    pred = bind(docs_filters, schema, table=f"{db}.{table}")
    params = pred.accept(ToRest())
    if params is not None:
        if columns:
            params.append(("columns", ",".join(columns)))
        params.append(("limit", str(limit)))
        lines = [f"curl -sG {shell_quote(f'{base}/api/tables/{api_name}')}", *auth]
        lines += [f"--data-urlencode {shell_quote(f'{k}={v}')}" for k, v in params]
    else:
        sql = sql_for(api_name, pred, limit, columns=columns)
        lines = [f"curl -s {shell_quote(f'{base}/api/sql')}", *auth,
                 f"--data-binary {shell_quote(sql)}"]  # fmt: skip
    return " \\\n  ".join(lines)
