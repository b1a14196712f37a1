"""The name prefix index, the API curl snippet on table pages and deprecated tables in search."""

from __future__ import annotations

import html
import json
from collections.abc import Callable
from pathlib import Path

import polars as pl
from playwright.sync_api import expect
from test_site_browser import results, search

from conftest import SAMPLE_REF
from neuralake import Catalog, Database, Filter, FunctionTable
from neuralake.export.site import build_site
from neuralake.export.site.names import LIMIT, NameIndex, shard_file, tokens

API = "https://data.example.com/it's"


def test_name_tokens_and_shard_files() -> None:
    assert tokens("Revenue_Type_000689") == ["revenue_type_000689", "revenue", "type"]
    assert shard_file("re") == "re.json"
    assert shard_file("revenue_t") == "revenue_t.json"
    assert shard_file("é") == "~c3a9.json"
    assert not shard_file("xc3a9").startswith("~")


def test_big_shards_split_and_keep_exact_names_reachable(tmp_path: Path) -> None:
    ix = NameIndex()
    cat = ix.catalog("c")
    for i in range(LIMIT * 3):
        ix.add(f"orders_{i:05d}", "db", f"c/db/orders_{i:05d}.html", "delta", i == 0, cat)
    ix.add("orders", "db", "c/db/orders.html", "delta", False, cat)
    ix.write(tmp_path)
    folder = tmp_path / "search" / "names"
    root = json.loads((folder / "or.json").read_text())
    assert root["more"] == 1
    assert len(root["t"]) == LIMIT
    assert root["t"][0][0] == "orders"  # exact token, current and shortest first
    assert "orders_" in root["split"]
    # follow the split keys like the browser does, down to the exact name
    key, want = "or", "orders_00421"
    while key in root["split"] and len(want) > len(key):
        key = want[: len(key) + 1]
    leaf = json.loads((folder / shard_file(key)).read_text())
    assert want in [row[0] for row in leaf["t"]]
    index = json.loads((folder.parent / "names.json").read_text())
    assert index == {"catalogs": ["c"], "roots": ["or"]}


def test_api_snippet_for_every_table(sample_catalog: Catalog, tmp_path: Path) -> None:
    out = tmp_path / "site"
    build_site([(sample_catalog, SAMPLE_REF)], out, progress=False, api_url=API)
    orders = (out / "sample" / "sales" / "orders.html").read_text()
    assert "HTTP API (curl)" in orders
    # the URL is shell-quoted and then HTML-escaped (the apostrophe never reaches the page raw)
    assert "data.example.com/it" in orders
    assert "it's" not in orders
    assert "/api/tables/sales.orders" in html.unescape(orders)
    assert "filter[o_status]=" in html.unescape(orders)
    customers = (out / "sample" / "sales" / "customers.html").read_text()
    assert "HTTP API (curl)" in customers  # parquet; its `in` filter goes through /api/sql
    assert "/api/sql" in html.unescape(customers)
    nation = (out / "sample" / "ref" / "nation.html").read_text()
    assert "HTTP API (curl)" in nation  # the API serves function tables too
    assert "/api/tables/ref.nation" in html.unescape(nation)
    plain = tmp_path / "plain"
    build_site([(sample_catalog, SAMPLE_REF)], plain, progress=False)
    assert "curl" not in (plain / "sample" / "sales" / "orders.html").read_text()


def test_api_snippet_escapes_hostile_urls(sample_catalog: Catalog, tmp_path: Path) -> None:
    out = tmp_path / "site"
    hostile = 'http://x/"><script>window.__xss=1</script>'
    build_site([(sample_catalog, SAMPLE_REF)], out, progress=False, api_url=hostile)
    page = (out / "sample" / "sales" / "orders.html").read_text()
    assert "<script>window" not in page
    assert "&lt;script&gt;window.__xss=1&lt;/script&gt;" in page


def _frame() -> pl.LazyFrame:
    return pl.LazyFrame({"a": [1]})


def ranking_catalog() -> Catalog:
    def table(name: str, deprecated: str | None = None) -> FunctionTable:
        return FunctionTable(_frame, name=name, schema={"ledger_id": pl.Int64},
                             description="Ledger entries.", owner="fin",
                             docs_filters=[Filter("ledger_id", ">", 0)],
                             deprecated=deprecated)  # fmt: skip

    return Catalog({"fin": Database([table("ledger_old", "Use ledger."), table("ledger"),
                                     table("ledger_v2"), table("journal")])},
                   name="ranking")  # fmt: skip


def test_names_rank_first_and_deprecated_last(
    tmp_path: Path, serve_dir: Callable, new_page: Callable
) -> None:
    out = tmp_path / "site"
    build_site([(ranking_catalog(), None)], out, progress=False)
    db_page = (out / "ranking" / "fin" / "index.html").read_text()
    assert 'ledger_old</a> <span class="badge warn">deprecated</span>' in db_page
    page = new_page()
    page.goto(serve_dir(out))
    search(page, "ledger")
    # Name matches show first; the full-text match on a column ("journal") joins them later.
    expect(page.locator("#search-results li")).to_have_count(4)
    titles = results(page)
    assert titles[0] == "ledger"
    assert titles[-1] == "ledger_old"  # deprecated after every current table
    assert set(titles) == {"ledger", "ledger_v2", "ledger_old", "journal"}  # column match too
    old = page.locator("#search-results li", has_text="ledger_old")
    expect(old.locator(".badge.warn")).to_have_text("deprecated")
    assert page.locator("#search-results li.r-name").count() == 3
    assert results(page)[0] == "ledger"
    assert page.errors == []


def test_a_shard_named_index_keeps_its_names(tmp_path: Path) -> None:
    """Enough ``index_*`` tables split the shards down to ``index``; the catalog list lives
    outside the shard folder, so that shard is not overwritten."""
    ix = NameIndex()
    cat = ix.catalog("c")
    for i in range(LIMIT * 2):
        ix.add(f"index_{i:04d}", "db", f"c/db/index_{i:04d}.html", "delta", False, cat)
    ix.write(tmp_path)
    shard = json.loads((tmp_path / "search" / "names" / "index.json").read_text())
    assert shard["k"] == "index"
    assert len(shard["t"]) == LIMIT
    assert json.loads((tmp_path / "search" / "names.json").read_text())["roots"] == ["in"]
