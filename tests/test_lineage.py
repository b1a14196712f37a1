"""Lineage of function tables (their Polars plans plus declared ``inputs``), declared column
``references`` and ``preview``, in the metadata and the JSON export."""

from __future__ import annotations

import importlib
import json
from pathlib import Path

import polars as pl
import pytest

from neuralake import Catalog, Database, FunctionTable, NeuralakeDeltaTable, ParquetTable
from neuralake.errors import ColumnNotFoundError, InvalidNameError
from neuralake.lineage import catalog_lineage, table_lineage
from neuralake.metadata import Lineage, validate_qualified
from neuralake.tables.function import scanned_paths

REPO = Path(__file__).resolve().parents[1]


def _needs(region: int) -> pl.LazyFrame:
    return pl.LazyFrame({"r": [region]})


def _raises() -> pl.LazyFrame:
    raise RuntimeError("upstream service is down")


def shop(lake: Path) -> Catalog:
    """Stored tables ``orders`` (Parquet folder) and ``lineitem`` (Delta), and function tables
    reading them directly, through the catalog, by declaration, or not inspectably."""
    (lake / "orders").mkdir(parents=True)
    pl.DataFrame({"o_orderkey": [1, 2]}).write_parquet(lake / "orders" / "part-0.parquet")
    pl.DataFrame({"x": [1]}).write_parquet(lake / "outside.parquet")
    lineitem = NeuralakeDeltaTable("lineitem", str(lake / "lineitem"))
    lineitem.write(pl.DataFrame({"l_orderkey": [1, 1, 2]}), mode="overwrite")
    orders = ParquetTable("orders", str(lake / "orders"))
    holder: dict[str, Catalog] = {}

    def order_totals() -> pl.LazyFrame:
        return pl.scan_parquet(lake / "orders").with_columns(n=pl.lit(1))

    def joined() -> pl.LazyFrame:
        cat = holder["cat"]
        return cat.table("shop.lineitem").join(
            cat.table("shop.orders"), left_on="l_orderkey", right_on="o_orderkey"
        )

    def external() -> pl.LazyFrame:
        return pl.scan_parquet(lake / "outside.parquet")

    tables = [
        lineitem,
        orders,
        FunctionTable(order_totals, name="order_totals"),
        FunctionTable(
            joined,
            name="joined",
            inputs=["shop.order_totals"],
            references={"l_orderkey": "shop.orders.o_orderkey"},
        ),
        FunctionTable(external, name="external"),
        FunctionTable(_raises, name="flaky", inputs=["shop.orders"]),
        FunctionTable(_needs, name="needs"),
    ]
    holder["cat"] = Catalog({"shop": Database(tables)}, name="shop")
    return holder["cat"]


@pytest.fixture
def catalog(tmp_path: Path) -> Catalog:
    return shop(tmp_path / "lake")


def test_scan_of_a_folder_and_reads_through_the_catalog_are_found(catalog: Catalog) -> None:
    lineage = catalog_lineage(catalog)
    assert lineage["shop.order_totals"].inferred == ("shop.orders",)
    # A Delta scan lists the data files under the table's location.
    assert lineage["shop.joined"].inferred == ("shop.lineitem", "shop.orders")
    assert lineage["shop.joined"].upstream == ("shop.lineitem", "shop.order_totals", "shop.orders")
    assert lineage["shop.orders"].upstream == ()
    assert lineage["shop.lineitem"].unknown is None


def test_declared_inputs_are_upstream_even_when_the_plan_is_unknown(catalog: Catalog) -> None:
    flaky = table_lineage(catalog, "shop.flaky")
    assert flaky.declared == ("shop.orders",)
    assert flaky.upstream == ("shop.orders",)
    assert flaky.unknown == "RuntimeError: upstream service is down"
    assert table_lineage(catalog, "shop.joined").declared == ("shop.order_totals",)


def test_downstream_is_the_inverse_over_the_catalog(catalog: Catalog) -> None:
    lineage = catalog_lineage(catalog)
    assert lineage["shop.orders"].downstream == ("shop.flaky", "shop.joined", "shop.order_totals")
    assert lineage["shop.lineitem"].downstream == ("shop.joined",)
    assert lineage["shop.order_totals"].downstream == ("shop.joined",)
    assert lineage["shop.joined"].downstream == ()
    for name, lin in lineage.items():
        for up in lin.upstream:
            assert name in lineage[up].downstream


def test_functions_needing_parameters_are_unknown_and_never_called(catalog: Catalog) -> None:
    needs = table_lineage(catalog, "shop.needs")
    assert needs.upstream == ()
    assert needs.unknown == "InvalidParameterError: needs parameter(s) region"


def test_scans_outside_the_catalog_are_external(catalog: Catalog, tmp_path: Path) -> None:
    ext = table_lineage(catalog, "shop.external")
    assert ext.upstream == ()
    assert ext.external == (str(tmp_path / "lake" / "outside.parquet"),)


def test_lineage_reads_no_data_from_function_tables() -> None:
    calls: list[str] = []

    def tracked() -> pl.LazyFrame:
        calls.append("called")
        return pl.LazyFrame({"a": [1]}).map_batches(lambda df: calls.append("collected") or df)

    cat = Catalog({"db": Database([FunctionTable(tracked, name="t")])})
    assert catalog_lineage(cat)["db.t"] == Lineage()
    assert calls == ["called"]


