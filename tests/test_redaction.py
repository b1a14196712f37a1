"""Credentials never reach a user: URIs with embedded credentials, and whole-value redaction.

A broken table whose uri embeds an access key, a secret and a presigned signature is built into
the site, exported, described, read, planned for ROAPI and shown by the CLI; none of those
strings may appear anywhere a user can see. Redaction replaces whole values only, so a short
secret never mangles words that merely contain it.
"""

from __future__ import annotations

import json
import logging
import re
import socket
import subprocess
import sys
import textwrap
import traceback
import warnings
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from neuralake import (
    Catalog,
    Database,
    FunctionTable,
    NeuralakeDeltaTable,
    ParquetTable,
    StorageConfig,
    StorageError,
)
from neuralake.export.roapi import plan_roapi
from neuralake.export.site import build_site
from neuralake.metadata import TableMetadata
from neuralake.storage import REDACTED, has_embedded_credentials, redact_uri, redact_values

LEAKY_URI = "s3://AKIAEXAMPLEKEY:verysecretvalue@bucket/t?X-Amz-Signature=deadbeef"
URI_SECRETS = ("AKIAEXAMPLEKEY", "verysecretvalue", "deadbeef")
CONFIG_KEY_ID = "AKIACONFIGKEY0042"
CONFIG_SECRET = "config-secret-7f3a9c2e"
SECRETS = (*URI_SECRETS, CONFIG_KEY_ID, CONFIG_SECRET)


# -- redact_uri ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (LEAKY_URI, "s3://bucket/t?X-Amz-Signature=***"),
        ("https://user:pass@host:9000/b", "https://host:9000/b"),
        ("https://token@host/b", "https://host/b"),
        # AWS secret keys hold "/" and "+": still user-info, not a path
        ("s3://AKIA:wJalr/K7MDENG+bPx@bucket/p", "s3://bucket/p"),
        ("at 's3://K:S@bucket/t': refused", "at 's3://bucket/t': refused"),
        (
            "GET https://b.s3.amazonaws.com/k?X-Amz-Algorithm=AWS4-HMAC-SHA256"
            "&X-Amz-Credential=AKIA%2F20240101%2Fus-east-1&X-Amz-Security-Token=FwoG%2Bz"
            "&X-Amz-Signature=abc123 failed",
            "GET https://b.s3.amazonaws.com/k?X-Amz-Algorithm=AWS4-HMAC-SHA256"
            "&X-Amz-Credential=***&X-Amz-Security-Token=***&X-Amz-Signature=*** failed",
        ),
        (
            "https://h/o?AWSAccessKeyId=AKIA&Expires=1&Signature=xyz%3D",
            "https://h/o?AWSAccessKeyId=***&Expires=1&Signature=***",
        ),
        (
            "https://acct.blob.core.windows.net/c/b?sv=2022&sig=abc%2Bdef",
            "https://acct.blob.core.windows.net/c/b?sv=2022&sig=***",
        ),
        (
            "Authorization: AWS4-HMAC-SHA256 Credential=AKIA/20240101/us-east-1/s3/aws4_request,"
            " SignedHeaders=host, Signature=beef",
            "Authorization: AWS4-HMAC-SHA256 Credential=***, SignedHeaders=host, Signature=***",
        ),
        ("the log at s3://k:s@b/t?sig=x: refused", "the log at s3://b/t?sig=***: refused"),
    ],
)
def test_redact_uri_removes_embedded_credentials(text: str, expected: str) -> None:
    assert redact_uri(text) == expected
    assert redact_uri(expected) == expected  # idempotent


@pytest.mark.parametrize(
    "text",
    [
        "s3://bucket/prefix/",
        "http://127.0.0.1:58689/bucket/t/_delta_log/_last_checkpoint",
        "https://host:8080/path/a@b",  # "@" in the path, not user-info
        "https://host/x?redirect=a@b&v=1",
        "lake/tpch/orders",
        "C:\\lake\\x",
        "/home/me/data@2024/t",
        "s3://bucket/t/sig=1/password=x/Signature=y/part-0.parquet",  # hive folders
        "s3://bucket/t/email=a@b.com/",
        "mail ops@example.com: signature = unchanged, design=ok, assigned=1, sigma=2",
        "Table 'db.t': cannot open",
    ],
)
def test_redact_uri_leaves_other_text_alone(text: str) -> None:
    assert redact_uri(text) == text
    assert not has_embedded_credentials(text)


# -- whole-value redaction ----------------------------------------------------------------------


@pytest.mark.parametrize("secret", ["a", "ab", "T", "Table", "le"])
def test_short_secrets_do_not_mangle_words(secret: str) -> None:
    cfg = StorageConfig(secret_access_key=secret)
    text = "Tables: 'db.table', max_retries, Expected an S3 object path"
    assert cfg.redact(text) == text
    assert cfg.redact(f"key={secret}&x='{secret}' s3://{secret}@bucket/p {secret}") == (
        "key=***&x='***' s3://bucket/p ***"
    )


