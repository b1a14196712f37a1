"""ParquetTable on every backend: partition pruning, encodings, filters, schema and errors."""

from __future__ import annotations

import datetime as dt
from typing import Any
from urllib.parse import unquote

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from neuralake import (
    Catalog,
    ColumnNotFoundError,
    Database,
    Filter,
    InvalidFilterError,
    InvalidParameterError,
    ParquetTable,
    Partition,
    SchemaMismatchError,
    StorageError,
)

# p: string partition with values that need care ("12" vs "123", characters to encode);
# n: integer partition below it.
DATA = pl.DataFrame(
    {
        "id": list(range(12)),
        "v": [0.5, 1.5, None, 3.5, 4.5, 5.5, 6.5, None, 8.5, 9.5, 10.5, 11.5],
        "s": ["a", "a.c", "abc", "x", None, "Brand#13", "q", "r", "s", "t", "u", "w"],
        "p": ["12", "12", "123", "123", "a b", "a b", "Brand#13", "x:y", "12", "q%z", "x:y", "123"],
        "n": [1, 12, 1, 123, 2, 2, 12, 1, 123, 5, 12, 1],
    }
)
PARTITIONS = [Partition("p", pl.String), Partition("n", pl.Int64)]
WRITERS = ["polars", "pyarrow", "directory"]


def write(backend: Any, writer: str, df: pl.DataFrame = DATA, name: str = "t") -> ParquetTable:
    partition_by = ["p", "n"]
    if writer == "polars":
        uri = backend.write_hive_polars(df, name, partition_by)
    elif writer == "pyarrow":
        uri = backend.write_hive_pyarrow(df, name, partition_by)
    else:
        uri = backend.write_directory(df, name, partition_by)
    scheme = "directory" if writer == "directory" else "hive"
    return ParquetTable(name, uri, partitioning=PARTITIONS, partitioning_scheme=scheme)


def read(backend: Any, table: ParquetTable, **kwargs: Any) -> pl.LazyFrame:
    return backend.catalog([table]).table(f"db.{table.name}", **kwargs)


def partition_values(table: ParquetTable, path: str) -> tuple[str, ...]:
    """The (decoded) partition values of a scanned file, from its path below the table root."""
    assert path.startswith(table.uri + "/"), path
    segments = path[len(table.uri) + 1 :].split("/")[:-1]
    if table.partitioning_scheme == "hive":
        return tuple(unquote(seg.split("=", 1)[1]) for seg in segments)
    return tuple(unquote(seg) for seg in segments)


@pytest.fixture(params=WRITERS)
def writer(request: pytest.FixtureRequest) -> str:
    return str(request.param)