def test_scanned_paths_parses_explain_text() -> None:
    plan = (
        "INNER JOIN:\n  Parquet SCAN [/l/a/part-0.parquet, ... 3 other sources]\n"
        '  Csv SCAN [s3://b/c.csv]\n  PythonDataset SCAN [PL_PY_DSET]\n  DF ["a"]\n'
        "  Parquet SCAN [/l/a/part-0.parquet]\n"
    )
    assert scanned_paths(plan) == ("/l/a/part-0.parquet", "s3://b/c.csv")


@pytest.mark.parametrize("bad", ["orders", "a.b.c", "a-b.c", "a..b", "a.b\n", "", 3])
def test_invalid_inputs_are_refused(bad: object) -> None:
    with pytest.raises(InvalidNameError):
        FunctionTable(_needs, name="t", inputs=[bad])  # type: ignore[list-item]


def test_inputs_must_be_a_list() -> None:
    with pytest.raises(TypeError, match="inputs"):
        FunctionTable(_needs, name="t", inputs="db.orders")


@pytest.mark.parametrize(
    ("column", "target"),
    [("x", "db.t"), ("x", "db.t.c.d"), ("x", "db.t.<b>"), ("bad col", "db.t.c"), ("x", None)],
)
def test_invalid_references_are_refused(column: str, target: object) -> None:
    with pytest.raises(InvalidNameError):
        FunctionTable(_needs, name="t", references={column: target})  # type: ignore[dict-item]


def test_references_name_declared_columns() -> None:
    with pytest.raises(ColumnNotFoundError, match="nope"):
        FunctionTable(_needs, name="t", schema={"r": pl.Int64}, references={"nope": "a.b.c"})


def test_preview_must_be_a_bool_or_none() -> None:
    assert FunctionTable(_needs, name="t").preview is None
    assert FunctionTable(_needs, name="t", preview=False).preview is False
    with pytest.raises(TypeError, match="preview"):
        FunctionTable(_needs, name="t", preview="yes")  # type: ignore[arg-type]


def test_validate_qualified() -> None:
    assert validate_qualified("db.t") == "db.t"
    assert validate_qualified("db.t.c", 3) == "db.t.c"
    with pytest.raises(InvalidNameError, match=r"db\.table\.column"):
        validate_qualified("db.t", 3)


def test_metadata_carries_declarations_in_a_fixed_order(catalog: Catalog) -> None:
    t = FunctionTable(_needs, name="t", inputs=["b.y", "a.x", "b.y"], preview=True,
                      references={"z": "a.x.z", "r": "a.x.r"})  # fmt: skip
    meta = t.metadata()
    assert meta.inputs == ("b.y", "a.x")
    assert meta.references == (("r", "a.x.r"), ("z", "a.x.z"))
    assert meta.preview is True
    data = meta.to_dict()
    keys = list(data)
    assert keys.index("inputs") == keys.index("parameters") + 1
    assert keys[keys.index("inputs") : keys.index("inputs") + 3] == [
        "inputs",
        "references",
        "preview",
    ]
    assert data["references"] == {"r": "a.x.r", "z": "a.x.z"}
    assert json.dumps(data, default=str) == json.dumps(t.metadata().to_dict(), default=str)


def test_json_export_includes_lineage_deterministically(catalog: Catalog, tmp_path: Path) -> None:
    first, second = tmp_path / "a.json", tmp_path / "b.json"
    catalog.export_metadata(first)
    catalog.export_metadata(second)
    assert first.read_bytes() == second.read_bytes()
    tables = {t["qualified_name"]: t for t in json.loads(first.read_text())["tables"]}
    joined = tables["shop.joined"]
    assert joined["inputs"] == ["shop.order_totals"]
    assert joined["references"] == {"l_orderkey": "shop.orders.o_orderkey"}
    assert joined["preview"] is None
    assert joined["lineage"] == {
        "upstream": ["shop.lineitem", "shop.order_totals", "shop.orders"],
        "declared": ["shop.order_totals"],
        "inferred": ["shop.lineitem", "shop.orders"],
        "external": [],
        "downstream": [],
        "unknown": None,
    }
    assert list(joined)[-1] == "lineage"
    assert tables["shop.orders"]["lineage"]["downstream"] == [
        "shop.flaky", "shop.joined", "shop.order_totals"]  # fmt: skip
    assert tables["shop.needs"]["lineage"]["unknown"].startswith("InvalidParameterError")


def test_demo_function_tables_lineage_is_the_files_they_read(demo_catalog: Catalog) -> None:
    lineage = catalog_lineage(demo_catalog)
    tpch = Path(importlib.import_module("examples.tpch.tables").TPCH)
    reads = {"region": "region", "nation": "nation", "supplier": "supplier", "nations": "nation"}
    for table, file in reads.items():
        lin = lineage[f"tpch.{table}"]
        # The demo's reference tables read plain Parquet files that are no catalog table.
        assert lin.external == (str(tpch / f"{file}.parquet"),), table
        assert lin.upstream == (), table
        assert lin.unknown is None, table
    stored = [q for q in lineage if q.split(".")[1] not in reads]
    assert stored
    for q in stored:
        assert lineage[q] == Lineage(), q
