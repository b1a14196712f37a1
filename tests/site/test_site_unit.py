"""Unit tests: Markdown sanitiser, snippet rendering, safe paths, progress bar."""

from __future__ import annotations

import datetime as dt
import decimal
import io

import polars as pl
import pytest

from neuralake import Filter
from neuralake.export.site import markup
from neuralake.export.site.names import shard_file
from neuralake.export.site.paths import Slugs, slug
from neuralake.export.site.progress import Progress
from neuralake.export.site.snippets import parse_reference, sql_query, table_snippets
from neuralake.predicate import py_value, sql_literal


@pytest.mark.parametrize(
    "text",
    [
        "<script>alert(1)</script>",
        "<img src=x onerror=alert(1)>",
        "[x](javascript:alert(1))",
        "[x](JaVaScRiPt:alert(1))",
        "[x](  javascript:alert(1))",
        "[x](data:text/html,<script>alert(1)</script>)",
        "<a href='javascript:alert(1)'>x</a>",
        "<svg onload=alert(1)>",
        '![i](x" onerror="alert(1))',
        "<iframe src=javascript:alert(1)>",
        "<style>body{display:none}</style>",
    ],
)
def test_markdown_never_emits_active_content(text: str) -> None:
    for html in (str(markup.markdown(text)), str(markup.markdown_inline(text))):
        lowered = html.lower()
        assert "<script" not in lowered
        assert "<img" not in lowered
        assert "<svg" not in lowered
        assert "<iframe" not in lowered
        assert "<style" not in lowered
        assert 'href="javascript' not in lowered
        assert 'href="data:' not in lowered
        assert " onerror=" not in lowered.replace("&lt;", "<").split(">")[0] or "<" not in html
        # any on*= text that survives is inert text, never an attribute of a real tag
        for tag in ("<a ", "<p ", "<code "):
            if tag in lowered:
                assert " on" not in lowered.split(tag, 1)[1].split(">", 1)[0]


def test_markdown_keeps_safe_formatting_and_links() -> None:
    html = str(
        markup.markdown("# T\n\n**b** *i* `c` [a](https://x.org) [m](mailto:a@b.c) [r](../x)")
    )
    assert "<h2>T</h2>" in html  # headings move below the page's own <h1>
    assert "<strong>b</strong>" in html
    assert "<em>i</em>" in html
    assert "<code>c</code>" in html
    assert 'href="https://x.org"' in html
    assert 'href="mailto:a@b.c"' in html
    assert 'href="../x"' in html
    assert 'rel="noopener noreferrer nofollow"' in html


def test_markdown_tables_and_inline() -> None:
    assert "<table>" in str(markup.markdown("| a |\n|---|\n| 1 |"))
    assert str(markup.markdown_inline("plain & <b>")) == "plain &amp; &lt;b&gt;"
    assert str(markup.markdown_inline("a *b*")) == "a <em>b</em>"
    assert str(markup.markdown("")) == ""


def test_excerpt_is_plain_text() -> None:
    text = "# Heading\n\nOne [link](http://x) with **bold** <b>tag</b>.\n\nSecond."
    assert markup.excerpt(text) == "One link with bold tag."
    assert len(markup.excerpt("word " * 100)) <= 160


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("https://example.com/nb.ipynb", "https://example.com/nb.ipynb"),
        ("http://x.org", "http://x.org"),
        ("javascript:alert(1)", None),
        ("data:text/html,x", None),
        ("//evil.org/x", None),
        ('https://x.org/"onmouseover=1', None),
        (42, None),
    ],
)
def test_safe_url(value: object, expected: str | None) -> None:
    assert markup.safe_url(value) == expected


@pytest.mark.parametrize("name", ["evil\n", "a\nb", "x\r\n", "../x", "a/b", "x\x00"])
def test_names_with_control_characters_get_hashed_slugs_and_keys(name: str) -> None:
    s = slug(name)
    assert not any(c in s for c in "\n\r\x00/.")
    assert s != name
    assert shard_file(name).startswith("~")  # hex-encoded shard file name
    assert parse_reference("pkg.mod:" + name) is None
    assert parse_reference("pkg.mod:cat\n") is None


VALUES = [
    'O\'Neil "quoted" \\ back',
    "line\nbreak",
    1,
    -2.5,
    True,
    None,
    dt.date(2024, 1, 2),
    dt.datetime(2024, 1, 2, 3, 4, 5, tzinfo=dt.UTC),
    decimal.Decimal("1.10"),
    ["a", "b'c"],
    float("inf"),
]


@pytest.mark.parametrize("value", VALUES)
def test_python_values_round_trip(value: object) -> None:
    rendered = py_value(value)
    got = eval(rendered, {"datetime": dt, "decimal": decimal})
    assert got == value


def test_sql_literals_quote_strings() -> None:
    assert sql_literal("O'Neil") == "'O''Neil'"
    assert sql_literal(True) == "TRUE"
    assert sql_literal(dt.date(2024, 1, 2)) == "DATE '2024-01-02'"
    q = sql_query("db", "t", [Filter("s", "in", ["a'b", "c"]), Filter("n", "is null")], ["s"])
    assert q == "SELECT s FROM db.t WHERE s IN ('a''b', 'c') AND n IS NULL LIMIT 10"


