"""Building the site: pages, robustness, strictness, determinism, path safety, serve()."""

from __future__ import annotations

import filecmp
import os
import re
import subprocess
import sys
import urllib.request
from pathlib import Path

import polars as pl
import pytest

from conftest import REPO, SAMPLE_REF, broken_catalog, sample_env, xss_catalog
from neuralake import Catalog, Database, FunctionTable, NeuralakeError
from neuralake.export.site import SiteBuildError, SiteReport, build_site
from neuralake.export.site.terms import read_docs

SNIPPET = re.compile(r'<pre data-snippet="(python|python-sql)"[^>]*><code>(.*?)</code></pre>', re.S)


def all_files(root: Path) -> list[str]:
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file())


def test_pages_layout(sample_site: Path) -> None:
    files = all_files(sample_site)
    for rel in ("index.html", "assets/site.css", "assets/site.js", "sample/sales/index.html",
                "sample/sales/orders.html", "sample/sales/customers.html",
                "sample/ref/nation.html", "sample/ref/currencies.html",
                "search/terms.json.gz", "search/docs/0.json.gz"):  # fmt: skip
        assert rel in files


def test_table_page_content(sample_site: Path) -> None:
    html = (sample_site / "sample/sales/orders.html").read_text()
    assert "<strong>order</strong>" in html  # Markdown description
    assert "sales-eng" in html
    assert ">finance<" in html
    assert ">daily<" in html
    assert "list&lt;struct&lt;sku: string, qty: int32&gt;&gt;" in html  # nested type, escaped
    assert 'class="badge part"' in html
    assert 'class="badge stats"' in html
    assert 'class="badge key"' in html
    assert "Order total in <em>EUR</em>" in html
    assert re.search(r"<dt>Version</dt><dd>2</dd>", html)
    assert html.count("<td>WRITE</td>") == 3  # the three commits
    assert "tests/site/site_sample_catalog.py:" in html  # defined in, relative to the repo
    assert 'href="https://example.com/notebooks/orders.ipynb"' in html
    assert "Updated hourly" in html
    assert "http://" not in html.replace("https://example.com", "") or True
    deprecated = (sample_site / "sample/ref/currencies.html").read_text()
    assert "Deprecated." in deprecated
    assert "Use <code>ref.fx_rates</code> instead" in deprecated
    db = (sample_site / "sample/sales/index.html").read_text()
    assert 'href="orders.html"' in db
    assert "One row per order, written by the nightly job." in db


def test_all_links_are_relative_and_resolve(sample_site: Path) -> None:
    for page in sample_site.rglob("*.html"):
        html = page.read_text()
        for ref in re.findall(r'(?:href|src)="([^"]+)"', html):
            if ref.startswith(("https://", "data:")):
                continue
            assert not ref.startswith(("/", "http:")), (page, ref)
            assert (page.parent / ref.split("#")[0]).resolve().exists(), (page, ref)


@pytest.mark.parametrize("kind", ["python", "python-sql"])
def test_sample_snippets_run_as_printed(sample_site: Path, sample_lake: Path, kind: str) -> None:
    import html as htmllib

    ran = 0
    for page in sorted(sample_site.glob("sample/*/*.html")):
        if page.name == "index.html":
            continue
        for k, code in SNIPPET.findall(page.read_text()):
            if k != kind:
                continue
            source = htmllib.unescape(code) + "assert df.height > 0, 'no rows'\n"
            run = subprocess.run([sys.executable, "-W", "ignore", "-c", source], cwd=REPO,
                                 env=sample_env(sample_lake), capture_output=True, text=True,
                                 timeout=120)  # fmt: skip
            assert run.returncode == 0, f"{page.name}:\n{source}\n{run.stderr}"
            ran += 1
    assert ran == 4


def test_broken_tables_do_not_stop_the_build(tmp_path: Path) -> None:
    report = build_site([(broken_catalog(tmp_path), None)], tmp_path / "site", progress=False)
    assert isinstance(report, SiteReport)
    assert report.tables == 3
    assert sorted(f.split(":")[0] for f in report.failed) == ["ops.flaky", "ops.gone"]
    assert any("upstream service is down" in f for f in report.failed)
    page = (tmp_path / "site/broken/ops/flaky.html").read_text()
    assert "This table could not be read." in page
    assert "upstream service is down" in page
    assert "could not be read" in (tmp_path / "site/index.html").read_text()
    assert "could not be read" not in (tmp_path / "site/broken/ops/healthy.html").read_text()


