"""Storage faults in the middle of a write: a cut network link and a full disk.

Both must raise ``StorageError`` (never ``InvalidParameterError``, whatever delta-rs' message
says) and leave the table readable at its last committed version.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import polars as pl
import pyarrow as pa
import pytest
from polars.testing import assert_frame_equal

from neuralake import InvalidParameterError, NeuralakeDeltaTable, StorageConfig, StorageError

from .conftest import s3_storage

PROXY = Path(__file__).with_name("tcp_proxy.py")
SCHEMA = pa.schema([("id", pa.int64()), ("payload", pa.int64())])
SEED = pl.DataFrame({"id": [1, 2, 3], "payload": [10, 20, 30]})


def incompressible(rows: int) -> pl.DataFrame:
    """About 16 bytes of Parquet per row: hashes do not compress."""
    ids = pl.int_range(rows, eager=True)
    return pl.DataFrame({"id": ids, "payload": (ids.hash(7) // 2).cast(pl.Int64)})


@contextmanager
def proxy(
    upstream: int, *, cut_after: int = 0, port: int = 0, fault: str = ""
) -> Iterator[tuple[int, Any]]:
    """``tcp_proxy.py`` in a child process (with one ``fault`` mode, if given): ``(its port,
    the process)``; killed on exit."""
    proc = subprocess.Popen(
        [
            sys.executable,
            str(PROXY),
            str(port),
            str(upstream),
            str(cut_after),
            *([fault] if fault else []),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        ready = proc.stdout.readline().split()
        assert ready[:1] == ["ready"], ready
        yield int(ready[1]), proc
    finally:
        proc.kill()
        proc.wait(timeout=10)


def assert_storage_error(err: pytest.ExceptionInfo[StorageError], label: str) -> None:
    assert isinstance(err.value, StorageError)
    assert not isinstance(err.value, InvalidParameterError)
    assert f"Table {label!r}:" in str(err.value)
    assert isinstance(err.value.__cause__, Exception)  # chained from delta-rs


@pytest.mark.s3
def test_network_cut_mid_write_raises_storage_error_and_keeps_the_last_version(
    moto_endpoint: str, s3_bucket: str
) -> None:
    upstream = int(moto_endpoint.rsplit(":", 1)[1])
    direct = s3_storage(moto_endpoint)
    uri = f"s3://{s3_bucket}/faults-{uuid.uuid4().hex[:8]}/events"
    table = NeuralakeDeltaTable("events", uri, schema=SCHEMA, storage=direct)
    assert table.write(SEED) == 0
    big = incompressible(250_000)  # ~4 MB of Parquet: the cut falls inside the data upload

    with proxy(upstream, cut_after=1 << 20) as (port, proc):
        # Only the endpoint and a short timeout come from the call; keys come from the table.
        via_proxy = StorageConfig(endpoint_url=f"http://127.0.0.1:{port}", timeout_seconds=2)
        with pytest.raises(StorageError) as err:
            table.write(big, storage=via_proxy)
        assert proc.stdout is not None
        assert proc.stdout.readline().strip() == "cut"  # the link dropped during this write
    assert_storage_error(err, "events")
    assert "testing" not in str(err.value)  # the secret key is redacted

    with proxy(upstream, port=port):  # the link is back, on the same address
        assert table.delta_table(storage=via_proxy).version() == 0
        got = table(storage=via_proxy).collect()
    assert_frame_equal(got, SEED, check_row_order=False)
    assert [c.version for c in table.commits()] == [0]
    assert table.write(SEED.head(1)) == 1  # and the table takes the next write


@contextmanager
def tiny_filesystem(path: Path, size: str = "1m") -> Iterator[Path]:
    """A ``size`` tmpfs mounted at ``path`` (skips when this process may not mount)."""
    mount, umount = shutil.which("mount"), shutil.which("umount")
    if mount is None or umount is None:
        pytest.skip("mount/umount are not installed, so no small filesystem can be made")
    path.mkdir()
    done = subprocess.run(
        [mount, "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(path)],
        capture_output=True,
        text=True,
    )
    if done.returncode != 0:
        pytest.skip(
            f"cannot mount a {size} tmpfs ({done.stderr.strip() or done.returncode}): the "
            "disk-full test needs root or CAP_SYS_ADMIN"
        )
    try:
        yield path
    finally:
        subprocess.run([umount, str(path)], check=True)


def test_disk_full_mid_write_raises_storage_error_and_keeps_the_last_version(
    tmp_path: Path,
) -> None:
    with tiny_filesystem(tmp_path / "small") as root:
        table = NeuralakeDeltaTable("events", str(root / "events"), schema=SCHEMA)
        assert table.write(SEED) == 0
        with pytest.raises(StorageError) as err:
            table.write(incompressible(200_000))  # ~3 MB into 1 MB
        assert_storage_error(err, "events")
        assert "No space left on device" in str(err.value)  # delta-rs' cause is kept
        assert table.delta_table().version() == 0
        assert_frame_equal(table().collect(), SEED, check_row_order=False)
        assert table.freshness().version == 0
