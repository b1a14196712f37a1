"""Parquet datasets written by real writers, read back through ParquetTable.

pyarrow (hive and directory flavors), Polars and DuckDB write their datasets during the run;
Spark's folders are committed fixtures under ``spark/data`` (used when present). Each dataset
is checked by a full read, every partition value through ``=``, ``in`` and ``is null``, a
statistics filter and a column selection, against the rows written and the writer's own reader.
"""

from __future__ import annotations

import datetime as dt
import json
import shutil
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb
import polars as pl
import pyarrow as pa
import pyarrow.dataset as pads
import pyarrow.fs as pafs
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from polars.testing import assert_frame_equal

from neuralake import Catalog, Database, Filter, ParquetTable, Partition

SPARK = Path(__file__).parent / "spark" / "data"
STRINGS = ["plain", "with space", "ünïcødé", "curly{x}", "a=b", "100%", "#hash", "?q", "*star"]
STRINGS_DATA = pl.DataFrame(
    {
        "id": list(range(12)),
        "v": [float(i) * 1.5 for i in range(12)],
        "s": [*STRINGS, "", None, "plain"],
        "n": [1, 2, None, 1, 2, None, 1, 2, None, 1, 2, 1],
    }
)
STRINGS_PARTS = [Partition("s", pl.String), Partition("n", pl.Int64)]
TYPES_DATA = pl.DataFrame(
    {
        "id": [1, 2, 3, 4],
        "v": [1.0, 2.0, 3.0, 4.0],
        "d": [dt.date(2024, 1, 1), dt.date(2024, 1, 2), None, dt.date(2024, 1, 1)],
        "ts": [dt.datetime(2024, 1, 1, 10), dt.datetime(2024, 1, 2, 0, 0, 0, 123456), None, None],
        "b": [True, False, None, True],
        "dec": pl.Series([Decimal("1.50"), Decimal("-2.25"), None, Decimal("1.50")]).cast(
            pl.Decimal(10, 2)
        ),
    }
)
TYPES_PARTS = [
    Partition("d", pl.Date),
    Partition("ts", pl.Datetime("us")),
    Partition("b", pl.Boolean),
    Partition("dec", pl.Decimal(10, 2)),
]
DATASETS = {"strings": (STRINGS_DATA, STRINGS_PARTS), "types": (TYPES_DATA, TYPES_PARTS)}


def duck_type(dtype: Any) -> str:
    if dtype == pl.Decimal:
        return f"DECIMAL({dtype.precision},{dtype.scale})"
    if dtype == pl.Datetime:
        return "TIMESTAMP"
    names = {pl.String: "VARCHAR", pl.Int64: "BIGINT", pl.Int32: "INTEGER"}
    return names.get(dtype, str(dtype).upper())


def directory_safe(df: pl.DataFrame, parts: list[Partition]) -> pl.DataFrame:
    """pyarrow's directory flavor writes null and "" into the parent folder, unreadable as such."""
    for p in parts:
        df = df.filter(pl.col(p.name).is_not_null())
        if p.dtype == pl.String:
            df = df.filter(pl.col(p.name) != "")
    return df


def write(writer: str, df: pl.DataFrame, parts: list[Partition], out: Path) -> None:
    names = [p.name for p in parts]
    if writer in ("pyarrow", "pyarrow-dir"):
        table = df.to_arrow()
        schema = pa.schema([table.schema.field(n) for n in names])
        flavor = "hive" if writer == "pyarrow" else None
        pads.write_dataset(
            table, out, format="parquet", partitioning=pads.partitioning(schema, flavor=flavor)
        )
    elif writer == "polars":
        df.write_parquet(f"{out}/", partition_by=names)
    else:
        con = duckdb.connect()
        con.register("df", df.to_arrow())
        con.execute(f"COPY df TO '{out}' (FORMAT PARQUET, PARTITION_BY ({', '.join(names)}))")
        con.close()