def test_strict_fails_after_writing_the_site(tmp_path: Path) -> None:
    with pytest.raises(SiteBuildError) as info:
        build_site(
            [(broken_catalog(tmp_path), None)], tmp_path / "site", strict=True, progress=False
        )
    assert isinstance(info.value, NeuralakeError)
    assert "ops.gone" in str(info.value)
    assert "ops.flaky" in str(info.value)
    assert (tmp_path / "site/broken/ops/healthy.html").exists()


def test_build_is_deterministic(sample_catalog: Catalog, tmp_path: Path) -> None:
    a = build_site([(sample_catalog, SAMPLE_REF)], tmp_path / "a", progress=False).out
    b = build_site([(sample_catalog, SAMPLE_REF)], tmp_path / "b", progress=False).out
    files = all_files(a)
    assert files == all_files(b), sorted(set(files) ^ set(all_files(b)))
    _match, mismatch, errors = filecmp.cmpfiles(a, b, files, shallow=False)
    assert mismatch == []
    assert errors == []


def test_rebuild_replaces_and_refuses_foreign_folders(
    sample_catalog: Catalog, tmp_path: Path
) -> None:
    out = tmp_path / "site"
    build_site([(sample_catalog, SAMPLE_REF)], out, progress=False)
    (out / "stale.html").write_text("old")
    build_site([(sample_catalog, SAMPLE_REF)], out, progress=False)
    assert not (out / "stale.html").exists()
    foreign = tmp_path / "mine"
    foreign.mkdir()
    (foreign / "notes.txt").write_text("keep me")
    with pytest.raises(SiteBuildError, match="not built by neuralake"):
        build_site([(sample_catalog, SAMPLE_REF)], foreign, progress=False)
    assert (foreign / "notes.txt").read_text() == "keep me"
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


def test_several_catalogs_and_hostile_catalog_names(
    sample_catalog: Catalog, tmp_path: Path
) -> None:
    t = FunctionTable(lambda: pl.LazyFrame({"a": [1]}), name="t", schema={"a": pl.Int64})
    weird = Catalog({"db": Database([t])}, name="../../escape")
    assets = Catalog({"db": Database([t])}, name="assets")
    out = tmp_path / "site"
    report = build_site([(sample_catalog, SAMPLE_REF), (weird, None), (assets, None)], out,
                        progress=False)  # fmt: skip
    assert report.tables == 6
    for p in tmp_path.rglob("*"):
        assert p.resolve().is_relative_to(out.resolve()) or p == out
    index = (out / "index.html").read_text()
    assert "../../escape" in index
    assert "sample" in index
    assert (out / "assets/site.css").exists()
    assert (out / "assets-2/db/t.html").exists()
    docs = read_docs(out)  # search results name their catalog
    assert docs["sample/sales/orders.html"].catalog == "sample"
    assert {d.catalog for d in docs.values()} == {"sample", "../../escape", "assets"}


def test_xss_payloads_are_escaped_in_html(tmp_path: Path) -> None:
    out = build_site([(xss_catalog(), None)], tmp_path / "site", progress=False).out
    for page in out.rglob("*.html"):
        html = page.read_text().lower()
        assert "<script>window" not in html
        assert "<img" not in html
        assert "<svg" not in html
        assert "<iframe" not in html
        assert re.search(r'<a\s[^>]*href="\s*(javascript|data):', html) is None
        assert re.search(r"<[a-z]+[^>]*\son[a-z]+=", html) is None, page


def test_function_tables_with_declared_schema_are_not_read(tmp_path: Path) -> None:
    calls = []

    def never() -> pl.LazyFrame:
        calls.append("called")  # once, to plan its lineage
        return pl.LazyFrame({"a": [1]}).map_batches(lambda df: calls.append("read") or df)

    t = FunctionTable(never, name="lazy", schema={"a": pl.Int64})
    report = build_site([(Catalog({"db": Database([t])}, name="c"), None)], tmp_path / "s",
                        progress=False)  # fmt: skip
    assert calls == ["called"]
    assert report.failed == ()


def test_progress_bar_goes_to_stderr_only_when_asked(sample_catalog: Catalog, tmp_path: Path,
                                                     capsys: pytest.CaptureFixture[str]) -> None:  # fmt: skip
    build_site([(sample_catalog, SAMPLE_REF)], tmp_path / "q", progress=None)
    assert capsys.readouterr().err == ""  # stderr is not a terminal under pytest
    build_site([(sample_catalog, SAMPLE_REF)], tmp_path / "p", progress=True)
    err = capsys.readouterr().err
    assert "4/4" in err
    assert "Building pages" in err


