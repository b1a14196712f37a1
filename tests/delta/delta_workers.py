"""Child-process entry points for the concurrency and crash tests (spawned, so importable)."""

from __future__ import annotations

from typing import Any

import polars as pl
import pyarrow as pa

from neuralake import NeuralakeDeltaTable, StorageConfig

SCHEMA = pa.schema([("writer", pa.int64()), ("seq", pa.int64()), ("payload", pa.float64())])


def make_table(uri: str, storage: dict[str, Any] | None) -> NeuralakeDeltaTable:
    return NeuralakeDeltaTable(
        "events",
        uri,
        schema=SCHEMA,
        storage=StorageConfig(**storage) if storage else None,
    )


def append_many(uri: str, storage: dict[str, Any] | None, writer: int, count: int) -> None:
    table = make_table(uri, storage)
    for seq in range(count):
        table.write(pl.DataFrame({"writer": [writer], "seq": [seq], "payload": [0.5]}))


def write_large(uri: str, storage: dict[str, Any] | None, rows: int) -> None:
    table = make_table(uri, storage)
    df = pl.DataFrame(
        {
            "writer": pl.int_range(rows, eager=True),
            "seq": pl.int_range(rows, eager=True) * 7,
            "payload": pl.int_range(rows, eager=True).cast(pl.Float64).sin(),
        }
    )
    table.write(df, target_file_size=256 * 1024)
