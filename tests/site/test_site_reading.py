"""Readable site text: plain summaries keep their characters, Markdown deprecation banners,
column references linked both ways, search index content, locations, the search page and
trailing-slash URLs in ``site serve``."""

from __future__ import annotations

import re
import urllib.error
import urllib.request
from collections.abc import Callable
from html.parser import HTMLParser
from pathlib import Path

import polars as pl
import pytest

from neuralake import Catalog, Database, FunctionTable, ParquetTable
from neuralake.export.site import build_site, markup
from neuralake.export.site.builder import show_location
from neuralake.export.site.terms import SearchDoc, page_keys, read_docs, terms


@pytest.mark.parametrize("text", ["o_orderkey", "Brand#13", "snake_case_name", "a*b"])
def test_summaries_keep_source_characters(text: str) -> None:
    sentence = f"Join on {text} here."
    assert markup.excerpt(sentence) == sentence
    assert markup.plain_text(sentence) == sentence
    assert markup.excerpt(f"# Title\n\n{sentence}\n\nMore.") == sentence
    assert markup.plain_text(f"{sentence}\n\n- `{text}` **bold**") == f"{sentence} {text} bold"


def test_summaries_still_drop_markup() -> None:
    assert markup.excerpt("*Emphasis* and __strong__ with `code` and [a link](http://x)") == (
        "Emphasis and strong with code and a link"
    )
    assert markup.plain_text("# Head\n\n> quoted _text_") == "Head quoted text"


def test_summary_characters_in_built_pages(tmp_path: Path) -> None:
    t = FunctionTable(lambda: pl.LazyFrame({"o_orderkey": [1]}), name="orders",
                      schema={"o_orderkey": pl.Int64},
                      description="Join on o_orderkey for Brand#13 and snake_case_name, a*b.")  # fmt: skip
    out = build_site([(Catalog({"tpch": Database([t])}, name="c"), None)], tmp_path / "s",
                     progress=False).out  # fmt: skip
    want = "Join on o_orderkey for Brand#13 and snake_case_name, a*b."
    assert want in (out / "c/tpch/index.html").read_text()  # database listing
    page = (out / "c/tpch/orders.html").read_text()
    assert f'<meta name="description" content="{want}">' in page
    assert read_docs(out)["c/tpch/orders.html"].text == want  # what search indexes and excerpts


def test_deprecation_banner_renders_markdown_and_links(sample_site: Path) -> None:
    html = (sample_site / "sample/ref/currencies.html").read_text()
    banner = re.search(r'<div class="banner warn" role="note">(.*?)</div>', html, re.S)
    assert banner is not None
    text = banner.group(1)
    assert "<code>ref.fx_rates</code>" in text  # no such table: stays text
    assert '<a href="../ref/nation.html">ref.nation</a>' in text
    assert "`" not in text


def test_deprecation_banner_is_sanitised(tmp_path: Path) -> None:
    t = FunctionTable(lambda: pl.LazyFrame({"a": [1]}), name="old", schema={"a": pl.Int64},
                      deprecated="Use <script>x()</script> [j](javascript:alert(1)) **now**")  # fmt: skip
    out = build_site([(Catalog({"db": Database([t])}, name="c"), None)], tmp_path / "s",
                     progress=False).out  # fmt: skip
    html = (out / "c/db/old.html").read_text()
    assert "<script>x()" not in html
    assert "&lt;script&gt;" in html
    assert 'href="javascript' not in html  # the link is refused, its text stays
    assert "<strong>now</strong>" in html


def test_column_references_link_both_ways(sample_site: Path) -> None:
    orders = (sample_site / "sample/sales/orders.html").read_text()
    assert ('<a href="../sales/customers.html#col-c_custkey">sales.customers.c_custkey</a>'
            in orders)  # fmt: skip
    assert "sales.customers.c_nosuch" in orders
    assert "#col-c_nosuch" not in orders  # unknown column: text only
    customers = (sample_site / "sample/sales/customers.html").read_text()
    assert '<tr id="col-c_custkey">' in customers
    row = re.search(r'<tr id="col-c_custkey">(.*?)</tr>', customers, re.S)
    assert row is not None
    assert "Referenced by" in row.group(1)
    assert '<a href="../sales/orders.html#col-o_custkey">sales.orders.o_custkey</a>' in row.group(1)
    assert '<tr id="col-o_custkey">' in orders
    assert "Referenced by" not in re.sub(r'<tr id="col-o_custkey">.*?</tr>', "", orders)


