"""Concurrent writers and crash safety, on a local folder and on S3 (moto)."""

from __future__ import annotations

import dataclasses
import multiprocessing as mp
import os
import signal
import time
from pathlib import Path

import polars as pl
import pytest

from neuralake import CommitConflictError

from . import delta_workers
from .conftest import Backend, s3_storage

WRITERS = 4
APPENDS = 50


def _storage_dict(backend: Backend) -> dict[str, object] | None:
    return dataclasses.asdict(backend.storage) if backend.storage else None


def test_concurrent_appends_lose_nothing(backend: Backend) -> None:
    uri = backend.uri("events")
    storage = _storage_dict(backend)
    table = delta_workers.make_table(uri, storage)  # type: ignore[arg-type]
    assert table.create() == 0
    ctx = mp.get_context("spawn")
    procs = [
        ctx.Process(target=delta_workers.append_many, args=(uri, storage, w, APPENDS))
        for w in range(WRITERS)
    ]
    for p in procs:
        p.start()
    for p in procs:
        p.join(600)
    assert [p.exitcode for p in procs] == [0] * WRITERS

    df = table().collect()
    assert df.height == WRITERS * APPENDS
    assert df.select("writer", "seq").unique().height == WRITERS * APPENDS
    expected = {(w, s) for w in range(WRITERS) for s in range(APPENDS)}
    assert set(df.select("writer", "seq").iter_rows()) == expected
    versions = sorted(table.history()["version"].to_list())
    assert versions == list(range(WRITERS * APPENDS + 1))


def test_overwrite_of_same_partition_conflicts(backend: Backend) -> None:
    table = delta_workers.make_table(backend.uri("events"), _storage_dict(backend))  # type: ignore[arg-type]
    first = pl.DataFrame({"writer": [1, 2], "seq": [0, 0], "payload": [0.0, 0.0]})
    table.write(first)
    stale = table.delta_table()  # writer B read version 0 ...
    table.write(first.head(1), "overwrite", predicate="writer = 1")  # ... writer A commits v1
    with pytest.raises(CommitConflictError) as err:
        table.write(first.head(1), "overwrite", predicate="writer = 1", snapshot=stale)
    message = str(err.value)
    assert message.startswith(
        "Table 'events': overwrite based on version 0 conflicts with version 1 "
        "(WRITE, mode=Overwrite, predicate=writer = 1), which won. Re-read the table and retry."
    )
    assert table.delta_table().version() == 1


def test_stale_append_is_retried(backend: Backend) -> None:
    table = delta_workers.make_table(backend.uri("events"), _storage_dict(backend))  # type: ignore[arg-type]
    row = pl.DataFrame({"writer": [1], "seq": [0], "payload": [0.0]})
    table.write(row)
    stale = table.delta_table()
    table.write(row.with_columns(seq=pl.lit(1)))
    assert table.write(row.with_columns(seq=pl.lit(2)), snapshot=stale) == 2
    assert sorted(table().collect()["seq"].to_list()) == [0, 1, 2]


@pytest.mark.s3
def test_unsafe_rename_is_refused_unless_opted_in(
    moto_endpoint: str, s3_bucket: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    backend = Backend("s3", f"s3://{s3_bucket}/unsafe", s3_storage(moto_endpoint))
    table = delta_workers.make_table(backend.uri("events"), _storage_dict(backend))  # type: ignore[arg-type]
    monkeypatch.setenv("AWS_S3_ALLOW_UNSAFE_RENAME", "true")
    from neuralake import StorageError

    with pytest.raises(StorageError, match="AWS_S3_ALLOW_UNSAFE_RENAME is set"):
        table.write(pl.DataFrame({"writer": [1], "seq": [0], "payload": [0.0]}))
    table.allow_unsafe_rename = True
    assert table.write(pl.DataFrame({"writer": [1], "seq": [0], "payload": [0.0]})) == 0


def test_killed_writer_leaves_table_readable(local_backend: Backend) -> None:
    uri = local_backend.uri("events")
    table = delta_workers.make_table(uri, None)
    seed = pl.DataFrame({"writer": [-1], "seq": [-1], "payload": [1.0]})
    assert table.write(seed) == 0
    before = {p.name for p in Path(uri).rglob("*.parquet")}

    ctx = mp.get_context("spawn")
    child = ctx.Process(target=delta_workers.write_large, args=(uri, None, 30_000_000))
    child.start()
    deadline = time.monotonic() + 120
    new: set[str] = set()
    while time.monotonic() < deadline and child.is_alive():
        new = {p.name for p in Path(uri).rglob("*.parquet")} - before
        if len(new) >= 2:
            break
        time.sleep(0.01)
    assert child.pid is not None
    os.kill(child.pid, signal.SIGKILL)
    child.join(30)
    assert child.exitcode == -signal.SIGKILL, "the writer finished before it could be killed"
    orphans = {p.name for p in Path(uri).rglob("*.parquet")} - before
    assert len(orphans) >= 2

    assert table.delta_table().version() == 0  # the log never saw the killed write
    assert table().collect().equals(seed)
    assert table.write(seed.with_columns(seq=pl.lit(1))) == 1  # the next write succeeds
    assert table().collect().height == 2

    reported = table.vacuum(0, dry_run=True, enforce_retention=False)
    assert orphans <= {os.path.basename(f) for f in reported}
    assert {p.name for p in Path(uri).rglob("*.parquet")} >= orphans  # dry run deleted nothing