def test_longer_secret_wins_where_secrets_overlap() -> None:
    assert redact_values("k=ab-cd ab", ["ab", "ab-cd"]) == "k=*** ***"
    assert redact_values("x=/a+b/ y", ["/a+b/"]) == "x=*** y"
    assert redact_values("nothing", ["", "  "]) == "nothing"  # blank secrets are ignored


# Secrets as credentials are spelled: the marker "*" itself is excluded (a secret "*" would be
# re-created by its own replacement).
SECRET_ALPHABET = st.sampled_from("abcAB019_-+/=.~:é")
secrets_st = st.text(SECRET_ALPHABET, min_size=1, max_size=12).filter(lambda s: s.strip() != "")
text_st = st.text(st.characters(codec="utf-8", exclude_characters="*"), max_size=40)


def _token(secret: str) -> re.Pattern[str]:
    """A whole occurrence of ``secret``: not continuing a run of word characters."""
    before = r"(?<!\w)" if re.match(r"\w", secret[0]) else ""
    after = r"(?!\w)" if re.match(r"\w", secret[-1]) else ""
    return re.compile(before + re.escape(secret) + after)


@given(secret=secrets_st, chunks=st.lists(st.one_of(st.none(), text_st), max_size=8))
@example(secret="ab", chunks=["T", None, "le x=", None, "&", None])
@example(secret="a-a", chunks=[None, None, "-a"])
@example(secret="/k+", chunks=["s3://", None, "@b x", None, None])
def test_secret_never_survives_as_a_whole_value(secret: str, chunks: list[str | None]) -> None:
    # None marks where the secret goes: between random text, as a whole value or inside words
    text = "".join(secret if c is None else c for c in chunks)
    out = redact_values(text, [secret])
    assert _token(secret).search(out) is None
    if _token(secret).search(text) is None:
        assert out == text
    else:
        assert REDACTED in out


@given(secret=secrets_st, text=text_st)
def test_text_without_the_secret_as_a_value_is_unchanged(secret: str, text: str) -> None:
    if _token(secret).search(text) is None:
        assert redact_values(text, [secret]) == text


@given(secret=secrets_st, before=text_st, after=text_st)
def test_secret_in_a_parameter_quote_or_uri_is_redacted(
    secret: str, before: str, after: str
) -> None:
    cfg = StorageConfig(access_key_id=secret)
    wrapped_forms = (f"key={secret}&", f"'{secret}'", f'"{secret}"', f" {secret} ",
                     f"s3://{secret}@bucket/p", f"https://user:{secret}@host/p")  # fmt: skip
    for wrapped in wrapped_forms:
        out = cfg.redact(f"{before} {wrapped} {after}")
        assert _token(secret).search(out) is None


# -- every surface, for a broken table with credentials in its uri ----------------------------


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _upstream_down() -> pl.LazyFrame:
    raise RuntimeError(f"upstream rejected {LEAKY_URI}")


CATALOG_MODULE = """
import polars as pl
from neuralake import Catalog, Database, NeuralakeDeltaTable, ParquetTable, StorageConfig

URI = {uri!r}
storage = StorageConfig(endpoint_url="http://127.0.0.1:{port}", region="us-east-1",
                        access_key_id={key!r}, secret_access_key={secret!r}, allow_http=True,
                        timeout_seconds=2)
tables = [NeuralakeDeltaTable("dl", URI), ParquetTable("pq", URI),
          ParquetTable("pqs", URI, schema={{"a": pl.Int64}})]
catalog = Catalog({{"leaky": Database(tables)}}, name="leaky", storage=storage)
"""


def leaky_catalog(port: int) -> Catalog:
    storage = StorageConfig(
        endpoint_url=f"http://127.0.0.1:{port}",
        region="us-east-1",
        access_key_id=CONFIG_KEY_ID,
        secret_access_key=CONFIG_SECRET,
        allow_http=True,
        timeout_seconds=2,
    )
    tables = [
        NeuralakeDeltaTable("dl", LEAKY_URI),
        ParquetTable("pq", LEAKY_URI),
        ParquetTable("pqs", LEAKY_URI, schema={"a": pl.Int64}),
        FunctionTable(_upstream_down, name="fn"),
    ]
    return Catalog({"leaky": Database(tables)}, name="leaky", storage=storage)


def assert_clean(where: str, text: str) -> None:
    for secret in SECRETS:
        assert secret not in text, f"{secret!r} leaked into {where}"


