"""Table size and column profiles from metadata (Delta log stats, Parquet footers), checked
against a full scan, and Delta schema history from the log."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as hs

from neuralake import Catalog, Database, FunctionTable, NeuralakeDeltaTable
from neuralake.export.entry import TableEntry
from neuralake.export.metadata import export_catalog
from neuralake.tables.delta.stats import TRUNCATED
from neuralake.tables.facts import ColumnProfile, SchemaChange, TableStats
from neuralake.tables.parquet import ParquetTable, Partition

VALUE_COLUMNS = ("i", "f", "s")


@hs.composite
def frames(draw: Any) -> pl.DataFrame:
    n = draw(hs.integers(1, 30))
    ints = hs.none() | hs.integers(-(2**40), 2**40)
    floats = hs.none() | hs.floats(-1e9, 1e9, allow_nan=False, allow_infinity=False, width=32)
    text = hs.none() | hs.text("abcxyz", min_size=0, max_size=8)
    return pl.DataFrame(
        {
            "i": draw(hs.lists(ints, min_size=n, max_size=n)),
            "f": draw(hs.lists(floats, min_size=n, max_size=n)),
            "s": draw(hs.lists(text, min_size=n, max_size=n)),
            "p": draw(hs.lists(hs.sampled_from(["a", "b", "c"]), min_size=n, max_size=n)),
        },
        schema={"i": pl.Int64, "f": pl.Float64, "s": pl.String, "p": pl.String},
    )


def truth(df: pl.DataFrame, columns: tuple[str, ...]) -> dict[str, tuple[Any, Any, int]]:
    """Each column's min, max and null count as a full scan answers them."""
    row = df.select(
        *(pl.col(c).min().alias(f"min_{c}") for c in columns),
        *(pl.col(c).max().alias(f"max_{c}") for c in columns),
        *(pl.col(c).null_count().alias(f"n_{c}") for c in columns),
    ).row(0, named=True)
    return {c: (row[f"min_{c}"], row[f"max_{c}"], row[f"n_{c}"]) for c in columns}


def check_profiles(stats: TableStats, df: pl.DataFrame, columns: tuple[str, ...]) -> None:
    assert stats.rows == df.height
    found = {c.name: c for c in stats.columns}
    for name, (low, high, nulls) in truth(df, columns).items():
        prof = found[name]
        assert prof.null_count == nulls, name
        if low is None:  # all null: nothing to bound
            assert prof.min is None
            assert prof.max is None
            continue
        assert prof.min == pytest.approx(low), name
        assert prof.max == pytest.approx(high), name


