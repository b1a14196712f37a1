"""Copy-paste code snippets for a table that run as printed.

Three forms: Python through the catalog API (with the table's docs filters and columns), Python
through ``catalog.sql`` and the ``neuralake query`` command line. The filters are bound once and
rendered by the predicate renderers: :class:`~neuralake.predicate.ToPython` (values that
round-trip) and :class:`~neuralake.predicate.ToSql` (literals for the catalog's SQL engine).
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from neuralake.filters import Filter, FilterSpec
from neuralake.predicate import AlwaysTrue, ToPython, bind
from neuralake.predicate.python import py_str

if TYPE_CHECKING:
    import polars as pl

# Used with fullmatch: "$" would accept a reference ending in "\n".
_REF = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*:[A-Za-z_][A-Za-z0-9_]*")
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
    if not reference or not _REF.fullmatch(reference):
        return None
    module, attr = reference.split(":")
    return module, attr


def sql_query(
    database: str,
    table: str,
    filters: FilterSpec,
    columns: Sequence[str] | None,
    schema: pl.Schema | None = None,
) -> str:
    """``SELECT ... FROM db.table WHERE ... LIMIT 10`` for the table's docs filters/columns (the
    text ``catalog.sql`` and the API run alike); ``schema`` validates the filters when given."""
    from neuralake.api.snippets import sql_for

    return sql_for(database, table, filters, 10, schema, columns=columns)


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
    schema: pl.Schema | None = None,
) -> Snippets:
    """Build the three snippets of ``database.table`` (``schema`` validates the filters).

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
    pred = bind(filters, schema, table=f"{database}.{table}")
    if not isinstance(pred, AlwaysTrue):
        args.append("filters=" + pred.accept(ToPython(indent="    ")))
    if columns:
        args.append("columns=[" + ", ".join(py_str(c) for c in columns) + "]")
    if len(args) == 1:
        call = f"{var}.db({py_str(database)}).table({args[0]})"
    else:
        call = f"{var}.db({py_str(database)}).table(\n" + "".join(f"    {a},\n" for a in args) + ")"
    body = f"df = {call}.head(10).collect()\nprint(df)\n"
    python = _imports(module_attr, body, "Filter(" in body) + "\n" + body

    query = sql_query(database, table, pred, columns)
    sql_body = f"df = {var}.sql({py_str(query)}).collect()\nprint(df)\n"
    sql = _imports(module_attr, "", False) + "\n" + sql_body

    ref = reference or "package.module:catalog"
    quoted = f'"{query}"' if not any(c in query for c in '"$`\\!') else shlex.quote(query)
    cli = f"neuralake query {shlex.quote(ref)} {quoted}\n"
    return Snippets(python=python, sql=sql, cli=cli, sql_query=query)