# (filters, oracle expression, pinned leading partition values or None when the table is scanned)
CASES: list[tuple[Any, pl.Expr, set[tuple[str, ...]] | None]] = [
    ([Filter("p", "=", "12")], pl.col("p") == "12", {("12",)}),
    ([Filter("p", "in", ["12", "x:y"])], pl.col("p").is_in(["12", "x:y"]), {("12",), ("x:y",)}),
    ([Filter("p", "=", "12"), Filter("n", "=", 1)], (pl.col("p") == "12") & (pl.col("n") == 1), {("12", "1")}),
    (
        [Filter("p", "=", "12"), Filter("n", "in", [1, 123])],
        (pl.col("p") == "12") & pl.col("n").is_in([1, 123]),
        {("12", "1"), ("12", "123")},
    ),
    ([Filter("n", "=", 12)], pl.col("n") == 12, None),
    ([Filter("n", "in", [1, 2])], pl.col("n").is_in([1, 2]), None),
    (
        [[Filter("p", "=", "12")], [Filter("p", "=", "a b"), Filter("n", "=", 2)]],
        (pl.col("p") == "12") | ((pl.col("p") == "a b") & (pl.col("n") == 2)),
        {("12",), ("a b", "2")},
    ),
    (
        [[Filter("p", "=", "12"), Filter("n", "=", 1)], [Filter("p", "=", "12")]],
        pl.col("p") == "12",
        {("12",)},
    ),
    ([[Filter("p", "=", "12")], [Filter("v", ">", 9.0)]], (pl.col("p") == "12") | (pl.col("v") > 9), None),
    ([Filter("p", "!=", "12")], pl.col("p") != "12", None),
    ([Filter("p", "not in", ["12", "123"])], ~pl.col("p").is_in(["12", "123"]), None),
    ([Filter("p", "=", "nope")], pl.lit(False), set()),
    ([Filter("p", "in", ["12", "nope"])], pl.col("p") == "12", {("12",)}),
    ([Filter("p", "=", "12"), Filter("p", "=", "123")], pl.lit(False), set()),
    ([Filter("p", "in", ["12", "123"]), Filter("p", "=", "123")], pl.col("p") == "123", {("123",)}),
    ([Filter("p", "=", "12"), Filter("v", ">", 1.0)], (pl.col("p") == "12") & (pl.col("v") > 1), {("12",)}),
    ([Filter("p", "=", "12"), Filter("s", "contains", "a.")], (pl.col("p") == "12") & (pl.col("s") == "a.c"), {("12",)}),
    ([Filter("s", "is null")], pl.col("s").is_null(), None),
    ([Filter("v", "is not null"), Filter("n", ">", 5)], pl.col("v").is_not_null() & (pl.col("n") > 5), None),
    ([Filter("p", "=", "Brand#13")], pl.col("p") == "Brand#13", {("Brand#13",)}),
    ([Filter("p", "=", "q%z")], pl.col("p") == "q%z", {("q%z",)}),
    ("p = '12' AND n > 1", (pl.col("p") == "12") & (pl.col("n") > 1), None),
    (pl.col("p").is_in(["x:y", "a b"]), pl.col("p").is_in(["x:y", "a b"]), None),
]  # fmt: skip


@pytest.mark.parametrize(
    ("filters", "oracle", "pinned"),
    CASES,
    ids=[str(c[0]) if isinstance(c[0], pl.Expr) else repr(c[0]) for c in CASES],
)
def test_filters_match_polars_and_prune(
    backend: Any, writer: str, scanned: Any, filters: Any, oracle: pl.Expr, pinned: Any
) -> None:
    table = write(backend, writer)
    lf = read(backend, table, filters=filters)
    assert isinstance(lf, pl.LazyFrame)
    got = lf.collect().sort("id")
    expected = DATA.filter(oracle).sort("id")
    assert_frame_equal(got, expected)
    if pinned is not None:
        # One scan per pinned prefix that exists, reading exactly the files below it.
        leaves = {(p, str(n)) for p, n in DATA.select("p", "n").iter_rows()}
        wanted = {leaf for leaf in leaves if any(leaf[: len(pre)] == pre for pre in pinned)}
        scans = scanned(lf)
        assert sum(count for _, count in scans) == len(wanted)
        for first, _ in scans:
            values = partition_values(table, first)
            assert any(values[: len(pre)] == pre for pre in pinned), (first, pinned)
        assert len(scans) == len(
            {pre for pre in pinned if any(leaf[: len(pre)] == pre for leaf in leaves)}
        )


def test_full_read_keeps_partition_values_and_types(backend: Any, writer: str) -> None:
    table = write(backend, writer)
    got = read(backend, table).collect()
    assert got.schema == DATA.schema
    assert_frame_equal(got.sort("id"), DATA)


def test_trailing_separator_keeps_12_from_matching_123(
    backend: Any, writer: str, scanned: Any
) -> None:
    table = write(backend, writer)
    lf = read(backend, table, filters=[Filter("p", "=", "12"), Filter("n", "=", 12)])
    assert lf.collect()["id"].to_list() == [1]
    scans = scanned(lf)
    assert [(partition_values(table, first), count) for first, count in scans] == [
        (("12", "12"), 1)
    ]
    lf = read(backend, table, filters=[Filter("p", "in", ["12"])])
    scans = scanned(lf)
    assert [(partition_values(table, first)[0], count) for first, count in scans] == [("12", 3)]
    assert sorted(lf.collect()["id"].to_list()) == [0, 1, 8]