SETTINGS = settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@SETTINGS
@given(df=frames(), appends=hs.integers(0, 2))
def test_delta_stats_match_a_full_scan(
    tmp_path_factory: Any, df: pl.DataFrame, appends: int
) -> None:
    root = tmp_path_factory.mktemp("delta") / "t"
    size = -(-df.height // (appends + 1))  # one to three commits
    for i, part in enumerate(df.iter_slices(size)):
        part.write_delta(
            root, mode="append" if i else "error", delta_write_options={"partition_by": ["p"]}
        )
    stats = NeuralakeDeltaTable("t", str(root)).stats()
    assert stats.source == "delta log add stats"
    assert stats.partitions == df["p"].n_unique()
    check_profiles(stats, df, (*VALUE_COLUMNS, "p"))


@SETTINGS
@given(df=frames())
def test_parquet_stats_match_a_full_scan(tmp_path_factory: Any, df: pl.DataFrame) -> None:
    import pyarrow.dataset as pads

    uri = str(tmp_path_factory.mktemp("pq") / "t")
    pads.write_dataset(
        df.to_arrow(), uri, format="parquet", partitioning=["p"], partitioning_flavor="hive"
    )
    stats = ParquetTable("t", uri, partitioning=[Partition("p")]).stats()
    assert stats.source == "parquet footers"
    assert stats.partitions == df["p"].n_unique()
    assert stats.files == stats.partitions  # one file per folder
    check_profiles(stats, df, (*VALUE_COLUMNS, "p"))
    assert [c.name for c in stats.columns][-1] == "p"
    assert next(c for c in stats.columns if c.name == "p").source == "partition folders"


def _rewrite_log(root: Path, edit: Any) -> None:
    for f in sorted((root / "_delta_log").glob("*.json")):
        actions = [json.loads(line) for line in f.read_text().splitlines() if line]
        f.write_text("".join(json.dumps(edit(a)) + "\n" for a in actions))


DF = pl.DataFrame(
    {"id": [1, 2, None, 4], "name": ["ann", None, "bo", "cy"], "day": ["mon", "mon", "tue", None],
     "st": [{"x": 1}, None, {"x": 3}, {"x": None}]}
)  # fmt: skip


def test_log_without_num_records_falls_back_to_footers(tmp_path: Path) -> None:
    root = tmp_path / "t"
    DF.write_delta(root, delta_write_options={"partition_by": ["day"]})
    _rewrite_log(root, lambda a: {"add": {**a["add"], "stats": None}} if "add" in a else a)
    stats = NeuralakeDeltaTable("t", str(root)).stats()
    assert (stats.rows, stats.files, stats.partitions) == (4, 3, 3)
    assert stats.source == "parquet footers"
    assert stats.note == "no numRecords in the log"
    found = {c.name: c for c in stats.columns}
    assert (found["id"].min, found["id"].max, found["id"].null_count) == (1, 4, 1)
    assert (found["st.x"].min, found["st.x"].max) == (1, 3)
    assert (found["day"].min, found["day"].max, found["day"].null_count) == ("mon", "tue", 1)
    assert found["day"].source == "delta log partition values"


def test_nested_columns_give_leaf_stats(tmp_path: Path) -> None:
    DF.write_delta(tmp_path / "t")
    stats = NeuralakeDeltaTable("t", str(tmp_path / "t")).stats()
    assert [c.name for c in stats.columns] == ["id", "name", "day", "st.x"]
    x = stats.columns[-1]
    assert (x.min, x.max, x.null_count, x.null_fraction) == (1, 3, 2, 0.5)


def test_truncated_string_stats_are_marked(tmp_path: Path) -> None:
    long = "k" * 40
    pl.DataFrame({"s": [long, "a"], "t": ["short", "b"]}).write_delta(tmp_path / "t")
    found = {c.name: c for c in NeuralakeDeltaTable("t", str(tmp_path / "t")).stats().columns}
    assert found["s"].note == TRUNCATED
    assert found["t"].note is None
    assert found["t"].max == "short"


def test_function_table_is_unknown() -> None:
    table = FunctionTable(lambda: pl.LazyFrame({"n": [1]}), name="n")
    assert table.stats() is None
    assert table.schema_history() == ()
    catalog = Catalog({"db": Database([table])})
    entry = TableEntry.of(catalog.get_table("db.n"))
    assert entry.stats == TableStats(note="unknown: function table")
    assert entry.to_dict()["stats"]["rows"] is None


def test_export_survives_a_broken_table(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    DF.write_delta(tmp_path / "good")
    good = NeuralakeDeltaTable("good", str(tmp_path / "good"))
    flaky = NeuralakeDeltaTable("flaky", str(tmp_path / "good"))

    def boom(*_: Any, **__: Any) -> TableStats:
        raise OSError("footer service is down")

    monkeypatch.setattr(flaky, "stats", boom)
    catalog = Catalog(
        {"db": Database([good, flaky, NeuralakeDeltaTable("ghost", str(tmp_path / "no"))])}
    )
    tables = {
        t["qualified_name"]: t for t in export_catalog(catalog, tmp_path / "c.json")["tables"]
    }
    assert tables["db.good"]["stats"]["rows"] == 4
    assert (
        tables["db.good"]["stats"]["columns"][0]
        == ColumnProfile("id", 1, 4, 1, 0.25, "delta log add stats").to_dict()
    )
    assert tables["db.flaky"]["stats"]["note"] == "unknown: OSError: footer service is down"
    assert tables["db.flaky"]["error"] is None
    assert tables["db.flaky"]["freshness"] is not None
    assert tables["db.ghost"]["error"] is not None
    assert tables["db.ghost"]["stats"] is None
    export_catalog(catalog, tmp_path / "d.json")
    assert (tmp_path / "c.json").read_text() == (tmp_path / "d.json").read_text()


def test_schema_history_lists_the_added_column(tmp_path: Path) -> None:
    table = NeuralakeDeltaTable("t", str(tmp_path / "t"))
    pl.DataFrame({"id": [1]}).write_delta(table.uri)
    pl.DataFrame({"id": [2]}).write_delta(table.uri, mode="append")
    pl.DataFrame({"id": [3], "extra": ["x"]}).write_delta(
        table.uri, mode="append", delta_write_options={"schema_mode": "merge"}
    )
    changes = table.schema_history()
    assert [(c.version, c.column, c.change, c.type) for c in changes] == [
        (0, "id", "added", "long"),
        (2, "extra", "added", "string"),
    ]
    assert isinstance(changes[-1], SchemaChange)
    assert changes[-1].timestamp is not None
    assert table.schema_history(limit=1) == ()  # the last commit alone has no baseline
    entry = TableEntry.of(Catalog({"db": Database([table])}).get_table("db.t"), history=5)
    assert entry.to_dict(details=True)["schema_history"][-1]["column"] == "extra"


def test_describe_prints_stats(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from neuralake.cli.catalog_cmds import _stats_lines

    DF.write_delta(tmp_path / "t")
    entry = TableEntry.of(
        Catalog({"db": Database([NeuralakeDeltaTable("t", str(tmp_path / "t"))])}).get_table("db.t")
    )
    lines = _stats_lines(entry.to_dict()["stats"])
    assert (
        lines[0]
        == "  size: 4 rows, 1 files, " + f"{entry.stats.bytes} bytes (from delta log add stats)"
    )  # type: ignore[union-attr]
    assert "    id: min 1, max 4, 1 nulls" in lines


@pytest.mark.s3
def test_s3_stats_from_footers_and_log(s3_backend: Any) -> None:
    df = pl.DataFrame({"i": [1, None, 7], "p": ["a", "b", "b"]})
    pq_uri = s3_backend.write_hive_pyarrow(df, "pq", ["p"])
    pq = ParquetTable("pq", pq_uri, partitioning=[Partition("p")], storage=s3_backend.storage)
    delta_uri = s3_backend.write_delta(df, "delta", partition_by=["p"])
    delta = NeuralakeDeltaTable("delta", delta_uri, storage=s3_backend.storage)
    for stats in (pq.stats(), delta.stats()):
        assert (stats.rows, stats.files, stats.partitions) == (3, 2, 2)
        i = stats.columns[0]
        assert (i.name, i.min, i.max, i.null_count) == ("i", 1, 7, 1)
    assert [c.column for c in delta.schema_history()] == ["i", "p"]


def test_footer_reads_use_the_listed_size_and_refuse_embedded_credentials(tmp_path: Path) -> None:
    from neuralake.errors import StorageError
    from neuralake.storage import StorageConfig
    from neuralake.tables import stats as st

    path = tmp_path / "f.parquet"
    pl.DataFrame({"a": [1, None, 3]}).write_parquet(path)
    (footer,) = st.read_footers([(str(path), path.stat().st_size)], StorageConfig())
    assert (footer.rows, footer.columns["a"]) == (3, (1, 3, 1))
    files = [("s3://bucket/a.parquet", 10), ("s3://key:hunter2@bucket/f.parquet", 10)]
    with pytest.raises(StorageError, match="embeds credentials") as err:
        st.read_footers(files, StorageConfig())
    assert "hunter2" not in str(err.value)
