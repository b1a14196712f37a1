"""StorageConfig: resolution order, options, redaction, unreachable endpoints and secrets."""

from __future__ import annotations

import json
import logging
import os
import socket
import time
import traceback
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import polars as pl
import pytest

from neuralake import (
    Catalog,
    Database,
    Filter,
    NeuralakeDeltaTable,
    ParquetTable,
    Partition,
    StorageConfig,
    StorageError,
    get_s3_storage_options,
)
from neuralake.storage import is_remote, resolve

SECRET_KEY_ID = "AKIANLSECRETKEYID0042"
SECRET_ACCESS = "nl-secret-access-key-7f3a9c2e1b"
SECRET_TOKEN = "nl-session-token-5d8e0a4c"
SECRETS = (SECRET_KEY_ID, SECRET_ACCESS, SECRET_TOKEN)


def test_repr_redacts_secrets() -> None:
    cfg = StorageConfig(
        endpoint_url="http://127.0.0.1:9000",
        access_key_id=SECRET_KEY_ID,
        secret_access_key=SECRET_ACCESS,
        session_token=SECRET_TOKEN,
    )
    text = repr(cfg)
    assert "endpoint_url='http://127.0.0.1:9000'" in text
    assert "access_key_id='***'" in text
    assert not any(s in text for s in SECRETS)
    assert not any(s in str(cfg) for s in SECRETS)
    assert "access_key_id=None" in repr(StorageConfig())


def test_redact_replaces_every_secret() -> None:
    cfg = StorageConfig(access_key_id=SECRET_KEY_ID, secret_access_key=SECRET_ACCESS)
    assert cfg.secrets() == (SECRET_KEY_ID, SECRET_ACCESS)
    assert cfg.redact(f"key={SECRET_KEY_ID} secret={SECRET_ACCESS}") == "key=*** secret=***"


def test_from_env_reads_standard_variables_without_writing() -> None:
    env = {
        "AWS_ENDPOINT_URL": "http://minio:9000",
        "AWS_DEFAULT_REGION": "eu-west-1",
        "AWS_ACCESS_KEY_ID": "id",
        "AWS_SECRET_ACCESS_KEY": "secret",
        "AWS_ALLOW_HTTP": "true",
    }
    before = dict(os.environ)
    cfg = StorageConfig.from_env(env)
    assert cfg == StorageConfig(
        endpoint_url="http://minio:9000",
        region="eu-west-1",
        access_key_id="id",
        secret_access_key="secret",
        allow_http=True,
    )
    assert dict(os.environ) == before
    assert (
        StorageConfig.from_env({"AWS_ENDPOINT_URL_S3": "a", "AWS_ENDPOINT_URL": "b"}).endpoint_url
        == "a"
    )
    assert StorageConfig.from_env({"AWS_ALLOW_HTTP": "0"}).allow_http is False
    assert StorageConfig.from_env({}) == StorageConfig()


def test_over_fills_only_unset_fields() -> None:
    high = StorageConfig(region="eu-west-1")
    low = StorageConfig(region="us-east-2", endpoint_url="http://low", timeout_seconds=3)
    merged = high.over(None, low, StorageConfig(endpoint_url="http://lowest", profile="p"))
    assert merged == StorageConfig(
        region="eu-west-1", endpoint_url="http://low", timeout_seconds=3, profile="p"
    )


def test_resolution_order_argument_table_catalog_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("AWS_REGION", "env-region")
    monkeypatch.setenv("AWS_PROFILE", "env-profile")
    arg = StorageConfig(region="arg-region")
    table = StorageConfig(region="table-region", endpoint_url="http://table")
    catalog = StorageConfig(
        region="catalog-region", endpoint_url="http://catalog", timeout_seconds=9
    )
    cfg = resolve(arg, table, catalog)
    assert (cfg.region, cfg.endpoint_url, cfg.timeout_seconds, cfg.profile) == (
        "arg-region",
        "http://table",
        9,
        "env-profile",
    )
    assert resolve(None, None, catalog).region == "catalog-region"
    assert resolve().region == "env-region"
    t = ParquetTable("t", "s3://b/t", storage=table).bind("db", catalog)
    assert t.resolve_storage().endpoint_url == "http://table"
    assert t.resolve_storage().timeout_seconds == 9
    assert t.resolve_storage(arg).region == "arg-region"


