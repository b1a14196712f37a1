"""``engine="daft"`` returns the same rows and columns as the Polars path, on a Ray cluster.

Every layout (Delta, partitioned Delta, hive and directory Parquet, function tables) on a local
folder and on the moto S3 server, with filters that prune partitions, skip files by statistics
and run on rows; random frames and filters (hypothesis) on Delta and hive Parquet; time travel.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from io import StringIO
from pathlib import Path
from typing import Any

import daft
import polars as pl
import pytest
from deltalake import write_deltalake
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from polars.testing import assert_frame_equal

from neuralake import (
    Catalog,
    Database,
    Filter,
    FunctionTable,
    NeuralakeDeltaTable,
    ParquetTable,
    Partition,
    StorageConfig,
    Table,
)
from neuralake.tables.daft import view_typed
from test_predicate_properties import filters as random_filters
from test_predicate_properties import tables as random_frames

HOSTILE = ["a", "b b?*", "c=%2F#", "ünï", None]
FRAME = pl.DataFrame(
    {
        "id": list(range(10)),
        "part": [HOSTILE[i % len(HOSTILE)] for i in range(10)],
        "day": [dt.date(2024, 1, 1 + i % 3) for i in range(10)],
        "amount": [i * 1.5 if i % 4 else None for i in range(10)],
        "note": [f"n{i}'%" for i in range(10)],
    }
)
FILTERS: list[Any] = [
    None,
    [Filter("part", "=", "b b?*")],
    [Filter("part", "in", ["a", "c=%2F#"])],
    [Filter("part", "is null")],
    [Filter("part", "not in", ["a"])],
    [Filter("amount", ">", 4.0), Filter("day", ">=", dt.date(2024, 1, 2))],
    [[Filter("id", "<", 2)], [Filter("note", "contains", "9'")]],
    [Filter("amount", "is null")],
    "id >= 7 AND part <> 'ünï'",
]


def same(daft_frame: daft.DataFrame, polars_frame: pl.LazyFrame) -> None:
    got = pl.from_arrow(daft_frame.to_arrow())
    assert isinstance(got, pl.DataFrame)
    want = polars_frame.collect()
    assert got.columns == want.columns
    assert_frame_equal(got.sort("id"), want.sort("id"), check_dtypes=False)
    assert got.schema == want.schema


def delta(backend: Any, partitioned: bool) -> Table:
    uri = backend.write_delta(FRAME, "d", partition_by=["part"] if partitioned else None)
    return NeuralakeDeltaTable(
        "t", uri, schema=FRAME.schema, partition_by=["part"] if partitioned else []
    )


def hive(backend: Any, declared: bool) -> Table:
    uri = backend.write_hive_pyarrow(FRAME, "h", ["part"])
    schema = FRAME.schema if declared else None
    return ParquetTable("t", uri, partitioning=[Partition("part")], schema=schema)


def directory(backend: Any, declared: bool) -> Table:
    uri = backend.write_directory(FRAME.filter(pl.col("part").is_not_null()), "dir", ["part"])
    return ParquetTable("t", uri, partitioning=[Partition("part")], partitioning_scheme="directory",
                        schema=FRAME.schema if declared else None)  # fmt: skip


LAYOUTS: dict[str, Callable[[Any], Table]] = {
    "delta": lambda b: delta(b, False),
    "delta-partitioned": lambda b: delta(b, True),
    "hive": lambda b: hive(b, True),
    "hive-undeclared": lambda b: hive(b, False),
    "directory": lambda b: directory(b, True),
}


@pytest.mark.parametrize("layout", sorted(LAYOUTS))
def test_every_layout_and_filter_reads_as_polars(backend: Any, layout: str) -> None:
    catalog = backend.catalog([LAYOUTS[layout](backend)])
    for filters in FILTERS:
        for columns in (None, ["note", "id"]):
            same(
                catalog.table("db.t", filters, columns, engine="daft"),
                catalog.table("db.t", filters, columns),
            )


def test_partition_filters_prune_files_before_daft_reads(backend_factory: Any) -> None:
    """A pinned partition reads only its own files: the others may even be unreadable."""
    local = backend_factory("local")
    table = hive(local, True)
    catalog = local.catalog([table])
    for path in Path(table.location or "").glob("part=a/*"):
        path.write_bytes(b"not parquet")
    pinned = catalog.table("db.t", [Filter("part", "in", ["b b?*", "ünï"])], engine="daft")
    assert sorted(pl.from_arrow(pinned.to_arrow())["part"].to_list()) == ["b b?*"] * 2 + ["ünï"] * 2  # type: ignore[index]
    with pytest.raises(Exception, match=r"(?i)parquet"):
        catalog.table("db.t", engine="daft").to_arrow()


def test_function_tables_run_once_in_one_task() -> None:
    calls: list[int] = []

    def numbers() -> pl.LazyFrame:
        calls.append(1)
        return pl.LazyFrame({"id": [1, 2, 3], "sq": [1, 4, 9]})

    catalog = Catalog({"db": Database([FunctionTable(numbers, name="t")])})
    frame = catalog.table("db.t", [Filter("sq", ">", 1)], ["id"], engine="daft")
    assert pl.from_arrow(frame.to_arrow())["id"].to_list() == [2, 3]  # type: ignore[index]
    assert len(calls) == 1


def test_time_travel(backend: Any) -> None:
    table = delta(backend, True)
    catalog = backend.catalog([table])
    bound = catalog.get_table("db.t")
    bound.write(FRAME.with_columns(pl.col("id") + 100), mode="append")  # type: ignore[attr-defined]
    for params in ({"version": 0}, {"version": 1}, {}):
        same(catalog.table("db.t", engine="daft", **params), catalog.table("db.t", **params))
    first = bound.commits()[-1].timestamp  # type: ignore[attr-defined]
    same(catalog.table("db.t", engine="daft", as_of=first), catalog.table("db.t", as_of=first))
    assert pl.from_arrow(catalog.table("db.t", engine="daft", version=0).to_arrow()).height == 10  # type: ignore[union-attr]


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.data())
def test_random_filters_read_as_polars(data: st.DataObject, backend_factory: Any) -> None:
    frame, columns = data.draw(random_frames(["int", "str", "float", "date", "bool", "list"]))
    dnf = data.draw(st.lists(st.lists(random_filters(columns), min_size=1, max_size=3), max_size=3))
    backend = backend_factory("local")
    # Delta keeps column names as written; Parquet partition folders need a plain column.
    uri = backend.write_delta(frame, "d")
    tables = [NeuralakeDeltaTable("d", uri, schema=frame.schema)]
    keep = [c for c, k in columns.items() if k == "int"][:1]
    if keep and frame.height:  # no rows: pyarrow writes no folder at all
        tables.append(ParquetTable("h", backend.write_hive_pyarrow(frame, "h", keep),
                                   partitioning=[Partition(keep[0], pl.Int64)], schema=frame.schema))  # fmt: skip
    catalog = backend.catalog(tables)
    for t in tables:
        same(catalog.table(f"db.{t.name}", dnf, engine="daft"), catalog.table(f"db.{t.name}", dnf))


def test_credentials_stay_out_of_plans_and_reprs(s3_backend: Any) -> None:
    storage = s3_backend.storage
    catalog = s3_backend.catalog([delta(s3_backend, True)])
    catalog.register(ParquetTable("h", hive(s3_backend, True).location or "", schema=FRAME.schema,
                                  partitioning=[Partition("part")]), "db")  # fmt: skip
    for table in catalog.tables():
        frame = catalog.table(table.qualified_name, [Filter("part", "=", "a")], engine="daft")
        out = StringIO()
        frame.explain(show_all=True, file=out)
        shown = out.getvalue() + repr(frame) + str(frame.schema())
        assert storage.secret_access_key not in shown
        assert f"Key ID = {storage.access_key_id}" not in shown


def test_files_with_string_view_footers_read_as_polars(backend: Any) -> None:
    """delta-rs writes Arrow string views into the footers of merged files (and of Polars
    frames written directly), which Daft's reader cannot decode: pyarrow reads those tables."""
    keyed = NeuralakeDeltaTable("k", backend.uri("k"), schema=FRAME.schema,
                                partition_by=["part"], unique_columns=["id"])  # fmt: skip
    catalog = backend.catalog([keyed])
    table = catalog.get_table("db.k")
    table.write(FRAME)  # type: ignore[attr-defined]
    table.upsert(FRAME.head(3).with_columns(pl.col("note") + "!", pl.col("id") + 20))  # type: ignore[attr-defined]
    raw = backend.uri("raw")
    write_deltalake(raw, FRAME, partition_by=["part"], storage_options=backend.options)
    catalog.register(NeuralakeDeltaTable("raw", raw), "db")
    for name in ("db.k", "db.raw"):
        files = catalog.get_table(name).delta_table().file_uris()  # type: ignore[attr-defined]
        assert view_typed(files, backend.storage or StorageConfig())  # the pyarrow path runs
        for filters in FILTERS:
            same(catalog.table(name, filters, engine="daft"), catalog.table(name, filters))
    same(catalog.table("db.k", engine="daft", version=0), catalog.table("db.k", version=0))