def test_empty_in_list_gives_zero_rows_with_schema(backend: Any, writer: str) -> None:
    table = write(backend, writer)
    for filters in ([Filter("p", "in", [])], [Filter("n", "in", [])], [Filter("s", "in", [])]):
        got = read(backend, table, filters=filters).collect()
        assert got.height == 0
        assert got.schema == DATA.schema


def test_columns_selection(backend: Any, writer: str) -> None:
    table = write(backend, writer)
    got = read(backend, table, columns=["n", "id"], filters=[Filter("p", "=", "x:y")]).collect()
    assert got.columns == ["n", "id"]
    assert sorted(got.rows()) == [(1, 7), (12, 10)]
    with pytest.raises(ColumnNotFoundError, match="no column 'nn'"):
        read(backend, table, columns=["nn"])


ENCODED_VALUES = ["Brand#13", "a b", "x:y", "q%z", "ä/ö?&=+", "50% off", "a[1]", "{x,y}", "~\\"]


# Polars' own hive reader cannot read back a folder named "brand=*" that its writer produced
# (with a hive schema), so "*" is checked with PyArrow's writer, which percent-encodes it.
@pytest.mark.parametrize(
    ("hive_writer", "value"),
    [("polars", v) for v in ENCODED_VALUES] + [("pyarrow", v) for v in [*ENCODED_VALUES, "*"]],
)
def test_values_needing_percent_encoding(backend: Any, hive_writer: str, value: str) -> None:
    df = pl.DataFrame({"id": [1, 2, 3], "brand": [value, "plain", value]})
    if hive_writer == "polars":
        uri = backend.write_hive_polars(df, "enc", ["brand"])
    else:
        uri = backend.write_hive_pyarrow(df, "enc", ["brand"])
    table = ParquetTable("enc", uri, partitioning=[Partition("brand")])
    assert sorted(read(backend, table).collect().rows()) == [(1, value), (2, "plain"), (3, value)]
    got = read(backend, table, filters=[Filter("brand", "=", value)]).collect()
    assert sorted(got["id"].to_list()) == [1, 3]
    got = read(backend, table, filters=[Filter("brand", "in", [value, "plain"])]).collect()
    assert sorted(got["id"].to_list()) == [1, 2, 3]
    got = read(backend, table, filters=[Filter("brand", "!=", value)]).collect()
    assert got["id"].to_list() == [2]


def test_missing_table_path_is_a_storage_error(backend: Any) -> None:
    table = ParquetTable("ghost", backend.uri("does/not/exist"), partitioning=[Partition("p")])
    with pytest.raises(StorageError, match=r"Table 'db.ghost': no data at .*does/not/exist"):
        read(backend, table)
    with pytest.raises(StorageError):
        read(backend, table, filters=[Filter("p", "=", "a")])


def test_unpartitioned_table(backend: Any) -> None:
    df = pl.DataFrame({"a": [3, 1, 2], "b": ["x", "y", "z"]})
    uri = backend.uri("flat")
    df.write_parquet(uri + "/part-0.parquet", storage_options=backend.options, mkdir=True)
    table = ParquetTable("flat", uri)
    got = read(backend, table, filters=[Filter("a", ">=", 2)]).collect()
    assert sorted(got.rows()) == [(2, "z"), (3, "x")]
    assert table.partitioning_scheme is None
    assert table.schema(backend.storage) == df.schema