def test_no_surface_shows_credentials_of_a_broken_table(
    tmp_path: Path, capfd: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    catalog = leaky_catalog(_closed_port())

    out = tmp_path / "site"
    report = build_site([(catalog, None)], out, progress=True)
    assert {f.split(":")[0] for f in report.failed} == {"leaky.dl", "leaky.pq", "leaky.fn"}
    files = [p for p in out.rglob("*") if p.is_file()]
    assert len(files) > 5
    for path in files:
        assert_clean(str(path.relative_to(out)), path.read_bytes().decode("utf-8", "replace"))
    page = (out / "leaky" / "leaky" / "dl.html").read_text()
    assert "s3://bucket/t?X-Amz-Signature=***" in page  # the location, without credentials
    assert "cannot open the log" in page  # the error banner still says what failed
    assert "leaky.dl" in (out / "index.html").read_text()  # listed among the failures
    assert_clean("SiteReport", repr(report))

    exported = tmp_path / "catalog.json"
    data = catalog.export_metadata(exported)
    assert_clean("export file", exported.read_text())
    assert_clean("export dict", json.dumps(data))
    entries = {t["qualified_name"]: t for t in data["tables"]}
    assert entries["leaky.pq"]["error"].startswith("StorageError: ")
    assert entries["leaky.pqs"]["location"] == "s3://bucket/t?X-Amz-Signature=***"

    errors: list[str] = []
    for name in ("leaky.dl", "leaky.pq", "leaky.pqs", "leaky.fn"):
        meta = catalog.describe_table(name)
        assert_clean(f"describe_table({name})", repr(meta) + json.dumps(meta.to_dict()))
        with pytest.raises((StorageError, RuntimeError)) as info:
            catalog.table(name).collect()
        if name != "leaky.fn":  # a function's own exception is the user's, shown as raised
            assert isinstance(info.value, StorageError)
            errors.append("".join(traceback.format_exception(info.value)))
    assert_clean("StorageError messages", "\n".join(errors))

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        plan = plan_roapi(catalog)
    assert plan.tables == ()
    assert_clean("ROAPI warnings", "\n".join(str(w.message) for w in caught))
    assert_clean("ROAPI plan", repr(plan))

    captured = capfd.readouterr()
    assert_clean("stdout/stderr", captured.out + captured.err)
    assert_clean("logs", "\n".join(r.getMessage() + repr(r.args) for r in caplog.records))


def test_table_metadata_location_never_carries_credentials() -> None:
    meta = TableMetadata(name="t", database="db", type="delta", location=LEAKY_URI)
    assert meta.location == "s3://bucket/t?X-Amz-Signature=***"
    assert TableMetadata(name="t", database="db", type="x", location="lake/t").location == "lake/t"


def test_parquet_uri_with_credentials_is_a_clear_storage_error() -> None:
    with pytest.raises(StorageError, match="embeds credentials") as info:
        ParquetTable("pq", LEAKY_URI).schema()
    assert_clean("error", str(info.value))


def test_cli_shows_no_credentials(tmp_path: Path) -> None:
    source = CATALOG_MODULE.format(
        uri=LEAKY_URI, port=_closed_port(), key=CONFIG_KEY_ID, secret=CONFIG_SECRET
    )
    (tmp_path / "leaky_catalog.py").write_text(textwrap.dedent(source), encoding="utf-8")

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "neuralake", "-c", "leaky_catalog:catalog", *args],
            cwd=tmp_path, capture_output=True, text=True, timeout=300,
        )  # fmt: skip

    runs = {
        "describe": run("describe", "leaky.dl"),
        "describe --json": run("describe", "leaky.pq", "--json"),
        "export": run("export", "--out", "-"),
        "site build": run("site", "build", "--out", str(tmp_path / "site")),
        "site build --strict": run("site", "build", "--out", str(tmp_path / "s2"), "--strict"),
        "delta history --debug": run("--debug", "delta", "history", "leaky.dl"),
    }
    assert runs["describe"].returncode == 0, runs["describe"].stderr
    assert "error: StorageError" in runs["describe"].stdout
    assert runs["site build"].returncode == 0
    assert "failed: leaky.dl" in runs["site build"].stderr
    assert runs["site build --strict"].returncode != 0
    for what, proc in runs.items():
        assert_clean(f"neuralake {what}", proc.stdout + proc.stderr)
    for path in (tmp_path / "site").rglob("*"):
        if path.is_file():
            assert_clean(str(path), path.read_bytes().decode("utf-8", "replace"))


@pytest.mark.s3
def test_roapi_export_skips_a_readable_table_whose_uri_embeds_credentials(
    s3_backend: Any,
) -> None:
    uri = s3_backend.write_delta(pl.DataFrame({"a": [1, 2]}), "dl")
    leaky = uri.replace("s3://", "s3://AKIAEXAMPLEKEY:verysecretvalue@", 1)
    catalog = s3_backend.catalog([NeuralakeDeltaTable("dl", leaky), NeuralakeDeltaTable("ok", uri)])
    assert catalog.table("db.dl").collect()["a"].to_list() == [1, 2]  # delta-rs opens it
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        plan = plan_roapi(catalog)
    assert [t.qualified_name for t in plan.tables] == ["db.ok"]
    assert [s.qualified_name for s in plan.skipped] == ["db.dl"]
    assert "embeds credentials" in plan.skipped[0].reason
    assert_clean("ROAPI", repr(plan) + "\n".join(str(w.message) for w in caught))
