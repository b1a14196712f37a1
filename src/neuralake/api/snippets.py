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

import datetime as dt
import re
import shlex
from collections.abc import Sequence
from typing import Any

from neuralake.filters import Filter

_PLAIN = re.compile(r"^[a-z_][a-z0-9_]*$")  # DataFusion folds unquoted names to lower case

#: Filter operators ROAPI's REST endpoint understands, as ``filter[col]OP=value`` suffixes.
REST_OPS = {"=": "", "<": "lt", "<=": "lte", ">": "gt", ">=": "gte"}


def rest_value(value: Any) -> str | None:
    """A filter value as ROAPI's REST syntax (``'quoted'`` string or number), else ``None``."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, dt.date | dt.datetime):
        value = value.isoformat()
    if isinstance(value, str):
        return "'" + value.replace("'", "''") + "'"
    return None


def rest_params(filters: Sequence[Filter]) -> list[tuple[str, str]] | None:
    """``filter[...]`` query parameters for an AND of filters; ``None`` if one cannot be expressed."""
    params = []
    for f in filters:
        op = REST_OPS.get(f.op)
        value = rest_value(f.value)
        if op is None or value is None:
            return None
        params.append((f"filter[{f.column}]{op}", value))
    return params


def sql_for(name: str, filters: Sequence[Filter], limit: int) -> str:
    """A SELECT over API table ``name`` with ``filters`` (values rendered as SQL literals)."""
    from sqlglot import exp

    query = exp.select("*").from_(exp.to_identifier(name))
    for f in filters:
        query = query.where(_condition(f, exp))
    return query.limit(limit).sql()


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
    docs_filters: Sequence[Filter] = (),
    *,
    name: str | None = None,
    columns: Sequence[str] | None = None,
    limit: int = 100,
    token_env: str | None = None,
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
    """
    api_name = name or f"{db}_{table}"
    base = api_base_url.rstrip("/")
    auth = [f'-H "Authorization: Bearer ${token_env}"'] if token_env else []
    params = rest_params(docs_filters)
    if params is not None:
        if columns:
            params.append(("columns", ",".join(columns)))
        params.append(("limit", str(limit)))
        lines = [f"curl -sG {shell_quote(f'{base}/api/tables/{api_name}')}", *auth]
        lines += [f"--data-urlencode {shell_quote(f'{k}={v}')}" for k, v in params]
    else:
        sql = sql_for(api_name, docs_filters, limit)
        if columns:
            from sqlglot import exp, parse_one

            tree = parse_one(sql)
            tree.set("expressions", [exp.column(c, quoted=not _PLAIN.match(c)) for c in columns])
            sql = tree.sql()
        lines = [f"curl -s {shell_quote(f'{base}/api/sql')}", *auth,
                 f"--data-binary {shell_quote(sql)}"]  # fmt: skip
    return " \\\n  ".join(lines)


def _condition(f: Filter, exp: Any) -> Any:
    col = exp.column(f.column, quoted=not _PLAIN.match(f.column))
    if f.op == "is null":
        return exp.Is(this=col, expression=exp.null())
    if f.op == "is not null":
        return exp.not_(exp.Is(this=col, expression=exp.null()))
    if f.op in ("in", "not in"):
        cond = col.isin(*[_literal(v, exp) for v in f.value]) if f.value else exp.false()
        return exp.not_(cond) if f.op == "not in" else cond
    if f.op == "contains":
        return exp.func("strpos", col, _literal(f.value, exp)).__gt__(0)
    if f.op.startswith("includes"):
        values = [f.value] if f.op == "includes" else list(f.value)
        parts = [exp.func("array_has", col, _literal(v, exp)) for v in values]
        joined = parts[0] if parts else exp.true()
        for p in parts[1:]:
            joined = exp.or_(joined, p) if f.op == "includes any" else exp.and_(joined, p)
        return joined
    ops = {"=": exp.EQ, "!=": exp.NEQ, "<": exp.LT, "<=": exp.LTE, ">": exp.GT, ">=": exp.GTE}
    return ops[f.op](this=col, expression=_literal(f.value, exp))


def _literal(value: Any, exp: Any) -> Any:
    if isinstance(value, bool):
        return exp.true() if value else exp.false()
    if isinstance(value, int | float):
        return exp.Literal.number(value)
    if isinstance(value, dt.date | dt.datetime):
        return exp.Literal.string(value.isoformat())
    return exp.Literal.string(str(value))