def readback(writer: str, parts: list[Partition], out: Path) -> pl.DataFrame:
    """The dataset as the writer's own reader returns it."""
    hive_schema = {p.name: p.dtype for p in parts}
    if writer in ("pyarrow", "pyarrow-dir"):
        # pyarrow cannot build decimal partition values: read them as text, then cast.
        as_text = {n: pl.String if t == pl.Decimal else t for n, t in hive_schema.items()}
        schema = pl.DataFrame(schema=as_text).to_arrow().schema
        flavor = "hive" if writer == "pyarrow" else None
        ds = pads.dataset(out, partitioning=pads.partitioning(schema, flavor=flavor))
        got: pl.DataFrame = pl.from_arrow(ds.to_table())  # type: ignore[assignment]
        return got.cast(hive_schema)  # type: ignore[arg-type]
    if writer == "polars":
        return pl.scan_parquet(f"{out}/", hive_partitioning=True, hive_schema=hive_schema).collect()
    types = ", ".join(f"'{p.name}': '{duck_type(p.dtype)}'" for p in parts)
    sql = f"SELECT * FROM read_parquet('{out}/**/*.parquet', hive_types={{{types}}})"
    rel = duckdb.sql(sql)
    assert rel is not None
    return pl.from_arrow(rel.arrow())  # type: ignore[return-value]


WRITERS = ["pyarrow", "pyarrow-dir", "polars", "duckdb"]
# Spark's folders keep their _SUCCESS and .crc sidecars; Spark writes "" as null.
SPARK_NAMES = {"strings": "parquet_hive", "types": "parquet_dates"}
SPARK_PARTS = {
    "strings": [Partition("s", pl.String), Partition("n", pl.Int32)],
    "types": [*TYPES_PARTS],
}
SPARK_TYPES = {
    "int": pl.Int32,
    "string": pl.String,
    "double": pl.Float64,
    "date": pl.Date,
    "timestamp": pl.Datetime("us"),
    "boolean": pl.Boolean,
    "decimal(10,2)": pl.Decimal(10, 2),
}
HAS_SPARK = (SPARK / "EXPECTED.json").exists()
CASES = [
    (w, d, where)
    for w in [*WRITERS, *(["spark"] if HAS_SPARK else [])]
    for d in DATASETS
    for where in ("local", "s3")
]


def spark_rows(dataset: str) -> pl.DataFrame:
    """Spark's own readback of a fixture, with the schema it was written with."""
    expected = json.loads((SPARK / "EXPECTED.json").read_text())[SPARK_NAMES[dataset]]
    schema: dict[str, Any] = {}
    for column in expected["schema_given"].split(", "):
        name, kind = column.split(" ", 1)
        schema[name] = SPARK_TYPES[kind]
    parse: dict[Any, Callable[[str], Any]] = {
        pl.Date: dt.date.fromisoformat,
        pl.Datetime: dt.datetime.fromisoformat,
        pl.Decimal: Decimal,
    }

    def value(text: Any, dtype: Any) -> Any:
        kind = next((k for k in parse if dtype == k), None)
        return text if text is None or kind is None else parse[kind](text)

    rows = [
        {n: value(v, schema[n]) for n, v in row.items()} for row in expected["rows_with_schema"]
    ]
    return pl.DataFrame(rows, schema=schema)


class Lake:
    """One written dataset: the table over it, the rows written, and where it lives."""

    def __init__(
        self, writer: str, table: ParquetTable, rows: pl.DataFrame, folder: Path, storage: Any
    ) -> None:
        self.writer = writer
        self.table = table
        self.rows = rows
        self.folder = folder
        self.catalog = Catalog({"db": Database([table])}, storage=storage)

    def read(self, **kwargs: Any) -> pl.DataFrame:
        return self.catalog.table(f"db.{self.table.name}", **kwargs).collect()


