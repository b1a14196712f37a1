"""A Daft query over a catalog table survives a Ray worker killed in the middle of it."""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

import daft
import polars as pl
import psutil
import pytest

from neuralake import Catalog, Database, ParquetTable, Partition

FILES = 24
ROWS = 500
# Long-lived Ray and Daft processes; the rest run tasks (Ray retries a task whose worker dies).
SERVICES = (
    "DashboardAgent",
    "RuntimeEnvAgent",
    "RemoteFlotillaRunner",
    "RaySwordfishActor",
    "IDLE",
)


def task_workers() -> list[psutil.Process]:
    found = []
    for p in psutil.process_iter(["cmdline"]):
        line = " ".join(p.info["cmdline"] or [])
        if line.startswith("ray::") and not any(s in line for s in SERVICES):
            found.append(p)
    return found


@daft.func
def slowly(x: int) -> int:
    time.sleep(0.0005)
    return x


def test_a_killed_worker_is_retried_and_the_answer_is_exact(
    tmp_path: Path, ray_cluster: Any
) -> None:
    if ray_cluster is None:
        pytest.skip("needs the Ray runner")
    for i in range(FILES):
        folder = tmp_path / "t" / f"bucket={i % 4}"
        folder.mkdir(parents=True, exist_ok=True)
        pl.DataFrame({"i": range(i * ROWS, (i + 1) * ROWS)}).write_parquet(folder / f"{i}.parquet")
    table = ParquetTable("t", str(tmp_path / "t"), partitioning=[Partition("bucket", pl.Int64)])
    frame = Catalog({"db": Database([table])}).table("db.t", engine="daft")
    query = frame.select(slowly(daft.col("i")).alias("i")).agg(daft.col("i").sum())
    killed: list[int] = []

    def kill_one() -> None:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not killed:
            for p in task_workers():
                p.kill()
                killed.append(p.pid)
                return
            time.sleep(0.05)

    killer = threading.Thread(target=kill_one)
    killer.start()
    result = query.to_pydict()
    killer.join()
    assert killed, "no Ray task worker ran long enough to be killed"
    assert result["i"] == [sum(range(FILES * ROWS))]
