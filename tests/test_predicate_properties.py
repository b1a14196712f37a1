"""Property tests: every renderer of one bound predicate selects the same rows.

For random small schemas and data (ints, floats, strings with quotes, ``%``, ``_``, regex
metacharacters and unicode, booleans, dates, lists of strings, nulls) and random DNF filters
(empty ``in`` / ``not in`` / ``includes any`` / ``includes all`` included), the rows kept by

- ``ToPolars`` applied with ``DataFrame.filter``,
- ``ToSql`` run through ``Catalog.sql`` (the catalog's SQL engine),
- ``ToDeltaPartitionFilters`` against a real Delta table partitioned on the filtered columns
  (when the renderer returns filters),

must equal a reference computed here in plain Python, row by row, from the Filter semantics.
"""

from __future__ import annotations

import datetime as dt
import tempfile
from collections.abc import Callable
from typing import Any

import polars as pl
from deltalake import DeltaTable, write_deltalake
from hypothesis import given, settings
from hypothesis import strategies as st

from neuralake import Catalog, Database, Filter, FunctionTable
from neuralake.predicate import AlwaysTrue, ToDeltaPartitionFilters, ToPolars, ToSql, bind

KINDS: dict[str, pl.DataType] = {
    "int": pl.Int64(),
    "float": pl.Float64(),
    "str": pl.String(),
    "bool": pl.Boolean(),
    "date": pl.Date(),
    "list": pl.List(pl.String()),
}
# Plain, reserved and awkward column names (SQL must quote the last two).
NAMES = ["c0", "c1", "c2", "c3", "order", 'we"ird col']
# Delta stores an empty partition string as null, so partition strings are never empty.
CHARS = list("ab'\"%_\\.*(é€ ")
TEXT = st.text(alphabet=CHARS, max_size=3)
PART_TEXT = st.text(alphabet=CHARS, min_size=1, max_size=3)
FLOATS = st.sampled_from([-1.5, -0.0, 0.0, 0.5, 1.0, 2.25, 1e-5, float("inf")])
DATES = st.dates(dt.date(2023, 12, 30), dt.date(2024, 1, 3))

VALUES: dict[str, st.SearchStrategy[Any]] = {
    "int": st.integers(-3, 3),
    "float": FLOATS,
    "str": TEXT,
    "bool": st.booleans(),
    "date": DATES,
    "list": st.lists(st.none() | st.sampled_from(["a", "b", "'", "%"]), max_size=3),
}
# What a filter may compare each kind with: ints meet floats (1.5 matches no integer).
OPERANDS: dict[str, st.SearchStrategy[Any]] = {
    "int": st.integers(-3, 3) | st.sampled_from([1.5, 2.0, -0.5]),
    "float": FLOATS | st.integers(-2, 2),
    "str": TEXT,
    "bool": st.booleans(),
    "date": DATES,
    "list": st.sampled_from(["a", "b", "'", "%", "z"]),
}
SCALAR_OPS = ["=", "!=", "<", "<=", ">", ">=", "in", "not in", "is null", "is not null"]
OPS: dict[str, list[str]] = {
    "int": SCALAR_OPS,
    "float": SCALAR_OPS,
    "str": [*SCALAR_OPS, "contains"],
    "bool": SCALAR_OPS,
    "date": SCALAR_OPS,
    "list": ["includes", "includes any", "includes all", "is null", "is not null"],
}


@st.composite
def tables(
    draw: st.DrawFn, kinds: list[str] | None = None, partitionable: bool = False
) -> tuple[pl.DataFrame, dict[str, str]]:
    """A frame with an ``id`` column plus 1-4 columns of random kinds; ``{column: kind}``."""
    if kinds is None:
        kinds = draw(st.lists(st.sampled_from(sorted(KINDS)), min_size=1, max_size=4))
    names = NAMES[: len(kinds)] if partitionable else draw(st.permutations(NAMES))[: len(kinds)]
    columns = dict(zip(names, kinds, strict=True))
    n = draw(st.integers(0, 7))
    data: dict[str, list[Any]] = {"id": list(range(n))}
    for name, kind in columns.items():
        values = PART_TEXT if partitionable and kind == "str" else VALUES[kind]
        data[name] = draw(st.lists(st.none() | values, min_size=n, max_size=n))
    schema = {"id": pl.Int64(), **{c: KINDS[k] for c, k in columns.items()}}
    return pl.DataFrame(data, schema=schema), columns


