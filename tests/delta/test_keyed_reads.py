"""Keyed Delta tables: the unique-by-construction record, its loss, pushdown and the append rule."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest
from deltalake import DeltaTable, write_deltalake

from neuralake import Filter, NeuralakeDeltaTable
from neuralake.errors import InvalidParameterError
from neuralake.tables.delta.keys import PROPERTY, unique_by_construction

SCHEMA = {"k": pl.Int64, "p": pl.Int64, "v": pl.String}


def keyed(root: Path, keys: tuple[str, ...] = ("k",)) -> NeuralakeDeltaTable:
    return NeuralakeDeltaTable(
        "t", str(root / "t"), schema=SCHEMA, partition_by=["p"], unique_columns=keys
    )


def rows(ks: list[int], p: int = 1, v: str = "a") -> pl.DataFrame:
    return pl.DataFrame({"k": ks, "p": [p] * len(ks), "v": [v] * len(ks)}, schema=SCHEMA)


def plan(table: NeuralakeDeltaTable, filters: object = None) -> str:
    return table.scan(filters).explain()  # type: ignore[arg-type]


def test_create_records_the_key_as_a_table_property(tmp_path: Path) -> None:
    table = keyed(tmp_path, ("k", "p"))
    assert table.create() == 0
    assert table.delta_table().metadata().configuration[PROPERTY] == "k,p"
    table.write(rows([1, 2]))
    assert unique_by_construction(table.delta_table(), ["p", "k"])
    assert not unique_by_construction(table.delta_table(), ["k"])  # another key: not vouched


def test_first_keyed_write_is_unique_by_construction_and_reads_skip_dedup(tmp_path: Path) -> None:
    table = keyed(tmp_path)
    assert table.write(rows([1, 2])) == 0
    info = table.delta_table().history(1)[0]
    assert (info["neuralake.uniqueKey"], info["neuralake.uniqueKeyScope"]) == ("k", "table")
    table.upsert(rows([2, 3], v="b"))
    table.optimize()
    assert unique_by_construction(table.delta_table(), ["k"])
    assert "UNIQUE" not in plan(table, [Filter("v", "=", "b")])
    assert table().sort("k").collect()["v"].to_list() == ["a", "b", "b"]


def test_a_foreign_commit_clears_the_guarantee(tmp_path: Path) -> None:
    table = keyed(tmp_path)
    table.write(rows([1, 2, 3]))
    write_deltalake(table.uri, rows([2], v="new"), mode="append", partition_by=["p"])
    assert not unique_by_construction(table.delta_table(), ["k"])
    assert unique_by_construction(table.delta_table(version=0), ["k"])  # time travel
    got = table(filters=[Filter("v", "=", "a")]).sort("k").collect()
    assert got["k"].to_list() == [1, 3]  # the old row of key 2 does not resurface
    assert table().sort("k").collect()["v"].to_list() == ["a", "new", "a"]
    # The next keyed neuralake commit first rewrites the table with one row per key.
    version = table.delta_table().version()
    table.upsert(rows([3], v="up"))
    assert table.delta_table().version() == version + 2
    assert unique_by_construction(table.delta_table(), ["k"])
    assert table().sort("k").collect()["v"].to_list() == ["a", "new", "up"]


def test_files_added_since_are_told_apart_by_their_key_range(tmp_path: Path) -> None:
    table = keyed(tmp_path)
    table.write(rows([1, 2, 3]))
    write_deltalake(table.uri, rows([10, 11, 10], v="x"), mode="append", partition_by=["p"])
    explained = plan(table)
    assert "is_between" in explained
    assert "JOIN" not in explained.upper()
    got = table().sort("k").collect()
    assert got["k"].to_list() == [1, 2, 3, 10, 11]
    write_deltalake(table.uri, rows([2], v="y"), mode="append", partition_by=["p"])
    assert table().sort("k").collect()["v"].to_list() == ["a", "y", "a", "x", "x"]


def test_keyed_commits_removed_by_log_cleanup_trust_the_property(tmp_path: Path) -> None:
    table = keyed(tmp_path)
    table.create()
    table.write(rows([1]))
    table.write(rows([2]))
    dt = table.delta_table()
    dt.create_checkpoint()
    for v in (0, 1):
        (Path(table.uri) / "_delta_log" / f"{v:020d}.json").unlink()
    fresh = NeuralakeDeltaTable("t2", table.uri, schema=SCHEMA, partition_by=["p"],
                                unique_columns=["k"])  # fmt: skip
    assert unique_by_construction(fresh.delta_table(), ["k"])
    assert fresh().sort("k").collect()["k"].to_list() == [1, 2]


def test_partition_filters_reach_the_scan_when_the_key_holds_the_partition(
    tmp_path: Path,
) -> None:
    root = tmp_path / "raw"
    write_deltalake(str(root), rows([1, 2], p=1), partition_by=["p"])
    write_deltalake(str(root), rows([1], p=2, v="b"), mode="append", partition_by=["p"])
    with_p = NeuralakeDeltaTable("t", str(root), schema=SCHEMA, partition_by=["p"],
                                 unique_columns=["k", "p"])  # fmt: skip
    without_p = NeuralakeDeltaTable("t", str(root), schema=SCHEMA, partition_by=["p"],
                                    unique_columns=["k"])  # fmt: skip
    pushed = plan(with_p, [[Filter("p", "=", 1), Filter("v", "=", "a")], [Filter("k", "=", 9)]])
    assert 'SELECTION: (col("p") == 1) | (col("k") == 9)' in pushed  # below the UNIQUE
    assert "p=2" not in plan(with_p, [Filter("p", "=", 1), Filter("v", "=", "a")])
    assert with_p([Filter("p", "=", 1)]).sort("k").collect()["k"].to_list() == [1, 2]
    # Without the partition in the key, key 1 lives in two partitions: the newest wins.
    assert without_p([Filter("p", "=", 1)]).collect()["k"].to_list() == [2]
    assert "p=2" in plan(without_p, [Filter("p", "=", 1)])


def test_append_checks_new_keys_against_the_table_and_itself(tmp_path: Path) -> None:
    table = keyed(tmp_path)
    table.write(rows([1, 2]))
    with pytest.raises(InvalidParameterError, match=r"already in the table.*use upsert\(\)"):
        table.write(rows([2, 3], p=2))
    with pytest.raises(InvalidParameterError, match=r"duplicate keys \['k'\]"):
        table.write(rows([5, 5]))
    assert table.write(rows([3, 4], p=2)) == 1
    # An overwrite of a partition may repeat its own keys, not those of rows it keeps.
    assert table.write(rows([3], p=2, v="z"), "overwrite", predicate="p = 2") == 2
    with pytest.raises(InvalidParameterError, match="already in the table"):
        table.write(rows([1], p=2), "overwrite", predicate="p = 2")
    assert unique_by_construction(table.delta_table(), ["k"])
    assert table().sort("k").collect()["v"].to_list() == ["a", "a", "z"]


def test_upsert_of_a_key_that_moved_partition_keeps_one_row(tmp_path: Path) -> None:
    table = keyed(tmp_path)
    table.write(rows([1, 2], p=1))
    table.upsert(rows([1], p=2, v="moved"))
    assert unique_by_construction(table.delta_table(), ["k"])
    raw = pl.scan_delta(table.uri).sort("k").collect()  # no de-duplication: the files as stored
    assert raw.select("k", "p", "v").rows() == [(1, 2, "moved"), (2, 1, "a")]
    assert DeltaTable(table.uri).history(1)[0]["neuralake.uniqueKey"] == "k"
