"""Readable site in headless Chromium: 375 px layouts, search by column docs in its own view,
column references followed both ways."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect
from test_site_browser import results, search

pytestmark = pytest.mark.browser

Page = Any

# Each tag chip's height against a one-letter chip added next to it: more means it wrapped.
WRAPPED_TAGS = """() => [...document.querySelectorAll('.tag')].filter(t => t.offsetParent).filter(t => {
  const probe = t.cloneNode(false); probe.textContent = 'x'; t.after(probe);
  const one = probe.getBoundingClientRect().height; probe.remove();
  return t.getBoundingClientRect().height > one + 0.5 || t.getClientRects().length > 1;
}).map(t => t.textContent)"""
OFF_SCREEN = """(sel) => [...document.querySelectorAll(sel)].filter(e => e.offsetParent).filter(e => {
  const r = e.getBoundingClientRect(); return r.width < 40 || r.left < 0 || r.right > 375;
}).length"""


def narrow(new_page: Callable) -> Page:
    return new_page(viewport={"width": 375, "height": 740}, is_mobile=True, has_touch=True)


@pytest.mark.parametrize(
    ("path", "description"),
    [
        ("index.html", ".card"),
        ("sample/sales/index.html", ".list td.excerpt"),
        ("sample/sales/orders.html", ".desc"),
        ("search/?q=orders", "#search-results .r-excerpt"),
    ],
)
def test_every_page_fits_375_px(sample_site: Path, serve_dir: Callable, new_page: Callable,
                                path: str, description: str) -> None:  # fmt: skip
    page = narrow(new_page)
    page.goto(serve_dir(sample_site) + path)
    if "?q=" in path:
        assert results(page)[0] == "orders"
    expect(page.locator(description).first).to_be_visible()
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 375, width
    assert page.evaluate(WRAPPED_TAGS) == []
    assert page.evaluate(OFF_SCREEN, description) == 0
    assert page.errors == []


def test_long_tags_never_break_inside_a_word(tmp_path: Path, serve_dir: Callable,
                                             new_page: Callable) -> None:  # fmt: skip
    import polars as pl

    from neuralake import Catalog, Database, FunctionTable
    from neuralake.export.site import build_site

    tags = ["finance", "daily", "customer-facing", "a" * 60]
    t = FunctionTable(lambda: pl.LazyFrame({"a": [1]}), name="t", schema={"a": pl.Int64},
                      tags=tags, owner="x" * 50, description="word " * 40)  # fmt: skip
    out = build_site([(Catalog({"db": Database([t])}, name="c"), None)], tmp_path / "s",
                     progress=False).out  # fmt: skip
    page = narrow(new_page)
    for path in ("index.html", "c/db/index.html", "c/db/t.html"):
        page.goto(serve_dir(out) + path)
        assert page.evaluate("document.documentElement.scrollWidth") <= 375, path
        assert page.evaluate(WRAPPED_TAGS) == [], path


def test_search_finds_a_word_only_in_a_column_doc(
    sample_site: Path, serve_dir: Callable, new_page: Callable
) -> None:
    page = new_page()
    page.goto(serve_dir(sample_site) + "sample/ref/nation.html")
    assert search(page, "Germany") == ["customers"]
    excerpt = page.locator("#search-results .r-excerpt").first
    expect(excerpt.locator("mark")).to_have_text(re.compile(r"^Germany\b"))
    text = excerpt.inner_text()
    assert "EU includes Germany" in text
    for noise in ("parquet", "sales-eng", "function", "partition"):
        assert noise not in text
    # results are their own view: the page content is replaced until the query is cleared
    expect(page.locator("main")).to_be_hidden()
    page.keyboard.press("Escape")
    expect(page.locator("main")).to_be_visible()
    expect(page.locator("#search-panel")).to_be_hidden()


def test_description_search_shows_the_description(
    sample_site: Path, serve_dir: Callable, new_page: Callable
) -> None:
    page = new_page()
    page.goto(serve_dir(sample_site) + "search/")
    expect(page.locator("#q")).to_be_focused()
    page.keyboard.type("CRM")
    assert results(page) == ["customers"]
    text = page.locator("#search-results .r-excerpt").first.inner_text()
    assert "Customer master data from the CRM." in text
    assert "search/?q=CRM" in page.url


def test_column_reference_links_both_ways(
    sample_site: Path, serve_dir: Callable, new_page: Callable
) -> None:
    page = new_page()
    page.goto(serve_dir(sample_site) + "sample/sales/orders.html")
    page.get_by_role("link", name="sales.customers.c_custkey").click()
    page.wait_for_url("**/sample/sales/customers.html#col-c_custkey")
    row = page.locator("tr#col-c_custkey")
    expect(row).to_contain_text("Referenced by sales.orders.o_custkey")
    row.get_by_role("link", name="sales.orders.o_custkey").click()
    page.wait_for_url("**/sample/sales/orders.html#col-o_custkey")
    expect(page.locator("tr#col-o_custkey")).to_be_in_viewport()
    assert page.get_by_role("link", name="sales.customers.c_nosuch").count() == 0
    assert page.errors == []
