"""Ask the table: facts, layout, serving info and commits read from the Delta log, and every
operation's storage resolved as the call's settings over the table's and the catalog's."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import deltalake
import polars as pl
import pyarrow as pa
import pytest

from neuralake import Catalog, Database, NeuralakeDeltaTable, StorageConfig
from neuralake.storage import list_files
from neuralake.tables.base import Versioned
from neuralake.tables.facts import Commit, ServingInfo, StoredLayout

from .conftest import Backend, s3_storage

SCHEMA = pa.schema([("id", pa.int64()), ("day", pa.string()), ("amount", pa.float64())])
ROWS = pl.DataFrame({"id": [1, 2, 3], "day": ["a b", "c/d", "a b"], "amount": [1.0, 2.0, 3.0]})


def events(backend: Backend, **kw: Any) -> NeuralakeDeltaTable:
    """Three commits: a write, an append and a merge (partition values need escaping)."""
    table = NeuralakeDeltaTable(
        "events", backend.uri("events"), schema=SCHEMA, partition_by=["day"],
        unique_columns=["id"], storage=backend.storage, **kw,
    )  # fmt: skip
    assert table.write(ROWS) == 0
    assert table.write(ROWS.with_columns(id=pl.col("id") + 10)) == 1
    assert table.upsert(ROWS.head(1).with_columns(amount=pl.lit(9.0))).version == 2
    return table


def test_inspect_opens_the_log_once(backend: Backend, monkeypatch: pytest.MonkeyPatch) -> None:
    table = events(backend)
    opened = []

    class Counting(deltalake.DeltaTable):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            opened.append(args[0])
            super().__init__(*args, **kwargs)

    monkeypatch.setattr(deltalake, "DeltaTable", Counting)
    facts = table.inspect(history=2)
    assert opened == [table.uri]
    assert facts.schema is None  # declared
    assert facts.freshness is not None
    assert (facts.freshness.version, facts.freshness.operation) == (2, "MERGE")
    assert facts.freshness.num_files == len(table.serving().files)
    assert [c.version for c in facts.history] == [2, 1]
    assert [c.operation for c in facts.history] == ["MERGE", "WRITE"]
    assert dict(facts.history[1].parameters)["mode"] == "Append"
    assert facts.stats_columns == ("amount", "id")  # partition values carry no statistics


def test_inspect_reports_the_stored_schema_when_none_is_declared(backend: Backend) -> None:
    declared = events(backend)
    bare = NeuralakeDeltaTable("bare", declared.uri, storage=backend.storage)
    assert bare.inspect().schema == pl.Schema(
        {"id": pl.Int64, "day": pl.String, "amount": pl.Float64}
    )
    assert bare.inspect().history == ()


def test_commits_and_history_are_the_same_log(backend: Backend) -> None:
    table = events(backend)
    assert isinstance(table, Versioned)
    commits = table.commits()
    assert [c.version for c in commits] == [2, 1, 0]
    assert all(isinstance(c, Commit) and c.timestamp is not None for c in commits)
    assert all(c.parameters == tuple(sorted(c.parameters)) for c in commits)
    assert all(isinstance(v, str) for c in commits for _, v in c.parameters)
    assert table.commits(1) == commits[:1]
    assert table.commits(0) == ()
    history = table.history(storage=backend.storage)
    assert history.columns == ["version", "timestamp", "operation", "parameters", "metrics"]
    assert history["version"].to_list() == [2, 1, 0]
    for commit, row in zip(commits, history.iter_rows(named=True), strict=True):
        assert row["timestamp"] == commit.timestamp
        assert json.loads(row["parameters"]) == dict(commit.parameters)
        for text in (row["parameters"], row["metrics"]):
            assert text == json.dumps(json.loads(text), sort_keys=True)
    assert json.loads(history["metrics"][2])["num_added_rows"] == 3


def test_layout_and_serving_come_from_the_log(backend: Backend) -> None:
    table = events(backend)
    layout = table.layout()
    assert layout == StoredLayout(table.discover_schema(table.resolve_storage()), ("day",))
    info = table.serving()
    assert isinstance(info, ServingInfo)
    assert (info.format, info.uri, info.partitioning_scheme) == ("delta", table.uri, "hive")
    assert info.partitions == (("day", pl.String),)
    assert info.size_bytes == table.freshness().size_bytes
    stored = dict(list_files(table.uri, table.resolve_storage()))
    assert {path: stored.get(path) for path, _ in info.files} == dict(info.files)
    assert {p.split("/", 1)[0] for p, _ in info.files} == {"day=a%20b", "day=c%2Fd"}


def test_a_log_without_commit_info_still_answers(local_backend: Backend) -> None:
    table = NeuralakeDeltaTable("plain", local_backend.uri("plain"), schema=SCHEMA)
    table.write(ROWS)
    table.write(ROWS)
    for commit in Path(table.uri, "_delta_log").glob("*.json"):  # as some writers leave it
        lines = commit.read_text().splitlines(keepends=True)
        commit.write_text("".join(line for line in lines if '"commitInfo"' not in line))
    fresh = table.freshness()
    assert (fresh.version, fresh.operation, fresh.timestamp) == (1, None, None)
    assert fresh.num_files == 2
    assert table.inspect(history=5).history == ()
    assert table.commits() == ()
    assert table.history().height == 0
    assert table().collect().height == 6


@pytest.mark.s3
def test_call_storage_is_layered_over_the_catalogs(moto_endpoint: str, s3_bucket: str) -> None:
    root = f"s3://{s3_bucket}/layered-{dt.datetime.now().timestamp():.0f}"
    declared = NeuralakeDeltaTable(
        "events", f"{root}/events", schema=SCHEMA, partition_by=["day"], unique_columns=["id"]
    )
    catalog = Catalog({"db": Database([declared])}, storage=s3_storage(moto_endpoint))
    table = catalog.get_table("db.events")
    assert isinstance(table, NeuralakeDeltaTable)
    call = StorageConfig(timeout_seconds=20)  # endpoint and keys still come from the catalog
    assert table.create(storage=call) == 0
    assert table.exists(call)
    assert table.write(ROWS, storage=call) == 1
    assert table.merge(ROWS.head(1), storage=call).rows_updated == 1
    assert table.upsert(ROWS.head(1), storage=call).version == 3
    assert [c.version for c in table.commits(2, storage=call)] == [3, 2]
    assert table.history(1, storage=call)["version"].to_list() == [3]
    assert table.inspect(call, history=1).freshness.version == 3  # type: ignore[union-attr]
    assert table.layout(call).partitions == ("day",)
    assert len(table.serving(call).files) > 0
    assert table.delta_table(call, version=1).version() == 1
    assert table.optimize(storage=call).version >= 3
    assert isinstance(table.vacuum(0, enforce_retention=False, storage=call), list)
    assert table.restore(1, storage=call).changed
    assert catalog.table("db.events", storage=call).collect().height == 3
