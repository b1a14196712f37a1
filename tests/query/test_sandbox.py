"""The SQL sandbox: attacks on ``catalog.sql`` and filter predicates are refused before any
engine runs (nothing read, nothing written), ``allow_files`` and ``--allow-files`` opt in to
local files only, and random function names outside the allow-list never pass."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
import sqlglot
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from sqlglot import exp

from neuralake import InvalidFilterError, SQLError, SQLNotAllowedError, TableNotFoundError
from neuralake.query import sql as query_sql
from neuralake.query.sandbox import ALLOWED_NAMES, MAX_NESTING, check_query

from .lakes import ORDERS, SECRET, Lake

# Full-width look-alikes of "read" and "lower".
FW_READ = "\uff52\uff45\uff41\uff44"
FW_LOWER = "\uff4c\uff4f\uff57\uff45\uff52"


# -- attacks: refused before anything is read ----------------------------------------------------

# (query, words the one-line message holds); the {placeholders} are filled in by _fill.
ATTACKS = [
    ("SELECT * FROM read_csv('{secret}')", "table function read_csv()"),
    ("select * from READ_CSV('{secret}')", "table function read_csv()"),
    ("SELECT * FROM Read_Csv('{secret}')", "table function read_csv()"),
    ("SELECT * FROM \"read_csv\"('{secret}')", "table function read_csv()"),
    ("SELECT * FROM \"READ_CSV\"('{secret}')", "table function read_csv()"),
    ("SELECT * FROM read_parquet('{lake}/customers/*.parquet')", "read_parquet()"),
    ("SELECT * FROM read_ipc('{secret}')", "read_ipc()"),
    ("SELECT * FROM read_json('{secret}')", "read_json()"),
    ("SELECT * FROM read_ndjson('{secret}')", "read_ndjson()"),
    ("SELECT * FROM scan_csv('{secret}')", "scan_csv()"),
    ("SELECT * FROM read_csv_auto('{secret}')", "read_csv_auto()"),
    ("SELECT * FROM read_text('{secret}')", "read_text()"),
    ("SELECT * FROM read_csv(['{secret}'])", "read_csv()"),
    ("SELECT * FROM pg_catalog.read_csv('{secret}')", "read_csv()"),
    ("SELECT * FROM glob('{tmp}/*')", "table function glob()"),
    ("SELECT * FROM parquet_scan('{secret}')", "parquet_scan()"),
    ("SELECT * FROM '{secret}'", "is used as a table"),
    ("SELECT * FROM '{lake}/customers/*.parquet'", "is used as a table"),
    ("SELECT * FROM shop.'orders'", "is used as a table"),
    ("FROM read_csv('{secret}')", "read_csv()"),
    ("SELECT * FROM TABLE(read_csv('{secret}'))", "table function table()"),
    ("SELECT * FROM /* c */ read_csv /* c */ ('{secret}')", "read_csv()"),
    ("SELECT * FROM read_csv('{secret}') -- c", "read_csv()"),
    ("WITH s AS (SELECT * FROM read_csv('{secret}')) SELECT * FROM s", "read_csv()"),
    ("SELECT * FROM (SELECT * FROM read_csv('{secret}')) t", "read_csv()"),
    ("SELECT * FROM shop.orders WHERE o_id IN (SELECT 1 FROM read_csv('{secret}'))", "read_csv"),
    ("SELECT (SELECT MAX(secret) FROM read_csv('{secret}')) FROM shop.orders", "read_csv()"),
    ("SELECT * FROM shop.orders JOIN read_csv('{secret}') s ON TRUE", "read_csv()"),
    ("SELECT * FROM shop.orders UNION ALL SELECT * FROM read_csv('{secret}')", "read_csv()"),
    ("SELECT * FROM shop.orders, LATERAL (SELECT * FROM read_csv('{secret}'))", "LATERAL"),
    ("SELECT * FROM {FW_READ}_csv('{secret}')", "non-ASCII"),
    ("SELECT {FW_LOWER}(c_name) FROM shop.customers", "non-ASCII"),
    ("SELECT \u017fum(o_total) FROM shop.orders", "non-ASCII"),  # long s: upper() is "SUM"
    ("SELECT read_csv('{secret}') FROM shop.orders", "function read_csv() is not allowed"),
    ("SELECT * FROM generate_series(1, 3)", "generate_series()"),
    ("SELECT * FROM range(3)", "generate_series()"),
    ("SELECT * FROM unnest([1, 2])", "UNNEST"),
    ("SELECT unnest([1, 2])", "function explode()"),
    ("SELECT getenv('HOME')", "function getenv()"),
    ("SELECT current_setting('threads')", "function current_setting()"),
    ("SELECT x.lower(c_name) FROM shop.customers", "qualified function name"),
    ("SELECT * FROM query('SELECT 1')", "table function query()"),
    ("SELECT 0x10", "runs into a name"),
    ("COPY (SELECT * FROM shop.orders) TO '{tmp}/out.csv'", "COPY is not a query"),
    ("COPY shop.orders TO '{tmp}/out.parquet'", "COPY is not a query"),
    ("INSERT INTO shop.orders VALUES (1)", "INSERT is not a query"),
    ("WITH x AS (SELECT 1) INSERT INTO t SELECT * FROM x", "INSERT is not a query"),
    ("UPDATE shop.orders SET o_total = 0", "UPDATE is not a query"),
    ("DELETE FROM shop.orders", "DELETE is not a query"),
    ("MERGE INTO shop.orders USING shop.customers ON TRUE WHEN MATCHED THEN DELETE", "MERGE"),
    ("CREATE TABLE x AS SELECT * FROM read_csv('{secret}')", "CREATE is not a query"),
    ("CREATE VIEW v AS SELECT 1", "CREATE is not a query"),
    ("DROP TABLE shop.orders", "DROP is not a query"),
    ("ALTER TABLE shop.orders ADD COLUMN x INT", "ALTER is not a query"),
    ("TRUNCATE shop.orders", "TRUNCATE"),
    ("SET memory_limit = '1GB'", "SET is not a query"),
    ("PRAGMA show_tables", "PRAGMA is not a query"),
    ("ATTACH '{tmp}/x.db'", "ATTACH is not a query"),
    ("DETACH x", "DETACH is not a query"),
    ("INSTALL httpfs", "INSTALL is not a query"),
    ("LOAD httpfs", "LOAD is not a query"),
    ("USE shop", "USE is not a query"),
    ("BEGIN TRANSACTION", "TRANSACTION is not a query"),
    ("COMMIT", "COMMIT is not a query"),
    ("SHOW TABLES", "SHOW is not a query"),
    ("DESCRIBE shop.orders", "DESCRIBE is not a query"),
    ("SUMMARIZE shop.orders", "SUMMARIZE is not a query"),
    ("CALL pragma_version()", "CALL is not a query"),
    ("PIVOT shop.orders ON o_status", "PIVOT is not a query"),
    ("VALUES (1)", "VALUES is not a query"),
    ("SELECT * INTO copied FROM shop.orders", "SELECT ... INTO"),
    ("EXPLAIN ANALYZE SELECT * FROM shop.orders", "EXPLAIN ANALYZE"),
    ("explain  analyse SELECT 1", "EXPLAIN ANALYZE"),
    ("EXPLAIN SELECT * FROM read_csv('{secret}')", "read_csv()"),
    ("EXPLAIN COPY shop.orders TO '{tmp}/x.csv'", "COPY is not a query"),
    ("SELECT 1; SELECT 2", "2 statements"),
    ("SELECT * FROM shop.orders; DROP TABLE shop.orders", "2 statements"),
    ("SELECT 1; COPY shop.orders TO '{tmp}/x.csv'", "2 statements"),
]


def _fill(query: str, lake: Lake) -> str:
    return query.format(
        secret=lake.secret, lake=lake.root / "lake", tmp=lake.root, FW_READ=FW_READ,
        FW_LOWER=FW_LOWER,
    )  # fmt: skip


@pytest.mark.parametrize(("query", "words"), ATTACKS, ids=[a[0][:50] for a in ATTACKS])
def test_attack_is_refused_before_anything_is_read(lake: Lake, query: str, words: str) -> None:
    before = lake.listing()
    with pytest.raises(SQLNotAllowedError) as info:
        lake.catalog.sql(_fill(query, lake))
    message = str(info.value)
    assert words in message
    assert message.startswith("SQL query refused: ")
    assert "\n" not in message
    refused, allowed = message.split("; ", 1)  # what was refused; what is allowed instead
    assert refused
    assert allowed
    assert SECRET not in message
    assert lake.listing() == before  # nothing written, nothing touched


@pytest.mark.parametrize(
    "query", ["SELECT * FROM $${secret}$$", "SELECT * FROM E'{secret}'", "EXPORT DATABASE '{tmp}'"]
)
def test_other_spellings_do_not_parse_and_never_reach_the_engine(lake: Lake, query: str) -> None:
    before = lake.listing()
    with pytest.raises(SQLError, match="Cannot run SQL query") as info:
        lake.catalog.sql(_fill(query, lake))
    assert SECRET not in str(info.value)
    assert lake.listing() == before


def test_refusals_are_sql_errors_and_value_errors(lake: Lake) -> None:
    with pytest.raises(SQLNotAllowedError) as info:
        lake.catalog.sql("SELECT * FROM read_csv('/etc/passwd')")
    assert isinstance(info.value, SQLError)
    assert isinstance(info.value, ValueError)
    # The sandbox also guards the function that lists a query's tables.
    with pytest.raises(SQLNotAllowedError, match="COPY"):
        query_sql.referenced_tables(lake.catalog, "COPY shop.orders TO 'x.csv'")


def test_syntax_errors_and_unknown_names_keep_their_errors(lake: Lake) -> None:
    with pytest.raises(SQLError, match="Cannot run SQL query") as info:
        lake.catalog.sql("SELEC * FROM shop.orders")
    assert not isinstance(info.value, SQLNotAllowedError)
    with pytest.raises(SQLError, match="the query is empty"):
        lake.catalog.sql("  -- nothing\n")
    with pytest.raises(TableNotFoundError, match=r"shop\.nope"):
        lake.catalog.sql("SELECT * FROM shop.nope")
    with pytest.raises(SQLError, match="no_such_column"):
        lake.catalog.sql("SELECT no_such_column FROM shop.orders")


# -- nesting ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "query",
    [
        "SELECT " + "(" * 10_240 + "1" + ")" * 10_240,
        "SELECT " + "(" * 10_240,  # unbalanced
        "SELECT " + "lower(" * 5_000 + "'x'" + ")" * 5_000,
        "SELECT " + "[" * 10_240 + "1" + "]" * 10_240,
        "SELECT * FROM shop.orders WHERE " + "NOT " * 5_000 + "TRUE",  # deep, no parentheses
        "SELECT " + "(" * (MAX_NESTING + 1) + "1" + ")" * (MAX_NESTING + 1),
    ],
    ids=["10KB-parens", "unbalanced", "nested-calls", "brackets", "not-chain", "limit+1"],
)
def test_deep_nesting_is_refused_quickly(lake: Lake, query: str) -> None:
    start = time.perf_counter()
    with pytest.raises(SQLError, match="nests deeper than") as info:  # a limit: 400 in the API
        lake.catalog.sql(query)
    assert not isinstance(info.value, SQLNotAllowedError)
    assert time.perf_counter() - start < 0.5
    assert "\n" not in str(info.value)


def test_nesting_up_to_the_limit_runs_and_literals_do_not_count(lake: Lake) -> None:
    depth = 20
    query = "SELECT " + "(" * depth + "o_total" + ")" * depth + " AS t FROM shop.orders"
    assert lake.catalog.sql(query).collect()["t"].to_list() == ORDERS["o_total"].to_list()
    text = "SELECT '" + "(" * 500 + "' AS s /* " + "(" * 500 + " */ FROM shop.orders LIMIT 1"
    assert lake.catalog.sql(text).collect()["s"].to_list() == ["(" * 500]


# -- filter predicate strings --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("predicate", "words"),
    [
        ("o_id IN (SELECT 1)", "subqueries"),
        ("EXISTS (SELECT 1)", "subqueries"),
        ("o_total > (SELECT MAX(o_total) FROM shop.orders)", "subqueries"),
        ("read_csv('{secret}') IS NOT NULL", "function read_csv() is not allowed"),
        ("o_id = 1 AND read_parquet('{lake}/customers/x.parquet') IS NULL", "read_parquet()"),
        ("getenv('HOME') = 'x'", "function getenv() is not allowed"),
        ("{FW_READ}_csv('{secret}') IS NULL", "is not allowed"),
        ("o_id = $1", "parameters"),
        ("o_id = 1; SELECT 1", "2 statements"),
        ("(" * 5_000 + "o_id = 1" + ")" * 5_000, "nests deeper than"),
    ],
)
def test_predicate_strings_with_subqueries_or_file_functions_are_refused(
    lake: Lake, predicate: str, words: str
) -> None:
    with pytest.raises(InvalidFilterError, match="Cannot parse SQL predicate") as info:
        lake.catalog.table("shop.orders", filters=_fill(predicate, lake))
    assert words in str(info.value)
    assert SECRET not in str(info.value)


def test_predicate_strings_use_the_allow_list(lake: Lake) -> None:
    lf = lake.catalog.table("shop.orders", filters="year(o_date) = 2024 AND lower(o_status) = 'f'")
    assert sorted(lf.collect()["o_id"].to_list()) == [1, 3, 6]
    # allow_files never applies to predicates, nor to file functions outside FROM.
    with pytest.raises(SQLNotAllowedError, match="function read_csv"):
        lake.catalog.sql(
            f"SELECT * FROM shop.orders WHERE read_csv('{lake.secret}') IS NULL", allow_files=True
        )


# -- allow_files: an explicit opt-in for local use -----------------------------------------------


def test_allow_files_reads_a_local_csv_and_still_refuses_the_rest(lake: Lake) -> None:
    lf = lake.catalog.sql(
        f"SELECT c.c_name, x.region FROM shop.customers c JOIN read_csv('{lake.csv}') x "
        "ON c.c_id = x.c_id ORDER BY c.c_id",
        allow_files=True,
    )
    assert lf.collect().rows() == [("alice", "north"), (" carol ", "south")]
    with pytest.raises(SQLNotAllowedError, match="table function read_csv"):
        lake.catalog.sql(f"SELECT * FROM read_csv('{lake.csv}')")  # the default refuses
    before = lake.listing()
    for query, words in [
        (f"COPY shop.orders TO '{lake.root}/out.csv'", "COPY is not a query"),
        (f"SELECT * FROM read_csv('{lake.csv}'); SELECT 1", "2 statements"),
        (f"SELECT * FROM glob('{lake.root}/*')", "glob()"),
        (f"SELECT * FROM '{lake.csv}'", "is used as a table"),
        ("SELECT * FROM generate_series(1, 3)", "generate_series()"),
        ("SELECT getenv('HOME')", "getenv()"),
        (f"SELECT * FROM {FW_READ}_csv('{lake.csv}')", "non-ASCII"),
    ]:
        with pytest.raises(SQLNotAllowedError, match=words):
            lake.catalog.sql(query, allow_files=True)
    assert lake.listing() == before


CLI_CATALOG = """
from neuralake import Catalog, Database, ParquetTable

