"""Exactly-once commits and a bounded time to error, with faults injected between delta-rs and S3.

A loopback proxy (``tcp_proxy.py``) in front of moto loses the reply of a commit PUT, delays it
past the timeout, or resets a data file PUT mid-body; every write must land once (never twice,
never reported as a conflict it won) or fail with a ``StorageError`` leaving no partial data. A
store that accepts connections and never answers must fail within ``timeout_seconds``.
"""

from __future__ import annotations

import json
import socket
import subprocess
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import boto3
import polars as pl
import pyarrow as pa
import pytest
from polars.testing import assert_frame_equal

from neuralake import Catalog, Database, NeuralakeDeltaTable, StorageConfig, StorageError
from neuralake.storage import arrow_filesystem, list_files
from neuralake.tables.delta.commit import (
    APP_ID_PREFIX,
    TOKEN_KEY,
    TXN_RETENTION,
    TXN_RETENTION_KEY,
)

from .conftest import s3_storage
from .test_delta_faults import proxy

SCHEMA = pa.schema([("id", pa.int64()), ("v", pa.int64())])
SEED = pl.DataFrame({"id": [1, 2, 3], "v": [10, 20, 30]})
NEW = pl.DataFrame({"id": [3, 4, 5], "v": [31, 40, 50]})
TIMEOUT = 2.0
"""Seconds, for the requests through the proxy (short, so a delayed reply times out quickly)."""


def fired(proc: subprocess.Popen[str], fault: str) -> None:
    """The proxy reports that ``fault`` hit a request (so the test exercised it)."""
    proc.kill()
    out, _ = proc.communicate(timeout=10)
    assert out.split()[:1] == [fault.partition(":")[0]], out


def seeded(moto_endpoint: str, s3_bucket: str) -> NeuralakeDeltaTable:
    """A keyed table at version 1 (two commits), written directly to moto."""
    uri = f"s3://{s3_bucket}/once-{uuid.uuid4().hex[:8]}/events"
    table = NeuralakeDeltaTable(
        "events", uri, schema=SCHEMA, unique_columns=["id"], storage=s3_storage(moto_endpoint)
    )
    assert table.write(SEED.head(2)) == 0
    assert table.write(SEED.tail(1)) == 1
    return table


def operate(table: NeuralakeDeltaTable, op: str, storage: StorageConfig) -> int:
    """Run ``op`` with NEW through ``storage``; the version it reports."""
    if op == "append":
        return table.write(NEW.filter(pl.col("id") > 3), storage=storage) or -1
    if op == "overwrite":
        return table.write(NEW, mode="overwrite", storage=storage) or -1
    if op == "merge":
        return table.merge(NEW, on=["id"], storage=storage).version
    return table.upsert(NEW, storage=storage).version


def expected(op: str) -> pl.DataFrame:
    """The stored rows after ``op`` wrote NEW over SEED once."""
    if op == "append":
        return pl.concat([SEED, NEW.filter(pl.col("id") > 3)])
    return NEW if op == "overwrite" else pl.concat([SEED.head(2), NEW])


def stored(table: NeuralakeDeltaTable) -> pl.DataFrame:
    """Every stored row (not de-duplicated by key, so a doubled write shows)."""
    return pl.DataFrame(pl.from_arrow(table.delta_table().to_pyarrow_table()))