@pytest.fixture(scope="module")
def lakes(tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest) -> Any:
    """``lakes(writer, dataset, where)`` -> a :class:`Lake`, written once per module."""
    made: dict[tuple[str, str, str], Lake] = {}

    def get(writer: str, dataset: str, where: str) -> Lake:
        key = (writer, dataset, where)
        if key not in made:
            df, parts = DATASETS[dataset]
            if writer == "pyarrow-dir":
                df = directory_safe(df, parts)
            folder = tmp_path_factory.mktemp(f"{writer}-{dataset}") / "t"
            if writer == "spark":
                df, parts = spark_rows(dataset), SPARK_PARTS[dataset]
                shutil.copytree(SPARK / SPARK_NAMES[dataset], folder)
            else:
                write(writer, df, parts, folder)
            uri, storage = str(folder), None
            if where == "s3":
                server = request.getfixturevalue("s3_server")
                storage = server.config()
                uri = f"s3://{server.bucket}/corpus/{writer}/{dataset}"
                upload(folder, uri, server)
            scheme: Any = "directory" if writer == "pyarrow-dir" else "hive"
            table = ParquetTable(dataset, uri, partitioning=parts, partitioning_scheme=scheme)
            made[key] = Lake(writer, table, df, folder, storage)
        return made[key]

    return get


def upload(folder: Path, uri: str, server: Any) -> None:
    fs = pafs.S3FileSystem(
        access_key="testing",
        secret_key="testing",
        region="us-east-1",
        endpoint_override=server.endpoint,
        scheme="http",
    )
    pafs.copy_files(str(folder), uri.removeprefix("s3://"), destination_filesystem=fs)


def same(got: pl.DataFrame, want: pl.DataFrame) -> None:
    assert_frame_equal(got.sort("id"), want.select(got.columns).sort("id"), check_dtypes=False)


def partition_checks(lake: Lake) -> list[tuple[Any, pl.Expr]]:
    """``=`` on every value, ``in`` on all of them and ``is null`` of every partition column."""
    cases: list[tuple[Any, pl.Expr]] = []
    for p in lake.table.partitioning:
        values = [v for v in lake.rows[p.name].unique().to_list() if v is not None]
        for v in values:
            cases.append(([Filter(p.name, "=", v)], pl.col(p.name) == v))
        cases.append(([Filter(p.name, "in", values)], pl.col(p.name).is_in(values)))
        cases.append(([Filter(p.name, "in", values[:1])], pl.col(p.name).is_in(values[:1])))
        cases.append(([Filter(p.name, "is null")], pl.col(p.name).is_null()))
    return cases


CHECKS: dict[str, Callable[[Lake], None]] = {}


def check(fn: Callable[[Lake], None]) -> Callable[[Lake], None]:
    CHECKS[fn.__name__] = fn
    return fn


@check
def full_read(lake: Lake) -> None:
    got = lake.read()
    assert got.schema == lake.rows.select(got.columns).schema
    assert sorted(got.columns) == sorted(lake.rows.columns)
    same(got, lake.rows)


@check
def partition_filters(lake: Lake) -> None:
    for filters, oracle in partition_checks(lake):
        same(lake.read(filters=filters), lake.rows.filter(oracle))


@check
def stats_filter(lake: Lake) -> None:
    same(lake.read(filters=[Filter("id", ">", 2)]), lake.rows.filter(pl.col("id") > 2))


@check
def column_selection(lake: Lake) -> None:
    names = ["id", lake.table.partitions[-1]]
    got = lake.read(columns=names)
    assert got.columns == names
    same(got, lake.rows.select(names))


@check
def writer_readback(lake: Lake) -> None:
    writer = lake.writer
    if writer == "spark":
        return  # the rows are Spark's own readback already
    try:
        theirs = readback(writer, list(lake.table.partitioning), lake.folder)
    except Exception as exc:  # the writer's own reader failing is a finding, not ours
        pytest.xfail(f"{writer}'s reader fails: {type(exc).__name__}: {str(exc)[:120]}")
    ours = lake.read()
    theirs = theirs.select(ours.columns).cast(dict(ours.schema))  # type: ignore[arg-type]
    if not theirs.sort("id").equals(lake.rows.select(ours.columns).sort("id")):
        pytest.xfail(f"{writer}'s reader returns other rows than written:\n{theirs.sort('id')}")
    same(ours, theirs)