catalog = Catalog({"shop": Database([ParquetTable("customers", "LAKE/customers")])})
"""


def _cli(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "neuralake", "-c", "cli_sandbox:catalog", *args],
        cwd=cwd, capture_output=True, text=True, timeout=120,
    )  # fmt: skip


def test_cli_query_refuses_files_unless_allow_files(lake: Lake) -> None:
    source = CLI_CATALOG.replace("LAKE", str(lake.root / "lake"))
    (lake.root / "cli_sandbox.py").write_text(textwrap.dedent(source), encoding="utf-8")
    query = f"SELECT region FROM read_csv('{lake.csv}') ORDER BY region"
    refused = _cli(lake.root, "query", query, "--format", "csv")
    assert refused.returncode == 4
    assert "SQLNotAllowedError" in refused.stderr
    assert "--allow-files" in refused.stderr
    assert len(refused.stderr.strip().splitlines()) == 1
    allowed = _cli(lake.root, "query", query, "--format", "csv", "--allow-files")
    assert allowed.returncode == 0, allowed.stderr
    assert allowed.stdout.splitlines() == ["region", "north", "south"]
    copy = _cli(lake.root, "query", f"COPY shop.customers TO '{lake.root}/o.csv'", "--allow-files")
    assert copy.returncode == 4
    assert "COPY is not a query" in copy.stderr
    assert not (lake.root / "o.csv").exists()
    usage = _cli(lake.root, "query", "--help")
    assert "--allow-files" in usage.stdout
    assert "local use only" in " ".join(usage.stdout.split())


# -- properties ----------------------------------------------------------------------------------

_NAMES = st.from_regex(r"[A-Za-z_][A-Za-z0-9_]{0,24}", fullmatch=True)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.filter_too_much])
@given(name=_NAMES)
def test_random_function_names_outside_the_allow_list_are_refused(name: str) -> None:
    assume(name.lower() not in ALLOWED_NAMES)
    query = f"SELECT {name}(o_total) AS x FROM shop.orders"
    try:
        parsed = sqlglot.parse_one(query, read="duckdb")
    except sqlglot.errors.SqlglotError:
        assume(False)  # a keyword, not a function name
    # Functions sqlglot knows are matched by their class; unknown names by the name list.
    assume(isinstance(parsed, exp.Select) and isinstance(parsed.selects[0].this, exp.Anonymous))
    with pytest.raises(SQLNotAllowedError, match="is not allowed"):
        check_query(query)
    with pytest.raises(SQLNotAllowedError, match="is not allowed"):
        check_query(f"SELECT * FROM {name}('/etc/passwd')")


@settings(max_examples=200, deadline=None)
@given(
    name=st.text(
        st.characters(categories=("Lu", "Ll"), include_characters="_"), min_size=1, max_size=12
    ).filter(lambda s: not s.isascii())
)
def test_function_names_with_non_ascii_letters_are_never_allowed(name: str) -> None:
    with pytest.raises(SQLNotAllowedError, match="non-ASCII"):
        check_query(f"SELECT {name}(o_total) FROM shop.orders")
    for allowed in ("lower", "sum", "read_csv"):
        lookalike = allowed[:1] + name + allowed[1:]
        with pytest.raises(SQLNotAllowedError, match="non-ASCII"):
            check_query(f"SELECT * FROM {lookalike}('x')", allow_files=True)
