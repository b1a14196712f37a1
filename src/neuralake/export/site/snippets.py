"""Copy-paste code snippets for a table that run as printed.

Three forms: Python through the catalog API (with the table's docs filters and columns), Python
through ``catalog.sql`` and the ``neuralake query`` command line. Filter values are rendered with
``repr`` in Python (so they round-trip) and as properly quoted literals in SQL.
"""

from __future__ import annotations

import datetime as dt
import decimal
import re
import shlex
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from neuralake.filters import Filter

_IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_REF = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*:[A-Za-z_][A-Za-z0-9_]*$")
PLACEHOLDER_IMPORT = (
    "# Replace with your catalog's import, e.g.: from my_package.catalog import catalog\n"
)


@dataclass(frozen=True)
class Snippets:
    """The snippets of one table: ``python``, ``sql`` (Python calling ``catalog.sql``) and ``cli``."""

    python: str
    sql: str
    cli: str
    sql_query: str


def parse_reference(reference: str | None) -> tuple[str, str] | None:
    """``("package.module", "attr")`` from ``"package.module:attr"`` (``None`` if unusable)."""
    if not reference or not _REF.match(reference):
        return None
    module, attr = reference.split(":")
    return module, attr


def py_str(text: str) -> str:
    """A Python string literal, double-quoted when that needs no escaping."""
    if '"' not in text and "\\" not in text and text.isprintable():
        return f'"{text}"'
    return repr(text)


def py_value(value: Any) -> str:
    """A Python literal for a filter value that evaluates back to the same value."""
    if isinstance(value, str):
        return py_str(value)
    if isinstance(value, tuple | list):
        return "[" + ", ".join(py_value(v) for v in value) + "]"
    if isinstance(value, decimal.Decimal):
        return f"decimal.Decimal({str(value)!r})"
    if isinstance(value, float) and (value != value or value in (float("inf"), float("-inf"))):
        return f'float("{value}")'
    return repr(value)


def py_filter(f: Filter) -> str:
    args = [py_str(f.column), py_str(f.op)]
    if f.op not in ("is null", "is not null"):
        args.append(py_value(f.value))
    return f"Filter({', '.join(args)})"


def sql_ident(name: str) -> str:
    """An SQL identifier, double-quoted unless it is a plain name."""
    return name if _IDENT.match(name) else '"' + name.replace('"', '""') + '"'


def sql_literal(value: Any) -> str:
    """An SQL literal for a filter value (strings quoted with doubled single quotes)."""
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int | decimal.Decimal):
        return str(value)
    if isinstance(value, float):
        if value != value or value in (float("inf"), float("-inf")):
            return f"CAST('{value}' AS DOUBLE)"
        return repr(value)
    if isinstance(value, dt.datetime):
        return f"'{value.isoformat(sep=' ')}'::timestamp"
    if isinstance(value, dt.date):
        return f"DATE '{value.isoformat()}'"
    if isinstance(value, dt.time):
        return f"'{value.isoformat()}'::time"
    return "'" + str(value).replace("'", "''") + "'"


def sql_condition(f: Filter) -> str:
    col = sql_ident(f.column)
    op = f.op
    if op == "is null":
        return f"{col} IS NULL"
    if op == "is not null":
        return f"{col} IS NOT NULL"
    if op in ("in", "not in"):
        if not f.value:
            return "FALSE" if op == "in" else "TRUE"
        values = ", ".join(sql_literal(v) for v in f.value)
        return f"{col} {'IN' if op == 'in' else 'NOT IN'} ({values})"
    if op == "contains":
        return f"STRPOS({col}, {sql_literal(f.value)}) > 0"
    if op == "includes":
        return f"ARRAY_CONTAINS({col}, {sql_literal(f.value)})"
    if op in ("includes any", "includes all"):
        if not f.value:
            return "FALSE" if op == "includes any" else f"{col} IS NOT NULL"
        joiner = " OR " if op == "includes any" else " AND "
        return "(" + joiner.join(f"ARRAY_CONTAINS({col}, {sql_literal(v)})" for v in f.value) + ")"
    return f"{col} {op} {sql_literal(f.value)}"


def sql_query(
    database: str, table: str, filters: Sequence[Filter], columns: Sequence[str] | None
) -> str:
    """``SELECT ... FROM db.table WHERE ... LIMIT 10`` for the table's docs filters/columns."""
    cols = ", ".join(sql_ident(c) for c in columns) if columns else "*"
    query = f"SELECT {cols} FROM {sql_ident(database)}.{sql_ident(table)}"
    if filters:
        query += " WHERE " + " AND ".join(sql_condition(f) for f in filters)
    return query + " LIMIT 10"


def _imports(module_attr: tuple[str, str] | None, code: str, uses_filter: bool) -> str:
    lines = []
    for mod in ("datetime", "decimal", "zoneinfo"):
        if f"{mod}." in code:
            lines.append(f"import {mod}")
    if module_attr is None:
        head = PLACEHOLDER_IMPORT
    else:
        head = f"from {module_attr[0]} import {module_attr[1]}\n"
    if lines:
        head = "\n".join(lines) + "\n\n" + head
    if uses_filter:
        head += "from neuralake import Filter\n"
    return head


def table_snippets(
    reference: str | None,
    database: str,
    table: str,
    filters: Sequence[Filter] = (),
    columns: Sequence[str] | None = None,
) -> Snippets:
    """Build the three snippets of ``database.table``.

    Example:
        >>> s = table_snippets("examples.tpch.catalog:catalog", "tpch", "nation",
        ...                    [Filter("n_regionkey", "=", 1)], ["n_name"])
        >>> print(s.python)
        from examples.tpch.catalog import catalog
        from neuralake import Filter
        <BLANKLINE>
        df = catalog.db("tpch").table(
            "nation",
            filters=[Filter("n_regionkey", "=", 1)],
            columns=["n_name"],
        ).head(10).collect()
        print(df)
        <BLANKLINE>
    """
    module_attr = parse_reference(reference)
    var = module_attr[1] if module_attr else "catalog"
    args = [py_str(table)]
    if len(filters) == 1:
        args.append(f"filters=[{py_filter(filters[0])}]")
    elif filters:
        args.append(
            "filters=[\n" + "".join(f"        {py_filter(f)},\n" for f in filters) + "    ]"
        )
    if columns:
        args.append("columns=[" + ", ".join(py_str(c) for c in columns) + "]")
    if len(args) == 1:
        call = f"{var}.db({py_str(database)}).table({args[0]})"
    else:
        call = f"{var}.db({py_str(database)}).table(\n" + "".join(f"    {a},\n" for a in args) + ")"
    body = f"df = {call}.head(10).collect()\nprint(df)\n"
    python = _imports(module_attr, body, bool(filters)) + "\n" + body

    query = sql_query(database, table, filters, columns)
    sql_body = f"df = {var}.sql({py_str(query)}).collect()\nprint(df)\n"
    sql = _imports(module_attr, "", False) + "\n" + sql_body

    ref = reference or "package.module:catalog"
    quoted = f'"{query}"' if not any(c in query for c in '"$`\\!') else shlex.quote(query)
    cli = f"neuralake query {shlex.quote(ref)} {quoted}\n"
    return Snippets(python=python, sql=sql, cli=cli, sql_query=query)