def test_declared_schema_normalises(backend: Any, writer: str) -> None:
    df = pl.DataFrame(
        {
            "id": pl.Series([1, 2, 3], dtype=pl.Int32),
            "extra_stored": ["x", "y", "z"],
            "p": ["a", "b", "a"],
            "n": [1, 1, 2],
        }
    )
    if writer == "polars":
        uri = backend.write_hive_polars(df, "decl", ["p", "n"])
    elif writer == "pyarrow":
        uri = backend.write_hive_pyarrow(df, "decl", ["p", "n"])
    else:
        uri = backend.write_directory(df, "decl", ["p", "n"])
    table = ParquetTable(
        "decl",
        uri,
        partitioning=PARTITIONS,
        partitioning_scheme="directory" if writer == "directory" else "hive",
        schema={"missing": pl.String, "id": pl.Int64},
        column_docs={"id": "Row id"},
    )
    expected_schema = pl.Schema(
        {"missing": pl.String, "id": pl.Int64, "p": pl.String, "n": pl.Int64}
    )
    assert table.schema() == expected_schema
    got = read(backend, table, filters=[Filter("p", "=", "a")]).collect().sort("id")
    assert got.schema == expected_schema
    assert got.rows() == [(None, 1, "a", 1), (None, 3, "a", 2)]
    with pytest.raises(InvalidFilterError, match="'id'"):
        read(backend, table, filters=[Filter("id", "=", "1")])


def test_metadata_describes_partitions(backend: Any, writer: str) -> None:
    table = write(backend, writer)
    cat = backend.catalog([table])
    meta = cat.describe_table("db.t")
    assert meta.type == "parquet"
    assert meta.partitions == ("p", "n")
    assert meta.partitioning_scheme == ("directory" if writer == "directory" else "hive")
    assert meta.location == table.uri
    assert meta.columns is not None
    assert [(c.name, c.type, c.partition) for c in meta.columns] == [
        ("id", "int64", False),
        ("v", "float64", False),
        ("s", "string", False),
        ("p", "string", True),
        ("n", "int64", True),
    ]


def test_parameters_are_refused(backend: Any) -> None:
    table = write(backend, "polars")
    with pytest.raises(InvalidParameterError, match=r"takes no parameters.*version"):
        read(backend, table, version=1)


def test_uri_trailing_slash_is_ignored(backend: Any) -> None:
    table = write(backend, "polars")
    slashed = ParquetTable("t", table.uri + "/", partitioning=PARTITIONS)
    assert slashed.uri == table.uri
    assert read(backend, slashed, filters=[Filter("p", "=", "12")]).collect().height == 3


def test_unknown_partitioning_scheme() -> None:
    with pytest.raises(ValueError, match="partitioning_scheme must be 'hive' or 'directory'"):
        ParquetTable("t", "lake/t", partitioning_scheme="spark")  # type: ignore[arg-type]


def test_directory_partition_value_cannot_be_a_path(tmp_path: Any) -> None:
    df = pl.DataFrame({"id": [1], "p": ["a"]})
    df.filter(pl.col("p") == "a").drop("p").write_parquet(tmp_path / "a.parquet")
    (tmp_path / "t" / "a").mkdir(parents=True)
    (tmp_path / "a.parquet").rename(tmp_path / "t" / "a" / "0.parquet")
    table = ParquetTable(
        "t", str(tmp_path / "t"), partitioning=[Partition("p")], partitioning_scheme="directory"
    )
    assert table(filters=[Filter("p", "=", "a")]).collect().rows() == [(1, "a")]
    for bad in ("..", "x/y", "."):
        with pytest.raises(InvalidFilterError, match="cannot be a folder name"):
            table(filters=[Filter("p", "=", bad)])


def test_relative_local_paths(tmp_path: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    # Relative uris resolve against the declaring module's project root, not the working folder.
    from neuralake import SourceLocation

    (tmp_path / "pyproject.toml").write_text("[project]\nname = 'p'\n")
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "tables.py").write_text("")
    source = SourceLocation("pkg.tables", "rel", str(tmp_path / "pkg" / "tables.py"), 1)
    df = pl.DataFrame({"id": [1, 2, 3], "p": ["a", "b", "a"], "n": [1, 2, 3]})
    df.write_parquet(tmp_path / "lake" / "hive", partition_by=["p", "n"])
    monkeypatch.chdir(tmp_path / "pkg")
    for p, group in df.group_by("p", "n"):
        folder = tmp_path / "lake" / "dir" / str(p[0]) / str(p[1])
        folder.mkdir(parents=True)
        group.drop("p", "n").write_parquet(folder / "0.parquet")
    for uri, scheme in (
        ("lake/hive", "hive"),
        ("lake/dir", "directory"),
        ("./lake/dir", "directory"),
    ):
        table = ParquetTable("rel", uri, partitioning=PARTITIONS, partitioning_scheme=scheme,  # type: ignore[arg-type]
                             source=source)  # fmt: skip
        assert table.uri == str(tmp_path / uri.removeprefix("./"))
        got = table(filters=[Filter("n", ">", 1)]).collect().sort("id")
        assert got.rows() == [(2, "b", 2), (3, "a", 3)], (uri, scheme)
        assert table(filters=[Filter("p", "=", "a")]).collect().sort("id")["n"].to_list() == [1, 3]


