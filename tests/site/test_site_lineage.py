"""Lineage on table pages: upstream/downstream links, a static inline SVG graph, unknown
plans, declared column references linked both ways, hostile text escaped, 375 px layout."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import polars as pl
import pytest

from conftest import XSS
from neuralake import Catalog, Database, FunctionTable, ParquetTable
from neuralake.export.site import build_site
from neuralake.export.site.graph import Node, lineage_svg

HOSTILE_FILE = 'x<img src=x onerror="window.__xss=1">&.parquet'


def _raises() -> pl.LazyFrame:
    raise RuntimeError(f"down {XSS}")


def lake_catalog(lake: Path) -> Catalog:
    (lake / "orders").mkdir(parents=True)
    pl.DataFrame({"o_orderkey": [1, 2]}).write_parquet(lake / "orders" / "part-0.parquet")
    pl.DataFrame({"x": [1]}).write_parquet(lake / HOSTILE_FILE)
    orders = ParquetTable("orders", str(lake / "orders"), schema={"o_orderkey": pl.Int64},
                          column_docs={"o_orderkey": "Order key."})  # fmt: skip

    def totals() -> pl.LazyFrame:
        return pl.scan_parquet(lake / "orders").select(pl.len().alias("n"))

    def lines() -> pl.LazyFrame:
        return pl.scan_parquet(lake / "orders").rename({"o_orderkey": "l_orderkey"})

    def odd() -> pl.LazyFrame:
        return pl.scan_parquet(lake / HOSTILE_FILE)

    tables = [
        orders,
        FunctionTable(totals, name="totals"),
        FunctionTable(
            lines,
            name="lines",
            schema={"l_orderkey": pl.Int64},
            inputs=["shop.totals"],
            references={"l_orderkey": "shop.orders.o_orderkey"},
        ),
        FunctionTable(odd, name="odd"),
        FunctionTable(_raises, name="flaky"),
    ]
    return Catalog({"shop": Database(tables)}, name="lin")


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("lineage")
    out = root / "site"
    report = build_site([(lake_catalog(root / "lake"), None)], out, progress=False)
    assert report.tables == 5
    return out


def page(site: Path, name: str) -> str:
    return (site / "lin" / "shop" / f"{name}.html").read_text(encoding="utf-8")


def section(html: str, heading: str) -> str:
    m = re.search(rf'<h3 id="{heading}">.*?</div>', html, re.S)
    assert m, heading
    return m[0]


def test_upstream_and_downstream_link_to_table_pages(site: Path) -> None:
    lines = page(site, "lines")
    up = section(lines, "h-upstream")
    assert '<a href="../shop/orders.html">shop.orders</a>' in up
    assert (
        '<a href="../shop/totals.html">shop.totals</a> <span class="muted small">(declared)' in up
    )
    assert "None." in section(lines, "h-downstream")
    down = section(page(site, "orders"), "h-downstream")
    assert re.findall(r'href="\.\./shop/(\w+)\.html"', down) == ["lines", "totals"]
    assert '<a href="../shop/lines.html">shop.lines</a>' in section(
        page(site, "totals"), "h-downstream"
    )


def test_graph_is_static_scalable_svg_with_links(site: Path) -> None:
    lines = page(site, "lines")
    svg = re.search(r'<svg class="lineage-graph".*?</svg>', lines, re.S)
    assert svg
    assert 'viewBox="0 0 600 ' in svg[0]
    assert 'width="100%"' in svg[0]
    assert '<a href="../shop/orders.html"><g class="node up">' in svg[0]
    assert '<g class="node self"><title>shop.lines</title>' in svg[0]
    assert svg[0].count('class="edge"') == 2
    assert "<script" not in svg[0]
    assert "cdn" not in svg[0].lower()


def test_table_without_lineage_has_no_graph(site: Path) -> None:
    flaky = page(site, "flaky")
    assert "lineage-graph" not in flaky
    assert "Inputs unknown" in flaky
    assert "RuntimeError: down" in flaky
    assert "Unknown." in section(flaky, "h-upstream")


def test_declared_references_link_both_ways(site: Path) -> None:
    lines = page(site, "lines")
    assert ('References <code><a href="../shop/orders.html#col-o_orderkey">'
            "shop.orders.o_orderkey</a></code>") in lines  # fmt: skip
    orders = page(site, "orders")
    assert re.search(r'Referenced by <a href="\.\./shop/lines\.html#col-l_orderkey">'
                     r"shop\.lines\.l_orderkey</a>", orders)  # fmt: skip


def test_hostile_values_are_escaped(site: Path) -> None:
    for name in ("odd", "flaky"):
        html = page(site, name)
        assert "<script>window.__xss" not in html
        assert "onerror=" not in html.replace("onerror=&#34;", "").replace("onerror=&quot;", "")
    odd = page(site, "odd")
    assert "x&lt;img src=x onerror=&#34;window.__xss=1&#34;&gt;&amp;.parquet" in odd
    assert "<img" not in odd
    assert "(file outside the catalog)" in odd


def test_svg_escapes_every_label() -> None:
    svg = str(lineage_svg('a.<b>"', [Node("<i>x</i>", '" onclick="alert(1)')], [Node("&")]))
    assert "<b>" not in svg
    assert "<i>" not in svg
    assert 'onclick="' not in svg
    assert "&lt;i&gt;x&lt;/i&gt;" in svg
    assert "&amp;" in svg
    assert "&#34; onclick=&#34;" in svg


def test_long_labels_are_shortened_with_full_tooltip() -> None:
    label = "db." + "t" * 60
    svg = str(lineage_svg("db.self", [Node(label)], []))
    assert f"<title>{label}</title>" in svg
    assert "…" + "t" * 19 + "</text>" in svg


def test_lineage_page_fits_375px(site: Path, serve_dir: Callable, new_page: Callable) -> None:
    view = new_page(viewport={"width": 375, "height": 740}, is_mobile=True, has_touch=True)
    base = serve_dir(site)
    view.goto(base + "lin/shop/lines.html")
    fits = "document.documentElement.scrollWidth <= window.innerWidth"
    assert view.evaluate(fits), view.evaluate("[document.documentElement.scrollWidth, innerWidth]")
    width = view.evaluate("document.querySelector('.lineage-graph').getBoundingClientRect().width")
    assert 0 < width <= 375
    assert view.requests
    assert all(u.startswith(base) for u in view.requests)
    assert view.errors == []