def log_actions(moto_endpoint: str, table: NeuralakeDeltaTable) -> dict[int, list[dict[str, Any]]]:
    """Every JSON commit of ``table`` read straight from moto: ``{version: actions}``."""
    s3 = boto3.client(
        "s3",
        endpoint_url=moto_endpoint,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    bucket, _, key = table.uri.removeprefix("s3://").partition("/")
    listed = s3.list_objects_v2(Bucket=bucket, Prefix=f"{key}/_delta_log/")
    found = {}
    for obj in listed.get("Contents", []):
        name = obj["Key"].rsplit("/", 1)[1]
        if name.endswith(".json") and name[:20].isdigit():
            body = s3.get_object(Bucket=bucket, Key=obj["Key"])["Body"].read().decode()
            found[int(name[:20])] = [json.loads(line) for line in body.splitlines() if line]
    return found


def assert_once(moto_endpoint: str, table: NeuralakeDeltaTable, op: str, version: int) -> None:
    """One new commit (version 2, carrying its own token) holding the operation's data once."""
    assert table.delta_table().version() == version == 2
    assert_frame_equal(stored(table), expected(op), check_row_order=False)
    log = log_actions(moto_endpoint, table)
    assert sorted(log) == [0, 1, 2]
    adds = [a["add"]["path"] for v in sorted(log) for a in log[v] if "add" in a]
    assert len(adds) == len(set(adds))  # no data file is added by two commits
    txns = [a["txn"] for a in log[2] if "txn" in a]
    assert len(txns) == 1
    assert txns[0]["appId"].startswith(APP_ID_PREFIX)
    assert any("add" in a for a in log[2])


OPERATIONS = ["append", "overwrite", "merge", "upsert"]


@pytest.mark.s3
@pytest.mark.parametrize("op", OPERATIONS)
def test_a_lost_commit_reply_is_applied_once_and_reports_its_version(
    moto_endpoint: str, s3_bucket: str, op: str
) -> None:
    table = seeded(moto_endpoint, s3_bucket)
    upstream = int(moto_endpoint.rsplit(":", 1)[1])
    with proxy(upstream, fault="drop-commit-reply") as (port, proc):
        via = StorageConfig(endpoint_url=f"http://127.0.0.1:{port}", timeout_seconds=TIMEOUT)
        version = operate(table, op, via)  # no error: the commit it lost the reply of is its own
        fired(proc, "drop-commit-reply")
    assert_once(moto_endpoint, table, op, version)


@pytest.mark.s3
def test_a_restore_whose_reply_is_lost_reports_its_own_commit(
    moto_endpoint: str, s3_bucket: str
) -> None:
    table = seeded(moto_endpoint, s3_bucket)
    upstream = int(moto_endpoint.rsplit(":", 1)[1])
    with proxy(upstream, fault="drop-commit-reply") as (port, proc):
        via = StorageConfig(endpoint_url=f"http://127.0.0.1:{port}", timeout_seconds=TIMEOUT)
        m = table.restore(0, storage=via)
        fired(proc, "drop-commit-reply")
    # Version 1's file leaves the snapshot; version 0's never left it.
    assert (m.version, m.restored_version, m.files_removed, m.files_restored) == (2, 0, 1, 0)
    assert table.delta_table().version() == 2
    assert_frame_equal(stored(table), SEED.head(2), check_row_order=False)


@pytest.mark.s3
@pytest.mark.parametrize("op", OPERATIONS)
def test_a_commit_reply_later_than_the_timeout_is_found_in_the_log(
    moto_endpoint: str, s3_bucket: str, op: str
) -> None:
    """The PUT times out, so delta-rs reports a storage error; the commit is read back instead.

    Guaranteed whenever the log can be read after the timeout (here: only the one reply is
    late); when it cannot, the call raises a StorageError saying the commit may have landed.
    """
    table = seeded(moto_endpoint, s3_bucket)
    upstream = int(moto_endpoint.rsplit(":", 1)[1])
    with proxy(upstream, fault=f"delay-commit-reply:{TIMEOUT + 1.5}") as (port, proc):
        via = StorageConfig(endpoint_url=f"http://127.0.0.1:{port}", timeout_seconds=TIMEOUT)
        start = time.monotonic()
        version = operate(table, op, via)
        elapsed = time.monotonic() - start
        fired(proc, "delay-commit-reply")
    assert TIMEOUT <= elapsed < TIMEOUT + 3  # it did wait for the reply, once
    assert_once(moto_endpoint, table, op, version)


@pytest.mark.s3
@pytest.mark.parametrize("op", OPERATIONS)
def test_a_data_upload_reset_mid_body_never_doubles_the_data(
    moto_endpoint: str, s3_bucket: str, op: str
) -> None:
    table = seeded(moto_endpoint, s3_bucket)
    upstream = int(moto_endpoint.rsplit(":", 1)[1])
    with proxy(upstream, fault="reset-data-put:100") as (port, proc):
        via = StorageConfig(endpoint_url=f"http://127.0.0.1:{port}", timeout_seconds=TIMEOUT)
        failure: StorageError | None = None
        try:
            version = operate(table, op, via)
        except StorageError as exc:
            failure = exc
        fired(proc, "reset-data-put")
    if failure is not None:  # failed truthfully: nothing of it is in the table
        assert "Table 'events':" in str(failure)
        assert table.delta_table().version() == 1
        assert_frame_equal(stored(table), SEED, check_row_order=False)
    else:  # the upload was retried: the data is there once
        assert_once(moto_endpoint, table, op, version)


def test_every_commit_carries_its_own_app_transaction_and_new_tables_expire_them(
    tmp_path: Path,
) -> None:
    table = NeuralakeDeltaTable("events", str(tmp_path / "t"), schema=SCHEMA, unique_columns=["id"])
    table.write(SEED.head(2))
    table.write(SEED.tail(1))
    table.upsert(NEW)
    assert table.optimize().files_removed > 1
    log = tmp_path / "t" / "_delta_log"
    commits = [
        list(map(json.loads, f.read_text().splitlines())) for f in sorted(log.glob("*.json"))
    ]
    infos = [next(a["commitInfo"] for a in actions if "commitInfo" in a) for actions in commits]
    assert [i["operation"] for i in infos] == ["WRITE", "WRITE", "MERGE", "OPTIMIZE"]
    tokens = [i[TOKEN_KEY] for i in infos]
    assert len(set(tokens)) == 4
    assert all(t.startswith(APP_ID_PREFIX) for t in tokens)
    txns = [[a["txn"] for a in actions if "txn" in a] for actions in commits]
    # delta-rs' optimize drops app transactions (its replay conflicts on the removed files)
    assert [[t["appId"] for t in ts] for ts in txns] == [[t] for t in tokens[:3]] + [[]]
    assert all(t["lastUpdated"] > 0 for ts in txns for t in ts)  # so they can expire
    assert table.delta_table().metadata().configuration[TXN_RETENTION_KEY] == TXN_RETENTION


# -- a store that accepts connections and never answers ----------------------------------------

BOUND = 3.0
SLACK = 0.1 * BOUND + 0.3
"""The +10% of the bound, plus 0.3 s for the Python work around the request (planning the read,
checking the data) on a loaded machine; the libraries are warmed up first (their one-time start,
up to 0.6 s on 2 busy CPUs, is not part of the bound)."""


@pytest.fixture
def silent_endpoint(tmp_path: Path) -> Iterator[str]:
    """An endpoint whose TCP connections the kernel accepts (backlog) and nobody ever answers."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(128)
    endpoint = f"http://127.0.0.1:{listener.getsockname()[1]}"
    warm = NeuralakeDeltaTable("warm", str(tmp_path / "warm"), schema=SCHEMA)
    warm.write(SEED)  # starts delta-rs' runtime and Polars' engine
    Catalog({"db": Database([warm])}).table("db.warm").collect()
    arrow_filesystem("s3://bucket/x", StorageConfig(endpoint_url=endpoint))  # pyarrow's S3 init
    try:
        yield endpoint
    finally:
        listener.close()


def _hung_calls(storage: StorageConfig) -> dict[str, Callable[[], object]]:
    table = NeuralakeDeltaTable("events", "s3://bucket/x/events", schema=SCHEMA)
    catalog = Catalog({"db": Database([table])}, storage=storage)
    return {
        "read": lambda: catalog.table("db.events").collect(),
        "write": lambda: table.write(SEED, storage=storage),
        "history": lambda: table.history(storage=storage),
        "listing": lambda: list_files("s3://bucket/x", storage),
    }


@pytest.mark.parametrize("call", ["read", "write", "history", "listing"])
def test_a_silent_endpoint_fails_within_the_timeout(silent_endpoint: str, call: str) -> None:
    storage = StorageConfig(
        endpoint_url=silent_endpoint,
        access_key_id="AKIAEXAMPLE",
        secret_access_key="sekrit-key",
        allow_http=True,
        timeout_seconds=BOUND,
    )
    run = _hung_calls(storage)[call]
    start = time.monotonic()
    with pytest.raises(StorageError) as err:
        run()
    elapsed = time.monotonic() - start
    assert elapsed < BOUND + SLACK, f"{call} took {elapsed:.2f} s"
    message = str(err.value)
    assert f"did not answer within {BOUND:g} seconds" in message
    assert "endpoint_url" in message
    assert "timeout_seconds" in message
    assert "sekrit-key" not in message
