"""Fixtures for the static site tests: small catalogs in tmp lakes, built sites, a local HTTP
server and headless Chromium (Debian's, via Playwright)."""

from __future__ import annotations

import os
import shutil
import sys
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import polars as pl
import pytest

HERE = Path(__file__).parent
REPO = HERE.parents[1]
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))

import site_sample_catalog  # noqa: E402

from neuralake import Catalog, Database, FunctionTable, NeuralakeDeltaTable  # noqa: E402
from neuralake.export.site import build_site  # noqa: E402
from neuralake.export.site.serve import make_server  # noqa: E402

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]  # fmt: skip
SAMPLE_REF = "site_sample_catalog:catalog"

XSS = '<script>window.__xss=1</script><img src=x onerror="window.__xss=2;alert(2)">'


@pytest.fixture(scope="session")
def sample_lake(tmp_path_factory: pytest.TempPathFactory) -> Path:
    lake = tmp_path_factory.mktemp("sample") / "lake"
    site_sample_catalog.create_lake(lake)
    return lake


@pytest.fixture(scope="session")
def sample_catalog(sample_lake: Path) -> Catalog:
    return site_sample_catalog.make_catalog(sample_lake)


@pytest.fixture(scope="session")
def sample_site(sample_catalog: Catalog, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("built") / "site"
    report = build_site([(sample_catalog, SAMPLE_REF)], out, progress=False)
    assert report.tables == 4
    assert report.failed == ()
    return out


def _raises() -> pl.LazyFrame:
    raise RuntimeError("upstream service is down")


def broken_catalog(tmp: Path) -> Catalog:
    """One healthy table, a Delta table whose storage is missing, a function that raises."""
    ok = FunctionTable(lambda: pl.LazyFrame({"a": [1]}), name="healthy", owner="ops")
    missing = NeuralakeDeltaTable("gone", str(tmp / "no-such-table"), owner="ops")
    failing = FunctionTable(_raises, name="flaky", owner="ops")
    return Catalog({"ops": Database([ok, missing, failing])}, name="broken")


def _xss_table() -> pl.LazyFrame:
    return pl.LazyFrame({"x": [1]})


def xss_catalog() -> Catalog:
    """Every free-text field carries a payload that would set ``window.__xss`` or alert."""
    hostile = FunctionTable(
        _xss_table, name="hostile", schema={"x": pl.Int64},
        description=f"# Title {XSS}\n\n[click me](javascript:window.__xss=3) "
                    "<a href=\"javascript:alert(4)\">raw</a> "
                    "[data](data:text/html,<script>alert(5)</script>) "
                    "<svg onload=alert(6)></svg> <iframe src=javascript:alert(7)></iframe>\n\n"
                    "![img](x\" onerror=\"window.__xss=8)",
        owner=f"evil{XSS}", tags=[f"t{XSS}", "javascript:alert(9)", "\"><svg onload=alert(10)>"],
        column_docs={"x": f"doc {XSS} [l](javascript:alert(11)) <b onmouseover=alert(12)>b</b>"},
        deprecated=f"gone {XSS}",
        extra={"example_notebook": "javascript:alert(13)", "data_input": XSS,
               "latency_info": {"html": XSS}, "link": "https://example.com/\"onmouseover=alert(14)"},
    )  # fmt: skip
    return Catalog({"evil": Database([hostile])}, name=f"cat{XSS}")


class Served:
    def __init__(self, directory: Path) -> None:
        self.server = make_server(directory, port=0)
        self.base = f"http://127.0.0.1:{self.server.server_address[1]}/"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(5)


@pytest.fixture
def serve_dir() -> Iterator[Callable[[Path], str]]:
    """``serve_dir(folder)`` → base URL of a loopback HTTP server for that folder."""
    servers: list[Served] = []

    def start(directory: Path) -> str:
        s = Served(directory)
        servers.append(s)
        return s.base

    yield start
    for s in servers:
        s.close()


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    if not Path(CHROMIUM).exists():
        pytest.skip("Debian chromium is not installed (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.fixture
def new_page(browser: Any) -> Iterator[Callable[..., Any]]:
    """``new_page(**context_options)`` → a page whose ``.requests``/``.dialogs``/``.errors``
    record every request, dialog and uncaught page error."""
    contexts: list[Any] = []

    def make(**options: Any) -> Any:
        ctx = browser.new_context(**options)
        contexts.append(ctx)
        page = ctx.new_page()
        page.requests = []
        page.dialogs = []
        page.errors = []
        page.on("request", lambda r: page.requests.append(r.url))
        page.on("pageerror", lambda e: page.errors.append(str(e)))

        def on_dialog(d: Any) -> None:
            page.dialogs.append(d.message)
            d.dismiss()

        page.on("dialog", on_dialog)
        page.set_default_timeout(15000)
        return page

    yield make
    for ctx in contexts:
        ctx.close()


def copy_site(site: Path, dest: Path) -> Path:
    shutil.copytree(site, dest)
    return dest


def sample_env(lake: Path) -> dict[str, str]:
    env = dict(os.environ)
    env["NEURALAKE_SITE_SAMPLE_LAKE"] = str(lake)
    env["PYTHONPATH"] = os.pathsep.join([str(HERE), str(REPO / "src"), env.get("PYTHONPATH", "")])
    return env
