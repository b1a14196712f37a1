"""Opt-in data previews on table pages: what is read, what is shown, what is never read."""

from __future__ import annotations

import inspect
import re
import shutil
from pathlib import Path

import polars as pl
import pytest

from conftest import XSS
from neuralake import Catalog, Database, Filter, FunctionTable, ParquetTable
from neuralake.export.site import SiteBuildError, build_site
from neuralake.export.site.preview import PAGE_BYTES, SENSITIVE_TAGS, blocked, cell_text
from neuralake.tables.base import Table


def _page(out: Path, db: str, name: str, catalog: str = "c") -> str:
    return (out / catalog / db / f"{name}.html").read_text(encoding="utf-8")


def _section(page: str) -> str:
    start = page.index('<section aria-labelledby="h-preview"')
    return page[start : page.index("</section>", start)]


def _recording(calls: list[object], **data: list[object]) -> pl.LazyFrame:
    """A frame that records in ``calls`` when its rows are computed (building a plan, as
    lineage does, computes none)."""
    lf = pl.LazyFrame(data)
    first = next(iter(data))
    dtype = lf.collect_schema()[first]
    return lf.with_columns(pl.col(first).map_elements(lambda v: calls.append(v) or v,
                                                      return_dtype=dtype))  # fmt: skip


def _parquet(tmp: Path, name: str, **kw: object) -> ParquetTable:
    folder = tmp / name
    folder.mkdir()
    pl.DataFrame({"id": list(range(30)), "kind": ["a", "b", "c"] * 10}).write_parquet(
        folder / "part-0.parquet"
    )
    return ParquetTable(name, str(folder), **kw)  # type: ignore[arg-type]


def test_preview_rows_equal_the_docs_filtered_head(tmp_path: Path) -> None:
    t = _parquet(tmp_path, "events", docs_filters=[Filter("kind", "=", "b")],
                 docs_columns=["id", "kind"])  # fmt: skip
    cat = Catalog({"db": Database([t])}, name="c")
    out = build_site([(cat, None)], tmp_path / "s", progress=False, preview_rows=4).out
    section = _section(_page(out, "db", "events"))
    expected = cat.table("db.events", filters=[Filter("kind", "=", "b")],
                         columns=["id", "kind"]).head(4).collect()  # fmt: skip
    body = section.split("<tbody>")[1]
    rows = [re.findall(r"<td><code>(.*?)</code></td>", r) for r in body.split("</tr>")[:-1]]
    assert [(int(i), k) for i, k in rows] == list(expected.iter_rows())
    assert len(rows) == 4
    assert expected["kind"].to_list() == ["b"] * 4
    assert "First 4 rows" in section


def test_previews_are_off_by_default(tmp_path: Path) -> None:
    calls: list[object] = []

    def counted() -> pl.LazyFrame:
        return _recording(calls, x=[1])

    t = FunctionTable(counted, name="counted", schema={"x": pl.Int64})
    out = build_site([(Catalog({"db": Database([t])}, name="c"), None)], tmp_path / "s",
                     progress=False).out  # fmt: skip
    assert 'id="h-preview"' not in _page(out, "db", "counted")
    assert calls == []
    on = build_site([(Catalog({"db": Database([t])}, name="c"), None)], tmp_path / "s2",
                    progress=False, preview_rows=1).out  # fmt: skip
    assert calls == [1]  # the recorder does see a preview read
    assert "<code>1</code>" in _section(_page(on, "db", "counted"))
    assert inspect.signature(build_site).parameters["preview_rows"].default == 0


def test_sensitive_tables_are_never_read(tmp_path: Path) -> None:
    calls: list[object] = []

    def people() -> pl.LazyFrame:
        return _recording(calls, email=["a@example.com"])

    fn = FunctionTable(people, name="people", schema={"email": pl.String}, tags=["PII"])
    gone = _parquet(tmp_path, "payroll", tags=["hr", "Sensitive"], schema={"id": pl.Int64,
                    "kind": pl.String})  # fmt: skip
    shutil.rmtree(tmp_path / "payroll")  # any read would now fail
    cat = Catalog({"db": Database([fn, gone])}, name="c")
    out = build_site([(cat, None)], tmp_path / "s", progress=False, preview_rows=5).out
    assert calls == []
    assert "Preview disabled for this table (tag PII)" in _page(out, "db", "people")
    payroll = _section(_page(out, "db", "payroll"))
    assert "Preview disabled for this table (tag Sensitive)" in payroll
    assert "unavailable" not in payroll
    assert "a@example.com" not in _page(out, "db", "people")
    assert {"pii", "personal", "sensitive"} <= SENSITIVE_TAGS


