"""Catalog diff: every change class, breaking rules, Markdown escaping, stable JSON."""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path
from typing import Any

import polars as pl
import pytest

from neuralake import Catalog, Database, FunctionTable, NeuralakeError, ParquetTable, Partition
from neuralake.export.diff import (
    MARKER,
    Change,
    ChangeKind,
    ExportFormatError,
    diff_catalogs,
    is_widening,
)
from neuralake.export.metadata import dumps
from neuralake.metadata import FORMAT_VERSION

HOSTILE = "Orders <script>alert(1)</script> | `rm -rf` [click](http://evil) **bold**\nnext line"


def frame() -> pl.LazyFrame:
    return pl.LazyFrame()


def orders() -> pl.LazyFrame:
    return frame()


def customers() -> pl.LazyFrame:
    return frame()


def events() -> pl.LazyFrame:
    return frame()


def legacy() -> pl.LazyFrame:
    return frame()


def refunds() -> pl.LazyFrame:
    return frame()


def base_catalog(lake: Path) -> Catalog:
    return Catalog(
        {
            "shop": Database(
                [
                    FunctionTable(
                        orders,
                        schema={
                            "id": pl.Int32,
                            "amount": pl.Float32,
                            "status": pl.String,
                            "note": pl.String,
                        },
                        description="Orders.",
                        owner="sales",
                        tags=["core"],
                        unique_columns=["id"],
                    ),
                    FunctionTable(customers, schema={"id": pl.Int64}),
                    FunctionTable(events, schema={"at": pl.Datetime("us")}),
                    FunctionTable(legacy, schema={"x": pl.Int8}),
                    ParquetTable("items", str(lake / "items"), schema={"sku": pl.String}),
                    ParquetTable(
                        "visits",
                        str(lake / "visits"),
                        schema={"n": pl.Int64},
                        partitioning=[Partition("day")],
                    ),
                ]
            )
        },
        name="shop",
    )


def head_catalog(lake: Path, description: str = HOSTILE) -> Catalog:
    return Catalog(
        {
            "shop": Database(
                [
                    FunctionTable(
                        orders,
                        schema={
                            "id": pl.Int64,
                            "amount": pl.Float64,
                            "status": pl.Int32,
                            "region": pl.String,
                        },
                        description=description,
                        owner="finance",
                        tags=["core", "pii"],
                        unique_columns=["id", "region"],
                    ),
                    FunctionTable(events, name="activity", schema={"at": pl.Datetime("us")}),
                    FunctionTable(legacy, schema={"x": pl.Int8}, deprecated="use shop.orders"),
                    FunctionTable(refunds, schema={"id": pl.Int64}),
                    ParquetTable("line_items", str(lake / "items"), schema={"sku": pl.String}),
                    ParquetTable(
                        "visits",
                        str(lake / "visits"),
                        schema={"n": pl.Int64},
                        partitioning=[Partition("day"), Partition("country")],
                    ),
                ]
            )
        },
        name="shop",
    )


@pytest.fixture
def exports(tmp_path: Path) -> tuple[dict[str, Any], dict[str, Any]]:
    lake = tmp_path / "lake"
    base = base_catalog(lake).export_metadata(tmp_path / "base.json")
    head = head_catalog(lake).export_metadata(tmp_path / "head.json")
    # Through the file, as CI reads them.
    assert json.loads((tmp_path / "base.json").read_text()) == json.loads(dumps(base))
    return json.loads(dumps(base)), json.loads(dumps(head))


def by_kind(changes: tuple[Change, ...]) -> dict[tuple[ChangeKind, str, str | None], Change]:
    return {(c.kind, c.table, c.column): c for c in changes}


