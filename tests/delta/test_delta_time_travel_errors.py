"""Time travel to a time before a Delta table's first commit is refused, not answered with v0."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import polars as pl
import pytest

from neuralake import Catalog, Database, InvalidParameterError, NeuralakeDeltaTable


def _catalog(tmp_path: Path) -> Catalog:
    uri = str(tmp_path / "events")
    pl.DataFrame({"id": [1, 2]}).write_delta(uri)
    pl.DataFrame({"id": [3]}).write_delta(uri, mode="append")
    return Catalog({"ops": Database([NeuralakeDeltaTable("events", uri)])}, name="tt")


def test_as_of_before_first_commit_names_its_time(tmp_path: Path) -> None:
    catalog = _catalog(tmp_path)
    first = catalog.get_table("ops.events").history().sort("version")["timestamp"][0]
    for early in (dt.datetime(2001, 1, 1, tzinfo=dt.UTC), "2001-01-01T00:00:00"):
        with pytest.raises(InvalidParameterError) as info:
            catalog.table("ops.events", as_of=early)
        message = str(info.value)
        assert "'ops.events'" in message
        assert "before its first commit (version 0" in message
        assert first.astimezone(dt.UTC).isoformat()[:19] in message
        assert "history()" in message


def test_as_of_after_first_commit_still_reads(tmp_path: Path) -> None:
    catalog = _catalog(tmp_path)
    now = dt.datetime.now(dt.UTC)
    assert catalog.table("ops.events", as_of=now).collect().height == 3
    assert catalog.table("ops.events", version=0).collect().height == 2
