"""A small real lake for the SQL sandbox tests: a Delta table written by Polars, a Parquet
table, a secret file and a CSV, all in ``tmp_path`` (the ``lake`` fixture is in conftest.py)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from neuralake import Catalog, Database, NeuralakeDeltaTable, ParquetTable

SECRET = "TOP-SECRET-9f27c1"
ORDERS = pl.DataFrame(
    {
        "o_id": [1, 2, 3, 4, 5, 6],
        "o_cust": [10, 20, 10, 30, 20, 10],
        "o_total": [5.0, 7.5, 2.5, 1.0, 4.0, 3.0],
        "o_date": [dt.date(2024, 1, 5), dt.date(2024, 2, 10), dt.date(2024, 2, 11),
                   dt.date(2024, 3, 1), dt.date(2024, 3, 15), dt.date(2024, 12, 31)],
        "o_status": ["F", "O", "F", "P", "O", "F"],
    }
)  # fmt: skip
CUSTOMERS = pl.DataFrame({"c_id": [10, 20, 30, 40], "c_name": ["alice", "Bob", " carol ", "dave"]})


@dataclass(frozen=True)
class Lake:
    root: Path
    catalog: Catalog
    secret: Path
    csv: Path

    def listing(self) -> list[tuple[str, int, int]]:
        return sorted(
            (str(p.relative_to(self.root)), p.stat().st_size, p.stat().st_mtime_ns)
            for p in self.root.rglob("*")
        )


def make_lake(tmp_path: Path) -> Lake:
    ORDERS.write_delta(str(tmp_path / "lake" / "orders"))
    (tmp_path / "lake" / "customers").mkdir(parents=True)
    CUSTOMERS.write_parquet(tmp_path / "lake" / "customers" / "part-0.parquet")
    secret = tmp_path / "secret.csv"
    secret.write_text(f"secret\n{SECRET}\n", encoding="utf-8")
    csv = tmp_path / "extra.csv"
    pl.DataFrame({"c_id": [10, 30], "region": ["north", "south"]}).write_csv(csv)
    catalog = Catalog(
        {
            "shop": Database(
                [
                    NeuralakeDeltaTable("orders", str(tmp_path / "lake" / "orders")),
                    ParquetTable("customers", str(tmp_path / "lake" / "customers")),
                ]
            )
        },
        name="sandbox_test",
    )
    return Lake(tmp_path, catalog, secret, csv)