def test_sql_query_runs_in_polars() -> None:
    frame = pl.DataFrame({
        "s": ["O'Neil", "x", None], "n": [1, 2, 3], "d": [dt.date(2024, 1, 1)] * 3,
        "l": [["a"], ["b"], []], "b": [True, False, True],
    })  # fmt: skip
    filters = [
        Filter("s", "in", ["O'Neil", "y"]), Filter("n", "<=", 2), Filter("d", ">=", dt.date(2023, 1, 1)),
        Filter("s", "contains", "'N"), Filter("l", "includes any", ["a", "z"]), Filter("b", "=", True),
    ]  # fmt: skip
    query = sql_query("db", "t", filters, None).replace("db.t", "t")
    assert pl.SQLContext(t=frame).execute(query, eager=True)["n"].to_list() == [1]


def test_python_snippet_shape_and_imports() -> None:
    s = table_snippets("pkg.cat:my_catalog", "sales", "orders",
                       [Filter("d", ">=", dt.date(2024, 1, 1))], ["a"])  # fmt: skip
    assert s.python.startswith(
        "import datetime\n\nfrom neuralake import Filter, load_catalog\n\n"
        'catalog = load_catalog("pkg.cat:my_catalog")\n'
    )
    assert 'catalog.db("sales").table(' in s.python
    assert 'filters=[Filter("d", ">=", datetime.date(2024, 1, 1))]' in s.python
    assert 'columns=["a"]' in s.python
    compile(s.python, "<snippet>", "exec")
    compile(s.sql, "<snippet>", "exec")
    assert s.cli.startswith(
        "neuralake -c pkg.cat:my_catalog query \"SELECT a FROM sales.orders WHERE d >= DATE '2024-01-01' LIMIT 10\""
    )


def test_snippet_without_reference_uses_placeholder() -> None:
    s = table_snippets(None, "db", "t")
    assert s.python.startswith("from neuralake import load_catalog\n\n# Replace with your catalog")
    assert 'catalog = load_catalog("package.module:catalog")' in s.python
    assert 'catalog.db("db").table("t").head(10).collect()' in s.python
    assert "Filter" not in s.python
    assert parse_reference("not a ref") is None
    assert parse_reference("a.b:c") == ("a.b", "c")


def test_cli_snippet_is_shell_safe() -> None:
    import shlex

    s = table_snippets("m:c", "db", "t", [Filter("s", "=", 'a"$(rm -rf /)`x`')])
    argv = shlex.split(s.cli)
    assert argv[:4] == ["neuralake", "-c", "m:c", "query"]
    assert argv[4] == s.sql_query


def test_slugs_never_escape_and_are_unique() -> None:
    for bad in ("..", "../etc", "a/b", "a\\b", "", ".hidden", "con\x00", "ä"):
        s = slug(bad)
        assert "/" not in s
        assert "\\" not in s
        assert s not in ("", ".", "..")
        assert not s.startswith(".")
    slugs = Slugs(frozenset({"index"}))
    assert slugs.take("index") == "index-2"
    assert slugs.take("Orders") == "Orders"
    assert slugs.take("orders") == "orders-2"  # unique on case-insensitive file systems


def test_progress_bar_only_when_enabled() -> None:
    quiet = io.StringIO()
    bar = Progress(3, "x", None, quiet)  # StringIO is not a TTY
    for _ in range(3):
        bar.advance()
    bar.close()
    assert quiet.getvalue() == ""
    loud = io.StringIO()
    bar = Progress(2, "Building", True, loud)
    bar.advance()
    bar.advance()
    bar.close()
    assert "2/2" in loud.getvalue()


def test_progress_stage_replaces_the_count() -> None:
    out = io.StringIO()
    bar = Progress(1, "Building pages", True, out)
    bar.advance()
    bar.stage("Indexing for search")
    bar.close()
    bar.advance()  # after close: counted, never drawn
    assert "Indexing for search…" in out.getvalue()
    assert bar.done == 2
    quiet = io.StringIO()
    silent = Progress(1, "x", None, quiet)
    silent.stage("Indexing")
    silent.close()
    assert quiet.getvalue() == ""


def test_python_snippet_passes_table_parameters() -> None:
    from neuralake.metadata import TableParameter

    params = [
        TableParameter("day", "datetime.date"),
        TableParameter("region", "str", "'eu'", required=False),
        TableParameter("since", None, "datetime.date(2024, 1, 1)", required=False),
        TableParameter("fn", None, "<function f at 0x1>", required=False),  # not code: left out
    ]
    s = table_snippets("pkg.cat:c", "ops", "daily", parameters=params)
    assert "    day=...,  # required (datetime.date): replace ... with a value\n" in s.python
    assert "    region='eu',\n" in s.python
    assert "    since=datetime.date(2024, 1, 1),\n" in s.python
    assert "fn=" not in s.python
    assert s.python.startswith("import datetime\n")
    compile(s.python, "<snippet>", "exec")