@pytest.mark.parametrize(
    ("flt", "expected"),
    [
        (Filter("n", "=", 12.0), [1, 6, 10]),  # float value on an integer partition
        (Filter("n", "in", [12.0, 1.5]), [1, 6, 10]),
        (Filter("n", "=", 12.5), []),
        (Filter("p", "=", "12"), [0, 1, 8]),
    ],
)
def test_partition_values_of_another_python_type(
    backend: Any, flt: Filter, expected: list[int]
) -> None:
    table = write(backend, "polars")
    assert sorted(read(backend, table, filters=[flt]).collect()["id"].to_list()) == expected


def test_date_and_datetime_partitions(backend: Any) -> None:
    df = pl.DataFrame(
        {
            "id": [1, 2, 3],
            "d": [dt.date(2024, 1, 1), dt.date(2024, 1, 2), dt.date(2024, 1, 1)],
            "ts": [dt.datetime(2024, 1, 1, 3), dt.datetime(2024, 1, 2), dt.datetime(2024, 1, 1, 3)],
        }
    )
    uri = backend.write_hive_polars(df, "dates", ["d", "ts"])
    table = ParquetTable(
        "dates", uri, partitioning=[Partition("d", pl.Date), Partition("ts", pl.Datetime("us"))]
    )
    cat = Catalog({"db": Database([table])}, storage=backend.storage)
    got = cat.table("db.dates", filters=[Filter("d", "=", dt.date(2024, 1, 1))]).collect()
    assert sorted(got["id"].to_list()) == [1, 3]
    got = cat.table("db.dates", filters=[Filter("ts", "=", dt.datetime(2024, 1, 2))]).collect()
    assert got["id"].to_list() == [2]
    got = cat.table(
        "db.dates",
        filters=[
            Filter("d", "=", dt.date(2024, 1, 1)),
            Filter("ts", "=", dt.datetime(2024, 1, 1, 3)),
        ],
    ).collect()
    assert sorted(got["id"].to_list()) == [1, 3]


def test_read_with_declared_schema_touches_no_data_until_collect(backend: Any) -> None:
    df = pl.DataFrame({"id": [1, 2], "p": ["good", "bad"]})
    uri = backend.write_hive_polars(df.filter(pl.col("p") == "good"), "lazy", ["p"])
    fs, path = backend.arrow_fs(uri + "/p=bad/00000000.parquet")
    fs.create_dir(path.rsplit("/", 1)[0])
    with fs.open_output_stream(path) as out:
        out.write(b"this is not parquet")
    table = ParquetTable("lazy", uri, partitioning=[Partition("p")], schema={"id": pl.Int64})
    lf = read(backend, table)  # plans without opening any data file
    assert lf.collect_schema() == pl.Schema({"id": pl.Int64, "p": pl.String})
    with pytest.raises(pl.exceptions.PolarsError):
        lf.collect()
    assert read(backend, table, filters=[Filter("p", "=", "good")]).collect().rows() == [
        (1, "good")
    ]


