"""Stateful model test: random sequences of Delta operations against an in-memory Polars model.

After every step the table equals the model, and every earlier version equals the model's
snapshot at that version (time travel).
"""

from __future__ import annotations

import polars as pl
import pyarrow as pa
import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)
from polars.testing import assert_frame_equal

from neuralake import NeuralakeDeltaTable

from .conftest import Backend

SCHEMA = pa.schema([("id", pa.int64()), ("part", pa.string()), ("v", pa.int64())])
PL_SCHEMA = {"id": pl.Int64, "part": pl.String, "v": pl.Int64}
PARTS = ["a", "b", "c"]

row = st.fixed_dictionaries(
    {"id": st.integers(0, 15), "part": st.sampled_from(PARTS), "v": st.integers(-5, 5)}
)
rows = st.lists(row, min_size=1, max_size=6)
unique_rows = st.lists(row, min_size=1, max_size=6, unique_by=lambda r: r["id"])


def frame(items: list[dict[str, object]]) -> pl.DataFrame:
    return pl.DataFrame(items, schema=PL_SCHEMA)


def canonical(df: pl.DataFrame) -> pl.DataFrame:
    return df.select(list(PL_SCHEMA)).sort(list(PL_SCHEMA))


def merge_model(model: pl.DataFrame, source: pl.DataFrame, delete_part: str | None) -> pl.DataFrame:
    """Delta merge semantics, restricted to the source's partitions like NeuralakeDeltaTable.merge."""
    parts = source["part"].unique().to_list()
    matched = pl.col("id").is_in(source["id"].to_list()) & pl.col("part").is_in(parts)
    hit = model.filter(matched)
    kept = model.filter(~matched)
    if delete_part is not None:
        kept = kept.filter(pl.col("part") != delete_part)
    updated = hit.select("id").join(source, on="id", how="left")
    inserted = source.filter(~pl.col("id").is_in(hit["id"].to_list()))
    return pl.concat([kept, updated.select(list(PL_SCHEMA)), inserted])


class DeltaModel(RuleBasedStateMachine):
    backend: Backend

    @initialize()
    def setup(self) -> None:
        self.table = NeuralakeDeltaTable(
            "model",
            self.backend.uri("model"),
            schema=SCHEMA,
            partition_by=["part"],
            storage=self.backend.storage,
        )
        assert self.table.create() == 0
        self.model = frame([])
        self.snapshots: dict[int, pl.DataFrame] = {0: self.model}
        self.version = 0

    def record(self) -> None:
        current = self.table.delta_table().version()
        assert current >= self.version
        for v in range(self.version + 1, current + 1):
            self.snapshots[v] = self.model
        self.version = current

    @rule(items=rows)
    def append(self, items: list[dict[str, object]]) -> None:
        df = frame(items)
        self.table.write(df)
        self.model = pl.concat([self.model, df])
        self.record()

    @rule(items=rows)
    def overwrite(self, items: list[dict[str, object]]) -> None:
        df = frame(items)
        self.table.write(df, "overwrite")
        self.model = df
        self.record()

    @rule(items=rows, part=st.sampled_from(PARTS))
    def overwrite_partition(self, items: list[dict[str, object]], part: str) -> None:
        df = frame(items).with_columns(part=pl.lit(part))
        self.table.write(df, "overwrite", predicate=f"part = '{part}'")
        self.model = pl.concat([self.model.filter(pl.col("part") != part), df])
        self.record()

    @rule(items=unique_rows, delete_part=st.none() | st.sampled_from(PARTS))
    def merge(self, items: list[dict[str, object]], delete_part: str | None) -> None:
        df = frame(items)
        self.table.merge(
            df,
            on=["id"],
            delete_not_matched_by_source=None
            if delete_part is None
            else f"t.part = '{delete_part}'",
        )
        self.model = merge_model(self.model, df, delete_part)
        self.record()

    @rule()
    def optimize(self) -> None:
        self.table.optimize()
        self.record()

    @precondition(lambda self: len(self.snapshots) > 1)
    @rule(data=st.data())
    def restore(self, data: st.DataObject) -> None:
        target = data.draw(st.sampled_from(sorted(self.snapshots)))
        result = self.table.restore(target)
        assert result.changed == (target != self.version)
        self.model = self.snapshots[target]
        self.record()

    @invariant()
    def matches_model(self) -> None:
        if not hasattr(self, "table"):
            return
        assert_frame_equal(canonical(self.table().collect()), canonical(self.model))
        for v, snap in self.snapshots.items():
            got = self.table(version=v).collect()
            assert canonical(got).equals(canonical(snap)), f"version {v}: {got} != {snap}"


def test_delta_matches_model(backend: Backend) -> None:
    machine = type("Machine", (DeltaModel,), {"backend": backend})
    examples = 60 if backend.kind == "local" else 8
    run_state_machine_as_test(
        machine,
        settings=settings(
            max_examples=examples,
            stateful_step_count=10,
            deadline=None,
            suppress_health_check=list(HealthCheck),
            database=None,
        ),
    )


@pytest.mark.parametrize("delete_part", [None, "b"])
def test_merge_model_sanity(delete_part: str | None) -> None:
    """The model's merge agrees with a hand-computed case."""
    model = frame([{"id": 1, "part": "a", "v": 1}, {"id": 2, "part": "b", "v": 2}])
    source = frame([{"id": 1, "part": "a", "v": 10}, {"id": 3, "part": "a", "v": 3}])
    got = canonical(merge_model(model, source, delete_part))
    expected = [{"id": 1, "part": "a", "v": 10}, {"id": 3, "part": "a", "v": 3}]
    if delete_part is None:
        expected.append({"id": 2, "part": "b", "v": 2})
    assert_frame_equal(got, canonical(frame(expected)))