def test_every_change_class_and_its_breaking_rule(exports: tuple[dict, dict]) -> None:
    diff = diff_catalogs(*exports)
    found = by_kind(diff.changes)
    expected = {
        (ChangeKind.TABLE_ADDED, "shop.refunds", None): False,
        (ChangeKind.TABLE_REMOVED, "shop.customers", None): True,
        (ChangeKind.TABLE_RENAMED, "shop.activity", None): True,  # same function, new name
        (ChangeKind.TABLE_RENAMED, "shop.line_items", None): True,  # same location
        (ChangeKind.COLUMN_ADDED, "shop.orders", "region"): False,
        (ChangeKind.COLUMN_REMOVED, "shop.orders", "note"): True,
        (ChangeKind.COLUMN_RETYPED, "shop.orders", "id"): False,  # int32 -> int64
        (ChangeKind.COLUMN_RETYPED, "shop.orders", "amount"): False,  # float32 -> float64
        (ChangeKind.COLUMN_RETYPED, "shop.orders", "status"): True,  # string -> int32
        (ChangeKind.UNIQUE_COLUMNS_CHANGED, "shop.orders", None): True,
        (ChangeKind.OWNER_CHANGED, "shop.orders", None): False,
        (ChangeKind.TAGS_CHANGED, "shop.orders", None): False,
        (ChangeKind.DESCRIPTION_CHANGED, "shop.orders", None): False,
        (ChangeKind.DEPRECATION_CHANGED, "shop.legacy", None): False,
        (ChangeKind.PARTITIONS_CHANGED, "shop.visits", None): True,
        (ChangeKind.COLUMN_ADDED, "shop.visits", "country"): False,
    }
    assert {key: c.breaking for key, c in found.items()} == expected
    assert {kind for kind, _, _ in found} == set(ChangeKind)
    renamed = found[(ChangeKind.TABLE_RENAMED, "shop.activity", None)]
    assert (renamed.before, renamed.after) == ("shop.events", "shop.activity")
    assert found[(ChangeKind.TAGS_CHANGED, "shop.orders", None)].after == ("core", "pii")
    retyped = found[(ChangeKind.COLUMN_RETYPED, "shop.orders", "status")]
    assert retyped.message == "column status retyped: string -> int32 (narrowing or incompatible)"
    assert diff.has_breaking
    assert len(diff.breaking) == 7
    assert diff.summary() == {"changes": 16, "breaking": 7, "tables_changed": 7,
                              "tables_added": 1, "tables_removed": 1, "tables_renamed": 2}  # fmt: skip


def test_same_export_has_no_changes(exports: tuple[dict, dict]) -> None:
    base, _ = exports
    diff = diff_catalogs(base, copy.deepcopy(base))
    assert diff.changes == ()
    assert not diff.has_breaking
    assert "No catalog changes." in diff.to_markdown()


def test_a_renamed_table_is_also_compared(exports: tuple[dict, dict]) -> None:
    base, head = exports
    for table in head["tables"]:
        if table["qualified_name"] == "shop.activity":
            table["columns"] = []
    found = by_kind(diff_catalogs(base, head).changes)
    removed = found[(ChangeKind.COLUMN_REMOVED, "shop.activity", "at")]
    assert removed.breaking
    assert removed.before == "datetime[us]"


def test_unknown_schema_on_one_side_is_not_a_column_change(exports: tuple[dict, dict]) -> None:
    base, head = exports
    for table in head["tables"]:
        table["columns"] = None
    kinds = {c.kind for c in diff_catalogs(base, head).changes}
    assert not kinds & {ChangeKind.COLUMN_ADDED, ChangeKind.COLUMN_REMOVED,
                        ChangeKind.COLUMN_RETYPED}  # fmt: skip


