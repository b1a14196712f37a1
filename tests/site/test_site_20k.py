"""A 20,000-table site (the benchmark's synthetic catalog) in headless Chromium: every kind of
query finds its table on the first page of results, fast typing never shows an older query's
results, and a rebuild after one description changed equals a full build byte for byte."""

from __future__ import annotations

import re
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect
from test_site_incremental import assert_same_tree

from conftest import REPO
from neuralake.export.site import build_site

sys.path.insert(0, str(REPO / "bench" / "site"))
from bench_site import synthetic_catalog

# One group: the module builds its 20,000-table site once, on one test worker.
pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("site20k")]

N = 20_000
FOUND = re.compile(r"^\d+ tables? found$")


@pytest.fixture(scope="module")
def big_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("big") / "site"
    report = build_site([(synthetic_catalog(N), None)], out, progress=False, workers=2)
    assert report.tables == N
    return out


def table_page(site: Path, i: int) -> Path:
    (page,) = (site / f"synthetic{N}" / f"db{i // 1000:03d}").glob(f"*_{i:06d}.html")
    return page


def typed(page: Any, text: str) -> list[str]:
    """The result titles for ``text``, entered at once (one query: a status seen while typing
    key by key could belong to a prefix of it; the fast-typing test covers that)."""
    page.fill("#q", "")
    expect(page.locator("#search-status")).to_have_text("")  # the last query's status is gone
    page.fill("#q", text)
    expect(page.locator("#search-status")).to_have_text(FOUND, timeout=20_000)
    expect(page.locator("#search-results li").first).to_be_visible()
    return page.locator("#search-results li .r-title").all_inner_texts()


def test_every_kind_of_query_finds_its_table(
    big_site: Path, serve_dir: Callable, new_page: Callable
) -> None:
    html = table_page(big_site, 4321).read_text()
    name = re.search(r"<h1>([^<]+)</h1>", html)[1]  # type: ignore[index]
    owner = re.search(r"<dt>Owner</dt><dd>(team-\d+)</dd>", html)[1]  # type: ignore[index]
    tag = re.search(r'<span class="tag">(tag\d+)</span>', html)[1]  # type: ignore[index]
    first = name.split("_")[0]
    page = new_page()
    page.goto(serve_dir(big_site))
    page.locator("#q").focus()
    cases = {
        name: name, name[:-2]: name, "t4321_id": name,  # name, prefix, column
        f"{owner} {first}": name, f"{tag} {first} {name.split('_')[1]}": name,  # owner, tag
    }  # fmt: skip
    for query, want in cases.items():
        titles = typed(page, query)
        assert want in titles, (query, titles)
    # a rare description word: only the 21 tables that say it
    titles = typed(page, "mainframe")
    expect(page.locator("#search-status")).to_have_text("21 tables found")
    assert all(int(t.rsplit("_", 1)[1]) % 997 == 0 for t in titles), titles
    for query in (first, f"{first.capitalize()}s"):  # a common word: name matches first
        titles = typed(page, query)
        assert len(titles) >= 10, (query, titles)  # name index hits, then ranked results
        assert all(first in t.split("_") for t in titles), (query, titles)
    assert page.errors == []


def test_fast_typing_never_shows_an_older_query(
    big_site: Path, serve_dir: Callable, new_page: Callable
) -> None:
    page = new_page()
    page.goto(serve_dir(big_site))
    page.locator("#q").focus()
    # a common word, then at once a column name: the first query's results must never show
    page.locator("#q").press_sequentially("warehouse", delay=30)
    page.fill("#q", "")
    page.locator("#q").press_sequentially("t1234_id", delay=30)
    expect(page.locator("#search-status")).to_have_text("1 table found", timeout=20_000)
    # The count shows first, then the result's data arrives: wait for it, then watch.
    expect(page.locator("#search-results li .r-title")).to_have_count(1)
    for _ in range(15):  # watch for late results of the first query
        titles = page.locator("#search-results li .r-title").all_inner_texts()
        assert len(titles) == 1, titles
        assert titles[0].endswith("_001234"), titles
        expect(page.locator("#search-status")).to_have_text("1 table found")
        page.wait_for_timeout(100)


def test_rebuild_after_one_description_equals_a_full_build(big_site: Path, tmp_path: Path) -> None:
    changed = synthetic_catalog(N, changed=N // 2)
    report = build_site([(changed, None)], big_site, progress=False, workers=2)
    assert report.rendered == 1
    full = tmp_path / "full"
    build_site([(changed, None)], full, progress=False, workers=2, reuse=False)
    assert_same_tree(big_site, full)
