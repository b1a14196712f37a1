"""Bound tables: every operation goes to the catalog's storage, never to the environment's.

The environment points at a decoy S3 endpoint on 127.0.0.1 that records every connection; the
catalog points at the moto server. Each operation, through Python and through the CLI, must
succeed and leave the decoy untouched.
"""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import textwrap
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import polars as pl
import pyarrow as pa
import pytest

from neuralake import Catalog, Database, Filter, NeuralakeDeltaTable, ParquetTable, Partition

pytestmark = pytest.mark.s3

SCHEMA = pa.schema([("k", pa.int64()), ("v", pa.string()), ("day", pa.string())])


class Decoy:
    """A TCP listener standing in for the environment's endpoint: it counts connections."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(64)
        self.port = self.sock.getsockname()[1]
        self.connections = 0
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.connections += 1
            conn.close()

    def close(self) -> None:
        self.sock.close()


@pytest.fixture
def decoy_env(monkeypatch: pytest.MonkeyPatch) -> Iterator[Decoy]:
    decoy = Decoy()
    env = {
        "AWS_ENDPOINT_URL": f"http://127.0.0.1:{decoy.port}",
        "AWS_ACCESS_KEY_ID": "decoy-key",
        "AWS_SECRET_ACCESS_KEY": "decoy-secret",
        "AWS_REGION": "eu-west-3",
        "AWS_ALLOW_HTTP": "true",
    }
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    yield decoy
    decoy.close()


def _lake(s3_server: Any) -> str:
    return f"s3://{s3_server.bucket}/binding-{uuid.uuid4().hex}"


def _catalog(s3_server: Any, root: str) -> Catalog:
    events = NeuralakeDeltaTable(
        "events", f"{root}/events", schema=SCHEMA, partition_by=["day"], unique_columns=["k"]
    )
    part = ParquetTable("part", f"{root}/part", partitioning=[Partition("day")])
    return Catalog({"db": Database([events, part])}, name="bound", storage=s3_server.config())


def test_every_python_operation_uses_the_catalogs_storage(
    s3_server: Any, decoy_env: Decoy, tmp_path: Path
) -> None:
    root = _lake(s3_server)
    catalog = _catalog(s3_server, root)
    rows = pl.DataFrame({"k": [1, 2, 3], "v": ["a", "b", "c"], "day": ["mon", "tue", "mon"]})
    pl.DataFrame({"p": [1, 2], "day": ["mon", "tue"]}).write_parquet(
        f"{root}/part/", partition_by=["day"], storage_options=_options(s3_server)
    )
    events = catalog.get_table("db.events")
    assert events.qualified_name == "db.events"
    assert events.write(rows) == 0
    assert events.write(rows.head(1).with_columns(k=pl.lit(9)), "append") == 1
    merged = events.merge(pl.DataFrame({"k": [2], "v": ["B"], "day": ["tue"]}))
    assert merged.rows_updated == 1
    assert events.upsert(pl.DataFrame({"k": [4], "v": ["d"], "day": ["wed"]})).rows_inserted == 1
    assert [c.version for c in events.commits()] == [3, 2, 1, 0]
    assert events.history()["version"].to_list() == [3, 2, 1, 0]
    assert events.optimize().version >= 3
    assert events.vacuum(0, dry_run=True, enforce_retention=False) is not None
    restored = events.restore(0)
    assert restored.changed
    read = catalog.table("db.events", filters=[Filter("day", "=", "mon")]).collect()
    assert sorted(read["k"].to_list()) == [1, 3]
    assert catalog.table("db.events", version=1).collect().height == 4
    assert catalog.db("db").get_table("part").serving().file_columns == ("p", "day")
    assert sorted(catalog.table("db.part").collect()["p"].to_list()) == [1, 2]
    assert catalog.validate() == []
    assert catalog.describe_table("db.events").columns is not None
    exported = catalog.export_metadata(tmp_path / "catalog.json")
    assert [t["error"] for t in exported["tables"]] == [None, None]
    assert exported["tables"][0]["freshness"]["version"] == events.commits()[0].version

    from neuralake.export.roapi import plan_roapi
    from neuralake.export.site import build_site

    assert len(plan_roapi(catalog).tables) == 2
    report = build_site([(catalog, None)], tmp_path / "site", strict=True)
    assert report.failed == ()
    assert decoy_env.connections == 0


def test_an_explicit_call_storage_is_layered_over_the_catalogs(
    s3_server: Any, decoy_env: Decoy
) -> None:
    catalog = _catalog(s3_server, _lake(s3_server))
    events = catalog.get_table("db.events")
    # Only the timeout comes from the call; endpoint and keys still come from the catalog.
    from neuralake import StorageConfig

    call = StorageConfig(timeout_seconds=20)
    assert events.resolve_storage(call).endpoint_url == s3_server.endpoint
    assert events.write(pl.DataFrame({"k": [1], "v": ["a"], "day": ["mon"]}), storage=call) == 0
    assert catalog.table("db.events", storage=call).collect().height == 1
    assert decoy_env.connections == 0


CLI_CATALOG = """
import pyarrow as pa
from neuralake import Catalog, Database, NeuralakeDeltaTable, StorageConfig

