"""The built site in real headless Chromium: navigation, search, filters, copy, base path,
mobile layout, no third-party requests, XSS."""

from __future__ import annotations

import re
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import expect

from conftest import xss_catalog
from neuralake.export.site import build_site

pytestmark = pytest.mark.browser

Page = Any


FOUND = re.compile(r"^(\d+ tables? found|No tables match)")


def search(page: Page, text: str) -> list[str]:
    """Type into the header search box and return the result titles.

    Only locator waits are used (no string evaluation), so the site's CSP stays on.
    """
    if page.evaluate("document.activeElement && document.activeElement.id") == "q":
        page.fill("#q", "")
    else:
        page.keyboard.press("/")
    page.keyboard.type(text)
    expect(page.locator("#q")).to_have_value(text)
    return results(page)


def results(page: Page) -> list[str]:
    expect(page.locator("#search-panel")).to_be_visible()
    # The status is about the query in the box only once the panel names it (an earlier
    # prefix's "No tables match" would otherwise pass). Full-text search runs in a worker; on a
    # loaded 2-core machine it can take a few seconds.
    query = page.input_value("#q").strip()
    expect(page.locator("#search-panel")).to_have_attribute("data-answered", query, timeout=15_000)
    expect(page.locator("#search-status")).to_have_text(FOUND)
    status = page.locator("#search-status").inner_text()
    if not status.startswith("No"):
        expect(page.locator("#search-results li").first).to_be_visible()
    return page.locator("#search-results li .r-title").all_inner_texts()


def count(page: Page, n: int) -> None:
    if n == 0:
        expect(page.locator("#search-status")).to_have_text(re.compile("^No tables"))
    else:
        expect(page.locator("#search-status")).to_have_text(re.compile(rf"^{n} tables? found"))
        expect(page.locator("#search-results li")).to_have_count(n)


def open_filters(page: Page) -> None:
    page.locator("details.filters summary").click()
    expect(page.locator("#f-tag option").nth(1)).to_be_attached()


def test_navigation_index_database_table(
    sample_site: Path, serve_dir: Callable, new_page: Callable
) -> None:
    base = serve_dir(sample_site)
    page = new_page()
    page.goto(base)
    assert page.title().endswith("sample")
    assert page.locator("main h1").inner_text() == "Data catalog"
    page.get_by_role("link", name="sales", exact=True).click()
    page.wait_for_url("**/sample/sales/index.html")
    assert page.locator("main h1").inner_text() == "sales"
    page.locator("table.list").get_by_role("link", name="orders", exact=True).click()
    page.wait_for_url("**/sample/sales/orders.html")
    assert page.locator("main h1").inner_text() == "orders"
    assert page.locator("table.schema tbody tr").count() == 7
    page.get_by_role("navigation", name="Breadcrumb").get_by_role("link", name="sales").click()
    page.wait_for_url("**/sample/sales/index.html")
    assert page.errors == []


def test_keyboard_slash_focuses_search(
    sample_site: Path, serve_dir: Callable, new_page: Callable
) -> None:
    page = new_page()
    page.goto(serve_dir(sample_site) + "sample/sales/orders.html")
    page.keyboard.press("/")
    assert page.evaluate("document.activeElement.id") == "q"
    page.keyboard.type("zzzzqqq")
    count(page, 0)
    page.keyboard.press("Escape")
    expect(page.locator("#search-panel")).to_be_hidden()


def test_search_by_column_owner_and_name(
    sample_site: Path, serve_dir: Callable, new_page: Callable
) -> None:
    base = serve_dir(sample_site)
    page = new_page()
    page.goto(base)
    assert search(page, "c_balance")[0] == "customers"
    meta = page.locator("#search-results li .r-meta").first.inner_text()
    assert "database sales" in meta
    assert "parquet" in meta
    assert "column c_balance" in meta
    page.fill("#q", "")
    assert search(page, "crm-team") == ["customers"]
    page.fill("#q", "")
    titles = search(page, "orders")
    assert titles[0] == "orders"  # the table name ranks first
    page.locator("#search-results li a").first.click()
    page.wait_for_url("**/sample/sales/orders.html")
    assert page.errors == []


def test_filters_narrow_results(sample_site: Path, serve_dir: Callable, new_page: Callable) -> None:
    page = new_page()
    page.goto(serve_dir(sample_site))
    assert sorted(search(page, "reference")) == ["currencies", "nation"]
    open_filters(page)
    page.select_option("#f-tag", "fx")
    count(page, 1)
    assert results(page) == ["currencies"]
    page.select_option("#f-tag", "")
    page.select_option("#f-type", "function")
    page.fill("#q", "")
    count(page, 2)
    page.select_option("#f-database", "sales")
    count(page, 0)
    page.select_option("#f-type", "delta")
    count(page, 1)
    assert results(page) == ["orders"]


def test_copy_button_puts_snippet_on_clipboard(
    sample_site: Path, serve_dir: Callable, new_page: Callable
) -> None:
    base = serve_dir(sample_site)
    page = new_page(permissions=["clipboard-read", "clipboard-write"])
    page.goto(base + "sample/sales/orders.html")
    for kind in ("python", "python-sql", "shell"):
        snippet = page.locator(f'pre[data-snippet="{kind}"]')
        button = snippet.locator("xpath=..").get_by_role("button", name="Copy")
        button.click()
        expect(snippet.locator("xpath=..").get_by_role("button", name="Copy")).to_have_text(
            "Copied"
        )
        assert page.evaluate("navigator.clipboard.readText()") == snippet.inner_text()
    assert page.evaluate("navigator.clipboard.readText()").startswith("neuralake -c ")


