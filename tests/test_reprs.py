"""Notebook reprs of catalogs, bound tables and table metadata: escaped, small, no secrets."""

from __future__ import annotations

from pathlib import Path

import polars as pl

from neuralake import Catalog, Database, FunctionTable, ParquetTable
from neuralake.reprs import MAX_ROWS, catalog_html, catalog_text, metadata_html, table_html

XSS = '<script>alert(1)</script><img src=x onerror="alert(2)">'
SECRETS = ("AKIAXXXX", "topsecret", "c0ffee")


def _hostile() -> FunctionTable:
    return FunctionTable(
        lambda: pl.LazyFrame({"x": [1]}), name="hostile", schema={"x": pl.Int64},
        description=f"# Title {XSS}", owner=f"evil{XSS}", tags=[f"t{XSS}"],
        column_docs={"x": f"doc {XSS}"}, deprecated=f"gone {XSS}",
    )  # fmt: skip


def _assert_safe(html: str) -> None:
    assert "<script" not in html
    assert "<img" not in html
    assert 'onerror="' not in html
    assert "javascript:" not in html.lower()


def test_every_repr_escapes_hostile_text() -> None:
    cat = Catalog({"evil": Database([_hostile()])}, name=f"cat{XSS}")
    table = cat.get_table("evil.hostile")
    for html in (catalog_html(cat), cat._repr_html_(), table_html(table),
                 metadata_html(table.metadata())):  # fmt: skip
        _assert_safe(html)
        assert "&lt;script&gt;" in html
    shown = table_html(table)
    for part in ("Title", "evil&lt;script&gt;", "t&lt;script&gt;", "doc &lt;script&gt;", "gone"):
        assert part in shown


def test_catalog_repr_lists_databases_counts_and_tables() -> None:
    a = FunctionTable(lambda: pl.LazyFrame({"x": [1]}), name="a", owner="team-a")
    b = FunctionTable(lambda: pl.LazyFrame({"x": [1]}), name="b")
    cat = Catalog({"one": Database([a, b]), "empty": Database()}, name="demo")
    html = cat._repr_html_()
    assert "<code>one</code> (2)" in html
    assert "<code>empty</code> (0)" in html
    assert '<td style="text-align:left;vertical-align:top">one.a</td>' in html
    assert "team-a" in html
    assert "function" in html
    assert str(cat) == "Catalog 'demo': 2 tables in 2 databases\n  empty: 0 tables\n  one: 2 tables"
    assert catalog_text(cat) == str(cat)
    assert repr(cat) == "Catalog(name='demo', databases=['empty', 'one'])"


def test_large_catalog_repr_stays_small() -> None:
    tables = [FunctionTable(lambda: pl.LazyFrame({"x": [1]}), name=f"t{i:03}") for i in range(120)]
    html = catalog_html(Catalog({"db": Database(tables)}))
    assert html.count("<tr>") == MAX_ROWS + 1
    assert f"… and {120 - MAX_ROWS} more" in html


def test_table_repr_has_no_credentials_and_unknown_stats(tmp_path: Path) -> None:
    t = ParquetTable("secret", "s3://AKIAXXXX:topsecret@bucket/prefix/?X-Amz-Signature=c0ffee",
                     schema={"a": pl.Int64}, owner="ops")  # fmt: skip
    table = Catalog({"db": Database([t])}).get_table("db.secret")
    html = table_html(table)
    assert "s3://bucket/prefix/?X-Amz-Signature=***" in html
    assert not any(s in html for s in SECRETS)
    assert "unknown" in html  # no such bucket: stats cannot be read
    assert not any(s in metadata_html(table.metadata()) for s in SECRETS)


def test_table_repr_shows_stats_from_metadata(tmp_path: Path) -> None:
    folder = tmp_path / "events"
    folder.mkdir()
    pl.DataFrame({"id": [1, 2, 3]}).write_parquet(folder / "part-0.parquet")
    table = Catalog({"db": Database([ParquetTable("events", str(folder))])}).get_table("db.events")
    html = table_html(table)
    assert '<th style="text-align:left;vertical-align:top">Rows</th>' in html
    assert ">3</td>" in html
    assert '<td style="text-align:left;vertical-align:top">id</td>' in html
    assert "Stats" not in table_html(table, stats=False).split("</table>")[0]


def test_metadata_repr_without_schema() -> None:
    from neuralake.metadata import TableMetadata

    meta = TableMetadata(name="t", database="db", type="custom", location="s3://k:v@b/p")
    html = metadata_html(meta)
    assert "Schema: unknown" in html
    assert "s3://b/p" in html
    assert "k:v" not in html


def test_notebooks_find_the_reprs_on_the_objects() -> None:
    """Jupyter calls ``_repr_html_`` on what a cell returns: a catalog, a bound table, metadata."""
    import polars as pl

    from neuralake import Catalog, Database, FunctionTable

    t = FunctionTable(lambda: pl.LazyFrame({"x": [1]}), name="t", description="<b>bold</b>")
    catalog = Catalog({"db": Database([t])})
    for obj in (catalog, catalog.get_table("db.t"), catalog.describe_table("db.t")):
        html = obj._repr_html_()
        assert "db" in html
        assert "<b>bold</b>" not in html
