"""What the API lets through to ROAPI: single read-only SELECT statements and REST reads.

ROAPI's own ``/api/sql`` runs ``INSERT`` and ``COPY ... TO`` (which writes files) even in its
default mode, so these checks are what makes the API read-only. A query is accepted only if:

- it is at most ``max_chars`` long and contains no comments, no ``$`` (dollar quoting or
  parameters) and no ``;`` except one trailing;
- sqlglot parses it as exactly one statement whose root is a ``SELECT`` (optionally with
  ``WITH`` or set operations such as ``UNION``);
- no node anywhere is a write, DDL, ``COPY``, ``SET``, ``SELECT ... INTO`` or an unparsed
  command, and every table it reads is a served table (or one of its own CTEs);
- its top-level ``LIMIT`` is a literal no larger than the row limit (a missing ``LIMIT`` is
  added).

Example:
    >>> check_sql("SELECT o_orderkey FROM tpch_orders", tables={"tpch_orders"}, row_limit=10)
    'SELECT o_orderkey FROM tpch_orders LIMIT 10'
    >>> check_sql("COPY (SELECT 1) TO '/tmp/x'", tables=set(), row_limit=10)
    Traceback (most recent call last):
    ...
    neuralake.api.guard.QueryRejectedError: Only a single SELECT (or WITH ... SELECT) statement is allowed; got Copy.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Collection, Mapping
from typing import Any

from neuralake.api.defaults import DEFAULT_MAX_SQL_CHARS, DEFAULT_ROW_LIMIT
from neuralake.errors import NeuralakeError

_FILTER = re.compile(r"^filter\[([A-Za-z_][A-Za-z0-9_]*)\](eq|lt|lte|lteq|gt|gte|gteq)?$")
_IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_SORT = re.compile(r"^[+-]?[A-Za-z_][A-Za-z0-9_]*$")
_FORBIDDEN_NODES = (
    "Insert", "Update", "Delete", "Merge", "Create", "Drop", "Alter", "Copy", "Command", "Set",
    "SetItem", "Into", "Describe", "Pragma", "Use", "Transaction", "Commit", "Rollback",
    "LoadData", "Cache", "Uncache", "Grant", "Revoke", "TruncateTable", "Refresh", "Analyze",
    "Kill", "Attach", "Detach", "Install", "Summarize", "Export",
)  # fmt: skip


class QueryRejectedError(NeuralakeError, ValueError):
    """The request is not a read the API allows; ``status`` is the HTTP status to answer."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


def check_sql(
    sql: str,
    *,
    tables: Collection[str],
    row_limit: int = DEFAULT_ROW_LIMIT,
    max_chars: int = DEFAULT_MAX_SQL_CHARS,
) -> str:
    """Validate a SQL query and return the text to send to ROAPI (with a ``LIMIT``).

    Args:
        sql: The client's query.
        tables: Names of the tables the query may read.
        row_limit: Most rows a query may return.
        max_chars: Longest accepted query.

    Raises:
        QueryRejectedError: The query is not a single bounded read of served tables.
    """
    if len(sql) > max_chars:
        raise QueryRejectedError(f"Query is {len(sql)} characters; the limit is {max_chars}.", 413)
    return _check_sql_cached(sql, frozenset(tables), row_limit, max_chars)


@functools.lru_cache(maxsize=1024)
def _check_sql_cached(sql: str, tables: frozenset[str], row_limit: int, max_chars: int) -> str:
    """:func:`check_sql` on hashable arguments (repeated dashboard queries skip re-parsing)."""
    import sqlglot
    from sqlglot import exp
    from sqlglot.errors import ParseError, TokenError

    text = _lexical_check(sql)
    try:
        tokens = sqlglot.tokenize(text)
    except TokenError as exc:
        raise QueryRejectedError(f"Cannot tokenize the query: {exc}") from exc
    if any(t.comments for t in tokens):
        raise QueryRejectedError("Comments are not allowed in queries.")
    try:
        statements = [s for s in sqlglot.parse(text) if s is not None]
    except (ParseError, TokenError) as exc:
        raise QueryRejectedError(f"Cannot parse the query: {_first_line(exc)}") from exc
    if len(statements) != 1:
        raise QueryRejectedError(
            f"Exactly one statement is allowed; got {len(statements)}. Send one SELECT."
        )
    root = statements[0]
    if not isinstance(root, exp.Select | exp.SetOperation | exp.Subquery):
        raise QueryRejectedError(
            "Only a single SELECT (or WITH ... SELECT) statement is allowed; "
            f"got {type(root).__name__}."
        )
    forbidden = tuple(getattr(exp, n) for n in _FORBIDDEN_NODES if hasattr(exp, n))
    ctes = {c.alias_or_name.lower() for c in root.find_all(exp.CTE)}
    allowed = {t.lower() for t in tables} | ctes
    for node in root.walk():
        if isinstance(node, forbidden):
            raise QueryRejectedError(f"{type(node).__name__} is not allowed: the API is read-only.")
        if isinstance(node, exp.Table):
            _check_table(node, allowed, exp)
    return _bounded(text, root, row_limit, exp)