def test_site_works_under_a_sub_path(sample_site: Path, tmp_path: Path, serve_dir: Callable,
                                     new_page: Callable) -> None:  # fmt: skip
    root = tmp_path / "www"
    shutil.copytree(sample_site, root / "sub" / "path")
    base = serve_dir(root)
    page = new_page()
    page.goto(base + "sub/path/")
    page.get_by_role("link", name="ref", exact=True).click()
    page.wait_for_url("**/sub/path/sample/ref/index.html")
    page.get_by_role("link", name="nation", exact=True).click()
    page.wait_for_url("**/sub/path/sample/ref/nation.html")
    assert page.evaluate("getComputedStyle(document.body).fontFamily").startswith("system-ui")
    search(page, "c_balance")
    page.locator("#search-results li a").first.click()
    page.wait_for_url("**/sub/path/sample/sales/customers.html")
    bad = [u for u in page.requests if not urlsplit(u).path.startswith("/sub/path/")
           and not u.startswith("data:")]  # fmt: skip
    assert bad == []
    assert page.errors == []


@pytest.mark.parametrize(
    "path", ["index.html", "sample/sales/index.html", "sample/sales/orders.html"]
)
def test_mobile_width_has_no_horizontal_scroll(sample_site: Path, serve_dir: Callable,
                                               new_page: Callable, path: str) -> None:  # fmt: skip
    page = new_page(viewport={"width": 375, "height": 740}, is_mobile=True, has_touch=True)
    page.goto(serve_dir(sample_site) + path)
    fits = "document.documentElement.scrollWidth <= window.innerWidth"
    assert page.evaluate(fits), page.evaluate("[document.documentElement.scrollWidth, innerWidth]")
    search(page, "orders")
    assert page.evaluate(fits)


def test_no_request_leaves_the_site(
    sample_site: Path, serve_dir: Callable, new_page: Callable
) -> None:
    base = serve_dir(sample_site)
    origin = urlsplit(base).netloc
    page = new_page(permissions=["clipboard-read", "clipboard-write"])
    page.goto(base)
    page.get_by_role("link", name="sales", exact=True).click()
    page.locator("table.list").get_by_role("link", name="orders", exact=True).click()
    page.wait_for_url("**/orders.html")
    page.locator("button.theme").click()
    page.get_by_role("button", name="Copy Python").click()
    search(page, "o_total")
    open_filters(page)
    page.wait_for_load_state("networkidle")
    assert page.requests, "no requests recorded"
    foreign = [
        u for u in page.requests if urlsplit(u).netloc != origin and not u.startswith("data:")
    ]
    assert foreign == []


def test_hostile_catalog_runs_no_script(
    tmp_path: Path, serve_dir: Callable, new_page: Callable
) -> None:
    out = build_site([(xss_catalog(), None)], tmp_path / "site", progress=False).out
    base = serve_dir(out)
    page = new_page()
    page.goto(base)
    pages = [base, *[base + str(p.relative_to(out)) for p in sorted(out.glob("*/*/*.html"))]]
    assert len(pages) == 3
    for url in pages:
        page.goto(url)
        page.wait_for_load_state("networkidle")
        for link in page.locator("main a").all():
            href = link.get_attribute("href") or ""
            assert not href.lower().strip().startswith(("javascript:", "data:")), href
        page.locator("main").hover()
        for link in page.locator("main a").all():
            link.hover()
    table_url = pages[-1]
    page.goto(table_url)
    assert "<script>window.__xss=1</script>" in page.locator("main").inner_text()
    search(page, "hostile")
    page.locator("#search-results li").first.hover()
    search_titles = results(page)
    assert search_titles == ["hostile"]
    open_filters(page)
    page.wait_for_timeout(300)
    assert page.evaluate("typeof window.__xss") == "undefined"
    assert page.dialogs == []
    assert page.errors == []


def test_pages_read_without_javascript(
    sample_site: Path, serve_dir: Callable, new_page: Callable
) -> None:
    page = new_page(java_script_enabled=False)
    page.goto(serve_dir(sample_site) + "sample/sales/orders.html")
    assert page.locator("main h1").inner_text() == "orders"
    assert page.locator("table.schema tbody tr").count() == 7
    assert (
        'load_catalog("site_sample_catalog:catalog")'
        in page.locator('pre[data-snippet="python"]').inner_text()
    )
    assert not page.locator(".search").is_visible()


def test_accessibility_basics(sample_site: Path, serve_dir: Callable, new_page: Callable) -> None:
    page = new_page()
    for path in ("index.html", "sample/sales/index.html", "sample/sales/orders.html"):
        page.goto(serve_dir(sample_site) + path)
        assert page.locator("html").get_attribute("lang") == "en"
        assert page.get_by_role("banner").count() == 1
        assert page.get_by_role("main").count() == 1
        assert page.get_by_role("contentinfo").count() == 1
        assert page.get_by_role("search").count() == 1
        assert page.locator("h1").count() == 1
        assert page.get_by_label("Search tables, columns, owners and tags").count() == 1
        missing = page.evaluate("""() => [...document.querySelectorAll('img')].filter(i => !i.alt).length
          + [...document.querySelectorAll('button')].filter(b => !(b.textContent.trim() || b.getAttribute('aria-label'))).length""")
        assert missing == 0
        page.keyboard.press("Tab")
        assert page.evaluate("document.activeElement.className") == "skip"
        outline = page.evaluate("getComputedStyle(document.activeElement).outlineStyle")
        assert outline != "none"