@pytest.mark.parametrize("name", list(CHECKS))
@pytest.mark.parametrize(("writer", "dataset", "where"), CASES)
def test_corpus(lakes: Any, writer: str, dataset: str, where: str, name: str) -> None:
    if where == "s3" and name in ("stats_filter", "writer_readback"):
        pytest.skip("storage-independent; checked locally")
    CHECKS[name](lakes(writer, dataset, where))


# -- Hypothesis: any value, every writer, pruned read == full read then filter ------------------

# Surrogates and NUL cannot be in a file name.
VALUES = st.text(
    st.characters(blacklist_categories=["Cs"], blacklist_characters="\x00")
    | st.sampled_from(list("/=%#?*{} ")),
    max_size=8,
)


def writable(writer: str, value: str) -> bool:
    """Directory names cannot hold '/', be empty or '.'/'..', and pyarrow hides '_'/'.' ones."""
    if writer != "pyarrow-dir":
        return True
    return "/" not in value and value not in ("", ".", "..") and not value.startswith(("_", "."))


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(values=st.lists(VALUES, min_size=1, max_size=3, unique=True))
def test_any_value_prunes_like_a_full_read(tmp_path: Path, values: list[str]) -> None:
    for writer in WRITERS:
        kept = [v for v in values if writable(writer, v)]
        if not kept:
            continue
        df = pl.DataFrame({"id": list(range(len(kept) + 1)), "s": [*kept, "plain"]})
        out = tmp_path / f"{writer}-{abs(hash(tuple(values)))}"
        if out.exists():
            shutil.rmtree(out)
        write(writer, df, [Partition("s")], out)
        scheme: Any = "directory" if writer == "pyarrow-dir" else "hive"
        table = ParquetTable(
            "h", str(out), partitioning=[Partition("s")], partitioning_scheme=scheme
        )
        full = table().collect()
        same(full, df)
        for v in kept:
            for filters, oracle in (
                ([Filter("s", "=", v)], pl.col("s") == v),
                ([Filter("s", "in", [v, "plain"])], pl.col("s").is_in([v, "plain"])),
            ):
                got = table(filters=filters).collect()
                same(got, full.filter(oracle))


@pytest.mark.skipif(not HAS_SPARK, reason="no Spark fixtures")
@pytest.mark.parametrize("name", ["parquet_int96", "parquet_int96_legacy"])
def test_spark_unpartitioned_folder_skips_sidecars(name: str) -> None:
    expected = json.loads((SPARK / "EXPECTED.json").read_text())[name]
    table = ParquetTable(name, str(SPARK / name))
    got = table(columns=["id"]).collect().sort("id")
    assert got["id"].to_list() == [r["id"] for r in expected["rows"]]


@pytest.mark.skipif(not HAS_SPARK, reason="no Spark fixtures")
@pytest.mark.parametrize("name", ["parquet_int96", "parquet_int96_legacy"])
def test_spark_legacy_calendar_is_rebased(name: str) -> None:
    """Files Spark wrote in its hybrid Julian calendar (LEGACY rebase) read back the dates and
    timestamps Spark wrote, 0001-01-01 included; filters see the rebased values."""
    rows = json.loads((SPARK / "EXPECTED.json").read_text())[name]["rows"]
    table = ParquetTable(name, str(SPARK / name))
    got = table().sort("id").collect()
    assert got["d"].to_list() == [r["d"] and dt.date.fromisoformat(r["d"]) for r in rows]
    assert got["ts"].to_list() == [r["ts"] and dt.datetime.fromisoformat(r["ts"]) for r in rows]
    first = table(filters=[Filter("d", "=", dt.date(1, 1, 1))], columns=["id"]).collect()
    assert first["id"].to_list() == [0]


