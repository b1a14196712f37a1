"""A keyed local Delta table against a model (one row per key, the latest write wins), driven
through upserts, checked appends, partition overwrites, optimize and foreign commits."""

from __future__ import annotations

import shutil
import tempfile
from typing import Any

import polars as pl
import pytest
from deltalake import write_deltalake
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

from neuralake import Filter, NeuralakeDeltaTable
from neuralake.errors import InvalidParameterError

SCHEMA = {"k": pl.Int64, "p": pl.Int64, "v": pl.Int64}
KEYS = st.integers(0, 12)
PARTS = st.integers(0, 2)
Row = tuple[int, int, int]  # k, p, v


def frame(rows: list[Row]) -> pl.DataFrame:
    return pl.DataFrame(rows, schema=SCHEMA, orient="row")


def batch() -> st.SearchStrategy[list[Row]]:
    return st.lists(st.tuples(KEYS, PARTS, st.integers(0, 99)), min_size=1, max_size=5,
                    unique_by=lambda r: r[0])  # fmt: skip


FILTERS = st.one_of(
    st.none(),
    st.builds(lambda k: [Filter("k", "<", k)], KEYS),
    st.builds(lambda p: [Filter("p", "=", p)], PARTS),
    st.builds(lambda v: [Filter("v", ">=", v)], st.integers(0, 99)),
    st.builds(
        lambda k, v: [[Filter("k", "=", k), Filter("v", "<", v)], [Filter("p", "=", 1)]],
        KEYS,
        st.integers(0, 99),
    ),
)


def matches(row: Row, filters: Any) -> bool:
    if filters is None:
        return True
    branches = filters if isinstance(filters[0], list) else [filters]
    ops = {"<": lambda a, b: a < b, "=": lambda a, b: a == b, ">=": lambda a, b: a >= b}
    names = ("k", "p", "v")
    return any(all(ops[f.op](row[names.index(f.column)], f.value) for f in b) for b in branches)


class KeyedTable(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.root = tempfile.mkdtemp(prefix="keyed-model-")
        self.model: dict[int, Row] = {}

    @initialize(keys_in_partition=st.booleans(), rows=batch())
    def start(self, keys_in_partition: bool, rows: list[Row]) -> None:
        keys = ["k", "p"] if keys_in_partition else ["k"]
        self.keys = keys
        self.table = NeuralakeDeltaTable("t", f"{self.root}/t", schema=SCHEMA, partition_by=["p"],
                                         unique_columns=keys)  # fmt: skip
        self.table.write(frame(rows))
        self.model = {self.key(r): r for r in rows}

    def key(self, row: Row) -> Any:
        return (row[0], row[1]) if self.keys == ["k", "p"] else row[0]

    @rule(rows=batch())
    def upsert(self, rows: list[Row]) -> None:
        self.table.upsert(frame(rows))
        self.model.update({self.key(r): r for r in rows})

    @rule(rows=batch())
    def append(self, rows: list[Row]) -> None:
        if any(self.key(r) in self.model for r in rows):
            with pytest.raises(InvalidParameterError, match="use upsert"):
                self.table.write(frame(rows))
            return
        self.table.write(frame(rows))
        self.model.update({self.key(r): r for r in rows})

    @rule(part=PARTS, rows=batch())
    def overwrite_partition(self, part: int, rows: list[Row]) -> None:
        rows = [(k, part, v) for k, _, v in rows]
        kept = {key: r for key, r in self.model.items() if r[1] != part}
        if any(self.key(r) in kept for r in rows):
            with pytest.raises(InvalidParameterError, match="already in the table"):
                self.table.write(frame(rows), "overwrite", predicate=f"p = {part}")
            return
        self.table.write(frame(rows), "overwrite", predicate=f"p = {part}")
        self.model = {**kept, **{self.key(r): r for r in rows}}

    @rule()
    def optimize(self) -> None:
        self.table.optimize()

    @rule(rows=batch())
    def foreign_append(self, rows: list[Row]) -> None:
        write_deltalake(self.table.uri, frame(rows), mode="append", partition_by=["p"])
        self.model.update({self.key(r): r for r in rows})

    @invariant()
    def reads_match_the_model(self) -> None:
        for filters in (None, [Filter("p", "=", 1)], [Filter("v", ">=", 50)]):
            self.check(filters)

    @rule(filters=FILTERS)
    def read(self, filters: Any) -> None:
        self.check(filters)

    def check(self, filters: Any) -> None:
        want = sorted(r for r in self.model.values() if matches(r, filters))
        got = sorted(self.table(filters=filters).collect().rows())
        assert got == want, (filters, got, want)

    def teardown(self) -> None:
        shutil.rmtree(self.root, ignore_errors=True)


KeyedTable.TestCase.settings = settings(
    max_examples=30,
    stateful_step_count=12,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
test_keyed_table_matches_the_model = KeyedTable.TestCase
