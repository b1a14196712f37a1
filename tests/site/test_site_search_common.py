"""The common-word index: keys, fields, encoded sets, files written next to Pagefind's bundle,
and searches answered from it in headless Chromium."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from pathlib import Path

import polars as pl
import pytest
from playwright.sync_api import expect
from test_site_browser import results, search

from neuralake import Catalog, Database, FunctionTable
from neuralake.export.site import build_site
from neuralake.export.site.common import (
    COLUMN,
    DEPRECATED,
    LABEL,
    NAME,
    TEXT,
    encode_set,
    page_keys,
    threshold,
    word_key,
)

N = 600  # above MIN_PAGES, so words on most pages are common


def decode_set(text: str, size: int) -> list[int]:
    raw = base64.b64decode(text[2:])
    if text.startswith("b:"):
        return [i for i in range(size) if raw[i >> 3] & (1 << (i & 7))]
    out, at, d, shift = [], -1, 0, 0
    for b in raw:
        d |= (b & 0x7F) << shift
        if b & 0x80:
            shift += 7
            continue
        at += d + 1
        out.append(at)
        d = shift = 0
    return out


def test_word_keys_fold_case_and_plurals() -> None:
    assert [word_key(w) for w in ("Warehouses", "warehouse", "entries", "addresses", "status",
                                  "class", "bus", "is")] == [
        "warehouse", "warehouse", "entry", "address", "status", "class", "bus", "is"]  # fmt: skip
    assert threshold(100) == 500
    assert threshold(100_000) == 2000


def test_page_keys_take_the_best_field_and_skip_ignored_text() -> None:
    part = ('<main data-pagefind-body><p hidden data-pagefind-weight="4">Owner team-7.</p>'
            '<h1 data-pagefind-weight="10">Orders_Daily</h1><p data-pagefind-ignore>'
            'skipped <span>hidden too</span></p><p hidden>Daily orders &amp; returns.</p>'
            '<code data-pagefind-weight="6">order_id</code><br></main>')  # fmt: skip
    keys = page_keys(part)
    assert keys["order"] == NAME  # the name beats the column and the text
    assert keys["daily"] == NAME
    assert keys["id"] == COLUMN
    assert keys["team"] == LABEL
    assert keys["return"] == TEXT
    assert "skipped" not in keys
    assert "hidden" not in keys
    assert "amp" not in keys
    deprecated = part.replace("<main ", '<main data-pagefind-meta="deprecated:yes" ')
    assert set(page_keys(deprecated).values()) == {DEPRECATED}


@pytest.mark.parametrize("members", [[], [0], [3, 4, 5, 900], list(range(0, 1000, 2))])
def test_sets_round_trip_in_the_shorter_encoding(members: list[int]) -> None:
    text = encode_set(members, 1000)
    assert decode_set(text, 1000) == members
    assert text.startswith("b:" if len(members) > 200 else "d:")


def _frame() -> pl.LazyFrame:
    return pl.LazyFrame()


def common_catalog(n: int = N) -> Catalog:
    """Every table mentions ``warehouse``; ``beacon`` is rare; t007's name has ``warehouse``."""
    tables = []
    for i in range(n):
        name = "warehouse_stock" if i == 7 else f"t{i:04d}"
        cols: dict[str, pl.DataType] = {f"c{i}_id": pl.Int64(), "amount": pl.Float64()}
        if i == 11:
            cols["warehouse_code"] = pl.String()
        note = " Uses the beacon feed." if i % 100 == 3 else ""
        tables.append(FunctionTable(
            _frame, name=name, schema=cols, owner=f"team-{i % 3}", tags=[f"tag{i % 2}"],
            description=f"Stock kept in the warehouse, batch {i}.{note}",
            deprecated="Use t0001." if i == 5 else None,
        ))  # fmt: skip
    return Catalog({"db": Database(tables)}, name="wh")


@pytest.fixture(scope="module")
def common_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("common") / "site"
    report = build_site([(common_catalog(), None)], out, progress=False)
    assert report.tables == N
    return out


def test_common_files_follow_pagefind_page_numbers(common_site: Path) -> None:
    folder = common_site / "search" / "common"
    index = json.loads((folder / "index.json").read_text())
    assert index["n"] == N
    assert "warehouse" in index["keys"]
    assert "amount" in index["keys"]
    assert "beacon" not in index["keys"]  # on 6 pages: Pagefind answers it
    entry = json.loads((folder / "warehouse.json").read_text())
    assert entry["n"] == N
    sets = [decode_set(s, N) for s in entry["c"]]
    assert sum(map(len, sets)) == N  # each page in its best field only
    urls = sorted(f"/wh/db/{'warehouse_stock' if i == 7 else f't{i:04d}'}.html" for i in range(N))
    assert [urls[pn] for pn in sets[NAME]] == ["/wh/db/warehouse_stock.html"]
    assert [urls[pn] for pn in sets[COLUMN]] == ["/wh/db/t0011.html"]
    assert [urls[pn] for pn in sets[DEPRECATED]] == ["/wh/db/t0005.html"]


def test_build_is_reproducible_with_common_words(common_site: Path, tmp_path: Path) -> None:
    again = tmp_path / "again"
    build_site([(common_catalog(), None)], again, progress=False)
    for f in sorted((common_site / "search" / "common").iterdir()):
        assert (again / "search" / "common" / f.name).read_bytes() == f.read_bytes()


@pytest.mark.browser
def test_common_words_rank_names_then_fields(
    common_site: Path, serve_dir: Callable, new_page: Callable
) -> None:
    page = new_page()
    page.goto(serve_dir(common_site))
    titles = search(page, "Warehouses")
    assert page.locator("#search-status").inner_text() == f"{N} tables found"
    assert titles[:2] == ["warehouse_stock", "t0011"]  # name match, then the column
    assert "t0005" not in titles  # deprecated: last, not on the first page
    titles = search(page, "warehouse beacon")
    assert page.locator("#search-status").inner_text() == "6 tables found"
    assert set(titles) == {f"t{i:04d}" for i in range(3, N, 100)}
    titles = search(page, "wareh amount")  # a prefix of a common word, and a common word
    assert page.locator("#search-status").inner_text() == f"{N} tables found"
    assert titles[0] == "warehouse_stock"
    page.locator("#search-more").click()
    expect(page.locator("#search-results li").nth(19)).to_be_visible()
    assert page.errors == []
    # nothing but the common files and Pagefind's own was fetched
    assert not [u for u in page.requests if "/search/common/" in u and u.endswith("beacon.json")]


@pytest.mark.browser
def test_rare_words_still_go_to_pagefind(
    common_site: Path, serve_dir: Callable, new_page: Callable
) -> None:
    page = new_page()
    page.goto(serve_dir(common_site))
    assert set(search(page, "beacon")) == {f"t{i:04d}" for i in range(3, N, 100)}
    assert search(page, "c123_id") == ["t0123"]
    assert results(page) == ["t0123"]
