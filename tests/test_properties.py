"""Property tests: every backend returns exactly what plain polars filtering returns.

For random small tables and random DNF filters, the catalog's result on each backend (function
table, hive and directory Parquet, Delta; locally and on the moto S3 server) must equal
``df.filter(expr)`` where ``expr`` is written here, independently of ``neuralake.filters``.
Data is written once per example into a fresh folder or S3 prefix.
"""

from __future__ import annotations

import json
import operator
import re
import string
from functools import reduce
from typing import Any

import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from polars.testing import assert_frame_equal

from neuralake import (
    Catalog,
    Database,
    Filter,
    FunctionTable,
    InvalidNameError,
    NeuralakeDeltaTable,
    ParquetTable,
    Partition,
)
from neuralake.metadata import validate_name

SCHEMA = pl.Schema(
    {
        "id": pl.Int64,
        "i": pl.Int64,
        "s": pl.String,
        "f": pl.Float64,
        "l": pl.List(pl.Int64),
        "p": pl.String,
    }
)
# Partition values: "12" next to "123", characters that need percent-encoding.
P_VALUES = ["a", "b b", "Brand#1", "x:y", "12", "123"]
AWKWARD = st.sampled_from(["a.c", "abc", "a*", "%", "x y", "'", "\\", "é/?", "(a", ""]) | st.text(
    alphabet=list("ab.*%#: \\'\"()[]^$é/?"), max_size=4
)
FLOATS = st.sampled_from([-2.5, -1.0, 0.0, 0.5, 3.25, 1e6])

ROW = st.fixed_dictionaries(
    {
        "i": st.integers(-3, 3),
        "s": st.none() | AWKWARD,
        "f": st.none() | FLOATS,
        "l": st.none() | st.lists(st.integers(0, 3), max_size=3),
        "p": st.sampled_from(P_VALUES),
    }
)
ROWS = st.lists(ROW, min_size=1, max_size=15)

COMPARISONS = ["=", "!=", "<", "<=", ">", ">="]
NULL_OPS = ["is null", "is not null"]
VALUES: dict[str, Any] = {
    "i": st.integers(-4, 4) | st.sampled_from([1.5, 2.0, -0.5]),
    "s": AWKWARD,
    "f": FLOATS | st.integers(-2, 2),
    "p": st.sampled_from([*P_VALUES, "1", "zz", "12 "]),
    "id": st.integers(-1, 12),
}
OPS: dict[str, list[str]] = {
    "i": [*COMPARISONS, "in", "not in", *NULL_OPS],
    "s": [*COMPARISONS, "in", "not in", "contains", *NULL_OPS],
    "f": [*COMPARISONS, "in", "not in", *NULL_OPS],
    "p": ["=", "!=", "<", ">=", "in", "not in", "contains"],
    "id": ["<", ">="],
    "l": ["includes", "includes any", "includes all", *NULL_OPS],
}


@st.composite
def filters(draw: st.DrawFn) -> Filter:
    column = draw(st.sampled_from(sorted(OPS)))
    op = draw(st.sampled_from(OPS[column]))
    if op in NULL_OPS:
        return Filter(column, op)  # type: ignore[arg-type]
    if column == "l":
        item = st.integers(0, 4)
        value = draw(item) if op == "includes" else draw(st.lists(item, max_size=3))
        return Filter(column, op, value)  # type: ignore[arg-type]
    if op in ("in", "not in"):
        return Filter(column, op, draw(st.lists(VALUES[column], max_size=3)))  # type: ignore[arg-type]
    if op == "contains":
        return Filter(column, op, draw(AWKWARD))  # type: ignore[arg-type]
    return Filter(column, op, draw(VALUES[column]))  # type: ignore[arg-type]


DNF = st.lists(st.lists(filters(), min_size=1, max_size=2), min_size=1, max_size=3)
COLUMNS = st.none() | st.lists(st.sampled_from(["i", "s", "f", "l", "p"]), unique=True).map(
    lambda cols: ["id", *cols]
)


# -- the oracle: written from the documented semantics, not from neuralake.filters -------------


def _any(exprs: list[pl.Expr]) -> pl.Expr:
    return reduce(operator.or_, exprs) if exprs else pl.lit(False)


def _all(exprs: list[pl.Expr]) -> pl.Expr:
    return reduce(operator.and_, exprs) if exprs else pl.lit(True)


def _has(col: pl.Expr, value: int) -> pl.Expr:
    return col.list.eval(pl.element() == value).list.any()