class _Shown(HTMLParser):
    """The words a page shows (text outside ``hidden`` elements)."""

    VOID = frozenset({"br", "hr", "img", "input", "meta", "link", "source", "wbr"})

    def __init__(self) -> None:
        super().__init__()
        self.hidden: list[bool] = []
        self.words: set[str] = set()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in self.VOID:
            inside = bool(self.hidden and self.hidden[-1])
            self.hidden.append(inside or "hidden" in dict(attrs))

    def handle_endtag(self, tag: str) -> None:
        if tag not in self.VOID and self.hidden:
            self.hidden.pop()

    def handle_data(self, data: str) -> None:
        if not (self.hidden and self.hidden[-1]):
            self.words.update(terms(data))


def _shown(html: str) -> set[str]:
    parser = _Shown()
    parser.feed(html)
    return parser.words


@pytest.fixture(scope="module")
def docs(sample_site: Path) -> dict[str, SearchDoc]:
    """The search documents of the sample site, read back from its index, by page URL."""
    return read_docs(sample_site)


def test_search_indexes_column_docs_without_metadata_jumble(docs: dict[str, SearchDoc]) -> None:
    doc = docs["sample/sales/customers.html"]
    assert "c_region Sales region; EU includes Germany" in doc.text
    assert doc.owner == "crm-team"
    assert "crm-team" not in doc.text  # labels are their own field, not text
    assert "c_region" in doc.columns


def test_the_search_document_indexes_what_the_page_shows(
    sample_site: Path, docs: dict[str, SearchDoc]
) -> None:
    """Every word the index holds of a table is a word its page shows, and nothing more."""
    assert len(docs) == 4
    for url, doc in docs.items():
        page = (sample_site / url).read_text(encoding="utf-8")
        shown = _shown(page)
        indexed = set(page_keys(doc))
        assert indexed <= shown, (url, sorted(indexed - shown))
        assert f">{doc.name}</h1>" in page
    currencies = docs["sample/ref/currencies.html"]
    assert currencies.deprecated
    assert "fx" in currencies.tags
    assert not docs["sample/sales/orders.html"].deprecated


def test_location_shown_relative_to_the_project(tmp_path: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:  # fmt: skip
    (tmp_path / "pyproject.toml").write_text("[project]\nname = 'x'\n")
    lake = tmp_path / "lake" / "db" / "t"
    lake.mkdir(parents=True)
    monkeypatch.chdir(tmp_path / "lake")
    t = ParquetTable("t", str(lake), schema={"a": pl.Int64})
    out = build_site([(Catalog({"db": Database([t])}, name="c"), None)], tmp_path / "s",
                     progress=False).out  # fmt: skip
    assert "<dd><code>lake/db/t</code></dd>" in (out / "c/db/t.html").read_text()
    root = tmp_path.resolve()
    assert show_location(str(root / "a" / "b"), root) == "a/b"
    assert show_location("/elsewhere/x", root) == "/elsewhere/x"
    assert show_location("s3://bucket/x", root) == "s3://bucket/x"
    assert show_location("relative/x", root) == "relative/x"
    assert show_location(str(root / "a"), None) == str(root / "a")


def _get(url: str) -> tuple[int, str, str]:
    try:
        with urllib.request.urlopen(url, timeout=10) as r:
            return r.status, r.geturl(), r.read().decode("utf-8")
    except urllib.error.HTTPError as exc:
        return exc.code, url, ""


def test_search_folder_has_an_index_page(sample_site: Path, serve_dir: Callable) -> None:
    assert (sample_site / "search" / "index.html").is_file()
    status, _, body = _get(serve_dir(sample_site) + "search/")
    assert status == 200
    assert "<h1>Search</h1>" in body
    assert "Directory listing" not in body


def test_trailing_slash_table_url_serves_the_page(sample_site: Path, serve_dir: Callable) -> None:
    base = serve_dir(sample_site)
    for path in ("sample/sales/orders/", "sample/sales/orders", "sample/sales/orders/?q=x"):
        status, final, body = _get(base + path)
        assert status == 200, path
        assert urllib.request.urlparse(final).path == "/sample/sales/orders.html"
        assert ">orders</h1>" in body
    assert _get(base + "sample/sales/nosuch/")[0] == 404
    assert _get(base + "assets/")[0] == 404  # no raw listing of a folder without index.html