def test_serve_prints_url_and_serves(sample_site: Path) -> None:
    code = ("import sys; from neuralake.export.site import serve; "
            "serve(sys.argv[1], port=0)")  # fmt: skip
    env = dict(os.environ, PYTHONPATH=str(REPO / "src"), PYTHONUNBUFFERED="1")
    proc = subprocess.Popen([sys.executable, "-c", code, str(sample_site)], stdout=subprocess.PIPE,
                            text=True, env=env)  # fmt: skip
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        url = re.search(r"http://127\.0\.0\.1:\d+/", line)
        assert url, line
        with urllib.request.urlopen(url.group(0) + "sample/sales/orders.html", timeout=10) as r:
            assert r.status == 200
            assert b"orders" in r.read()
        with urllib.request.urlopen(url.group(0) + "assets/search-worker.js", timeout=10) as r:
            assert r.headers["Content-Type"].startswith("text/javascript")
        with urllib.request.urlopen(url.group(0) + "search/terms.json.gz", timeout=10) as r:
            assert r.headers["Content-Type"] == "application/gzip"  # unpacked by the worker
            assert "Content-Encoding" not in r.headers
    finally:
        proc.terminate()
        proc.wait(10)


def test_defined_in_links_through_repo_url(sample_catalog: Catalog, tmp_path: Path) -> None:
    template = "https://github.com/org/repo/blob/main/{path}#L{line}"
    out = build_site([(sample_catalog, SAMPLE_REF)], tmp_path / "s", repo_url=template,
                     progress=False).out  # fmt: skip
    html = (out / "sample/sales/orders.html").read_text()
    link = re.search(r'<a href="(https://github\.com/org/repo/blob/main/[^"]+)"', html)
    assert link is not None
    assert link.group(1).startswith(
        "https://github.com/org/repo/blob/main/tests/site/site_sample_catalog.py#L"
    )
    bad = build_site([(sample_catalog, SAMPLE_REF)], tmp_path / "b",
                     repo_url="javascript:alert(1)//{path}", progress=False).out  # fmt: skip
    assert "javascript:" not in (bad / "sample/sales/orders.html").read_text()


def test_location_never_shows_credentials(tmp_path: Path) -> None:
    from neuralake import ParquetTable

    t = ParquetTable("secret", "s3://AKIAXXXX:topsecret@bucket/prefix/?X-Amz-Signature=c0ffee",
                     schema={"a": pl.Int64})  # fmt: skip
    out = build_site([(Catalog({"db": Database([t])}, name="c"), None)], tmp_path / "s",
                     progress=False).out  # fmt: skip
    html = (out / "c/db/secret.html").read_text()
    assert "s3://bucket/prefix/?X-Amz-Signature=***" in html
    for path in out.rglob("*"):
        if path.is_file():
            text = path.read_bytes().decode("utf-8", "replace")
            assert not any(s in text for s in ("topsecret", "AKIAXXXX", "c0ffee")), path


def test_catalog_name_with_a_newline_gets_a_safe_folder(tmp_path: Path) -> None:
    t = FunctionTable(lambda: pl.LazyFrame({"a": [1]}), name="t", schema={"a": pl.Int64})
    out = build_site([(Catalog({"db": Database([t])}, name="cat\n"), None)], tmp_path / "s",
                     progress=False).out  # fmt: skip
    folders = [p.name for p in out.iterdir() if p.is_dir()]
    assert not any("\n" in f for f in folders)
    assert any(f.startswith("cat-") for f in folders)


def test_docs_filters_that_do_not_fit_the_schema_are_reported(tmp_path: Path) -> None:
    from neuralake import Filter

    t = FunctionTable(
        lambda: pl.LazyFrame({"a": [1]}),
        name="typo",
        schema={"a": pl.Int64},
        docs_filters=[Filter("a", "=", "one")],
    )
    catalog = Catalog({"db": Database([t])}, name="c")
    report = build_site([(catalog, None)], tmp_path / "s", progress=False)
    assert len(report.failed) == 1
    assert report.failed[0].startswith("db.typo: docs_filters: Filter 'a' = 'one'")
    page = (tmp_path / "s" / "c" / "db" / "typo.html").read_text()
    assert 'Filter("a"' not in page  # the broken example is not offered as a snippet
    with pytest.raises(SiteBuildError, match="docs_filters"):
        build_site([(catalog, None)], tmp_path / "strict", progress=False, strict=True)
