"""Delta tables as other writers leave them: column mapping, deletes, checkpoints, logs without
``commitInfo``, unparsable statistics, missing data files and unknown reader features. Every
read is compared with delta-rs' own readback (DataFusion, which applies column mapping)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import polars as pl
import pyarrow as pa
import pytest
from deltalake import DeltaTable, QueryBuilder, write_deltalake

from neuralake.errors import StorageError, UnsupportedFeatureError
from neuralake.filters import Filter
from neuralake.tables.delta import NeuralakeDeltaTable

SCHEMA = pa.schema([("id", pa.int64()), ("p", pa.string()), ("v", pa.float64())])
PARTS = ["x", "y", None]


def _rows(start: int) -> pa.Table:
    ids = list(range(start, start + 6))
    return pa.table(
        {"id": ids, "p": [PARTS[i % 3] for i in ids], "v": [i / 2 for i in ids]}, schema=SCHEMA
    )


def _rewrite_log(root: Path, edit: Any) -> None:
    for f in sorted((root / "_delta_log").glob("*.json")):
        actions = [json.loads(line) for line in f.read_text().splitlines() if line]
        kept = [a for a in (edit(a) for a in actions) if a is not None]
        f.write_text("".join(json.dumps(a) + "\n" for a in kept))


def _make(root: Path, kind: str) -> Path:
    config = {"delta.columnMapping.mode": "name"} if kind == "column_mapping" else None
    write_deltalake(str(root), _rows(0), partition_by=["p"], configuration=config)
    write_deltalake(str(root), _rows(6), partition_by=["p"], mode="append")
    if kind == "deleted":
        DeltaTable(str(root)).delete("id % 4 = 0")
    if kind == "checkpointed":
        DeltaTable(str(root)).create_checkpoint()
    if kind == "no_commit_info":
        _rewrite_log(root, lambda a: None if "commitInfo" in a else a)
    if kind == "bad_stats":
        _rewrite_log(root, lambda a: {"add": {**a["add"], "stats": "{oops"}} if "add" in a else a)
    return root


KINDS = ["plain", "column_mapping", "deleted", "checkpointed", "no_commit_info", "bad_stats"]


@pytest.fixture(scope="module", params=KINDS)
def lake(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _make(tmp_path_factory.mktemp(request.param), request.param)


def _expected(root: Path, where: str = "TRUE", cols: str = "*", version: int | None = None) -> Any:
    table = DeltaTable(str(root), version=version)
    query = f"SELECT {cols} FROM t WHERE {where}"
    if root.name.startswith("bad_stats"):  # DataFusion parses the statistics; pyarrow does not
        df = pl.SQLContext(t=pl.DataFrame(table.to_pyarrow_table())).execute(query).collect()
    else:
        df = pl.DataFrame(QueryBuilder().register("t", table).execute(query).read_all())
    return _sorted(df.cast({"p": pl.String}) if "p" in df.columns else df)


def _sorted(df: pl.DataFrame) -> pl.DataFrame:
    return df.sort(df.columns, nulls_last=True)


def _table(root: Path) -> NeuralakeDeltaTable:
    return NeuralakeDeltaTable("t", str(root), schema=SCHEMA, partition_by=["p"])


def test_reads_equal_delta_rs_readback(lake: Path) -> None:
    t = _table(lake)
    assert _sorted(t.scan().collect()).equals(_expected(lake))
    for value in ("x", "y"):
        got = t.scan([Filter("p", "=", value)]).collect()
        assert _sorted(got).equals(_expected(lake, f"p = '{value}'"))
    got = t.scan([Filter("p", "in", ["x", "y"])]).collect()
    assert _sorted(got).equals(_expected(lake, "p IN ('x', 'y')"))
    assert _sorted(t.scan([Filter("p", "is null")]).collect()).equals(_expected(lake, "p IS NULL"))
    got = t.scan([Filter("v", ">=", 3.0), Filter("id", "<", 10)], columns=["id"]).collect()
    assert _sorted(got).equals(_expected(lake, "v >= 3.0 AND id < 10", "id"))
    assert _sorted(t.scan(version=0).collect()).equals(_expected(lake, version=0))


def test_reader_follows_the_protocol(lake: Path) -> None:
    column_mapping = DeltaTable(str(lake)).protocol().min_reader_version == 2
    assert _table(lake).inspect().reader == ("delta-rs" if column_mapping else "polars")


def test_inspect_survives_every_log(lake: Path) -> None:
    facts = _table(lake).inspect(history=5)
    assert facts.freshness is not None
    assert facts.freshness.num_files >= 1
    assert set(facts.stats_columns or ()) <= {"id", "v"}
    assert _table(lake).serving().files


def test_column_mapping_lazy_pushdown(tmp_path: Path) -> None:
    root = _make(tmp_path / "cm", "column_mapping")
    lf = _table(root).scan([Filter("p", "=", "x")], columns=["id"])
    assert "delta[delta-rs]" in lf.explain()
    assert sorted(lf.collect()["id"].to_list()) == [0, 3, 6, 9]
    assert _table(root).inspect().stats_columns == ("id", "v")


@pytest.mark.parametrize("kind", ["plain", "column_mapping"])
def test_missing_data_file_is_a_storage_error_naming_it(tmp_path: Path, kind: str) -> None:
    root = _make(tmp_path / kind, kind)
    victim = Path(DeltaTable(str(root)).file_uris()[0].removeprefix("file://"))
    victim.unlink()
    with pytest.raises(StorageError) as info:
        _table(root).scan().collect()
    assert str(victim) in str(info.value)
    assert "'t'" in str(info.value)


def test_unknown_reader_feature_is_unsupported(tmp_path: Path) -> None:
    root = _make(tmp_path / "f", "plain")

    def protocol(action: dict[str, Any]) -> dict[str, Any]:
        if "protocol" in action:
            return {"protocol": {"minReaderVersion": 3, "minWriterVersion": 7,
                                 "readerFeatures": ["typeWidening"], "writerFeatures": ["typeWidening"]}}  # fmt: skip
        return action

    _rewrite_log(root, protocol)
    with pytest.raises(UnsupportedFeatureError, match="typeWidening") as info:
        _table(root).scan()
    assert "'t'" in str(info.value)


@pytest.mark.parametrize(
    ("protocol", "named"),
    [({"minReaderVersion": 3, "minWriterVersion": 7, "readerFeatures": ["fancyFeature"],
       "writerFeatures": ["fancyFeature"]}, "fancyFeature"),
     ({"minReaderVersion": 4, "minWriterVersion": 7, "writerFeatures": []}, "reader version 4")],
)  # fmt: skip
def test_protocol_delta_rs_refuses_at_open_is_unsupported(
    tmp_path: Path, protocol: dict[str, Any], named: str
) -> None:
    """delta-rs stops at an unknown feature with a generic error while opening the log: the
    table still gets the named error (from the log's own protocol), for reads and facts alike."""
    root = _make(tmp_path / "f", "plain")
    commit = root / "_delta_log" / f"{DeltaTable(str(root)).version() + 1:020d}.json"
    commit.write_text(json.dumps({"protocol": protocol}) + "\n")
    table = _table(root)
    for attempt in (lambda: table.scan().collect(), table.inspect, table.history):
        with pytest.raises(UnsupportedFeatureError, match=named):
            attempt()


def test_keyed_reads_are_refused_where_the_reader_cannot_order_commits(tmp_path: Path) -> None:
    root = _make(tmp_path / "keyed", "column_mapping")
    keyed = NeuralakeDeltaTable("t", str(root), schema=SCHEMA, partition_by=["p"],
                                unique_columns=["id"])  # fmt: skip
    with pytest.raises(UnsupportedFeatureError, match=r"unique_columns.*delta-rs reader"):
        keyed.scan()