def test_s3_storage_options() -> None:
    cfg = StorageConfig(
        endpoint_url="http://127.0.0.1:9000",
        access_key_id="id",
        secret_access_key="secret",
        session_token="tok",
        timeout_seconds=2,
    )
    opts = get_s3_storage_options(cfg)
    assert opts == {
        "aws_endpoint_url": "http://127.0.0.1:9000",
        "aws_region": "us-east-1",
        "aws_virtual_hosted_style_request": "false",
        "aws_access_key_id": "id",
        "aws_secret_access_key": "secret",
        "aws_session_token": "tok",
        "aws_allow_http": "true",
        "timeout": "2s",
        # connecting, the request and its retries together stay within the 2 s
        "connect_timeout": "500ms",
        "retry_timeout": "1300ms",
        "backoff_config.max_backoff": "200ms",
    }
    aws = get_s3_storage_options(StorageConfig(region="eu-west-1", profile="dev"))
    assert aws["aws_region"] == "eu-west-1"
    assert aws["aws_profile"] == "dev"
    assert "aws_allow_http" not in aws
    assert aws["timeout"] == "30s"
    assert aws["connect_timeout"] == "5s"
    https = get_s3_storage_options(StorageConfig(endpoint_url="https://minio.example"))
    assert "aws_allow_http" not in https
    assert (
        get_s3_storage_options(StorageConfig(endpoint_url="http://x", allow_http=False)).get(
            "aws_allow_http"
        )
        is None
    )


def test_is_remote() -> None:
    assert is_remote("s3://bucket/x")
    assert is_remote("s3a://bucket/x")
    assert not is_remote("lake/x")
    assert not is_remote("/abs/lake")
    assert not is_remote("file:///abs/lake")


def test_unsupported_scheme_is_a_storage_error() -> None:
    t = ParquetTable("t", "gs://bucket/t")
    with pytest.raises(StorageError, match=r"Unsupported storage scheme 'gs'"):
        t()


# -- precedence against a real server -----------------------------------------------------------


@pytest.mark.s3
def test_call_storage_overrides_table_storage(s3_backend: Any) -> None:
    uri = s3_backend.write_hive_polars(pl.DataFrame({"x": [1, 2], "p": ["a", "b"]}), "t", ["p"])
    broken = StorageConfig(endpoint_url=f"http://127.0.0.1:{_closed_port()}", timeout_seconds=2)
    t = ParquetTable("t", uri, partitioning=[Partition("p")], storage=broken)
    cat = Catalog({"db": Database([t])}, storage=s3_backend.storage)
    with pytest.raises(StorageError, match="Cannot reach storage"):
        cat.table("db.t")  # the table's own (broken) endpoint wins over the catalog's
    good = cat.table("db.t", storage=s3_backend.storage, filters=[Filter("p", "=", "b")])
    assert good.collect()["x"].to_list() == [2]