events = NeuralakeDeltaTable(
    "events", "ROOT/events", partition_by=["day"],
    schema=pa.schema([("k", pa.int64()), ("v", pa.string()), ("day", pa.string())]),
)
catalog = Catalog(
    {"db": Database([events])},
    name="bound_cli",
    storage=StorageConfig(endpoint_url="ENDPOINT", access_key_id="testing",
                          secret_access_key="testing", region="us-east-1", allow_http=True),
)
"""


def test_every_cli_command_uses_the_catalogs_storage(
    s3_server: Any, decoy_env: Decoy, tmp_path: Path
) -> None:
    import os

    root = _lake(s3_server)
    source = CLI_CATALOG.replace("ROOT", root).replace("ENDPOINT", s3_server.endpoint)
    (tmp_path / "bound_catalog.py").write_text(textwrap.dedent(source), encoding="utf-8")
    (tmp_path / "pyproject.toml").write_text(
        '[tool.neuralake]\ncatalog = "bound_catalog:catalog"\n', encoding="utf-8"
    )
    sys.path.insert(0, str(tmp_path))
    try:
        import bound_catalog  # type: ignore[import-not-found]

        table = bound_catalog.catalog.get_table("db.events")
        table.write(pl.DataFrame({"k": [1, 2], "v": ["a", "b"], "day": ["mon", "tue"]}))
        table.write(pl.DataFrame({"k": [3], "v": ["c"], "day": ["mon"]}))
    finally:
        sys.path.remove(str(tmp_path))
        sys.modules.pop("bound_catalog", None)

    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        done = subprocess.run(
            [sys.executable, "-m", "neuralake", *args],
            cwd=tmp_path,
            env=dict(os.environ),
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert done.returncode == 0, (args, done.stderr)
        return done

    described = json.loads(cli("describe", "db.events", "--json").stdout)
    assert described["qualified_name"] == "db.events"
    assert "3" in cli("query", "SELECT count(*) AS n FROM db.events", "--format", "csv").stdout
    cli("export", "--out", str(tmp_path / "catalog.json"))
    exported = json.loads((tmp_path / "catalog.json").read_text())
    assert exported["tables"][0]["error"] is None
    cli("check")
    history = json.loads(cli("delta", "history", "db.events", "--json").stdout)
    assert [h["version"] for h in history] == [1, 0]
    cli("delta", "vacuum", "db.events")
    cli("delta", "optimize", "db.events")
    cli("delta", "restore", "db.events", "0")
    cli("roapi", "--out", str(tmp_path / "roapi.yaml"))
    cli("site", "build", "--out", str(tmp_path / "site"), "--strict")
    assert decoy_env.connections == 0


def _options(s3_server: Any) -> dict[str, str]:
    from neuralake.storage import get_s3_storage_options

    return get_s3_storage_options(s3_server.config())
