"""The API tests' lake (every table type, written by Polars and PyArrow) and its catalog.

The API server loads it in its worker processes as ``shop_catalog:catalog`` (this folder on
``PYTHONPATH``, the lake's folder in ``$SHOP_LAKE``); the tests build the same catalog in-process
to compare rows.
"""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import polars as pl
import pyarrow.dataset as pads

from neuralake import (
    Catalog,
    Database,
    FunctionTable,
    NeuralakeDeltaTable,
    ParquetTable,
    Partition,
)

N = 2_000


def orders_frame() -> pl.DataFrame:
    return pl.DataFrame(
        {
            "o_key": pl.Series(range(N), dtype=pl.Int64),
            "o_year": pl.Series([2020 + i % 4 for i in range(N)], dtype=pl.Int32),
            "o_status": [["F", "O", "P"][i % 3] for i in range(N)],
            "o_price": [round(i * 1.25, 2) for i in range(N)],
            "o_date": [dt.date(2020, 1, 1) + dt.timedelta(days=i % 1461) for i in range(N)],
        }
    )


def parts_frame() -> pl.DataFrame:
    return pl.DataFrame(
        {
            "p_key": pl.Series(range(500), dtype=pl.Int64),
            "p_name": [f"part {i}" for i in range(500)],
            "p_brand": [f"Brand#{1 + i % 5}" for i in range(500)],
            "p_size": pl.Series([i % 7 for i in range(500)], dtype=pl.Int32),
        }
    )


def build_lake(root: Path) -> None:
    orders_frame().write_delta(root / "orders", delta_write_options={"partition_by": ["o_year"]})
    # Hive Parquet written by PyArrow: partition values only in folder names.
    for folder, column in (("part", "p_size"), ("part_brand", "p_brand")):
        pads.write_dataset(
            parts_frame().to_arrow(),
            root / folder,
            format="parquet",
            partitioning=pads.partitioning(
                parts_frame().select(column).to_arrow().schema, flavor="hive"
            ),
        )  # p_brand=Brand%231: PyArrow percent-encodes '#'
    # Hive Parquet written by Polars: partition values also stored in the files.
    supplier = pl.DataFrame(
        {
            "s_key": pl.Series(range(300), dtype=pl.Int64),
            "s_nation": [["FRANCE", "PERU", "JAPAN"][i % 3] for i in range(300)],
            "s_balance": [i * 0.5 for i in range(300)],
        }
    )
    supplier.write_parquet(root / "supplier", partition_by=["s_nation"])
    # Directory-partitioned Parquet: ROAPI cannot read the partition column.
    customer = pl.DataFrame(
        {
            "c_key": list(range(100)),
            "c_segment": [["BUILDING", "MACHINERY"][i % 2] for i in range(100)],
        }
    )
    for (segment,), part in customer.partition_by(
        "c_segment", as_dict=True, include_key=False
    ).items():
        (root / "customer" / str(segment)).mkdir(parents=True)
        part.write_parquet(root / "customer" / str(segment) / "part-0.parquet")
    # Unpartitioned Parquet.
    (root / "nation").mkdir()
    pl.DataFrame({"n_key": [0, 1, 2], "n_name": ["ALGERIA", "BRAZIL", "CHINA"]}).write_parquet(
        root / "nation" / "nation.parquet"
    )


def region() -> pl.LazyFrame:
    """The regions, computed in Python."""
    return pl.LazyFrame({"r_key": [0, 1, 2], "r_name": ["AFRICA", "AMERICA", "ASIA"]})


def make_catalog(root: Path) -> Catalog:
    tables = [
        NeuralakeDeltaTable("orders", str(root / "orders"), partition_by=["o_year"]),
        ParquetTable("part", str(root / "part"), partitioning=[Partition("p_size", pl.Int32)]),
        ParquetTable(
            "part_brand", str(root / "part_brand"), partitioning=[Partition("p_brand", pl.String)]
        ),
        ParquetTable(
            "supplier", str(root / "supplier"), partitioning=[Partition("s_nation", pl.String)]
        ),
        ParquetTable(
            "customer",
            str(root / "customer"),
            partitioning=[Partition("c_segment", pl.String)],
            partitioning_scheme="directory",
        ),
        ParquetTable("nation", str(root / "nation"), extra={"roapi_name": "nations"}),
        FunctionTable(region, name="region"),
    ]
    return Catalog({"shop": Database(tables)}, name="shop_test")


def __getattr__(name: str) -> Catalog:
    """``shop_catalog:catalog`` for the API server: the catalog over ``$SHOP_LAKE``."""
    if name == "catalog" and "SHOP_LAKE" in os.environ:
        return make_catalog(Path(os.environ["SHOP_LAKE"]))
    raise AttributeError(name)
