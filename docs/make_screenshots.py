"""Regenerate docs/screenshot-*.png from the demo site (headless Debian Chromium).

NEURALAKE_DEMO_LAKE=/tmp/demo-lake .venv/bin/python -m examples.tpch.generate --scale 0.1 --lake /tmp/demo-lake
NEURALAKE_DEMO_LAKE=/tmp/demo-lake .venv/bin/python docs/make_screenshots.py

The demo lake is copied to a temporary folder first and only the copy changes: to show a schema
history and a pull-request diff, ``tpch.orders`` gains an ``o_channel`` column there
(``write(..., schema_mode="merge")``), two derived tables are added (their lineage is read from
their plans and declared inputs) and the deprecated ``tpch.nations`` alias is removed. The
original catalog is exported before these changes and the changed one after; ``neuralake diff``
compares the two exports and its Markdown is rendered as a GitHub comment would show it.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO), str(REPO / "src")]

ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]  # fmt: skip
PREVIEW_ROWS = 5
# GitHub-like rendering of a Markdown comment, light theme, no outside requests.
DIFF_CSS = """
body { margin: 0; background: #f6f8fa; font: 14px/1.5 -apple-system, "Segoe UI", "Noto Sans",
       Helvetica, Arial, sans-serif; color: #1f2328; }
.comment { margin: 16px; border: 1px solid #d0d7de; border-radius: 6px; background: #fff; }
.head { padding: 8px 16px; background: #f6f8fa; border-bottom: 1px solid #d0d7de;
        border-radius: 6px 6px 0 0; color: #59636e; }
.head strong { color: #1f2328; }
.body { padding: 4px 16px 12px; }
h3 { font-size: 1.25em; margin: 12px 0 8px; padding-bottom: .3em; border-bottom: 1px solid #d1d9e0; }
h4 { font-size: 1em; margin: 16px 0 8px; }
table { border-collapse: collapse; margin: 0 0 12px; display: block; overflow: auto; }
th, td { border: 1px solid #d1d9e0; padding: 5px 12px; text-align: left; }
tr:nth-child(2n) td { background: #f6f8fa; }
th { font-weight: 600; }
code { font: 12px ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; padding: .2em .4em;
       background: rgba(129, 139, 152, .12); border-radius: 6px; }
"""


def demo_copy(tmp: Path) -> Path:
    """A copy of the demo lake (``$NEURALAKE_DEMO_LAKE`` or ``lake/``) that may be changed."""
    source = Path(os.environ.get("NEURALAKE_DEMO_LAKE", REPO / "lake"))
    if not (source / "tpch" / "orders" / "_delta_log").is_dir():
        raise SystemExit(f"no demo lake in {source}; generate it first (see the docstring)")
    copy = tmp / "lake"
    shutil.copytree(source, copy)
    return copy


def changed_catalog(lake: Path) -> Any:
    """The demo catalog after a pull request: a new ``orders`` column (written to the lake),
    two derived tables with lineage, and the deprecated alias removed."""
    import polars as pl
    import pyarrow as pa
    from examples.tpch import tables as demo

    from neuralake import (
        Catalog,
        Database,
        FunctionTable,
        NeuralakeDeltaTable,
        StorageConfig,
        Table,
    )

    schema = demo.ORDERS_SCHEMA.append(pa.field("o_channel", pa.string()))
    old = demo.orders
    orders = NeuralakeDeltaTable(
        "orders", old.uri, schema=schema, partition_by=old.partition_by,
        unique_columns=old.unique_columns, description=old.description, owner=old.owner,
        tags=old.tags, column_docs={**old.column_docs, "o_channel": "Sales channel: `web`, "
                                    "`store` or `phone`; empty before it was recorded."},
        docs_filters=old.docs_filters, docs_columns=old.docs_columns, extra=old.extra,
        source=old.source,
    )  # fmt: skip
    # One year of new orders with the new column; older rows read it as null.
    new = (
        pl.scan_delta(old.uri)
        .filter(pl.col("o_orderyear") == 1998)
        .head(1000)
        .with_columns(
            (pl.col("o_orderkey") + 10_000_000).alias("o_orderkey"),
            pl.col("o_orderkey")
            .mod(3)
            .replace_strict([0, 1, 2], ["web", "store", "phone"])
            .alias("o_channel"),
        )
        .collect()
    )
    orders.write(new, schema_mode="merge")

    lineitem_uri = demo.lineitem.uri

    def order_revenue() -> pl.LazyFrame:
        """Revenue per **order**: the discounted price of its lines, with the order's date.

        Computed from `tpch.orders` and `tpch.lineitem`; its inputs are read from this plan.
        """
        lines = (
            pl.scan_delta(lineitem_uri)
            .group_by("l_orderkey")
            .agg((pl.col("l_extendedprice") * (1 - pl.col("l_discount"))).sum().alias("revenue"))
        )
        return pl.scan_delta(orders.uri).join(lines, left_on="o_orderkey", right_on="l_orderkey")

    revenue = FunctionTable(
        order_revenue, name="order_revenue", owner=old.owner, tags=["tpch", "sales"],
        schema={"o_orderkey": pl.Int64, "o_orderdate": pl.Date, "revenue": pl.Float64},
    )  # fmt: skip

    def yearly_revenue() -> pl.LazyFrame:
        """Revenue per **order year**, summed from `tpch.order_revenue`."""
        return (
            revenue()
            .group_by(pl.col("o_orderdate").dt.year().alias("year"))
            .agg(pl.col("revenue").sum())
        )

    yearly = FunctionTable(
        yearly_revenue, name="yearly_revenue", owner="finance", tags=["tpch", "report"],
        schema={"year": pl.Int32, "revenue": pl.Float64}, inputs=["tpch.order_revenue"],
    )  # fmt: skip
    keep = [
        t for name, t in vars(demo).items()
        if isinstance(t, Table) and name not in ("orders", "nations")
    ]  # fmt: skip
    return Catalog(
        {"tpch": Database([*keep, orders, revenue, yearly])},
        name="tpch_demo",
        storage=StorageConfig.from_env(),
    )


def diff_page(markdown: str, out: Path) -> Path:
    """``markdown`` (a ``neuralake diff`` comment) as a standalone HTML page."""
    from markdown_it import MarkdownIt

    # GitHub hides HTML comments (the marker line); any other HTML is shown as text.
    shown = re.sub(r"^<!--.*?-->\n", "", markdown, flags=re.MULTILINE)
    body = MarkdownIt("commonmark", {"html": False}).enable("table").render(shown)
    page = (
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>"
        f"<title>Catalog diff</title><style>{DIFF_CSS}</style></head><body>"
        "<div class='comment'><div class='head'><strong>neuralake-bot</strong> commented "
        f"</div><div class='body'>{body}</div></div></body></html>"
    )
    out.write_text(page, encoding="utf-8")
    return out


def shoot(site: Path, diff_html: Path) -> list[str]:
    from playwright.sync_api import expect, sync_playwright

    from neuralake.export.site.serve import make_server

    server = make_server(site, port=0)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_address[1]}/"
    written: list[str] = []

    def save(target: Any, name: str, **kwargs: Any) -> None:
        target.screenshot(path=REPO / "docs" / name, **kwargs)
        written.append(f"docs/{name}")

    def save_section(page: Any, selector: str, name: str, margin: int = 16) -> None:
        """One element with a margin around it, on the full page (no sticky header over it)."""
        page.evaluate("document.querySelector('.top').style.position = 'static'")
        box = page.locator(selector).bounding_box()
        clip = {"x": max(box["x"] - margin, 0), "y": max(box["y"] - margin, 0),
                "width": box["width"] + 2 * margin, "height": box["height"] + 2 * margin}  # fmt: skip
        save(page, name, clip=clip, full_page=True)

    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=ARGS)
            page = browser.new_page(viewport={"width": 1200, "height": 800}, device_scale_factor=1)
            page.goto(base + "index.html")
            save(page, "screenshot-index.png")
            orders = next(iter(sorted(site.glob("*/tpch/orders.html"))))
            page.goto(base + str(orders.relative_to(site)))
            save(page, "screenshot-table.png")  # the top of the page: declaration and schema
            save_section(page, "section[aria-labelledby=h-size]", "screenshot-stats.png")
            save_section(page, "section[aria-labelledby=h-preview]", "screenshot-preview.png")
            save_section(
                page, "section[aria-labelledby=h-schema-history]", "screenshot-schema-history.png"
            )
            revenue = next(iter(sorted(site.glob("*/tpch/order_revenue.html"))))
            page.goto(base + str(revenue.relative_to(site)))
            save_section(page, "section[aria-labelledby=h-lineage]", "screenshot-lineage.png")
            narrow = browser.new_page(viewport={"width": 820, "height": 600})
            narrow.goto(diff_html.as_uri())
            save(narrow.locator(".comment"), "screenshot-diff.png")
            dark = browser.new_page(viewport={"width": 1200, "height": 800}, color_scheme="dark")
            dark.goto(base + "index.html")
            dark.keyboard.press("/")
            dark.keyboard.type("nationkey")
            expect(dark.locator("#search-results li").first).to_be_visible()
            dark.wait_for_timeout(300)
            save(dark, "screenshot-search.png")
            phone = browser.new_page(
                viewport={"width": 375, "height": 740}, is_mobile=True, has_touch=True,
                device_scale_factor=2,
            )  # fmt: skip
            db = next(iter(sorted(site.glob("*/tpch/index.html"))))
            phone.goto(base + str(db.relative_to(site)))
            save(phone, "screenshot-database-mobile.png")
            # a word only a column doc contains, shown in the search results view
            phone.goto(base + "search/?q=Germany")
            expect(phone.locator("#search-results .r-excerpt").first).to_be_visible()
            phone.wait_for_timeout(300)
            save(phone, "screenshot-search-results.png")
            browser.close()
    finally:
        server.shutdown()
        server.server_close()
    return written


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="neuralake-demo-") as name:
        tmp = Path(name)
        os.environ["NEURALAKE_DEMO_LAKE"] = str(demo_copy(tmp))  # read when the demo imports

        from neuralake.catalog import load_catalog
        from neuralake.export.site import build_site

        ref = "examples.tpch.catalog:catalog"
        load_catalog(ref).export_metadata(tmp / "base.json")
        head = changed_catalog(Path(os.environ["NEURALAKE_DEMO_LAKE"]))
        head.export_metadata(tmp / "head.json")
        markdown = subprocess.run(
            [sys.executable, "-m", "neuralake", "diff", str(tmp / "base.json"),
             str(tmp / "head.json")],
            capture_output=True, text=True, check=False, cwd=REPO,
        ).stdout  # fmt: skip
        if "Catalog diff" not in markdown:
            raise SystemExit(f"neuralake diff printed no diff:\n{markdown}")
        diff_html = diff_page(markdown, tmp / "diff.html")
        site = build_site(
            [(head, ref)], tmp / "site", progress=False, preview_rows=PREVIEW_ROWS
        ).out
        written = shoot(site, diff_html)
    print("wrote " + ", ".join(written))


if __name__ == "__main__":
    main()
