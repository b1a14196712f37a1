"""Schema contracts: compare each table's declaration with what storage actually holds.

Only metadata is read, by asking each table for its :meth:`~neuralake.tables.base.Table.layout`:
the Delta log's schema and partition columns, the footer of one Parquet file (and its folder
names for partitioning), or the schema a function table's frame reports (``collect_schema``). ``neuralake check`` prints the report and exits non-zero on drift;
:meth:`neuralake.Catalog.validate` returns the same issues.

Example:
    >>> import polars as pl
    >>> from neuralake import Catalog, Database, FunctionTable
    >>> t = FunctionTable(lambda: pl.LazyFrame({"x": ["1"]}), name="nums", schema={"x": pl.Int64})
    >>> [i.message() for i in Catalog({"demo": Database([t])}).validate()]
    ["demo.nums: column 'x' is declared int64 but storage has string (no safe cast)"]
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any, Literal

import polars as pl

from neuralake.metadata import readable_type
from neuralake.tables.base import Table, castable

if TYPE_CHECKING:
    from neuralake.catalog import Catalog
    from neuralake.storage import StorageConfig

IssueKind = Literal[
    "missing_column", "extra_column", "type_mismatch", "type_cast", "partitioning", "unreadable"
]
CONTRACT_REPORT_VERSION = 1


@dataclass(frozen=True)
class ContractIssue:
    """One difference between a table's declaration and its storage.

    Attributes:
        table: Qualified name ``db.table``.
        kind: ``missing_column`` (declared, not stored), ``extra_column`` (stored, not
            declared), ``type_mismatch`` (no safe cast), ``type_cast`` (differs, but reads cast
            it safely), ``partitioning`` or ``unreadable`` (storage could not be inspected).
        column: The column concerned (``None`` for table-level issues).
        declared: The declared type / partition columns.
        actual: What storage holds (or the error, for ``unreadable``).
        severity: ``"error"`` (drift) or ``"warning"`` (``type_cast``).
    """

    table: str
    kind: IssueKind
    column: str | None
    declared: str | None
    actual: str | None
    severity: Literal["error", "warning"] = "error"

    def message(self) -> str:
        """A one-line, readable description."""
        col = f"column {self.column!r}"
        text = {
            "missing_column": f"{col} is declared ({self.declared}) but not in storage",
            "extra_column": f"{col} is in storage ({self.actual}) but not declared",
            "type_mismatch": f"{col} is declared {self.declared} but storage has {self.actual} "
            "(no safe cast)",
            "type_cast": f"{col} is declared {self.declared}, storage has {self.actual} "
            "(read with a safe cast)",
            "partitioning": f"declared partitioning {self.declared} but storage is partitioned "
            f"by {self.actual}",
            "unreadable": f"storage could not be inspected: {self.actual}",
        }[self.kind]
        return f"{self.table}: {text}"

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "message": self.message()}


def _plural(items: Sequence[str]) -> str:
    return "[" + ", ".join(items) + "]" if items else "none"


def compare(
    table: str,
    declared: pl.Schema,
    actual: pl.Schema,
    *,
    ignore_missing: Sequence[str] = (),
) -> list[ContractIssue]:
    """Column differences between a declared and a stored schema (order is ignored)."""
    issues = [
        ContractIssue(table, "missing_column", name, readable_type(dtype), None)
        for name, dtype in declared.items()
        if name not in actual and name not in ignore_missing
    ]
    issues += [
        ContractIssue(table, "extra_column", name, None, readable_type(dtype))
        for name, dtype in actual.items()
        if name not in declared
    ]
    for name, dtype in declared.items():
        if name in actual and actual[name] != dtype:
            ok = castable(actual[name], dtype)
            issues.append(
                ContractIssue(
                    table,
                    "type_cast" if ok else "type_mismatch",
                    name,
                    readable_type(dtype),
                    readable_type(actual[name]),
                    "warning" if ok else "error",
                )
            )
    return issues


def check_table(table: Table, storage: StorageConfig | None = None) -> list[ContractIssue]:
    """Every contract issue of one (bound) table (``unreadable`` if storage cannot be inspected)."""
    qualified = table.qualified_name
    try:
        layout = table.layout(storage)
    except Exception as exc:
        text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        return [
            ContractIssue(
                qualified, "unreadable", None, None, table.resolve_storage(storage).redact(text)
            )
        ]
    issues: list[ContractIssue] = []
    if layout.partitions is not None and tuple(layout.partitions) != tuple(table.partitions):
        issues.append(
            ContractIssue(
                qualified,
                "partitioning",
                None,
                _plural(table.partitions),
                _plural(layout.partitions),
            )
        )
    if table.declared_schema is not None:
        issues += compare(
            qualified, table.declared_schema, layout.schema, ignore_missing=layout.folder_columns
        )
    return issues


def check_catalog(catalog: Catalog, tables: Sequence[str] | None = None) -> list[ContractIssue]:
    """Contract issues of every table in ``catalog`` (or of ``tables``), sorted by table."""
    names = list(tables) if tables is not None else catalog.list_tables(include_deprecated=True)
    issues: list[ContractIssue] = []
    for name in names:
        issues += check_table(catalog.get_table(name))
    return issues


def report_dict(issues: Sequence[ContractIssue], tables_checked: int) -> dict[str, Any]:
    """The stable JSON form of a check (``neuralake check --json``)."""
    return {
        "version": CONTRACT_REPORT_VERSION,
        "ok": not any(i.severity == "error" for i in issues),
        "tables_checked": tables_checked,
        "errors": sum(i.severity == "error" for i in issues),
        "warnings": sum(i.severity == "warning" for i in issues),
        "issues": [i.to_dict() for i in issues],
    }


def format_report(issues: Sequence[ContractIssue], tables: Sequence[str]) -> str:
    """A readable report: one block per table with issues, then a summary line."""
    lines: list[str] = []
    by_table: dict[str, list[ContractIssue]] = {}
    for issue in issues:
        by_table.setdefault(issue.table, []).append(issue)
    for name in tables:
        found = by_table.get(name, [])
        if not found:
            lines.append(f"ok     {name}")
            continue
        lines.append(f"DRIFT  {name}")
        for issue in found:
            text = issue.message().split(": ", 1)[1]
            lines.append(f"         {issue.severity:<7}  {issue.kind:<14} {text}")
    errors = sum(i.severity == "error" for i in issues)
    warnings = len(issues) - errors
    drifted = len({i.table for i in issues if i.severity == "error"})
    lines.append(
        f"{len(tables)} tables checked: {drifted} with drift, {errors} errors, {warnings} warnings"
    )
    return "\n".join(lines)