def test_preview_attribute_overrides_tags() -> None:
    if "preview" not in inspect.signature(Table.__init__).parameters:
        pytest.skip("Table(preview=...) is not available in this version")
    quiet = FunctionTable(lambda: pl.LazyFrame({"x": [1]}), name="quiet", preview=False)  # type: ignore[call-arg]
    shared = FunctionTable(lambda: pl.LazyFrame({"x": [1]}), name="shared", tags=["pii"],
                           preview=True)  # type: ignore[call-arg]  # fmt: skip
    assert blocked(quiet) == "preview=False"
    assert blocked(shared) is None


def test_hostile_values_are_escaped_and_shortened(tmp_path: Path) -> None:
    t = FunctionTable(lambda: pl.LazyFrame({"v": [XSS, "x" * 500], "n": [[{"a": "<b>"}], None]}),
                      name="hostile")  # fmt: skip
    out = build_site([(Catalog({"db": Database([t])}, name="c"), None)], tmp_path / "s",
                     progress=False, preview_rows=3).out  # fmt: skip
    section = _section(_page(out, "db", "hostile"))
    assert "<script" not in section
    assert "<img" not in section
    assert "&lt;script&gt;" in section
    assert "x" * 79 + "…" in section
    assert "x" * 81 not in section
    assert "[{&#34;a&#34;:&#34;&lt;b&gt;&#34;}]" in section
    assert '<span class="null">null</span>' in section


def test_cell_text_limits_and_nesting() -> None:
    assert cell_text(None) is None
    assert cell_text({"k": [1, 2]}) == '{"k":[1,2]}'
    assert cell_text("é" * 100) == "é" * 79 + "…"
    assert cell_text(b"\x01\xff") == "01ff"


def test_byte_budget_stops_rows(tmp_path: Path) -> None:
    wide = pl.LazyFrame({f"c{i}": ["w" * 80] * 200 for i in range(6)})
    t = FunctionTable(lambda: wide, name="wide")
    out = build_site([(Catalog({"db": Database([t])}, name="c"), None)], tmp_path / "s",
                     progress=False, preview_rows=200).out  # fmt: skip
    section = _section(_page(out, "db", "wide"))
    rows = section.count("<tr>") - 1
    assert 0 < rows < 200
    assert "More rows left out" in section
    assert len(section.encode()) < PAGE_BYTES + 2048


def test_failing_preview_shows_unavailable_and_the_build_finishes(tmp_path: Path) -> None:
    def broken() -> pl.LazyFrame:
        raise RuntimeError("upstream down\nsecond line s3://AKIAXX:hush@bucket/k")

    fn = FunctionTable(broken, name="broken", schema={"x": pl.Int64})
    gone = _parquet(tmp_path, "gone", schema={"id": pl.Int64, "kind": pl.String})
    shutil.rmtree(tmp_path / "gone")
    ok = FunctionTable(lambda: pl.LazyFrame({"x": [7]}), name="ok")
    cat = Catalog({"db": Database([fn, gone, ok])}, name="c")
    report = build_site([(cat, None)], tmp_path / "s", progress=False, preview_rows=2)
    assert report.tables == 3
    page = _section(_page(report.out, "db", "broken"))
    assert "Preview unavailable: <code>RuntimeError: upstream down</code>" in page
    assert "hush" not in page
    assert "second line" not in page
    assert "Preview unavailable:" in _section(_page(report.out, "db", "gone"))
    assert "<code>7</code>" in _section(_page(report.out, "db", "ok"))


def test_negative_preview_rows_are_refused(tmp_path: Path) -> None:
    t = FunctionTable(lambda: pl.LazyFrame({"x": [1]}), name="t")
    with pytest.raises(SiteBuildError, match="preview_rows"):
        build_site([(Catalog({"db": Database([t])}, name="c"), None)], tmp_path / "s",
                   progress=False, preview_rows=-1)  # fmt: skip


def test_cli_preview_option(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                            capsys: pytest.CaptureFixture[str]) -> None:  # fmt: skip
    from neuralake.cli.app import main

    (tmp_path / "previewcat.py").write_text(
        "import polars as pl\n"
        "from neuralake import Catalog, Database, FunctionTable\n"
        "t = FunctionTable(lambda: pl.LazyFrame({'x': [41, 42]}), name='t')\n"
        "catalog = Catalog({'db': Database([t])}, name='c')\n",
        encoding="utf-8",
    )
    monkeypatch.chdir(tmp_path)
    monkeypatch.syspath_prepend(str(tmp_path))
    out = tmp_path / "s"
    assert main(["-c", "previewcat:catalog", "site", "build", "--out", str(out),
                 "--preview", "1"]) == 0  # fmt: skip
    section = _section(_page(out, "db", "t"))
    assert "<code>41</code>" in section
    assert "<code>42</code>" not in section
    assert main(["-c", "previewcat:catalog", "site", "build", "--out", str(out),
                 "--preview", "0"]) != 0  # fmt: skip
    assert "--preview" in capsys.readouterr().err
