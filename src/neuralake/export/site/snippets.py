"""Copy-paste code snippets for a table that run as printed.

Three forms: Python through the catalog API (with the table's docs filters, columns and table
parameters), Python through ``catalog.sql`` and the ``neuralake query`` command line. The
catalog is loaded by reference (``load_catalog("package.module:attribute")``,
``neuralake -c ...``), which makes the project root importable, so the snippets run as printed
from any folder inside the project, and from anywhere once the project is installed or on
``PYTHONPATH``. The filters are bound once and
rendered by the predicate renderers: :class:`~neuralake.predicate.ToPython` (values that
round-trip) and :class:`~neuralake.predicate.ToSql` (literals for the catalog's SQL engine).
"""

from __future__ import annotations

import ast
import re
import shlex
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from neuralake.filters import Filter, FilterSpec
from neuralake.metadata import TableParameter
from neuralake.predicate import AlwaysTrue, ToPython, bind
from neuralake.predicate.python import py_str

if TYPE_CHECKING:
    import polars as pl

# Used with fullmatch: "$" would accept a reference ending in "\n".
_REF = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*:[A-Za-z_][A-Za-z0-9_]*")
PLACEHOLDER_REFERENCE = "package.module:catalog"
PLACEHOLDER_IMPORT = "# Replace with your catalog's reference (package.module:attribute):\n"
# Defaults that print as code which evaluates back (``datetime``/``decimal`` get imported).
_CALL_DEFAULT = re.compile(r"(datetime|decimal)\.[A-Za-z]+\([-\w\s,.'\"+:]*\)")


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


def _imports(reference: str | None, code: str, uses_filter: bool) -> str:
    lines = []
    for mod in ("datetime", "decimal", "zoneinfo"):
        if f"{mod}." in code:
            lines.append(f"import {mod}")
    head = "\n".join(lines) + "\n\n" if lines else ""
    head += f"from neuralake import {'Filter, ' if uses_filter else ''}load_catalog\n\n"
    if reference is None:
        head += PLACEHOLDER_IMPORT
    return head + f"catalog = load_catalog({py_str(reference or PLACEHOLDER_REFERENCE)})\n"


def _default_code(default: str) -> str | None:
    """The default as code that evaluates back to it, or ``None`` (then it is left out)."""
    try:
        ast.literal_eval(default)
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        return default if _CALL_DEFAULT.fullmatch(default) else None
    return default


def parameter_lines(parameters: Sequence[TableParameter]) -> list[str]:
    """``name=value,`` argument lines for a read: the default, or ``...`` and a comment for a
    required parameter (no value runs as printed for it)."""
    lines = []
    for p in parameters:
        if p.required:
            kind = f" ({p.annotation})" if p.annotation else ""
            lines.append(f"{p.name}=...,  # required{kind}: replace ... with a value")
        elif p.default is not None and (code := _default_code(p.default)) is not None:
            lines.append(f"{p.name}={code},")
    return lines


def table_snippets(
    reference: str | None,
    database: str,
    table: str,
    filters: Sequence[Filter] = (),
    columns: Sequence[str] | None = None,
    schema: pl.Schema | None = None,
    parameters: Sequence[TableParameter] = (),
) -> Snippets:
    """Build the three snippets of ``database.table`` (``schema`` validates the filters;
    ``parameters`` are the table's read parameters, passed with their defaults).

    Example:
        >>> s = table_snippets("examples.tpch.catalog:catalog", "tpch", "nation",
        ...                    [Filter("n_regionkey", "=", 1)], ["n_name"])
        >>> print(s.python)
        from neuralake import Filter, load_catalog
        <BLANKLINE>
        catalog = load_catalog("examples.tpch.catalog:catalog")
        <BLANKLINE>
        df = catalog.db("tpch").table(
            "nation",
            filters=[Filter("n_regionkey", "=", 1)],
            columns=["n_name"],
        ).head(10).collect()
        print(df)
        <BLANKLINE>
    """
    ref = reference if parse_reference(reference) else None
    var = "catalog"
    args = [py_str(table)]
    pred = bind(filters, schema, table=f"{database}.{table}")
    if not isinstance(pred, AlwaysTrue):
        args.append("filters=" + pred.accept(ToPython(indent="    ")))
    if columns:
        args.append("columns=[" + ", ".join(py_str(c) for c in columns) + "]")
    lines = [f"{a}," for a in args] + parameter_lines(parameters)
    if len(lines) == 1:
        call = f"{var}.db({py_str(database)}).table({args[0]})"
    else:
        call = f"{var}.db({py_str(database)}).table(\n" + "".join(f"    {a}\n" for a in lines) + ")"
    body = f"df = {call}.head(10).collect()\nprint(df)\n"
    python = _imports(ref, body, "Filter(" in body) + "\n" + body

    query = sql_query(database, table, pred, columns)
    sql_body = f"df = {var}.sql({py_str(query)}).collect()\nprint(df)\n"
    sql = _imports(ref, "", False) + "\n" + sql_body

    shown = ref or PLACEHOLDER_REFERENCE
    quoted = f'"{query}"' if not any(c in query for c in '"$`\\!') else shlex.quote(query)
    cli = f"neuralake -c {shlex.quote(shown)} query {quoted}\n"
    return Snippets(python=python, sql=sql, cli=cli, sql_query=query)