def test_julian_rebase_matches_the_calendar_for_every_day() -> None:
    """Every Gregorian day from 0001-01-01 to 1582-10-04, stored as Spark's legacy writer does
    (the Julian date with the same fields), rebases back to itself; later days are untouched."""
    from neuralake.tables.spark_footer import _julian_to_gregorian

    days = pl.date_range(dt.date(1, 1, 1), dt.date(1582, 10, 4), eager=True).alias("g")
    y, m, d = (s.cast(pl.Int64) for s in (days.dt.year(), days.dt.month(), days.dt.day()))
    # Julian-calendar day number of (y, m, d) (its divisions truncate), minus 1970-01-01's.
    stored = (367 * y - (7 * (y + 5001 + ((m - 9) / 7).cast(pl.Int64))) // 4 + (275 * m) // 9
              + d + 1729777 - 2440588)  # fmt: skip
    got = pl.select(_julian_to_gregorian(pl.lit(stored))).to_series()
    assert (got == days).all()
    assert stored[0] == (dt.date(1, 1, 1) - dt.date(1970, 1, 1)).days - 2


def _spark_file(path: Path, meta: dict[str, str], **columns: pa.Array) -> None:
    import pyarrow.parquet as pq

    path.mkdir()
    schema = pa.schema([(k, v.type) for k, v in columns.items()], metadata=meta)
    pq.write_table(pa.table(columns, schema=schema), path / "part-0.parquet")


def test_spark_2_dates_are_rebased_without_a_legacy_key(tmp_path: Path) -> None:
    """Spark before 3.0 wrote no legacyDateTime key: its version alone says Julian."""
    stored = (dt.date(1, 1, 1) - dt.date(1970, 1, 1)).days - 2
    _spark_file(tmp_path / "t", {"org.apache.spark.version": "2.4.8"},
                d=pa.array([stored, 0], pa.date32()))  # fmt: skip
    got = ParquetTable("t", str(tmp_path / "t"))().collect()["d"].to_list()
    assert got == [dt.date(1, 1, 1), dt.date(1970, 1, 1)]


def test_legacy_timestamps_of_a_zoned_writer_are_refused(tmp_path: Path) -> None:
    """Pre-1900 zone shifts cannot be undone from the file: refused by column, never guessed."""
    from neuralake import UnsupportedFeatureError

    meta = {"org.apache.spark.version": "3.5.0", "org.apache.spark.legacyDateTime": "",
            "org.apache.spark.timeZone": "America/New_York"}  # fmt: skip
    _spark_file(tmp_path / "t", meta, id=pa.array([1]),
                ts=pa.array([0], pa.timestamp("us", tz="UTC")))  # fmt: skip
    table = ParquetTable("t", str(tmp_path / "t"))
    with pytest.raises(UnsupportedFeatureError, match=r"ts .*America/New_York.*CORRECTED"):
        table().collect()


def test_spark_int96_timestamps_keep_their_value() -> None:
    """Spark's INT96 timestamps far from 1970 come back exactly, not clamped to 1677-2262."""
    import datetime as dt

    from neuralake import Filter, ParquetTable

    expected = json.loads((SPARK / "EXPECTED.json").read_text())["parquet_int96"]["rows"]
    want = [None if r["ts"] is None else dt.datetime.fromisoformat(r["ts"]) for r in expected]
    table = ParquetTable("spark_int96", str(SPARK / "parquet_int96"))
    got = table().sort("id").collect()
    assert got["ts"].to_list() == want
    assert got["ts"].dtype == pl.Datetime("us")
    late = table(filters=[Filter("ts", ">", dt.datetime(3000, 1, 1))], columns=["id"]).collect()
    assert late["id"].to_list() == [3]
    declared = ParquetTable("spark_int96", str(SPARK / "parquet_int96"),
                            schema={"id": pl.Int32, "ts": pl.Datetime("us"), "d": pl.Date})  # fmt: skip
    assert declared(columns=["ts"]).collect()["ts"].to_list() == want