def check_rest_params(
    params: Mapping[str, str] | Any, *, row_limit: int = DEFAULT_ROW_LIMIT
) -> list[tuple[str, str]]:
    """Validate ROAPI REST query parameters and cap ``limit`` at ``row_limit``.

    Accepted: ``columns=a,b``, ``sort=a,-b``, ``limit=N`` and ``filter[col]OP=value`` with OP
    one of ``eq lt lte gt gte`` (none means ``eq``). Values are ``'quoted strings'`` or
    numbers, as ROAPI expects.

    Raises:
        QueryRejectedError: An unknown parameter or a malformed value.
    """
    out: list[tuple[str, str]] = []
    limit = row_limit
    items = params.multi_items() if hasattr(params, "multi_items") else list(params.items())
    for key, value in items:
        if key == "columns":
            if not value or not all(_IDENT.match(c) for c in value.split(",")):
                raise QueryRejectedError(f"columns must be comma-separated names, got {value!r}.")
            out.append((key, value))
        elif key == "sort":
            if not value or not all(_SORT.match(c) for c in value.split(",")):
                raise QueryRejectedError(
                    f"sort must be comma-separated names, '-' for descending; got {value!r}."
                )
            out.append((key, value))
        elif key == "limit":
            if not value.isdigit():
                raise QueryRejectedError(f"limit must be a non-negative integer, got {value!r}.")
            limit = min(limit, int(value))
        elif _FILTER.match(key):
            if len(value) > 1000:
                raise QueryRejectedError(f"Filter value for {key} is too long.")
            out.append((key, value))
        else:
            raise QueryRejectedError(
                f"Unknown query parameter {key!r}. Use columns, sort, limit or "
                "filter[column]OP with OP one of eq, lt, lte, gt, gte."
            )
    out.append(("limit", str(limit)))
    return out


def _lexical_check(sql: str) -> str:
    """Reject comments, ``$`` and inner ``;`` outside quotes; drop one trailing ``;``."""
    text = sql.strip()
    quote: str | None = None
    i = 0
    semicolons: list[int] = []
    while i < len(text):
        ch = text[i]
        if quote:
            if ch == quote:
                if i + 1 < len(text) and text[i + 1] == quote:
                    i += 1  # doubled quote: an escaped quote inside the literal
                else:
                    quote = None
        elif ch in ("'", '"'):
            quote = ch
        elif text.startswith("--", i) or text.startswith("/*", i):
            raise QueryRejectedError("Comments are not allowed in queries.")
        elif ch == "$":
            raise QueryRejectedError("'$' (dollar quoting or parameters) is not allowed.")
        elif ch == ";":
            semicolons.append(i)
        elif ch == "\x00":
            raise QueryRejectedError("NUL characters are not allowed.")
        i += 1
    if quote:
        raise QueryRejectedError("Unterminated quoted string.")
    if semicolons and (len(semicolons) > 1 or text[semicolons[0] + 1 :].strip()):
        raise QueryRejectedError("Exactly one statement is allowed (found ';' inside the query).")
    if semicolons:
        text = text[: semicolons[0]].rstrip()
    if not text:
        raise QueryRejectedError("Empty query.")
    return text


def _check_table(node: Any, allowed: set[str], exp: Any) -> None:
    if not isinstance(node.this, exp.Identifier):
        raise QueryRejectedError(
            f"Table functions are not allowed ({node.sql()}); query the served tables."
        )
    if node.args.get("db") or node.args.get("catalog"):
        raise QueryRejectedError(
            f"Qualified table names are not allowed ({node.sql()}); use the table's API name."
        )
    if node.name.lower() not in allowed:
        raise QueryRejectedError(
            f"Unknown table {node.name!r}. Tables: {', '.join(sorted(allowed)) or 'none'}.", 404
        )


def _bounded(text: str, root: Any, row_limit: int, exp: Any) -> str:
    limit = root.args.get("limit")
    if root.args.get("fetch"):
        raise QueryRejectedError("Use LIMIT instead of FETCH.")
    if limit is None:
        if root.args.get("offset"):
            raise QueryRejectedError(f"A query with OFFSET needs a LIMIT of at most {row_limit}.")
        return f"{text} LIMIT {row_limit}"
    value = limit.expression if isinstance(limit, exp.Limit) else None
    if not isinstance(value, exp.Literal) or not value.is_int:
        raise QueryRejectedError("LIMIT must be a whole number.")
    if int(value.this) > row_limit:
        raise QueryRejectedError(f"LIMIT {value.this} exceeds the row limit of {row_limit}.")
    return text


def _first_line(exc: Exception) -> str:
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