@pytest.mark.parametrize(
    ("before", "after", "widening"),
    [
        ("int32", "int64", True), ("int8", "int16", True), ("uint8", "int16", True),
        ("uint32", "uint64", True), ("float32", "float64", True), ("int16", "float32", True),
        ("int32", "float64", True), ("decimal(10, 2)", "decimal(12, 2)", True),
        ("list<int32>", "list<int64>", True), ("array<int8, 3>", "array<int16, 3>", True),
        ("int64", "int32", False), ("float64", "float32", False), ("int64", "float64", False),
        ("int32", "uint32", False), ("uint64", "int64", False), ("string", "int64", False),
        ("int64", "string", False), ("decimal(12, 2)", "decimal(12, 3)", False),
        ("array<int8, 3>", "array<int8, 4>", False), ("list<int64>", "list<int32>", False),
        ("datetime[us]", "datetime[ns]", False), ("bool", "int8", False),
    ],
)  # fmt: skip
def test_widening_rules(before: str, after: str, widening: bool) -> None:
    assert is_widening(before, after) is widening


def test_deterministic_order_and_byte_identical_json(exports: tuple[dict, dict]) -> None:
    base, head = exports
    first = dumps(diff_catalogs(base, head).to_dict())
    shuffled = copy.deepcopy(head)
    shuffled["tables"].reverse()
    for table in shuffled["tables"]:
        if table["columns"]:
            table["columns"].reverse()
    assert dumps(diff_catalogs(copy.deepcopy(base), shuffled).to_dict()) == first
    assert diff_catalogs(base, head).to_markdown() == diff_catalogs(base, shuffled).to_markdown()
    data = json.loads(first)
    assert list(data) == ["format_version", "base", "head", "summary", "changes"]
    assert list(data["changes"][0]) == ["kind", "table", "column", "before", "after",
                                        "breaking", "message"]  # fmt: skip
    keys = [(c["table"], list(ChangeKind).index(ChangeKind(c["kind"])), c["column"] or "")
            for c in data["changes"]]  # fmt: skip
    assert keys == sorted(keys)


UNESCAPED_PIPE = re.compile(r"(?<!\\)\|")


def table_rows(markdown: str) -> list[str]:
    return [line for line in markdown.splitlines() if line.startswith("| ")]


def test_markdown_sections_and_summary(exports: tuple[dict, dict]) -> None:
    text = diff_catalogs(*exports).to_markdown()
    assert text.startswith(MARKER + "\n")
    assert (
        "7 breaking, 9 other changes in 7 tables (tables: 1 added, 1 removed, 2 renamed)." in text
    )
    assert text.index("#### Breaking (7)") < text.index("#### Other changes (9)")
    assert "| `shop.customers` | table removed |" in text
    assert "| `shop.orders` | column retyped | `status` | `string` | `int32` |" in text


def test_markdown_escapes_hostile_text(exports: tuple[dict, dict]) -> None:
    base, head = exports
    hostile_table = {**head["tables"][0], "qualified_name": "x|`y`<img src=x onerror=alert(1)>",
                     "source": None, "location": None}  # fmt: skip
    head["tables"].append(hostile_table)
    text = diff_catalogs(base, head).to_markdown()
    rows = table_rows(text)
    assert rows
    assert all(len(UNESCAPED_PIPE.findall(row)) == 6 for row in rows)
    assert "<script>" not in text
    assert "<img" not in text.replace("`` x\\|`y`<img", "")
    assert "&lt;script&gt;" in text
    assert "[click](http" not in text
    assert "**bold**" not in text
    assert "\\[click\\]\\(http" in text
    assert "`` x\\|`y`<img src=x onerror=alert(1)> ``" in text  # literal inside a code span
    assert "next line" in text
    assert "\nnext line" not in text


def test_format_version_is_checked(exports: tuple[dict, dict]) -> None:
    base, head = exports
    newer = {**head, "format_version": FORMAT_VERSION + 1}
    with pytest.raises(ExportFormatError, match="newer than this neuralake reads"):
        diff_catalogs(base, newer)
    with pytest.raises(NeuralakeError, match="no format_version"):
        diff_catalogs({"tables": []}, head)
    with pytest.raises(ExportFormatError, match="invalid format_version"):
        diff_catalogs({**base, "format_version": True}, head)
    with pytest.raises(ExportFormatError, match="no valid tables list"):
        diff_catalogs({"format_version": 1, "tables": [{"name": "t"}]}, head)