@st.composite
def filters(draw: st.DrawFn, columns: dict[str, str]) -> Filter:
    column = draw(st.sampled_from(sorted(columns)))
    kind = columns[column]
    op = draw(st.sampled_from(OPS[kind]))
    if op in ("is null", "is not null"):
        return Filter(column, op)  # type: ignore[arg-type]
    if op in ("in", "not in", "includes any", "includes all"):
        return Filter(column, op, draw(st.lists(OPERANDS[kind], max_size=3)))  # type: ignore[arg-type]
    value = draw(TEXT if op == "contains" else OPERANDS[kind])
    return Filter(column, op, value)  # type: ignore[arg-type]


def holds(f: Filter, v: Any) -> bool:
    """The Filter semantics, written independently: a comparison with null is false, `not in`
    on null is false except `not in []`, `includes all []` holds on every non-null list."""
    if f.op == "is null":
        return v is None
    if f.op == "is not null":
        return v is not None
    if f.op == "not in" and not f.value:
        return True
    if v is None:
        return False
    compare: dict[str, Callable[[Any, Any], bool]] = {
        "=": lambda a, b: a == b,
        "!=": lambda a, b: a != b,
        "<": lambda a, b: a < b,
        "<=": lambda a, b: a <= b,
        ">": lambda a, b: a > b,
        ">=": lambda a, b: a >= b,
        "in": lambda a, b: any(a == x for x in b),
        "not in": lambda a, b: all(a != x for x in b),
        "contains": lambda a, b: b in a,
        "includes": lambda a, b: b in a,
        "includes any": lambda a, b: any(x in a for x in b),
        "includes all": lambda a, b: all(x in a for x in b),
    }
    return compare[f.op](v, f.value)


def reference(frame: pl.DataFrame, dnf: list[list[Filter]]) -> list[int]:
    return sorted(
        row["id"]
        for row in frame.iter_rows(named=True)
        if any(all(holds(f, row[f.column]) for f in branch) for branch in dnf)
    )


def polars_ids(frame: pl.DataFrame, dnf: list[list[Filter]]) -> list[int]:
    pred = bind(dnf, frame.schema, table="db.t")
    return sorted(frame.filter(pred.accept(ToPolars()))["id"].to_list())


def sql_ids(frame: pl.DataFrame, dnf: list[list[Filter]]) -> list[int]:
    pred = bind(dnf, frame.schema, table="db.t")
    query = "SELECT id FROM db.t"
    if not isinstance(pred, AlwaysTrue):
        query += " WHERE " + pred.accept(ToSql())
    catalog = Catalog({"db": Database([FunctionTable(lambda: frame.lazy(), name="t")])})
    return sorted(catalog.sql(query).collect()["id"].to_list())


@settings(max_examples=300, deadline=None)
@given(st.data())
def test_polars_and_sql_renderers_select_the_reference_rows(data: st.DataObject) -> None:
    frame, columns = data.draw(tables())
    dnf = data.draw(st.lists(st.lists(filters(columns), min_size=1, max_size=3), max_size=3))
    want = reference(frame, dnf) if dnf else sorted(frame["id"].to_list())
    assert polars_ids(frame, dnf) == want
    assert sql_ids(frame, dnf) == want


PARTITION_KINDS = st.lists(st.sampled_from(["int", "str", "bool", "date"]), min_size=1, max_size=3)


@settings(max_examples=100, deadline=None)
@given(st.data())
def test_delta_partition_filters_select_the_reference_rows(data: st.DataObject) -> None:
    kinds = data.draw(PARTITION_KINDS)
    frame, columns = data.draw(tables(kinds, partitionable=True))
    branch = data.draw(st.lists(filters(columns), min_size=1, max_size=3))
    pred = bind(branch, frame.schema, table="db.t")
    rendered = pred.accept(ToDeltaPartitionFilters(list(columns)))
    want = reference(frame, [branch])
    assert polars_ids(frame, [branch]) == want
    if rendered is None:
        return
    with tempfile.TemporaryDirectory() as root:
        write_deltalake(root, frame.to_arrow(), partition_by=list(columns))
        dataset = DeltaTable(root).to_pyarrow_dataset(file_pruning_predicate=rendered or None)
        assert sorted(dataset.to_table(columns=["id"])["id"].to_pylist()) == want
