"""Small catalogs for the site tests: Delta, Parquet and function tables in a tmp lake.

Importable as ``site_sample_catalog`` (tests/site on ``sys.path``), so printed snippets that say
``from site_sample_catalog import catalog`` run in a subprocess; the lake folder comes from
``NEURALAKE_SITE_SAMPLE_LAKE``.
"""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import polars as pl
import pyarrow as pa

from neuralake import (
    Catalog,
    Database,
    Filter,
    FunctionTable,
    NeuralakeDeltaTable,
    ParquetTable,
    Partition,
)

ORDERS_SCHEMA = pa.schema([
    ("o_orderkey", pa.int64()), ("o_custkey", pa.int64()), ("o_status", pa.string()),
    ("o_total", pa.float64()), ("o_date", pa.date32()), ("o_year", pa.int32()),
    ("o_items", pa.list_(pa.struct([("sku", pa.string()), ("qty", pa.int32())]))),
])  # fmt: skip


def create_lake(lake: Path) -> None:
    """Write the sample data: a Delta table with three commits and a hive Parquet dataset."""
    from deltalake import write_deltalake

    orders = lake / "sales" / "orders"
    for i in range(3):
        df = pl.DataFrame({
            "o_orderkey": [i * 10 + k for k in range(5)],
            "o_custkey": [k % 3 for k in range(5)],
            "o_status": ["F", "O", "F", "P", "F"],
            "o_total": [10.5 * (k + 1) for k in range(5)],
            "o_date": [dt.date(2024, 1 + i, 1 + k) for k in range(5)],
            "o_year": [2024] * 5,
            "o_items": [[{"sku": f"S{k}", "qty": k}] for k in range(5)],
        }, schema_overrides={"o_year": pl.Int32, "o_items": pl.List(pl.Struct({"sku": pl.String, "qty": pl.Int32}))})  # fmt: skip
        write_deltalake(str(orders), df.to_arrow(), mode="append", partition_by=["o_year"])
    for region in ("EU", "US", "APAC"):
        part = lake / "sales" / "customers" / f"c_region={region}"
        part.mkdir(parents=True, exist_ok=True)
        pl.DataFrame({"c_custkey": [1, 2, 3], "c_name": [f"{region} one", f"{region} two", "x"],
                      "c_balance": [1.0, 2.0, 3.0]}).write_parquet(part / "part-0.parquet")  # fmt: skip


def nation() -> pl.LazyFrame:
    """The nations, computed in Python.

    Keys are **stable**; see [TPC-H](https://www.tpc.org/tpch/).
    """
    return pl.LazyFrame({"n_nationkey": [0, 1, 2, 3], "n_name": ["ALGERIA", "ARGENTINA", "BRAZIL", "CANADA"],
                         "n_regionkey": [0, 1, 1, 1]})  # fmt: skip


def currencies() -> pl.LazyFrame:
    """Currency codes (schema discovered by calling the function)."""
    return pl.LazyFrame({"code": ["EUR", "USD"], "rate": [1.0, 1.1]})


def make_catalog(lake: Path, name: str = "sample") -> Catalog:
    orders = NeuralakeDeltaTable(
        "orders", str(lake / "sales" / "orders"), schema=ORDERS_SCHEMA, partition_by=["o_year"],
        unique_columns=["o_orderkey"],
        description="# Orders\n\nOne row per **order**, written by the nightly job.\n\n- totals in EUR\n- see `o_total`",
        owner="sales-eng", tags=["finance", "daily"],
        column_docs={"o_orderkey": "Primary key", "o_total": "Order total in *EUR*",
                     "o_items": "Line items (nested)",
                     "o_custkey": "Buyer: sales.customers.c_custkey (not sales.customers.c_nosuch)"},
        docs_filters=[Filter("o_status", "=", "F"), Filter("o_date", ">=", dt.date(2024, 1, 2))],
        docs_columns=["o_orderkey", "o_status", "o_total"],
        extra={"example_notebook": "https://example.com/notebooks/orders.ipynb",
               "latency_info": "Updated hourly"},
    )  # fmt: skip
    customers = ParquetTable(
        "customers", str(lake / "sales" / "customers"),
        partitioning=[Partition("c_region", pl.String)], partitioning_scheme="hive",
        schema={"c_custkey": pl.Int64, "c_name": pl.String, "c_balance": pl.Float64,
                "c_region": pl.String},
        description="Customer master data from the CRM.", owner="crm-team", tags=["crm"],
        column_docs={"c_region": "Sales region; EU includes Germany", "c_balance": "Account balance"},
        docs_filters=[Filter("c_region", "in", ["EU", "US"])],
    )  # fmt: skip
    nation_t = FunctionTable(
        nation, schema={"n_nationkey": pl.Int64, "n_name": pl.String, "n_regionkey": pl.Int64},
        owner="reference-data", tags=["reference"], docs_filters=[Filter("n_regionkey", "=", 1)],
        column_docs={"n_name": "Nation name, upper case"},
    )  # fmt: skip
    currencies_t = FunctionTable(currencies, owner="reference-data", tags=["reference", "fx"],
                                 deprecated="Use `ref.fx_rates` instead, or ref.nation for names.")  # fmt: skip
    return Catalog(
        {"sales": Database([orders, customers]), "ref": Database([nation_t, currencies_t])},
        name=name,
    )


catalog = make_catalog(Path(os.environ.get("NEURALAKE_SITE_SAMPLE_LAKE", "lake")))
