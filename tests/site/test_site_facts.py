"""The site's size/shape facts, column statistics, schema history and sortable size lists."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import polars as pl
import pytest

from neuralake import Catalog, Database, FunctionTable, NeuralakeDeltaTable
from neuralake.export.site import build_site
from neuralake.tables.parquet import ParquetTable, Partition


@pytest.fixture(scope="module")
def facts_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    lake = tmp_path_factory.mktemp("facts")
    events = str(lake / "events")
    pl.DataFrame({"id": [1, 2, None], "day": ["mon", "tue", "tue"]}).write_delta(
        events, delta_write_options={"partition_by": ["day"]}
    )
    pl.DataFrame({"id": [3], "day": ["mon"], "note": ["n" * 200]}).write_delta(
        events, mode="append", delta_write_options={"schema_mode": "merge"}
    )
    pl.DataFrame({"k": list(range(10)), "p": ["a"] * 5 + ["b"] * 5}).write_parquet(
        str(lake / "big") + "/", partition_by=["p"]
    )
    catalog = Catalog(
        {
            "sales": Database(
                [
                    NeuralakeDeltaTable("events", events),
                    ParquetTable("big", str(lake / "big"), partitioning=[Partition("p")]),
                    FunctionTable(lambda: pl.LazyFrame({"n": [1]}), name="fn"),
                ]
            )
        },
        name="facts",
    )
    out = tmp_path_factory.mktemp("site") / "site"
    report = build_site([(catalog, None)], out, progress=False)
    assert report.failed == ()
    return out


def test_table_page_shows_size_and_column_stats(facts_site: Path) -> None:
    html = (facts_site / "facts/sales/events.html").read_text()
    assert 'id="h-size"' in html
    assert "Read from delta log add stats" in html
    assert "<dt>Rows</dt><dd>4</dd>" in html
    assert "<dt>Partitions</dt><dd>2</dd>" in html
    assert "from file statistics" in html
    assert (
        '<th scope="row"><code>id</code></th><td><code>1</code></td><td><code>3</code></td><td>1'
        in html
    )
    assert "some files have no min/max" in html  # note: added after the first commit


def test_schema_history_timeline(facts_site: Path) -> None:
    html = (facts_site / "facts/sales/events.html").read_text()
    timeline = html[html.index('id="h-schema-history"') :]
    items = re.findall(r"<li>(.*?)</li>", timeline[: timeline.index("</ol>")])
    assert "<code>note</code>" in items[0]
    assert "version 1" in items[0]
    assert all("added" in i for i in items)
    assert 'id="h-schema-history"' not in (facts_site / "facts/sales/big.html").read_text()


def test_function_table_page_has_no_size(facts_site: Path) -> None:
    html = (facts_site / "facts/sales/fn.html").read_text()
    assert "<dt>Rows</dt><dd>unknown</dd>" in html
    assert "unknown: function table" in html


def test_database_page_lists_sizes_sortably(facts_site: Path) -> None:
    html = (facts_site / "facts/sales/index.html").read_text()
    sizes = html[html.index('id="h-sizes"') :]
    assert "data-sortable" in sizes
    assert '<td data-value="10">10</td>' in sizes  # big: rows as text and as a sort key
    assert '<td data-value="-1">unknown</td>' in sizes  # fn: unknown sorts last descending


def test_index_page_shows_database_totals(facts_site: Path) -> None:
    html = (facts_site / "index.html").read_text()
    assert "14 rows · " in html
    assert "(1 of unknown size)" in html


@pytest.mark.browser
def test_sizes_sort_and_fit_a_phone(
    facts_site: Path, serve_dir: Callable[[Path], str], new_page: Callable[..., Any]
) -> None:
    page = new_page(viewport={"width": 375, "height": 740}, is_mobile=True, has_touch=True)
    base = serve_dir(facts_site)
    fits = "document.documentElement.scrollWidth <= window.innerWidth"
    for path in ("index.html", "facts/sales/events.html"):
        page.goto(base + path)
        assert page.evaluate(fits), path
    page.goto(base + "facts/sales/index.html")
    assert page.evaluate(fits)
    names = "Array.from(document.querySelectorAll('table.sizes tbody th')).map(e => e.textContent)"
    page.click("table.sizes thead th:nth-child(2) button")
    assert page.evaluate(names) == ["fn", "events", "big"]
    page.click("table.sizes thead th:nth-child(2) button")
    assert page.evaluate(names) == ["big", "events", "fn"]
