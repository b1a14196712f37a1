"""Regenerate docs/screenshot-*.png from the demo site (headless Debian Chromium).

NEURALAKE_DEMO_LAKE=/tmp/demo-lake .venv/bin/python -m examples.tpch.generate --scale 0.1 --lake /tmp/demo-lake
NEURALAKE_DEMO_LAKE=/tmp/demo-lake .venv/bin/python docs/make_screenshots.py
"""

from __future__ import annotations

import sys
import tempfile
import threading
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO), str(REPO / "src")]

from neuralake.catalog import load_catalog  # noqa: E402
from neuralake.export.site import build_site  # noqa: E402
from neuralake.export.site.serve import make_server  # noqa: E402

REF = "examples.tpch.catalog:catalog"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]  # fmt: skip


def main() -> None:
    from playwright.sync_api import expect, sync_playwright

    with tempfile.TemporaryDirectory() as tmp:
        site = build_site([(load_catalog(REF), REF)], Path(tmp) / "site", progress=False).out
        server = make_server(site, port=0)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        base = f"http://127.0.0.1:{server.server_address[1]}/"
        try:
            with sync_playwright() as p:
                browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=ARGS)
                page = browser.new_page(
                    viewport={"width": 1200, "height": 800}, device_scale_factor=1
                )
                page.goto(base + "index.html")
                page.screenshot(path=REPO / "docs/screenshot-index.png")
                table = next(p for p in sorted(site.glob("*/tpch/orders.html")))
                page.goto(base + str(table.relative_to(site)))
                page.screenshot(path=REPO / "docs/screenshot-table.png", full_page=True)
                dark = browser.new_page(
                    viewport={"width": 1200, "height": 800}, color_scheme="dark"
                )
                dark.goto(base + "index.html")
                dark.keyboard.press("/")
                dark.keyboard.type("nationkey")
                expect(dark.locator("#search-results li").first).to_be_visible()
                dark.wait_for_timeout(300)
                dark.screenshot(path=REPO / "docs/screenshot-search.png")
                phone = browser.new_page(
                    viewport={"width": 375, "height": 740}, is_mobile=True, has_touch=True,
                    device_scale_factor=2,
                )  # fmt: skip
                db = next(p for p in sorted(site.glob("*/tpch/index.html")))
                phone.goto(base + str(db.relative_to(site)))
                phone.screenshot(path=REPO / "docs/screenshot-database-mobile.png")
                # a word only a column doc contains, shown in the search results view
                phone.goto(base + "search/?q=Germany")
                expect(phone.locator("#search-results .r-excerpt").first).to_be_visible()
                phone.wait_for_timeout(300)
                phone.screenshot(path=REPO / "docs/screenshot-search-results.png")
                browser.close()
        finally:
            server.shutdown()
            server.server_close()
    print("wrote docs/screenshot-index.png, docs/screenshot-table.png, docs/screenshot-search.png,"
          " docs/screenshot-database-mobile.png, docs/screenshot-search-results.png")  # fmt: skip


if __name__ == "__main__":
    main()