def test_sidecar_files_are_never_read(backend: Any) -> None:
    df = pl.DataFrame({"id": [1, 2], "p": ["a", "b"]})
    uri = backend.write_hive_polars(df, "side", ["p"])
    fs, root = backend.arrow_fs(uri)
    for rel in (
        "_SUCCESS",
        "._SUCCESS.crc",
        "_committed_123",
        "_started_123",
        "p=a/.00000000.parquet.crc",
        "p=a/_SUCCESS",
        "_temporary/0/p=a/part-0.parquet",
    ):
        fs.create_dir(f"{root}/{rel}".rsplit("/", 1)[0])
        with fs.open_output_stream(f"{root}/{rel}") as out:
            out.write(b"not parquet")
    table = ParquetTable("side", uri, partitioning=[Partition("p")])
    assert sorted(read(backend, table).collect().rows()) == [(1, "a"), (2, "b")]
    assert read(backend, table, filters=[Filter("p", "=", "a")]).collect().rows() == [(1, "a")]


def test_spark_style_folder_names_prune_by_decoded_value(backend: Any, scanned: Any) -> None:
    # Spark leaves spaces, non-ASCII and '}' as they are and escapes '{' and '%' only.
    names = {"with space": "with space", "ünï": "ünï", "curly{x}": "curly%7Bx}", "1%": "1%25"}
    fs, root = backend.arrow_fs(backend.uri("spark"))
    for i, folder in enumerate(names.values()):
        path = f"{root}/s={folder}/part-0.parquet"
        fs.create_dir(path.rsplit("/", 1)[0])
        with fs.open_output_stream(path) as out:
            pl.DataFrame({"id": [i]}).write_parquet(out)
    table = ParquetTable("spark", backend.uri("spark"), partitioning=[Partition("s")])
    for i, value in enumerate(names):
        lf = read(backend, table, filters=[Filter("s", "=", value)])
        assert lf.collect().rows() == [(i, value)]
        assert [count for _, count in scanned(lf)] == [1]
    got = read(backend, table, filters=[Filter("s", "in", list(names))]).collect()
    assert sorted(got["id"].to_list()) == [0, 1, 2, 3]


def test_typed_directory_partitions_and_nulls(backend: Any) -> None:
    df = pl.DataFrame(
        {
            "id": [1, 2, 3],
            "d": [dt.date(2024, 1, 1), dt.date(2024, 1, 2), dt.date(2024, 1, 1)],
            "b": [True, False, True],
        }
    )
    uri = backend.write_directory(df, "typed", ["d", "b"])
    parts = [Partition("d", pl.Date), Partition("b", pl.Boolean)]
    table = ParquetTable("typed", uri, partitioning=parts, partitioning_scheme="directory")
    assert_frame_equal(read(backend, table).collect().sort("id"), df)
    got = read(backend, table, filters=[Filter("d", "=", dt.date(2024, 1, 2))]).collect()
    assert got["id"].to_list() == [2]
    nulls = pl.DataFrame({"id": [1, 2, 3, 4], "s": ["", None, "x", "x"], "n": [1, None, 2, None]})
    uri = backend.write_hive_polars(nulls, "nulls", ["s", "n"])
    table = ParquetTable("nulls", uri, partitioning=[Partition("s"), Partition("n", pl.Int64)])
    assert_frame_equal(read(backend, table).collect().sort("id"), nulls)
    for flt_, ids in (
        (Filter("s", "is null"), [2]),
        (Filter("s", "=", ""), [1]),
        (Filter("n", "is null"), [2, 4]),
        (Filter("s", "in", ["", "x"]), [1, 3, 4]),
    ):
        assert sorted(read(backend, table, filters=[flt_]).collect()["id"].to_list()) == ids


def test_unparseable_partition_folder_names_folder_and_table(backend: Any) -> None:
    df = pl.DataFrame({"id": [1, 2], "n": ["1", "oops"]})
    uri = backend.write_hive_polars(df, "bad", ["n"])
    table = ParquetTable("bad", uri, partitioning=[Partition("n", pl.Int64)])
    # n = 1 reads folder 'n=1' directly (one spelling), so the bad folder is never listed.
    assert read(backend, table, filters=[Filter("n", "=", 1)]).collect().rows() == [(1, 1)]
    for filters in (None, [Filter("n", "=", -1)]):
        with pytest.raises(SchemaMismatchError, match=r"'db.bad'.*'n=oops'"):
            read(backend, table, filters=filters).collect()