# -- unreachable endpoints ---------------------------------------------------------------------


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def blackhole() -> Iterator[str]:
    """An endpoint that accepts TCP connections and never answers."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen(64)
        yield f"http://127.0.0.1:{s.getsockname()[1]}"


def _unreachable_catalog(endpoint: str) -> Catalog:
    cfg = StorageConfig(
        endpoint_url=endpoint,
        access_key_id=SECRET_KEY_ID,
        secret_access_key=SECRET_ACCESS,
        session_token=SECRET_TOKEN,
        region="us-east-1",
        allow_http=True,
        timeout_seconds=2,
    )
    tables = [
        ParquetTable("pq", "s3://nowhere/pq", partitioning=[Partition("p")]),
        NeuralakeDeltaTable("dl", "s3://nowhere/dl"),
    ]
    return Catalog({"db": Database(tables)}, storage=cfg)


@pytest.mark.parametrize("name", ["db.pq", "db.dl"])
def test_closed_port_fails_fast_with_storage_error(name: str) -> None:
    cat = _unreachable_catalog(f"http://127.0.0.1:{_closed_port()}")
    start = time.monotonic()
    with pytest.raises(StorageError, match=r"(Cannot reach storage|cannot open).*nowhere") as info:
        cat.table(name, filters=[Filter("p", "=", "a")] if name == "db.pq" else None)
    assert time.monotonic() - start < 20
    assert info.value.__cause__ is not None
    assert not any(s in str(info.value) for s in SECRETS)


@pytest.mark.parametrize("name", ["db.pq", "db.dl"])
def test_silent_endpoint_times_out_with_storage_error(blackhole: str, name: str) -> None:
    cat = _unreachable_catalog(blackhole)
    start = time.monotonic()
    with pytest.raises(StorageError):
        cat.table(name)
    assert time.monotonic() - start < 20


# -- secrets never leak ------------------------------------------------------------------------


def _all_text(exc: BaseException) -> str:
    return "".join(traceback.format_exception(exc))


@pytest.mark.s3
def test_secrets_never_leak(
    s3_server: Any, backend_factory: Any, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    lake = backend_factory("s3", s3_server)
    cfg = s3_server.config(access_key_id=SECRET_KEY_ID, secret_access_key=SECRET_ACCESS)
    lake.storage = cfg
    df = pl.DataFrame({"k": [1, 2, 3], "p": ["a", "b", "a"]})
    pq_uri = lake.write_hive_polars(df, "pq", ["p"])
    dl_uri = lake.write_delta(df, "dl", partition_by=["p"])
    tables = [
        ParquetTable("pq", pq_uri, partitioning=[Partition("p")]),
        NeuralakeDeltaTable("dl", dl_uri, partition_by=["p"]),
        NeuralakeDeltaTable("missing", lake.uri("missing")),
    ]
    cat = Catalog({"db": Database(tables)}, name="secretive", storage=cfg)

    assert cat.table("db.pq", filters=[Filter("p", "=", "a")]).collect().height == 2
    assert cat.table("db.dl", filters=[Filter("p", "=", "a")]).collect().height == 2
    cat.describe_table("db.dl")
    out = tmp_path / "catalog.json"
    cat.export_metadata(out)

    failures: list[BaseException] = []
    for name in ("db.missing",):
        with pytest.raises(StorageError) as info:
            cat.table(name)
        failures.append(info.value)
    broken = _unreachable_catalog(f"http://127.0.0.1:{_closed_port()}")
    for name in ("db.pq", "db.dl"):
        with pytest.raises(StorageError) as info:
            broken.table(name)
        failures.append(info.value)
    broken_export = broken.export_metadata()

    haystacks = {
        "os.environ": json.dumps(dict(os.environ)),
        "export json": out.read_text(),
        "broken export": json.dumps(broken_export, default=str),
        "repr(config)": repr(cfg) + str(cfg) + repr(broken.storage),
        "repr(catalog)": repr(cat) + repr(broken),
        "logs": "\n".join(
            r.getMessage() + repr(r.args) + repr(getattr(r, "table", "")) for r in caplog.records
        ),
        "errors": "\n".join(_all_text(e) for e in failures),
    }
    assert caplog.records, "reads must log"
    for where, text in haystacks.items():
        for secret in SECRETS:
            assert secret not in text, f"secret leaked into {where}"
    entry = {t["qualified_name"]: t for t in json.loads(out.read_text())["tables"]}
    assert entry["db.missing"]["error"]
    assert entry["db.dl"]["freshness"]["version"] == 0
