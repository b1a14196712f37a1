"""Observability: one `neuralake` log record per read, and per-table read metrics."""

from __future__ import annotations

import logging
from typing import Any

import polars as pl
import pytest

from neuralake import (
    Catalog,
    Database,
    Filter,
    FunctionTable,
    NeuralakeDeltaTable,
    ParquetTable,
    Partition,
    TableNotFoundError,
)


def reads(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [
        r for r in caplog.records if r.name == "neuralake" and r.getMessage().startswith("read ")
    ]


def test_each_read_logs_table_filters_and_planning_time(
    backend: Any, caplog: pytest.LogCaptureFixture
) -> None:
    df = pl.DataFrame({"k": [1, 2, 3], "p": ["a", "b", "a"]})
    tables = [
        ParquetTable(
            "pq", backend.write_hive_polars(df, "pq", ["p"]), partitioning=[Partition("p")]
        ),
        NeuralakeDeltaTable("dl", backend.write_delta(df, "dl")),
        FunctionTable(lambda: df.lazy(), name="fn"),
    ]
    cat = backend.catalog(tables, db="obs")
    caplog.set_level(logging.INFO, logger="neuralake")
    for name in ("pq", "dl", "fn"):
        cat.table(
            f"obs.{name}", filters=[Filter("p", "=", "a"), Filter("k", "in", [1, 3])], columns=["k"]
        )
    cat.table("obs.fn")
    records = reads(caplog)
    assert [r.table for r in records] == ["obs.pq", "obs.dl", "obs.fn", "obs.fn"]  # type: ignore[attr-defined]
    for record in records[:3]:
        message = record.getMessage()
        assert record.levelno == logging.INFO
        assert f"read {record.table} " in message  # type: ignore[attr-defined]
        assert "filters=p = 'a' AND k in [1, 3]" in message
        assert "columns=k" in message
        assert isinstance(record.planning_ms, float)
        assert record.planning_ms >= 0
        assert f"planning_ms={record.planning_ms:.2f}" in message  # type: ignore[attr-defined]
    assert "filters=none columns=*" in records[3].getMessage()


def test_log_summarises_or_filters_sql_and_expressions(caplog: pytest.LogCaptureFixture) -> None:
    cat = Catalog(
        {"db": Database([FunctionTable(lambda: pl.LazyFrame({"a": [1], "b": [None]}), name="t")])}
    )
    caplog.set_level(logging.INFO, logger="neuralake")
    cat.table("db.t", filters=[[Filter("a", "=", 1)], [Filter("b", "is null")]])
    cat.table("db.t", filters="a < 3")
    cat.table("db.t", filters=pl.col("a") > 0)
    messages = [r.getMessage() for r in reads(caplog)]
    assert "filters=(a = 1) OR (b is null)" in messages[0]
    assert "filters=a < 3" in messages[1]
    assert 'col("a")' in messages[2]


def test_metrics_count_reads_per_table() -> None:
    t1 = FunctionTable(lambda: pl.LazyFrame({"a": [1]}), name="t1")
    t2 = FunctionTable(lambda: pl.LazyFrame({"a": [1]}), name="t2")
    cat = Catalog({"db": Database([t1, t2]), "other": Database()})
    assert cat.metrics() == {"tables": 2, "reads": {}}
    for _ in range(3):
        cat.table("db.t1")
    cat.db("db").table("t2")
    with pytest.raises(TableNotFoundError):
        cat.table("db.t3")
    metrics = cat.metrics()
    assert metrics["tables"] == 2
    assert set(metrics["reads"]) == {"db.t1", "db.t2"}
    assert metrics["reads"]["db.t1"]["count"] == 3
    assert metrics["reads"]["db.t2"]["count"] == 1
    stats = metrics["reads"]["db.t1"]
    assert set(stats) == {"count", "mean_ms", "max_ms", "total_ms"}
    assert 0 <= stats["mean_ms"] <= stats["max_ms"] <= stats["total_ms"]


def test_library_does_not_configure_logging() -> None:
    logger = logging.getLogger("neuralake")
    assert logger.level == logging.NOTSET
    assert not [h for h in logger.handlers if not isinstance(h, logging.NullHandler)]