def oracle(f: Filter) -> pl.Expr:
    col = pl.col(f.column)
    compare = {"=": operator.eq, "!=": operator.ne, "<": operator.lt, "<=": operator.le,
               ">": operator.gt, ">=": operator.ge}  # fmt: skip
    if f.op in compare:
        return compare[f.op](col, f.value)  # type: ignore[no-any-return]
    if f.op == "in":
        return _any([col == v for v in f.value])
    if f.op == "not in":
        return _all([col != v for v in f.value]) if f.value else pl.lit(True)
    if f.op == "contains":
        return col.str.contains(re.escape(f.value))
    if f.op == "includes":
        return _has(col, f.value)
    if f.op == "includes any":
        return _any([_has(col, v) for v in f.value])
    if f.op == "includes all":
        return _all([_has(col, v) for v in f.value]) if f.value else col.is_not_null()
    if f.op == "is null":
        return col.is_null()
    assert f.op == "is not null"
    return col.is_not_null()


def oracle_dnf(dnf: list[list[Filter]]) -> pl.Expr:
    return _any([_all([oracle(f) for f in branch]) for branch in dnf])


def frame(rows: list[dict[str, Any]]) -> pl.DataFrame:
    return pl.DataFrame([{"id": n, **row} for n, row in enumerate(rows)], schema=SCHEMA)


# -- backends --------------------------------------------------------------------------------


def make_table(kind: str, lake: Any, df: pl.DataFrame) -> Any:
    if kind == "function":
        return FunctionTable(lambda: df.lazy(), name="t")
    if kind == "hive":
        uri = lake.write_hive_polars(df, "t", ["p"])
        return ParquetTable("t", uri, partitioning=[Partition("p")])
    if kind == "directory":
        uri = lake.write_directory(df, "t", ["p"])
        return ParquetTable(
            "t", uri, partitioning=[Partition("p")], partitioning_scheme="directory"
        )
    assert kind == "delta"
    uri = lake.write_delta(df, "t", partition_by=["p"])
    return NeuralakeDeltaTable("t", uri, partition_by=["p"])


def check(
    kind: str,
    lake: Any,
    rows: list[dict[str, Any]],
    dnf: list[list[Filter]],
    flat: bool,
    columns: list[str] | None,
) -> None:
    df = frame(rows)
    table = make_table(kind, lake, df)
    cat = Catalog({"db": Database([table])}, storage=lake.storage)
    spec: Any = dnf[0] if flat and len(dnf) == 1 else dnf
    got = cat.table("db.t", filters=spec, columns=columns).collect().sort("id")
    expected = df.filter(oracle_dnf(dnf)).sort("id")
    if columns is not None:
        expected = expected.select(columns)
    assert_frame_equal(got, expected)


LOCAL = settings(
    max_examples=40,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
REMOTE = settings(LOCAL, max_examples=10)


@pytest.mark.parametrize("kind", ["function", "hive", "directory", "delta"])
@LOCAL
@given(rows=ROWS, dnf=DNF, flat=st.booleans(), columns=COLUMNS)
def test_local_backends_agree_with_polars(
    backend_factory: Any,
    kind: str,
    rows: list[dict[str, Any]],
    dnf: list[list[Filter]],
    flat: bool,
    columns: list[str] | None,
) -> None:
    check(kind, backend_factory("local"), rows, dnf, flat, columns)


@pytest.mark.s3
@pytest.mark.parametrize("kind", ["hive", "delta"])
@REMOTE
@given(rows=ROWS, dnf=DNF, flat=st.booleans(), columns=COLUMNS)
def test_s3_backends_agree_with_polars(
    backend_factory: Any,
    s3_server: Any,
    kind: str,
    rows: list[dict[str, Any]],
    dnf: list[list[Filter]],
    flat: bool,
    columns: list[str] | None,
) -> None:
    check(kind, backend_factory("s3", s3_server), rows, dnf, flat, columns)


# -- names and filter serialisation ----------------------------------------------------------

NAME_OK = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


@settings(max_examples=200, deadline=None, database=None)
@given(name=st.text(alphabet=string.printable + "\x00é/.", max_size=12))
def test_names_are_valid_exactly_when_they_are_identifiers(name: str) -> None:
    if NAME_OK.fullmatch(name):
        assert validate_name(name) == name
        cat = Catalog(
            {name: Database([FunctionTable(lambda: pl.LazyFrame({"x": [1]}), name=name)])}
        )
        assert cat.list_tables() == [f"{name}.{name}"]
        assert cat.table(f"{name}.{name}").collect()["x"].to_list() == [1]
    else:
        with pytest.raises(InvalidNameError, match="Invalid table name"):
            validate_name(name)
        with pytest.raises(InvalidNameError, match="Invalid database name"):
            Catalog({name: Database()})


@settings(max_examples=100, deadline=None, database=None)
@given(f=filters())
def test_filter_to_dict_round_trips_through_json(f: Filter) -> None:
    data = json.loads(json.dumps(f.to_dict()))
    again = Filter(data["column"], data["op"], data["value"])
    assert again == f
